#!/usr/bin/env bash
# Prints the path of a usable Temporal CLI, getting one first if needed:
#   1. TEMPORAL_CLI or a `temporal` on PATH;
#   2. the project-local copy in .tools/bin, built from the Go module proxy;
#   3. the official release archive, for machines with internet but no Go.
set -euo pipefail
cd "$(dirname "$0")/.."

# The one place the Temporal CLI version is pinned.
TEMPORAL_CLI_VERSION=1.5.1

# A CLI is usable when its dev server has the flags the wallet passes (older ones lack them).
usable() { "$1" server start-dev --help 2>/dev/null | grep -q -- '--sqlite-pragma' && "$1" server start-dev --help 2>/dev/null | grep -q -- '--search-attribute'; }
if [ -n "${TEMPORAL_CLI:-}" ] && [ -x "${TEMPORAL_CLI}" ] && usable "${TEMPORAL_CLI}"; then echo "${TEMPORAL_CLI}"; exit 0; fi
if command -v temporal >/dev/null 2>&1 && usable "$(command -v temporal)"; then command -v temporal; exit 0; fi

local_cli="$PWD/.tools/bin/temporal"
stamp="$PWD/.tools/bin/temporal.version"
built() { [ -x "$local_cli" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$TEMPORAL_CLI_VERSION" ]; }
if built; then echo "$local_cli"; exit 0; fi
source scripts/build-lock.sh
hold_build_lock temporal-cli
if built; then echo "$local_cli"; exit 0; fi

mkdir -p .tools/bin
export PATH="$PATH:/usr/local/go/bin"
if command -v go >/dev/null 2>&1; then
  echo "wallet: building Temporal CLI v$TEMPORAL_CLI_VERSION from the Go module proxy (first run only, a few minutes)" >&2
  # v1.5.1's go.mod has no local replace, so a plain go install works.
  if ! CGO_ENABLED=0 GOBIN="$PWD/.tools/bin" go install "github.com/temporalio/cli/cmd/temporal@v$TEMPORAL_CLI_VERSION" >&2; then
    echo "wallet: go install of the Temporal CLI failed (see above)" >&2
    exit 1
  fi
elif command -v curl >/dev/null 2>&1; then
  echo "wallet: downloading Temporal CLI v$TEMPORAL_CLI_VERSION" >&2
  arch=$(uname -m); case "$arch" in x86_64) arch=amd64 ;; aarch64|arm64) arch=arm64 ;; esac
  os=$(uname -s | tr '[:upper:]' '[:lower:]')
  if ! curl -fsSL "https://temporal.download/cli/archive/v$TEMPORAL_CLI_VERSION?platform=$os&arch=$arch" | tar -xz -C .tools/bin temporal; then
    echo "wallet: could not get the Temporal CLI: install Go (to build it) or put 'temporal' on PATH" >&2
    exit 1
  fi
else
  echo "wallet: no Temporal CLI: install Go or curl, or put 'temporal' on PATH" >&2
  exit 1
fi
echo "$TEMPORAL_CLI_VERSION" > "$stamp"
echo "$local_cli"
