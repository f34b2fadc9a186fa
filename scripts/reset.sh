#!/usr/bin/env bash
# `make reset`: wipe the local state `make up` keeps (.run/, or MCPGW_RUN_DIR): the NATS store (every
# server, consumer and grant), Redis's sessions, the admin token, the demo key and JWT secret, and the Node.js tools
# the tests fetched. Asks first; `make reset ARGS=-y` (or scripts/reset.sh -y) does not.
set -euo pipefail
# MCPGW_RUN_DIR as the caller's shell meant it; the default beside this script.
dir=${MCPGW_RUN_DIR:-$(dirname "${BASH_SOURCE[0]}")/../.run}
yes=
case "${1:-}" in
  -y|--yes) yes=1 ;;
  "") ;;
  *) echo "usage: scripts/reset.sh [-y]" >&2; exit 2 ;;
esac

if [ ! -e "$dir" ]; then
  echo "reset: $dir does not exist: nothing to wipe"
  exit 0
fi
abs=$(cd "$dir" && pwd -P)
# A nats-server or redis-server of `make up` still writing there would recreate half of it.
if command -v pgrep >/dev/null 2>&1 && pgrep -f -- "$abs/" >/dev/null 2>&1; then
  echo "reset: processes still use $abs (is make up running? stop it first):" >&2
  pgrep -a -f -- "$abs/" >&2 || true
  exit 1
fi
if [ -z "$yes" ]; then
  printf 'Delete %s: the configuration (servers, consumers, grants), sessions, the admin token\nand the demo key and JWT secret? [y/N] ' "$abs" >&2
  answer=
  read -r answer || true
  case "$answer" in
    y|Y|yes|YES) ;;
    *) echo "reset: nothing deleted" >&2; exit 1 ;;
  esac
fi
rm -rf -- "$abs"
echo "reset: deleted $abs"
