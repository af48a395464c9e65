#!/usr/bin/env bash
# `make dashboard`: everything of the protocol on a local chain that stays up. Starts anvil (chain
# id 31337, the one ape's ethereum:local:foundry signs for) on DASHBOARD_CHAIN_PORT, plays the
# demo's two weeks on it (deployment record in .dashboard/deployments, usage store and proofs
# files in .dashboard/demo), gives the node's unlocked test accounts VVV to stake from the page's
# "test accounts" wallet, then starts, each with its log in .dashboard/:
#   - the stand-in upstream (`ape run standin`; not a model, every answer says so), unless
#     DASHBOARD_UPSTREAM names a real OpenAI-compatible server (vLLM, Ollama, a hosted API),
#   - the gateway in front of it (`ape run gateway`; TEST::9 signs the activity receipts),
#   - the oracle bot (TEST::6) and the watchdog bot (TEST::8), so a day the chain moves to gets
#     its report and every report is checked,
#   - the page's server, with the keys panel wired to the gateway.
# It writes .dashboard/ask.py (a chat completion through the gateway with the official `openai`
# client) and prints the exports that point the CLI, cast and that client at all this.
# Ctrl-C stops all of them and the chain.
set -euo pipefail
cd "$(dirname "$0")/.."
CHAIN_PORT=${DASHBOARD_CHAIN_PORT:-8546}
HOST=${DASHBOARD_HOST:-127.0.0.1}
PORT=${DASHBOARD_PORT:-8000}
GATEWAY_PORT=${DASHBOARD_GATEWAY_PORT:-8100}
STANDIN_PORT=${DASHBOARD_STANDIN_PORT:-8200}
UPSTREAM=${DASHBOARD_UPSTREAM:-}
DIR=.dashboard
mkdir -p "$DIR"
ports=("$CHAIN_PORT" "$PORT" "$GATEWAY_PORT")
[ -n "$UPSTREAM" ] || ports+=("$STANDIN_PORT")
for port in "${ports[@]}"; do
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
STANDIN=
if [ -z "$UPSTREAM" ]; then
  STANDIN=1
  UPSTREAM="http://127.0.0.1:$STANDIN_PORT"
  start standin.log .venv/bin/ape run standin --host 127.0.0.1 --port "$STANDIN_PORT"
  UPSTREAM_INFO="the stand-in upstream on $UPSTREAM (not a model: every answer says so; log $DIR/standin.log)"
else
  UPSTREAM_INFO="the upstream: $UPSTREAM (DASHBOARD_UPSTREAM; its API key, if any, from VVV_UPSTREAM_API_KEY)"
fi
start gateway.log .venv/bin/ape run gateway --network "$NETWORK" --upstream "$UPSTREAM" \
  --usage-db "$USAGE_DB" --reports-dir "$REPORTS" --signer TEST::9 --host "$HOST" --port "$GATEWAY_PORT"
# the demo's load stops with the demo: its first day after would fail the oracle's sanity bound
export VVV_USAGE_DB="$USAGE_DB" VVV_REPORTS_DIR="$REPORTS" VVV_BOT_ALLOW_OUTLIER=1
SILVERBACK_SIGNER_ALIAS=TEST::6 start oracle-bot.log .venv/bin/silverback run oracle --network "$NETWORK"
SILVERBACK_SIGNER_ALIAS=TEST::8 start watchdog-bot.log .venv/bin/silverback run watchdog --network "$NETWORK"
if [ -n "$STANDIN" ]; then wait_for "$STANDIN_PORT" "the stand-in upstream" standin.log; fi
wait_for "$GATEWAY_PORT" "the gateway" gateway.log
# the README's snippet ("Use your VCU"), word for word
cat > "$DIR/ask.py" <<'ASK'
from openai import APIStatusError, OpenAI

client = OpenAI()  # its URL and key from OPENAI_BASE_URL and OPENAI_API_KEY
try:
    raw = client.chat.completions.with_raw_response.create(
        model="llama-3.3-70b", messages=[{"role": "user", "content": "hello"}], max_tokens=50
    )
    print(raw.parse().choices[0].message.content)
    print("charged", raw.headers["x-vvv-charged-vcu"], "VCU, request", raw.headers["x-request-id"])
except APIStatusError as err:  # 402: no VCU left today (or not yet), and why
    print(err.status_code, err.body["message"])
ASK
cat <<INFO
$UPSTREAM_INFO
the gateway on http://$HOST:$GATEWAY_PORT/v1, metrics on /metrics (log $DIR/gateway.log)
the oracle bot (TEST::6) and the watchdog bot (TEST::8): logs $DIR/oracle-bot.log, $DIR/watchdog-bot.log

In another shell in this folder, for the CLI, cast and the openai client (README, "Use your VCU"):
. .venv/bin/activate
export APE_FOUNDRY_HOST=http://127.0.0.1:$CHAIN_PORT ETH_RPC_URL=http://127.0.0.1:$CHAIN_PORT \\
       VVV_DEPLOYMENTS_DIR=$DIR/deployments VVV_USAGE_DB=sqlite:///$DIR/demo/usage.db \\
       VVV_GATEWAY=http://$HOST:$GATEWAY_PORT OPENAI_BASE_URL=http://$HOST:$GATEWAY_PORT/v1
export OPENAI_API_KEY=vvv_...   # a key: the page's "API keys" panel, or ape run staker keys create
python $DIR/ask.py   # the official openai client through the gateway:
INFO
sed 's/^/    /' "$DIR/ask.py"
echo
.venv/bin/ape run dashboard --network "$NETWORK" --host "$HOST" --port "$PORT" \
  --reports-dir "$REPORTS" --usage-db "$USAGE_DB" --gateway "http://127.0.0.1:$GATEWAY_PORT"
