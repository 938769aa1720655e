#!/usr/bin/env bash
# Refresh the pins: re-resolve requirements.in and requirements-dev.in to today's releases, install the result in a
# fresh virtual environment, run the whole suite there (scripts/test.sh) and print what changed.
#
#   bash scripts/refresh_pins.sh            # refresh, install, test
#   bash scripts/refresh_pins.sh --no-test  # refresh and show the changes only
#
# One universal resolution (uv pip compile --universal) serves Linux, macOS and Windows on Python 3.11 to 3.13.
# macOS means Apple silicon with macOS 14 or newer (torch 2.13 has no other Mac wheels).
# Left out of the pinned files: the CUDA libraries that only torch's Linux CUDA build needs. torch itself pins
# each of them to one version, so the torch build a user installs (README, "A GPU or a Mac") brings its own.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

PYTHON="${PYTHON:-python3}"
run_tests=1
[[ "${1:-}" == "--no-test" ]] && run_tests=0

log() { echo "[refresh_pins] $*"; }

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

log "a fresh virtual environment with uv in $work ..."
"$PYTHON" -m venv "$work/tools"
"$work/tools/bin/python" -m pip install --quiet --progress-bar off --disable-pip-version-check \
    "uv==$(sed -n 's/^uv==\([^ ;]*\).*/\1/p' requirements-dev.txt)"
uv="$work/tools/bin/uv"

cuda_only=(cuda-bindings cuda-pathfinder cuda-toolkit triton)
cuda_only+=($(sed -n 's/^\(nvidia-[a-z0-9-]*\)==.*/\1/p' requirements.txt))  # named today; new ones found below
compile() {  # compile IN OUT: every release up to today, one pinned version per package where possible
    local skip=()
    for name in "${cuda_only[@]}"; do skip+=(--no-emit-package "$name"); done
    "$uv" pip compile --quiet --universal --python-version 3.11 --fork-strategy fewest --upgrade \
        --custom-compile-command "bash scripts/refresh_pins.sh" "${skip[@]}" "$1" -o "$2"
}
# First pass without any exclusion but the known names, to catch CUDA packages a new torch starts to need.
compile requirements.in "$work/probe.txt"
cuda_only+=($(sed -n 's/^\(nvidia-[a-z0-9-]*\)==.*/\1/p' "$work/probe.txt"))
cp requirements.txt "$work/old-requirements.txt"
cp requirements-dev.txt "$work/old-requirements-dev.txt"
compile requirements.in requirements.txt
compile requirements-dev.in requirements-dev.txt

log "checking that the pins resolve on each platform and Python the project supports ..."
for python in 3.11 3.12 3.13; do
    for platform in x86_64-unknown-linux-gnu aarch64-apple-darwin x86_64-pc-windows-msvc; do
        MACOSX_DEPLOYMENT_TARGET=14.0 "$uv" pip compile --quiet --python-version "$python" --python-platform "$platform" \
            --only-binary torch --only-binary pyarrow --only-binary numpy --only-binary pandas \
            requirements-dev.txt -o /dev/null ||
            { log "ERROR: the pins do not install on Python $python, $platform" >&2; exit 1; }
    done
done

log "what changed:"
changes() {  # the name==version lines of a file, markers dropped
    sed -n 's/^\([A-Za-z0-9_.-]*==[^ ;]*\).*/\1/p' "$1" | sort -u
}
diff <(changes "$work/old-requirements-dev.txt") <(changes requirements-dev.txt) |
    sed -n 's/^< /  was: /p; s/^> /  now: /p' || true
if cmp -s "$work/old-requirements-dev.txt" requirements-dev.txt && cmp -s "$work/old-requirements.txt" requirements.txt; then
    log "  nothing: the pins are today's releases already"
fi

if [[ $run_tests -eq 1 ]]; then
    log "installing the new pins in a fresh virtual environment and running the whole suite ..."
    "$PYTHON" -m venv "$work/venv"
    PATH="$work/venv/bin:$PATH" bash scripts/test.sh
    log "the suite passed on the new pins: commit requirements.txt and requirements-dev.txt"
fi
