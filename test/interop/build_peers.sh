#!/usr/bin/env bash
# Builds the interop peers into build/peers/ (out of source). Idempotent: make only rebuilds
# what changed. One section per peer.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
out="$root/build/peers"
mkdir -p "$out"

# --- Cyclone DDS C peer (types from test/interop/idl via idlc) ---
command -v cmake >/dev/null || { echo "build_peers: cmake not found (apt install cmake gcc make)" >&2; exit 1; }
if [ ! -f /usr/include/dds/dds.h ] || ! command -v idlc >/dev/null; then
  echo "build_peers: Cyclone DDS not found (apt install cyclonedds-dev cyclonedds-tools)" >&2
  exit 1
fi
cmake -S "$root/test/interop/cyclone_peer" -B "$out/cyclone" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$out/cyclone" -j2 >/dev/null
ln -sf "$out/cyclone/cyclone_peer" "$out/cyclone_peer"

# --- Fast DDS C++ peer (optional section: built when its sources exist) ---
if [ -x "$root/test/interop/build_fastdds_peer.sh" ] || [ -f "$root/test/interop/build_fastdds_peer.sh" ]; then
  bash "$root/test/interop/build_fastdds_peer.sh"
fi
