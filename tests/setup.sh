#!/usr/bin/env bash
# Installs everything the whole test suite needs on a fresh Debian machine that has Python 3.11
# and pip: Debian's Chromium for the browser tests (Playwright drives it; no browser is
# downloaded), Debian's PostgreSQL server (the tests start their own throwaway cluster on
# 127.0.0.1; see tests/databases.py), and this package with its test extras.
set -euo pipefail
cd "$(dirname "$0")/.."

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || missing+=(postgresql)
if [ ${#missing[@]} -gt 0 ]; then
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "${missing[@]}" >/dev/null
fi
python3 -m pip install -q -e '.[test]'
