#!/usr/bin/env bash
# Starts the machine's local PostgreSQL cluster when it is installed but down (CI machines).
# Only for the default local server: with PG_URL or SHARD_URLS pointing elsewhere, or without
# the PostgreSQL client tools, it does nothing and the wallet reports an unreachable server itself.
set -euo pipefail
if [ -n "${SHARD_URLS:-}" ]; then exit 0; fi
case "${PG_URL:-postgres://postgres@127.0.0.1:5432/postgres}" in
  *@127.0.0.1:5432/* | *@localhost:5432/*) ;;
  *) exit 0 ;;
esac
command -v pg_isready >/dev/null 2>&1 || exit 0
if pg_isready -q -h 127.0.0.1 -p 5432; then exit 0; fi
if command -v pg_ctlcluster >/dev/null 2>&1 && [ -d /etc/postgresql ]; then
  echo "wallet: PostgreSQL is down; starting the local cluster" >&2
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start >&2 || true
  for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && exit 0; sleep 1; done
fi
echo "wallet: PostgreSQL is not reachable on 127.0.0.1:5432 (start it, or set PG_URL / SHARD_URLS)" >&2
exit 1
