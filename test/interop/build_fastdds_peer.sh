#!/usr/bin/env bash
# Builds the Fast DDS interop peer (test/interop/fastdds_peer) into build/peers/fastdds/ at
# the repository root: out of source, idempotent, a quick no-op when already up to date.
# Needs cmake, a C++17 compiler and Fast DDS 2.x (Debian: libfastrtps-dev libfastcdr-dev).
#
# usage: build_fastdds_peer.sh [--check]
#   --check   only find out whether Fast DDS is there (CMake's find_package, through a configure
#             of the peer), without compiling
# Prints the peer's path on stdout. Exit status: 0 built (or found, with --check); 3 Fast DDS
# not found, the reason on stderr (the peer is optional: tests skip, unless
# SPATIAL_REWARD_REQUIRE_FASTDDS=1 makes the callers fail); 1 anything else.
#
# SPATIAL_REWARD_FASTDDS_PREFIX=<dir>[;<dir>...]: look for Fast DDS's CMake packages only under
# these prefixes (e.g. "/opt/ros/humble;/usr"), in a build directory of their own. A prefix
# without Fast DDS (/nonexistent) makes this host look like one without it, through the same
# find_package failure, without touching the system or the default build.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
src="$root/test/interop/fastdds_peer"
check_only=0
[ "${1:-}" = "--check" ] && check_only=1

prefix="${SPATIAL_REWARD_FASTDDS_PREFIX:-}"
cmake_args=(-DCMAKE_BUILD_TYPE=Release)
if [ -n "$prefix" ]; then
  out="$root/build/peers/fastdds-prefix/$(printf '%s' "$prefix" | tr -c 'A-Za-z0-9._-' '_')"
  cmake_args+=("-DCMAKE_PREFIX_PATH=$prefix" "-DCMAKE_FIND_ROOT_PATH=$prefix" -DCMAKE_FIND_ROOT_PATH_MODE_PACKAGE=ONLY)
  where=" under SPATIAL_REWARD_FASTDDS_PREFIX=$prefix"
else
  out="$root/build/peers/fastdds"
  where=""
fi

die() { echo "build_fastdds_peer: $*" >&2; exit 1; }
missing() {
  echo "build_fastdds_peer: Fast DDS not found$where (CMake packages fastcdr/fastrtps): apt-get install -y libfastrtps-dev libfastcdr-dev, or on a ROS 2 host source /opt/ros/\$ROS_DISTRO/setup.bash (log: $out/configure.log)" >&2
  exit 3
}
command -v cmake >/dev/null || die "cmake not found (apt-get install -y cmake g++ make)"
command -v c++ >/dev/null || command -v g++ >/dev/null || die "no C++ compiler found (apt-get install -y g++)"

# A configured build whose Fast DDS has since gone (uninstalled, prefix changed) is stale.
cached_packages_exist() {
  local pkg dir
  for pkg in fastcdr fastrtps; do
    dir="$(sed -n "s/^${pkg}_DIR:PATH=//p" "$out/CMakeCache.txt")"
    [ -f "$dir/$pkg-config.cmake" ] || [ -f "$dir/${pkg}Config.cmake" ] || return 1
  done
}

mkdir -p "$out"
if [ -f "$out/CMakeCache.txt" ] && ! cached_packages_exist; then
  rm -f "$out/CMakeCache.txt"
fi
if [ ! -f "$out/CMakeCache.txt" ] || [ "$src/CMakeLists.txt" -nt "$out/CMakeCache.txt" ]; then
  if ! cmake -S "$src" -B "$out" "${cmake_args[@]}" >"$out/configure.log" 2>&1; then
    rm -f "$out/CMakeCache.txt"  # configure again next time, e.g. after installing Fast DDS
    if grep -qiE 'fastrtps|fastcdr' "$out/configure.log"; then missing; fi
    cat "$out/configure.log" >&2
    die "cmake configure failed"
  fi
fi
if [ "$check_only" = 1 ]; then
  echo "$out/fastdds_peer"
  exit 0
fi
cmake --build "$out" --parallel "$(nproc 2>/dev/null || echo 2)" >"$out/build.log" 2>&1 || { cat "$out/build.log" >&2; die "build failed (log: $out/build.log)"; }
echo "build_fastdds_peer: built $out/fastdds_peer" >&2
echo "$out/fastdds_peer"
