// Kernel family "js_math": js_math.h's functions over Float64Arrays, so tests can hold them to
// V8's own Math.hypot, Math.min/Math.max and Uint8Array stores on many inputs. A kernel's
// output comparison alone would miss a one-ulp slip in, say, a normal that shading rounds away.
#include "js_math.h"
#include "kernels.h"

namespace {

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

void InitJsMath(Napi::Env env, Napi::Object exports) {
  exports.Set("hypotInto", Napi::Function::New(env, HypotInto, "hypotInto"));
  exports.Set("toUint8Into", Napi::Function::New(env, ToUint8Into, "toUint8Into"));
}

}  // namespace

SR_KERNEL_FAMILY(js_math, InitJsMath);
