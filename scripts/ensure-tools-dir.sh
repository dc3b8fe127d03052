#!/usr/bin/env bash
# .tools holds the binaries built from the Go module proxy (the Temporal CLI and server, the Web
# UI server, moov-io/ach's server): minutes of compiling and linking for each new checkout. A
# checkout without one links it to a per-user cache instead, so a fresh clone (CI's, a second
# worktree) reuses the builds. The version stamps the ensure-*.sh scripts check, and their build
# locks, keep a shared directory correct; WALLET_TOOLS_CACHE=none keeps .tools in the checkout.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -e .tools ] || [ -L .tools ]; then exit 0; fi
cache="${WALLET_TOOLS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/wallet-tools}"
if [ "$cache" = none ]; then exit 0; fi
mkdir -p "$cache"
ln -s "$cache" .tools
