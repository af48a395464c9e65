"""One allotment source per day (SPEC.md, EpochOracle, `vcuAllocation`): the day's source is
decided by facts stored on chain, so that the allotments served in a day add up to at most its
capacity in every honest timeline. Expected values are worked out by hand from the stakes of the
`stakers` fixture (alice 100, bob 300, carol 600 VVV; total 1,000) and the capacity 181,480 VCU."""

import os

import ape
import pytest
from ape import chain

from tests.contracts import test_sum_tree
from tests.contracts.test_sum_tree import SumTree
from tests.helpers import CAPACITY, DAY, E18, at, mine_at, post
from tests.passes import ANVIL, IN_PROCESS, only_in

g = test_sum_tree.g
stakers = test_sum_tree.stakers
NOT_YET_KNOWN, REPORT, FALLBACK = 0, 1, 2
DEADLINE = 3_600  # the default report deadline: 1 hour after the day's start
# the fallback shares: stake / 1,000 VVV of the capacity
FALLBACK_VCU = {"alice": 18_148 * E18, "bob": 54_444 * E18, "carol": 108_888 * E18}


def allotments(o, day, who, tree=None):
    """Each account's allotment of `day`, with its leaf in `tree` when it has one."""
    out = {}
    for name, account in who.items():
        entry = next((i for i, x in enumerate(tree.leaves) if x and x[0] == account.address), None) if tree else None
        if entry is None:
            out[name] = o.vcuAllocation(day, account, 0, 0, [])
        else:
            out[name] = o.vcuAllocation(day, account, tree.leaves[entry][1], entry, tree.siblings(entry))
    return out


@pytest.fixture
def who(alice, bob, carol):
    return {"alice": alice, "bob": bob, "carol": carol}


@pytest.fixture
def active(alice, carol):
    """A report's active set: alice and carol (700 VVV), bob not active."""
    return SumTree.honest({alice.address: 100 * E18, carol.address: 600 * E18})


def test_audit_day_serves_at_most_the_capacity(system, oracle, who, active, stakers, g):
    """The audit's day: from 00:00 until the report of the day before is posted, the old code gave
    every staker the fallback share (181,480 VCU in all), then the report gave the active stakers
    the whole capacity again: 344,812 of 181,480. Now the minutes before the report serve nothing
    and the report serves the day: the most each account can be served adds up to the capacity."""
    o, day = system.oracle, g + 1
    served = dict.fromkeys(who, 0)
    for t in (day * DAY, day * DAY + 60, day * DAY + 299):
        mine_at(t)
        assert o.allotmentSource(day) == NOT_YET_KNOWN
        for name, vcu in allotments(o, day, who, active).items():
            served[name] = max(served[name], vcu)
    assert served == dict.fromkeys(who, 0)
    post(system, oracle, g, 5_000, day * DAY + 300, root=active.root, total=700 * E18, count=2)
    for t in (day * DAY + 301, day * DAY + DEADLINE, (day + 1) * DAY - 1):
        mine_at(t)
        assert o.allotmentSource(day) == REPORT
        for name, vcu in allotments(o, day, who, active).items():
            served[name] = max(served[name], vcu)
    # alice 100/700 and carol 600/700 of 181,480 VCU, floored; bob is not active
    assert served == {"alice": 181_480 * E18 // 7, "bob": 0, "carol": 181_480 * E18 * 6 // 7}
    assert sum(served.values()) <= CAPACITY
    assert CAPACITY - sum(served.values()) == 1  # the two floors lose one wei


def test_no_report_by_the_deadline_turns_the_day_to_the_fallback(system, oracle, who, active, stakers, g):
    o, day = system.oracle, g + 1
    mine_at(day * DAY + DEADLINE - 1)
    assert o.allotmentSource(day) == NOT_YET_KNOWN
    assert allotments(o, day, who) == dict.fromkeys(who, 0)
    mine_at(day * DAY + DEADLINE)
    assert o.allotmentSource(day) == FALLBACK
    assert allotments(o, day, who) == FALLBACK_VCU
    assert sum(FALLBACK_VCU.values()) == CAPACITY
    # the report posted late sets utilization and capacity, but the day stays on the fallback
    post(system, oracle, g, 5_000, day * DAY + DEADLINE + 1, root=active.root, total=700 * E18, count=2)
    assert o.allotmentSource(day) == FALLBACK
    assert allotments(o, day, who, active) == FALLBACK_VCU
    assert o.report(g)[0] == 5_000
    assert o.allotmentSource(day + 1) == NOT_YET_KNOWN  # tomorrow has not started


def test_a_report_rejected_mid_day_turns_the_day_to_the_fallback_for_good(
    system, oracle, guardian, who, active, stakers, g
):
    o, day = system.oracle, g + 1
    post(system, oracle, g, 0, day * DAY + 60, root=active.root, total=700 * E18, count=2)
    mine_at(day * DAY + 61)
    assert o.allotmentSource(day) == REPORT
    assert allotments(o, day, who, active)["bob"] == 0
    at(day * DAY + 600)
    o.reject(g, sender=guardian)
    assert o.allotmentSource(day) == FALLBACK
    assert allotments(o, day, who, active) == FALLBACK_VCU
    # a corrected report, even before the deadline, never moves the day back
    honest = SumTree.honest({a.address: s for a, s in stakers.items()})
    post(system, oracle, g, 0, day * DAY + 700, root=honest.root, total=1_000 * E18, count=3)
    assert o.reportRecord(g)[0] == 2  # version 2
    assert o.allotmentSource(day) == FALLBACK
    assert allotments(o, day, who, honest) == FALLBACK_VCU


def test_the_fallback_capacity_is_fixed_when_the_day_starts(system, oracle, guardian, who, stakers, g):
    o, day = system.oracle, g + 1
    new_capacity = 200_000 * E18  # +10.2 %, within the default 50 % step
    # no report of g by day g+1's deadline: fallback at the initial capacity
    mine_at(day * DAY + DEADLINE)
    assert o.fallbackCapacity(day) == CAPACITY
    # the late report of g carries a new capacity: day g+1 keeps the one it started with
    post(system, oracle, g, 0, day * DAY + DEADLINE + 10, capacity=new_capacity)
    assert o.lastCapacity() == new_capacity
    assert o.fallbackCapacity(day) == CAPACITY
    assert allotments(o, day, who) == FALLBACK_VCU
    # day g+2 starts with the new capacity; its source waits for the report of g+1
    mine_at((day + 1) * DAY + DEADLINE)
    assert o.fallbackCapacity(day + 1) == new_capacity
    assert o.vcuAllocation(day + 1, who["carol"], 0, 0, []) == new_capacity * 600 // 1_000
    # a report rejected after the day started does not change that day's fallback capacity
    post(system, oracle, g + 1, 0, (day + 1) * DAY + DEADLINE + 10, capacity=CAPACITY)
    at((day + 1) * DAY + DEADLINE + 20)
    o.reject(g + 1, sender=guardian)
    assert o.lastCapacity() == new_capacity
    assert o.fallbackCapacity(day + 1) == new_capacity
    assert o.fallbackCapacity(day + 2) == 0  # not started


def test_report_deadline_bounds_and_next_epoch_rule(system, deployer, attacker, g):
    o = system.oracle
    assert o.reportDeadline() == DEADLINE
    with ape.reverts(o.InvalidReportDeadline, reportDeadline=1_799, minimum=1_800, maximum=21_600):
        o.setReportDeadline(1_799, sender=deployer)
    with ape.reverts(o.InvalidReportDeadline, reportDeadline=21_601, minimum=1_800, maximum=21_600):
        o.setReportDeadline(21_601, sender=deployer)
    with ape.reverts():
        o.setReportDeadline(7_200, sender=attacker)
    at(g * DAY + 500)
    tx = o.setReportDeadline(7_200, sender=deployer)
    (event,) = tx.decode_logs(o.ReportDeadlineUpdated)
    assert (event.reportDeadline, event.fromEpoch) == (7_200, g + 1)
    # today keeps its deadline; tomorrow has the new one
    assert o.reportDeadline() == DEADLINE
    assert o.reportDeadlineOf(g) == DEADLINE
    assert o.reportDeadlineOf(g + 1) == 7_200
    # a second change on the same day replaces tomorrow's, not today's
    at(g * DAY + 600)
    o.setReportDeadline(1_800, sender=deployer)
    assert (o.reportDeadlineOf(g), o.reportDeadlineOf(g + 1)) == (DEADLINE, 1_800)
    mine_at((g + 1) * DAY)
    assert o.reportDeadline() == 1_800


def test_a_day_with_the_new_deadline(system, oracle, deployer, who, stakers, g):
    o, day = system.oracle, g + 1
    at(g * DAY + 500)
    o.setReportDeadline(1_800, sender=deployer)
    mine_at(day * DAY + 1_799)
    assert o.allotmentSource(day) == NOT_YET_KNOWN
    mine_at(day * DAY + 1_800)
    assert o.allotmentSource(day) == FALLBACK


def test_days_before_the_first_report_use_the_fallback(system, who, stakers, g):
    o = system.oracle
    # no report of g - 1 can ever exist: day g uses the fallback at once
    mine_at(g * DAY)
    assert o.allotmentSource(g) == FALLBACK
    assert allotments(o, g, who) == FALLBACK_VCU
    assert o.allotmentSource(0) == NOT_YET_KNOWN


# ------------------------------------------------------------------ the oracle is never its own judge


def test_oracle_and_guardian_roles_never_meet(system, deployer, oracle, guardian, accounts):
    o = system.oracle
    with ape.reverts(o.OracleAndGuardianMustDiffer, account=oracle):
        o.grantRole(o.GUARDIAN_ROLE(), oracle, sender=deployer)
    with ape.reverts(o.OracleAndGuardianMustDiffer, account=guardian):
        o.grantRole(o.ORACLE_ROLE(), guardian, sender=deployer)
    # either order: a fresh key made guardian first cannot then post reports
    fresh = accounts[8]
    o.grantRole(o.GUARDIAN_ROLE(), fresh, sender=deployer)
    with ape.reverts(o.OracleAndGuardianMustDiffer, account=fresh):
        o.grantRole(o.ORACLE_ROLE(), fresh, sender=deployer)


def test_constructor_refuses_the_oracle_as_guardian(project, system, deployer, oracle, treasury):
    with ape.reverts(project.EpochOracle.OracleAndGuardianMustDiffer, account=oracle):
        project.EpochOracle.deploy(
            system.staking, deployer, 3 * DAY, oracle, oracle, treasury, 10**6, CAPACITY,
            [1_000 * E18, 10**8 * E18, 5_000], 7_200, sender=deployer,
        )  # fmt: skip


def test_deploy_system_refuses_the_oracle_as_guardian_before_sending(deployer, oracle, treasury):
    from vvv.chain.deployment import DeploymentError, deploy_system

    nonce = deployer.nonce
    with pytest.raises(DeploymentError) as err:
        deploy_system(deployer, treasury=treasury, oracle=oracle, guardian=oracle, record=False)
    assert str(err.value) == (
        f"the guardian {oracle.address} is the oracle: the key that posts reports can never be the one that "
        "rejects them"
    )
    assert deployer.nonce == nonce


# ------------------------------------------------------------------ the off-chain copy of the rule


# `make test` (tools/run_suites.sh sets VVV_FUZZ_SPLIT=1) runs each timeline in one of its two
# passes, as the stateful tests split their examples: both chains run the test, the three
# timelines run once (they were 27 s each in-process and 15 s on anvil, under load).
TIMELINE_PASS = {0: IN_PROCESS, 1: ANVIL, 2: ANVIL}


@pytest.fixture
def in_its_pass(seed):
    """Skips a timeline outside its pass in `make test` (before the test's other fixtures)."""
    if os.environ.get("VVV_FUZZ_SPLIT") == "1":
        only_in(TIMELINE_PASS[seed], "each random timeline runs on one of the two chains")


@pytest.mark.parametrize("seed", range(3))
def test_the_python_rule_matches_the_contract_on_random_timelines(
    in_its_pass, system, oracle, guardian, deployer, stakers, g, seed, page_rule
):
    """`vvv.chain.epochs.allotment_source` (the one Python copy of the rule, used by the CLI and the
    gateway) and `allotmentSource` of web/src/source.ts (the page's copy) against the contract's
    on random timelines: reports posted early or late, rejected, re-posted; deadline changes; the
    source of every day compared at every step."""
    import random

    from vvv.chain.epochs import allotment_source, read_day_facts

    o, rng = system.oracle, random.Random(seed)
    now = g * DAY + 100
    next_epoch = g
    checked = 0
    cases = []  # (facts, time, the contract's source) for the TypeScript copy
    for _ in range(30):
        now += rng.choice([60, 600, 1_799, 1_800, 3_599, 3_600, 7_200, 20_000, 50_000])
        action = rng.random()
        current = now // DAY
        if action < 0.5 and next_epoch < current:
            post(system, oracle, next_epoch, 0, now)
            next_epoch += 1
        elif action < 0.7 and next_epoch > g and now < o.report(next_epoch - 1).finalAt:
            at(now)
            o.reject(next_epoch - 1, sender=guardian)
            next_epoch -= 1
        elif action < 0.8:
            at(now)
            o.setReportDeadline(rng.choice([1_800, 3_600, 21_600]), sender=deployer)
        else:
            mine_at(now)
        head = chain.blocks.head.timestamp
        for epoch in range(g - 1, current + 2):
            facts, on_chain = read_day_facts(o, epoch), int(o.allotmentSource(epoch))
            assert allotment_source(facts, head) == on_chain, (epoch, head)
            cases.append((facts, head, on_chain))
            checked += 1
    assert checked >= 30 * 3
    # the page's copy (web/src/source.ts), compiled by the project's tsc and run by node
    labels = ["not yet known", "report", "fallback"]
    assert typescript_sources(page_rule, cases) == [labels[c] for _, _, c in cases]


@pytest.fixture(scope="module")
def page_rule(tmp_path_factory):
    """web/src/source.ts compiled by the project's tsc, once for the module's timelines: the
    path of its ES module."""
    import subprocess
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    out = tmp_path_factory.mktemp("source-ts")
    subprocess.run(
        [root / "node_modules/.bin/tsc", root / "web/src/source.ts", "--outDir", out, "--module", "es2022",
         "--target", "es2022"],
        check=True, capture_output=True,
    )  # fmt: skip
    return (out / "source.js").rename(out / "source.mjs")


def typescript_sources(module, cases) -> list[str]:
    """`allotmentSource` of the compiled web/src/source.ts (`module`) on each `(facts, now, _)`,
    through node."""
    import json
    import subprocess

    rows = [
        {"epoch": f.epoch, "firstEpoch": f.first_epoch, "postedAt": f.posted_at, "version": f.version,
         "rejected": f.rejected, "deadline": f.deadline, "now": now}
        for f, now, _ in cases
    ]  # fmt: skip
    script = (
        f"import {{ allotmentSource }} from {json.dumps(str(module))};\n"
        "import { readFileSync } from 'node:fs';\n"
        "const rows = JSON.parse(readFileSync(0, 'utf8'));\n"
        "console.log(JSON.stringify(rows.map((r) => allotmentSource(r, r.now))));\n"
    )
    result = subprocess.run(
        ["node", "--input-type=module", "-e", script], input=json.dumps(rows), capture_output=True, text=True,
        check=True,
    )  # fmt: skip
    return json.loads(result.stdout)
