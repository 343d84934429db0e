#!/usr/bin/env bash
# Installs what fogbank needs from Debian 12 packages, only what is missing (idempotent).
#   scripts/deps.sh build   toolchain and libraries
#   scripts/deps.sh test    + clients used by the end-to-end tests (boto3, AWS CLI, Node.js)
set -euo pipefail

want=(cmake ninja-build g++ ccache pkg-config libboost1.81-dev librocksdb-dev libssl-dev
      nlohmann-json3-dev libpugixml-dev libcli11-dev libgtest-dev libisal-dev libnghttp2-dev)
if [[ ${1:-build} == test ]]; then
  # Debian's python3-boto3 is also the Query-protocol SQS client of the end-to-end tests (its
  # older botocore still speaks Query); a python3 that has a newer boto3 drives everything else.
  # awscli is Debian's AWS CLI v2 (/usr/bin/aws); a pip-installed v1 may come first on PATH and is
  # exercised too where present.
  want+=(python3 procps python3-boto3 awscli)
  # Headless Chromium performs the cross-origin uploads of the S3 CORS browser test.
  want+=(chromium)
  # Node.js runs the JavaScript SDK v3 tests (tests/js, installed from npm by the test itself);
  # a machine that already has node (with its npm) keeps it.
  if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    want+=(nodejs npm)
  fi
fi

missing=()
for p in "${want[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if ((${#missing[@]})); then
  echo "deps: installing ${missing[*]}"
  if [[ $(id -u) -ne 0 ]]; then
    echo "deps: run as root (or install: ${missing[*]})" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
