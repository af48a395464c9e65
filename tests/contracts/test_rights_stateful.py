"""Stateful fuzzing of compute rights (issue 23; Hypothesis `RuleBasedStateMachine`).

World: token, staking (its locker: the rights), EpochOracle and ComputeRights (`deploy_with_rights`),
RCAP 2,000 VCU (QUOTA 100 VCU a day), capacity 1,000 VCU and `minCapacity` 200 VCU (so the cap on
rights out is `minCapacity / 2` = 100 VCU, one day's quota); three stakers, a
whale (20,000 VVV staked, never active, so the price floor matters), a buyer with no position and
an agent with no stake that rights are activated to.

Rules, at random: stake, request unstake (of free stake, and more than it: refused), mint (with the
caller's leaf of the day's report; within and beyond the allowance, the cap and `maxLock`; before
the report is final and on fallback days: refused), repay (full, partial, more than the position,
by the buyer with no position: refused), transfer VCR (to the rights contract, more than the
balance, and the activated rights, which the contract holds: refused), activate and deactivate
(for self, another staker, the agent), reclaim, post the honest reports (catching up, on time or
late), wait for a report to be final, advance days, and the admin's `minCapacity` within
`[2 R, lastCapacity]`.

Every expected value comes from the Python model here (plain ints and exact rationals), never from
the contract under test. A refused call names the error (and its arguments) the model expects, and
the invariants after it show that it changed nothing. After every step:
 1. per staker: free, locked and whole stake, position (minted, locked) as the model says; the sum
    of `lockedOf` is `totalLocked`; `totalFreeStaked` (the reward weight) excludes locked stake;
 2. VCR balances and total supply as the model says; supply == sum of positions <= RCAP and
    <= minCapacity / 2; the contract holds exactly the activated and deactivated-not-reclaimed VCR;
 3. `activatedAt` / `totalActivatedAt` of today and tomorrow, `activatedBy`, as the model says;
    total activated <= supply;
 4. today's allotment source, and every account's `vcuAllocation` (rights + pool share by free
    stake, report or fallback) equal the model's; their sum <= the day's capacity; the pool
    `capacity - totalActivatedAt` >= capacity / 2;
 5. `today()` (R_start, minted today) as the model says, minted today <= QUOTA; each account's
    `mintedInEpoch` as the model says and within its allowance of the report.

Profiles: VVV_FUZZ unset: a bounded run (a few derandomized examples; split between the two
passes of `make test` when VVV_FUZZ_SPLIT=1); VVV_FUZZ=long (`make fuzz`): many more.
"""

import os
from collections import Counter
from fractions import Fraction
from math import ceil

import ape
import pytest
from eth_abi import decode, encode
from eth_utils import keccak, to_checksum_address
from hypothesis import HealthCheck, Phase, seed, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from tests.helpers import DAY, E18, at, mine_at
from tests.passes import ANVIL, IN_PROCESS, current_pass
from tests.sumtree_reference import ref_levels, ref_proof
from vvv.bench.gas import deploy_with_rights

PROFILES = {
    "ci": {"max_examples": 3, "stateful_step_count": 20},
    "long": {"max_examples": 50, "stateful_step_count": 40},
}
PROFILE = PROFILES[os.environ.get("VVV_FUZZ", "ci")]
# `make test` (VVV_FUZZ_SPLIT=1): the bounded profile's examples split between the two passes
# (examples, seed), different examples in each pass.
CI_SPLIT = {IN_PROCESS: (2, 1), ANVIL: (1, 2)}  # 3 in all, as the bounded profile

RCAP = 2_000 * E18
QUOTA = RCAP // 20
CAPACITY = 1_000 * E18
MIN_CAPACITY = 200 * E18
MAX_CAPACITY = 100_000_000 * E18
MAX_CHANGE_BPS = 5_000
WINDOW = 2 * 3_600
DEADLINE = 3_600
MIN_STAKE = 10**15
FLOOR_BPS = 500
FUNDING = 1_000_000 * E18
WHALE_STAKE = 20_000 * E18
AGENT = to_checksum_address("0x" + "a6e47".rjust(40, "0"))  # an agent's address, never staked
MAX_UINT = 2**256 - 1
NOT_YET_KNOWN, REPORT, FALLBACK = 0, 1, 2

stake_amounts = st.sampled_from([300 * E18, 100 * E18, 20 * E18, 5_000 * E18, MIN_STAKE, 1])
shares = st.sampled_from([Fraction(1, 2), Fraction(1), Fraction(1, 10), Fraction(0), Fraction(3, 2)])


def address_of(who) -> str:
    return who if isinstance(who, str) else who.address


def view(contract, signature: str, *args, out: int = 1, out_types: list[str] | None = None):
    """`contract.<signature>(*args)` read by a raw `eth_call` at the head block, its `out`
    uint256 results decoded (one: the value; more: a tuple)."""
    inputs = [t for t in signature[signature.index("(") + 1 : -1].split(",") if t] if "(" in signature else []
    if "(bytes32,uint256)[]" in signature:  # vcuAllocation's proof: the sibling nodes
        inputs = ["uint256", "address", "uint256", "uint256", "(bytes32,uint256)[]"]
    values = [address_of(v) if hasattr(v, "address") else v for v in args]
    data = keccak(text=signature)[:4] + encode(inputs, values)
    sender = Rights.env["buyer"].address  # a funded test account (the in-process chain charges gas)
    call = {"to": contract.address, "from": sender, "data": "0x" + data.hex()}
    raw = ape.chain.provider.make_request("eth_call", [call, "latest"])
    raw = bytes.fromhex(raw[2:]) if isinstance(raw, str) else bytes(raw)
    result = decode(out_types or ["uint256"] * out, raw)
    return result[0] if len(result) == 1 else tuple(result)


def price(n: int, r_start: int, minted_today: int, total_active: int, total_free: int, capacity: int) -> int:
    """SPEC's quoteMint in exact rationals, rounded up once."""
    t_eff = max(Fraction(total_active), Fraction(total_free * FLOOR_BPS, 10_000))
    return ceil(
        t_eff * (2 * RCAP * n + 3 * n * (2 * r_start + 2 * minted_today + n)) / (2 * RCAP * (capacity - r_start))
    )


def unlock_of(locked: int, free: int, rights: int, minted: int) -> int:
    """SPEC's repay: `locked * rights / minted` rounded down, all of it for the whole position;
    a partial repay keeps MIN_STAKE locked and unlocks nothing that would leave a free stake in
    (0, MIN_STAKE)."""
    if rights == minted:
        return locked
    unlocked = min(locked * rights // minted, locked - MIN_STAKE)
    return 0 if free + unlocked < MIN_STAKE else unlocked


class Rights(RuleBasedStateMachine):
    env: dict = {}
    counts: Counter = Counter()  # what the runs did, printed at the end

    @initialize(
        first=stake_amounts,
        second=stake_amounts,
        third=stake_amounts,
    )
    def setup(self, first, second, third):
        env = self.env
        self.token, self.staking = env["token"], env["staking"]
        self.oracle_c, self.rights = env["oracle_contract"], env["rights"]
        self.stakers = env["stakers"]
        self.whale, self.buyer, self.oracle_acct = env["whale"], env["buyer"], env["oracle"]
        self.holders = [*self.stakers, self.buyer]  # who may hold VCR
        self.targets = [*self.stakers, AGENT]  # whom rights may be activated to
        self.snapshot = ape.chain.snapshot()
        self.now = env["start"]
        self.first_epoch = env["first_epoch"]
        # the model
        everyone = [*self.stakers, self.whale]
        self.free = {a: 0 for a in everyone}
        self.free[self.whale] = WHALE_STAKE
        self.locked = dict.fromkeys(everyone, 0)
        self.position = dict.fromkeys(self.stakers, 0)
        self.minted_in: dict = {}  # account -> (epoch, minted against the report of epoch - 1)
        self.vcr = dict.fromkeys(self.holders, 0)
        self.activated_by: dict = {}  # (caller, account) -> rights
        self.act = dict.fromkeys(self.targets, 0)  # activated for today
        self.act_next = dict.fromkeys(self.targets, 0)  # activated from tomorrow on
        self.reclaims: dict = {}  # caller -> [ready, pending, fromEpoch]
        self.epoch = self.now // DAY
        self.r_start, self.minted_today = 0, 0
        self.snapshots: dict = {}  # epoch -> ({account: free stake at its last second}, total free)
        self.reports: dict = {}  # epoch -> report
        self.next_report = self.first_epoch
        self.last_capacity = CAPACITY
        self.day_capacity = {self.epoch: CAPACITY}  # lastCapacity when each day started
        self.min_capacity = MIN_CAPACITY
        self.snapshots[self.epoch - 1] = (dict.fromkeys(everyone, 0), 0)  # before the first stake
        for who, amount in zip(self.stakers, (first, second, third), strict=True):
            self.stake(self.stakers.index(who), amount)

    def teardown(self):
        if hasattr(self, "snapshot"):
            ape.chain.restore(self.snapshot)

    # ------------------------------------------------------------------ helpers

    def tick(self, seconds: int = 1) -> int:
        self.now = max(self.now + seconds, ape.chain.blocks.head.timestamp + 1)
        assert self.now // DAY == self.epoch, "a rule must not cross midnight by itself"
        at(self.now)
        return self.now

    def supply(self) -> int:
        return sum(self.position.values())

    def cap_limit(self) -> int:
        return min(RCAP, self.min_capacity // 2)

    def source(self, epoch: int, now: int) -> int:
        """The allotment source of `epoch` at time `now` (no report is ever rejected here)."""
        if epoch - 1 < self.first_epoch:
            return FALLBACK
        report = self.reports.get(epoch - 1)
        deadline = epoch * DAY + DEADLINE
        if report is None:
            return NOT_YET_KNOWN if now < deadline else FALLBACK
        return REPORT if report["posted_at"] < deadline else FALLBACK

    def is_final(self, epoch: int, now: int) -> bool:
        report = self.reports.get(epoch)
        return report is not None and now >= report["final_at"]

    def leaf(self, who, epoch: int):
        """`who`'s leaf and proof in the report of `epoch`, or None."""
        report = self.reports.get(epoch)
        if report is None:
            return None
        for position, (account, stake) in enumerate(report["leaves"]):
            if account == who.address:
                return (account, stake, position, ref_proof(report["levels"], position))
        return None

    def reclaim_state(self, caller, epoch: int) -> list:
        ready, pending, from_epoch = self.reclaims.get(caller, [0, 0, 0])
        if pending and from_epoch <= epoch:
            return [ready + pending, 0, from_epoch]
        return [ready, pending, from_epoch]

    # ------------------------------------------------------------------ staking

    @rule(i=st.integers(0, 2), amount=stake_amounts)
    def stake(self, i, amount):
        who = self.stakers[i]
        self.tick()
        if self.free[who] + amount < MIN_STAKE:  # the free stake after it
            with ape.reverts(self.staking.BelowMinimumStake, amount=self.free[who] + amount, minimum=MIN_STAKE):
                self.staking.stake(amount, sender=who)
            return
        self.staking.stake(amount, sender=who)
        self.free[who] += amount

    @rule(i=st.integers(0, 2), share=shares, whole=st.booleans())
    def request_unstake(self, i, share, whole):
        """Unstake a share of the free stake; `whole`: the whole stake, locked part included
        (refused while anything is locked: only free stake can be unstaked)."""
        who = self.stakers[i]
        free, locked = self.free[who], self.locked[who]
        amount = free + locked if whole and locked else int(free * share)
        self.tick()
        if amount == 0:
            with ape.reverts(self.staking.ZeroAmount):
                self.staking.requestUnstake(0, sender=who)
        elif amount > free:
            with ape.reverts(self.staking.InsufficientStake, requested=amount, staked=free):
                self.staking.requestUnstake(amount, sender=who)
            if locked:
                self.counts["unstake of locked stake refused"] += 1
        elif amount != free and (amount < MIN_STAKE or free - amount < MIN_STAKE):
            with ape.reverts(self.staking.BelowMinimumStake):
                self.staking.requestUnstake(amount, sender=who)
        else:
            self.staking.requestUnstake(amount, sender=who)
            self.free[who] -= amount

    # ------------------------------------------------------------------ mint and repay

    @rule(
        i=st.integers(0, 2),
        share=st.sampled_from([Fraction(1), Fraction(1, 2), Fraction(1, 5), Fraction(3, 2), Fraction(0)]),
        max_lock=st.sampled_from(["exact", "any", "one less"]),
        own_leaf=st.booleans(),
    )
    def mint(self, i, share, max_lock, own_leaf):
        self.do_mint(i, share, max_lock, own_leaf)

    def do_mint(self, i, share, max_lock, own_leaf):
        """Mint a share of what is left of the caller's allowance against today's report (more
        than it for a share above 1), with `maxLock` the exact price, unbounded or one wei less.
        Returns the caller."""
        rights = self.rights
        with_leaves = [s for s in self.stakers if self.leaf(s, self.epoch - 1)]
        # with its own leaf: one of the stakers in the report (when there is one)
        who = with_leaves[i % len(with_leaves)] if own_leaf and with_leaves else self.stakers[i]
        self.tick()
        epoch, now = self.epoch, self.now
        source, final = self.source(epoch, now), self.is_final(epoch - 1, now)
        own = self.leaf(who, epoch - 1)
        other = next((self.leaf(s, epoch - 1) for s in self.stakers if s != who and self.leaf(s, epoch - 1)), None)
        leaf = own if own_leaf or other is None else other
        if leaf is None:
            leaf = (who.address, 1, 0, [])
        report = self.reports.get(epoch - 1)
        valid_leaf = leaf == own and own is not None
        if valid_leaf:
            allowance = QUOTA * own[1] // report["total"]
            before = self.minted_in[who][1] if self.minted_in.get(who, (None,))[0] == epoch else 0
            n = (
                int((allowance - before) * share)
                if share <= 1
                else allowance - before + max(1, int(allowance * (share - 1)))
            )
        else:
            allowance = before = 0
            n = E18
        if n == 0:
            with ape.reverts(rights.ZeroAmount):
                rights.mint(0, MAX_UINT, leaf, sender=who)
            return who
        if source != REPORT or not final:
            self.counts[f"mint refused: source {source}, final {final}"] += 1
            with ape.reverts(rights.NoFinalReport, epoch=epoch, source=source, final_=final):
                rights.mint(n, MAX_UINT, leaf, sender=who)
            return who
        if not valid_leaf:
            self.counts["mint refused: not the caller's leaf"] += 1
            with ape.reverts(rights.InvalidLeaf, account=who, position=leaf[2]):
                rights.mint(n, MAX_UINT, leaf, sender=who)
            return who
        if before + n > allowance:
            self.counts["mint refused: allowance"] += 1
            with ape.reverts(rights.AllowanceExceeded, account=who, rights=n, mintedBefore=before, allowance=allowance):
                rights.mint(n, MAX_UINT, leaf, sender=who)
            return who
        supply = self.supply()
        if supply + n > self.cap_limit():
            self.counts["mint refused: cap"] += 1
            with ape.reverts(rights.CapExceeded, rights=n, outstanding=supply, limit=self.cap_limit()):
                rights.mint(n, MAX_UINT, leaf, sender=who)
            return who
        cost = price(n, self.r_start, self.minted_today, report["total"], report["free_total"], report["capacity"])
        assert rights.quoteMint(n) == cost  # the view sees the head block: same epoch, same state
        limit = {"exact": cost, "any": MAX_UINT, "one less": cost - 1}[max_lock]
        free, locked = self.free[who], self.locked[who]
        if cost > limit:
            self.counts["mint refused: maxLock"] += 1
            with ape.reverts(rights.PriceAboveMaxLock, price=cost, maxLock=limit):
                rights.mint(n, limit, leaf, sender=who)
            return who
        if cost > free:
            self.counts["mint refused: free stake"] += 1
            with ape.reverts(self.staking.InsufficientFreeStake, account=who, requested=cost, free=free):
                rights.mint(n, limit, leaf, sender=who)
            return who
        if 0 < free - cost < MIN_STAKE or locked + cost < MIN_STAKE:
            with ape.reverts(self.staking.BelowMinimumStake):
                rights.mint(n, limit, leaf, sender=who)
            return who
        tx = rights.mint(n, limit, leaf, sender=who)
        assert rights.RightsMinted(account=who, epoch=epoch, rights=n, locked=cost) in tx.events
        self.counts["mints"] += 1
        self.free[who] -= cost
        self.locked[who] += cost
        self.position[who] += n
        self.vcr[who] += n
        self.minted_in[who] = (epoch, before + n)
        self.minted_today += n
        return who

    @rule(i=st.integers(0, 3), share=st.sampled_from([Fraction(1), Fraction(1, 2), Fraction(1, 3), Fraction(3, 2)]))
    def repay(self, i, share):
        """Repay a share of the position (the buyer, i = 3, has none: refused)."""
        who, rights = self.holders[i], self.rights
        minted = self.position.get(who, 0)
        n = int(minted * share) if minted else max(self.vcr[who], 1)
        self.tick()
        if n == 0:
            with ape.reverts(rights.ZeroAmount):
                rights.repay(0, sender=who)
        elif n > minted:
            self.counts["repay refused: beyond the position" + (" (buyer)" if who == self.buyer else "")] += 1
            with ape.reverts(rights.ExceedsPosition, account=who, rights=n, minted=minted):
                rights.repay(n, sender=who)
        elif n > self.vcr[who]:
            with ape.reverts(rights.ERC20InsufficientBalance, sender=who, balance=self.vcr[who], needed=n):
                rights.repay(n, sender=who)
        else:
            unlocked = unlock_of(self.locked[who], self.free[who], n, minted)
            tx = rights.repay(n, sender=who)
            assert rights.RightsRepaid(account=who, rights=n, unlocked=unlocked) in tx.events
            self.counts["repays"] += 1
            self.position[who] -= n
            self.vcr[who] -= n
            self.locked[who] -= unlocked
            self.free[who] += unlocked
            if self.position[who] == 0:
                assert self.locked[who] == 0  # the last repay returns all of it

    # ------------------------------------------------------------------ transfers

    @rule(i=st.integers(0, 3), j=st.integers(0, 4), share=shares)
    def transfer(self, i, j, share):
        """Send a share of the balance to another holder (j = 4: to the rights contract, refused)."""
        who, rights = self.holders[i], self.rights
        n = int(self.vcr[who] * share)
        self.tick()
        if j == 4:
            with ape.reverts(rights.ERC20InvalidReceiver, receiver=rights.address):
                rights.transfer(rights, n, sender=who)
            return
        to = self.holders[j]
        if n > self.vcr[who]:
            with ape.reverts(rights.ERC20InsufficientBalance, sender=who, balance=self.vcr[who], needed=n):
                rights.transfer(to, n, sender=who)
            return
        rights.transfer(to, n, sender=who)
        self.vcr[who] -= n
        self.vcr[to] += n
        self.counts["transfers"] += 1

    @precondition(lambda self: any(self.activated_by.values()))
    @rule(pick=st.integers(0, 100))
    def transfer_of_active_rights_is_refused(self, pick):
        """A caller's activated VCR are held by the contract: sending its balance plus any of them
        is refused until they are deactivated and reclaimed."""
        callers = sorted({c for (c, _), v in self.activated_by.items() if v}, key=lambda a: a.address)
        who = callers[pick % len(callers)]
        active = sum(v for (c, _), v in self.activated_by.items() if c == who)
        n = self.vcr[who] + 1 + pick * active // 100
        to = self.holders[(self.holders.index(who) + 1) % len(self.holders)]
        self.tick()
        with ape.reverts(self.rights.ERC20InsufficientBalance, sender=who, balance=self.vcr[who], needed=n):
            self.rights.transfer(to, n, sender=who)
        self.counts["transfer of active rights refused"] += 1

    # ------------------------------------------------------------------ activation

    @rule(i=st.integers(0, 3), k=st.integers(0, 3), share=shares)
    def activate(self, i, k, share):
        """Activate a share of the caller's balance to a staker (itself or another) or the agent."""
        who, account, rights = self.holders[i], self.targets[k], self.rights
        n = int(self.vcr[who] * share)
        self.tick()
        if n == 0:
            with ape.reverts(rights.ZeroAmount):
                rights.activate(0, account, sender=who)
        elif n > self.vcr[who]:
            with ape.reverts(rights.ERC20InsufficientBalance, sender=who, balance=self.vcr[who], needed=n):
                rights.activate(n, account, sender=who)
        else:
            tx = rights.activate(n, account, sender=who)
            assert rights.RightsActivated(caller=who, account=account, rights=n, fromEpoch=self.epoch + 1) in tx.events
            self.vcr[who] -= n
            self.activated_by[(who, account)] = self.activated_by.get((who, account), 0) + n
            self.act_next[account] += n
            self.counts["activations" + (" to another" if account != who else "")] += 1

    @rule(i=st.integers(0, 3), k=st.integers(0, 3), share=shares)
    def deactivate(self, i, k, share):
        who, account, rights = self.holders[i], self.targets[k], self.rights
        activated = self.activated_by.get((who, account), 0)
        n = int(activated * share) if activated else E18
        self.tick()
        if n == 0:
            with ape.reverts(rights.ZeroAmount):
                rights.deactivate(0, account, sender=who)
        elif n > activated:
            with ape.reverts(rights.ExceedsActivation, caller=who, account=account, rights=n, activated=activated):
                rights.deactivate(n, account, sender=who)
        else:
            rights.deactivate(n, account, sender=who)
            self.activated_by[(who, account)] -= n
            self.act_next[account] -= n
            state = self.reclaim_state(who, self.epoch)
            self.reclaims[who] = [state[0], state[1] + n, self.epoch + 1]
            self.counts["deactivations"] += 1

    @rule(i=st.integers(0, 3))
    def reclaim(self, i):
        who, rights = self.holders[i], self.rights
        state = self.reclaim_state(who, self.epoch)
        self.tick()
        if state[0] == 0:
            with ape.reverts(rights.NothingToReclaim, caller=who):
                rights.reclaim(sender=who)
            return
        tx = rights.reclaim(sender=who)
        assert rights.RightsReclaimed(caller=who, rights=state[0]) in tx.events
        self.vcr[who] += state[0]
        self.reclaims[who] = [0, state[1], state[2]]
        self.counts["reclaims"] += 1

    # ------------------------------------------------------------------ reports and days

    @precondition(lambda self: self.next_report < self.epoch)
    @rule(
        active=st.integers(0, 7),
        change=st.sampled_from([100, 90, 120, 60, 150, 40]),
        late=st.sampled_from([False, True]),
    )
    def post_reports(self, active, change, late):
        """The honest reports of every closed epoch not reported yet: the stakers of the `active`
        mask with a free stake at the snapshot, their free stakes; the capacity `change`% of the
        last, clamped to the bounds. `late`: posted after today's deadline (a fallback day)."""
        if late:
            self.now = max(self.now, self.epoch * DAY + DEADLINE)
        while self.next_report < self.epoch:
            e = self.next_report
            stakes, free_total = self.snapshots[e]
            leaves = sorted(
                ((s.address, stakes[s]) for n, s in enumerate(self.stakers) if active >> n & 1 and stakes[s]),
                key=lambda p: p[0].lower(),
            )
            total = sum(s for _, s in leaves)
            last = self.last_capacity
            capacity = min(max(last * change // 100, self.min_capacity, ceil(last / 2)), last * 3 // 2)
            levels = ref_levels(leaves) if leaves else None
            root = levels[-1][0][0] if leaves else b"\x00" * 32
            self.tick()
            self.oracle_c.postReport(e, 5_000, capacity, root, total, len(leaves), sender=self.oracle_acct)
            assert self.oracle_c.reportedFreeStake(e) == free_total
            final_at = max([self.now + WINDOW] + [r["final_at"] for r in self.reports.values()])
            self.reports[e] = {"posted_at": self.now, "final_at": final_at, "capacity": capacity, "leaves": leaves,
                               "levels": levels, "total": total, "free_total": free_total}  # fmt: skip
            self.last_capacity = capacity
            self.next_report += 1
            self.counts["reports" + (" (late)" if self.now >= self.epoch * DAY + DEADLINE else "")] += 1

    def wait_until_final(self):
        if not self.reports:
            return
        final_at = max(r["final_at"] for r in self.reports.values())
        if final_at // DAY != self.epoch or final_at <= self.now:
            return
        self.now = final_at
        mine_at(self.now)

    @rule(days=st.sampled_from([1, 2]), minutes=st.sampled_from([1, 30, 90]))
    def advance_days(self, days, minutes):
        """Move to `minutes` past midnight, `days` on (mined, so views see the new day)."""
        for e in range(self.epoch, self.epoch + days):
            self.snapshots[e] = ({a: self.free[a] for a in self.free}, sum(self.free.values()))
            self.day_capacity[e + 1] = self.last_capacity
        self.epoch += days
        self.now = self.epoch * DAY + 60 * minutes
        mine_at(self.now)
        self.act = dict(self.act_next)
        self.r_start, self.minted_today = self.supply(), 0

    @rule(data=st.data())
    def next_day(self, data):
        """The next day, a minute past midnight, and the reports up to yesterday's: on time and
        waited for until final (mints open), on time and pending, late (a fallback day), or none
        (a fallback day after the deadline). On a day with a final report, a staker in it mints
        a share of its allowance. (One argument, drawn here: Hypothesis tries the rules with the
        fewest arguments first, so the simplest examples are days that move the state.)"""
        report = data.draw(st.sampled_from(["final", "pending", "late", "none"]), "report")
        active = data.draw(st.sampled_from([7, 3, 1, 6, 0, 5]), "active")
        change = data.draw(st.sampled_from([100, 90, 120, 60, 150, 40]), "change")
        mint_by = data.draw(st.integers(0, 2), "mint_by")
        share = data.draw(st.sampled_from([Fraction(1, 2), Fraction(1), Fraction(1, 5), Fraction(2)]), "share")
        self.advance_days(1, 1)
        if report != "none":
            self.post_reports(active, change, report == "late")
        if report in ("final", "late"):
            self.wait_until_final()
        if report == "final":
            who = self.do_mint(mint_by, share, "exact", True)
            then = data.draw(st.sampled_from(["activate", "transfer", "repay", "nothing"]), "then")
            i, k = self.holders.index(who), data.draw(st.integers(0, 3), "target")
            if then == "activate":  # half of the minter's balance, to itself, another staker or the agent
                self.activate(i, k, Fraction(1, 2))
            elif then == "transfer":  # a third to another holder (the buyer for k = 3)
                self.transfer(i, k if k != i else 3, Fraction(1, 3))
            elif then == "repay":
                self.repay(i, Fraction(1, 2))

    @rule(
        i=st.integers(0, 2),
        k=st.integers(0, 3),
        share=st.sampled_from([Fraction(1), Fraction(1, 2), Fraction(3, 2)]),
    )
    def mint_and_activate(self, i, k, share):
        """A mint (as `mint`), then half of the caller's balance activated to a target."""
        who = self.do_mint(i, share, "exact", True)
        self.activate(self.holders.index(who), k, Fraction(1, 2))

    @rule(choice=st.sampled_from(["twice R", "below twice R", "last capacity", "above last", "initial"]))
    def set_min_capacity(self, choice):
        """The admin sets `minCapacity` within `[2 R, lastCapacity]` (outside: refused)."""
        o, floor = self.oracle_c, 2 * self.supply()
        value = {"twice R": max(floor, 1), "below twice R": max(floor - 1, 0), "last capacity": self.last_capacity,
                 "above last": self.last_capacity + 1, "initial": MIN_CAPACITY}[choice]  # fmt: skip
        self.tick()
        deployer = self.whale
        if value <= 0:
            with ape.reverts(o.InvalidCapacityBounds):
                o.setCapacityBounds(value, MAX_CAPACITY, MAX_CHANGE_BPS, sender=deployer)
        elif value < floor:
            with ape.reverts(o.MinCapacityBelowRights, minCapacity=value, floor=floor):
                o.setCapacityBounds(value, MAX_CAPACITY, MAX_CHANGE_BPS, sender=deployer)
        elif value > self.last_capacity:
            with ape.reverts(o.LastCapacityOutOfBounds):
                o.setCapacityBounds(value, MAX_CAPACITY, MAX_CHANGE_BPS, sender=deployer)
        else:
            o.setCapacityBounds(value, MAX_CAPACITY, MAX_CHANGE_BPS, sender=deployer)
            self.min_capacity = value

    # ------------------------------------------------------------------ invariants
    # The views are read with raw `eth_call`s (`view`): five times faster than ape's contract
    # calls in-process, so every invariant can be checked after every step within the budget.

    @invariant()
    def stakes_and_positions_match_the_model(self):
        if not hasattr(self, "snapshot"):
            return
        s, r = self.staking, self.rights
        assert view(s, "freeStakeOf(address)", self.whale) == self.free[self.whale]
        for a in self.stakers:
            assert view(s, "freeStakeOf(address)", a) == self.free[a]
            assert view(s, "lockedOf(address)", a) == self.locked[a]
            assert view(r, "positionOf(address)", a, out=2) == (self.position[a], self.locked[a])
            assert (self.locked[a] == 0) == (self.position[a] == 0)
        assert view(s, "totalLocked()") == sum(self.locked.values())
        # the reward weight: the free stake alone
        assert view(s, "totalFreeStaked()") == sum(self.free.values())
        assert view(s, "totalStaked()") == sum(self.free.values()) + sum(self.locked.values())

    @invariant()
    def rights_supply_within_the_caps(self):
        if not hasattr(self, "snapshot"):
            return
        r = self.rights
        supply = self.supply()
        assert view(r, "totalSupply()") == supply <= self.cap_limit() <= RCAP
        assert 2 * supply <= view(self.oracle_c, "capacityBounds()", out=3)[0] == self.min_capacity
        for a in self.holders:
            assert view(r, "balanceOf(address)", a) == self.vcr[a]
        held = sum(self.activated_by.values()) + sum(x[0] + x[1] for x in self.reclaims.values())
        assert view(r, "balanceOf(address)", r) == held
        assert sum(self.vcr.values()) + held == supply
        assert view(r, "today()", out=2) == (self.r_start, self.minted_today)
        assert self.minted_today <= QUOTA
        for a in self.stakers:
            epoch, minted = self.minted_in.get(a, (self.epoch, 0))
            expected = minted if epoch == self.epoch else 0
            assert view(r, "mintedInEpoch(address,uint256)", a, self.epoch) == expected
            if expected:
                report = self.reports[self.epoch - 1]
                assert expected <= QUOTA * self.leaf(a, self.epoch - 1)[1] // report["total"]

    @invariant()
    def activations_match_the_model(self):
        if not hasattr(self, "snapshot"):
            return
        r, e = self.rights, self.epoch
        for a in self.targets:
            assert view(r, "activatedAt(address,uint256)", a, e) == self.act[a]
            assert view(r, "activatedAt(address,uint256)", a, e + 1) == self.act_next[a]
        assert view(r, "totalActivatedAt(uint256)", e) == sum(self.act.values()) <= self.supply()
        assert view(r, "totalActivatedAt(uint256)", e + 1) == sum(self.act_next.values()) <= self.supply()
        for (caller, account), v in self.activated_by.items():
            assert view(r, "activatedBy(address,address)", caller, account) == v
        for caller in self.reclaims:
            ready, pending, from_epoch = self.reclaim_state(caller, e)
            assert view(r, "reclaimable(address)", caller, out=3) == (ready, pending, from_epoch if pending else 0)

    @invariant()
    def allotments_match_the_model_and_stay_within_capacity(self):
        if not hasattr(self, "snapshot"):
            return
        o, e = self.oracle_c, self.epoch
        head = ape.chain.blocks.head.timestamp
        assert head // DAY == e
        source = self.source(e, head)
        assert view(o, "allotmentSource(uint256)", e, out_types=["uint8"]) == source
        activated = sum(self.act.values())
        expected = dict(self.act)  # rights, under every source
        proofs: dict = {}
        capacity = None
        if source == REPORT:
            report = self.reports[e - 1]
            capacity = report["capacity"]
            pool = max(capacity - activated, 0)
            for s in self.stakers:
                leaf = self.leaf(s, e - 1)
                if leaf is not None:
                    proofs[s] = leaf
                    expected[s] = expected.get(s, 0) + leaf[1] * pool // report["total"]
        elif source == FALLBACK:
            capacity = self.day_capacity[e]
            assert view(o, "fallbackCapacity(uint256)", e) == capacity
            stakes, total = self.snapshots[e - 1]
            pool = max(capacity - activated, 0)
            for a, stake in stakes.items():
                expected[a] = expected.get(a, 0) + (stake * pool // total if total else 0)
        got = {}
        for a in expected:
            leaf = proofs.get(a, (address_of(a), 0, 0, []))
            got[a] = view(o, "vcuAllocation(uint256,address,uint256,uint256,(bytes32,uint256)[])", e, *leaf)
        assert got == expected
        if capacity is not None:
            assert sum(got.values()) <= capacity
            assert 2 * (capacity - activated) >= capacity  # the pool is at least half of the capacity
            self.counts[f"steps checked, source {source}"] += 1


@pytest.fixture(scope="module")
def rights_env(deployer, alice, bob, carol, attacker, guardian, notifier, oracle, treasury, chain):
    start = (chain.pending_timestamp // DAY + 1) * DAY + 3_600
    at(start)
    first_epoch = start // DAY + 1
    token, staking, o, rights = deploy_with_rights(
        deployer, oracle, guardian, notifier, treasury, first_epoch, CAPACITY,
        [MIN_CAPACITY, MAX_CAPACITY, MAX_CHANGE_BPS], RCAP, WINDOW,
    )  # fmt: skip
    stakers = [alice, bob, carol]
    t = first_epoch * DAY + 10
    at(t)
    token.approve(staking, WHALE_STAKE, sender=deployer)
    at(t + 1)
    staking.stake(WHALE_STAKE, sender=deployer)
    t += 2
    for who in stakers:
        at(t)
        token.transfer(who, FUNDING, sender=deployer)
        at(t + 1)
        token.approve(staking, MAX_UINT, sender=who)
        t += 2
    return {"token": token, "staking": staking, "oracle_contract": o, "rights": rights, "stakers": stakers,
            "whale": deployer, "buyer": attacker, "oracle": oracle, "start": t, "first_epoch": first_epoch}  # fmt: skip


def test_rights_invariants_hold_under_random_actions(rights_env):
    Rights.env = rights_env
    examples = PROFILE["max_examples"]
    long = os.environ.get("VVV_FUZZ") == "long"
    if not long and os.environ.get("VVV_FUZZ_SPLIT") == "1":
        examples, pass_seed = CI_SPLIT[current_pass()]
        seed(pass_seed)(Rights)
    machine_settings = settings(
        max_examples=examples,
        stateful_step_count=PROFILE["stateful_step_count"],
        deadline=None,
        suppress_health_check=list(HealthCheck),
        derandomize=not long,
        database=None,
        phases=list(Phase) if long else [Phase.explicit, Phase.generate],
    )
    Rights.counts.clear()
    run_state_machine_as_test(Rights, settings=machine_settings)
    print("\nrights stateful run:", dict(sorted(Rights.counts.items())))
