// The smallest kernel family, and the check of the addon's floating-point contract: a*b + c
// rounded twice, as JS computes it. A build that fuses it into one FMA (-ffp-contract=fast, the
// GCC default for GNU C++, effective wherever the target has FMA: arm64, x86-64-v3) returns a
// different double for some inputs, and test/native/kernels_addon.test.ts fails on it.
#include "kernels.h"

namespace {

// out[i] = a[i] * b[i] + c[i] over four Float64Arrays of one length (out may alias an input).
Napi::Value MulAddInto(const Napi::CallbackInfo& info) {
  auto a = sr::typedArrayArg<double>(info, 0, "mulAddInto", "a", 0, true);
  auto b = sr::typedArrayArg<double>(info, 1, "mulAddInto", "b", a.length);
  auto c = sr::typedArrayArg<double>(info, 2, "mulAddInto", "c", a.length);
  auto out = sr::typedArrayArg<double>(info, 3, "mulAddInto", "out", a.length);
  for (size_t i = 0; i < a.length; i++) out.data[i] = a.data[i] * b.data[i] + c.data[i];
  return info.Env().Undefined();
}

void InitFpContract(Napi::Env env, Napi::Object exports) {
  exports.Set("mulAddInto", Napi::Function::New(env, MulAddInto, "mulAddInto"));
}

}  // namespace

SR_KERNEL_FAMILY(fp_contract, InitFpContract);
