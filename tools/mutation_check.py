"""Break one invariant on purpose at a time and check that the stateful test catches it.

    .venv/bin/python tools/mutation_check.py [NAME ...]

Each mutation edits one contract in place, runs its tests (tests/contracts/test_stateful.py, or
for a challenge's check tests/contracts/test_sum_tree.py, for the day's source
tests/contracts/test_day_source.py, for data requests tests/contracts/test_data_requests.py, for
compute rights tests/contracts/test_compute_rights.py, test_staking_locks.py or
test_rights_allotments.py) on the in-process chain, and restores
the file (also on Ctrl-C). Prints one line per mutation: CAUGHT (the tests failed) or MISSED.
Exit code 1 if any was missed."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STATEFUL = "tests/contracts/test_stateful.py"
SUM_TREE = "tests/contracts/test_sum_tree.py"
ORACLE = "contracts/EpochOracle.sol"
REQUESTS = "contracts/DataRequests.sol"
DAY_SOURCE = "tests/contracts/test_day_source.py"
DATA = "tests/contracts/test_data_requests.py"
RIGHTS = "contracts/ComputeRights.sol"
RIGHTS_TESTS = "tests/contracts/test_compute_rights.py"

MUTATIONS = {
    "no-carry-of-unstaked-rewards": (
        "contracts/VVVStaking.sol",
        "            _carryScaled += unstaked;\n            emit UnstakedRewardsCarried(unstaked);\n        }\n    }",
        "            emit UnstakedRewardsCarried(unstaked);\n        }\n    }",
    ),
    "distribute-not-once-only": (
        "contracts/EmissionsController.sol",
        "        if (_distributed.get(epoch)) revert AlreadyDistributed(epoch);\n",
        "",
    ),
    "withdraw-before-unlock": (
        "contracts/VVVStaking.sol",
        "        if (block.timestamp < unlockTime) revert RequestNotMatured(requestId, unlockTime);\n",
        "",
    ),
    "withdraw-twice": (
        "contracts/VVVStaking.sol",
        "        uint256 amount = request.amount;\n        request.unlockTime = 0;\n"
        "        _queue.totalUnbonding -= uint120(amount);\n        emit Withdrawn",
        "        uint256 amount = request.amount;\n"
        "        _queue.totalUnbonding -= uint120(amount);\n        emit Withdrawn",
    ),
    "rejected-report-counts-as-final": (
        "contracts/EpochOracle.sol",
        "        if (epoch >= head.nextEpoch) return Status.Rejected;\n        return block.timestamp",
        "        return block.timestamp",
    ),
    "reports-out-of-order": (
        "contracts/EpochOracle.sol",
        "            revert EpochOutOfOrder(epoch, next);\n",
        "",
    ),
    "active-stake-unchecked": (
        "contracts/EpochOracle.sol",
        "        if (totalActiveStake > staked) revert ActiveStakeTooHigh(totalActiveStake, staked);\n",
        "",
    ),
    "rewards-not-settled-on-stake-change": (
        "contracts/VVVStaking.sol",
        "        _write(account, accountKey, staked + amount, earnedSoFar, rpt, totalKey, total + amount);\n"
        "        emit Staked",
        "        _write(account, accountKey, staked + amount, 0, rpt, totalKey, total + amount);\n        emit Staked",
    ),
    # one per challenge check (test_sum_tree.py)
    "challenge-stake-accepts-a-true-leaf": (
        ORACLE,
        "        if (leaf.stake == actual && actual != 0) revert LeafMatchesStake(epoch, leaf.account, leaf.stake);\n",
        "",
        SUM_TREE,
    ),
    "challenge-stake-accepts-a-zero-leaf": (
        ORACLE,
        "if (leaf.stake == actual && actual != 0) revert",
        "if (leaf.stake == actual) revert",
        SUM_TREE,
    ),
    "challenge-leaf-proof-unchecked": (
        ORACLE,
        "        if (!ok || topHash != r.activeRoot) revert InvalidProof(epoch, position);\n",
        "",
        SUM_TREE,
    ),
    "challenge-total-accepts-a-true-total": (
        ORACLE,
        "        if (topSum == r.totalActiveStake) revert TotalMatches(epoch, topSum);\n",
        "",
        SUM_TREE,
    ),
    "challenge-order-accepts-ordered-leaves": (
        ORACLE,
        "        if (left.account < right.account) revert LeavesInOrder(epoch, left.account, right.account);\n",
        "",
        SUM_TREE,
    ),
    "challenge-order-accepts-distant-leaves": (
        ORACLE,
        "        if (right.position != left.position + 1 || left.siblings.length != right.siblings.length) {\n"
        "            revert NotAdjacent(left.position, right.position);\n        }\n",
        "",
        SUM_TREE,
    ),
    "challenge-count-accepts-a-true-count": (
        ORACLE,
        "        if (leaf.position < count && length == MerkleSumTree.depth(count)) {",
        "        if (false) {",
        SUM_TREE,
    ),
    "challenge-empty-leaf-accepts-padding": (
        ORACLE,
        "        if (position >= count && siblings.length == MerkleSumTree.depth(count)) {",
        "        if (false) {",
        SUM_TREE,
    ),
    "challenge-omission-any-signer": (
        ORACLE,
        "        if (!hasRole(ACTIVITY_SIGNER_ROLE, signer)) revert InvalidReceipt(signer);\n",
        "",
        SUM_TREE,
    ),
    "challenge-omission-any-epoch": (
        ORACLE,
        "        if (activityEpoch > epoch || activityEpoch + ACTIVITY_WINDOW_EPOCHS <= epoch) {",
        "        if (false) {",
        SUM_TREE,
    ),
    "challenge-omission-unstaked-account": (
        ORACLE,
        "        if (staking.stakeAt(account, snapshotTime(epoch)) == 0) revert NoStakeAtSnapshot(epoch, account);\n",
        "",
        SUM_TREE,
    ),
    "challenge-omission-bracket-unchecked": (
        ORACLE,
        "        if (!_showsAbsent(epoch, r, account, bracket)) revert NotOmitted(epoch, account);\n",
        "",
        SUM_TREE,
    ),
    "vcu-allocation-ignores-the-total": (
        ORACLE,
        "if (!ok || topHash != r.activeRoot || topSum != totalActive) return 0;",
        "if (!ok || topHash != r.activeRoot) return 0;",
        SUM_TREE,
    ),
    # one per check of issue 20: the day's one source
    "source-ignores-the-deadline": (
        ORACLE,
        "if (r.version == 1 && postedAt < deadline && epoch - 1 < nextEpoch)",
        "if (r.version == 1 && epoch - 1 < nextEpoch)",
        DAY_SOURCE,
    ),
    "source-ignores-a-past-rejection": (
        ORACLE,
        "if (r.version == 1 && postedAt < deadline && epoch - 1 < nextEpoch)",
        "if (postedAt < deadline && epoch - 1 < nextEpoch)",
        DAY_SOURCE,
    ),
    "source-ignores-a-current-rejection": (
        ORACLE,
        "if (r.version == 1 && postedAt < deadline && epoch - 1 < nextEpoch)",
        "if (r.version == 1 && postedAt < deadline)",
        DAY_SOURCE,
    ),
    "not-yet-known-serves-the-fallback": (
        ORACLE,
        "if (postedAt == 0) return block.timestamp < deadline ? Source.NotYetKnown : Source.Fallback;",
        "if (postedAt == 0) return Source.Fallback;",
        DAY_SOURCE,
    ),
    "fallback-capacity-moves-during-the-day": (
        ORACLE,
        "Math.mulDiv(staking.stakeAt(account, snapshot), fallbackCapacity(epoch), total)",
        "Math.mulDiv(staking.stakeAt(account, snapshot), _head.lastCapacity, total)",
        DAY_SOURCE,
    ),
    "deadline-change-applies-today": (
        ORACLE,
        "        uint256 from = block.timestamp / EPOCH_LENGTH + 1;\n",
        "        uint256 from = block.timestamp / EPOCH_LENGTH;\n",
        DAY_SOURCE,
    ),
    "oracle-may-be-guardian": (
        ORACLE,
        "        ) revert OracleAndGuardianMustDiffer(account);\n",
        "        ) {}\n",
        DAY_SOURCE,
    ),
    # data requests
    "open-request-does-not-hold-finality": (
        ORACLE,
        "return block.timestamp >= finalAt && epoch < head.lowestOpen ? Status.Final : Status.Pending;",
        "return block.timestamp >= finalAt ? Status.Final : Status.Pending;",
        DATA,
    ),
    "request-after-the-dispute-window": (
        ORACLE,
        "        if (block.timestamp >= until) revert RequestWindowClosed(epoch, until);\n",
        "",
        DATA,
    ),
    "anyone-opens-requests": (
        ORACLE,
        "returns (uint256 version) {\n        _onlyDataRequests();\n",
        "returns (uint256 version) {\n",
        DATA,
    ),
    "answer-leaves-no-time-for-challenges": (
        ORACLE,
        "        hold = block.timestamp + MIN_WINDOW_AFTER_ANSWER;\n",
        "        hold = block.timestamp;\n",
        DATA,
    ),
    "unanswered-request-does-not-reject": (
        ORACLE,
        "            _rejectFrom(epoch);\n            return true;\n",
        "            return true;\n",
        DATA,
    ),
    "answer-accepts-any-leaves": (
        REQUESTS,
        "        if (!oracle.answers(epoch, query, target, leaves)) revert NotAnAnswer(id);\n",
        "",
        DATA,
    ),
    "answer-after-the-response-window": (
        REQUESTS,
        "        if (block.timestamp >= q.deadline) revert ResponseWindowClosed(id, q.deadline);\n",
        "",
        DATA,
    ),
    "resolve-before-the-response-window-ends": (
        REQUESTS,
        "        if (live && block.timestamp < q.deadline) revert ResponseWindowOpen(id, q.deadline);\n",
        "",
        DATA,
    ),
    "wrong-bond-accepted": (
        REQUESTS,
        "        if (msg.value != p.bond) revert WrongBond(msg.value, p.bond);\n",
        "",
        DATA,
    ),
    "no-refund-of-an-unanswered-request": (
        REQUESTS,
        "        _bonds[q.requester] += uint256(q.bondGwei) * 1 gwei;\n        bool rejected",
        "        bool rejected",
        DATA,
    ),
    # compute rights (issue 23's acceptance: the cap, the allowance, the floor, the reward
    # exclusion of locked stake and the pool's lower bound)
    "rights-cap-unchecked": (
        RIGHTS,
        "if (outstanding + rights > limit) revert CapExceeded",
        "if (false) revert CapExceeded",
        RIGHTS_TESTS,
    ),
    "rights-cap-at-min-capacity-not-half": (
        RIGHTS,
        "uint256 limit = minCapacity / 2 < RCAP ? minCapacity / 2 : RCAP;",
        "uint256 limit = minCapacity < RCAP ? minCapacity : RCAP;",
        RIGHTS_TESTS,
    ),
    "mint-above-its-allowance": (
        RIGHTS,
        "if (before + rights > allowance) revert AllowanceExceeded",
        "if (false) revert AllowanceExceeded",
        RIGHTS_TESTS,
    ),
    "mint-without-a-valid-leaf": (
        RIGHTS,
        "if (!ok || topHash != root || topSum != totalActive) revert InvalidLeaf",
        "if (false) revert InvalidLeaf",
        RIGHTS_TESTS,
    ),
    "no-price-floor": (
        "contracts/utils/RightsPricing.sol",
        "uint256 internal constant FLOOR_BPS = 500;",
        "uint256 internal constant FLOOR_BPS = 0;",
        RIGHTS_TESTS,
    ),
    "locked-stake-keeps-its-reward-weight": (
        "contracts/VVVStaking.sol",
        "_write(account, accountKey, free - amount, earnedSoFar, rpt, totalKey, total - amount);",
        "_write(account, accountKey, free - amount, earnedSoFar, rpt, totalKey, total);",
        "tests/contracts/test_staking_locks.py",
    ),
    "min-capacity-below-twice-the-rights": (
        ORACLE,
        "if (minCapacity < floor) revert MinCapacityBelowRights",
        "if (false) revert MinCapacityBelowRights",
        "tests/contracts/test_rights_allotments.py",
    ),
}


def run(name: str) -> bool:
    path, old, new, *tests = MUTATIONS[name]
    target = tests[0] if tests else STATEFUL
    file = ROOT / path
    original = file.read_text()
    if original.count(old) != 1:
        raise SystemExit(f"{name}: the code to mutate was not found exactly once in {path}")
    ape = str(ROOT / ".venv/bin/ape")
    try:
        file.write_text(original.replace(old, new))
        # a full recompile: ape's incremental check can miss an in-place edit made seconds after
        # the last compile, and the test must run the mutated code
        subprocess.run([ape, "compile", "--force"], cwd=ROOT, capture_output=True, check=True)
        result = subprocess.run(
            [ape, "test", target, "-x", "-q"] + ["-p", "no:cacheprovider"],
            cwd=ROOT,
            capture_output=True,
            text=True,
        )
    finally:
        file.write_text(original)
        subprocess.run([ape, "compile", "--force"], cwd=ROOT, capture_output=True)
    caught = result.returncode != 0
    reason = next((line for line in result.stdout.splitlines() if line.startswith("E ")), "")[:150]
    print(f"{'CAUGHT' if caught else 'MISSED'}  {name}  {reason}", flush=True)
    return caught


def main() -> int:
    names = sys.argv[1:] or list(MUTATIONS)
    results = [run(name) for name in names]
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
