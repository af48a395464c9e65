#!/usr/bin/env bash
# `make dashboard`: the staking page on a local chain that stays up. Starts anvil (chain id
# 31337, the one ape's ethereum:local:foundry signs for) on DASHBOARD_CHAIN_PORT, plays the demo's
# two weeks on it (deployment record in .dashboard/deployments, usage store and proofs files in
# .dashboard/demo), gives the node's unlocked test accounts VVV to stake from the page's
# "test accounts" wallet, builds the page and serves it. Ctrl-C stops the server and the chain.
set -euo pipefail
cd "$(dirname "$0")/.."
CHAIN_PORT=${DASHBOARD_CHAIN_PORT:-8546}
HOST=${DASHBOARD_HOST:-127.0.0.1}
PORT=${DASHBOARD_PORT:-8000}
DIR=.dashboard
mkdir -p "$DIR"
if (exec 3<>"/dev/tcp/127.0.0.1/$CHAIN_PORT") 2>/dev/null; then
  echo "make dashboard: port $CHAIN_PORT is in use; set DASHBOARD_CHAIN_PORT to a free one" >&2
  exit 2
fi
node_modules/.bin/anvil --port "$CHAIN_PORT" --silent > "$DIR/anvil.log" 2>&1 &
anvil_pid=$!
trap 'kill "$anvil_pid" 2>/dev/null; wait "$anvil_pid" 2>/dev/null || true' EXIT INT TERM
for _ in $(seq 1 100); do
  (exec 3<>"/dev/tcp/127.0.0.1/$CHAIN_PORT") 2>/dev/null && break
  sleep 0.1
done
export APE_FOUNDRY_HOST="http://127.0.0.1:$CHAIN_PORT" VVV_DEPLOYMENTS_DIR="$DIR/deployments"
NETWORK=ethereum:local:foundry
echo "anvil on $APE_FOUNDRY_HOST (log: $DIR/anvil.log); playing the demo's two weeks on it..."
.venv/bin/ape run demo --network "$NETWORK" --out "$DIR/demo" --overwrite --no-plots --record --fund 10000 > "$DIR/demo.log"
echo "demo done (summary: $DIR/demo.log); building the page..."
npm run --silent build > "$DIR/build.log" 2>&1 || { cat "$DIR/build.log" >&2; exit 1; }
.venv/bin/ape run dashboard --network "$NETWORK" --host "$HOST" --port "$PORT" \
  --reports-dir "$DIR/demo/reports" --usage-db "sqlite:///$DIR/demo/usage.db"
