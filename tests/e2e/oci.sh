# shellcheck shell=bash
# tests/e2e/oci.sh: the Rust OCI client through the library (examples/oci_pull.rs).
# Sourced by tests/e2e/run.sh (in this order: lib, setup, clients, docker, skopeo-podman-buildah,
# oci, identities, sign-in); uses its variables and functions and defines the ones later parts use.

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
