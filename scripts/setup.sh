#!/usr/bin/env bash
# Installs what tandem and its tests need on a fresh Debian 12 machine (run as root). Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian packages the test suite uses. Installed only when missing, so a second run costs nothing.
# iproute2, iputils-ping, procps, util-linux: the namespace labs of test/netns (ip, ping, pgrep, setpriv);
# keepalived: the interop peer (Debian's 2.2.7); python3: an independent raw-packet sender in the tests, and with
# make and g++ what node-gyp builds the native addon with during npm install; tcpdump: bench/failover; nftables and
# conntrack: the kernel data plane (nft) and its connection counts; resource-agents (with kmod, which its Filesystem
# agent needs): the OCF agents the resource tests run unmodified; wrk, haproxy, nginx-light, curl: bench/lb and the
# tests of its configs (haproxy -c, nginx -t); conntrackd: NAT connection-state replication (lb.conntrack_sync);
# fence-agents (about 8 MB with its Python modules): the fence agents whose `-o metadata` the fencing checks read and
# whose stdin protocol the fence runner speaks (fence_dummy, fence_virsh).
APT_PACKAGES=(iproute2 iputils-ping procps util-linux keepalived tcpdump python3 make g++ nftables conntrack resource-agents kmod
  wrk haproxy nginx-light curl conntrackd fence-agents)
missing=()
# faketime (libfaketime): the partition suite's wall-clock jump, given to the directors' processes only (LD_PRELOAD),
# because the wall clock is one for the whole machine and no namespace isolates it (test/netns/nemesis.ts).
APT_PACKAGES+=(faketime)
# prometheus (issue 12, metrics): its promtool checks the /metrics exposition in test/netns/metrics.test.ts.
APT_PACKAGES+=(prometheus)

# openssl: the STARTTLS certificate of the e-mail alerts test (test/e2e/alerts-smtp.test.ts; issue 12 item 5).
APT_PACKAGES+=(openssl)
# etcd-server (etcd 3.4): the etcd issue's tests and benchmarks start their own members from /usr/bin/etcd, on lab
# addresses or their own loopback ports, with data in temp dirs (a packaged etcd.service, if systemd runs one, is not used).
APT_PACKAGES+=(etcd-server)
# chromium: the web console's browser tests (playwright-core drives Debian's build; no browser download).
APT_PACKAGES+=(chromium)
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

# The runtime is compiled JavaScript (dist/, esbuild): bin/tandem runs it. `npm test` rebuilds it too.
npm run build --silent
