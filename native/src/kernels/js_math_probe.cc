// Kernel family "js_math": js_math.h's functions over Float64Arrays, so tests can hold them to
// V8's own Math.hypot, Math.min/Math.max and Uint8Array stores on many inputs. A kernel's
// output comparison alone would miss a one-ulp slip in, say, a normal that shading rounds away.
#include "js_math.h"
#include "kernels.h"

namespace {

#if defined(SR_JS_LANES)
__attribute__((target("avx2"))) void minMaxLanes(const double* a, const double* b, size_t n, double* mn, double* mx) {
  size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    const __m256d va = _mm256_loadu_pd(a + i), vb = _mm256_loadu_pd(b + i);
    _mm256_storeu_pd(mn + i, sr::js::minLanes(va, vb));
    _mm256_storeu_pd(mx + i, sr::js::maxLanes(va, vb));
  }
  for (; i < n; i++) {
    mn[i] = sr::js::min(a[i], b[i]);
    mx[i] = sr::js::max(a[i], b[i]);
  }
}
#endif

// out[i] = Math.hypot(a[i], b[i]) (c omitted) or Math.hypot(a[i], b[i], c[i]).
Napi::Value HypotInto(const Napi::CallbackInfo& info) {
  auto a = sr::typedArrayArg<double>(info, 0, "hypotInto", "a", 0, true);
  auto b = sr::typedArrayArg<double>(info, 1, "hypotInto", "b", a.length);
  const bool three = info.Length() > 3;
  auto c = three ? sr::typedArrayArg<double>(info, 2, "hypotInto", "c", a.length) : sr::ArrayView<double>{nullptr, 0};
  auto out = sr::typedArrayArg<double>(info, three ? 3 : 2, "hypotInto", "out", a.length);
  for (size_t i = 0; i < a.length; i++) out.data[i] = three ? sr::js::hypot(a.data[i], b.data[i], c.data[i]) : sr::js::hypot(a.data[i], b.data[i]);
  return info.Env().Undefined();
}

// bytes[i] = the Uint8Array store of Math.min(255, Math.max(0, x[i])), and raw[i] = the store of x[i] itself.
Napi::Value ToUint8Into(const Napi::CallbackInfo& info) {
  auto x = sr::typedArrayArg<double>(info, 0, "toUint8Into", "x", 0, true);
  auto clamped = sr::typedArrayArg<uint8_t>(info, 1, "toUint8Into", "clamped", x.length);
  auto raw = sr::typedArrayArg<uint8_t>(info, 2, "toUint8Into", "raw", x.length);
  for (size_t i = 0; i < x.length; i++) {
    clamped.data[i] = sr::js::toUint8(sr::js::min255(sr::js::maxZero(x.data[i])));
    raw.data[i] = sr::js::toUint8(x.data[i]);
  }
  return info.Env().Undefined();
}

// min[i] = Math.min(a[i], b[i]), max[i] = Math.max(a[i], b[i]) by minLanes/maxLanes, four at a
// time (the rest by min/max); false where AVX2 is not there to run them (nothing written).
Napi::Value MinMaxLanesInto(const Napi::CallbackInfo& info) {
  auto a = sr::typedArrayArg<double>(info, 0, "minMaxLanesInto", "a", 0, true);
  auto b = sr::typedArrayArg<double>(info, 1, "minMaxLanesInto", "b", a.length);
  auto mn = sr::typedArrayArg<double>(info, 2, "minMaxLanesInto", "min", a.length);
  auto mx = sr::typedArrayArg<double>(info, 3, "minMaxLanesInto", "max", a.length);
#if defined(SR_JS_LANES)
  if (!__builtin_cpu_supports("avx2")) return Napi::Boolean::New(info.Env(), false);
  minMaxLanes(a.data, b.data, a.length, mn.data, mx.data);
  return Napi::Boolean::New(info.Env(), true);
#else
  (void)mn;
  (void)mx;
  return Napi::Boolean::New(info.Env(), false);
#endif
}

void InitJsMath(Napi::Env env, Napi::Object exports) {
  exports.Set("minMaxLanesInto", Napi::Function::New(env, MinMaxLanesInto, "minMaxLanesInto"));
  exports.Set("hypotInto", Napi::Function::New(env, HypotInto, "hypotInto"));
  exports.Set("toUint8Into", Napi::Function::New(env, ToUint8Into, "toUint8Into"));
}

}  // namespace

SR_KERNEL_FAMILY(js_math, InitJsMath);
