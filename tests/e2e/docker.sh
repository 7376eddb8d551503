# shellcheck shell=bash
# tests/e2e/docker.sh: docker CLI + dockerd, then the container image (tests/e2e/image.sh).
# Sourced by tests/e2e/run.sh (in this order: lib, setup, clients, docker, skopeo-podman-buildah,
# oci, identities, sign-in); uses its variables and functions and defines the ones later parts use.

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
