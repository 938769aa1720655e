# Sourced by the install_*.sh scripts: apt_install PACKAGE... installs Debian packages with apt-get, as root or
# with password-less sudo (the package lists are refreshed only if the first try fails: most machines have them).
# Status: 0 installed, 1 apt-get failed, 2 no apt-get here or not allowed to use it (it logs which, with `log`).
apt_install() {
    if ! command -v apt-get >/dev/null 2>&1; then
        return 2
    fi
    local as=()
    if [[ "$(id -u)" -ne 0 ]]; then
        if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
            as=(sudo -n)
        else
            log "apt-get is here but we are not root and sudo needs a password; skipping apt-get." >&2
            return 2
        fi
    fi
    local apt=("${as[@]}" env DEBIAN_FRONTEND=noninteractive apt-get)
    log "installing $* with apt-get ..."
    if "${apt[@]}" install -y -qq --no-install-recommends "$@" ||
        { "${apt[@]}" update -qq && "${apt[@]}" install -y -qq --no-install-recommends "$@"; }; then
        return 0
    fi
    log "apt-get install $* failed." >&2
    return 1
}
