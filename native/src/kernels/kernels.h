// Shared by every file of the kernels addon (spatial_reward_kernels): how a kernel family
// registers its functions, and checked access to typed-array arguments.
//
// binding.gyp compiles every native/src/kernels/*.cc into the addon, so a new kernel family is
// one new file that registers itself (SR_KERNEL_FAMILY below); nothing central is edited.
// Every kernel keeps a TypeScript reference implementation, and its results must equal the
// reference's: the addon is compiled with -O2 -ffp-contract=off and without -ffast-math, and
// math that JS spells differently from libm (Math.hypot, ToUint8 stores) is in js_math.h.
#pragma once

#include <napi.h>

#include <cstddef>
#include <cstdint>
#include <string>

namespace sr {

using FamilyInit = void (*)(Napi::Env env, Napi::Object exports);

// Kernel families are collected before the addon's Init runs (static initialisers).
struct FamilyRegistration {
  FamilyRegistration(const char* family, FamilyInit init);
};

template <typename T> struct TypedArrayKind;
template <> struct TypedArrayKind<double> { static constexpr napi_typedarray_type type = napi_float64_array; static constexpr const char* name = "Float64Array"; };
template <> struct TypedArrayKind<float> { static constexpr napi_typedarray_type type = napi_float32_array; static constexpr const char* name = "Float32Array"; };
template <> struct TypedArrayKind<uint8_t> { static constexpr napi_typedarray_type type = napi_uint8_array; static constexpr const char* name = "Uint8Array"; };
template <> struct TypedArrayKind<uint16_t> { static constexpr napi_typedarray_type type = napi_uint16_array; static constexpr const char* name = "Uint16Array"; };
template <> struct TypedArrayKind<int32_t> { static constexpr napi_typedarray_type type = napi_int32_array; static constexpr const char* name = "Int32Array"; };
template <> struct TypedArrayKind<uint32_t> { static constexpr napi_typedarray_type type = napi_uint32_array; static constexpr const char* name = "Uint32Array"; };

// A typed array's elements, borrowed for the duration of one call (zero copy).
template <typename T> struct ArrayView {
  T* data;
  size_t length;
};

// Argument `index` as a T typed array (exactly that element type: a Uint8ClampedArray is not a
// Uint8Array) with `length` elements, or with at least `length` when `atLeast`. Anything else
// throws a TypeError/RangeError naming the kernel and the argument: never a read or write
// outside the caller's buffer. A detached buffer has length 0 and fails the length check.
template <typename T>
ArrayView<T> typedArrayArg(const Napi::CallbackInfo& info, size_t index, const char* kernel, const char* what, size_t length, bool atLeast = false) {
  Napi::Env env = info.Env();
  // One N-API call gives the type, length and element pointer, and fails for anything that is
  // not a typed array (the wrappers' IsTypedArray / As / Data took five: ~0.15 us an argument,
  // a few microseconds a frame over the perception kernels' ~45 array arguments). The element
  // pointer as napi_get_typedarray_info gives it: also for SharedArrayBuffer-backed arrays.
  napi_typedarray_type type = napi_int8_array;
  size_t n = 0;
  void* data = nullptr;
  if (info.Length() <= index || napi_get_typedarray_info(env, info[index], &type, &n, &data, nullptr, nullptr) != napi_ok ||
      type != TypedArrayKind<T>::type) {
    throw Napi::TypeError::New(env, std::string(kernel) + ": " + what + " must be a " + TypedArrayKind<T>::name);
  }
  if (atLeast ? n < length : n != length) {
    throw Napi::RangeError::New(env, std::string(kernel) + ": " + what + " holds " + std::to_string(n) + " elements, " +
                                         (atLeast ? "at least " : "") + std::to_string(length) + " needed");
  }
  return ArrayView<T>{static_cast<T*>(data), n};
}

// A number argument in one N-API call (it fails for anything but a number); false when absent or not a number.
inline bool numberAt(const Napi::CallbackInfo& info, size_t index, double* out) {
  return info.Length() > index && napi_get_value_double(info.Env(), info[index], out) == napi_ok;
}

}  // namespace sr

#define SR_KERNEL_CONCAT_(a, b) a##b
#define SR_KERNEL_CONCAT(a, b) SR_KERNEL_CONCAT_(a, b)
// SR_KERNEL_FAMILY(render, InitRender): at load, InitRender(env, exports) adds the family's functions.
#define SR_KERNEL_FAMILY(family, init) \
  static ::sr::FamilyRegistration SR_KERNEL_CONCAT(sr_kernel_family_, family)(#family, init)
