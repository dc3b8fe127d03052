#!/usr/bin/env bash
# Installs a Debian package when its program is missing, for what the npm registry cannot give:
#   scripts/ensure-debian-package.sh PACKAGE PROGRAM_PATH PURPOSE
# (chromium for the browser tests, nats-server for the wallet events stream).
set -euo pipefail
package="$1" program="$2" purpose="$3"
if [ -x "$program" ]; then exit 0; fi
echo "wallet: installing Debian's $package package for $purpose (apt-get update, apt-get install -y $package)" >&2
if [ "$(id -u)" -ne 0 ]; then
  echo "wallet: installing $package needs root; run: apt-get update && apt-get install -y $package" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >&2
apt-get install -y -qq "$package" >&2
