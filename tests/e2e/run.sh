#!/usr/bin/env bash
# End-to-end suite: docker-credential-acr-helper driven by REAL clients (docker CLI + dockerd,
# skopeo, podman, buildah, and the Rust OCI client of examples/oci_pull.rs) against a real distribution registry (TLS + htpasswd) on loopback, with the
# project's fake Alibaba Cloud API (examples/fake_api) minting the registry password.
#
#   bash tests/e2e/run.sh
#
# Meant for CI (root, Debian 12). Installs what it needs with apt-get when missing, builds the
# release binaries, and never leaves loopback. Everything lives in one temp dir; what it must put
# outside (dockerd's /etc/docker/certs.d/HOST:PORT/ca.crt, one marked /etc/hosts line mapping two
# registry names to ::1) is removed on exit, as is every process it started. Each check prints
# PASS:/FAIL:/SKIP:, the last line is `e2e: N passed, M failed, K skipped`, and the exit status
# is non-zero if anything failed. Under CI=true nothing is skipped: a check that cannot run
# (no dockerd, not root, a client missing) is a FAIL naming why. Takes ~15 s plus apt and cargo.
#
# What it proves, per client: without the helper the registry refuses (401); with the helper in
# credHelpers the same command succeeds, the helper was asked for that host, and the fake API
# minted the token; a host that is not ACR gets "credentials not found" and the client goes
# anonymous; the helper's stderr stays empty throughout. With dockerd it also builds the
# Containerfile image from the release archive's static binary and runs it (tests/e2e/image.sh).
#
# Environment:
#   E2E_BIN_DIR=DIR   use prebuilt binaries: DIR/docker-credential-acr-helper and DIR/fake_api
#                     (or DIR/examples/fake_api), DIR/oci_pull (or DIR/examples/oci_pull);
#                     default: cargo build --release (oci_pull: the debug build `cargo test`
#                     already made, so its dependencies are not compiled a second time with LTO)
#   E2E_NO_INSTALL=1  never run apt-get (clients that are missing are skipped; FAIL under CI=true)
#   CI=true           a check that cannot run fails instead of being skipped
#   E2E_KEEP=1        keep the temp dir (logs, configs) after the run
#   E2E_ARCHIVE=PATH  the Linux release archive whose static binary goes into the container image
#                     (default: this host's newest target/dist/*_linux_<arch>.tar.gz)
set -Eeuo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
t0=$(date +%s)

pass=0 failn=0 skipn=0 finished=
ok() { echo "PASS: $*"; pass=$((pass + 1)); }
bad() { echo "FAIL: $*"; failn=$((failn + 1)); }
# A check that cannot run is a SKIP on a workstation, but under CI=true it is a FAIL with its
# reason: a CI run where no client could run must never end green.
skip() {
  if [ "${CI:-}" = true ]; then
    echo "FAIL: cannot run under CI=true: $*"
    failn=$((failn + 1))
  else
    echo "SKIP: $*"
    skipn=$((skipn + 1))
  fi
}
say() { echo "e2e: $*"; }
section() { printf '\n== %s (%ss)\n' "$*" "$(($(date +%s) - t0))"; }
is_root() { [ "$(id -u)" = 0 ]; }
# fatal MESSAGE: a FAIL that makes every later check meaningless; clean up and stop.
fatal() {
  bad "$*"
  finished=1
  trap - EXIT
  cleanup
  echo "e2e: $pass passed, $failn failed, $skipn skipped"
  exit 1
}

tmp=$(mktemp -d /tmp/acr-e2e.XXXXXX)
chmod 755 "$tmp"
hosts_added='' hosts_marker=''
pids=()     # every background process we started
created=()  # files/dirs we created outside $tmp, removed on exit (last first)
err_line=

stop_pid() {
  local pid=$1 state
  kill -TERM "$pid" 2>/dev/null || return 0
  for _ in $(seq 150); do
    state=$(ps -o stat= -p "$pid" 2>/dev/null || true)
    case "$state" in "" | Z*) wait "$pid" 2>/dev/null || true; return 0 ;; esac
    sleep 0.1
  done
  echo "e2e: pid $pid ignored SIGTERM; killing it" >&2
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

cleanup() {
  local i m
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do stop_pid "${pids[i]}"; done
  # dockerd's own containerd normally exits with dockerd; make sure (by its pid file, and only
  # if that pid really is a containerd of ours).
  if [ -f "$tmp/dockerd/exec/containerd/containerd.pid" ]; then
    i=$(cat "$tmp/dockerd/exec/containerd/containerd.pid" 2>/dev/null || true)
    if [ -n "$i" ] && tr '\0' ' ' <"/proc/$i/cmdline" 2>/dev/null | grep -q -- "$tmp/dockerd"; then
      kill -TERM "$i" 2>/dev/null || true
      sleep 1
    fi
  fi
  for ((i = ${#created[@]} - 1; i >= 0; i--)); do rm -rf -- "${created[i]}"; done
  created=()
  if [ -n "$hosts_added" ] && [ -n "$hosts_marker" ]; then # drop our line only (in place: /etc/hosts may be a bind mount)
    grep -v -F -- "$hosts_marker" /etc/hosts >"$tmp/hosts.new" || true
    cat "$tmp/hosts.new" >/etc/hosts
    hosts_added=
  fi
  # No mount should be left under $tmp (vfs drivers mount nothing), but never rm -rf through one.
  awk -v t="$tmp/" 'index($2, t) == 1 {print $2}' /proc/self/mounts | sort -r | while read -r m; do
    umount -l "$m" 2>/dev/null || true
  done
  if [ -n "${E2E_KEEP:-}" ]; then say "kept $tmp"; else rm -rf "$tmp"; fi
}

on_exit() {
  local rc=$?
  trap - EXIT
  set +e
  cleanup
  if [ -z "$finished" ]; then
    bad "suite aborted (exit $rc${err_line:+ at line $err_line})"
    echo "e2e: $pass passed, $failn failed, $skipn skipped"
    exit 1
  fi
}
trap on_exit EXIT
trap 'err_line=$LINENO' ERR
trap 'exit 130' INT TERM

# Runs "$@" with stdout+stderr to a fresh log file; sets $log and $rc, never fails.
nlog=0
run() {
  nlog=$((nlog + 1))
  log="$tmp/logs/$nlog.log"
  printf '$ %s\n' "$*" >"$tmp/logs/$nlog.cmd"
  if "$@" >"$log" 2>&1; then rc=0; else rc=$?; fi
}
show_log() { sed -e 's/^/    | /' "$log" | tail -n 15; }

# ---------------------------------------------------------------------------------------------
section "prerequisites"
mkdir -p "$tmp/logs"
need=()
have() { command -v "$1" >/dev/null 2>&1; }
have docker-registry || [ -x /usr/bin/docker-registry ] || need+=(docker-registry)
have dockerd || need+=(docker.io)
have skopeo || need+=(skopeo)
have podman || need+=(podman)
have buildah || need+=(buildah)
have htpasswd || need+=(apache2-utils)
have openssl || need+=(openssl)
have curl || need+=(curl)
have python3 || need+=(python3)
if [ ${#need[@]} -gt 0 ]; then
  if [ -n "${E2E_NO_INSTALL:-}" ] || ! is_root; then
    say "not installing ${need[*]} (E2E_NO_INSTALL or not root)"
  else
    say "installing ${need[*]}"
    if ! { DEBIAN_FRONTEND=noninteractive apt-get update -qq &&
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}"; } \
      >"$tmp/logs/apt.log" 2>&1; then
      say "apt-get failed; clients that are still missing will be skipped"
      tail -n 20 "$tmp/logs/apt.log" | sed -e 's/^/    | /'
    fi
  fi
fi
for tool in docker-registry htpasswd openssl curl python3 skopeo; do
  if ! have "$tool"; then
    fatal "required tool $tool is missing (registry, seeding and checks need it)"
  fi
done

if [ -n "${E2E_BIN_DIR:-}" ]; then
  bindir=$(cd "$E2E_BIN_DIR" && pwd)
  fake_bin=$bindir/fake_api
  [ -x "$fake_bin" ] || fake_bin=$bindir/examples/fake_api
  say "using prebuilt binaries in $bindir"
else
  say "cargo build --release --bin docker-credential-acr-helper --example fake_api"
  (cd "$repo" && cargo build --release --locked --quiet --bin docker-credential-acr-helper --example fake_api)
  target=${CARGO_TARGET_DIR:-$repo/target}
  case "$target" in /*) ;; *) target=$repo/$target ;; esac
  bindir=$target/release
  fake_bin=$bindir/examples/fake_api
fi
helper=$bindir/docker-credential-acr-helper
[ -x "$helper" ] || fatal "no helper binary at $helper"
if [ -n "${E2E_BIN_DIR:-}" ]; then
  oci_pull=$bindir/oci_pull
  [ -x "$oci_pull" ] || oci_pull=$bindir/examples/oci_pull
else
  say "cargo build --example oci_pull (debug profile)"
  (cd "$repo" && cargo build --locked --quiet --example oci_pull)
  oci_pull=$target/debug/examples/oci_pull
fi
[ -x "$fake_bin" ] || fatal "no fake_api binary at $fake_bin"
docker_cli=$(command -v docker || true)

free_port() { # ADDRESS: a free TCP port on it
  python3 -c 'import socket, sys
s = socket.socket(socket.AF_INET6 if ":" in sys.argv[1] else socket.AF_INET)
s.bind((sys.argv[1], 0))
print(s.getsockname()[1])' "$1"
}
# The registry that stands for the ACR instance is on the IPv6 loopback under two names (an
# /etc/hosts line, removed on exit): a custom domain, registry.e2e.test, and a standard ACR
# Enterprise hostname, e2einst-registry.cn-hangzhou.cr.aliyuncs.com. The IPv6 loopback is not mere
# taste: dockerd treats every registry that resolves into 127.0.0.0/8 as insecure, skips TLS
# verification and, after a 401, falls back to plain HTTP and reports THAT error; on ::1 it
# verifies TLS against our CA like for any real registry. Without root or IPv6 loopback the suite
# falls back to 127.0.0.1 (and skips the Enterprise-hostname checks).
custom_name=registry.e2e.test
ent_name=e2einst-registry.cn-hangzhou.cr.aliyuncs.com
# Two more registries for two identities (one per helper name): prod.e2e.test, dev.e2e.test.
prod_name=prod.e2e.test dev_name=dev.e2e.test
hosts_marker="# docker-credential-acr-helper e2e $$"
hosts_added=
r1_name=127.0.0.1 r1_listen=127.0.0.1
if is_root && free_port ::1 >/dev/null 2>&1 && [ -w /etc/hosts ] &&
  ! getent hosts "$custom_name" >/dev/null && ! getent hosts "$ent_name" >/dev/null &&
  ! getent hosts "$prod_name" >/dev/null && ! getent hosts "$dev_name" >/dev/null; then
  [ -z "$(tail -c 1 /etc/hosts)" ] || echo >>/etc/hosts
  if printf '::1 %s %s %s %s %s\n' "$custom_name" "$ent_name" "$prod_name" "$dev_name" "$hosts_marker" >>/etc/hosts; then
    hosts_added=1
    if [ "$(getent ahosts "$custom_name" | awk '{print $1}' | sort -u)" = "::1" ] &&
      [ "$(getent ahosts "$ent_name" | awk '{print $1}' | sort -u)" = "::1" ]; then
      r1_name=$custom_name r1_listen='[::1]'
    fi
  fi
fi
if [ "$r1_listen" = '[::1]' ]; then p_auth=$(free_port ::1); else p_auth=$(free_port 127.0.0.1); fi
p_anon=$(free_port 127.0.0.1)
R1=$r1_name:$p_auth    # registry with htpasswd auth: the ACR instance (custom domain)
R2=127.0.0.1:$p_anon   # registry without auth: a foreign, public registry
RE=                    # the same registry as R1 under its ACR Enterprise hostname (::1 only)
[ "$r1_listen" = '[::1]' ] && RE=$ent_name:$p_auth
RP= RD=                # one registry per identity (::1 only): prod and dev
if [ "$r1_listen" = '[::1]' ]; then
  RP=$prod_name:$(free_port ::1) RD=$dev_name:$(free_port ::1)
fi
if [ -z "$RE" ]; then
  say "NOTE: no ::1 /etc/hosts entry possible; the ACR registry is $R1, which dockerd treats as insecure"
  skip "ACR Enterprise hostname checks: they need root (an /etc/hosts entry) and the IPv6 loopback"
fi
reg_user=e2e-acr-user
reg_pass=$(openssl rand -hex 16)
prod_pass=$(openssl rand -hex 16) dev_pass=$(openssl rand -hex 16)

# ---------------------------------------------------------------------------------------------
section "TLS, registries, fake Alibaba Cloud API"
pki=$tmp/pki
mkdir -p "$pki" "$tmp/certs" "$tmp/home" "$tmp/t" "$tmp/shim" "$tmp/cache" "$tmp/cfg"
{
  openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=acr-helper e2e CA" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -keyout "$pki/ca.key" -out "$pki/ca.crt"
  openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" -keyout "$pki/server.key" -out "$pki/server.csr"
  printf '%s\n' "subjectAltName=DNS:$custom_name,DNS:$ent_name,DNS:$prod_name,DNS:$dev_name,DNS:localhost,IP:127.0.0.1,IP:::1" "basicConstraints=CA:FALSE" \
    "keyUsage=critical,digitalSignature,keyEncipherment" "extendedKeyUsage=serverAuth" >"$pki/server.ext"
  openssl x509 -req -in "$pki/server.csr" -CA "$pki/ca.crt" -CAkey "$pki/ca.key" -CAcreateserial \
    -days 2 -extfile "$pki/server.ext" -out "$pki/server.crt"
} >"$tmp/logs/openssl.log" 2>&1
cp "$pki/ca.crt" "$tmp/certs/ca.crt" # --cert-dir for skopeo and podman
htpasswd -Bbn "$reg_user" "$reg_pass" >"$tmp/htpasswd" 2>/dev/null
htpasswd -Bbn prod-user "$prod_pass" >"$tmp/htpasswd-prod" 2>/dev/null
htpasswd -Bbn dev-user "$dev_pass" >"$tmp/htpasswd-dev" 2>/dev/null

start_registry() { # NAME LISTEN_ADDRESS PORT AUTH(yes|no) [HTPASSWD]
  local name=$1 addr=$2 port=$3 auth=$4 dir=$tmp/$1 htpw=${5:-$tmp/htpasswd}
  mkdir -p "$dir/data"
  cat >"$dir/config.yml" <<EOF
version: 0.1
log:
  level: info
  formatter: text
storage:
  filesystem:
    rootdirectory: $dir/data
  delete:
    enabled: true
  maintenance:
    uploadpurging:
      enabled: false
http:
  addr: "$addr:$port"
  secret: $(openssl rand -hex 16)
  tls:
    certificate: $pki/server.crt
    key: $pki/server.key
EOF
  if [ "$auth" = yes ]; then
    printf 'auth:\n  htpasswd:\n    realm: acr-helper-e2e\n    path: %s\n' "$htpw" >>"$dir/config.yml"
  fi
  env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME="$tmp/home" docker-registry serve "$dir/config.yml" >"$dir/log" 2>&1 &
  pids+=($!)
}
start_registry registry-auth "$r1_listen" "$p_auth" yes
start_registry registry-anon 127.0.0.1 "$p_anon" no
if [ -n "$RP" ]; then
  start_registry registry-prod '[::1]' "${RP##*:}" yes "$tmp/htpasswd-prod"
  start_registry registry-dev '[::1]' "${RD##*:}" yes "$tmp/htpasswd-dev"
fi

"$fake_bin" --listen 127.0.0.1:0 --access-key testid:testsecret --registry-user "$reg_user" \
  --registry-password "$reg_pass" --instance e2e=cri-e2etest --instance e2einst=cri-e2einst0001 \
  --access-key LTAIe2eprod:prodsecret --access-key LTAIe2edev:devsecret \
  --password "LTAIe2eprod=prod-user:$prod_pass" --password "LTAIe2edev=dev-user:$dev_pass" >"$tmp/fake.out" 2>"$tmp/fake.err" &
pids+=($!)

status_of() { curl -s -o /dev/null -w '%{http_code}' --max-time 5 --cacert "$pki/ca.crt" "$1" || true; }
wait_for() { # TRIES COMMAND...  (0.1 s between tries)
  local n=$1
  shift
  for _ in $(seq "$n"); do "$@" && return 0; sleep 0.1; done
  return 1
}
ready_status() { [ "$(status_of "$1")" = "$2" ]; }
if wait_for 150 ready_status "https://$R1/v2/" 401; then
  ok "registry with htpasswd auth on https://$R1 answers /v2/ with 401 over TLS verified by the test CA"
else
  sed -e 's/^/    | /' "$tmp/registry-auth/log" | tail -n 20
  fatal "registry with auth did not come up on $R1"
fi
if wait_for 150 ready_status "https://$R2/v2/" 200; then
  ok "registry without auth on https://$R2 answers /v2/ with 200"
else
  sed -e 's/^/    | /' "$tmp/registry-anon/log" | tail -n 20
  fatal "anonymous registry did not come up on $R2"
fi
wait_for 100 grep -q '^listening on ' "$tmp/fake.out" || true
fake_url=$(sed -n 's/^listening on //p' "$tmp/fake.out" | head -n 1)
if [ -n "$fake_url" ]; then
  ok "fake Alibaba Cloud API (examples/fake_api) listening on $fake_url"
else
  sed -e 's/^/    | /' "$tmp/fake.err" | tail -n 20
  fatal "fake API did not start"
fi
stat_of() { # ACTION -> calls so far ("total" for all)
  curl -s --max-time 5 "$fake_url/__fake/stats" | python3 -c '
import json, sys
d = json.load(sys.stdin)
print(d["total"] if sys.argv[1] == "total" else d["calls"].get(sys.argv[1], 0))' "$1"
}

# dockerd trusts the CA only through /etc/docker/certs.d (no flag moves it); the docker CLI
# (docker manifest) reads the same place. Removed on exit.
if is_root; then
  for d in /etc/docker /etc/docker/certs.d "/etc/docker/certs.d/$R1" "/etc/docker/certs.d/$R2" ${RE:+"/etc/docker/certs.d/$RE"} \
    ${RP:+"/etc/docker/certs.d/$RP"} ${RD:+"/etc/docker/certs.d/$RD"}; do
    if [ ! -e "$d" ]; then mkdir "$d" && created+=("$d"); fi
  done
  for r in "$R1" "$R2" ${RE:+"$RE"} ${RP:+"$RP"} ${RD:+"$RD"}; do cp "$pki/ca.crt" "/etc/docker/certs.d/$r/ca.crt"; done
fi
# skopeo (as root) writes its blob-info cache to /var/lib/containers/cache; remove it if we made it.
for d in /var/lib/containers /var/lib/containers/cache /run/containers /run/libpod /run/docker; do
  [ -e "$d" ] || created+=("$d")
done

# ---------------------------------------------------------------------------------------------
# Client environments. The shim stands first on PATH under the helper's name: it records the
# action (and the host, for get/erase) and the exit status, keeps the real helper's stderr in
# shim/stderr, and passes stdin/stdout through unchanged.
shim_dir=$tmp/shim-bin
mkdir -p "$shim_dir"
cat >"$shim_dir/docker-credential-acr-helper" <<EOF
#!/usr/bin/env bash
in=\$(cat)
out=\$(printf '%s' "\$in" | "$helper" "\$@" 2>>"$tmp/shim/stderr")
rc=\$?
case "\$1" in
  get | erase) printf '%s %s rc=%s\n' "\$1" "\$in" "\$rc" >>"$tmp/shim/calls" ;;
  *) printf '%s rc=%s\n' "\$1" "\$rc" >>"$tmp/shim/calls" ;;
esac
[ -n "\$out" ] && printf '%s\n' "\$out"
exit \$rc
EOF
chmod 755 "$shim_dir/docker-credential-acr-helper"
: >"$tmp/shim/calls"
: >"$tmp/shim/stderr"

write_cfg() { # NAME JSON
  mkdir -p "$tmp/cfg/$1"
  printf '%s\n' "$2" >"$tmp/cfg/$1/config.json"
}
write_cfg helper "{\"credHelpers\": {\"$R1\": \"acr-helper\"}}"
write_cfg none '{}'
write_cfg login "{\"credHelpers\": {\"$R1\": \"acr-helper\"}}"
# Foreign-host tests: every registry goes to the helper (docker: credsStore; containers/image
# reads credHelpers only, so both hosts are listed there).
write_cfg store '{"credsStore": "acr-helper"}'
write_cfg both "{\"credHelpers\": {\"$R1\": \"acr-helper\", \"$R2\": \"acr-helper\"}}"
[ -z "$RE" ] || write_cfg ent "{\"credHelpers\": {\"$RE\": \"acr-helper\"}}"

mkdir -p "$tmp/podman"/{root,run,tmp,net}
cat >"$tmp/podman/storage.conf" <<EOF
[storage]
driver = "vfs"
graphroot = "$tmp/podman/root"
runroot = "$tmp/podman/run"
EOF
cat >"$tmp/podman/containers.conf" <<EOF
[engine]
cgroup_manager = "cgroupfs"
events_logger = "none"
tmp_dir = "$tmp/podman/tmp"
image_copy_tmp_dir = "$tmp/t"
[network]
network_config_dir = "$tmp/podman/net"
EOF
printf 'unqualified-search-registries = []\n' >"$tmp/podman/registries.conf"
printf '{"default": [{"type": "insecureAcceptAnything"}]}\n' >"$tmp/policy.json"

cache_n=0
dsock=$tmp/dockerd/docker.sock
# cenv MODE CFG COMMAND...: MODE acr = the custom-domain setup (INSTANCE_ID + REGION: every host
# is our ACR instance); MODE plain = no instance configured: loopback hosts are not ACR, the
# Enterprise hostname is resolved the standard way (ListInstance, then GetAuthorizationToken).
cenv() {
  local mode=$1 cfg=$2
  shift 2
  local -a e=(
    PATH="$shim_dir:$bindir:$PATH" HOME="$tmp/home" TMPDIR="$tmp/t" LANG=C.UTF-8
    ALIBABA_CLOUD_ACCESS_KEY_ID=testid ALIBABA_CLOUD_ACCESS_KEY_SECRET=testsecret
    ALIBABA_CLOUD_ECS_METADATA_DISABLED=true
    DOCKER_CREDENTIAL_ACR_HELPER_ENDPOINT="$fake_url"
    DOCKER_CREDENTIAL_ACR_HELPER_CACHE_DIR="$tmp/cache/$cache_n"
    DOCKER_CONFIG="$tmp/cfg/$cfg" DOCKER_HOST="unix://$dsock"
    CONTAINERS_CONF="$tmp/podman/containers.conf"
    CONTAINERS_STORAGE_CONF="$tmp/podman/storage.conf"
    CONTAINERS_REGISTRIES_CONF="$tmp/podman/registries.conf"
  )
  if [ "$mode" = acr ]; then
    e+=(DOCKER_CREDENTIAL_ACR_HELPER_INSTANCE_ID=cri-e2etest DOCKER_CREDENTIAL_ACR_HELPER_REGION=cn-hangzhou)
  fi
  env -i "${e[@]}" timeout 180 "$@"
}

calls_mark=0 gat_mark=0 li_mark=0
mark() {
  cache_n=$((cache_n + 1)) # a fresh (empty) credential cache for every check
  calls_mark=$(wc -l <"$tmp/shim/calls")
  gat_mark=$(stat_of GetAuthorizationToken)
  li_mark=$(stat_of ListInstance)
}
new_calls() { tail -n +"$((calls_mark + 1))" "$tmp/shim/calls"; }
got() { new_calls | grep -c -F -x -- "$1" || true; } # exact line count
gat_delta() { echo $(($(stat_of GetAuthorizationToken) - gat_mark)); }
li_delta() { echo $(($(stat_of ListInstance) - li_mark)); }
refused_re='unauthorized|no basic auth credentials|authentication required|status 401|401 Unauthorized'
# In the 127.0.0.1 fallback dockerd reports the error of its plain-HTTP retry after the 401.
[ "$r1_listen" = '[::1]' ] || refused_re="$refused_re|connection reset by peer"


# check_helper NAME HOST COMMAND...: succeeds, the client asked the helper for HOST and got
# credentials (exit 0), and the fake API minted a token for it. For the Enterprise hostname
# (HOST = $RE) the helper must also have looked the instance up (ListInstance); for the custom
# domain (instance id configured) it must not have.
check_helper() {
  local name=$1 host=$2 why=
  shift 2
  mark
  run "$@"
  local g d l
  g=$(got "get $host rc=0")
  d=$(gat_delta)
  l=$(li_delta)
  [ "$rc" = 0 ] || why="exit $rc"
  [ "$g" -ge 1 ] || why="${why:+$why; }no successful helper get for $host (helper runs: $(new_calls | tr '\n' ';'))"
  [ "$d" -ge 1 ] || why="${why:+$why; }no GetAuthorizationToken call at the fake API"
  if [ "$host" = "$RE" ]; then
    [ "$l" -ge 1 ] || why="${why:+$why; }no ListInstance call for the Enterprise hostname"
  else
    [ "$l" = 0 ] || why="${why:+$why; }ListInstance called although the instance id is configured"
  fi
  if [ -z "$why" ]; then
    ok "$name (helper get $host x$g, fake API: ListInstance +$l, GetAuthorizationToken +$d)"
    return 0
  fi
  bad "$name: $why"
  show_log
  return 1
}

# check_refused NAME HELPER_HOST|- COMMAND...: fails with the registry's 401. With HELPER_HOST,
# the helper must have been asked for it and answered "not found" (exit 1) without an API
# call; with -, the helper must not have been run at all.
check_refused() {
  local name=$1 host=$2 why=
  shift 2
  mark
  run "$@"
  [ "$rc" != 0 ] || why="succeeded"
  grep -Eqi "$refused_re" "$log" || why="${why:+$why; }no 401/unauthorized in the output"
  if [ "$host" = - ]; then
    [ -z "$(new_calls)" ] || why="${why:+$why; }helper was run"
  else
    [ "$(got "get $host rc=1")" -ge 1 ] || why="${why:+$why; }helper was not asked for $host (or did not say not-found)"
    [ "$(gat_delta)" = 0 ] || why="${why:+$why; }unexpected API call"
  fi
  if [ -z "$why" ]; then
    ok "$name ($(grep -Eoi "$refused_re" "$log" | head -n 1))"
    return 0
  fi
  bad "$name: $why"
  show_log
  return 1
}

# check_anon NAME HOST COMMAND...: succeeds anonymously after the helper said "not found" for
# HOST (exit 1), with no API call.
check_anon() {
  local name=$1 host=$2 why=
  shift 2
  mark
  run "$@"
  [ "$rc" = 0 ] || why="exit $rc"
  [ "$(got "get $host rc=1")" -ge 1 ] || why="${why:+$why; }helper was not asked for $host (or did not say not-found)"
  [ "$(gat_delta)" = 0 ] || why="${why:+$why; }unexpected API call"
  if [ -z "$why" ]; then
    ok "$name"
    return 0
  fi
  bad "$name: $why"
  show_log
  return 1
}

# ---------------------------------------------------------------------------------------------
section "seed the registries (skopeo copy of a hand-written OCI layout)"
python3 "$here/make_oci_image.py" "$tmp/oci" 1
skopeo_base=(skopeo --policy "$tmp/policy.json")
run cenv acr none "${skopeo_base[@]}" copy --format v2s2 --dest-cert-dir "$tmp/certs" \
  --dest-creds "$reg_user:$reg_pass" "oci:$tmp/oci:1" "docker://$R1/e2e/tiny:1"
seed1=$rc
[ "$seed1" = 0 ] || show_log
run cenv acr none "${skopeo_base[@]}" copy --format v2s2 --dest-cert-dir "$tmp/certs" --dest-no-creds \
  "oci:$tmp/oci:1" "docker://$R2/e2e/tiny:1"
seed2=$rc
[ "$seed2" = 0 ] || show_log
digest_of() { # REF [extra skopeo flags]: manifest digest, read with the registry password directly
  local ref=$1
  shift
  cenv acr none "${skopeo_base[@]}" inspect --cert-dir "$tmp/certs" "$@" --format '{{.Digest}}' "docker://$ref" 2>/dev/null || true
}
tiny_digest=$(digest_of "$R1/e2e/tiny:1" --creds "$reg_user:$reg_pass")
anon_digest=$(digest_of "$R2/e2e/tiny:1" --no-creds)
if [ "$seed1" = 0 ] && [ "$seed2" = 0 ] && [ -n "$tiny_digest" ] && [ "$tiny_digest" = "$anon_digest" ]; then
  ok "seeded $R1/e2e/tiny:1 (with the registry password) and $R2/e2e/tiny:1 (anonymously): $tiny_digest"
else
  fatal "seeding the registries failed (digests '$tiny_digest' / '$anon_digest')"
fi

# ---------------------------------------------------------------------------------------------
section "the helper binary itself"
mark
printf '%s' "$R1" | cenv acr helper "$helper" get >"$tmp/logs/get.out" 2>"$tmp/logs/get.err" && rc=0 || rc=$?
want="{\"ServerURL\":\"$R1\",\"Username\":\"$reg_user\",\"Secret\":\"$reg_pass\"}"
direct_gets=1
if [ "$rc" = 0 ] && [ "$(cat "$tmp/logs/get.out")" = "$want" ] && [ ! -s "$tmp/logs/get.err" ] && [ "$(gat_delta)" = 1 ]; then
  ok "get $R1 (custom-domain instance) prints {ServerURL,Username,Secret} from one GetAuthorizationToken call, exit 0, empty stderr"
else
  bad "get $R1: exit $rc, stdout/stderr below"
  sed -e "s/$reg_pass/<password>/g; s/^/    | /" "$tmp/logs/get.out" "$tmp/logs/get.err"
fi
mark
printf '%s' "$R2" | cenv plain helper "$helper" get >"$tmp/logs/nf.out" 2>"$tmp/logs/nf.err" && rc=0 || rc=$?
if [ "$rc" = 1 ] && [ "$(cat "$tmp/logs/nf.out")" = "credentials not found in native keychain" ] &&
  [ ! -s "$tmp/logs/nf.err" ] && [ "$(gat_delta)" = 0 ]; then
  ok "get $R2 without an instance configured: exactly 'credentials not found in native keychain', exit 1, empty stderr, no API call"
else
  bad "get $R2 (foreign): exit $rc"
  sed -e 's/^/    | /' "$tmp/logs/nf.out" "$tmp/logs/nf.err"
fi
printf '{"ServerURL":"%s","Username":"u","Secret":"s"}' "$R1" | cenv acr helper "$helper" store >"$tmp/logs/store.out" 2>&1 && s_rc=0 || s_rc=$?
printf '%s' "$R1" | cenv acr helper "$helper" erase >"$tmp/logs/erase.out" 2>&1 && e_rc=0 || e_rc=$?
cenv acr helper "$helper" list </dev/null >"$tmp/logs/list.out" 2>"$tmp/logs/list.err" && l_rc=0 || l_rc=$?
if [ "$s_rc" = 0 ] && [ "$e_rc" = 0 ] && [ "$l_rc" = 0 ] && [ ! -s "$tmp/logs/list.err" ] &&
  python3 -c 'import json,sys; assert isinstance(json.load(open(sys.argv[1])), dict)' "$tmp/logs/list.out" 2>/dev/null; then
  ok "store and erase exit 0; list prints a JSON object ($(head -c 80 "$tmp/logs/list.out"))"
else
  bad "store/erase/list: exit $s_rc/$e_rc/$l_rc"
  sed -e 's/^/    | /' "$tmp/logs/store.out" "$tmp/logs/erase.out" "$tmp/logs/list.out" "$tmp/logs/list.err"
fi

# ---------------------------------------------------------------------------------------------
section "docker CLI + dockerd"
docker_ok=
start_dockerd() { # extra flags...
  local dd=$tmp/dockerd
  mkdir -p "$dd/data" "$dd/exec"
  rm -f "$dsock"
  # key.json would otherwise go to /etc/docker (dockerd 20.10 has no flag for it).
  printf '{"deprecated-key-path": "%s"}\n' "$dd/key.json" >"$dd/daemon.json"
  env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME="$tmp/home" \
    dockerd --config-file "$dd/daemon.json" --data-root "$dd/data" --exec-root "$dd/exec" \
    --pidfile "$dd/docker.pid" -H "unix://$dsock" --storage-driver=vfs --iptables=false \
    --ip-forward=false --ip-masq=false --bridge=none --userland-proxy=false "$@" >>"$dd/log" 2>&1 &
  dockerd_pid=$!
  pids+=("$dockerd_pid")
  for _ in $(seq 300); do
    if "$docker_cli" -H "unix://$dsock" version >/dev/null 2>&1; then return 0; fi
    kill -0 "$dockerd_pid" 2>/dev/null || break
    sleep 0.1
  done
  stop_pid "$dockerd_pid"
  return 1
}
if ! is_root; then
  skip "docker: dockerd and /etc/docker/certs.d need root"
elif ! have dockerd; then
  skip "docker: no dockerd on this machine (package docker.io not installed)"
elif [ -z "$docker_cli" ]; then
  skip "docker: no docker CLI on PATH"
else
  if start_dockerd --exec-opt native.cgroupdriver=cgroupfs; then
    docker_ok=1
  else
    say "dockerd did not start; retrying with --debug and without the cgroup driver option"
    tail -n 10 "$tmp/dockerd/log" | sed -e 's/^/    | /'
    if start_dockerd --debug; then docker_ok=1; fi
  fi
  if [ -z "$docker_ok" ]; then
    reason=$(grep -Ei 'level=(fatal|error)|failed to start' "$tmp/dockerd/log" | tail -n 1 | cut -c 1-300 || true)
    skip "docker: dockerd cannot start in this sandbox: ${reason:-see its log}"
    tail -n 20 "$tmp/dockerd/log" | sed -e 's/^/    | /'
  fi
fi
if [ -n "$docker_ok" ]; then
  say "docker CLI $docker_cli: $("$docker_cli" -H "unix://$dsock" version --format 'client {{.Client.Version}} (API {{.Client.APIVersion}}), dockerd {{.Server.Version}}' 2>&1)"
  img=$R1/e2e/tiny:1
  check_refused "docker pull without the helper is refused by the registry" - \
    cenv acr none docker pull "$img" || true
  if check_helper "docker pull $img through dockerd with credentials from the helper" "$R1" \
    cenv acr helper docker pull "$img"; then
    run cenv acr none docker image inspect --format '{{.Id}}' "$img"
    if [ "$rc" = 0 ]; then
      ok "docker image inspect: the pulled image is in dockerd ($(cut -c 1-19 "$log"))"
    else
      bad "pulled image not in dockerd"
      show_log
    fi
  fi
  check_refused "docker manifest inspect without the helper is refused" - \
    cenv acr none docker manifest inspect "$img" || true
  if check_helper "docker manifest inspect $img (CLI talks to the registry itself) through the helper" "$R1" \
    cenv acr helper docker manifest inspect "$img"; then
    if grep -q '"schemaVersion": *2' "$log"; then
      ok "docker manifest inspect printed the schema 2 manifest"
    else
      bad "docker manifest inspect output is not a manifest"
      show_log
    fi
  fi

  pushed=$R1/e2e/docker-pushed:1
  run cenv acr none docker tag "$img" "$pushed"
  check_refused "docker push without the helper is refused" - cenv acr none docker push "$pushed" || true
  if check_helper "docker push $pushed through dockerd with credentials from the helper" "$R1" \
    cenv acr helper docker push "$pushed"; then
    d=$(digest_of "$pushed" --creds "$reg_user:$reg_pass")
    if [ -n "$d" ]; then
      ok "the pushed image is in the registry ($d)"
    else
      bad "docker push reported success but $pushed is not in the registry"
    fi
  fi

  # docker login without -u/-p: the CLI asks the helper (get), has dockerd log in with that,
  # then stores the result through the helper (store). logout erases through the helper.
  mark
  run cenv acr login docker login "$R1"
  if [ "$rc" = 0 ] && grep -q 'Login Succeeded' "$log" && [ "$(got "get $R1 rc=0")" -ge 1 ] &&
    [ "$(got "store rc=0")" -ge 1 ] && ! grep -q -- "$reg_pass" "$tmp/cfg/login/config.json" &&
    ! grep -q '"auth"' "$tmp/cfg/login/config.json"; then
    ok "docker login $R1 without -u/-p: get + store through the helper, Login Succeeded, no password in config.json"
  else
    bad "docker login $R1: exit $rc; helper calls: $(new_calls | tr '\n' ';')"
    show_log
  fi
  mark
  run cenv acr login docker logout "$R1"
  if [ "$rc" = 0 ] && [ "$(got "erase $R1 rc=0")" -ge 1 ]; then
    ok "docker logout $R1: erase through the helper, exit 0"
  else
    bad "docker logout $R1: exit $rc; helper calls: $(new_calls | tr '\n' ';')"
    show_log
  fi

  # TLS is real: without our CA in /etc/docker/certs.d, dockerd refuses the registry's certificate.
  if [ "$r1_listen" = '[::1]' ]; then
    mv "/etc/docker/certs.d/$R1/ca.crt" "$tmp/ca.crt.away"
    run cenv acr none docker pull "$R1/e2e/tiny:2"
    mv "$tmp/ca.crt.away" "/etc/docker/certs.d/$R1/ca.crt"
    if [ "$rc" != 0 ] && grep -q 'x509\|unknown authority' "$log"; then
      ok "dockerd verifies the registry's TLS: without the CA in /etc/docker/certs.d/$R1 the pull fails (x509)"
    else
      bad "dockerd did not verify TLS for $R1 (exit $rc)"
      show_log
    fi
  fi

  if [ -n "$RE" ]; then
    check_helper "docker pull $RE/e2e/tiny:1 (standard ACR Enterprise hostname, no instance configured) through the helper" "$RE" \
      cenv plain ent docker pull "$RE/e2e/tiny:1" || true
  fi

  # A foreign registry through credsStore: the helper says not-found, docker goes anonymous.
  check_anon "docker pull $R2/e2e/tiny:1 (credsStore, host not ACR): helper says not found, anonymous pull works" "$R2" \
    cenv plain store docker pull "$R2/e2e/tiny:1" || true
  check_refused "docker pull $R1 (credsStore, host not ACR without an instance): not found, anonymous, refused" "$R1" \
    cenv plain store docker pull "$img" || true
fi

# ---------------------------------------------------------------------------------------------
# The Containerfile image from the release archive's static binary, and a second image that takes
# the helper with COPY --from (tests/e2e/image.sh). E2E_ARCHIVE names the archive (.ci/run passes
# the one scripts/package.sh built); default: this host's newest in target/dist.
section "container image (Containerfile, FROM scratch) and COPY --from"
image_archive=${E2E_ARCHIVE:-}
if [ -z "$image_archive" ]; then
  image_archive=$(ls -t "$repo"/target/dist/docker-credential-acr-helper_*_linux_"$(uname -m)".tar.gz 2>/dev/null | head -n 1 || true)
fi
if [ -z "$docker_ok" ]; then
  skip "container image: dockerd is not running"
elif [ -z "$image_archive" ] || [ ! -f "$image_archive" ]; then
  skip "container image: no release archive (set E2E_ARCHIVE or run scripts/package.sh first)"
else
  run env DOCKER_HOST="unix://$dsock" PATH="$PATH" bash "$here/image.sh" --archive "$image_archive" \
    --fake-url "$fake_url" --user "$reg_user"
  while IFS= read -r line; do
    case "$line" in
      "PASS: "*) ok "image: ${line#PASS: }" ;;
      "FAIL: "*) bad "image: ${line#FAIL: }" ;;
      "    "*) echo "$line" ;;
    esac
  done <"$log"
  grep -q '^image: [0-9]* passed, [0-9]* failed$' "$log" || bad "image: tests/e2e/image.sh stopped early (exit $rc): $(tail -n 1 "$log")"
  grep '^image: size' "$log" | sed 's/^image: /e2e: image: /' || true
  # Its gets minted tokens at the fake API: count them with the other credential answers.
  direct_gets=$((direct_gets + $(sed -n 's/^image: credential answers: //p' "$log" | tail -n 1 | grep -x '[0-9]*' || echo 0)))
fi

# ---------------------------------------------------------------------------------------------
section "skopeo"
say "$(skopeo --version)"
sk=(skopeo --policy "$tmp/policy.json")
check_refused "skopeo inspect without the helper is refused" - \
  cenv acr none "${sk[@]}" inspect --authfile "$tmp/cfg/none/config.json" --cert-dir "$tmp/certs" "docker://$R1/e2e/tiny:1" || true
if check_helper "skopeo inspect docker://$R1/e2e/tiny:1 through the helper (--authfile credHelpers)" "$R1" \
  cenv acr helper "${sk[@]}" inspect --authfile "$tmp/cfg/helper/config.json" --cert-dir "$tmp/certs" "docker://$R1/e2e/tiny:1"; then
  if grep -q "\"Digest\": \"$tiny_digest\"" "$log"; then
    ok "skopeo inspect shows the seeded digest"
  else
    bad "skopeo inspect: digest is not $tiny_digest"
    show_log
  fi
fi
check_refused "skopeo copy without the helper is refused" - \
  cenv acr none "${sk[@]}" copy --authfile "$tmp/cfg/none/config.json" --src-cert-dir "$tmp/certs" \
  --dest-cert-dir "$tmp/certs" "docker://$R1/e2e/tiny:1" "docker://$R1/e2e/skopeo-copied:1" || true
if check_helper "skopeo copy docker://$R1/e2e/tiny:1 -> docker://$R1/e2e/skopeo-copied:1 (pull + push) through the helper" "$R1" \
  cenv acr helper "${sk[@]}" copy --authfile "$tmp/cfg/helper/config.json" --src-cert-dir "$tmp/certs" \
  --dest-cert-dir "$tmp/certs" "docker://$R1/e2e/tiny:1" "docker://$R1/e2e/skopeo-copied:1"; then
  d=$(digest_of "$R1/e2e/skopeo-copied:1" --creds "$reg_user:$reg_pass")
  if [ "$d" = "$tiny_digest" ]; then
    ok "the copy is in the registry with the same digest"
  else
    bad "skopeo copy: $R1/e2e/skopeo-copied:1 has digest '$d', want $tiny_digest"
  fi
fi
if [ -n "$RE" ]; then
  check_helper "skopeo inspect docker://$RE/e2e/tiny:1 (standard ACR Enterprise hostname) through the helper" "$RE" \
    cenv plain ent "${sk[@]}" inspect --authfile "$tmp/cfg/ent/config.json" --cert-dir "$tmp/certs" "docker://$RE/e2e/tiny:1" || true
fi
mkdir -p "$tmp/no-certs"
run cenv acr none "${sk[@]}" inspect --authfile "$tmp/cfg/none/config.json" --cert-dir "$tmp/no-certs" "docker://$R1/e2e/tiny:1"
if [ "$rc" != 0 ] && grep -q 'x509\|unknown authority' "$log"; then
  ok "skopeo verifies the registry's TLS: with a --cert-dir lacking our CA it fails (x509)"
else
  bad "skopeo did not verify TLS for $R1 (exit $rc)"
  show_log
fi
check_anon "skopeo inspect $R2 (credHelpers, host not ACR): helper says not found, anonymous inspect works" "$R2" \
  cenv plain both "${sk[@]}" inspect --authfile "$tmp/cfg/both/config.json" --cert-dir "$tmp/certs" "docker://$R2/e2e/tiny:1" || true
check_refused "skopeo inspect $R1 (credHelpers, host not ACR without an instance): not found, anonymous, refused" "$R1" \
  cenv plain both "${sk[@]}" inspect --authfile "$tmp/cfg/both/config.json" --cert-dir "$tmp/certs" "docker://$R1/e2e/tiny:1" || true

# ---------------------------------------------------------------------------------------------
section "podman"
if ! have podman; then
  skip "podman: not installed on this machine (package podman)"
elif ! is_root; then
  skip "podman: this suite runs podman as root only (rootless needs subuid setup)"
else
  say "$(podman --version)"
  pm=(podman --root "$tmp/podman/root" --runroot "$tmp/podman/run" --tmpdir "$tmp/podman/tmp"
    --storage-driver vfs --cgroup-manager cgroupfs --events-backend none)
  run cenv acr none "${pm[@]}" info
  if [ "$rc" != 0 ]; then
    skip "podman: 'podman info' fails on this machine: $(grep -i error "$log" | tail -n 1 | cut -c 1-300 || true)"
    show_log
  else
    check_refused "podman pull without the helper is refused" - \
      cenv acr none "${pm[@]}" pull --authfile "$tmp/cfg/none/config.json" --cert-dir "$tmp/certs" "docker://$R1/e2e/tiny:1" || true
    if check_helper "podman pull docker://$R1/e2e/tiny:1 through the helper (--authfile credHelpers)" "$R1" \
      cenv acr helper "${pm[@]}" pull --authfile "$tmp/cfg/helper/config.json" --cert-dir "$tmp/certs" "docker://$R1/e2e/tiny:1"; then
      run cenv acr none "${pm[@]}" image exists "$R1/e2e/tiny:1"
      if [ "$rc" = 0 ]; then
        ok "podman image exists: the pulled image is in podman's storage"
      else
        bad "pulled image not in podman storage"
        show_log
      fi
    fi
    check_refused "podman push without the helper is refused" - \
      cenv acr none "${pm[@]}" push --authfile "$tmp/cfg/none/config.json" --cert-dir "$tmp/certs" \
      "$R1/e2e/tiny:1" "docker://$R1/e2e/podman-pushed:1" || true
    if check_helper "podman push to docker://$R1/e2e/podman-pushed:1 through the helper" "$R1" \
      cenv acr helper "${pm[@]}" push --authfile "$tmp/cfg/helper/config.json" --cert-dir "$tmp/certs" \
      "$R1/e2e/tiny:1" "docker://$R1/e2e/podman-pushed:1"; then
      d=$(digest_of "$R1/e2e/podman-pushed:1" --creds "$reg_user:$reg_pass")
      if [ -n "$d" ]; then
        ok "the podman-pushed image is in the registry ($d)"
      else
        bad "podman push reported success but the image is not in the registry"
      fi
    fi
    if [ -n "$RE" ]; then
      check_helper "podman pull docker://$RE/e2e/tiny:1 (standard ACR Enterprise hostname) through the helper" "$RE" \
        cenv plain ent "${pm[@]}" pull --authfile "$tmp/cfg/ent/config.json" --cert-dir "$tmp/certs" "docker://$RE/e2e/tiny:1" || true
    fi
    check_anon "podman pull $R2 (credHelpers, host not ACR): helper says not found, anonymous pull works" "$R2" \
      cenv plain both "${pm[@]}" pull --authfile "$tmp/cfg/both/config.json" --cert-dir "$tmp/certs" "docker://$R2/e2e/tiny:1" || true
  fi
fi

# ---------------------------------------------------------------------------------------------
section "buildah"
if ! have buildah; then
  skip "buildah: not installed on this machine (package buildah)"
elif ! is_root; then
  skip "buildah: this suite runs buildah as root only (rootless needs subuid setup)"
else
  say "$(buildah --version)"
  mkdir -p "$tmp/buildah"/{root,run}
  bh=(buildah --root "$tmp/buildah/root" --runroot "$tmp/buildah/run" --storage-driver vfs)
  check_refused "buildah pull without the helper is refused" - \
    cenv acr none "${bh[@]}" pull --authfile "$tmp/cfg/none/config.json" --cert-dir "$tmp/certs" "docker://$R1/e2e/tiny:1" || true
  # The auth file through REGISTRY_AUTH_FILE (no flag): what a CI job sets once.
  if check_helper "buildah pull docker://$R1/e2e/tiny:1 through the helper (REGISTRY_AUTH_FILE with credHelpers)" "$R1" \
    cenv acr helper env REGISTRY_AUTH_FILE="$tmp/cfg/helper/config.json" "${bh[@]}" pull --cert-dir "$tmp/certs" "docker://$R1/e2e/tiny:1"; then
    run cenv acr none "${bh[@]}" inspect --type image --format '{{.FromImageDigest}}' "$R1/e2e/tiny:1"
    if [ "$rc" = 0 ] && grep -q -- "$tiny_digest" "$log"; then
      ok "buildah inspect: the pulled image is in buildah's storage with the seeded digest"
    else
      bad "pulled image not in buildah storage (or another digest)"
      show_log
    fi
  fi
  check_refused "buildah push without the helper is refused" - \
    cenv acr none "${bh[@]}" push --authfile "$tmp/cfg/none/config.json" --cert-dir "$tmp/certs" \
    "$R1/e2e/tiny:1" "docker://$R1/e2e/buildah-pushed:1" || true
  if check_helper "buildah push to docker://$R1/e2e/buildah-pushed:1 through the helper (--authfile credHelpers)" "$R1" \
    cenv acr helper "${bh[@]}" push --authfile "$tmp/cfg/helper/config.json" --cert-dir "$tmp/certs" \
    "$R1/e2e/tiny:1" "docker://$R1/e2e/buildah-pushed:1"; then
    d=$(digest_of "$R1/e2e/buildah-pushed:1" --creds "$reg_user:$reg_pass")
    if [ -n "$d" ]; then
      ok "the buildah-pushed image is in the registry ($d)"
    else
      bad "buildah push reported success but the image is not in the registry"
    fi
  fi
  if [ -n "$RE" ]; then
    check_helper "buildah pull docker://$RE/e2e/tiny:1 (standard ACR Enterprise hostname) through the helper" "$RE" \
      cenv plain ent "${bh[@]}" pull --authfile "$tmp/cfg/ent/config.json" --cert-dir "$tmp/certs" "docker://$RE/e2e/tiny:1" || true
  fi
  check_anon "buildah pull $R2 (credHelpers, host not ACR): helper says not found, anonymous pull works" "$R2" \
    cenv plain both "${bh[@]}" pull --authfile "$tmp/cfg/both/config.json" --cert-dir "$tmp/certs" "docker://$R2/e2e/tiny:1" || true
fi

# ---------------------------------------------------------------------------------------------
section "Rust OCI client (oci-client crate) through the library: examples/oci_pull.rs"
# Not through the shim: the example calls Helper::get in-process, so the proof is the fake API's
# count and the manifest digest the registry served with those credentials.
lib_gets=0 lib_ent_gets=0 # credential answers the library gave in-process (counted below)
oci_check() { # NAME HOST(for ListInstance: $RE or -) EXPECT(ok|refused|notacr) COMMAND...
  local name=$1 host=$2 expect=$3 why=
  shift 3
  mark
  run "$@"
  local d l
  d=$(gat_delta)
  l=$(li_delta)
  case "$expect" in
    ok)
      [ "$rc" = 0 ] || why="exit $rc"
      grep -q -- " $tiny_digest " "$log" || why="${why:+$why; }no manifest digest $tiny_digest in the output"
      [ "$d" -ge 1 ] || why="${why:+$why; }no GetAuthorizationToken call at the fake API"
      if [ "$host" = "$RE" ]; then
        [ "$l" -ge 1 ] || why="${why:+$why; }no ListInstance call for the Enterprise hostname"
      fi
      ;;
    refused)
      [ "$rc" != 0 ] || why="succeeded"
      grep -Eqi "$refused_re|not authorized" "$log" || why="${why:+$why; }no 401/unauthorized in the output"
      [ "$d" = 0 ] || why="${why:+$why; }unexpected API call"
      ;;
    notacr)
      [ "$rc" = 1 ] || why="exit $rc"
      grep -q "is not an ACR registry" "$log" || why="${why:+$why; }no 'not an ACR registry' message"
      [ "$d" = 0 ] || why="${why:+$why; }unexpected API call"
      ;;
  esac
  grep -q -- "$reg_pass" "$log" && why="${why:+$why; }the registry password appears in the output"
  if [ -z "$why" ]; then
    if [ "$expect" = ok ]; then
      lib_gets=$((lib_gets + 1))
      [ "$host" != "$RE" ] || lib_ent_gets=$((lib_ent_gets + 1))
    fi
    ok "$name (fake API: ListInstance +$l, GetAuthorizationToken +$d)"
    return 0
  fi
  bad "$name: $why"
  show_log
  return 1
}
if [ ! -x "$oci_pull" ]; then
  bad "no oci_pull binary at $oci_pull"
else
  oci_check "oci_pull $R1/e2e/tiny:1: Helper::get -> RegistryAuth::Basic, manifest pulled (CA via --ca)" "$R1" ok \
    cenv acr helper "$oci_pull" --ca "$pki/ca.crt" "$R1/e2e/tiny:1" || true
  oci_check "oci_pull $R1/e2e/tiny:1 trusting the registry through SSL_CERT_FILE" "$R1" ok \
    cenv acr helper env SSL_CERT_FILE="$pki/ca.crt" "$oci_pull" "$R1/e2e/tiny:1" || true
  if [ -n "$RE" ]; then
    oci_check "oci_pull $RE/e2e/tiny:1 (standard ACR Enterprise hostname: ListInstance, then the token)" "$RE" ok \
      cenv plain ent "$oci_pull" --ca "$pki/ca.crt" "$RE/e2e/tiny:1" || true
  fi
  oci_check "oci_pull $R1 without an instance configured: the library says not ACR, exit 1, no API call" - notacr \
    cenv plain none "$oci_pull" --ca "$pki/ca.crt" "$R1/e2e/tiny:1" || true
  oci_check "oci_pull $R1 anonymously (--anonymous-if-not-acr): the registry refuses, so the credentials above were needed" - refused \
    cenv plain none "$oci_pull" --ca "$pki/ca.crt" --anonymous-if-not-acr "$R1/e2e/tiny:1" || true
fi

# ---------------------------------------------------------------------------------------------
section "what the helper did, seen from outside"
n_calls=$(wc -l <"$tmp/shim/calls")
if [ "$n_calls" -gt 0 ] && [ ! -s "$tmp/shim/stderr" ]; then
  ok "the helper's stderr stayed empty across all $n_calls invocations by real clients (get/store/erase, found and not found)"
else
  bad "helper stderr was not empty (or the helper was never run: $n_calls invocations)"
  sed -e "s/$reg_pass/<password>/g; s/^/    | /" "$tmp/shim/stderr" | tail -n 20
fi
acr_gets=$(($(grep '^get ' "$tmp/shim/calls" | grep -c ' rc=0$' || true) + direct_gets + lib_gets))
gat_total=$(stat_of GetAuthorizationToken)
list_total=$(stat_of ListInstance)
ent_gets=0
[ -z "$RE" ] || ent_gets=$(($(grep -c -F -x "get $RE rc=0" "$tmp/shim/calls" || true) + lib_ent_gets))
summary=$(sort "$tmp/shim/calls" | uniq -c | sed -e 's/^ *//' | tr '\n' ';')
if [ "$gat_total" -ge 1 ] && [ "$gat_total" -le "$acr_gets" ] && [ "$list_total" -le "$ent_gets" ] &&
  { [ "$ent_gets" = 0 ] || [ "$list_total" -ge 1 ]; }; then
  ok "fake API: $gat_total GetAuthorizationToken calls for $acr_gets credential answers, $list_total ListInstance for $ent_gets Enterprise-hostname answers; helper runs: $summary"
else
  bad "fake API counts: GetAuthorizationToken=$gat_total ListInstance=$list_total for $acr_gets answers ($ent_gets Enterprise) ($(curl -s "$fake_url/__fake/stats"))"
fi

# ---------------------------------------------------------------------------------------------
# Per-registry identities by helper name: prod.e2e.test maps to acr-helper-prod (a symlink to the
# helper: profile "prod" of ~/.alibabacloud/credentials), dev.e2e.test to acr-helper-dev (the seed's
# wrapper script: export an AccessKey, exec the helper). Each registry accepts only its own
# identity's password (the fake API mints one per AccessKey); one shared cache for both.
section "two registries, two identities by helper name (docker)"
if [ -z "$docker_ok" ]; then
  skip "identities by helper name: dockerd is not running"
elif [ -z "$RP" ]; then
  skip "identities by helper name: needs the ::1 /etc/hosts names (root, IPv6 loopback)"
else
  names=$tmp/names
  mkdir -p "$names" "$tmp/home/.alibabacloud"
  ln -sf "$helper" "$names/docker-credential-acr-helper-prod"
  printf '#!/bin/sh\nexport ALIBABA_CLOUD_ACCESS_KEY_ID=LTAIe2edev ALIBABA_CLOUD_ACCESS_KEY_SECRET=devsecret\nexec %s "$@"\n' \
    "$helper" >"$names/docker-credential-acr-helper-dev"
  chmod 755 "$names/docker-credential-acr-helper-dev"
  printf '[prod]\ntype = access_key\naccess_key_id = LTAIe2eprod\naccess_key_secret = prodsecret\n' \
    >"$tmp/home/.alibabacloud/credentials"
  write_cfg two "{\"credHelpers\": {\"$RP\": \"acr-helper-prod\", \"$RD\": \"acr-helper-dev\"}}"
  write_cfg swapped "{\"credHelpers\": {\"$RP\": \"acr-helper-dev\", \"$RD\": \"acr-helper-prod\"}}"
  npath=$names:$bindir:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
  seeded=1
  for r in "$RP" "$RD"; do
    if [ "$r" = "$RP" ]; then creds=prod-user:$prod_pass; else creds=dev-user:$dev_pass; fi
    wait_for 150 ready_status "https://$r/v2/" 401 || seeded=
    run cenv acr none "${skopeo_base[@]}" copy --format v2s2 --dest-cert-dir "$tmp/certs" \
      --dest-creds "$creds" "oci:$tmp/oci:1" "docker://$r/e2e/tiny:1"
    [ "$rc" = 0 ] || { seeded=; show_log; }
  done
  if [ -z "$seeded" ]; then
    bad "identities by helper name: seeding $RP and $RD failed"
  else
    mark
    gat0=$(stat_of GetAuthorizationToken)
    all_ok=1
    for round in cold warm; do
      for r in "$RP" "$RD"; do
        run cenv acr two env PATH="$npath" docker pull "$r/e2e/tiny:1"
        if [ "$rc" = 0 ]; then
          ok "docker pull $r/e2e/tiny:1 ($round cache): its own identity's password, through $( [ "$r" = "$RP" ] && echo 'the symlink docker-credential-acr-helper-prod' || echo 'the wrapper script docker-credential-acr-helper-dev')"
        else
          all_ok=
          bad "docker pull $r/e2e/tiny:1 ($round cache) through the helper named for its identity (exit $rc)"
          show_log
        fi
      done
    done
    minted=$(($(stat_of GetAuthorizationToken) - gat0))
    if [ -n "$all_ok" ] && [ "$minted" = 2 ]; then
      ok "one token per identity ($minted GetAuthorizationToken for 4 pulls, one cache dir): caches never crossed"
    else
      bad "identities by helper name: $minted GetAuthorizationToken calls for 4 pulls (want 2)"
    fi
    for r in "$RP" "$RD"; do
      run cenv acr swapped env PATH="$npath" docker pull "$r/e2e/tiny:1"
      if [ "$rc" != 0 ] && grep -Eqi "$refused_re" "$log"; then
        ok "docker pull $r with the other identity's helper is refused by the registry (the identity is what matters)"
      else
        bad "docker pull $r with the other identity's helper was not refused (exit $rc)"
        show_log
      fi
    done
  fi
fi

elapsed=$(($(date +%s) - t0))
say "finished in ${elapsed}s"
finished=1
trap - EXIT
cleanup
echo "e2e: $pass passed, $failn failed, $skipn skipped"
[ "$failn" = 0 ]
