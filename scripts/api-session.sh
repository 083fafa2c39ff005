#!/usr/bin/env bash
# An API session transcript from a real run (docs/api.md, issue 12's closing note): a proxy-only tandem node on
# 127.0.0.1 (no root needed), two users made with `tandem user add`, then curl as a viewer (a drain refused with 403)
# and as an operator (the drain works), and the audit lines the session left. Everything it starts it stops, by PID;
# everything it writes is under one temp directory, removed at the end.
#
#   npm run build && scripts/api-session.sh
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
tandem() { node "$root/bin/tandem" "$@"; }
dir=$(mktemp -d "/tmp/t12a-session-$$-XXXX")
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$dir"
}
trap cleanup EXIT

free_port() { node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }
backend=$(free_port)
svc=$(free_port)
api=$(free_port)
node -e "require('http').createServer((q,r)=>r.end('backend\n')).listen($backend,'127.0.0.1')" &
pids+=($!)

cat >"$dir/tandem.yaml" <<EOF
lb:
  services:
    - name: web
      vip: 127.0.0.1
      port: $svc
      dataplane: proxy
      real_servers:
        - { address: 127.0.0.1, port: $backend }
api:
  listen: 127.0.0.1:$api
  users_file: $dir/users.json
  audit_log: $dir/audit.log
EOF

show() { printf '$ %s\n' "$*"; }
run() { show "$@"; "$@"; echo; }

echo '# users (passwords from stdin; a terminal would prompt with echo off)'
show "echo '********' | tandem user add vera --role viewer --password-stdin"
echo 'vera-secret-pw' | tandem user add vera --role viewer --password-stdin --users-file "$dir/users.json" 2>&1 | sed "s#$dir/##"
show "echo '********' | tandem user add otto --role operator --password-stdin"
echo 'otto-secret-pw' | tandem user add otto --role operator --password-stdin --users-file "$dir/users.json" 2>&1 | sed "s#$dir/##"
show tandem user list
tandem user list --users-file "$dir/users.json"
echo

node "$root/bin/tandem" run -c "$dir/tandem.yaml" --control "$dir/t12a-session.sock" --node d1 >"$dir/daemon.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 200); do
  grep -q 'serving virtual service web' "$dir/daemon.log" 2>/dev/null && grep -q 'HTTP API listening' "$dir/daemon.log" && break
  sleep 0.1
done
grep -E 'HTTP API listening' "$dir/daemon.log" | sed -e 's/^/# daemon: /' -e "s#$dir/##g"
base="http://127.0.0.1:$api"
echo

echo '# as the viewer: log in, read, try to drain (refused: 403)'
show "curl -sS -c vera.jar -H 'content-type: application/json' -d '{\"user\":\"vera\",\"password\":\"********\"}' $base/api/v1/login"
curl -sS -c "$dir/vera.jar" -H 'content-type: application/json' \
  -d '{"user":"vera","password":"vera-secret-pw"}' "$base/api/v1/login"
echo
vcsrf=$(curl -sS -b "$dir/vera.jar" "$base/api/v1/whoami" | node -pe 'JSON.parse(require("fs").readFileSync(0)).csrf')
show "curl -sS -b vera.jar $base/api/v1/status | jq '.lb.services[0].servers[0] | {key, op, weight}'"
curl -sS -b "$dir/vera.jar" "$base/api/v1/status" |
  node -pe 'const s=JSON.parse(require("fs").readFileSync(0)).lb.services[0].servers[0]; JSON.stringify({key:s.key,op:s.op,weight:s.weight})'
echo
show "curl -sS -w ' HTTP %{http_code}\\n' -b vera.jar -H \"X-CSRF-Token: \$csrf\" -d '{\"service\":\"web\",\"verb\":\"drain\",\"server\":\"127.0.0.1:$backend\",\"wait\":false}' $base/api/v1/rs"
curl -sS -w ' HTTP %{http_code}\n' -b "$dir/vera.jar" -H "X-CSRF-Token: $vcsrf" -H 'content-type: application/json' \
  -d "{\"service\":\"web\",\"verb\":\"drain\",\"server\":\"127.0.0.1:$backend\",\"wait\":false}" "$base/api/v1/rs"
echo

echo '# as the operator: log in, drain without the CSRF header (refused), then with it (done)'
show "curl -sS -c otto.jar -H 'content-type: application/json' -d '{\"user\":\"otto\",\"password\":\"********\"}' $base/api/v1/login"
curl -sS -c "$dir/otto.jar" -H 'content-type: application/json' \
  -d '{"user":"otto","password":"otto-secret-pw"}' "$base/api/v1/login"
echo
ocsrf=$(curl -sS -b "$dir/otto.jar" "$base/api/v1/whoami" | node -pe 'JSON.parse(require("fs").readFileSync(0)).csrf')
show "curl -sS -w ' HTTP %{http_code}\\n' -b otto.jar -d '{...drain...}' $base/api/v1/rs"
curl -sS -w ' HTTP %{http_code}\n' -b "$dir/otto.jar" -H 'content-type: application/json' \
  -d "{\"service\":\"web\",\"verb\":\"drain\",\"server\":\"127.0.0.1:$backend\",\"wait\":false}" "$base/api/v1/rs"
show "curl -sS -w ' HTTP %{http_code}\\n' -b otto.jar -H \"X-CSRF-Token: \$csrf\" -d '{...drain...}' $base/api/v1/rs"
curl -sS -w ' HTTP %{http_code}\n' -b "$dir/otto.jar" -H "X-CSRF-Token: $ocsrf" -H 'content-type: application/json' \
  -d "{\"service\":\"web\",\"verb\":\"drain\",\"server\":\"127.0.0.1:$backend\",\"wait\":false}" "$base/api/v1/rs"
show "curl -sS -b otto.jar $base/api/v1/status | jq '.lb.services[0].servers[0] | {key, op, weight, admin}'"
curl -sS -b "$dir/otto.jar" "$base/api/v1/status" |
  node -pe 'const s=JSON.parse(require("fs").readFileSync(0)).lb.services[0].servers[0]; JSON.stringify({key:s.key,op:s.op,weight:s.weight,admin:s.admin})'
echo
show tandem status
tandem status --control "$dir/t12a-session.sock" | sed "s#$dir/##g"

echo '# the audit log (0600), one JSON line per action'
show "stat -c '%a %n' audit.log; cat audit.log"
stat -c '%a %n' "$dir/audit.log" | sed "s#$dir/##"
cat "$dir/audit.log"
