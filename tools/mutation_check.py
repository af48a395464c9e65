"""Break one invariant on purpose at a time and check that the stateful test catches it.

    .venv/bin/python tools/mutation_check.py [NAME ...]

Each mutation edits one contract in place, runs tests/contracts/test_stateful.py on the
in-process chain, and restores the file (also on Ctrl-C). Prints one line per mutation:
CAUGHT (the stateful test failed) or MISSED. Exit code 1 if any was missed."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

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
        "        if (r.rejected) return Status.Rejected;\n        return block.timestamp",
        "        return block.timestamp",
    ),
    "reports-out-of-order": (
        "contracts/EpochOracle.sol",
        "        } else if (epoch != next) {\n            revert EpochOutOfOrder(epoch, next);\n        }\n",
        "        }\n",
    ),
    "active-stake-unchecked": (
        "contracts/EpochOracle.sol",
        "        if (totalActiveStake > staked) revert ActiveStakeTooHigh(totalActiveStake, staked);\n",
        "",
    ),
    "rewards-not-settled-on-stake-change": (
        "contracts/VVVStaking.sol",
        "        _write(account, staked + amount, earnedSoFar, rpt, total + amount);\n        emit Staked",
        "        _write(account, staked + amount, 0, rpt, total + amount);\n        emit Staked",
    ),
}


def run(name: str) -> bool:
    path, old, new = MUTATIONS[name]
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
            [ape, "test", "tests/contracts/test_stateful.py", "-x", "-q"] + ["-p", "no:cacheprovider"],
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
