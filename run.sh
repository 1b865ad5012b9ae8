#!/usr/bin/env bash
# Install fokus into .venv and start it on the embedded SQLite file (data/fokus.db), with demo
# data when that file is new. Open http://localhost:8501 afterwards.
set -euo pipefail
cd "$(dirname "$0")"
sudo_=""; [ "$(id -u)" -ne 0 ] && sudo_="sudo"
# python3-venv to install; chromium and the DejaVu font for the committee note's charts and PDF.
missing=()
python3 -c "import ensurepip" 2>/dev/null || missing+=(python3-venv)
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
[ -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || missing+=(fonts-dejavu-core)
if [ ${#missing[@]} -gt 0 ]; then
    $sudo_ apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo_ apt-get install -y -qq "${missing[@]}"
fi
[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/pip install -q --disable-pip-version-check -r requirements.txt
.venv/bin/python -m fokus init
.venv/bin/python -m fokus demo --if-empty
exec .venv/bin/streamlit run server.py --server.address 127.0.0.1 --server.port "${PORT:-8501}"
