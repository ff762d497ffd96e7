// Reads a frame dump written by `spatial-reward sim-dump` (format: sim/frame_dump.ts):
// DIR/meta.txt (`key value` lines) and DIR/frame_NNNNN.bin, little endian: rgb8 (w*h*3),
// depth uint16 mm (w*h*2), instance ids uint16 (w*h*2), uint32 n, n x {uint16 id,
// uint16 label length, label bytes}.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

struct DumpMeta {
  uint32_t width = 0;
  uint32_t height = 0;
  double fx = 0, fy = 0, cx = 0, cy = 0;
  uint32_t frames = 0;
  std::string frame_id;
};

struct DumpFrame {
  std::vector<uint8_t> rgb;    // w*h*3
  std::vector<uint8_t> depth;  // w*h*2, uint16 LE
  std::vector<uint8_t> mask;   // w*h*2, uint16 LE
  std::vector<std::pair<uint16_t, std::string>> labels;
};

/** Throws std::runtime_error naming the file and what is wrong. */
DumpMeta read_dump_meta(const std::string& dir);
DumpFrame read_dump_frame(const std::string& dir, const DumpMeta& meta, uint32_t index);
