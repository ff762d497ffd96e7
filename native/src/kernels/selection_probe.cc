// Kernel family "selection": perception_sort.h's rank selections and Ranked's ends over a
// Float32Array, so tests can hold them to a sorted Float64Array copy (the TS references' order)
// on many inputs. Through
// measureObjects a rank off by one only moves the stray cut a hair and is rarely seen.
#include <cmath>
#include <string>
#include <vector>

#include "kernels.h"
#include "perception_sort.h"

namespace {

// out = [selectPairByValue's ranks r1 and r2, selectPair's ranks r1 and r2] of values (r1 <= r2 < n).
Napi::Value SelectRanksInto(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto v = sr::typedArrayArg<float>(info, 0, "selectRanksInto", "values", 1, true);
  for (size_t k = 1; k <= 2; k++) {
    if (info.Length() <= k || !info[k].IsNumber()) throw Napi::TypeError::New(env, "selectRanksInto: r1 and r2 must be numbers");
  }
  const double d1 = info[1].As<Napi::Number>().DoubleValue(), d2 = info[2].As<Napi::Number>().DoubleValue();
  const double n = static_cast<double>(v.length);
  if (!(d1 >= 0 && d1 <= d2 && d2 < n && std::floor(d1) == d1 && std::floor(d2) == d2)) {
    throw Napi::RangeError::New(env, "selectRanksInto: ranks must be integers with 0 <= r1 <= r2 < " + std::to_string(v.length));
  }
  auto out = sr::typedArrayArg<double>(info, 3, "selectRanksInto", "out", 4);
  const long len = static_cast<long>(v.length), r1 = static_cast<long>(d1), r2 = static_cast<long>(d2);
  std::vector<uint32_t> buf32(2 * v.length);
  std::vector<uint64_t> buf64(2 * v.length);
  sr::psort::selectPairByValue(v.data, len, r1, r2, out.data[0], out.data[1], buf32.data());
  const float* x = v.data;
  sr::psort::selectPair([x](long i) { return static_cast<double>(x[i]); }, len, r1, r2, out.data[2], out.data[3], buf64.data());
  return env.Undefined();
}

// out[j] = the value of rank ranks[j] read from a Ranked loaded with values after need(low, high)
// (the edge scans' use: the ends readied, then ranks read at and past them).
Napi::Value RankedEndsInto(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto v = sr::typedArrayArg<float>(info, 0, "rankedEndsInto", "values", 1, true);
  for (size_t k = 1; k <= 2; k++) {
    if (info.Length() <= k || !info[k].IsNumber()) throw Napi::TypeError::New(env, "rankedEndsInto: low and high must be numbers");
  }
  const double low = info[1].As<Napi::Number>().DoubleValue(), high = info[2].As<Napi::Number>().DoubleValue();
  const double n = static_cast<double>(v.length);
  if (!(low >= 0 && high >= 0 && low + high <= n && std::floor(low) == low && std::floor(high) == high)) {
    throw Napi::RangeError::New(env, "rankedEndsInto: low and high must be integers >= 0 with low + high <= " + std::to_string(v.length));
  }
  auto ranks = sr::typedArrayArg<int32_t>(info, 3, "rankedEndsInto", "ranks", 0, true);
  auto out = sr::typedArrayArg<double>(info, 4, "rankedEndsInto", "out", ranks.length);
  for (size_t j = 0; j < ranks.length; j++) {
    if (ranks.data[j] < 0 || static_cast<double>(ranks.data[j]) >= n) throw Napi::RangeError::New(env, "rankedEndsInto: a rank is outside the values");
  }
  sr::psort::Ranked r;
  r.load(v.data, static_cast<long>(v.length));
  r.need(static_cast<long>(low), static_cast<long>(high));
  for (size_t j = 0; j < ranks.length; j++) out.data[j] = r.atRank(ranks.data[j]);
  return env.Undefined();
}

void InitSelection(Napi::Env env, Napi::Object exports) {
  exports.Set("selectRanksInto", Napi::Function::New(env, SelectRanksInto, "selectRanksInto"));
  exports.Set("rankedEndsInto", Napi::Function::New(env, RankedEndsInto, "rankedEndsInto"));
}

}  // namespace

SR_KERNEL_FAMILY(selection, InitSelection);
