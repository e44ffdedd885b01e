#!/usr/bin/env bash
# Installs everything the whole test suite needs on a fresh Debian machine that has Python 3.11
# and pip: Debian's Chromium for the browser tests (Playwright drives it; no browser is
# downloaded), and this package with its test extras.
set -euo pipefail
cd "$(dirname "$0")/.."

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

if ! command -v chromium >/dev/null 2>&1; then
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq chromium >/dev/null
fi
python3 -m pip install -q -e '.[test]'
