# shellcheck shell=bash
# tests/e2e/lib.sh: the harness: PASS/FAIL/SKIP counters, the CI=true guard (skip is a
# FAIL under CI), the temp dir, cleanup of every process and file on exit, run/show_log.
# Sourced by tests/e2e/run.sh (in this order: lib, setup, clients, docker, skopeo-podman-buildah,
# oci, identities, sign-in); uses its variables and functions and defines the ones later parts use.

pass=0 failn=0 skipn=0 finished=
ok() { echo "PASS: $*"; pass=$((pass + 1)); }
bad() { echo "FAIL: $*"; failn=$((failn + 1)); }
# A check that cannot run is a SKIP on a workstation, but under CI=true it is a FAIL with its
# reason: a CI run where no client could run must never end green.
skip() {
  if [ "${CI:-}" = true ]; then
    echo "FAIL: cannot run under CI=true: $*"
    failn=$((failn + 1))
  else
    echo "SKIP: $*"
    skipn=$((skipn + 1))
  fi
}
say() { echo "e2e: $*"; }
section() { printf '\n== %s (%ss)\n' "$*" "$(($(date +%s) - t0))"; }
is_root() { [ "$(id -u)" = 0 ]; }
# fatal MESSAGE: a FAIL that makes every later check meaningless; clean up and stop.
fatal() {
  bad "$*"
  finished=1
  trap - EXIT
  cleanup
  echo "e2e: $pass passed, $failn failed, $skipn skipped"
  exit 1
}

tmp=$(mktemp -d /tmp/acr-e2e.XXXXXX)
chmod 755 "$tmp"
hosts_added='' hosts_marker=''
pids=()     # every background process we started
created=()  # files/dirs we created outside $tmp, removed on exit (last first)
err_line=

stop_pid() {
  local pid=$1 state
  kill -TERM "$pid" 2>/dev/null || return 0
  for _ in $(seq 150); do
    state=$(ps -o stat= -p "$pid" 2>/dev/null || true)
    case "$state" in "" | Z*) wait "$pid" 2>/dev/null || true; return 0 ;; esac
    sleep 0.1
  done
  echo "e2e: pid $pid ignored SIGTERM; killing it" >&2
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

cleanup() {
  local i m
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do stop_pid "${pids[i]}"; done
  # dockerd's own containerd normally exits with dockerd; make sure (by its pid file, and only
  # if that pid really is a containerd of ours).
  if [ -f "$tmp/dockerd/exec/containerd/containerd.pid" ]; then
    i=$(cat "$tmp/dockerd/exec/containerd/containerd.pid" 2>/dev/null || true)
    if [ -n "$i" ] && tr '\0' ' ' <"/proc/$i/cmdline" 2>/dev/null | grep -q -- "$tmp/dockerd"; then
      kill -TERM "$i" 2>/dev/null || true
      sleep 1
    fi
  fi
  for ((i = ${#created[@]} - 1; i >= 0; i--)); do rm -rf -- "${created[i]}"; done
  created=()
  if [ -n "$hosts_added" ] && [ -n "$hosts_marker" ]; then # drop our line only (in place: /etc/hosts may be a bind mount)
    grep -v -F -- "$hosts_marker" /etc/hosts >"$tmp/hosts.new" || true
    cat "$tmp/hosts.new" >/etc/hosts
    hosts_added=
  fi
  # No mount should be left under $tmp (vfs drivers mount nothing), but never rm -rf through one.
  awk -v t="$tmp/" 'index($2, t) == 1 {print $2}' /proc/self/mounts | sort -r | while read -r m; do
    umount -l "$m" 2>/dev/null || true
  done
  if [ -n "${E2E_KEEP:-}" ]; then say "kept $tmp"; else rm -rf "$tmp"; fi
}

on_exit() {
  local rc=$?
  trap - EXIT
  set +e
  cleanup
  if [ -z "$finished" ]; then
    bad "suite aborted (exit $rc${err_line:+ at line $err_line})"
    echo "e2e: $pass passed, $failn failed, $skipn skipped"
    exit 1
  fi
}
trap on_exit EXIT
trap 'err_line=${BASH_SOURCE[0]##*/}:$LINENO' ERR # file:line, the parts are sourced
trap 'exit 130' INT TERM

# Runs "$@" with stdout+stderr to a fresh log file; sets $log and $rc, never fails.
nlog=0
run() {
  nlog=$((nlog + 1))
  log="$tmp/logs/$nlog.log"
  printf '$ %s\n' "$*" >"$tmp/logs/$nlog.cmd"
  if "$@" >"$log" 2>&1; then rc=0; else rc=$?; fi
}
show_log() { sed -e 's/^/    | /' "$log" | tail -n 15; }
