#!/usr/bin/env bash
# The one test command: installs everything the tests need, the browser included, and runs the whole
# suite (unit, app, e2e). Extra arguments go to pytest, e.g. `bash scripts/test.sh -x -k smoke`.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

# Tiny tensors, many sessions: one thread each (docs/architecture.md, "Worker").
export OMP_NUM_THREADS=1
export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_ROOT_USER_ACTION=ignore

echo "[test] installing Python dependencies (requirements-dev.txt) ..."
python -m pip install --quiet --progress-bar off -r requirements-dev.txt

echo "[test] making a Chromium available for the browser tests ..."
bash scripts/install_browser.sh

echo "[test] making nginx available for the classroom set-up test (tests/load) ..."
bash scripts/install_nginx.sh

echo "[test] making PostgreSQL available for the class board's tests (they start their own server) ..."
bash scripts/install_postgres.sh

echo "[test] running pytest ..."
rc=0
python -m pytest "$@" || rc=$?

if [[ $rc -eq 5 ]]; then
    echo "[test] ERROR: pytest collected no tests (exit code 5); treating that as a failure." >&2
    exit 1
fi
if [[ $rc -ne 0 ]]; then
    echo "[test] FAILED: pytest exit code $rc." >&2
fi
exit "$rc"
