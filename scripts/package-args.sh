# Sourced by scripts/deb.sh and scripts/rpm.sh: their shared command line,
#   --bin BIN --stage DIR --arch ARCH --version V --out DIR   (all required)
# parsed into $bin, $stage, $arch, $version and $out; $name is the package name. $tool names the
# calling script in messages.
# shellcheck shell=bash disable=SC2034,SC2154  # sets the caller's variables; $tool is the caller's
name=docker-credential-acr-helper
bin='' stage='' arch='' version='' out=''
while [ $# -gt 0 ]; do
  case "$1" in
    --bin) bin=$2; shift 2 ;;
    --stage) stage=$2; shift 2 ;;
    --arch) arch=$2; shift 2 ;;
    --version) version=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    *) echo "$tool: unknown argument $1" >&2; exit 2 ;;
  esac
done
for v in bin stage arch version out; do
  [ -n "${!v}" ] || { echo "$tool: --$v is required" >&2; exit 2; }
done
