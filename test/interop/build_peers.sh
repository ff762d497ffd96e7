#!/usr/bin/env bash
# Builds the interop peers into build/peers/ (out of source). Idempotent: make only rebuilds
# what changed. One section per peer.
#
# usage: build_peers.sh [all|cyclone|fastdds]   (default all)
# The Cyclone DDS peer is required. The Fast DDS peer is built when Fast DDS is installed;
# without it this says so and succeeds, unless SPATIAL_REWARD_REQUIRE_FASTDDS=1 (CI).
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
out="$root/build/peers"
which="${1:-all}"
case "$which" in all | cyclone | fastdds) ;; *) echo "usage: build_peers.sh [all|cyclone|fastdds]" >&2; exit 2 ;; esac
mkdir -p "$out"

# --- Cyclone DDS C peer (types from test/interop/idl via idlc) ---
if [ "$which" != fastdds ]; then
  command -v cmake >/dev/null || { echo "build_peers: cmake not found (apt install cmake gcc make)" >&2; exit 1; }
  if [ ! -f /usr/include/dds/dds.h ] || ! command -v idlc >/dev/null; then
    echo "build_peers: Cyclone DDS not found (apt install cyclonedds-dev cyclonedds-tools)" >&2
    exit 1
  fi
  cmake -S "$root/test/interop/cyclone_peer" -B "$out/cyclone" -DCMAKE_BUILD_TYPE=Release >/dev/null
  cmake --build "$out/cyclone" -j2 >/dev/null
  ln -sf "$out/cyclone/cyclone_peer" "$out/cyclone_peer"
fi

# --- Fast DDS C++ peer (optional: only where Fast DDS is installed) ---
if [ "$which" != cyclone ]; then
  status=0
  bash "$root/test/interop/build_fastdds_peer.sh" >/dev/null || status=$?
  if [ "$status" = 3 ]; then
    if [ "${SPATIAL_REWARD_REQUIRE_FASTDDS:-}" = 1 ]; then
      echo "build_peers: Fast DDS is required here (SPATIAL_REWARD_REQUIRE_FASTDDS=1)" >&2
      exit 1
    fi
    echo "build_peers: the Fast DDS peer is not built (Fast DDS not installed); its tests are skipped" >&2
  elif [ "$status" != 0 ]; then
    exit "$status"
  fi
fi
