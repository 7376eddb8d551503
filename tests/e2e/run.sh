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
# With only an aliyun CLI sign-in and no AccessKey (tests/e2e/sign-in.sh): a CloudSSO profile
# pulls, an expired one fails naming the `aliyun configure` command, and parallel gets of an OAuth
# profile refresh once and write the rotated tokens back into config.json.
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

# The suite is split by part; each is sourced in order and shares this shell:
#   lib.sh                    harness: counters, CI guard, temp dir, cleanup on exit, run/show_log
#   setup.sh                  prerequisites, binaries, names/ports, TLS, registries, fake API
#   clients.sh                client environments, the check_* checks, seeding, the helper binary
#   docker.sh                 docker CLI + dockerd, the container image (image.sh)
#   skopeo-podman-buildah.sh  skopeo, podman, buildah
#   oci.sh                    the Rust OCI client through the library
#   identities.sh             two registries, two identities by helper name (docker)
#   sign-in.sh                aliyun CLI sign-ins (CloudSSO, OAuth) with no AccessKey (docker, skopeo)
# shellcheck source=tests/e2e/lib.sh
source "$here/lib.sh"
for part in setup clients docker skopeo-podman-buildah oci; do
  # shellcheck source=/dev/null
  source "$here/$part.sh"
done

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

# After the summary above: its counts cover the single-identity clients only.
for part in identities sign-in; do
  # shellcheck source=/dev/null
  source "$here/$part.sh"
done

elapsed=$(($(date +%s) - t0))
say "finished in ${elapsed}s"
finished=1
trap - EXIT
cleanup
echo "e2e: $pass passed, $failn failed, $skipn skipped"
[ "$failn" = 0 ]
