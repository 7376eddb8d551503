# shellcheck shell=bash
# tests/e2e/identities.sh: two registries, two identities by helper name (docker).
# Sourced by tests/e2e/run.sh (in this order: lib, setup, clients, docker, skopeo-podman-buildah,
# oci, identities, sign-in); uses its variables and functions and defines the ones later parts use.

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
