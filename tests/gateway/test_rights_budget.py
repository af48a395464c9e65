"""The gateway's daily budget with compute rights (issue 23): an account's activated rights plus
its pool share, under the not-yet-known bridge and under the report, computed as the contract
does; an agent with rights and no stake is served its rights; rights + pool never exceed the
capacity. The world is `tests.oracle.test_free_stakes.locked` (alice 300 VVV with `LOCK` locked
for 10 VCU of rights activated for e2, 4 to herself and 6 to an agent; bob 100 VVV; both active).
Expected numbers: SPEC's formulas evaluated here from those amounts."""

from tests.helpers import CAPACITY, DAY, E18, mine_at, stake_at
from tests.oracle.test_free_stakes import AGENT, LOCK, TO_AGENT, TO_ALICE, locked, quiet  # noqa: F401 (fixture)
from vvv.gateway.allotments import ChainAllotments
from vvv.oracle.report import post_reports

POOL = CAPACITY - TO_ALICE - TO_AGENT
ACTIVE = 400 * E18 - LOCK  # free stakes of alice and bob: the active total and the free total


def expected() -> dict[str, int]:
    return {
        "alice": TO_ALICE + (300 * E18 - LOCK) * POOL // ACTIVE,
        "bob": 100 * E18 * POOL // ACTIVE,
        "agent": TO_AGENT,
    }


def budgets(allot: ChainAllotments, alice, bob, epoch: int) -> dict[str, int]:
    return {"alice": allot(alice.address, epoch), "bob": allot(bob.address, epoch), "agent": allot(AGENT, epoch)}


def test_budget_is_rights_plus_pool_under_the_bridge_and_the_report(locked, alice, bob, oracle):  # noqa: F811
    system, e2 = locked["system"], locked["e1"] + 1
    allot = ChainAllotments(system, locked["reports"], locked["store"])
    # 00:01 of e2, no report of e1 yet: not yet known, the bridge (min(expected, fallback) of
    # the pool; both are the free-stake share here, as only alice and bob are staked)
    mine_at(e2 * DAY + 60)
    assert int(system.oracle.allotmentSource(e2)) == 0
    got = budgets(allot, alice, bob, e2)
    assert got == expected()
    assert sum(got.values()) <= CAPACITY
    assert allot.rights(AGENT, e2) == (TO_AGENT, TO_ALICE + TO_AGENT)  # kept for the day
    # the report of e1, posted by the oracle's own code: the report source, the contract's numbers
    mine_at(e2 * DAY + 300)
    outcomes = post_reports(system, locked["store"], oracle, reports_dir=locked["reports"], echo=quiet)
    assert [(o.epoch, o.action) for o in outcomes][-1] == (e2 - 1, "posted")
    assert outcomes[-1].report.capacity == CAPACITY
    mine_at(e2 * DAY + 400)
    assert int(system.oracle.allotmentSource(e2)) == 1
    allot.compared.add(e2 - 1)  # compared below, in this thread
    got = budgets(allot, alice, bob, e2)
    assert got == expected()
    assert CAPACITY - 2 <= sum(got.values()) <= CAPACITY
    # the report this gateway expects (the oracle's builder on free stakes) is the posted one
    assert allot.compare(e2 - 1) is None and allot.alerts == []


def test_the_welcome_estimate_is_a_free_stake_share_of_todays_pool(locked, alice, carol, deployer, oracle):  # noqa: F811
    """The 402's "about N VCU at today's pool" (issue 21 item 6 with issue 23's pool): N = free
    stake x (capacity - today's activated rights) / (active free stake + free stake). Alice's
    locked stake has rights, not a pool share; carol stakes 50 VVV today."""
    system, e2 = locked["system"], locked["e1"] + 1
    allot = ChainAllotments(system, locked["reports"], locked["store"])
    mine_at(e2 * DAY + 300)
    post_reports(system, locked["store"], oracle, reports_dir=locked["reports"], echo=quiet)
    stake_at(system.token, system.staking, deployer, carol, 50 * E18, e2 * DAY + 400)
    assert allot.estimate(carol.address, e2) == 50 * E18 * POOL // (ACTIVE + 50 * E18)
    free = 300 * E18 - LOCK
    assert allot.estimate(alice.address, e2) == free * POOL // (ACTIVE + free)
    assert allot.estimate(AGENT, e2) == 0  # rights, no stake: no pool share
