"""Receipt gas of each budgeted operation, in a realistic state (other stakers, a live stream).

Receipt gas (`gas_used`, including the 21,000 base and after refunds) is deterministic for a given
EVM, so the same numbers come out on ape's test provider and on anvil; `bench/gas.py` prints them
and the test suite checks them against `STAKING_BUDGETS`."""

from dataclasses import dataclass
from typing import Any

from ape import chain, project
from eth_abi import encode
from eth_account import Account
from eth_utils import keccak, to_checksum_address

from vvv.chain.permit import sign_permit

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
# stake with a permit does not meet the 110,000 of the other patterns (121,500 measured): its
# budget is issue 20's 125,000.
PERMIT_OVERHEAD = 15_000

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
    # issue 20's 65k held while systems had no rights; deploy_system now deploys ComputeRights,
    # so every allocation also reads the account's and the total activation (issue 23's 75k)
    "vcuAllocation (20-level proof)": 75_000,
    "requestLeaf (first request of a report)": 80_000,
    "answerLeaf (20-level proof)": 150_000,
    "challengeStake (20-level proof)": 150_000,
    "challengeTotal (20-level proof)": 150_000,
    "challengeOrder (two 20-level proofs)": 150_000,
    "challengeCount (20-level proof)": 150_000,
    "challengeEmptyLeaf (20-level proof)": 150_000,
    "challengeOmission (receipt, two 20-level proofs)": 150_000,
}
# Compute rights (issue 23, Deliver 5): each for an account's first call and a later one (a later
# block of the same epoch); mint with a 20-level leaf proof.
RIGHTS_BUDGETS: dict[str, int] = {
    "mint (first of an account, 20-level proof)": 200_000,
    "mint (later, 20-level proof)": 160_000,
    "repay (first of an account)": 120_000,
    "repay (later)": 120_000,
    "activate (first of an account)": 110_000,
    "activate (later)": 90_000,
    "deactivate (first of an account)": 110_000,
    "deactivate (later)": 90_000,
    # vcuAllocation of an account with activated compute rights (two reads of ComputeRights'
    # traces on top of the proof); measured on a system with rights (`measure_rights_allocation`)
    "vcuAllocation (rights, 20-level proof)": 75_000,
}
# Not met (measured 260,577 / 231,862 / 173,324): a lock or unlock writes four checkpoints in
# VVVStaking at a new timestamp, each a fresh slot (the account's and the total free stake, the
# account's and the total locked stake: about 84,000 gas of fresh slots alone), and the SPEC's
# histories (`lockedAt`, `totalLockedAt` at any timestamp) leave no bits to share them (a
# checkpoint of the free traces is a full slot). docs/compute-rights.md, "Gas", has the
# arithmetic. These ceilings keep the numbers from growing.
RIGHTS_CEILINGS: dict[str, int] = {
    "mint (first of an account, 20-level proof)": 261_000,
    "mint (later, 20-level proof)": 232_000,
    "repay (first of an account)": 174_000,
    "repay (later)": 174_000,
}
# postReport's gas may not grow with the active set: the two roots' reports may differ only by
# the calldata of their different numbers (root, total, count), a few bytes at 12 gas each.
POST_REPORT_MAX_DIFFERENCE = 200


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


class _Steps:
    """Measured transactions, each in a block 10 minutes after the one before (from `t`)."""

    def __init__(self, t: int) -> None:
        self.t = t
        self.rows: list[tuple[str, object]] = []

    def __call__(self, name: str, fn) -> None:  # noqa: ANN001
        self.t += 600
        _at(self.t)
        self.rows.append((name, fn()))


def measure_staking(accounts: list) -> list[GasRow]:
    """Deploy a token and staking contract (accounts[5] as notifier and minter, accounts[9] as
    the locker that ComputeRights will be), put two stakers and a live stream in place, then
    measure a first and a later stake of one fresh account per pattern of `STAKE_PATTERNS`, each
    other operation of the first of them, and a lock and unlock of its stake (no budget: they
    are part of a mint and a repay)."""
    deployer, other, other2, guardian, notifier, locker = (accounts[i] for i in (0, 2, 3, 4, 5, 9))
    users = dict(zip(STAKE_PATTERNS, (accounts[i] for i in (1, 6, 7, 8)), strict=True))
    token = project.VVVToken.deploy(deployer, notifier, sender=deployer)
    staking = project.VVVStaking.deploy(token, deployer, 3 * DAY, guardian, notifier, locker, sender=deployer)
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

    step = _Steps(t)

    def staker(pattern: str, user, amount: int):  # noqa: ANN001, ANN202
        """The transaction that stakes `amount` for `user` the `pattern` way (approvals are
        sent beforehand and not counted)."""
        if pattern == "permit":
            deadline = step.t + 600 + DAY
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
    step.t += 7 * DAY
    step("withdraw", lambda: staking.withdraw(first + 1, sender=user))
    step("lock (first of an account)", lambda: staking.lock(user, 10 * E18, sender=locker))
    step("lock (later)", lambda: staking.lock(user, 10 * E18, sender=locker))
    step("unlock", lambda: staking.unlock(user, 5 * E18, sender=locker))
    return [GasRow(name, tx.gas_used, STAKING_BUDGETS.get(name)) for name, tx in step.rows]


ZERO = b"\x00" * 32
LEAF_STAKE = 10**15  # the smallest stake; a million of them fit in the bench's 2,000 VVV staked


def _leaf(account: str, stake: int) -> tuple[bytes, int]:
    """The active-set leaf of SPEC.md: keccak256(bytes.concat(keccak256(abi.encode(account, stake))))."""
    return keccak(keccak(encode(["address", "uint256"], [account, stake]))), stake


def _parent(left: tuple[bytes, int], right: tuple[bytes, int]) -> tuple[bytes, int]:
    return keccak(encode(["bytes32", "uint256", "bytes32", "uint256"], [*left, *right])), left[1] + right[1]


def synthetic_paths(leaves: dict[int, tuple[bytes, int]], depth: int) -> tuple[tuple[bytes, int], dict]:
    """The top node and each leaf's siblings of a depth-`depth` tree that holds `leaves`
    ({position: node}, at most two, adjacent) and, everywhere else, made-up subtrees (hash of
    the level, sum `LEAF_STAKE` per leaf below). Gas depends only on the path's length and
    calldata, so a path through made-up siblings costs what a path of a real tree of that size
    costs; building a real 1,000,000-leaf tree is left to bench/merkle.py."""
    nodes = dict(leaves)
    siblings: dict[int, list] = {p: [] for p in leaves}
    for level in range(depth):
        made_up = (keccak(b"synthetic subtree" + level.to_bytes(2, "big")), LEAF_STAKE << level)
        for p in siblings:
            siblings[p].append(nodes.get((p >> level) ^ 1, made_up))
        nodes = {q >> 1: _parent(*(nodes.get(q & ~1, made_up), nodes.get(q | 1, made_up))) for q in nodes}
    (top,) = nodes.values()
    return top, siblings


def _account(n: int) -> str:
    return to_checksum_address(n.to_bytes(20, "big"))


def _receipt(oracle: object, key: object, account: str, epoch: int) -> bytes:
    """An EIP-712 Activity(account, epoch) receipt signed with a test account's key."""
    data = {
        "types": {
            "EIP712Domain": [{"name": n, "type": t} for n, t in
                             (("name", "string"), ("version", "string"), ("chainId", "uint256"),
                              ("verifyingContract", "address"))],
            "Activity": [{"name": "account", "type": "address"}, {"name": "epoch", "type": "uint256"}],
        },
        "primaryType": "Activity",
        "domain": {"name": "VVV Activity", "version": "1", "chainId": chain.chain_id,
                   "verifyingContract": str(oracle.address)},  # type: ignore[attr-defined]
        "message": {"account": account, "epoch": epoch},
    }  # fmt: skip
    return bytes(Account.sign_typed_data(key.private_key, full_message=data).signature)  # type: ignore[attr-defined]


def measure_system(accounts: list) -> list[GasRow]:
    """Deploy the whole system with `deploy_system`, stake, and measure postReport with a
    10-leaf and a 1,000,000-leaf root, distribute, vcuAllocation with a 20-level proof, and each
    challenge against a lie in a 1,000,000-leaf tree (20-level proofs), and a data request on
    such a tree answered with a 20-level path."""
    from vvv.chain.deployment import deploy_system  # deployment imports the project's contracts

    deployer, alice, bob, _carol, guardian, _notifier, oracle, treasury, attacker, signer = accounts[:10]
    _at((chain.pending_timestamp // DAY + 1) * DAY + 3_600)
    system = deploy_system(deployer, treasury=treasury, oracle=oracle, guardian=guardian, record=False)
    o = system.oracle
    o.grantRole(o.ACTIVITY_SIGNER_ROLE(), signer, sender=deployer)
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
    rows: list[tuple[str, object]] = []
    capacity = 181_480 * E18
    small, _ = synthetic_paths({0: _leaf(_account(1), LEAF_STAKE)}, 4)
    position = 777_777  # any leaf of a 1,000,000-leaf tree has 20 siblings
    leaf = (_account(position + 1), LEAF_STAKE)
    large, large_siblings = synthetic_paths({position: _leaf(*leaf)}, 20)
    _at((g + 1) * DAY + 60)
    tx = o.postReport(g, 5_000, capacity, small[0], small[1], 10, sender=oracle)
    rows.append(("postReport (10-leaf root)", tx))
    _at((g + 2) * DAY + 60)
    tx = o.postReport(g + 1, 5_000, capacity, large[0], large[1], 1_000_000, sender=oracle)
    rows.append(("postReport (1,000,000-leaf root)", tx))
    _at((g + 2) * DAY + 60 + 3 * 3_600)
    rows.append(("distribute (first epoch)", system.emissions.distribute(g, sender=attacker)))
    _at((g + 2) * DAY + 60 + 4 * 3_600)
    rows.append(("distribute (later epoch)", system.emissions.distribute(g + 1, sender=attacker)))
    _at((g + 2) * DAY + 60 + 5 * 3_600)
    call = o.vcuAllocation.transact(g + 2, *leaf, position, large_siblings[position], sender=attacker)
    rows.append(("vcuAllocation (20-level proof)", call))

    # the challenges: each lie is a report of epoch g+2 (posted again after each rejection)
    t = (g + 3) * DAY + 60
    million = 1_000_000

    def lie(leaves: dict, count: int = million, total_delta: int = 0) -> tuple[tuple[bytes, int], dict]:
        nonlocal t
        top, sib = synthetic_paths({p: _leaf(*x) if x else (ZERO, 0) for p, x in leaves.items()}, 20)
        t += 60
        _at(t)
        o.postReport(g + 2, 0, capacity, top[0], top[1] + total_delta, count, sender=oracle)
        t += 60
        _at(t)
        return top, sib

    def proof(account: str, p: int, sib: dict) -> tuple:
        return (account, LEAF_STAKE, p, sib[p])

    p = 500_000  # even: p and p + 1 share their parent
    _, sib = lie({p: (_account(p + 1), LEAF_STAKE)})  # an account with no stake at all
    rows.append(
        ("challengeStake (20-level proof)", o.challengeStake(g + 2, proof(_account(p + 1), p, sib), sender=attacker))
    )
    _, sib = lie({p: (_account(p + 1), LEAF_STAKE)}, total_delta=-1)
    rows.append(
        ("challengeTotal (20-level proof)", o.challengeTotal(g + 2, proof(_account(p + 1), p, sib), sender=attacker))
    )
    a, b = _account(p + 2), _account(p + 1)  # out of order
    _, sib = lie({p: (a, LEAF_STAKE), p + 1: (b, LEAF_STAKE)})
    tx = o.challengeOrder(g + 2, proof(a, p, sib), proof(b, p + 1, sib), sender=attacker)
    rows.append(("challengeOrder (two 20-level proofs)", tx))
    _, sib = lie({p: (_account(p + 1), LEAF_STAKE)}, count=p)  # a real leaf at position >= count
    rows.append(
        ("challengeCount (20-level proof)", o.challengeCount(g + 2, proof(_account(p + 1), p, sib), sender=attacker))
    )
    _, sib = lie({p: None}, count=p + 2)  # an empty leaf below the count
    rows.append(("challengeEmptyLeaf (20-level proof)", o.challengeEmptyLeaf(g + 2, p, sib[p], sender=attacker)))
    z = int(str(alice.address), 16)  # alice is staked, active, and left out between two leaves
    a, b = _account(z - 1), _account(z + 1)
    _, sib = lie({p: (a, LEAF_STAKE), p + 1: (b, LEAF_STAKE)})
    signature = _receipt(o, signer, str(alice.address), g + 2)
    tx = o.challengeOmission(g + 2, alice, g + 2, signature, [proof(a, p, sib), proof(b, p + 1, sib)], sender=attacker)
    rows.append(("challengeOmission (receipt, two 20-level proofs)", tx))

    # a data request on a 1,000,000-leaf report, answered with the leaf's 20-level path
    t += 60
    _at(t)
    o.postReport(g + 2, 0, capacity, large[0], large[1], million, sender=oracle)
    dr = system.data_requests
    assert dr is not None
    t += 60
    _at(t)
    tx = dr.requestLeaf(g + 2, leaf[0], value=dr.dataRequestBond(), sender=attacker)
    rows.append(("requestLeaf (first request of a report)", tx))
    t += 60
    _at(t)
    answer = [(leaf[0], leaf[1], position, large_siblings[position])]
    tx = dr.answerLeaf(g + 2, 0, int(leaf[0], 16), answer, sender=attacker)
    rows.append(("answerLeaf (20-level proof)", tx))
    return [GasRow(name, tx.gas_used, SYSTEM_BUDGETS.get(name)) for name, tx in rows]


def deploy_with_rights(
    deployer: Any,
    oracle: Any,
    guardian: Any,
    notifier: Any,
    treasury: Any,
    first_epoch: int,
    capacity: int,
    bounds: list[int],
    rights_cap: int = 2_000 * E18,
    window: int = 2 * 3_600,
) -> tuple:
    """Token, staking (its locker: the rights, at the address they will get), EpochOracle (which
    reads the locker as its rights) and ComputeRights, in that order, with a 3-day admin delay:
    a bare system with rights for benches and tests that set the capacity bounds and `RCAP`
    themselves and mint from a `notifier` instead of the EmissionsController (deploy_system
    wires the whole system, emissions included)."""
    rights_address = deployer.get_deployment_address(deployer.nonce + 3)
    token = project.VVVToken.deploy(deployer, notifier, sender=deployer)
    staking = project.VVVStaking.deploy(token, deployer, 3 * DAY, guardian, notifier, rights_address, sender=deployer)
    o = project.EpochOracle.deploy(staking, deployer, 3 * DAY, oracle, guardian, treasury, first_epoch, capacity,
                                   bounds, window, sender=deployer)  # fmt: skip
    rights = project.ComputeRights.deploy(staking, o, rights_cap, deployer, 3 * DAY, guardian, sender=deployer)
    assert rights.address == rights_address and o.rights() == rights_address
    return token, staking, o, rights


def measure_rights_allocation(accounts: list) -> list[GasRow]:
    """Deploy a token, staking (its locker: the rights), oracle and ComputeRights (deploy_system
    deploys no rights yet), have a staker mint rights against a final 1,000,000-leaf report
    (its leaf's 20-level path), activate them to itself, and measure its vcuAllocation on the
    next day (report source) with that path: rights plus its pool share."""
    deployer, alice, _bob, _carol, guardian, notifier, oracle, treasury, attacker = accounts[:9]
    capacity = 181_480 * E18
    start = (chain.pending_timestamp // DAY + 1) * DAY + 3_600
    _at(start)
    e0 = start // DAY + 1
    token, staking, o, rights = deploy_with_rights(
        deployer, oracle, guardian, notifier, treasury, e0, capacity, [100_000 * E18, 100_000_000 * E18, 5_000]
    )
    token.transfer(alice, 2_000 * E18, sender=deployer)
    token.approve(staking, 2_000 * E18, sender=alice)
    _at(e0 * DAY + 100)
    staking.stake(2_000 * E18, sender=alice)
    position = 777_777
    # alice's leaf holds 500 VVV of her 2,000 (the made-up leaves about 1,000 VVV more), so her
    # allowance, QUOTA * 500 / ~1,500 (about 33 VCR), covers a mint that locks at least
    # MIN_STAKE (about 1,500 / 181,480 VVV per right)
    alice_stake = 500 * E18
    top, siblings = synthetic_paths({position: _leaf(str(alice.address), alice_stake)}, 20)
    leaf = (alice.address, alice_stake, position, siblings[position])
    _at((e0 + 1) * DAY + 60)
    o.postReport(e0, 5_000, capacity, top[0], top[1], 1_000_000, sender=oracle)
    _at((e0 + 1) * DAY + 60 + 2 * 3_600)
    minted = E18
    rights.mint(minted, 2**256 - 1, leaf, sender=alice)
    rights.activate(minted, alice, sender=alice)
    _at((e0 + 2) * DAY + 60)
    o.postReport(e0 + 1, 5_000, capacity, top[0], top[1], 1_000_000, sender=oracle)
    _at((e0 + 2) * DAY + 600)
    tx = o.vcuAllocation.transact(e0 + 2, *leaf, sender=attacker)
    return [
        GasRow(
            "vcuAllocation (rights, 20-level proof)",
            tx.gas_used,
            RIGHTS_BUDGETS["vcuAllocation (rights, 20-level proof)"],
        )
    ]


def measure_rights(accounts: list) -> list[GasRow]:
    """Deploy token, staking (its locker: the rights contract), oracle and rights; four stakers
    and a live stream; the report of the epoch before posted and final, a 1,000,000-leaf tree
    holding the two minters' leaves (20-level proofs). Another account mints and activates
    first (so the measured first call is an account's first, not the contract's), then the minter's first and
    later mint, repay, activate to an agent and deactivate, each a block 10 minutes apart."""
    deployer, minter, other, _carol, guardian, notifier, oracle, treasury, agent, staker = accounts[:10]
    rcap = 20_000 * E18
    capacity = 181_480 * E18
    window = 2 * 3_600
    start = (chain.pending_timestamp // DAY + 1) * DAY + 3_600
    _at(start)
    first_epoch = start // DAY + 1
    rights_address = deployer.get_deployment_address(deployer.nonce + 3)
    token = project.VVVToken.deploy(deployer, notifier, sender=deployer)
    staking = project.VVVStaking.deploy(token, deployer, 3 * DAY, guardian, notifier, rights_address, sender=deployer)
    o = project.EpochOracle.deploy(
        staking, deployer, 3 * DAY, oracle, guardian, treasury, first_epoch, capacity,
        [100_000 * E18, 100_000_000 * E18, 5_000], window, sender=deployer,
    )  # fmt: skip
    rights = project.ComputeRights.deploy(staking, o, rcap, deployer, 3 * DAY, guardian, sender=deployer)
    t = first_epoch * DAY + 100
    stakes = {minter: 1_000 * E18, other: 1_000 * E18, staker: 2_000 * E18}
    for acct, amount in stakes.items():
        token.transfer(acct, amount, sender=deployer)
        token.approve(staking, amount, sender=acct)
        _at(t)
        t += 60
        staking.stake(amount, sender=acct)
    token.mint(staking, 38_000 * E18, sender=notifier)
    _at(t)
    staking.notifyRewards(38_000 * E18, sender=notifier)
    position = 777_776  # even: the two minters' leaves share a parent, each with 20 siblings
    pair = sorted((str(minter.address), str(other.address)), key=str.lower)
    leaves = {position + i: _leaf(a, stakes[minter if a == str(minter.address) else other]) for i, a in enumerate(pair)}
    top, siblings = synthetic_paths(leaves, 20)
    _at((first_epoch + 1) * DAY + 600)
    o.postReport(first_epoch, 5_000, capacity, top[0], top[1], 1_000_000, sender=oracle)

    def proof(acct) -> tuple:  # noqa: ANN001
        p = position + pair.index(str(acct.address))
        return (str(acct.address), stakes[acct], p, siblings[p])

    t = (first_epoch + 1) * DAY + 600 + window
    _at(t)
    rights.mint(5 * E18, 2**256 - 1, proof(other), sender=other)
    t += 60
    _at(t)
    rights.activate(E18, other, sender=other)  # the contract's first activation (its balance)
    step = _Steps(t)

    big = 2**256 - 1
    step("mint (first of an account, 20-level proof)", lambda: rights.mint(10 * E18, big, proof(minter), sender=minter))
    step("mint (later, 20-level proof)", lambda: rights.mint(10 * E18, big, proof(minter), sender=minter))
    step("repay (first of an account)", lambda: rights.repay(2 * E18, sender=minter))
    step("repay (later)", lambda: rights.repay(2 * E18, sender=minter))
    step("activate (first of an account)", lambda: rights.activate(4 * E18, agent, sender=minter))
    step("activate (later)", lambda: rights.activate(4 * E18, agent, sender=minter))
    step("deactivate (first of an account)", lambda: rights.deactivate(E18, agent, sender=minter))
    step("deactivate (later)", lambda: rights.deactivate(E18, agent, sender=minter))
    rows = [GasRow(name, tx.gas_used, RIGHTS_BUDGETS.get(name)) for name, tx in step.rows]
    return rows + measure_rights_allocation(accounts)
