#!/usr/bin/env bash
# Entry point of every npm script: installs what is missing, then runs a TypeScript file.
#   scripts/run.sh [--temporal] [--postgres] [--chromium] FILE.ts [ARGS...]
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-deps.sh
while [[ "${1:-}" == --* ]]; do
  case "$1" in
    --temporal) if [ -z "${TEMPORAL_ADDRESS:-}" ]; then TEMPORAL_CLI="$(bash scripts/ensure-temporal.sh)"; export TEMPORAL_CLI; fi ;;
    --postgres) bash scripts/ensure-postgres.sh ;;
    --chromium) bash scripts/ensure-chromium.sh ;;
  esac
  shift
done
exec node --import tsx "$@"
