#!/usr/bin/env bash
# Command 2: install what is missing, build with AddressSanitizer + UBSan, run every test
# (GoogleTest unit tests and the end-to-end tests that drive a real fogbank with boto3 and the
# AWS CLI) through CTest, after a short run of every fuzzing target; then the ThreadSanitizer
# pass below (FOGBANK_TSAN=0 skips it).
#   scripts/test.sh --tsan   only the ThreadSanitizer build (build-tsan/): every unit test and
#                            the end-to-end tests that load fogbank from many threads
set -euo pipefail
cd "$(dirname "$0")/.."
# Paths relative to the checkout in ccache's keys: a fresh clone (CI's) reuses earlier builds.
export CCACHE_BASEDIR=${CCACHE_BASEDIR:-$PWD}
# Debug builds would otherwise hash the build directory's absolute path (it is in the debug info).
export CCACHE_NOHASHDIR=${CCACHE_NOHASHDIR:-1}
scripts/deps.sh test

py=python3
if ! "$py" -c 'import boto3' >/dev/null 2>&1; then
  py=/usr/bin/python3
fi
jobs=$(nproc 2>/dev/null || echo 2)

if [[ ${1:-} == --tsan ]]; then
  cmake -S . -B build-tsan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DFOGBANK_TSAN=ON \
        -DFOGBANK_WERROR=ON -DFOGBANK_PYTHON="$(command -v "$py")" >/dev/null
  cmake --build build-tsan -j "$jobs"
  # RocksDB (Debian's uninstrumented static library) copies keys and values with memcpy inside
  # code TSan cannot see, synchronised by atomics it cannot see either: the interceptors' own
  # accesses are ignored, so those copies are not reported as races; every plain load and store
  # of fogbank's code and all locking stay checked.
  export TSAN_OPTIONS=${TSAN_OPTIONS:-halt_on_error=1:second_deadlock_stack=1:history_size=7:ignore_interceptors_accesses=1:suppressions=$PWD/tests/tsan.supp}
  # GCC 12's TSan cannot place its shadow memory under the mmap randomisation of newer kernels
  # ("unexpected memory mapping"); without address randomisation it can. Children inherit it.
  norandom=()
  if setarch "$(uname -m)" -R true 2>/dev/null; then
    norandom=(setarch "$(uname -m)" -R)
  fi
  "${norandom[@]}" ctest --test-dir build-tsan --output-on-failure -j "$jobs" --timeout 900 -LE e2e
  "${norandom[@]}" ctest --test-dir build-tsan --output-on-failure -j "$jobs" --timeout 900 \
    -R '^e2e\.test_(sqs|sqs_clock|sqs_query|clock|server|s3_objects|s3_multipart|crash_consistency|hostile_clients|sns|sns_http|kinesis|firehose|http2)$'
  exit 0
fi
cmake -S . -B build-test -G Ninja -DCMAKE_BUILD_TYPE=Debug -DFOGBANK_SANITIZE=ON \
      -DFOGBANK_WERROR=ON -DFOGBANK_PYTHON="$(command -v "$py")" >/dev/null
cmake --build build-test -j "$jobs"
# Sanitizer findings fail the run; RocksDB's and OpenSSL's process-lifetime allocations are not
# leaks of ours, so leak checking stays on only for our own tests' allocations via suppressions.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:halt_on_error=1}
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$PWD/tests/lsan.supp:print_suppressions=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
# Fuzzing smoke run: every libFuzzer target (fuzz/, clang) replays its regression inputs and
# fuzzes for FOGBANK_FUZZ_SECONDS (default 30) each; any crash fails the run. Long runs:
# scripts/fuzz.sh TARGET SECONDS.
scripts/fuzz.sh --smoke "${FOGBANK_FUZZ_SECONDS:-30}"
ctest --test-dir build-test --output-on-failure -j "$jobs" --timeout 900
if [[ ${FOGBANK_TSAN:-1} != 0 ]]; then
  exec "$0" --tsan
fi
