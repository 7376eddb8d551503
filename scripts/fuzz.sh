#!/usr/bin/env bash
# Coverage-guided fuzzing of every parser of untrusted input (fuzz/fuzz_targets/, one target per
# parser; the invariants each checks are in fuzz/src/lib.rs).
#
#   scripts/fuzz.sh [--seconds N] [--jobs J] [--scratch-corpus] [TARGET...]
#
# Installs cargo-fuzz if missing, builds the targets once, runs each for N seconds (default 600)
# as one process, J targets at a time (default 1: one core), and prints a table: target,
# executions, exec/s, new corpus entries, crashes. Exits 1 on a crash, naming the reproducer
# (replay it with fuzz/target/<host triple>/release/TARGET FILE).
#
# The corpus of a target is fuzz/corpus/TARGET: the checked-in seed-* files plus what earlier
# runs found (ignored by git). --scratch-corpus (CI) starts from the seeds alone and writes
# new entries to a temporary directory, so nothing grows.
#
# cargo-fuzz needs nightly flags: `cargo +nightly` when a nightly toolchain is installed, else the
# stable toolchain with RUSTC_BOOTSTRAP=1. The targets are built once by `cargo fuzz build` and
# their binaries run directly (`cargo fuzz run` would ask cargo again for every target). No sanitizer: the crate forbids unsafe code, so
# AddressSanitizer finds nothing the fuzzer's own checks miss and costs build time and exec/s.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

seconds=600
jobs=1
scratch=0
targets=()
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) seconds=$2; shift 2 ;;
    --seconds=*) seconds=${1#*=}; shift ;;
    --jobs) jobs=$2; shift 2 ;;
    --jobs=*) jobs=${1#*=}; shift ;;
    --scratch-corpus) scratch=1; shift ;;
    -h|--help) sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "fuzz.sh: unknown option $1" >&2; exit 2 ;;
    *) targets+=("$1"); shift ;;
  esac
done
case "$seconds$jobs" in *[!0-9]*) echo "fuzz.sh: --seconds and --jobs take whole numbers" >&2; exit 2 ;; esac
[ "$jobs" -ge 1 ] || jobs=1

if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "fuzz.sh: installing cargo-fuzz (cargo install cargo-fuzz --locked)" >&2
  cargo install cargo-fuzz --locked
fi

if rustup toolchain list 2>/dev/null | grep -q '^nightly'; then
  fuzz=(cargo +nightly fuzz)
else
  # Stable compiler, nightly flags (-Z, sanitizer-coverage): what cargo-fuzz needs.
  export RUSTC_BOOTSTRAP=1
  fuzz=(cargo fuzz)
fi
flags=(--sanitizer none)

cd fuzz
all=$("${fuzz[@]}" list)
if [ ${#targets[@]} -eq 0 ]; then
  mapfile -t targets <<<"$all"
fi
for t in "${targets[@]}"; do
  grep -qx "$t" <<<"$all" || { echo "fuzz.sh: no target $t (have: $(echo $all))" >&2; exit 2; }
done

build_start=$(date +%s)
"${fuzz[@]}" build "${flags[@]}" >&2
host=$(rustc -vV | sed -n 's/^host: //p')
bins=$root/fuzz/target/$host/release
echo "fuzz.sh: built ${#targets[@]} targets in $(( $(date +%s) - build_start ))s" >&2

logs=$(mktemp -d)
trap 'rm -rf "$logs"' EXIT

run_one() {
  local t=$1
  local out corpus=(corpus/"$t")
  if [ "$scratch" = 1 ]; then
    out="$logs/corpus-$t"
    mkdir -p "$out"
    corpus=("$out" corpus/"$t")
  fi
  # CI (--scratch-corpus) fuzzes from a fixed seed: the same binary and seeds explore the same
  # inputs in the same order on every run, so a red CI is a finding that reproduces, not luck.
  # Long runs take libFuzzer's random seed (or FUZZ_SEED).
  # CI also caps the executions (FUZZ_RUNS, default 20000), so a slower or faster machine runs
  # the same inputs or a prefix of them, never new ones.
  local seed=()
  if [ -n "${FUZZ_SEED:-}" ]; then seed=(-seed="$FUZZ_SEED"); elif [ "$scratch" = 1 ]; then seed=(-seed=1); fi
  [ "$scratch" = 1 ] && seed+=(-runs="${FUZZ_RUNS:-20000}")
  local dict=()
  [ -f dict/"$t".dict ] && dict=(-dict=dict/"$t".dict)
  [ ${#dict[@]} -eq 0 ] && [ -f dict/json.dict ] && dict=(-dict=dict/json.dict)
  mkdir -p corpus/"$t" artifacts/"$t"
  # -timeout: a parse that takes 10 s is a finding too. -max_len: room for errors that would
  # quote a long input. -rss_limit_mb: an allocation blow-up is a finding.
  local rc=0
  "$bins/$t" "${corpus[@]}" -artifact_prefix="artifacts/$t/" \
    -max_total_time="$seconds" -timeout=10 -max_len=16384 -rss_limit_mb=2048 \
    -print_final_stats=1 "${seed[@]}" "${dict[@]}" >"$logs/$t.log" 2>&1 || rc=$?
  echo "$rc" >"$logs/$t.rc"
}

running=0
for t in "${targets[@]}"; do
  echo "fuzz.sh: $t for ${seconds}s" >&2
  run_one "$t" &
  running=$((running + 1))
  if [ "$running" -ge "$jobs" ]; then
    wait -n || true
    running=$((running - 1))
  fi
done
wait || true

stat() { sed -n "s/^stat::$2: *//p" "$logs/$1.log" | tail -n 1; }
failed=0
printf '\n%-24s %14s %10s %12s %8s\n' target executions exec/s new-entries crashes
for t in "${targets[@]}"; do
  rc=$(cat "$logs/$t.rc")
  crashes=0
  [ "$rc" = 0 ] || crashes=1
  printf '%-24s %14s %10s %12s %8s\n' "$t" "$(stat "$t" number_of_executed_units)" \
    "$(stat "$t" average_exec_per_sec)" "$(stat "$t" new_units_added)" "$crashes"
done
for t in "${targets[@]}"; do
  [ "$(cat "$logs/$t.rc")" = 0 ] && continue
  failed=1
  artifact=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$logs/$t.log" | tail -n 1)
  echo >&2
  case "$artifact" in ""|/*) ;; *) artifact=$root/fuzz/${artifact#./} ;; esac
  echo "fuzz.sh: $t FAILED (exit $(cat "$logs/$t.rc")); reproducer: ${artifact:-none written}" >&2
  grep -E "panicked at|^thread '|ERROR: libFuzzer|SUMMARY" "$logs/$t.log" | head -n 8 >&2 || true
  [ -n "$artifact" ] && echo "  replay: $bins/$t $artifact" >&2
  [ -z "$artifact" ] && tail -n 30 "$logs/$t.log" >&2
done
exit "$failed"
