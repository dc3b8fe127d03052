#!/usr/bin/env bash
# Prints the path of moov-io/ach's HTTP server (the NACHA library the ACH rail and the bank use,
# docs/rails.md), building it first if needed:
#   1. ACH_SERVER_BIN, when it names an executable;
#   2. the project-local copy in .tools/bin, built from the Go module proxy.
set -euo pipefail
cd "$(dirname "$0")/.."

# The one place the moov-io/ach version is pinned (docs/rails.md says why this one).
ACH_SERVER_VERSION=1.69.0

if [ -n "${ACH_SERVER_BIN:-}" ] && [ -x "${ACH_SERVER_BIN}" ]; then echo "${ACH_SERVER_BIN}"; exit 0; fi

local_bin="$PWD/.tools/bin/achserver"
stamp="$PWD/.tools/bin/achserver.version"
built() { [ -x "$local_bin" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$ACH_SERVER_VERSION" ]; }
if built; then echo "$local_bin"; exit 0; fi
source scripts/build-lock.sh
hold_build_lock achserver
if built; then echo "$local_bin"; exit 0; fi

mkdir -p .tools/bin .tools/achserver-build
export PATH="$PATH:/usr/local/go/bin"
if ! command -v go >/dev/null 2>&1; then
  echo "wallet: no Go toolchain to build moov-io/ach's server: install Go or set ACH_SERVER_BIN" >&2
  exit 1
fi
echo "wallet: building moov-io/ach server v$ACH_SERVER_VERSION from the Go module proxy (first run only, about a minute)" >&2
# The module's server command is cmd/server (there is no cmd/achserver); GOBIN names it "server",
# so it is built into a directory of its own and renamed.
if ! CGO_ENABLED=0 GOBIN="$PWD/.tools/achserver-build" go install "github.com/moov-io/ach/cmd/server@v$ACH_SERVER_VERSION" >&2; then
  echo "wallet: go install of moov-io/ach's server failed (see above)" >&2
  exit 1
fi
mv "$PWD/.tools/achserver-build/server" "$local_bin"
echo "$ACH_SERVER_VERSION" > "$stamp"
echo "$local_bin"
