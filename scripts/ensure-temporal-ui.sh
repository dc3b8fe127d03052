#!/usr/bin/env bash
# Prints the directory of the Temporal Web UI server, building it from the Go module proxy first
# if needed (the same server the temporalio/ui image runs, which the dev server embeds):
#   <dir>/server         the UI server
#   <dir>/config         its configuration templates; `--env docker` reads the image's
#                        environment variables (TEMPORAL_ADDRESS, TEMPORAL_TLS_*, TEMPORAL_AUTH_*, ...)
# test/temporal-mtls.test.ts runs it against the mutual-TLS cluster with the operator's certificate.
set -euo pipefail
cd "$(dirname "$0")/.."

# The one place this UI version is pinned: the one docker-compose.yml and the CLI use.
TEMPORAL_UI_VERSION=2.42.1

ui_dir="$PWD/.tools/temporal-ui"
stamp="$ui_dir/version"
built() { [ -x "$ui_dir/server" ] && [ -d "$ui_dir/config" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$TEMPORAL_UI_VERSION" ]; }
if built; then echo "$ui_dir"; exit 0; fi
source scripts/build-lock.sh
hold_build_lock temporal-ui
if built; then echo "$ui_dir"; exit 0; fi

export PATH="$PATH:/usr/local/go/bin"
if ! command -v go >/dev/null 2>&1; then
  echo "wallet: building the Temporal UI server needs Go (https://go.dev/dl); none found" >&2
  exit 1
fi
mkdir -p "$ui_dir"
echo "wallet: building Temporal UI server v$TEMPORAL_UI_VERSION from the Go module proxy (first run only, a few minutes)" >&2
# Its go.mod has no replace directive. The binary is named after its directory (server): kept in its own folder.
if ! CGO_ENABLED=0 GOBIN="$ui_dir" go install "github.com/temporalio/ui-server/v2/cmd/server@v$TEMPORAL_UI_VERSION" >&2; then
  echo "wallet: go install of github.com/temporalio/ui-server failed (see above)" >&2
  exit 1
fi
ln -sfn "$(go env GOMODCACHE)/github.com/temporalio/ui-server/v2@v$TEMPORAL_UI_VERSION/config" "$ui_dir/config"
echo "$TEMPORAL_UI_VERSION" > "$stamp"
echo "$ui_dir"
