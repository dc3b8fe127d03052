#!/usr/bin/env bash
# Installs the npm dependencies from the lockfile when they are missing or stale.
set -euo pipefail
cd "$(dirname "$0")/.."
# 20.19 is the first Node 20 that loads ES-module-only packages (jose, node-pg-migrate) with require().
if ! command -v node >/dev/null || ! node -e 'const [major, minor] = process.versions.node.split(".").map(Number); process.exit(major > 20 || (major === 20 && minor >= 19) ? 0 : 1)'; then
  echo "wallet: Node.js 20.19 or newer is required (found: $(node --version 2>/dev/null || echo none))" >&2
  exit 1
fi
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "wallet: installing npm dependencies from package-lock.json" >&2
  # Not `npm ci`: registry mirrors that carry only this platform's optional packages (e.g.
  # @swc/core's darwin and win32 builds) leave those out of the lockfile, and npm ci refuses
  # such a lockfile. `npm install --no-save` installs the locked versions and writes nothing.
  npm install --no-audit --no-fund --no-save --loglevel=error >&2
fi
