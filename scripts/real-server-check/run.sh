#!/bin/sh
# Run the real-server check (not part of CI: ~2 minutes, needs PyPI once, noisy on a busy host).
#   scripts/real-server-check/run.sh [--out DIR] [--skip-real] [--cascade PATH]
# Creates .venv beside this script on first use (gunicorn and matplotlib, pinned in requirements.txt).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
if [ ! -x "$here/.venv/bin/gunicorn" ]; then
    python3 -m venv "$here/.venv"
    "$here/.venv/bin/pip" install -q -r "$here/requirements.txt"
fi
exec "$here/.venv/bin/python" "$here/run.py" "$@"
