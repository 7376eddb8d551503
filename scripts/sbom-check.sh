#!/usr/bin/env bash
# Reads the dependency list that cargo-auditable embedded in the release binary back out of the
# archive (rust-audit-info) and compares it with Cargo.lock: release.toml's [sbom] must_list
# crates (reqwest, rustls, ring) are there with their locked versions, every embedded crate is in
# Cargo.lock at that version, and the root is this package at the Cargo.toml version.
# Run by .ci/run after scripts/package.sh.
#
#   bash scripts/sbom-check.sh ARCHIVE.tar.gz
#
# Needs rust-audit-info (cargo install --locked --version 0.5.4 rust-audit-info).
set -euo pipefail
archive=$(realpath "${1:?usage: sbom-check.sh ARCHIVE.tar.gz}")
cd "$(dirname "$0")/.."
command -v rust-audit-info >/dev/null ||
  { echo "FAIL: rust-audit-info is needed (cargo install --locked --version 0.5.4 rust-audit-info)"; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
tar -xzf "$archive" -C "$tmp"
bin=$(echo "$tmp"/docker-credential-acr-helper_*/docker-credential-acr-helper)
rust-audit-info "$bin" >"$tmp/sbom.json" 2>"$tmp/err" && rc=0 || rc=$?
if [ $rc != 0 ]; then
  echo "FAIL: rust-audit-info $(basename "$archive"):$(basename "$bin") found no embedded SBOM (built without cargo auditable?)"
  sed 's/^/    | /' "$tmp/err"
  exit 1
fi
python3 - "$tmp/sbom.json" "$(wc -c <"$tmp/sbom.json")" <<'PY'
import json, sys, tomllib
sbom = json.load(open(sys.argv[1]))
lock = tomllib.load(open("Cargo.lock", "rb"))
cargo = tomllib.load(open("Cargo.toml", "rb"))
release = tomllib.load(open("release.toml", "rb"))
locked = {(p["name"], p["version"]) for p in lock["package"]}
embedded = [(p["name"], p["version"]) for p in sbom["packages"]]
fails = 0
def check(name, ok, detail=""):
    global fails
    print(("PASS: " if ok else "FAIL: ") + name + (f" ({detail})" if detail and not ok else ""))
    fails += 0 if ok else 1
check(f"the binary embeds a dependency list ({len(embedded)} crates, {sys.argv[2]} bytes of JSON)", len(embedded) > 10)
for want in release["sbom"]["must_list"]:
    lv = sorted(v for n, v in locked if n == want)
    ev = sorted(v for n, v in embedded if n == want)
    check(f"{want} {', '.join(ev) or '(missing)'} as in Cargo.lock", bool(ev) and set(ev) <= set(lv), f"Cargo.lock has {lv}")
stray = sorted(f"{n} {v}" for n, v in embedded if (n, v) not in locked)
check("every embedded crate is in Cargo.lock at that version", not stray, f"not in Cargo.lock: {stray}")
root = [p for p in sbom["packages"] if p.get("root")]
me = cargo["package"]
check(f"the root package is {me['name']} {me['version']}",
      [(p["name"], p["version"]) for p in root] == [(me["name"], me["version"])], str(root))
# Dev-dependencies (test-only crates) and build-only crates must not pass for runtime ones.
check("dev-dependencies (proptest, rcgen, oci-client) are not listed",
      not {"proptest", "rcgen", "oci-client"} & {n for n, _ in embedded})
print(f"sbom-check: {'all passed' if fails == 0 else f'{fails} failed'}")
sys.exit(1 if fails else 0)
PY
