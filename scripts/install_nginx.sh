#!/usr/bin/env bash
# Make nginx available for the classroom set-up (deploy/start.sh) and its test (tests/load, marked slow).
#
# Order: nginx already on PATH (or /usr/sbin/nginx); `apt-get install nginx` (Debian/Ubuntu, as root or with
# password-less sudo). Note: on a host that runs systemd, Debian's package also starts a system nginx on port 80;
# deploy/start.sh never uses it (it runs its own nginx with its own configuration and pid file).
set -euo pipefail

log() { echo "[install_nginx] $*"; }
# shellcheck source=scripts/apt_install.sh
source "$(dirname "${BASH_SOURCE[0]}")/apt_install.sh"

found() {
    command -v nginx 2>/dev/null || { [[ -x /usr/sbin/nginx ]] && echo /usr/sbin/nginx; } || return 1
}

if path="$(found)"; then
    log "nginx: $path ($("$path" -v 2>&1))"
    exit 0
fi

if apt_install nginx; then
    if path="$(found)"; then
        log "nginx: $path ($("$path" -v 2>&1))"
        exit 0
    fi
    log "apt-get installed nginx, but no nginx executable was found." >&2
fi

cat >&2 <<'MSG'
[install_nginx] ERROR: no nginx for the classroom set-up (deploy/start.sh) and its test.
Install it, then run the tests again:
  - Debian/Ubuntu:  sudo apt-get install nginx
  - Fedora/RHEL:    sudo dnf install nginx
  - macOS:          brew install nginx
  - or put any nginx >= 1.19.5 on PATH (or set NGINX=/path/to/nginx for deploy/start.sh)
MSG
exit 1
