#!/usr/bin/env bash
# Installs the .rpm into an EMPTY directory with `rpm --root` (its own rpm database inside it),
# proves the installed helper runs there (`version`, and a `get` against the fake Alibaba Cloud
# API through chroot: the static binary needs nothing else in that root), verifies the
# installation with `rpm -V`, removes it with `rpm -e` and checks none of its files is left.
# Run by .ci/run after scripts/package.sh --rpm; check-dist.py checks the metadata first.
#
#   bash scripts/rpm-smoke.sh target/dist/docker-credential-acr-helper-<version>-1.<arch>.rpm
#
# Needs root (chroot), rpm (Debian: apt-get install rpm) and a CA bundle at
# /etc/ssl/certs/ca-certificates.crt (copied into the root for the get). Touches nothing outside its temp
# directory: the host's own rpm database (if any) is never used.
set -euo pipefail
rpm=$(realpath "${1:?usage: rpm-smoke.sh PACKAGE.rpm}")
cd "$(dirname "$0")/.."
name=docker-credential-acr-helper
[ "$(id -u)" = 0 ] || { echo "FAIL: rpm-smoke needs root (rpm --root, chroot)"; exit 1; }
command -v rpm >/dev/null || { echo "FAIL: rpm-smoke needs rpm (apt-get install rpm)"; exit 1; }

cargo build --release --locked --quiet --example fake_api
tmp=$(mktemp -d /tmp/acr-rpm.XXXXXX)
root=$tmp/root db=/var/lib/rpm # --dbpath is inside --root
mkdir -m 755 "$root"
pid=
cleanup() {
  [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT
fails=0 passes=0
check() { if eval "$2"; then echo "PASS: $1"; passes=$((passes + 1)); else echo "FAIL: $1"; fails=$((fails + 1)); fi; }
r() { rpm --root "$root" --dbpath "$db" "$@"; }

r --initdb
# No --nodeps: the package must install where nothing else is, requiring only rpmlib features.
r -i "$rpm" >"$tmp/i.log" 2>&1 && rc=0 || rc=$?
check "rpm -i --root (an empty directory) $(basename "$rpm"): exit 0, no dependency needed" '[ $rc = 0 ]'
[ $rc = 0 ] || { sed 's/^/    | /' "$tmp/i.log"; exit 1; }
check "rpm -q --root: $(r -q "$name" 2>&1)" 'r -q "$name" >/dev/null'
r -V "$name" >"$tmp/v.log" 2>&1 && rc=0 || rc=$?
check "rpm -V: every installed file has its packaged digest, mode and owner" '[ $rc = 0 ] && [ ! -s "$tmp/v.log" ]'
[ -s "$tmp/v.log" ] && sed 's/^/    | /' "$tmp/v.log"
files=$(r -ql "$name" | sort)
check "the binary is /usr/bin/$name, -rwxr-xr-x root" \
  '[ "$(stat -c "%A %U" "$root/usr/bin/$name")" = "-rwxr-xr-x root" ]'

chroot_bin=$(command -v chroot) # env -i below clears PATH
out=$(env -i "$chroot_bin" "$root" "/usr/bin/$name" version 2>&1) && rc=0 || rc=$?
check "chroot ROOT /usr/bin/$name version (a root holding only the package): $out" \
  '[ $rc = 0 ] && [[ "$out" == "$name "* ]]'

# The CA bundle where Alibaba Cloud Linux / RHEL keep it (their ca-certificates package; the
# helper sets up TLS even for a plain-http endpoint). Not the package's: removed before rpm -e.
bundle=/etc/pki/tls/certs/ca-bundle.crt
install -D -m 644 /etc/ssl/certs/ca-certificates.crt "$root$bundle"

target/release/examples/fake_api --listen 127.0.0.1:0 --access-key testid:testsecret \
  --registry-password rpm-smoke-password >"$tmp/fake.out" 2>"$tmp/fake.err" &
pid=$!
for _ in $(seq 100); do grep -q listening "$tmp/fake.out" 2>/dev/null && break; sleep 0.1; done
url=$(sed -n 's/^listening on //p' "$tmp/fake.out")
[ -n "$url" ] || { echo "FAIL: fake API did not start"; cat "$tmp/fake.err"; exit 1; }
out=$(env -i ALIBABA_CLOUD_ACCESS_KEY_ID=testid ALIBABA_CLOUD_ACCESS_KEY_SECRET=testsecret \
  ALIBABA_CLOUD_ECS_METADATA_DISABLED=true DOCKER_CREDENTIAL_ACR_HELPER_ENDPOINT="$url" \
  DOCKER_CREDENTIAL_ACR_HELPER_DISABLE_CACHE=true \
  "$chroot_bin" "$root" "/usr/bin/$name" get <<<registry.cn-hangzhou.aliyuncs.com 2>"$tmp/err") && rc=0 || rc=$?
check "chroot ROOT /usr/bin/$name get registry.cn-hangzhou.aliyuncs.com against the fake API (CA bundle at $bundle): token, exit 0, empty stderr" \
  '[ $rc = 0 ] && [ "$out" = "{\"ServerURL\":\"registry.cn-hangzhou.aliyuncs.com\",\"Username\":\"cr_temp_user\",\"Secret\":\"rpm-smoke-password\"}" ] && [ ! -s "$tmp/err" ]'
[ -s "$tmp/err" ] && sed 's/^/    | /' "$tmp/err"

rm "$root$bundle"
r -e "$name" >"$tmp/e.log" 2>&1 && rc=0 || rc=$?
left=$(while read -r f; do [ -e "$root$f" ] || [ -L "$root$f" ] && [ ! -d "$root$f" ] && echo "$f"; done <<<"$files" || true)
# Directories rpm made for the files (/usr/share/...) stay, as rpm leaves unowned ones; no file
# or link may remain outside the database.
rest=$(cd "$root" && find . ! -type d ! -path ".$db/*" | sort | tr '\n' ' ')
check "rpm -e --root $name: exit 0, not installed any more, no file left in the root (${rest:-none})" \
  '[ $rc = 0 ] && ! r -q "$name" >/dev/null 2>&1 && [ -z "$left" ] && [ -z "$rest" ]'
[ $rc = 0 ] || sed 's/^/    | /' "$tmp/e.log"

echo "rpm-smoke: $passes passed, $fails failed"
[ "$fails" = 0 ]
