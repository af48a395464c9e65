#!/usr/bin/env bash
# The whole suite on ape's in-process chain and on anvil, side by side (one core each), each
# with its own log; both logs are printed, and the exit code is non-zero if either run failed
# (pytest also fails a run that collected no test).
set -uo pipefail
cd "$(dirname "$0")/.."
logs=$(mktemp -d)
# test_stateful.py, test_rights_stateful.py: the bounded profile's examples are split between the
# two passes (CI_SPLIT)
export VVV_FUZZ_SPLIT=1
.venv/bin/ape test tests -p no:cacheprovider --durations=40 --durations-min=1 > "$logs/local.log" 2>&1 &
local_pid=$!
.venv/bin/ape test tests -p no:cacheprovider --durations=40 --durations-min=1 --network ethereum:local:foundry > "$logs/anvil.log" 2>&1
anvil_rc=$?
wait "$local_pid"
local_rc=$?
echo "================ ape's in-process chain (exit $local_rc) ================"
cat "$logs/local.log"
echo "================ anvil (exit $anvil_rc) ================"
cat "$logs/anvil.log"
rm -rf "$logs"
echo "in-process chain: exit $local_rc; anvil: exit $anvil_rc"
[ "$local_rc" -eq 0 ] && [ "$anvil_rc" -eq 0 ]
