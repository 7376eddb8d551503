#!/usr/bin/env bash
# Checks docs/kubelet-plugin-daemonset.yaml with kubectl as a user would apply it:
# `kubectl create --dry-run=client --validate=false -o json -f`, then what it must say: a
# DaemonSet whose initContainer runs `install-plugin --dir` at the mount of a hostPath of type
# Directory that is the kubelet bin dir of docs/kubernetes.md, from the image tagged with the
# Cargo.toml version, then a pause container. Run by .ci/run.
#
#   bash scripts/k8s-manifests.sh
#
# kubectl needs an API server even for a client-side dry run (it maps kinds through discovery):
# a stub on loopback answers the four discovery documents and nothing else; no cluster, no
# network. Needs kubectl (Debian: kubernetes-client) and python3.
set -euo pipefail
cd "$(dirname "$0")/.."
manifest=docs/kubelet-plugin-daemonset.yaml
command -v kubectl >/dev/null || { echo "FAIL: kubectl is needed (Debian: apt-get install kubernetes-client)"; exit 1; }
tmp=$(mktemp -d)
pid=
cleanup() {
  [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT

python3 - >"$tmp/port" <<'PY' &
import http.server, json, sys
docs = {
    "/api": {"kind": "APIVersions", "versions": ["v1"],
             "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": "127.0.0.1"}]},
    "/apis": {"kind": "APIGroupList", "apiVersion": "v1", "groups": [
        {"name": "apps", "versions": [{"groupVersion": "apps/v1", "version": "v1"}],
         "preferredVersion": {"groupVersion": "apps/v1", "version": "v1"}}]},
    "/api/v1": {"kind": "APIResourceList", "groupVersion": "v1", "resources": []},
    "/apis/apps/v1": {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": "apps/v1", "resources": [
        {"name": "daemonsets", "singularName": "daemonset", "namespaced": True, "kind": "DaemonSet",
         "verbs": ["create", "get"]}]},
    "/version": {"major": "1", "minor": "33", "gitVersion": "v1.33.0"},
}
class Discovery(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        doc = docs.get(self.path.split("?")[0])
        body = json.dumps(doc or {"kind": "Status", "code": 404}).encode()
        self.send_response(200 if doc else 404)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args):
        pass
server = http.server.HTTPServer(("127.0.0.1", 0), Discovery)
print(server.server_address[1], flush=True)
server.serve_forever()
PY
pid=$!
for _ in $(seq 100); do [ -s "$tmp/port" ] && break; sleep 0.1; done
[ -s "$tmp/port" ] || { echo "FAIL: the discovery stub did not start"; exit 1; }

HOME=$tmp KUBECONFIG=/dev/null kubectl --server "http://127.0.0.1:$(cat "$tmp/port")" \
  create --dry-run=client --validate=false -o json -f "$manifest" >"$tmp/out.json" 2>"$tmp/err" && rc=0 || rc=$?
if [ $rc != 0 ]; then
  echo "FAIL: kubectl create --dry-run=client -f $manifest (exit $rc)"
  sed 's/^/    | /' "$tmp/err"
  exit 1
fi
echo "PASS: kubectl create --dry-run=client --validate=false -o json -f $manifest ($(kubectl version --client 2>/dev/null | head -n 1))"

python3 - "$tmp/out.json" <<'PY'
import json, re, sys, tomllib
obj = json.load(open(sys.argv[1]))
version = tomllib.load(open("Cargo.toml", "rb"))["package"]["version"]
guide = open("docs/kubernetes.md", encoding="utf-8").read()
bin_dir = re.search(r"--image-credential-provider-bin-dir=(\S+)", guide)[1]
fails = 0
def check(name, ok, detail=""):
    global fails
    print(("PASS: " if ok else "FAIL: ") + name + (f" ({detail})" if detail and not ok else ""))
    fails += 0 if ok else 1
spec = obj.get("spec", {}).get("template", {}).get("spec", {})
check("a DaemonSet (apps/v1)", obj.get("kind") == "DaemonSet" and obj.get("apiVersion") == "apps/v1")
inits = spec.get("initContainers", [])
init = inits[0] if len(inits) == 1 else {}
args = init.get("args", [])
check(f"one initContainer running install-plugin --dir: {args}",
      len(inits) == 1 and args[:2] == ["install-plugin", "--dir"] and len(args) == 3 and not init.get("command"))
mounts = {m["mountPath"]: m["name"] for m in init.get("volumeMounts", [])}
volumes = {v["name"]: v for v in spec.get("volumes", [])}
vol = volumes.get(mounts.get(args[2] if len(args) == 3 else ""), {})
host = vol.get("hostPath", {})
check(f"--dir is the mount of hostPath {host.get('path')} (type {host.get('type')}), the kubelet bin dir of docs/kubernetes.md ({bin_dir})",
      host.get("path") == bin_dir and host.get("type") == "Directory")
image = init.get("image", "")
check(f"the initContainer's image is tagged with the Cargo.toml version {version}: {image}", image.endswith(f"/docker-credential-acr-helper:{version}"))
sc = init.get("securityContext", {})
check("it runs as root without capabilities or privilege escalation, read-only root filesystem",
      sc.get("runAsUser") == 0 and sc.get("capabilities", {}).get("drop") == ["ALL"]
      and sc.get("allowPrivilegeEscalation") is False and sc.get("readOnlyRootFilesystem") is True)
containers = spec.get("containers", [])
check("then one pause container keeps the pod running",
      len(containers) == 1 and "/pause:" in containers[0].get("image", ""))
check("it tolerates every taint (every node pulls images)", {"operator": "Exists"} in spec.get("tolerations", []))
print(f"k8s-manifests: {'all passed' if fails == 0 else f'{fails} failed'}")
sys.exit(1 if fails else 0)
PY
