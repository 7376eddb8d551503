#!/usr/bin/env bash
# The container image, end to end, on a running docker engine: builds the repository's
# Containerfile from the release archive's static binary (FROM scratch: nothing is pulled), checks
# its OCI labels, runs `version`, a `get` against the fake Alibaba Cloud API (host network) and
# `install-plugin` into a bind-mounted directory (the DaemonSet of docs/kubelet-plugin-daemonset.yaml,
# with the manifest's own arguments), then builds a second image that takes the binary with
# `COPY --from` (the kaniko/BuildKit pattern of docs/container.md) and runs it from there.
# Called by tests/e2e/run.sh with its dockerd; runs alone too:
#
#   DOCKER_HOST=unix:///path/docker.sock bash tests/e2e/image.sh --archive DIST/…_linux_x86_64.tar.gz --fake-url http://127.0.0.1:PORT
#
# The fake API must accept AccessKey testid:testsecret and answer with the registry user given
# by --user (the fake's default: cr_temp_user).
# Prints PASS:/FAIL: lines and `image: N passed, M failed`; removes the images it built.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
archive= fake_url= want_user=cr_temp_user
while [ $# -gt 0 ]; do
  case "$1" in
    --archive) archive=$(realpath "$2"); shift 2 ;;
    --fake-url) fake_url=$2; shift 2 ;;
    --user) want_user=$2; shift 2 ;;
    *) echo "image.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
[ -f "$archive" ] && [ -n "$fake_url" ] || { echo "usage: image.sh --archive A.tar.gz --fake-url URL" >&2; exit 2; }
name=docker-credential-acr-helper
version=$(sed -n 's/^version = "\(.*\)"$/\1/p' "$repo/Cargo.toml" | head -n 1)
source_url=$(sed -n 's/^repository = "\(.*\)"$/\1/p' "$repo/Cargo.toml" | head -n 1)
case "$(uname -m)" in x86_64) arch=amd64 ;; aarch64) arch=arm64 ;; *) echo "image.sh: unsupported $(uname -m)" >&2; exit 2 ;; esac

tmp=$(mktemp -d /tmp/acr-image.XXXXXX)
tag=acr-helper-e2e-$$
img=$tag:$version img2=$tag-copied:$version
cleanup() {
  docker image rm -f "$img" "$img2" >/dev/null 2>&1 || true
  rm -rf "$tmp"
}
trap cleanup EXIT
passes=0 fails=0 answers=0
check() { if eval "$2"; then echo "PASS: $1"; passes=$((passes + 1)); else echo "FAIL: $1"; fails=$((fails + 1)); fi; }
# The classic builder: no buildx plugin needed, and FROM scratch needs no BuildKit feature.
build() { DOCKER_BUILDKIT=0 docker build --network none "$@"; }

tar -xzf "$archive" -C "$tmp"
bin=$(echo "$tmp"/${name}_*/$name)
mkdir -p "$tmp/context/$arch"
cp "$bin" "$tmp/context/$arch/$name"
revision=$(git -C "$repo" rev-parse HEAD 2>/dev/null || echo unknown)
created=$(date -u -d "@$(git -C "$repo" log -1 --format=%ct 2>/dev/null || echo 0)" +%Y-%m-%dT%H:%M:%SZ)
build -f "$repo/Containerfile" --build-arg TARGETARCH="$arch" --build-arg VERSION="$version" \
  --build-arg REVISION="$revision" --build-arg CREATED="$created" --build-arg SOURCE="$source_url" \
  -t "$img" "$tmp/context" >"$tmp/build.log" 2>&1 && rc=0 || rc=$?
check "docker build -f Containerfile (FROM scratch, the archive's static binary, no pull): $img" '[ $rc = 0 ]'
[ $rc = 0 ] || { sed 's/^/    | /' "$tmp/build.log" | tail -n 20; echo "image: $passes passed, $fails failed"; exit 1; }

size=$(docker image inspect -f '{{.Size}}' "$img")
layers=$(docker image inspect -f '{{len .RootFS.Layers}}' "$img")
check "the image is one layer holding the binary: $layers layer(s), $size bytes (binary $(wc -c <"$bin"))" \
  '[ "$layers" = 1 ] && [ "$size" -le $(( $(wc -c <"$bin") + 4096 )) ]'
docker image inspect -f '{{json .Config.Labels}}' "$img" >"$tmp/labels.json"
check "OCI labels: title, description, licenses Apache-2.0, source $source_url, version $version, revision, created" \
  'python3 - "$tmp/labels.json" "$version" "$revision" "$created" "$source_url" <<'"'"'PY'"'"'
import json, sys
labels, version, revision, created, source = json.load(open(sys.argv[1])), *sys.argv[2:]
p = "org.opencontainers.image."
want = {p + "title": "docker-credential-acr-helper", p + "licenses": "Apache-2.0", p + "version": version,
        p + "revision": revision, p + "created": created, p + "source": source}
bad = {k: labels.get(k) for k, v in want.items() if labels.get(k) != v}
bad.update({} if labels.get(p + "description") else {p + "description": None})
sys.exit(print("    labels:", bad) if bad else 0)
PY'
entry=$(docker image inspect -f '{{json .Config.Entrypoint}} {{.Config.User}}' "$img")
check "entrypoint is the helper, user 65532 (not root): $entry" '[ "$entry" = "[\"/usr/local/bin/$name\"] 65532:65532" ]'

# The image has no CA bundle (docs/container.md): mount the host's, as users do. (The helper sets
# up TLS even for the fake's plain-http endpoint.)
ca=/etc/ssl/certs/ca-certificates.crt
out=$(docker run --rm --network host "$img" version 2>&1) && rc=0 || rc=$?
check "docker run $img version: $out" '[ $rc = 0 ] && [[ "$out" == "$name $version"* ]]'

out=$(printf 'registry.cn-hangzhou.aliyuncs.com' | docker run -i --rm --network host \
  -e ALIBABA_CLOUD_ACCESS_KEY_ID=testid -e ALIBABA_CLOUD_ACCESS_KEY_SECRET=testsecret \
  -e ALIBABA_CLOUD_ECS_METADATA_DISABLED=true -e DOCKER_CREDENTIAL_ACR_HELPER_ENDPOINT="$fake_url" \
  -v "$ca:$ca:ro" "$img" get 2>"$tmp/err") && rc=0 || rc=$?
user=$(python3 -c 'import json,sys; d=json.loads(sys.argv[1]); print(d["Username"] if d["ServerURL"]=="registry.cn-hangzhou.aliyuncs.com" and d["Secret"] else "")' "$out" 2>/dev/null || true)
[ $rc != 0 ] || answers=$((answers + 1))
check "docker run -i $img get (host network, fake API at $fake_url, the host's CA bundle mounted): credentials for registry.cn-hangzhou.aliyuncs.com, exit 0, empty stderr" \
  '[ $rc = 0 ] && [ "$user" = "$want_user" ] && [ ! -s "$tmp/err" ]'
[ -s "$tmp/err" ] && sed 's/^/    | /' "$tmp/err" | tail -n 5

# The DaemonSet's initContainer, with the manifest's own --dir and user: a bind mount stands for
# the hostPath.
dir=$(sed -n 's/^ *args: \["install-plugin", "--dir", "\([^"]*\)"\]$/\1/p' "$repo/docs/kubelet-plugin-daemonset.yaml")
mkdir -m 755 "$tmp/node-bin"
install_plugin() { docker run --rm --network none --user 0:0 --read-only -v "$tmp/node-bin:$dir" "$img" install-plugin --dir "$dir"; }
out=$(install_plugin 2>&1) && rc=0 || rc=$?
installed=$tmp/node-bin/acr-kubelet-credential-provider
check "install-plugin --dir $dir from the image (read-only root, bind mount as the hostPath): $out" \
  '[ $rc = 0 ] && cmp -s "$installed" "$bin" && [ "$(stat -c %a "$installed")" = 755 ] && [ "$(ls -A "$tmp/node-bin")" = acr-kubelet-credential-provider ]'
out=$(install_plugin 2>&1) && rc=0 || rc=$?
check "the DaemonSet's pod restarted: install-plugin again says up to date: $out" '[ $rc = 0 ] && [[ "$out" == *"is up to date" ]]'
out=$(printf '{"apiVersion":"credentialprovider.kubelet.k8s.io/v1","kind":"CredentialProviderRequest","image":"docker.io/library/alpine:3"}' |
  env -i "$installed" 2>&1) && rc=0 || rc=$?
check "the installed plugin answers the kubelet on the host (a foreign image: empty auth)" \
  '[ $rc = 0 ] && [[ "$out" == *"\"auth\":{}"* ]]'

# The kaniko/BuildKit pattern: another image takes the helper with COPY --from.
mkdir -p "$tmp/copy"
cat >"$tmp/copy/Containerfile" <<EOF
FROM $img AS acr-helper
FROM scratch
COPY --from=acr-helper /usr/local/bin/$name /kaniko/$name
ENTRYPOINT ["/kaniko/$name"]
EOF
build -f "$tmp/copy/Containerfile" -t "$img2" "$tmp/copy" >"$tmp/build2.log" 2>&1 && rc=0 || rc=$?
check "docker build of a second image with COPY --from=$img (no pull)" '[ $rc = 0 ]'
[ $rc = 0 ] || sed 's/^/    | /' "$tmp/build2.log" | tail -n 20
out=$(printf 'registry.cn-hangzhou.aliyuncs.com' | docker run -i --rm --network host \
  -e ALIBABA_CLOUD_ACCESS_KEY_ID=testid -e ALIBABA_CLOUD_ACCESS_KEY_SECRET=testsecret \
  -e ALIBABA_CLOUD_ECS_METADATA_DISABLED=true -e DOCKER_CREDENTIAL_ACR_HELPER_ENDPOINT="$fake_url" \
  -v "$ca:$ca:ro" "$img2" get 2>"$tmp/err2") && rc=0 || rc=$?
user=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["Username"])' "$out" 2>/dev/null || true)
[ $rc != 0 ] || answers=$((answers + 1))
check "the copied helper (/kaniko/$name) gets credentials from the fake API too" \
  '[ $rc = 0 ] && [ "$user" = "$want_user" ] && [ ! -s "$tmp/err2" ]'
echo "image: size $size bytes; $img"
echo "image: credential answers: $answers"
echo "image: $passes passed, $fails failed"
[ "$fails" = 0 ]
