#!/usr/bin/env bash
# Sourced by the scripts that install what a fresh machine lacks. `install_packages PKG...` installs Debian packages
# and stops the calling script with a clear message when it cannot: not root (and no sudo), no apt-get, or a failed
# install. It never lets the script go on without what it needed.
install_packages() {
  local runner=()
  if ((EUID != 0)); then
    if command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
      runner=(sudo -n)
    else
      echo "error: $* must be installed, which needs root (or password-less sudo); install them and run this again" >&2
      exit 1
    fi
  fi
  if ! command -v apt-get >/dev/null; then
    echo "error: $* must be installed and this is not a Debian-like system (no apt-get); install them and run this again" >&2
    exit 1
  fi
  echo "installing: $*"
  if ! "${runner[@]}" apt-get update -qq || ! DEBIAN_FRONTEND=noninteractive "${runner[@]}" apt-get install -y -qq "$@"; then
    echo "error: installing $* failed (see apt-get's message above); install them and run this again" >&2
    exit 1
  fi
}
