#!/usr/bin/env bash
# Installs Debian's `chromium` when it is missing: the browser tests (test/web-ui.test.ts) drive
# it headless through playwright-core. `npx playwright install` cannot work on machines whose
# only sources are the npm registry and Debian's packages, so the distribution's build is used.
set -euo pipefail
exec bash "$(dirname "$0")/ensure-debian-package.sh" chromium /usr/bin/chromium "the browser tests"
