#!/usr/bin/env python3
"""Checks what scripts/package.sh built against release.toml (run by .ci/run).

    python3 scripts/check-dist.py DIST_DIR ARCHIVE [--deb DEB] [--rpm RPM]

- the archive's name is release.toml's template for the host target, and it holds exactly the
  listed files under one directory of its own name (plus all `generated` ones when the binary
  can generate them, none otherwise); the binary is executable;
- `sha256sum -c checksums.txt` passes in DIST_DIR and covers the archive (and the .deb);
- the extracted binary's `version` names the Cargo.toml version;
- with --deb: the package's name, fields and file list match release.toml;
- with --rpm: the package's name, header (Name, Version, Release, License, URL, Summary,
  Description, Arch), requirements (rpmlib features only) and file list match release.toml and
  Cargo.toml;
- the project address in README/docs download links is Cargo.toml's `repository`;
- the release workflow's matrix lists exactly release.toml's targets, each on its runner.
Prints PASS:/FAIL: per check; exits 1 if any failed.
"""

import os
import re
import subprocess
import sys
import tarfile
import tempfile
import tomllib
import zipfile

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
failures = 0


def check(name, ok, detail=""):
    global failures
    print(("PASS: " if ok else "FAIL: ") + name + (f" ({detail})" if detail and not ok else ""))
    failures += 0 if ok else 1
    return ok


def main():
    args = sys.argv[1:]
    deb = rpm = None
    if "--deb" in args:
        i = args.index("--deb")
        deb = args[i + 1]
        del args[i : i + 2]
    if "--rpm" in args:
        i = args.index("--rpm")
        rpm = args[i + 1]
        del args[i : i + 2]
    dist, archive = args
    rel = tomllib.load(open(os.path.join(root, "release.toml"), "rb"))
    cargo = tomllib.load(open(os.path.join(root, "Cargo.toml"), "rb"))
    version = cargo["package"]["version"]
    binary = rel["project"]["binary"]

    host = re.search(r"^host: (\S+)", subprocess.run(["rustc", "-vV"], capture_output=True, text=True).stdout, re.M)[1]
    arch = host.split("-")[0]
    os_name = {"linux": "linux", "darwin": "darwin", "windows": "windows"}[
        "linux" if "-linux-" in host else "darwin" if "-apple-" in host else "windows"
    ]
    exe = ".exe" if os_name == "windows" else ""
    fmt = rel["archive"].get("format_overrides", {}).get(os_name, rel["archive"]["format"])
    fields = dict(binary=binary, version=version, os=os_name, arch=arch, exe=exe)
    base = rel["archive"]["name"].format(**fields)
    check(f"archive is named {base}.{fmt}", os.path.basename(archive) == f"{base}.{fmt}", os.path.basename(archive))
    check(
        f"the host {host} is one of release.toml's targets (by os/arch)",
        any(t["os"] == os_name and t["arch"] == arch for t in rel["target"]),
    )

    if fmt == "zip":
        with zipfile.ZipFile(archive) as z:
            names = [n.rstrip("/") for n in z.namelist()]
    else:
        with tarfile.open(archive) as t:
            members = t.getmembers()
            names = [m.name for m in members]
            owners = {(m.uid, m.gid) for m in members}
            check("tar entries are owned by 0:0", owners == {(0, 0)}, str(owners))
    files = {n for n in names if "/" in n}
    check(f"everything is under {base}/", all(n == base or n.startswith(base + "/") for n in names), str(names))
    listed = {f"{base}/" + f.format(**fields) for f in rel["archive"]["files"]}
    generated = {f"{base}/" + f.format(**fields) for f in rel["archive"]["generated"]}
    dirs = {n for n in files if any(o.startswith(n + "/") for o in files)}
    plain = files - dirs
    missing = listed - plain
    check("the archive holds " + ", ".join(sorted(f.split("/", 1)[1] for f in listed)), not missing, f"missing {sorted(missing)}")

    with tempfile.TemporaryDirectory() as tmp:
        if fmt == "zip":
            zipfile.ZipFile(archive).extractall(tmp)
        else:
            tarfile.open(archive).extractall(tmp, filter="tar")
        exe_path = os.path.join(tmp, base, binary + exe)
        check("the binary is executable", os.access(exe_path, os.X_OK))
        can_generate = subprocess.run([exe_path, "completions", "bash"], capture_output=True).returncode == 0
        if can_generate:
            check("completions and man page are in the archive", generated <= plain, f"missing {sorted(generated - plain)}")
        else:
            print("NOTE: this binary has no `completions` command yet; the archive carries none")
            check("no completions/man page without the commands", not (generated & plain), str(sorted(generated & plain)))
        extra = plain - listed - generated
        check("nothing else is in the archive", not extra, str(sorted(extra)))
        out = subprocess.run([exe_path, "version"], capture_output=True, text=True)
        check(
            f"extracted `{binary} version` says {version}: {out.stdout.strip()}",
            out.returncode == 0 and re.search(rf"\b{re.escape(version)}\b", out.stdout) is not None,
            out.stderr.strip(),
        )

    sums = os.path.join(dist, rel["checksum"]["name"])
    lines = open(sums).read().splitlines() if os.path.exists(sums) else []
    covered = {line.split("  ", 1)[1] for line in lines if "  " in line}
    want = {os.path.basename(archive)} | {os.path.basename(p) for p in (deb, rpm) if p}
    check(f"{rel['checksum']['name']} lists {', '.join(sorted(want))}", want <= covered, str(sorted(covered)))
    cmd = ["sha256sum", "-c", rel["checksum"]["name"]]
    res = subprocess.run(cmd, cwd=dist, capture_output=True, text=True)
    check("sha256sum -c " + rel["checksum"]["name"] + ": " + res.stdout.strip().replace("\n", "; "), res.returncode == 0, res.stderr.strip())

    if deb:
        check_deb(deb, rel, fields, can_generate)
    if rpm:
        check_rpm(rpm, rel, fields, can_generate, cargo["package"])
    check_repository(cargo["package"])
    check_workflow(rel)


def check_deb(deb, rel, fields, can_generate):
    debarch = next(t["debarch"] for t in rel["target"] if t["os"] == "linux" and t["arch"] == fields["arch"])
    fields = dict(fields, debarch=debarch)
    check(f"the .deb is named {rel['deb']['name'].format(**fields)}", os.path.basename(deb) == rel["deb"]["name"].format(**fields))
    info = subprocess.run(["dpkg-deb", "-f", deb, "Package", "Version", "Architecture", "Depends"], capture_output=True, text=True).stdout
    check(
        f".deb control: {' / '.join(info.split(chr(10))[:3])}",
        f"Package: {fields['binary']}" in info and f"Version: {fields['version']}" in info and f"Architecture: {debarch}" in info and "Depends" not in info,
        info,
    )
    listing = subprocess.run(["dpkg-deb", "-c", deb], capture_output=True, text=True).stdout.splitlines()
    paths = {line.split()[-1].lstrip(".") for line in listing if not line.startswith("d")}
    owners = {line.split()[1] for line in listing}
    check(".deb files are owned by root/root", owners == {"root/root"}, str(owners))
    listed = {f.format(**fields) for f in rel["deb"]["files"]}
    generated = {f.format(**fields) for f in rel["deb"]["generated"]}
    want = listed | (generated if can_generate else set())
    check(".deb installs " + ", ".join(sorted(want)), paths == want, f"has {sorted(paths)}")
    mode = next((line.split()[0] for line in listing if line.split()[-1] == f"./usr/bin/{fields['binary']}"), "")
    check(f"/usr/bin/{fields['binary']} is -rwxr-xr-x in the .deb", mode == "-rwxr-xr-x", mode)


def check_rpm(rpm, rel, fields, can_generate, package):
    fields = dict(fields, rpmversion=fields["version"].replace("-", "~"), release=rel["rpm"]["release"])
    want_name = rel["rpm"]["name"].format(**fields)
    check(f"the .rpm is named {want_name}", os.path.basename(rpm) == want_name, os.path.basename(rpm))

    def q(*args):
        res = subprocess.run(["rpm", "-qp", *args, rpm], capture_output=True, text=True)
        return res.stdout
    tags = ["NAME", "VERSION", "RELEASE", "LICENSE", "URL", "SUMMARY", "ARCH", "DESCRIPTION"]
    header = dict(zip(tags, q("--queryformat", "\x1f".join(f"%{{{t}}}" for t in tags)).split("\x1f")))
    want = {
        "NAME": fields["binary"],
        "VERSION": fields["rpmversion"],
        "RELEASE": fields["release"],
        "LICENSE": package["license"],
        "URL": package["repository"],
        "SUMMARY": package["description"].split(":")[0],
        "ARCH": fields["arch"],
    }
    bad = {k: (header.get(k), v) for k, v in want.items() if header.get(k) != v}
    check(".rpm header: " + ", ".join(f"{k}={header.get(k)}" for k in want), not bad, str(bad))
    description = header.get("DESCRIPTION", "")
    check(".rpm Description says what it is and how to configure it",
          "Alibaba Cloud" in description and "credHelpers" in description, description)
    info = q("-i")
    check("rpm -qip prints the header", f"Name        : {fields['binary']}" in info, info[:200])
    requires = [r for r in q("-R").splitlines() if r.strip()]
    check(f"rpm -qpR: only rpmlib() features, no library or interpreter ({len(requires)} lines)",
          requires and all(r.startswith("rpmlib(") for r in requires), str(requires))
    listed = {f.format(**fields) for f in rel["rpm"]["files"]}
    generated = {f.format(**fields) for f in rel["rpm"]["generated"]}
    want_files = listed | (generated if can_generate else set())
    paths = set(q("-l").split())
    check("rpm -qlp: " + ", ".join(sorted(want_files)), paths == want_files, f"has {sorted(paths)}")
    modes = {}
    for line in q("--queryformat", "[%{FILEMODES:perms} %{FILEUSERNAME}:%{FILEGROUPNAME} %{FILENAMES}\n]").splitlines():
        mode, owner, path = line.split(" ", 2)
        modes[path] = (mode, owner)
    check(".rpm files are owned by root:root", {o for _, o in modes.values()} == {"root:root"}, str(modes))
    binary = f"/usr/bin/{fields['binary']}"
    check(f"{binary} is -rwxr-xr-x in the .rpm", modes.get(binary, ("",))[0] == "-rwxr-xr-x", str(modes.get(binary)))
    flags = q("--queryformat", "[%{FILEFLAGS:fflags} %{FILENAMES}\n]")
    check(".rpm marks the LICENSE as %license and the docs as %doc",
          re.search(r"^l /usr/share/licenses/", flags, re.M) is not None and re.search(r"^d /usr/share/doc/", flags, re.M) is not None, flags)


def check_repository(package):
    """Download links in the docs use Cargo.toml's repository: one address, written once."""
    repo = package.get("repository", "")
    check(f"Cargo.toml has repository ({repo}), homepage and documentation",
          repo.startswith("https://github.com/") and package.get("homepage") and package.get("documentation"))
    others = set()
    for doc in ["README.md", *(os.path.join("docs", f) for f in sorted(os.listdir(os.path.join(root, "docs"))))]:
        text = open(os.path.join(root, doc), encoding="utf-8").read()
        for url in re.findall(r"https://github\.com/[^/\s`'\"]+/docker-credential-acr-helper", text):
            if url != repo:
                others.add(f"{doc}: {url}")
    check("README and docs link to the project at Cargo.toml's repository only", not others, str(sorted(others)))


def check_workflow(rel):
    text = open(os.path.join(root, ".github", "workflows", "release.yml")).read()
    pairs = set(re.findall(r"- target: (\S+)\n\s+runner: (\S+)", text))
    want = {(t["triple"], t["runner"]) for t in rel["target"]}
    check("release.yml's matrix is release.toml's targets (triple + runner)", pairs == want, f"workflow {sorted(pairs)} vs {sorted(want)}")


if __name__ == "__main__":
    main()
    print(f"check-dist: {'all passed' if failures == 0 else f'{failures} failed'}")
    sys.exit(1 if failures else 0)
