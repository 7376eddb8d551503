# shellcheck shell=bash
# tests/e2e/clients.sh: the client environments (the recording shim, configs, cenv), the
# check_helper/check_refused/check_anon checks, seeding the registries and the helper binary itself.
# Sourced by tests/e2e/run.sh (in this order: lib, setup, clients, docker, skopeo-podman-buildah,
# oci, identities, sign-in); uses its variables and functions and defines the ones later parts use.

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
