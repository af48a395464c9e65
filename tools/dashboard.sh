#!/usr/bin/env bash
# `make dashboard`: everything of the protocol on a local chain that stays up. Starts anvil (chain
# id 31337, the one ape's ethereum:local:foundry signs for) on DASHBOARD_CHAIN_PORT, plays the
# demo's two weeks on it (deployment record in .dashboard/deployments, usage store and proofs
# files in .dashboard/demo), gives the node's unlocked test accounts VVV to stake from the page's
# "test accounts" wallet, then starts, each with its log in .dashboard/:
#   - the stand-in upstream (`ape run standin`; not a model, every answer says so),
#   - the gateway in front of it (`ape run gateway`; TEST::9 signs the activity receipts),
#   - the oracle bot (TEST::6) and the watchdog bot (TEST::8), so a day the chain moves to gets
#     its report and every report is checked,
#   - the page's server, with the keys panel wired to the gateway.
# Ctrl-C stops all of them and the chain.
set -euo pipefail
cd "$(dirname "$0")/.."
CHAIN_PORT=${DASHBOARD_CHAIN_PORT:-8546}
HOST=${DASHBOARD_HOST:-127.0.0.1}
PORT=${DASHBOARD_PORT:-8000}
GATEWAY_PORT=${DASHBOARD_GATEWAY_PORT:-8100}
STANDIN_PORT=${DASHBOARD_STANDIN_PORT:-8200}
DIR=.dashboard
mkdir -p "$DIR"
for port in "$CHAIN_PORT" "$PORT" "$GATEWAY_PORT" "$STANDIN_PORT"; do
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    echo "make dashboard: port $port is in use; set DASHBOARD_CHAIN_PORT, DASHBOARD_PORT, DASHBOARD_GATEWAY_PORT or DASHBOARD_STANDIN_PORT to a free one" >&2
    exit 2
  fi
done
pids=()
stop() {
  for pid in "${pids[@]}"; do kill -INT -- "-$pid" 2>/dev/null || kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap stop EXIT INT TERM
start() {  # start LOG COMMAND...: in its own process group, output to .dashboard/LOG
  local log=$1; shift
  setsid "$@" > "$DIR/$log" 2>&1 &
  pids+=($!)
}
wait_for() {  # wait_for PORT WHAT LOG
  for _ in $(seq 1 600); do
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    sleep 0.1
  done
  echo "make dashboard: $2 did not start; its log ($DIR/$3):" >&2
  tail -n 20 "$DIR/$3" >&2
  exit 1
}
start anvil.log node_modules/.bin/anvil --port "$CHAIN_PORT" --silent
wait_for "$CHAIN_PORT" anvil anvil.log
export APE_FOUNDRY_HOST="http://127.0.0.1:$CHAIN_PORT" VVV_DEPLOYMENTS_DIR="$DIR/deployments"
NETWORK=ethereum:local:foundry
echo "anvil on $APE_FOUNDRY_HOST (log: $DIR/anvil.log); playing the demo's two weeks on it..."
.venv/bin/ape run demo --network "$NETWORK" --out "$DIR/demo" --overwrite --no-plots --record --fund 10000 > "$DIR/demo.log"
echo "demo done (summary: $DIR/demo.log); building the page..."
npm run --silent build > "$DIR/build.log" 2>&1 || { cat "$DIR/build.log" >&2; exit 1; }
USAGE_DB="sqlite:///$DIR/demo/usage.db"
REPORTS="$DIR/demo/reports"
start standin.log .venv/bin/ape run standin --host 127.0.0.1 --port "$STANDIN_PORT"
start gateway.log .venv/bin/ape run gateway --network "$NETWORK" --upstream "http://127.0.0.1:$STANDIN_PORT" \
  --usage-db "$USAGE_DB" --reports-dir "$REPORTS" --signer TEST::9 --host "$HOST" --port "$GATEWAY_PORT"
# the demo's load stops with the demo: its first day after would fail the oracle's sanity bound
export VVV_USAGE_DB="$USAGE_DB" VVV_REPORTS_DIR="$REPORTS" VVV_BOT_ALLOW_OUTLIER=1
SILVERBACK_SIGNER_ALIAS=TEST::6 start oracle-bot.log .venv/bin/silverback run oracle --network "$NETWORK"
SILVERBACK_SIGNER_ALIAS=TEST::8 start watchdog-bot.log .venv/bin/silverback run watchdog --network "$NETWORK"
wait_for "$STANDIN_PORT" "the stand-in upstream" standin.log
wait_for "$GATEWAY_PORT" "the gateway" gateway.log
cat <<INFO
the stand-in upstream on http://127.0.0.1:$STANDIN_PORT (not a model: every answer says so; log $DIR/standin.log)
the gateway on http://$HOST:$GATEWAY_PORT/v1 (log $DIR/gateway.log)
the oracle bot (TEST::6) and the watchdog bot (TEST::8): logs $DIR/oracle-bot.log, $DIR/watchdog-bot.log
In another shell, for the CLI, cast and the openai client on this chain (README, "Use your VCU"):
  . .venv/bin/activate
  export APE_FOUNDRY_HOST=http://127.0.0.1:$CHAIN_PORT ETH_RPC_URL=http://127.0.0.1:$CHAIN_PORT \\
         VVV_DEPLOYMENTS_DIR=$DIR/deployments VVV_USAGE_DB=sqlite:///$DIR/demo/usage.db VVV_GATEWAY=http://$HOST:$GATEWAY_PORT
Call the API with the official openai client and a key (the page's "API keys" panel, or ape run staker keys create):
  python -c "from openai import OpenAI; c = OpenAI(base_url='http://$HOST:$GATEWAY_PORT/v1', api_key='vvv_...'); print(c.chat.completions.create(model='llama-3.3-70b', messages=[{'role': 'user', 'content': 'hello'}], max_tokens=50).choices[0].message.content)"
INFO
.venv/bin/ape run dashboard --network "$NETWORK" --host "$HOST" --port "$PORT" \
  --reports-dir "$REPORTS" --usage-db "$USAGE_DB" --gateway "http://127.0.0.1:$GATEWAY_PORT"
