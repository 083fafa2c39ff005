#!/usr/bin/env bash
# Installs what tandem and its tests need on a fresh Debian 12 machine (run as root). Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian packages the test suite uses. Installed only when missing, so a second run costs nothing.
# keepalived, iputils-arping and tcpdump: the VRRP interop tests in test/netns (keepalived 2.2.7 is the peer);
# make and g++ (with python3): node-gyp builds the native addon during npm install.
APT_PACKAGES=(iproute2 keepalived iputils-arping tcpdump python3 make g++)
missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
  if [ "$(id -u)" -ne 0 ]; then
    echo "setup: need root to install: ${missing[*]}" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

node_major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
if [ "$node_major" -lt 20 ]; then
  echo "setup: tandem needs Node.js 20 or newer (found: $(node --version 2>/dev/null || echo none))" >&2
  exit 1
fi

# npm ci refuses a lock file that lacks other platforms' optional packages (biome's win32/darwin binaries), which
# happens when the registry mirror in use does not carry them. npm install with the same lock installs the very same
# pinned versions without rewriting the lock.
if ! npm ci --no-audit --no-fund --loglevel=error 2>/tmp/tandem-npm-ci.log; then
  echo "setup: npm ci refused the lock file ($(grep -m1 -o 'Missing: [^ ]*' /tmp/tandem-npm-ci.log || echo 'see /tmp/tandem-npm-ci.log')); installing the locked versions with npm install" >&2
  npm install --no-save --no-audit --no-fund --loglevel=error
fi
