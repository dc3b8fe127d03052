#!/usr/bin/env bash
# A second local PostgreSQL server (cluster "shards2" on port 5433, trust auth on loopback),
# for measuring the wallet with its shards on two servers (docs/performance.md, scale-out).
#   bash scripts/second-postgres.sh           # create if missing, start, print its URL
#   bash scripts/second-postgres.sh --stop    # stop it (data stays)
set -euo pipefail
version="$(ls /etc/postgresql | sort -n | tail -1)"
cluster=shards2
port="${SECOND_PG_PORT:-5433}"
if [ "${1:-}" = "--stop" ]; then
  pg_ctlcluster --skip-systemctl-redirect "$version" "$cluster" stop
  exit 0
fi
if ! pg_lsclusters -h | awk '{print $2}' | grep -qx "$cluster"; then
  # Trust on loopback only, like the machine's main cluster: a benchmark server, not a deployment.
  pg_createcluster "$version" "$cluster" --port "$port" -- --auth-local=trust --auth-host=trust >&2
fi
if ! pg_lsclusters -h | awk -v c="$cluster" '$2 == c {print $4}' | grep -qx online; then
  pg_ctlcluster --skip-systemctl-redirect "$version" "$cluster" start >&2
fi
echo "postgres://postgres@127.0.0.1:$port/postgres"
