"""ComputeRights (issue 23, part 3; not wired into the oracle's allotments yet): mint against the
final report of the day before with the caller's leaf, the price (checked against SPEC's formula
in exact rationals here), the floor, the allowance per account and report, the cap, repay,
activation from the next epoch, reclaim, pause.

World: RCAP 2,000 VCU (QUOTA 100 VCU a day); capacity 181,480 VCU; alice 300 and bob 100 VVV
staked and active (leaves of the report), carol 20,000 VVV staked and not active (so the floor,
5% of the 20,400 free = 1,020 VVV, is above the 400 active: the price's base is 1,020 VVV)."""

from fractions import Fraction
from math import ceil

import ape
import pytest

from tests.helpers import CAPACITY, DAY, E18, at, mine_at, stake_at
from tests.sumtree_reference import ref_levels, ref_proof, ref_root

RCAP = 2_000 * E18
MIN_STAKE = 10**15
QUOTA = RCAP // 20
MIN_CAPACITY = 100_000 * E18
WINDOW = 2 * 3_600
STAKES = {"alice": 300 * E18, "bob": 100 * E18, "carol": 20_000 * E18}
ACTIVE = ("alice", "bob")


def price(n: int, r: int, m: int, total_active: int, total_free: int, capacity: int = CAPACITY) -> int:
    """SPEC's quoteMint, exact, rounded up once."""
    t_eff = max(Fraction(total_active), Fraction(total_free * 500, 10_000))
    return ceil(t_eff * (2 * RCAP * n + 3 * n * (2 * r + 2 * m + n)) / (2 * RCAP * (capacity - r)))


@pytest.fixture
def world(project, deployer, alice, bob, carol, guardian, notifier, oracle, treasury, attacker, chain):
    """Token, staking (locker: the rights contract), oracle and rights, deployed in that order;
    the three stakes in the first epoch; the report of that epoch posted 10 minutes into the
    next one (its allotment source: the report), final 2 hours later at `final_at`. Made for
    each test: made once per module, its clock moves broke the in-process chain of the modules
    after it (their time travel refused as "before the parent block")."""
    start = (chain.pending_timestamp // DAY + 1) * DAY + 3_600
    at(start)
    first_epoch = start // DAY + 1
    nonce = deployer.nonce
    rights_address = deployer.get_deployment_address(nonce + 3)
    token = project.VVVToken.deploy(deployer, notifier, sender=deployer)
    staking = project.VVVStaking.deploy(token, deployer, 3 * DAY, guardian, notifier, rights_address, sender=deployer)
    o = project.EpochOracle.deploy(
        staking, deployer, 3 * DAY, oracle, guardian, treasury, first_epoch, CAPACITY,
        [MIN_CAPACITY, 100_000_000 * E18, 5_000], WINDOW, sender=deployer,
    )  # fmt: skip
    rights = project.ComputeRights.deploy(staking, o, RCAP, deployer, 3 * DAY, guardian, sender=deployer)
    assert rights.address == rights_address
    people = {"alice": alice, "bob": bob, "carol": carol}
    t = first_epoch * DAY + 100
    for name, amount in STAKES.items():
        stake_at(token, staking, deployer, people[name], amount, t)
        t += 10
    leaves = sorted(((people[n].address, STAKES[n]) for n in ACTIVE), key=lambda p: p[0].lower())
    at((first_epoch + 1) * DAY + 600)
    o.postReport(first_epoch, 5_000, CAPACITY, ref_root(leaves), 400 * E18, 2, sender=oracle)
    levels = ref_levels(leaves)

    def leaf(who):
        position = next(i for i, (a, _) in enumerate(leaves) if a == who.address)
        return (who.address, leaves[position][1], position, ref_proof(levels, position))

    return {"token": token, "staking": staking, "oracle": o, "rights": rights, "leaf": leaf, "root": ref_root(leaves),
            "epoch": first_epoch + 1, "final_at": (first_epoch + 1) * DAY + 600 + WINDOW}  # fmt: skip


@pytest.fixture
def w(world):
    mine_at(world["final_at"])  # views (quoteMint) see the report final
    return world


def base_price(n: int, r: int = 0, m: int = 0) -> int:
    return price(n, r, m, 400 * E18, sum(STAKES.values()))


# ------------------------------------------------------------------ mint


def test_mint_locks_the_quoted_stake(w, alice):
    rights, staking = w["rights"], w["staking"]
    n = 10 * E18
    expected = base_price(n)
    assert rights.quoteMint(n) == expected
    tx = rights.mint(n, expected, w["leaf"](alice), sender=alice)
    assert rights.RightsMinted(account=alice, epoch=w["epoch"], rights=n, locked=expected) in tx.events
    assert staking.StakeLocked(account=alice, amount=expected, lockedAfter=expected) in tx.events
    assert rights.balanceOf(alice) == rights.totalSupply() == n
    assert rights.positionOf(alice) == (n, expected)
    assert (staking.lockedOf(alice), staking.freeStakeOf(alice)) == (expected, 300 * E18 - expected)
    assert staking.stakeOf(alice) == 300 * E18
    # The floor applies here: 5% of the 20,400 VVV free (1,020 VVV) is above the 400 active.
    assert expected == ceil(Fraction(1_020 * E18) * (2 * RCAP * n + 3 * n * n) / (2 * RCAP * CAPACITY))
    assert expected > price(n, 0, 0, 400 * E18, 0)


def test_second_mint_of_the_day_pays_the_integral_on(w, alice, bob):
    # bob mints 5 after alice's 10: his price starts where hers ended (mintedToday = 10),
    # while R_start stays 0. Together they cost what 15 at once costs, up to the rounding.
    rights = w["rights"]
    first = base_price(10 * E18)
    rights.mint(10 * E18, first, w["leaf"](alice), sender=alice)
    assert rights.today() == (0, 10 * E18)
    second = rights.quoteMint(5 * E18)
    assert second == base_price(5 * E18, 0, 10 * E18)
    rights.mint(5 * E18, second, w["leaf"](bob), sender=bob)
    whole = base_price(15 * E18)
    assert whole <= first + second <= whole + 1


def test_no_mint_before_the_report_is_final(world, alice):
    at(world["final_at"] - 1)
    rights = world["rights"]
    with ape.reverts(rights.NoFinalReport, epoch=world["epoch"], source=1, final_=False):
        rights.mint(E18, 2**256 - 1, world["leaf"](alice), sender=alice)


def test_no_mint_on_a_fallback_day(world, alice, guardian):
    # The guardian rejects the report during its window: the day's source is the fallback.
    at(world["final_at"] - 60)
    world["oracle"].reject(world["epoch"] - 1, sender=guardian)
    at(world["final_at"] + 60)
    rights = world["rights"]
    with ape.reverts(rights.NoFinalReport, epoch=world["epoch"], source=2, final_=False):
        rights.mint(E18, 2**256 - 1, world["leaf"](alice), sender=alice)


def test_mint_needs_the_callers_own_valid_leaf(w, alice, bob):
    rights = w["rights"]
    account, stake, position, siblings = w["leaf"](bob)
    for leaf in (
        (account, stake, position, siblings),  # bob's leaf, sent by alice
        (alice.address, stake, position, siblings),  # alice with bob's path
        (*w["leaf"](alice)[:3], []),  # too short a path
    ):
        with ape.reverts(rights.InvalidLeaf, account=alice, position=leaf[2]):
            rights.mint(E18, 2**256 - 1, leaf, sender=alice)


def test_allowance_per_account_and_report(w, world, alice, bob, oracle, chain):
    # alice's leaf is 300 of 400: 75 of the 100 VCU quota; bob 25.
    rights = w["rights"]
    rights.mint(70 * E18, 2**256 - 1, w["leaf"](alice), sender=alice)
    with ape.reverts(rights.AllowanceExceeded, account=alice, rights=5 * E18 + 1, mintedBefore=70 * E18,
                     allowance=75 * E18):  # fmt: skip
        rights.mint(5 * E18 + 1, 2**256 - 1, w["leaf"](alice), sender=alice)
    rights.mint(5 * E18, 2**256 - 1, w["leaf"](alice), sender=alice)
    with ape.reverts(rights.AllowanceExceeded, account=bob, rights=25 * E18 + 1, mintedBefore=0, allowance=25 * E18):
        rights.mint(25 * E18 + 1, 2**256 - 1, w["leaf"](bob), sender=bob)
    rights.mint(25 * E18, 2**256 - 1, w["leaf"](bob), sender=bob)
    assert rights.mintedInEpoch(alice, w["epoch"]) == 75 * E18
    assert rights.totalSupply() == QUOTA  # the day's quota, all of it, shared by stake


def test_cap_follows_half_the_minimum_capacity(w, deployer, alice):
    # The oracle's admin lowers minCapacity to 20 VCU (+2 wei): at most 10 VCU (+1 wei) of
    # rights can be out, whatever RCAP allows.
    rights = w["rights"]
    w["oracle"].setCapacityBounds(20 * E18 + 2, 100_000_000 * E18, 5_000, sender=deployer)
    rights.mint(6 * E18, 2**256 - 1, w["leaf"](alice), sender=alice)
    with ape.reverts(rights.CapExceeded, rights=4 * E18 + 2, outstanding=6 * E18, limit=10 * E18 + 1):
        rights.mint(4 * E18 + 2, 2**256 - 1, w["leaf"](alice), sender=alice)
    rights.mint(4 * E18 + 1, 2**256 - 1, w["leaf"](alice), sender=alice)


def test_cap_is_reached_after_twenty_full_days(w, alice, bob, oracle):
    # Each day alice and bob mint their whole allowance (75 + 25 = the 100 VCU quota) against
    # that day's report: after 20 days the 2,000 VCU cap is out, and nothing more can be minted
    # on day 21 even with a fresh allowance.
    rights, o, e = w["rights"], w["oracle"], w["epoch"]
    for day in range(21):
        if day:
            at((e + day) * DAY + 600)
            o.postReport(e + day - 1, 5_000, CAPACITY, w["root"], 400 * E18, 2, sender=oracle)
            at((e + day) * DAY + 600 + WINDOW)
        if day == 20:
            break
        rights.mint(75 * E18, 2**256 - 1, w["leaf"](alice), sender=alice)
        rights.mint(25 * E18, 2**256 - 1, w["leaf"](bob), sender=bob)
    assert rights.totalSupply() == RCAP
    with ape.reverts(rights.CapExceeded, rights=1, outstanding=RCAP, limit=RCAP):
        rights.mint(1, 2**256 - 1, w["leaf"](alice), sender=alice)


def test_repays_never_unlock_more_than_the_mint_locked(w, alice):
    # A mint of 7 VCU, repaid in uneven parts (1 wei, 2 VCU + 1 wei, 1 VCU, the rest): each part
    # unlocks its share rounded down, the last what is left, and the sum is exactly the lock.
    rights, staking = w["rights"], w["staking"]
    rights.mint(7 * E18, 2**256 - 1, w["leaf"](alice), sender=alice)
    _, locked = rights.positionOf(alice)
    unlocked = 0
    for part in (1, 2 * E18 + 1, E18, 4 * E18 - 2):
        minted, still = rights.positionOf(alice)
        tx = rights.repay(part, sender=alice)
        (event,) = [ev for ev in tx.events if ev.event_name == "RightsRepaid"]
        assert event.unlocked == still * part // minted
        unlocked += event.unlocked
        assert unlocked <= locked
    assert unlocked == locked and staking.lockedOf(alice) == 0


def test_price_above_max_lock_is_refused(w, alice):
    rights = w["rights"]
    quote = rights.quoteMint(E18)
    with ape.reverts(rights.PriceAboveMaxLock, price=quote, maxLock=quote - 1):
        rights.mint(E18, quote - 1, w["leaf"](alice), sender=alice)


# ------------------------------------------------------------------ repay


def test_repay_unlocks_its_share_rounded_down(w, alice):
    rights, staking = w["rights"], w["staking"]
    rights.mint(3 * E18, 2**256 - 1, w["leaf"](alice), sender=alice)
    minted, locked = rights.positionOf(alice)
    tx = rights.repay(E18, sender=alice)
    share = locked * E18 // (3 * E18)  # floor: toward the protocol
    assert rights.RightsRepaid(account=alice, rights=E18, unlocked=share) in tx.events
    assert rights.positionOf(alice) == (2 * E18, locked - share)
    rights.repay(2 * E18, sender=alice)  # the rest of the position: all that is still locked
    assert rights.positionOf(alice) == (0, 0)
    assert staking.lockedOf(alice) == 0 and staking.freeStakeOf(alice) == 300 * E18
    assert rights.totalSupply() == 0


def test_a_buyer_cannot_repay(w, alice, bob):
    rights = w["rights"]
    rights.mint(2 * E18, 2**256 - 1, w["leaf"](alice), sender=alice)
    rights.transfer(bob, E18, sender=alice)
    with ape.reverts(rights.ExceedsPosition, account=bob, rights=E18, minted=0):
        rights.repay(E18, sender=bob)
    # alice's position is 2, her balance 1: she repays with what she holds
    with ape.reverts(rights.ERC20InsufficientBalance):
        rights.repay(2 * E18, sender=alice)
    rights.repay(E18, sender=alice)


# ------------------------------------------------------------------ activation


def test_activation_counts_from_the_next_epoch(w, alice, carol):
    rights, e = w["rights"], w["epoch"]
    rights.mint(5 * E18, 2**256 - 1, w["leaf"](alice), sender=alice)
    tx = rights.activate(3 * E18, carol, sender=alice)  # an agent's address
    assert rights.RightsActivated(caller=alice, account=carol, rights=3 * E18, fromEpoch=e + 1) in tx.events
    assert (rights.activatedAt(carol, e), rights.activatedAt(carol, e + 1)) == (0, 3 * E18)
    assert (rights.totalActivatedAt(e), rights.totalActivatedAt(e + 1)) == (0, 3 * E18)
    assert rights.balanceOf(alice) == 2 * E18  # active rights sit in the contract: not transferable
    with ape.reverts(rights.ERC20InsufficientBalance):
        rights.transfer(carol, 3 * E18, sender=alice)
    at((e + 1) * DAY + 10)
    with ape.reverts(rights.ExceedsActivation, caller=carol, account=carol, rights=E18, activated=0):
        rights.deactivate(E18, carol, sender=carol)
    rights.deactivate(E18, carol, sender=alice)
    # epoch e+1 is fixed: still 3; from e+2 on, 2
    assert (rights.activatedAt(carol, e + 1), rights.activatedAt(carol, e + 2)) == (3 * E18, 2 * E18)
    assert rights.totalActivatedAt(e + 2) == 2 * E18
    with ape.reverts(rights.NothingToReclaim, caller=alice):
        rights.reclaim(sender=alice)
    at((e + 2) * DAY)
    assert rights.RightsReclaimed(caller=alice, rights=E18) in rights.reclaim(sender=alice).events
    assert rights.balanceOf(alice) == 3 * E18


# ------------------------------------------------------------------ pause and roles


def test_pause_stops_mints_only(w, alice, carol, guardian, attacker):
    rights = w["rights"]
    rights.mint(2 * E18, 2**256 - 1, w["leaf"](alice), sender=alice)
    with ape.reverts(rights.AccessControlUnauthorizedAccount, account=attacker, neededRole=rights.GUARDIAN_ROLE()):
        rights.pause(sender=attacker)
    rights.pause(sender=guardian)
    with ape.reverts(rights.EnforcedPause):
        rights.mint(E18, 2**256 - 1, w["leaf"](alice), sender=alice)
    rights.activate(E18, carol, sender=alice)
    rights.deactivate(E18, carol, sender=alice)
    rights.repay(E18, sender=alice)
    assert rights.positionOf(alice)[0] == E18


def test_token_metadata_and_immutables(w):
    rights = w["rights"]
    assert (rights.name(), rights.symbol(), rights.decimals()) == ("Venice Compute Right", "VCR", 18)
    assert (rights.RCAP(), rights.QUOTA(), rights.FLOOR_BPS()) == (RCAP, QUOTA, 500)
    assert rights.staking() == w["staking"].address and rights.oracle() == w["oracle"].address
    assert w["staking"].hasRole(w["staking"].LOCKER_ROLE(), rights)


# ------------------------------------------------------------------ review findings (issue 23)


def test_repay_is_never_blocked_by_the_minimum_stake(w, alice):
    # alice mints 10 VCU, then unstakes all her free stake: free 0. Repaying 0.1 VCU has a
    # share of locked / 100 (below MIN_STAKE): unlocking it would leave a free stake below the
    # minimum, so this repay burns the rights and unlocks nothing; the rest of the position
    # then returns all of the lock.
    rights, staking = w["rights"], w["staking"]
    n = 10 * E18
    locked = base_price(n)
    rights.mint(n, locked, w["leaf"](alice), sender=alice)
    staking.requestUnstake(300 * E18 - locked, sender=alice)
    assert staking.freeStakeOf(alice) == 0
    assert 0 < locked // 100 < MIN_STAKE
    tx = rights.repay(n // 100, sender=alice)
    assert rights.RightsRepaid(account=alice, rights=n // 100, unlocked=0) in tx.events
    assert rights.positionOf(alice) == (n - n // 100, locked)
    tx = rights.repay(n - n // 100, sender=alice)
    assert rights.RightsRepaid(account=alice, rights=n - n // 100, unlocked=locked) in tx.events
    assert rights.positionOf(alice) == (0, 0)
    assert (staking.freeStakeOf(alice), staking.lockedOf(alice)) == (locked, 0)


def test_a_partial_repay_keeps_the_minimum_locked(w, alice):
    # 3 VCU minted, 3 VCU - 1 wei repaid: the share (locked - locked / 3e18, floored) would
    # leave less than MIN_STAKE locked, so MIN_STAKE stays; the last wei returns it.
    rights, staking = w["rights"], w["staking"]
    n = 3 * E18
    rights.mint(n, 2**256 - 1, w["leaf"](alice), sender=alice)
    locked = staking.lockedOf(alice)
    assert locked - locked * (n - 1) // n < MIN_STAKE
    tx = rights.repay(n - 1, sender=alice)
    assert rights.RightsRepaid(account=alice, rights=n - 1, unlocked=locked - MIN_STAKE) in tx.events
    tx = rights.repay(1, sender=alice)
    assert rights.RightsRepaid(account=alice, rights=1, unlocked=MIN_STAKE) in tx.events
    assert staking.lockedOf(alice) == 0 and staking.freeStakeOf(alice) == 300 * E18


def test_a_lock_below_the_minimum_stake_is_refused(w, alice):
    # 1 wei of rights costs 1 wei of stake (rounded up): a position must lock MIN_STAKE or more.
    rights, staking = w["rights"], w["staking"]
    assert rights.quoteMint(1) == 1
    with ape.reverts(staking.BelowMinimumStake, amount=1, minimum=MIN_STAKE):
        rights.mint(1, 2**256 - 1, w["leaf"](alice), sender=alice)


def test_vcr_sent_to_the_contract_is_refused(w, alice, bob):
    rights = w["rights"]
    rights.mint(2 * E18, 2**256 - 1, w["leaf"](alice), sender=alice)
    with ape.reverts(rights.ERC20InvalidReceiver, receiver=rights.address):
        rights.transfer(rights, E18, sender=alice)
    rights.approve(bob, E18, sender=alice)
    with ape.reverts(rights.ERC20InvalidReceiver, receiver=rights.address):
        rights.transferFrom(alice, rights, E18, sender=bob)
    assert rights.balanceOf(alice) == 2 * E18 and rights.balanceOf(rights) == 0


def test_quote_mint_refuses_while_the_report_is_not_final(world):
    mine_at(world["final_at"] - 1)
    rights = world["rights"]
    with ape.reverts(rights.NoFinalReport, epoch=world["epoch"], source=1, final_=False):
        rights.quoteMint(E18)


def test_constructor_checks_its_wiring(w, project, deployer, guardian, notifier, oracle, treasury):
    rights, staking, o = w["rights"], w["staking"], w["oracle"]
    # an oracle that reads another staking contract
    none = "0x" + "00" * 20
    other = project.VVVStaking.deploy(w["token"], deployer, 3 * DAY, guardian, notifier, none, sender=deployer)
    other_oracle = project.EpochOracle.deploy(
        other, deployer, 3 * DAY, oracle, guardian, treasury, w["epoch"], CAPACITY,
        [MIN_CAPACITY, 100_000_000 * E18, 5_000], WINDOW, sender=deployer,
    )  # fmt: skip
    with ape.reverts(project.ComputeRights.OracleStakingMismatch, oracleStaking=other.address):
        project.ComputeRights.deploy(staking, other_oracle, RCAP, deployer, 3 * DAY, guardian, sender=deployer)
    # the right oracle, but a staking contract whose locker is another rights contract
    with ape.reverts(project.ComputeRights.NotTheLocker, locker=rights.address):
        project.ComputeRights.deploy(staking, o, RCAP, deployer, 3 * DAY, guardian, sender=deployer)
