# shellcheck shell=bash
# tests/e2e/setup.sh: prerequisites (apt), the binaries, the registry names and ports, TLS,
# the two distribution registries and the fake Alibaba Cloud API.
# Sourced by tests/e2e/run.sh (in this order: lib, setup, clients, docker, skopeo-podman-buildah,
# oci, identities, sign-in); uses its variables and functions and defines the ones later parts use.

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
