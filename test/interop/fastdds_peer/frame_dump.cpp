#include "frame_dump.hpp"

#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <sstream>
#include <stdexcept>

DumpMeta read_dump_meta(const std::string& dir) {
  const std::string path = dir + "/meta.txt";
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot open " + path);
  DumpMeta m;
  bool have_w = false, have_h = false, have_f = false;
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream ls(line);
    std::string key;
    if (!(ls >> key)) continue;
    std::string value;
    std::getline(ls >> std::ws, value);
    try {
      if (key == "width") { m.width = static_cast<uint32_t>(std::stoul(value)); have_w = true; }
      else if (key == "height") { m.height = static_cast<uint32_t>(std::stoul(value)); have_h = true; }
      else if (key == "fx") m.fx = std::stod(value);
      else if (key == "fy") m.fy = std::stod(value);
      else if (key == "cx") m.cx = std::stod(value);
      else if (key == "cy") m.cy = std::stod(value);
      else if (key == "frames") { m.frames = static_cast<uint32_t>(std::stoul(value)); have_f = true; }
      else if (key == "frame_id") m.frame_id = value;
    } catch (const std::exception&) {
      throw std::runtime_error(path + ": bad value for " + key + ": '" + value + "'");
    }
  }
  if (!have_w || !have_h || !have_f || m.width == 0 || m.height == 0 || m.frames == 0)
    throw std::runtime_error(path + ": needs width, height and frames (all > 0)");
  return m;
}

DumpFrame read_dump_frame(const std::string& dir, const DumpMeta& meta, uint32_t index) {
  char name[32];
  std::snprintf(name, sizeof name, "/frame_%05u.bin", index);
  const std::string path = dir + name;
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot open " + path);
  std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const size_t n = static_cast<size_t>(meta.width) * meta.height;
  size_t o = 0;
  auto take = [&](size_t len) {
    if (bytes.size() - o < len) throw std::runtime_error(path + ": truncated (" + std::to_string(bytes.size()) + " bytes)");
    std::vector<uint8_t> out(bytes.begin() + o, bytes.begin() + o + len);
    o += len;
    return out;
  };
  auto u16 = [&](const std::vector<uint8_t>& b) { return static_cast<uint16_t>(b[0] | (b[1] << 8)); };
  DumpFrame f;
  f.rgb = take(n * 3);
  f.depth = take(n * 2);
  f.mask = take(n * 2);
  std::vector<uint8_t> cnt = take(4);
  uint32_t count = cnt[0] | (cnt[1] << 8) | (cnt[2] << 16) | (static_cast<uint32_t>(cnt[3]) << 24);
  for (uint32_t i = 0; i < count; i++) {
    uint16_t id = u16(take(2));
    uint16_t len = u16(take(2));
    std::vector<uint8_t> label = take(len);
    f.labels.emplace_back(id, std::string(label.begin(), label.end()));
  }
  return f;
}
