#!/usr/bin/env bash
# Builds the Fast DDS interop peer (test/interop/fastdds_peer) into build/peers/fastdds/ at
# the repository root: out of source, idempotent, a quick no-op when already up to date.
# Needs cmake, a C++17 compiler and Fast DDS 2.x (Debian: libfastrtps-dev libfastcdr-dev).
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
src="$root/test/interop/fastdds_peer"
out="$root/build/peers/fastdds"

die() { echo "build_fastdds_peer: $*" >&2; exit 1; }
command -v cmake >/dev/null || die "cmake not found (apt-get install -y cmake g++ make)"
command -v c++ >/dev/null || command -v g++ >/dev/null || die "no C++ compiler found (apt-get install -y g++)"

mkdir -p "$out"
if [ ! -f "$out/CMakeCache.txt" ] || [ "$src/CMakeLists.txt" -nt "$out/CMakeCache.txt" ]; then
  if ! cmake -S "$src" -B "$out" -DCMAKE_BUILD_TYPE=Release >"$out/configure.log" 2>&1; then
    rm -f "$out/CMakeCache.txt"  # configure again next time, e.g. after installing Fast DDS
    if grep -qiE 'fastrtps|fastcdr' "$out/configure.log"; then
      die "Fast DDS not found (CMake packages fastrtps/fastcdr): apt-get install -y libfastrtps-dev libfastcdr-dev (log: $out/configure.log)"
    fi
    cat "$out/configure.log" >&2
    die "cmake configure failed"
  fi
fi
cmake --build "$out" --parallel "$(nproc 2>/dev/null || echo 2)" >"$out/build.log" 2>&1 || { cat "$out/build.log" >&2; die "build failed (log: $out/build.log)"; }
echo "build_fastdds_peer: $out/fastdds_peer"
