#!/usr/bin/env bash
# Instruction counts (valgrind --tool=callgrind) of the release binary for `version`, a warm
# `get` and a cold `get` against the fake API over HTTPS with a one-certificate trust store.
# Instructions, unlike time, do not depend on what else the machine is doing, so this is the
# performance gate CI can hold on a busy 2-core machine:
#   - warm `get` must stay within WARM_MAX_RATIO x `version` (a warm call is process start plus
#     a cache read: no TLS, no network), with an AccessKey and with an OAuth sign-in alike;
#   - cold `get` must not grow more than COLD_MAX_GROWTH over COLD_BASELINE, the figure
#     measured on main before the one-way-core redesign (issue 17).
# Each case runs RUNS times; the median is compared (a cold call's count moves a little with
# thread scheduling). Only loopback is contacted.
#
# Usage: scripts/bench-instructions.sh [--no-gate]
set -euo pipefail
cd "$(dirname "$0")/.."

# Measured on main before the redesign (release build, Rust 1.95, x86_64): version 0.563 M,
# warm 0.702 M, cold 3.706 M.
COLD_BASELINE=3706000
WARM_MAX_RATIO=1.3
COLD_MAX_GROWTH=1.15
RUNS=${RUNS:-3}
gate=true
[ "${1:-}" = "--no-gate" ] && gate=false

if ! command -v valgrind >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq valgrind >/dev/null
  fi
fi
if ! command -v valgrind >/dev/null 2>&1; then
  if [ "${CI:-}" = true ]; then echo "FAIL: bench-instructions: valgrind is not installed (CI=true)" >&2; exit 1; fi
  echo "SKIP: bench-instructions: valgrind is not installed"
  exit 0
fi

cargo build --locked --release --quiet --bin docker-credential-acr-helper --example fake_api
BIN=target/release/docker-credential-acr-helper

work=$(mktemp -d)
pid=
cleanup() {
  [ -n "$pid" ] && kill "$pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

target/release/examples/fake_api --listen 127.0.0.1:0 --tls-generate localhost \
  --ca-out "$work/ca.pem" --oauth CN:bench-refresh-0 > "$work/fake.out" &
pid=$!
for _ in $(seq 100); do grep -q listening "$work/fake.out" 2>/dev/null && break; sleep 0.05; done
port=$(sed -n 's/.*127\.0\.0\.1:\([0-9]*\).*/\1/p' "$work/fake.out" | head -n 1)
[ -n "$port" ] || { echo "FAIL: fake API did not start" >&2; exit 1; }

# Instructions of one run of the helper (all threads), with a clean environment: the identity
# is the fake's AccessKey, or (with IDENTITY=oauth) the OAuth sign-in of $work/oauth-home.
count() {
  local cache=$1; shift
  local out="$work/cg.out" log="$work/cg.log"
  local who=(HOME="$work/home" ALIBABA_CLOUD_ACCESS_KEY_ID=testid ALIBABA_CLOUD_ACCESS_KEY_SECRET=testsecret)
  [ "${IDENTITY:-}" = oauth ] && who=(HOME="$work/oauth-home" DOCKER_CREDENTIAL_ACR_HELPER_OAUTH_ENDPOINT="https://localhost:$port")
  printf 'registry.cn-hangzhou.aliyuncs.com' | env -i PATH="$PATH" "${who[@]}" \
    XDG_CACHE_HOME="$cache" SSL_CERT_FILE="$work/ca.pem" \
    ALIBABA_CLOUD_ECS_METADATA_DISABLED=true \
    DOCKER_CREDENTIAL_ACR_HELPER_ENDPOINT="https://localhost:$port" \
    valgrind --tool=callgrind --callgrind-out-file="$out" "$BIN" "$@" >"$work/stdout" 2>"$log" \
    || { echo "FAIL: $BIN $* exited non-zero:" >&2; cat "$log" >&2; exit 1; }
  sed -n 's/.*Collected : \([0-9]*\).*/\1/p' "$log" | head -n 1
}

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

mkdir -p "$work/home"
version=$(for _ in $(seq "$RUNS"); do count "$work/none" version; done | median)
cold=$(for i in $(seq "$RUNS"); do count "$work/cold-$i" get; done | median)
grep -q '"Secret"' "$work/stdout" || { echo "FAIL: cold get gave no credentials" >&2; exit 1; }
count "$work/warm" get >/dev/null
warm=$(for _ in $(seq "$RUNS"); do count "$work/warm" get; done | median)

# An aliyun CLI OAuth profile (tab-indented as the CLI writes it) whose access token is due for a
# refresh: the first get refreshes, exchanges and writes the file back; the warm ones only read it.
mkdir -p "$work/oauth-home/.aliyun"
printf '{\n\t"current": "web",\n\t"profiles": [\n\t\t{\n\t\t\t"name": "web",\n\t\t\t"mode": "OAuth",\n\t\t\t"region_id": "cn-hangzhou",\n\t\t\t"oauth_site_type": "CN",\n\t\t\t"oauth_refresh_token": "bench-refresh-0",\n\t\t\t"oauth_access_token": "",\n\t\t\t"oauth_access_token_expire": 0\n\t\t}\n\t],\n\t"meta_path": ""\n}' \
  >"$work/oauth-home/.aliyun/config.json"
IDENTITY=oauth count "$work/oauth" get >/dev/null
grep -q '"Secret"' "$work/stdout" || { echo "FAIL: OAuth get gave no credentials" >&2; exit 1; }
IDENTITY=oauth count "$work/oauth" get >/dev/null
warm_oauth=$(for _ in $(seq "$RUNS"); do IDENTITY=oauth count "$work/oauth" get; done | median)

calls=$(curl -s --cacert "$work/ca.pem" "https://localhost:$port/__fake/stats" || true)
awk -v v="$version" -v w="$warm" -v c="$cold" -v o="$warm_oauth" 'BEGIN {
  printf "instructions (median of runs): version %.3f M | warm get %.3f M (%.2fx version) | cold get %.3f M | warm get, OAuth sign-in %.3f M (%.2fx version)\n",
    v/1e6, w/1e6, w/v, c/1e6, o/1e6, o/v }'
echo "fake API calls: $calls"

$gate || exit 0
fail=0
for w in "$warm" "$warm_oauth"; do
  if awk -v v="$version" -v w="$w" -v r="$WARM_MAX_RATIO" 'BEGIN { exit !(w > v * r) }'; then
    echo "FAIL: a warm get ($w instructions) is more than ${WARM_MAX_RATIO}x version" >&2; fail=1
  fi
done
if [ "$COLD_BASELINE" -gt 0 ] && awk -v c="$cold" -v b="$COLD_BASELINE" -v g="$COLD_MAX_GROWTH" 'BEGIN { exit !(c > b * g) }'; then
  echo "FAIL: cold get grew more than ${COLD_MAX_GROWTH}x over the baseline $COLD_BASELINE" >&2; fail=1
fi
[ "$fail" = 0 ] && echo "instruction gate: passed (warm <= ${WARM_MAX_RATIO}x version; cold <= ${COLD_MAX_GROWTH}x $COLD_BASELINE)"
exit "$fail"
