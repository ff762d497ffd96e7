// Argument checks shared by the perception kernels: images whose element type is one of two
// (depth Float32Array | Uint16Array, labels Uint8Array | Uint16Array), and the index bounds
// every kernel proves before it touches a buffer. A failed check throws a TypeError or
// RangeError naming the kernel and the argument (the TS wrapper turns it into a typed
// bad_argument error): no input reads or writes outside the caller's arrays.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>

#include "kernels.h"

namespace sr {
namespace perception {

enum class Sample { kFloat32, kUint16, kUint8 };

/** A depth or label image: its samples, borrowed for one call. */
struct ImageArg {
  Sample type;
  const void* data;
  size_t length;
};

[[noreturn]] inline void rangeFail(Napi::Env env, const char* kernel, const std::string& what) {
  throw Napi::RangeError::New(env, std::string(kernel) + ": " + what);
}

/** Argument `index` as a typed array of one of the allowed sample types (one N-API call, as kernels.h typedArrayArg). */
inline ImageArg imageArg(const Napi::CallbackInfo& info, size_t index, const char* kernel, const char* what, bool depth) {
  Napi::Env env = info.Env();
  const char* allowed = depth ? "a Float32Array or Uint16Array" : "a Uint8Array or Uint16Array";
  napi_typedarray_type kind = napi_int8_array;
  size_t length = 0;
  void* data = nullptr;
  if (info.Length() <= index || napi_get_typedarray_info(env, info[index], &kind, &length, &data, nullptr, nullptr) != napi_ok) {
    throw Napi::TypeError::New(env, std::string(kernel) + ": " + what + " must be " + allowed);
  }
  Sample type;
  switch (kind) {
    case napi_float32_array:
      if (!depth) throw Napi::TypeError::New(env, std::string(kernel) + ": " + what + " must be " + allowed);
      type = Sample::kFloat32;
      break;
    case napi_uint16_array:
      type = Sample::kUint16;
      break;
    case napi_uint8_array:
      if (depth) throw Napi::TypeError::New(env, std::string(kernel) + ": " + what + " must be " + allowed);
      type = Sample::kUint8;
      break;
    default:
      throw Napi::TypeError::New(env, std::string(kernel) + ": " + what + " must be " + allowed);
  }
  return ImageArg{type, data, length};
}

/** A number argument. */
inline double numberArg(const Napi::CallbackInfo& info, size_t index, const char* kernel, const char* what) {
  double x;
  if (!numberAt(info, index, &x)) throw Napi::TypeError::New(info.Env(), std::string(kernel) + ": " + what + " must be a number");
  return x;
}

/** An integer in [lo, hi] (a double that is one: NaN, fractions and out-of-range values fail). */
inline long integerIn(Napi::Env env, double x, long lo, long hi, const char* kernel, const char* what) {
  if (!(x >= static_cast<double>(lo) && x <= static_cast<double>(hi)) || x != std::floor(x)) {
    rangeFail(env, kernel, std::string(what) + " must be an integer in [" + std::to_string(lo) + ", " + std::to_string(hi) + "], got " + std::to_string(x));
  }
  return static_cast<long>(x);
}

inline double finiteIn(Napi::Env env, double x, const char* kernel, const char* what) {
  if (!std::isfinite(x)) rangeFail(env, kernel, std::string(what) + " must be finite, got " + std::to_string(x));
  return x;
}

/** `needed` elements (or more) in an array of `length`. */
inline void holds(Napi::Env env, size_t length, size_t needed, const char* kernel, const char* what) {
  if (length < needed) rangeFail(env, kernel, std::string(what) + " holds " + std::to_string(length) + " elements, at least " + std::to_string(needed) + " needed");
}

/** Every value finite (rays, rotations: points made from them index nothing, but must stay finite). */
inline void allFinite(Napi::Env env, const double* v, size_t n, const char* kernel, const char* what) {
  for (size_t i = 0; i < n; i++) {
    if (!std::isfinite(v[i])) rangeFail(env, kernel, std::string(what) + "[" + std::to_string(i) + "] is not finite");
  }
}

/** The largest image side the kernels accept (the simulator's limit too). */
constexpr long kMaxSide = 16384;
/** Label ids are 16-bit: per-id arrays hold 65536 entries. */
constexpr long kMaxLabel = 65536;

}  // namespace perception
}  // namespace sr
