#!/usr/bin/env bash
# Make a checkout runnable: .venv with mcpgw installed (editable, dev extras) and a redis-server.
# Idempotent, and quick when everything is already in place; `make up`, `make test` run it first.
#   PYTHON=python3.12 scripts/bootstrap.sh   # choose the interpreter the venv is made from
#   scripts/bootstrap.sh bench               # also wrk and py-spy, for `make bench`
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

PYTHON=${PYTHON:-python3}
VENV=.venv
STAMP=$VENV/.mcpgw-installed

say() { echo "bootstrap: $*" >&2; }
as_root() { [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; }

apt_install() {
  say "installing $* with apt-get"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

make_venv() {
  if ! command -v "$PYTHON" >/dev/null 2>&1; then
    say "$PYTHON not found: install Python 3.11 or newer (or set PYTHON=/path/to/python3)"
    exit 1
  fi
  if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
    say "mcpgw needs Python 3.11 or newer; $PYTHON is $("$PYTHON" -V 2>&1)"
    exit 1
  fi
  say "creating $VENV with $("$PYTHON" -V 2>&1)"
  if ! "$PYTHON" -m venv "$VENV" 2>/dev/null; then
    rm -rf "$VENV"
    # Debian and Ubuntu ship venv's ensurepip separately.
    if as_root; then
      apt_install "python3-venv"
      "$PYTHON" -m venv "$VENV"
    else
      say "'$PYTHON -m venv' failed: install your distribution's venv package (e.g. sudo apt-get install python3-venv)"
      exit 1
    fi
  fi
}

[ -x "$VENV/bin/python" ] || make_venv

if [ ! -f "$STAMP" ] || [ pyproject.toml -nt "$STAMP" ]; then
  say "installing mcpgw and its dev dependencies into $VENV"
  log=$(mktemp)
  if ! "$VENV/bin/python" -m pip install --disable-pip-version-check -e '.[dev]' >"$log" 2>&1; then
    tail -n 40 "$log" >&2
    rm -f "$log"
    say "pip install failed (its last lines are above)"
    exit 1
  fi
  rm -f "$log"
  touch "$STAMP"
fi

if ! command -v redis-server >/dev/null 2>&1 && [ ! -x /usr/bin/redis-server ] && [ ! -x /usr/sbin/redis-server ]; then
  if as_root; then
    apt_install redis-server
  else
    say "redis-server is not installed. The tests and 'make up' start one of their own:"
    say "  install it (Debian/Ubuntu: sudo apt-get install redis-server; macOS: brew install redis),"
    say "  or for 'make up' point REDIS_URL at a Redis you already run."
  fi
fi

# The console's browser test drives Debian's Chromium through Playwright (no browser download).
if ! command -v chromium >/dev/null 2>&1 && [ ! -x /usr/bin/chromium ]; then
  if as_root; then
    apt_install chromium
  else
    say "chromium is not installed: the console's browser test (tests/console) will skip"
    say "  (Debian/Ubuntu: sudo apt-get install chromium)"
  fi
fi

# Its Firefox test drives Debian's Firefox ESR over WebDriver BiDi with puppeteer-core (fetched from
# npm on first use into .run/node/; no browser download).
if ! command -v firefox-esr >/dev/null 2>&1 && [ ! -x /usr/bin/firefox-esr ]; then
  if as_root; then
    apt_install firefox-esr
  else
    say "firefox-esr is not installed: the console's Firefox test (tests/console/test_console_firefox.py) will skip"
    say "  (Debian: sudo apt-get install firefox-esr)"
  fi
fi

if [ "${1:-}" = bench ]; then
  if ! command -v wrk >/dev/null 2>&1; then
    if as_root; then
      apt_install wrk
    else
      say "wrk is not installed: the benchmark's load generator (Debian/Ubuntu: sudo apt-get install wrk; macOS: brew install wrk)"
    fi
  fi
  # uvicorn and Granian only for bench/servers.py's comparison of HTTP servers.
  [ -x "$VENV/bin/uvicorn" ] && [ -x "$VENV/bin/granian" ] \
    || "$VENV/bin/python" -m pip install -q --disable-pip-version-check uvicorn 'granian>=2.8.9,<2.9' >/dev/null 2>&1 \
    || say "uvicorn or granian could not be installed: bench/servers.py cannot compare them"
  # py-spy only for `bench/run.py --profile`; a failure here does not stop the benchmark.
  [ -x "$VENV/bin/py-spy" ] || "$VENV/bin/python" -m pip install -q --disable-pip-version-check py-spy >/dev/null 2>&1 \
    || say "py-spy could not be installed: --profile will not work"
fi
