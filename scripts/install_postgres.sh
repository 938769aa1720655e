#!/usr/bin/env bash
# Make PostgreSQL's server binaries available for the class board's tests (tests/unit/test_board_store.py), which
# start their own throwaway server (tests/pg.py: initdb into a temporary directory, a Unix socket, no TCP port).
#
# Order: initdb and pg_ctl already in /usr/lib/postgresql/*/bin (Debian's layout), $PG_BIN, or on PATH;
# `apt-get install postgresql` (Debian/Ubuntu, as root or with password-less sudo). Note: on a host that runs
# systemd, Debian's package also creates and starts a system cluster on port 5432; the tests never use it.
set -euo pipefail

log() { echo "[install_postgres] $*"; }
# shellcheck source=scripts/apt_install.sh
source "$(dirname "${BASH_SOURCE[0]}")/apt_install.sh"

found() {
    local dir
    for dir in ${PG_BIN:+"$PG_BIN"} $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -t/ -k5 -n -r); do
        if [[ -x "$dir/initdb" && -x "$dir/pg_ctl" ]]; then
            echo "$dir"
            return 0
        fi
    done
    if command -v pg_ctl >/dev/null 2>&1 && command -v initdb >/dev/null 2>&1; then
        dirname "$(command -v pg_ctl)"
        return 0
    fi
    return 1
}

if dir="$(found)"; then
    log "PostgreSQL: $dir ($("$dir/pg_ctl" --version))"
    exit 0
fi

if apt_install postgresql; then
    if dir="$(found)"; then
        log "PostgreSQL: $dir ($("$dir/pg_ctl" --version))"
        exit 0
    fi
    log "apt-get installed postgresql, but no initdb/pg_ctl was found." >&2
fi

cat >&2 <<'MSG'
[install_postgres] ERROR: no PostgreSQL server binaries (initdb, pg_ctl) for the class board's tests.
Install them, then run the tests again:
  - Debian/Ubuntu:  sudo apt-get install postgresql
  - Fedora/RHEL:    sudo dnf install postgresql-server
  - macOS:          brew install postgresql
  - or set PG_BIN to the directory that holds initdb and pg_ctl
MSG
exit 1
