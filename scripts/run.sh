#!/usr/bin/env bash
# Command 1: install what is missing, build Release, run fogbank on its defaults.
# Extra arguments go to fogbank (e.g. scripts/run.sh --port 4567 --auth off).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh build
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release -DFOGBANK_TESTS=OFF >/dev/null
cmake --build build --target fogbank
exec build/server/fogbank "$@"
