#!/usr/bin/env bash
# Installs the .deb on this machine with dpkg -i, smoke-tests the installed helper (version,
# the files it installed, a `get` against the fake Alibaba Cloud API), then removes it with
# dpkg -r and checks nothing of it is left. Run by .ci/run after scripts/package.sh --deb.
#
#   bash scripts/deb-smoke.sh target/dist/docker-credential-acr-helper_<version>_<arch>.deb
#
# Needs root and dpkg. Refuses (FAIL) if the package is already installed, so it never replaces
# or removes a copy somebody installed on purpose.
set -euo pipefail
cd "$(dirname "$0")/.."
deb=$(realpath "${1:?usage: deb-smoke.sh PACKAGE.deb}")
name=docker-credential-acr-helper
[ "$(id -u)" = 0 ] || { echo "FAIL: deb-smoke needs root (dpkg -i)"; exit 1; }
if dpkg-query -W -f '${Status}' "$name" 2>/dev/null | grep -q ' installed$'; then
  echo "FAIL: $name is already installed on this machine; not touching it (dpkg -r $name first)"
  exit 1
fi

cargo build --release --locked --quiet --example fake_api
tmp=$(mktemp -d)
pid= installed=
cleanup() {
  [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true
  [ -n "$installed" ] && dpkg -r "$name" >/dev/null 2>&1 || true
  rm -rf "$tmp"
}
trap cleanup EXIT
fails=0 passes=0
check() { if eval "$2"; then echo "PASS: $1"; passes=$((passes + 1)); else echo "FAIL: $1"; fails=$((fails + 1)); fi; }

dpkg -i "$deb" >"$tmp/dpkg-i.log" 2>&1 && rc=0 || rc=$?
installed=1
check "dpkg -i $(basename "$deb")" '[ $rc = 0 ]'
[ $rc = 0 ] || { sed 's/^/    | /' "$tmp/dpkg-i.log"; exit 1; }
check "dpkg reports $name installed" \
  '[ "$(dpkg-query -W -f "\${Status}" "$name")" = "install ok installed" ]'
out=$(env -i PATH=/usr/bin:/bin "$name" version 2>&1) && rc=0 || rc=$?
check "$name version (PATH=/usr/bin:/bin only): $out" '[ $rc = 0 ] && [ -x "/usr/bin/$name" ]'
files=$(dpkg -L "$name" | sort)
check "installed the binary and docs" \
  'grep -qx "/usr/bin/$name" <<<"$files" && grep -qx "/usr/share/doc/$name/copyright" <<<"$files"'
if grep -q completions <<<"$files"; then
  check "installed bash/zsh/fish completions and the man page" \
    'grep -qx "/usr/share/bash-completion/completions/$name" <<<"$files" && grep -qx "/usr/share/zsh/vendor-completions/_$name" <<<"$files" && grep -qx "/usr/share/fish/vendor_completions.d/$name.fish" <<<"$files" && grep -qx "/usr/share/man/man1/$name.1.gz" <<<"$files"'
  check "man page is valid troff (man -l renders it)" \
    '! command -v man >/dev/null || MANPAGER=cat man -l "/usr/share/man/man1/$name.1.gz" 2>/dev/null | grep -q .'
else
  echo "NOTE: this build has no completions/man page yet (binary without the commands)"
fi

target/release/examples/fake_api --listen 127.0.0.1:0 --access-key testid:testsecret \
  --registry-password deb-smoke-password >"$tmp/fake.out" 2>"$tmp/fake.err" &
pid=$!
for _ in $(seq 100); do grep -q listening "$tmp/fake.out" 2>/dev/null && break; sleep 0.1; done
url=$(sed -n 's/^listening on //p' "$tmp/fake.out")
[ -n "$url" ] || { echo "FAIL: fake API did not start"; cat "$tmp/fake.err"; exit 1; }
out=$(env -i PATH=/usr/bin:/bin HOME="$tmp" ALIBABA_CLOUD_ACCESS_KEY_ID=testid ALIBABA_CLOUD_ACCESS_KEY_SECRET=testsecret \
  ALIBABA_CLOUD_ECS_METADATA_DISABLED=true DOCKER_CREDENTIAL_ACR_HELPER_ENDPOINT="$url" \
  "$name" get <<<registry.cn-hangzhou.aliyuncs.com 2>"$tmp/err") && rc=0 || rc=$?
check "installed $name get registry.cn-hangzhou.aliyuncs.com against the fake API: token, exit 0, empty stderr" \
  '[ $rc = 0 ] && [ "$out" = "{\"ServerURL\":\"registry.cn-hangzhou.aliyuncs.com\",\"Username\":\"cr_temp_user\",\"Secret\":\"deb-smoke-password\"}" ] && [ ! -s "$tmp/err" ]'
[ -s "$tmp/err" ] && sed 's/^/    | /' "$tmp/err"

dpkg -r "$name" >"$tmp/dpkg-r.log" 2>&1 && rc=0 || rc=$?
installed=
left=$(while read -r f; do [ -e "$f" ] && [ ! -d "$f" ] && echo "$f"; done <<<"$files" || true)
check "dpkg -r $name: exit 0, not installed any more, none of its files left" \
  '[ $rc = 0 ] && ! dpkg-query -W -f "\${Status}" "$name" 2>/dev/null | grep -q " installed$" && [ -z "$left" ] && [ ! -e "/usr/bin/$name" ]'
[ -z "$left" ] || echo "    left behind: $left"

echo "deb-smoke: $passes passed, $fails failed"
[ "$fails" = 0 ]
