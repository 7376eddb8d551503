#!/usr/bin/env bash
# Builds one release archive (and, on Linux with --deb/--rpm, the .deb/.rpm) exactly as
# .github/workflows/release.yml does — the workflow calls this script; release.toml describes the
# result. Runs on Linux, macOS and Windows (Git Bash).
#
#   bash scripts/package.sh [--target TRIPLE] [--out DIR] [--deb] [--rpm]
#
# --target  default: the host triple. On Linux the binary is always static:
#             *-linux-musl  musl (the release workflow adds the target with rustup)
#             *-linux-gnu   glibc with -C target-feature=+crt-static (static-pie), for toolchains
#                           without the musl target (like the CI machine)
#           and built with the `static` feature (hickory-dns: no NSS modules needed), so it runs in
#           an empty container (see docs/container.md, scripts/static-chroot.sh).
# --out     default: target/dist. Receives
#             docker-credential-acr-helper_<version>_<os>_<arch>.tar.gz   (.zip on Windows)
#             docker-credential-acr-helper_<version>_<debarch>.deb          (--deb, Linux only)
#             docker-credential-acr-helper-<version>-1.<arch>.rpm           (--rpm, Linux only)
#             checksums.txt   SHA-256 of the files above, `sha256sum -c` format
# Archive contents (one top-level directory of the archive's name): the binary, LICENSE,
# README.md, CHANGELOG.md, and completions/ + man/ when the built binary can generate them
# (`completions <shell>`, `man`).
# Prints the archive path as its last line.
set -euo pipefail
cd "$(dirname "$0")/.."

name=docker-credential-acr-helper
target= out=target/dist deb= rpm=
while [ $# -gt 0 ]; do
  case "$1" in
    --target) target=${2:?--target needs a triple}; shift 2 ;;
    --out) out=${2:?--out needs a directory}; shift 2 ;;
    --deb) deb=1; shift ;;
    --rpm) rpm=1; shift ;;
    *) echo "package.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
host=$(rustc -vV | sed -n 's/^host: //p')
target=${target:-$host}
version=$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -n 1)
[ -n "$version" ] || { echo "package.sh: no version in Cargo.toml" >&2; exit 1; }

case "$target" in
  x86_64-*) arch=x86_64 debarch=amd64 ;;
  aarch64-*) arch=aarch64 debarch=arm64 ;;
  *) echo "package.sh: unsupported target $target" >&2; exit 1 ;;
esac
exe=
case "$target" in
  *-linux-*) os=linux ;;
  *-apple-darwin) os=darwin ;;
  *-windows-*) os=windows exe=.exe ;;
  *) echo "package.sh: unsupported target $target" >&2; exit 1 ;;
esac

# cargo-auditable embeds the dependency tree (crate names, versions, sources) in the binary, so
# `rust-audit-info`, `cargo audit bin` or syft can tell which crates a downloaded release holds
# (.ci/run checks it with scripts/sbom-check.sh). Release binaries must have it: without
# cargo-auditable this fails unless PACKAGE_NO_AUDITABLE=1 asks for a plain build.
if command -v cargo-auditable >/dev/null 2>&1; then
  build=(cargo auditable build)
elif [ -n "${PACKAGE_NO_AUDITABLE:-}" ]; then
  echo "package.sh: NOTE: PACKAGE_NO_AUDITABLE is set: building without the embedded SBOM" >&2
  build=(cargo build)
else
  echo "package.sh: cargo-auditable is needed to embed the SBOM in release binaries:" \
    "cargo install --locked --version 0.7.7 cargo-auditable (or set PACKAGE_NO_AUDITABLE=1)" >&2
  exit 1
fi
build+=(--release --locked --target "$target" --bin "$name")
case "$target" in
  *-linux-musl)
    build+=(--features static)
    # ring compiles C: with the musl target, cc-rs needs musl's gcc wrapper (Debian: musl-tools).
    cc_var=CC_$(echo "$target" | tr - _)
    if [ -z "${!cc_var:-}" ] && command -v musl-gcc >/dev/null; then export "$cc_var=musl-gcc"; fi
    ;;
  *-linux-gnu)
    build+=(--features static)
    # --target keeps RUSTFLAGS away from build scripts and proc macros (which cannot be static).
    # getrandom: in a static glibc binary its default backend finds libc's getrandom() with
    # dlsym, which fails, and falls back to /dev/urandom, which an empty container may not have
    # (seen in scripts/static-chroot.sh: hickory's ThreadRng panicked). Call getrandom() directly.
    export RUSTFLAGS="${RUSTFLAGS:+$RUSTFLAGS }-C target-feature=+crt-static --cfg getrandom_backend=\"linux_getrandom\""
    ;;
esac
echo "package.sh: ${build[*]}${RUSTFLAGS:+ (RUSTFLAGS=$RUSTFLAGS)}" >&2
"${build[@]}" >&2
bin=target/$target/release/$name$exe

if [ "$os" = linux ]; then
  # Static or nothing: the Linux archive must run in an image without a libc.
  if ! command -v readelf >/dev/null; then
    echo "package.sh: readelf (binutils) is needed to check that the Linux binary is static" >&2
    exit 1
  fi
  if readelf -d "$bin" | grep -q '(NEEDED)\|(INTERP)' || readelf -l "$bin" | grep -q 'INTERP'; then
    echo "package.sh: $bin is dynamically linked:" >&2
    readelf -d "$bin" | grep NEEDED >&2 || true
    exit 1
  fi
fi

base=${name}_${version}_${os}_${arch}
mkdir -p "$out"
out=$(cd "$out" && pwd)
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
dir=$stage/$base
mkdir -p "$dir"
cp "$bin" "$dir/$name$exe"
cp LICENSE README.md CHANGELOG.md "$dir/"

# Completions and the man page come from the binary itself (clap). Generated only when this
# build has the subcommands and can run on this machine.
if "$bin" completions bash >/dev/null 2>&1; then
  mkdir -p "$dir/completions"
  "$bin" completions bash >"$dir/completions/$name.bash"
  "$bin" completions zsh >"$dir/completions/_$name"
  "$bin" completions fish >"$dir/completions/$name.fish"
  "$bin" completions powershell >"$dir/completions/_$name.ps1"
else
  echo "package.sh: NOTE: this binary has no 'completions' command; archive without completions/" >&2
fi
if "$bin" man >/dev/null 2>&1; then
  mkdir -p "$dir/man"
  "$bin" man >"$dir/man/$name.1"
else
  echo "package.sh: NOTE: this binary has no 'man' command; archive without man/" >&2
fi

# (On Windows runners `python3` may be the Store's stub; `python` is the real one.)
if [ "$os" = windows ]; then py=$(command -v python || true); else py=$(command -v python3 || command -v python || true); fi
[ -n "$py" ] || { echo "package.sh: python3 is needed to write the archive" >&2; exit 1; }
if [ "$os" = windows ]; then archive=$out/$base.zip; else archive=$out/$base.tar.gz; fi
# Python writes both formats the same way on every runner: sorted entries, root-owned, fixed
# mtime (SOURCE_DATE_EPOCH or the commit time), so the same commit gives the same archive.
epoch=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || echo 0)}
"$py" - "$stage" "$base" "$archive" "$epoch" <<'PY'
import gzip, io, os, sys, tarfile, time, zipfile
stage, base, archive, epoch = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
entries = []
for root, dirs, files in os.walk(os.path.join(stage, base)):
    dirs.sort()
    for d in dirs:
        entries.append(os.path.join(root, d))
    for f in sorted(files):
        entries.append(os.path.join(root, f))
entries.sort()
def rel(p):
    return os.path.relpath(p, stage).replace(os.sep, "/")
def mode(p):
    if os.path.isdir(p):
        return 0o755
    if rel(p) in (base + "/docker-credential-acr-helper", base + "/docker-credential-acr-helper.exe"):
        return 0o755
    return 0o644
if archive.endswith(".zip"):
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as z:
        stamp = time.gmtime(max(epoch, 315532800))[:6]
        z.writestr(zipfile.ZipInfo(base + "/", stamp), "")
        for p in entries:
            info = zipfile.ZipInfo(rel(p) + ("/" if os.path.isdir(p) else ""), stamp)
            info.external_attr = (0o40000 | mode(p) if os.path.isdir(p) else 0o100000 | mode(p)) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, b"" if os.path.isdir(p) else open(p, "rb").read())
else:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as t:
        for p in [os.path.join(stage, base)] + entries:
            info = t.gettarinfo(p, rel(p))
            info.uid = info.gid = 0
            info.uname = info.gname = "root"
            info.mtime = epoch
            info.mode = mode(p)
            if info.isfile():
                with open(p, "rb") as f:
                    t.addfile(info, f)
            else:
                t.addfile(info)
    with open(archive, "wb") as f:
        with gzip.GzipFile(filename="", mode="wb", fileobj=f, mtime=epoch) as g:
            g.write(buf.getvalue())
PY

if [ -n "$deb" ]; then
  if [ "$os" != linux ]; then
    echo "package.sh: --deb is for Linux targets only" >&2
    exit 1
  fi
  bash scripts/deb.sh --bin "$bin" --stage "$dir" --arch "$debarch" --version "$version" --out "$out" >&2
fi
if [ -n "$rpm" ]; then
  if [ "$os" != linux ]; then
    echo "package.sh: --rpm is for Linux targets only" >&2
    exit 1
  fi
  bash scripts/rpm.sh --bin "$bin" --stage "$dir" --arch "$arch" --version "$version" --out "$out" >&2
fi

# checksums.txt: this run's files, replacing older lines for the same names.
sha() { if command -v sha256sum >/dev/null; then sha256sum "$@"; else shasum -a 256 "$@"; fi; }
(
  cd "$out"
  files=("$(basename "$archive")")
  [ -z "$deb" ] || files+=("${name}_${version}_${debarch}.deb")
  [ -z "$rpm" ] || files+=("${name}-${version//-/\~}-1.${arch}.rpm")
  touch checksums.txt
  for f in "${files[@]}"; do grep -v "  $f\$" checksums.txt >checksums.txt.new || true; mv checksums.txt.new checksums.txt; done
  sha "${files[@]}" | sed 's/ \*/  /' >>checksums.txt
  sort -k2 -o checksums.txt checksums.txt
)
echo "package.sh: wrote $archive ($(wc -c <"$archive") bytes) and $out/checksums.txt" >&2
echo "$archive"
