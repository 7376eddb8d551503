# shellcheck shell=bash
# tests/e2e/skopeo-podman-buildah.sh: the containers/image clients: skopeo, podman, buildah.
# Sourced by tests/e2e/run.sh (in this order: lib, setup, clients, docker, skopeo-podman-buildah,
# oci, identities, sign-in); uses its variables and functions and defines the ones later parts use.

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
