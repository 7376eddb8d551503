#!/usr/bin/env bash
# Proves the Linux release binary runs in an empty container: it takes the binary out of the
# archive scripts/package.sh builds (static, hickory-dns resolver), puts it in an otherwise EMPTY
# chroot — the binary, one CA file and /etc/hosts, no libc, no NSS modules, no shell, no CA
# bundle — and gets a registry token from the fake Alibaba Cloud API by its real hostname
# (cr.cn-hangzhou.aliyuncs.com) over HTTPS verified against that one CA.
#
#   flock /tmp/acr-e2e.lock bash scripts/static-chroot.sh [--archive PATH.tar.gz | --bin PATH]
#
# Needs root (chroot, unshare). Everything runs in a private network namespace (unshare --net)
# holding only loopback, so the fake API can take port 443 without touching the host, and the
# helper could not reach any other network even if it tried. --archive takes the binary from an
# archive package.sh already built; --bin tests a given binary; default: build the archive. Prints PASS:/FAIL: per check; exits non-zero if any failed.
set -euo pipefail
cd "$(dirname "$0")/.."

bin= archive=
while [ $# -gt 0 ]; do
  case "$1" in
    --bin) bin=$(realpath "$2"); shift 2 ;;
    --archive) archive=$(realpath "$2"); shift 2 ;;
    --inner) shift; inner=1 ;;
    *) echo "static-chroot: unknown argument $1" >&2; exit 2 ;;
  esac
done

if [ -z "${inner:-}" ]; then
  [ "$(id -u)" = 0 ] || { echo "FAIL: static-chroot needs root (chroot, unshare)"; exit 1; }
  for tool in chroot unshare ip readelf curl; do
    command -v "$tool" >/dev/null || { echo "FAIL: static-chroot needs $tool"; exit 1; }
  done
  tmp=$(mktemp -d /tmp/acr-static.XXXXXX)
  trap 'rm -rf "$tmp"' EXIT
  if [ -z "$bin" ]; then
    [ -n "$archive" ] || archive=$(bash scripts/package.sh --out "$tmp/dist" | tail -n 1)
    tar -xzf "$archive" -C "$tmp"
    bin=$(echo "$tmp"/docker-credential-acr-helper_*/docker-credential-acr-helper)
  fi
  cargo build --release --locked --quiet --example fake_api
  echo "static-chroot: $(file -b "$bin" | cut -d, -f1-2), $(wc -c <"$bin") bytes"
  # A fresh network namespace: only lo, brought up inside.
  unshare --net -- bash "$0" --inner --bin "$bin" </dev/null && exit 0 || exit 1
fi

# ---- inside the private network namespace -------------------------------------------------
ip link set lo up
chroot_bin=$(command -v chroot) # env -i below clears PATH
work=$(mktemp -d /tmp/acr-static-inner.XXXXXX)
pid=
cleanup() {
  [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
fails=0 passes=0
check() { if eval "$2"; then echo "PASS: $1"; passes=$((passes + 1)); else echo "FAIL: $1"; fails=$((fails + 1)); fi; }

host=cr.cn-hangzhou.aliyuncs.com
target/release/examples/fake_api --listen 127.0.0.1:443 --tls-generate "$host" --ca-out "$work/ca.pem" \
  --registry-password static-chroot-password >"$work/fake.out" 2>"$work/fake.err" &
pid=$!
for _ in $(seq 100); do grep -q listening "$work/fake.out" 2>/dev/null && break; sleep 0.1; done
grep -q listening "$work/fake.out" || { echo "FAIL: fake API did not start"; cat "$work/fake.err"; exit 1; }

# The whole container: three files.
root=$work/root
mkdir -p "$root/etc/ssl/certs"
cp "$bin" "$root/docker-credential-acr-helper"
cp "$work/ca.pem" "$root/etc/ssl/certs/ca.pem"
printf '127.0.0.1 %s\n' "$host" >"$root/etc/hosts"
listing=$(cd "$root" && find . -type f | sort | tr '\n' ' ')
check "the chroot holds only the binary, one CA file and /etc/hosts: $listing" \
  '[ "$listing" = "./docker-credential-acr-helper ./etc/hosts ./etc/ssl/certs/ca.pem " ]'
check "the binary has no ELF interpreter and no shared-library dependencies" \
  '! readelf -l "$root/docker-credential-acr-helper" | grep -q INTERP && ! readelf -d "$root/docker-credential-acr-helper" | grep -q NEEDED'

# run [ENV=VALUE...] -- ARGS: the helper inside the chroot, with an empty environment plus ENV.
run() {
  local -a e=()
  while [ "$1" != -- ]; do e+=("$1"); shift; done
  shift
  env -i "${e[@]}" "$chroot_bin" "$root" /docker-credential-acr-helper "$@"
}
creds=(ALIBABA_CLOUD_ACCESS_KEY_ID=testid ALIBABA_CLOUD_ACCESS_KEY_SECRET=testsecret
  ALIBABA_CLOUD_ECS_METADATA_DISABLED=true SSL_CERT_FILE=/etc/ssl/certs/ca.pem)

out=$(run -- version 2>&1) && rc=0 || rc=$?
check "version runs in the empty chroot: $out" '[ $rc = 0 ] && [[ "$out" == docker-credential-acr-helper* ]]'

want='{"ServerURL":"registry.cn-hangzhou.aliyuncs.com","Username":"cr_temp_user","Secret":"static-chroot-password"}'
out=$(run "${creds[@]}" DOCKER_CREDENTIAL_ACR_HELPER_DISABLE_CACHE=true -- get <<<registry.cn-hangzhou.aliyuncs.com 2>"$work/err") && rc=0 || rc=$?
check "get: token from https://$host (resolved from /etc/hosts, TLS verified with the one CA file), exit 0, empty stderr" \
  '[ $rc = 0 ] && [ "$out" = "$want" ] && [ ! -s "$work/err" ]'
[ $rc = 0 ] || sed 's/^/    | /' "$work/err"

# The cache as a kaniko image uses it: HOME=/root, an empty directory. (The helper creates the
# cache inside an existing home, never a missing home itself.)
mkdir -m 0700 "$root/root"
out=$(run "${creds[@]}" HOME=/root -- get <<<registry.cn-hangzhou.aliyuncs.com 2>"$work/err") && rc=0 || rc=$?
out2=$(run "${creds[@]}" HOME=/root -- get <<<registry.cn-hangzhou.aliyuncs.com 2>>"$work/err") && rc2=0 || rc2=$?
calls=$(curl -s --cacert "$work/ca.pem" --resolve "$host:443:127.0.0.1" "https://$host/__fake/stats" |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["total"])')
check "get with HOME=/root (empty) twice: cache created in the chroot, second get served from it (API calls in total: $calls, want 2)" \
  '[ $rc = 0 ] && [ $rc2 = 0 ] && [ "$out" = "$want" ] && [ "$out2" = "$want" ] && [ "$calls" = 2 ] && [ ! -s "$work/err" ]'
[ -s "$work/err" ] && sed 's/^/    | /' "$work/err"

# Negative controls: each missing piece breaks it, with the protocol's one-line error on stdout
# naming the cause (stderr has the log lines: retries, the same error).
mv "$root/etc/ssl/certs/ca.pem" "$work/ca.away"
out=$(run "${creds[@]}" DOCKER_CREDENTIAL_ACR_HELPER_DISABLE_CACHE=true -- get <<<registry.cn-hangzhou.aliyuncs.com 2>/dev/null) && rc=0 || rc=$?
mv "$work/ca.away" "$root/etc/ssl/certs/ca.pem"
check "without the CA file: exit 1, one line on stdout naming SSL_CERT_FILE and its path (exit $rc: $out)" \
  '[ $rc = 1 ] && [ "$(printf "%s\n" "$out" | wc -l)" = 1 ] && [[ "$out" == *"SSL_CERT_FILE"*"/etc/ssl/certs/ca.pem"* ]]'
mv "$root/etc/hosts" "$work/hosts.away"
out=$(run "${creds[@]}" DOCKER_CREDENTIAL_ACR_HELPER_DISABLE_CACHE=true -- get <<<registry.cn-hangzhou.aliyuncs.com 2>/dev/null) && rc=0 || rc=$?
mv "$work/hosts.away" "$root/etc/hosts"
check "without /etc/hosts the name does not resolve: exit 1, one line on stdout naming DNS (exit $rc: $out)" \
  '[ $rc = 1 ] && [ "$(printf "%s\n" "$out" | wc -l)" = 1 ] && [[ "$out" == *"dns error"* ]]'
if [ -x target/release/docker-credential-acr-helper ]; then
  cp target/release/docker-credential-acr-helper "$root/dynamic"
  env -i "$chroot_bin" "$root" /dynamic version >/dev/null 2>&1 && rc=0 || rc=$?
  rm -f "$root/dynamic"
  check "control: the ordinary (dynamically linked) release build cannot even start there (exit $rc)" '[ $rc != 0 ]'
elif [ "${CI:-}" = true ]; then
  check "control: no target/release/docker-credential-acr-helper to compare with (.ci/run builds it before this step)" false
fi

echo "static-chroot: $passes passed, $fails failed"
[ "$fails" = 0 ]
