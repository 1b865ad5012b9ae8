#!/usr/bin/env bash
# Install everything the tests need on a fresh Debian/Ubuntu machine — Debian's chromium (browser
# tests), PostgreSQL's server binaries (the tests start a throwaway cluster), the Python packages —
# then lint and run every test. Extra arguments go to one plain pytest run instead.
set -euo pipefail
cd "$(dirname "$0")"
sudo_=""; [ "$(id -u)" -ne 0 ] && sudo_="sudo"
missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || missing+=(postgresql)
python3 -c "import ensurepip" 2>/dev/null || missing+=(python3-venv)
[ -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || missing+=(fonts-dejavu-core)
if [ ${#missing[@]} -gt 0 ]; then
    $sudo_ apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo_ apt-get install -y -qq "${missing[@]}"
fi
[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/pip install -q --disable-pip-version-check -r requirements-dev.txt
.venv/bin/ruff check .
if [ $# -gt 0 ]; then
    .venv/bin/python -m pytest "$@"
else
    # Everything but the browser tests on two workers (a test file stays on one worker), then the
    # browser tests on their own: they time real pages and must not share the CPU with the rest, so
    # they run one after another, but beside the one that mostly waits (tests/e2e/conftest.py).
    .venv/bin/python -m pytest -n 2 --dist loadfile -m "not e2e"
    .venv/bin/python -m pytest -m e2e -n 2 --dist loadgroup
fi
