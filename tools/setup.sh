#!/usr/bin/env bash
# Installs memsoak's build dependencies from Debian's archive (when missing) and builds it into
# build/. Run as root on Debian 12. Used by both Quick start commands and by .ci/run (which also
# needs its clang-format for tools/check_format.sh).
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
  build-essential cmake pkg-config git clang-format
  libfmt-dev libcli11-dev nlohmann-json3-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  libopenblas-dev python3 python3-numpy python3-jsonschema libunwind-dev libdw-dev
  libjemalloc2 libtcmalloc-minimal4 libmimalloc2.0
  heaptrack zstd
  chromium
  # tools/fuzz.sh: clang and its libFuzzer, ASan and UBSan runtimes (libclang_rt.*.a)
  clang libclang-rt-14-dev
  # tools/sanitize.sh: Ninja builds its list of targets in parallel (make builds them one by one)
  ninja-build
)
# report.html embeds uPlot from the npm registry (reports/html/package-lock.json): Debian's npm,
# unless this machine already has one (a Node.js from elsewhere brings its own).
command -v npm >/dev/null || packages+=(nodejs npm)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q >&2
  apt-get install -y -q --no-install-recommends "${missing[@]}" >&2
fi

cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)" >&2
