#!/usr/bin/env bash
# Make a Chromium available for the Playwright (real-browser) tests, and say which one will be used.
#
# Order: an explicit PLAYGROUND_CHROMIUM; Debian's /usr/bin/chromium; a Chromium that Playwright already
# downloaded; `apt-get install chromium` (Debian, as root or with password-less sudo);
# `python -m playwright install [--with-deps] chromium`. tests/e2e/conftest.py picks the same browser.
# SYSTEM_CHROMIUM (default /usr/bin/chromium) exists to exercise the fallbacks on a machine that has it.
set -euo pipefail

SYSTEM_CHROMIUM="${SYSTEM_CHROMIUM:-/usr/bin/chromium}"
PYTHON="${PYTHON:-python}"

log() { echo "[install_browser] $*"; }
# shellcheck source=scripts/apt_install.sh
source "$(dirname "${BASH_SOURCE[0]}")/apt_install.sh"

# Does this executable start and print a version? (A snap stub or a broken install does not.)
works() {
    [[ -x "$1" ]] && timeout 60 "$1" --version >/dev/null 2>&1
}

use() {
    log "browser for the e2e tests: $1 ($(timeout 60 "$1" --version 2>/dev/null || echo 'version unknown'))"
    exit 0
}

# Path of the Chromium that Playwright manages (whether or not it has been downloaded yet).
playwright_chromium() {
    "$PYTHON" - <<'PY' 2>/dev/null
from playwright.sync_api import sync_playwright

with sync_playwright() as p:
    print(p.chromium.executable_path)
PY
}

if [[ -n "${PLAYGROUND_CHROMIUM:-}" ]]; then
    if works "$PLAYGROUND_CHROMIUM"; then
        use "$PLAYGROUND_CHROMIUM"
    fi
    log "PLAYGROUND_CHROMIUM=$PLAYGROUND_CHROMIUM does not run; looking for another browser." >&2
fi

if works "$SYSTEM_CHROMIUM"; then
    use "$SYSTEM_CHROMIUM"
fi

pw_path="$(playwright_chromium || true)"
if [[ -n "$pw_path" ]] && works "$pw_path"; then
    use "$pw_path"
fi

os_id="$(. /etc/os-release 2>/dev/null && echo "${ID:-}" || true)"

# Debian packages a real Chromium; Ubuntu's `chromium` is a snap stub that does not run in containers,
# so Ubuntu goes straight to Playwright's own download below.
if [[ "$os_id" != "ubuntu" ]] && apt_install chromium; then
    if works "$SYSTEM_CHROMIUM"; then
        use "$SYSTEM_CHROMIUM"
    fi
    log "apt-get installed chromium, but $SYSTEM_CHROMIUM does not run." >&2
fi

log "trying Playwright's own Chromium download ..."
if "$PYTHON" -m playwright install --with-deps chromium || "$PYTHON" -m playwright install chromium; then
    pw_path="$(playwright_chromium || true)"
    if [[ -n "$pw_path" ]] && works "$pw_path"; then
        use "$pw_path"
    fi
    log "playwright install finished, but ${pw_path:-its Chromium} does not run (missing system libraries?)." >&2
fi

cat >&2 <<'MSG'
[install_browser] ERROR: no Chromium for the real-browser (e2e) tests.
Install one of these, then run the tests again:
  - Debian:                 sudo apt-get install chromium        (gives /usr/bin/chromium)
  - anywhere with internet: python -m playwright install --with-deps chromium
  - any other Chromium:     export PLAYGROUND_CHROMIUM=/path/to/chromium
MSG
exit 1
