#!/usr/bin/env bash
# Installs what the release checks of .ci/run need, when missing, at pinned versions:
#   rpmbuild/rpm      Debian's rpm            (scripts/rpm.sh, scripts/rpm-smoke.sh)
#   kubectl           Debian's kubernetes-client (scripts/k8s-manifests.sh)
#   cargo-auditable   crates.io, 0.7.7        (scripts/package.sh: the SBOM in the binary)
#   rust-audit-info   crates.io, 0.5.4        (scripts/sbom-check.sh: reads it back)
# Cargo tools go to ~/.cargo/bin; `cargo install` skips a version already there.
#   bash scripts/release-tools.sh
set -euo pipefail
AUDITABLE=0.7.7
AUDIT_INFO=0.5.4
need=()
command -v rpmbuild >/dev/null || need+=(rpm)
command -v kubectl >/dev/null || need+=(kubernetes-client)
if [ ${#need[@]} -gt 0 ]; then
  echo "release-tools: apt-get install ${need[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
installed=$(cargo install --list)
for pin in "cargo-auditable $AUDITABLE" "rust-audit-info $AUDIT_INFO"; do
  set -- $pin
  if ! grep -qx "$1 v$2:" <<<"$installed"; then
    echo "release-tools: cargo install --locked --version $2 $1"
    cargo install --quiet --locked --version "$2" "$1"
  fi
done
echo "release-tools: $(rpmbuild --version), kubectl $(kubectl version --client 2>/dev/null | head -n 1 | sed 's/^Client Version: //'), cargo-auditable $AUDITABLE, rust-audit-info $AUDIT_INFO"
