#!/usr/bin/env bash
# Installs Debian's `nats-server` when it is missing: the wallet events stream (docs/events.md,
# "The stream") runs on NATS JetStream, which `npm start` and the tests start on their own ports.
set -euo pipefail
exec bash "$(dirname "$0")/ensure-debian-package.sh" nats-server /usr/sbin/nats-server "the wallet events stream"
