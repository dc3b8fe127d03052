#!/usr/bin/env bash
# Prints the directory holding the production Temporal server and its SQL schema tool,
# building both from the Go module proxy first if needed:
#   <dir>/temporal-server      all services (frontend, history, matching, worker) in one binary
#   <dir>/temporal-sql-tool    creates and migrates Temporal's PostgreSQL databases
#   <dir>/temporal-schema      link to the module's schema/ tree (postgresql/v12/*/versioned)
# The version is the one the project's CLI bundles as its dev server, so the two behave alike.
set -euo pipefail
cd "$(dirname "$0")/.."

# The one place the Temporal server version is pinned.
TEMPORAL_SERVER_VERSION=1.29.1

bin_dir="$PWD/.tools/bin"
stamp="$bin_dir/temporal-server.version"
ready() {
  [ -x "$bin_dir/temporal-server" ] && [ -x "$bin_dir/temporal-sql-tool" ] && [ -d "$bin_dir/temporal-schema/postgresql/v12" ] &&
    [ "$(cat "$stamp" 2>/dev/null)" = "$TEMPORAL_SERVER_VERSION" ]
}
if ready; then echo "$bin_dir"; exit 0; fi
source scripts/build-lock.sh
hold_build_lock temporal-server
if ready; then echo "$bin_dir"; exit 0; fi

export PATH="$PATH:/usr/local/go/bin"
if ! command -v go >/dev/null 2>&1; then
  echo "wallet: building the Temporal server needs Go (https://go.dev/dl); none found" >&2
  exit 1
fi
mkdir -p "$bin_dir"
echo "wallet: building Temporal server v$TEMPORAL_SERVER_VERSION from the Go module proxy (first run only, a few minutes)" >&2
# v1.29.1's go.mod has no replace directive, so a plain go install works. Both binaries are
# named after their package directories (server, sql), too generic to leave on their own.
for package in cmd/server cmd/tools/sql; do
  if ! CGO_ENABLED=0 GOBIN="$bin_dir" go install "go.temporal.io/server/$package@v$TEMPORAL_SERVER_VERSION" >&2; then
    echo "wallet: go install of go.temporal.io/server/$package failed (see above)" >&2
    exit 1
  fi
done
mv -f "$bin_dir/server" "$bin_dir/temporal-server"
mv -f "$bin_dir/sql" "$bin_dir/temporal-sql-tool"
# go install leaves the module's source, schema files included, in the module cache (read-only).
ln -sfn "$(go env GOMODCACHE)/go.temporal.io/server@v$TEMPORAL_SERVER_VERSION/schema" "$bin_dir/temporal-schema"
echo "$TEMPORAL_SERVER_VERSION" > "$stamp"
echo "$bin_dir"
