#!/usr/bin/env bash
# Entry point of every npm script: installs what is missing, then runs a TypeScript file.
#   scripts/run.sh [--temporal] [--postgres] [--achserver] [--wallet-node] FILE.ts [ARGS...]
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-deps.sh
bash scripts/ensure-tools-dir.sh
NODE_FLAGS=()
while [[ "${1:-}" == --* ]]; do
  case "$1" in
    --temporal) if [ -z "${TEMPORAL_ADDRESS:-}" ]; then TEMPORAL_CLI="$(bash scripts/ensure-temporal.sh)"; export TEMPORAL_CLI; fi ;;
    --postgres) bash scripts/ensure-postgres.sh ;;
    # moov-io/ach's server, for the bank (docs/rails.md); not needed when ACH_SERVER_URL names one.
    --achserver) if [ -z "${ACH_SERVER_URL:-}" ]; then ACH_SERVER_BIN="$(bash scripts/ensure-achserver.sh)"; export ACH_SERVER_BIN; fi ;;
    # NATS JetStream for the wallet events stream (docs/events.md); not needed when NATS_URL names one.
    --nats) if [ -z "${NATS_URL:-}" ]; then bash scripts/ensure-nats.sh; fi ;;
    # A wallet process (API, worker or both) runs with a capped heap: see walletNodeFlags in supervisor/children.ts.
    --wallet-node) NODE_FLAGS+=("--max-old-space-size=${WALLET_HEAP_MAX_MB:-256}") ;;
  esac
  shift
done
exec node "${NODE_FLAGS[@]}" --import tsx "$@"
