#!/usr/bin/env bash
# Installs Debian's `chromium` when it is missing: the browser tests (test/web-ui.test.ts) drive
# it headless through playwright-core. `npx playwright install` cannot work on machines whose
# only sources are the npm registry and Debian's packages, so the distribution's build is used.
set -euo pipefail
if [ -x /usr/bin/chromium ]; then exit 0; fi
echo "wallet: installing Debian's chromium package for the browser tests (apt-get update, apt-get install -y chromium)" >&2
if [ "$(id -u)" -ne 0 ]; then
  echo "wallet: installing chromium needs root; run: apt-get update && apt-get install -y chromium" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >&2
apt-get install -y -qq chromium >&2
