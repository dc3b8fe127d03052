#!/usr/bin/env bash
# Installs the npm dependencies from the lockfile when they are missing or stale.
set -euo pipefail
cd "$(dirname "$0")/.."
# 20.19 is the first Node 20 that loads ES-module-only packages (jose, node-pg-migrate) with require().
if ! command -v node >/dev/null || ! node -e 'const [major, minor] = process.versions.node.split(".").map(Number); process.exit(major > 20 || (major === 20 && minor >= 19) ? 0 : 1)'; then
  echo "wallet: Node.js 20.19 or newer is required (found: $(node --version 2>/dev/null || echo none))" >&2
  exit 1
fi
# Installed when the lockfile's content differs from the one last installed (a content hash, not
# file times: a fresh checkout or a git worktree has a newer lockfile with the same content, and an
# install there would rewrite a node_modules that running processes are using).
lock_hash="$(sha256sum package-lock.json | cut -d' ' -f1)"
stamp=node_modules/.wallet-lock-sha256
if [ ! -f node_modules/.package-lock.json ] || [ "$(cat "$stamp" 2>/dev/null)" != "$lock_hash" ]; then
  echo "wallet: installing npm dependencies from package-lock.json" >&2
  # Not `npm ci`: registry mirrors that carry only this platform's optional packages (e.g.
  # @swc/core's darwin and win32 builds) leave those out of the lockfile, and npm ci refuses
  # such a lockfile. `npm install --no-save` installs the locked versions and writes nothing.
  npm install --no-audit --no-fund --no-save --loglevel=error >&2
  echo "$lock_hash" >"$stamp"
fi
