#!/usr/bin/env bash
# Starts the machine's local PostgreSQL cluster when it is installed but down (CI machines).
set -euo pipefail
host=${PGHOST_CHECK:-127.0.0.1}
port=${PGPORT_CHECK:-5432}
if command -v pg_isready >/dev/null 2>&1 && pg_isready -q -h "$host" -p "$port"; then exit 0; fi
if command -v pg_ctlcluster >/dev/null 2>&1 && [ -d /etc/postgresql ]; then
  echo "wallet: PostgreSQL is down; starting the local cluster" >&2
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start >&2 || true
  for _ in $(seq 1 30); do pg_isready -q -h "$host" -p "$port" && exit 0; sleep 1; done
fi
echo "wallet: PostgreSQL is not reachable on $host:$port (start it, or set PG_URL / SHARD_URLS)" >&2
exit 1
