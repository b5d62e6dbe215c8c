#!/usr/bin/env bash
# Sets up a virtual environment with stswatch and its embedded broker and Redis (if needed),
# then runs the embedded default: `stswatch up`. Extra arguments go to `stswatch up`.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON="${PYTHON:-python3}"
if [ ! -x .venv/bin/stswatch ]; then
  "$PYTHON" -m venv .venv
  .venv/bin/python -m pip install -q --upgrade pip >/dev/null
  .venv/bin/python -m pip install -q -e '.[embedded]'
fi
exec .venv/bin/stswatch up "$@"
