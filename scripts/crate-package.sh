#!/usr/bin/env bash
# The crates.io package: `cargo package --locked` as `cargo publish` would make it. Checks the
# file list (Cargo.toml's `include`: sources, build script, README, LICENSE, CHANGELOG and the
# two data files unit tests include; no CI scripts, workflows, integration tests or examples)
# and the metadata crates.io shows, then builds the packaged crate on its own (cargo's verify
# step: a debug build in target/package/, reusing the dependencies already built). Run by .ci/run.
#
#   bash scripts/crate-package.sh
set -euo pipefail
cd "$(dirname "$0")/.."
fails=0
check() { if eval "$2"; then echo "PASS: $1"; else echo "FAIL: $1"; fails=$((fails + 1)); fi; }

# --allow-dirty: .ci/run also runs on a working tree with uncommitted changes.
list=$(cargo package --locked --allow-dirty --list 2>/dev/null)
unexpected=$(grep -Ev '^(src/.*\.rs|build\.rs|README\.md|LICENSE|CHANGELOG\.md|Cargo\.(toml|toml\.orig|lock)|\.cargo_vcs_info\.json|docs/[^/]*\.yaml|tests/data/signing-vectors\.json)$' <<<"$list" || true)
check "cargo package --list: $(wc -l <<<"$list") files, only sources, build.rs, README, LICENSE, CHANGELOG and unit-test data${unexpected:+ (unexpected: $(tr '\n' ' ' <<<"$unexpected"))}" \
  '[ -z "$unexpected" ] && grep -qx src/lib.rs <<<"$list" && grep -qx LICENSE <<<"$list"'

meta=$(cargo metadata --locked --no-deps --format-version 1 | python3 -c '
import json, sys
p, missing = json.load(sys.stdin)["packages"][0], "MISSING"
print(" ".join(f"{k}={p.get(k) or missing}" for k in ("license", "repository", "homepage", "documentation", "readme", "rust_version")))')
check "crates.io metadata: $meta" '[[ "$meta" != *MISSING* ]]'

start=$(date +%s)
cargo package --locked --allow-dirty >"${TMPDIR:-/tmp}/crate-package.$$.log" 2>&1 && rc=0 || rc=$?
took=$(($(date +%s) - start))
crate=$(ls target/package/docker-credential-acr-helper-*.crate 2>/dev/null | tail -n 1)
summary=$(grep -E '^ *Packaged ' "${TMPDIR:-/tmp}/crate-package.$$.log" | sed 's/^ *//' || true)
check "cargo package --locked: packaged and verified by building it (${took}s): ${summary:-no summary}" \
  '[ $rc = 0 ] && [ -n "$crate" ]'
[ $rc = 0 ] || tail -n 30 "${TMPDIR:-/tmp}/crate-package.$$.log" | sed 's/^/    | /'
# cargo drops the targets whose files stay out of the package (integration tests, examples) and
# says so; any other warning is shown.
dropped=$(grep -cE '^warning: ignoring (example|test) `[a-z_]+` as `(examples|tests)/[a-z_]+\.rs` is not included in the published package$' \
  "${TMPDIR:-/tmp}/crate-package.$$.log" || true)
echo "NOTE: $dropped test/example targets are left out of the package with their files (they stay in the repository)"
grep -E '^warning' "${TMPDIR:-/tmp}/crate-package.$$.log" | grep -v '^warning: ignoring \(example\|test\) ' | sed 's/^/    | /' || true
rm -f "${TMPDIR:-/tmp}/crate-package.$$.log"
echo "crate-package: $([ "$fails" = 0 ] && echo 'all passed' || echo "$fails failed")"
[ "$fails" = 0 ]
