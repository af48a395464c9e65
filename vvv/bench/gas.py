"""Receipt gas of each budgeted operation, in a realistic state (other stakers, a live stream).

Receipt gas (`gas_used`, including the 21,000 base and after refunds) is deterministic for a given
EVM, so the same numbers come out on ape's test provider and on anvil; `bench/gas.py` prints them
and the test suite checks them against `STAKING_BUDGETS`."""

import fcntl
import json
import os
from dataclasses import dataclass
from pathlib import Path

from ape import chain, project

from vvv.chain.permit import sign_permit
from vvv.oracle.merkle import StandardMerkleTree

DAY = 86_400
E18 = 10**18

# How a staker lets the staking contract take its VVV: an approval of exactly the amount (the
# allowance is cleared, which earns a refund), an approval with some left over, an unlimited
# approval (never written again), or an EIP-2612 permit in the same transaction.
STAKE_PATTERNS = ("exact allowance", "leftover allowance", "unlimited allowance", "permit")
FIRST_STAKE_BUDGET = 160_000
LATER_STAKE_BUDGET = 110_000

# A permit costs the token ~16k gas that the staking contract cannot save: the nonce (5,000),
# the signature check (~3,500), the allowance set and cleared in one transaction (net ~2,300
# after the refund), the Approval event (1,756) and 128 more calldata bytes (~1,400). The later
# stake with a permit gets that much on top of the later-stake budget: it does NOT meet the
# 110,000 of the other patterns (121,499 measured).
PERMIT_OVERHEAD = 12_000

STAKING_BUDGETS: dict[str, int] = {
    **{f"stake (first of an account, {p})": FIRST_STAKE_BUDGET for p in STAKE_PATTERNS},
    **{f"stake (later block, {p})": LATER_STAKE_BUDGET for p in STAKE_PATTERNS[:-1]},
    "stake (later block, permit)": LATER_STAKE_BUDGET + PERMIT_OVERHEAD,
    "requestUnstake": 150_000,
    "cancelUnstake": 100_000,
    "withdraw": 70_000,
    "claimRewards": 90_000,
    "restakeRewards": 100_000,
}


SYSTEM_BUDGETS: dict[str, int] = {
    "postReport (10-leaf root)": 150_000,
    "postReport (1,000,000-leaf root)": 150_000,
    "distribute (first epoch)": 180_000,
    "distribute (later epoch)": 180_000,
    "vcuAllocation (20-level proof)": 60_000,
}
# postReport's gas may not grow with the active set: the two roots' reports may differ only by
# the calldata of their different numbers (root, total, count), a few bytes at 12 gas each.
POST_REPORT_MAX_DIFFERENCE = 200

CACHE_DIR = Path(__file__).resolve().parents[2] / ".cache"


@dataclass(frozen=True)
class GasRow:
    operation: str
    gas_used: int
    budget: int | None

    @property
    def within_budget(self) -> bool:
        return self.budget is None or self.gas_used <= self.budget


def _at(timestamp: int) -> None:
    chain.pending_timestamp = timestamp


def measure_staking(accounts: list) -> list[GasRow]:
    """Deploy a token and staking contract (accounts[5] as notifier and minter), put two
    stakers and a live stream in place, then measure a first and a later stake of one fresh
    account per pattern of `STAKE_PATTERNS`, and each other operation of the first of them."""
    deployer, other, other2, guardian, notifier = (accounts[i] for i in (0, 2, 3, 4, 5))
    users = dict(zip(STAKE_PATTERNS, (accounts[i] for i in (1, 6, 7, 8)), strict=True))
    token = project.VVVToken.deploy(deployer, notifier, sender=deployer)
    staking = project.VVVStaking.deploy(token, deployer, 3 * DAY, guardian, notifier, sender=deployer)
    t = (chain.pending_timestamp // DAY + 2) * DAY
    for acct in (*users.values(), other, other2):
        token.transfer(acct, 10_000 * E18, sender=deployer)
    for acct in (other, other2):
        token.approve(staking, 1_000 * E18, sender=acct)
        _at(t)
        t += 60
        staking.stake(1_000 * E18, sender=acct)
    token.mint(staking, 38_000 * E18, sender=notifier)
    _at(t)
    staking.notifyRewards(38_000 * E18, sender=notifier)

    rows: list[tuple[str, object]] = []

    def step(name: str, fn) -> None:  # noqa: ANN001
        nonlocal t
        t += 600
        _at(t)
        rows.append((name, fn()))

    def staker(pattern: str, user, amount: int):  # noqa: ANN001, ANN202
        """The transaction that stakes `amount` for `user` the `pattern` way (approvals are
        sent beforehand and not counted)."""
        if pattern == "permit":
            deadline = t + 600 + DAY
            v, r, s = sign_permit(token, user, staking.address, amount, deadline)
            return lambda: staking.stakeWithPermit(amount, deadline, v, r, s, sender=user)
        if pattern == "exact allowance":
            token.approve(staking, amount, sender=user)
        elif pattern == "leftover allowance" and token.allowance(user, staking) == 0:
            token.approve(staking, 1_000 * E18, sender=user)
        elif pattern == "unlimited allowance" and token.allowance(user, staking) == 0:
            token.approve(staking, 2**256 - 1, sender=user)
        return lambda: staking.stake(amount, sender=user)

    for when, amount in (("first of an account", 100 * E18), ("later block", 50 * E18)):
        for pattern, user in users.items():
            step(f"stake ({when}, {pattern})", staker(pattern, user, amount))
    user = users[STAKE_PATTERNS[0]]
    step("requestUnstake", lambda: staking.requestUnstake(40 * E18, sender=user))
    first = staking.lastRequestId()
    step("requestUnstake (second)", lambda: staking.requestUnstake(30 * E18, sender=user))
    step("cancelUnstake", lambda: staking.cancelUnstake(first, sender=user))
    step("claimRewards", lambda: staking.claimRewards(sender=user))
    step("restakeRewards", lambda: staking.restakeRewards(sender=user))
    t += 7 * DAY
    step("withdraw", lambda: staking.withdraw(first + 1, sender=user))
    return [GasRow(name, tx.gas_used, STAKING_BUDGETS.get(name)) for name, tx in rows]


def synthetic_tree(n: int) -> StandardMerkleTree:
    """A tree of `n` leaves: accounts 0x..01, 0x..02, ... each with a 1 wei stake. The root of
    the 1,000,000-leaf tree takes ~20 s to build, so it is cached in `.cache/` (not committed)."""
    values = [("0x" + (i + 1).to_bytes(20, "big").hex(), 1) for i in range(n)]
    if n < 1_000:
        return StandardMerkleTree.of(values)
    cache = CACHE_DIR / f"synthetic-tree-{n}.json"
    CACHE_DIR.mkdir(exist_ok=True)
    # `make test` runs two suites at once: one builds the tree while the other waits for it
    with (CACHE_DIR / f"synthetic-tree-{n}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if cache.exists():
            return StandardMerkleTree.load(json.loads(cache.read_text()))
        tree = StandardMerkleTree.of(values)
        tmp = cache.with_suffix(f".tmp{os.getpid()}")
        tmp.write_text(json.dumps(tree.dump()))
        os.replace(tmp, cache)
        return tree


def measure_system(accounts: list) -> list[GasRow]:
    """Deploy the whole system with `deploy_system`, stake, and measure postReport with a
    10-leaf and a 1,000,000-leaf root, distribute, and vcuAllocation with a 20-level proof."""
    from vvv.chain.deployment import deploy_system  # deployment imports the project's contracts

    deployer, alice, bob, _carol, guardian, _notifier, oracle, treasury, attacker = accounts[:9]
    _at((chain.pending_timestamp // DAY + 1) * DAY + 3_600)
    system = deploy_system(deployer, treasury=treasury, oracle=oracle, guardian=guardian, record=False)
    g = system.emissions.genesisEpoch()
    t = g * DAY - 1_000
    for who in (alice, bob):
        for call in (
            lambda w=who: system.token.transfer(w, 1_000 * E18, sender=deployer),
            lambda w=who: system.token.approve(system.staking, 1_000 * E18, sender=w),
            lambda w=who: system.staking.stake(1_000 * E18, sender=w),
        ):
            _at(t)
            t += 1
            call()
    small, large = synthetic_tree(10), synthetic_tree(1_000_000)
    rows: list[tuple[str, object]] = []
    capacity = 181_480 * E18
    _at((g + 1) * DAY + 60)
    rows.append(
        (
            "postReport (10-leaf root)",
            system.oracle.postReport(g, 5_000, capacity, small.root, 10, 10, sender=oracle),
        )
    )
    _at((g + 2) * DAY + 60)
    rows.append(
        (
            "postReport (1,000,000-leaf root)",
            system.oracle.postReport(g + 1, 5_000, capacity, large.root, 1_000_000, 1_000_000, sender=oracle),
        )
    )
    _at((g + 2) * DAY + 60 + 3 * 3_600)
    rows.append(("distribute (first epoch)", system.emissions.distribute(g, sender=attacker)))
    _at((g + 2) * DAY + 60 + 4 * 3_600)
    rows.append(("distribute (later epoch)", system.emissions.distribute(g + 1, sender=attacker)))
    index = next(i for i in range(len(large.values)) if len(large.proof(i)) == 20)
    account, stake = large.values[index]
    _at((g + 2) * DAY + 60 + 5 * 3_600)
    call = system.oracle.vcuAllocation.transact(g + 2, account, stake, large.proof(index), sender=attacker)
    rows.append(("vcuAllocation (20-level proof)", call))
    return [GasRow(name, tx.gas_used, SYSTEM_BUDGETS.get(name)) for name, tx in rows]
