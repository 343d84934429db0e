#!/usr/bin/env bash
# libFuzzer harnesses (fuzz/): builds build-fuzz/ with clang, ASan and UBSan, then runs them.
#   scripts/fuzz.sh TARGET SECONDS        fuzz one target for SECONDS with its corpus
#   scripts/fuzz.sh --smoke [SECONDS]     every target: replay fuzz/regressions/<target>/, then fuzz
#                                         it for SECONDS (default 30); non-zero exit on any crash
#   scripts/fuzz.sh --list                the target names
# Environment: FUZZ_JOBS (build parallelism, default 2), FUZZ_BUILD_DIR (default build-fuzz),
# FUZZ_RUNS (stop after this many executions, e.g. 10000000, whichever of it and SECONDS comes first).
# New corpus entries go to $FUZZ_BUILD_DIR/corpus/<target>/ (fuzz/corpus/ stays as committed);
# crashing inputs to $FUZZ_BUILD_DIR/artifacts/<target>/.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
build=${FUZZ_BUILD_DIR:-$root/build-fuzz}
jobs=${FUZZ_JOBS:-2}

targets() {
  # One target per fuzz/<name>.cpp that defines LLVMFuzzerTestOneInput.
  grep -l LLVMFuzzerTestOneInput "$root"/fuzz/*.cpp | xargs -n1 basename | sed 's/\.cpp$//' | sort
}

usage() {
  sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

ensure_packages() {
  # Clang 16, not Debian's default 14: 14 cannot capture structured bindings in lambdas (a C++20
  # rule fogbank's sources use). libclang-rt-16-dev holds libFuzzer and the sanitizer runtimes.
  local want=(clang-16 libclang-rt-16-dev) missing=()
  for p in "${want[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
      missing+=("$p")
    fi
  done
  if ((${#missing[@]})); then
    echo "fuzz: installing ${missing[*]}"
    if [[ $(id -u) -ne 0 ]]; then
      echo "fuzz: run as root (or install: ${missing[*]})" >&2
      exit 1
    fi
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
  "$root/scripts/deps.sh" build
}

build_targets() {
  ensure_packages
  if ! grep -q '^FOGBANK_FUZZ:BOOL=ON' "$build/CMakeCache.txt" 2>/dev/null; then
    CC=clang-16 CXX=clang++-16 cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
      -DFOGBANK_FUZZ=ON -DFOGBANK_TESTS=OFF >/dev/null
  fi
  local names=()
  for t in "$@"; do
    names+=("fuzz_$t")
  done
  ninja -C "$build" -j"$jobs" "${names[@]}" | grep -v '^\[' || true
  for t in "$@"; do
    [[ -x $build/fuzz/fuzz_$t ]] || { echo "fuzz: fuzz_$t did not build" >&2; exit 1; }
  done
}

export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_stack_use_after_return=1:strict_string_checks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
# Without a symbolizer the sanitizers print bare addresses; any LLVM version's will do.
if [[ -z ${ASAN_SYMBOLIZER_PATH:-} ]]; then
  for s in /usr/lib/llvm-16/bin/llvm-symbolizer "$(command -v llvm-symbolizer || true)"; do
    if [[ -n $s && -x $s ]]; then
      export ASAN_SYMBOLIZER_PATH=$s
      break
    fi
  done
fi

# replay TARGET: runs every committed regression input once. Returns non-zero if one crashes.
replay() {
  local t=$1 dir=$root/fuzz/regressions/$1
  local files=()
  if [[ -d $dir ]]; then
    mapfile -t files < <(find "$dir" -type f ! -name '*.md' | sort)
  fi
  if ((${#files[@]} == 0)); then
    return 0
  fi
  echo "== $t: replaying ${#files[@]} regression input(s)"
  "$build/fuzz/fuzz_$t" -runs=1 "${files[@]}" >"$build/logs/$t.replay.log" 2>&1 || {
    tail -n 40 "$build/logs/$t.replay.log"
    return 1
  }
}

# run TARGET SECONDS: fuzzes one target; prints executions and exec/s. Returns libFuzzer's status.
run() {
  local t=$1 seconds=$2
  local work=$build/corpus/$t artifacts=$build/artifacts/$t/ log=$build/logs/$t.log
  mkdir -p "$work" "$artifacts" "$root/fuzz/corpus/$t"
  local status=0
  # -rss_limit_mb: 2 cores and shared memory; one target at a time, well below the machine's RAM.
  "$build/fuzz/fuzz_$t" "$work" "$root/fuzz/corpus/$t" -max_total_time="$seconds" -timeout=10 \
    -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$artifacts" ${FUZZ_RUNS:+-runs=$FUZZ_RUNS} \
    >"$log" 2>&1 || status=$?
  local execs rate
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n1)
  printf '%-16s %12s executions  %8s exec/s  %s\n' "$t" "${execs:-?}" "${rate:-?}" \
    "$( ((status == 0)) && echo ok || echo "CRASH (status $status)")"
  if ((status != 0)); then
    grep -E 'ERROR: |runtime error|SUMMARY|invariant failed|Test unit written|uncaught exception|what\(\)' "$log" | head -n 20
    echo "  full log: $log"
    echo "  keep the input as a regression: cp <artifact above> $root/fuzz/regressions/$t/"
  fi
  return $status
}

case ${1:-} in
  --list)
    targets
    ;;
  --smoke)
    seconds=${2:-30}
    mapfile -t all < <(targets)
    build_targets "${all[@]}"
    mkdir -p "$build/logs"
    passed=0 failed=0
    for t in "${all[@]}"; do
      if replay "$t" && run "$t" "$seconds"; then
        passed=$((passed + 1))
      else
        failed=$((failed + 1))
      fi
    done
    echo "$passed passed, $failed failed"
    ((failed == 0))
    ;;
  -h|--help|'')
    usage
    ;;
  *)
    t=$1
    seconds=${2:-60}
    if ! targets | grep -qx "$t"; then
      echo "fuzz: no target '$t' (scripts/fuzz.sh --list)" >&2
      exit 2
    fi
    build_targets "$t"
    mkdir -p "$build/logs"
    # A failing regression is reported, and the target is still fuzzed for what else it hides.
    status=0
    replay "$t" || status=1
    run "$t" "$seconds" || status=1
    exit $status
    ;;
esac
