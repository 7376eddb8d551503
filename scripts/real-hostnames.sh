#!/usr/bin/env bash
# Runs the release binary against the fake Alibaba Cloud API reachable at the REAL ACR API
# hostnames (an /etc/hosts entry + a throwaway CA in SSL_CERT_FILE), with no endpoint override:
# exactly what a user's machine does, minus the internet. Needs root (edits /etc/hosts and binds
# port 443 on 127.0.0.1); restores /etc/hosts on exit.
#   bash scripts/real-hostnames.sh            # builds release binaries first
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "$(id -u)" != 0 ]; then
    # A check that cannot run is a skip on a workstation, never a pass in CI.
    if [ "${CI:-}" = true ]; then echo "FAIL: real-hostnames: needs root (CI=true)" >&2; exit 1; fi
    echo "SKIP: real-hostnames: needs root"
    exit 0
fi

cargo build --release --locked --quiet --bin docker-credential-acr-helper --example fake_api
BIN=target/release/docker-credential-acr-helper
tmp=$(mktemp -d)
cp /etc/hosts "$tmp/hosts.orig"
pid=
cleanup() {
  [ -n "$pid" ] && kill "$pid" 2>/dev/null || true
  cat "$tmp/hosts.orig" > /etc/hosts
  rm -rf "$tmp"
}
trap cleanup EXIT
echo "127.0.0.1 cr.cn-hangzhou.aliyuncs.com # docker-credential-acr-helper real-hostnames test" >> /etc/hosts

target/release/examples/fake_api --listen 127.0.0.1:443 \
  --tls-generate cr.cn-hangzhou.aliyuncs.com --ca-out "$tmp/ca.pem" \
  --registry-password real-hostnames-password > "$tmp/fake.out" &
pid=$!
for _ in $(seq 50); do grep -q listening "$tmp/fake.out" 2>/dev/null && break; sleep 0.1; done
grep -q listening "$tmp/fake.out" || { echo "FAIL: fake API did not start"; exit 1; }

stats() { curl -s --cacert "$tmp/ca.pem" https://cr.cn-hangzhou.aliyuncs.com/__fake/stats; }
run() {
  env -i PATH="$PATH" HOME="$tmp" SSL_CERT_FILE="$tmp/ca.pem" \
    ALIBABA_CLOUD_ACCESS_KEY_ID=testid ALIBABA_CLOUD_ACCESS_KEY_SECRET="${SECRET:-testsecret}" \
    ALIBABA_CLOUD_ECS_METADATA_DISABLED=true DOCKER_CREDENTIAL_ACR_HELPER_DISABLE_CACHE=true \
    "$BIN" get <<<"$1"
}
fails=0
check() { if eval "$2"; then echo "PASS: $1"; else echo "FAIL: $1"; fails=$((fails+1)); fi; }

before=$(stats)
out=$(run registry.cn-hangzhou.aliyuncs.com)
check "personal get answers JSON via https://cr.cn-hangzhou.aliyuncs.com" \
  '[ "$out" = "{\"ServerURL\":\"registry.cn-hangzhou.aliyuncs.com\",\"Username\":\"cr_temp_user\",\"Secret\":\"real-hostnames-password\"}" ]'
check "personal get made 1 API call" '[ "$(stats | python3 -c "import json,sys; print(json.load(sys.stdin)[\"total\"])")" = 1 ]'

out=$(run myinst-registry.cn-hangzhou.cr.aliyuncs.com)
check "enterprise get answers JSON" 'python3 -c "import json,sys; d=json.loads(sys.argv[1]); assert d[\"Secret\"]==\"real-hostnames-password\"" "$out"'
check "enterprise get made 2 API calls (ListInstance + GetAuthorizationToken)" \
  '[ "$(stats | python3 -c "import json,sys; d=json.load(sys.stdin)[\"calls\"]; print(d.get(\"ListInstance\",0), d[\"GetAuthorizationToken\"])")" = "1 2" ]'

set +e
out=$(run example.com); rc=$?
set -e
check "example.com: exact not-found line, exit 1, no API call" \
  '[ "$out" = "credentials not found in native keychain" ] && [ $rc = 1 ] && [ "$(stats | python3 -c "import json,sys; print(json.load(sys.stdin)[\"total\"])")" = 3 ]'

set +e
out=$(SECRET=wrong run registry.cn-hangzhou.aliyuncs.com 2>/dev/null); rc=$?
set -e
check "wrong secret: one line SignatureDoesNotMatch, exit 1" \
  '[ $rc = 1 ] && [ "$(printf "%s\n" "$out" | wc -l)" = 1 ] && [[ "$out" == *"Code SignatureDoesNotMatch"* ]]'
echo "$out"
echo "real-hostnames: $((6-fails)) passed, $fails failed"
[ "$fails" = 0 ]
