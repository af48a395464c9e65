#!/usr/bin/env bash
# The whole suite on ape's in-process chain and on anvil, side by side, each with its own logs;
# all logs are printed, and the exit code is non-zero if any run failed (pytest also fails a run
# that collected no test).
# Each pass is run as two sessions at once, tests/contracts with tests/chain and tests/demo (the
# demo's runs: the anvil pass's rest was the longest session), and the rest (each session with its
# own chain, node, servers): four processes keep the 2 cores busy while one of them waits on a
# node, a server, a browser or a bot's tick. Every test still runs in the same pass(es) as with
# one session per pass (tests/passes.py); only the grouping into processes differs.
set -uo pipefail
cd "$(dirname "$0")/.."
logs=$(mktemp -d)
# test_stateful.py, test_rights_stateful.py: the bounded profile's examples are split between the
# two passes (CI_SPLIT)
export VVV_FUZZ_SPLIT=1
ape_test() {
    .venv/bin/ape test -p no:cacheprovider --durations=25 --durations-min=1 "$@"
}
ANVIL=(--network ethereum:local:foundry)
FIRST=(tests/contracts tests/chain tests/demo)
REST=(tests --ignore=tests/contracts --ignore=tests/chain --ignore=tests/demo)
ape_test "${FIRST[@]}" > "$logs/local-contracts.log" 2>&1 &
local_contracts=$!
ape_test "${REST[@]}" > "$logs/local-rest.log" 2>&1 &
local_rest=$!
ape_test "${FIRST[@]}" "${ANVIL[@]}" > "$logs/anvil-contracts.log" 2>&1 &
anvil_contracts=$!
ape_test "${REST[@]}" "${ANVIL[@]}" > "$logs/anvil-rest.log" 2>&1
anvil_rest_rc=$?
wait "$anvil_contracts"; anvil_contracts_rc=$?
wait "$local_rest"; local_rest_rc=$?
wait "$local_contracts"; local_contracts_rc=$?
for run in local-contracts local-rest anvil-contracts anvil-rest; do
    case $run in
        local-contracts) rc=$local_contracts_rc; what="ape's in-process chain, tests/contracts, tests/chain, tests/demo" ;;
        local-rest) rc=$local_rest_rc; what="ape's in-process chain, the rest" ;;
        anvil-contracts) rc=$anvil_contracts_rc; what="anvil, tests/contracts, tests/chain, tests/demo" ;;
        anvil-rest) rc=$anvil_rest_rc; what="anvil, the rest" ;;
    esac
    echo "================ $what (exit $rc) ================"
    cat "$logs/$run.log"
done
rm -rf "$logs"
echo "in-process chain: exit $local_contracts_rc (tests/contracts, tests/chain, tests/demo), $local_rest_rc (the rest);" \
    "anvil: exit $anvil_contracts_rc (tests/contracts, tests/chain, tests/demo), $anvil_rest_rc (the rest)"
[ "$local_contracts_rc" -eq 0 ] && [ "$local_rest_rc" -eq 0 ] && [ "$anvil_contracts_rc" -eq 0 ] && [ "$anvil_rest_rc" -eq 0 ]
