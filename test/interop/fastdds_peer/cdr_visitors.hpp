// Visitors over the field lists of ros_msgs.hpp: XCDR1 (plain CDR) as ROS 2 puts on the wire,
// little endian, alignment counted from the end of the 4-byte encapsulation header.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include <fastcdr/Cdr.h>

namespace ros {

/** Writes each field with fastcdr. */
struct CdrWriter {
  eprosima::fastcdr::Cdr& cdr;

  template <class T> void operator()(const T& x) { cdr.serialize(x); }
  void operator()(const std::string& s) { cdr.serialize(s); }
  template <class T> void operator()(const std::vector<T>& v) {
    cdr.serialize(static_cast<uint32_t>(v.size()));
    // fastcdr aligns before an array even when it is empty; CDR does not pad for nothing.
    if (!v.empty()) cdr.serializeArray(v.data(), v.size());
  }
  void operator()(const std::vector<std::string>& v) {
    cdr.serialize(static_cast<uint32_t>(v.size()));
    for (const auto& s : v) cdr.serialize(s);
  }
  template <class T, size_t N> void operator()(const std::array<T, N>& a) { cdr.serializeArray(a.data(), N); }
};

/** Reads each field with fastcdr; sequence lengths are checked against the bytes left. */
struct CdrReader {
  eprosima::fastcdr::Cdr& cdr;
  size_t buffer_size;

  size_t remaining() const {
    size_t used = cdr.getSerializedDataLength();
    return used > buffer_size ? 0 : buffer_size - used;
  }
  uint32_t length(size_t element_size) {
    uint32_t n = 0;
    cdr.deserialize(n);
    if (static_cast<uint64_t>(n) * element_size > remaining()) throw std::runtime_error("sequence length past the end of the sample");
    return n;
  }
  template <class T> void operator()(T& x) { cdr.deserialize(x); }
  void operator()(std::string& s) { cdr.deserialize(s); }
  template <class T> void operator()(std::vector<T>& v) {
    uint32_t n = length(sizeof(T));
    v.resize(n);
    if (n > 0) cdr.deserializeArray(v.data(), n);
  }
  void operator()(std::vector<std::string>& v) {
    uint32_t n = length(4);  // each string takes at least its length word
    v.resize(n);
    for (auto& s : v) cdr.deserialize(s);
  }
  template <class T, size_t N> void operator()(std::array<T, N>& a) { cdr.deserializeArray(a.data(), N); }
};

/** Counts the exact serialized size (without the encapsulation header) with CDR alignment. */
struct CdrSizer {
  size_t off = 0;

  void align(size_t a) { off = (off + a - 1) & ~(a - 1); }
  void prim(size_t s) { align(s); off += s; }
  template <class T> void operator()(const T&) { prim(sizeof(T)); }
  void operator()(const std::string& s) { prim(4); off += s.size() + 1; }
  template <class T> void operator()(const std::vector<T>& v) {
    prim(4);
    if (!v.empty()) { align(sizeof(T)); off += v.size() * sizeof(T); }
  }
  void operator()(const std::vector<std::string>& v) {
    prim(4);
    for (const auto& s : v) (*this)(s);
  }
  template <class T, size_t N> void operator()(const std::array<T, N>&) { align(sizeof(T)); off += N * sizeof(T); }
};

static_assert(sizeof(bool) == 1, "CDR booleans are one octet");

}  // namespace ros
