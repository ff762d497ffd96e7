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

// out = selectPairsByValue2's [x r1, x r2, y r1, y r2] of two value arrays of one length (r1 <= r2 < n).
Napi::Value SelectRanksXYInto(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto x = sr::typedArrayArg<float>(info, 0, "selectRanksXYInto", "x", 1, true);
  auto y = sr::typedArrayArg<float>(info, 1, "selectRanksXYInto", "y", x.length);
  for (size_t k = 2; k <= 3; k++) {
    if (info.Length() <= k || !info[k].IsNumber()) throw Napi::TypeError::New(env, "selectRanksXYInto: r1 and r2 must be numbers");
  }
  const double d1 = info[2].As<Napi::Number>().DoubleValue(), d2 = info[3].As<Napi::Number>().DoubleValue();
  const double n = static_cast<double>(x.length);
  if (!(d1 >= 0 && d1 <= d2 && d2 < n && std::floor(d1) == d1 && std::floor(d2) == d2)) {
    throw Napi::RangeError::New(env, "selectRanksXYInto: ranks must be integers with 0 <= r1 <= r2 < " + std::to_string(x.length));
  }
  auto out = sr::typedArrayArg<double>(info, 4, "selectRanksXYInto", "out", 4);
  std::vector<uint32_t> buf(4 * x.length);
  sr::psort::selectPairsByValue2(x.data, y.data, static_cast<long>(x.length), static_cast<long>(d1), static_cast<long>(d2), out.data[0], out.data[1], out.data[2], out.data[3], buf.data());
  return env.Undefined();
}

// out[0] = the value of rank r of values (doubles), by selectKeyByBits over their keys (the stray
// cut's squared distances).
Napi::Value KeyRankInto(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto v = sr::typedArrayArg<double>(info, 0, "keyRankInto", "values", 1, true);
  if (info.Length() <= 1 || !info[1].IsNumber()) throw Napi::TypeError::New(env, "keyRankInto: r must be a number");
  const double r = info[1].As<Napi::Number>().DoubleValue();
  if (!(r >= 0 && r < static_cast<double>(v.length) && std::floor(r) == r)) {
    throw Napi::RangeError::New(env, "keyRankInto: r must be an integer with 0 <= r < " + std::to_string(v.length));
  }
  auto out = sr::typedArrayArg<double>(info, 2, "keyRankInto", "out", 1);
  std::vector<uint64_t> keys(2 * v.length);
  uint64_t kmin = ~0ull, kmax = 0;
  for (size_t i = 0; i < v.length; i++) {
    keys[i] = sr::psort::keyOf(v.data[i]);
    kmin = keys[i] < kmin ? keys[i] : kmin;
    kmax = keys[i] > kmax ? keys[i] : kmax;
  }
  out.data[0] = sr::psort::valueOf(sr::psort::selectKeyByBits(keys.data(), static_cast<long>(v.length), static_cast<long>(r), kmin, kmax));
  return env.Undefined();
}

// out[0 .. n) = Ranked's whole sort of values (floats; what the box estimator's heights get).
Napi::Value SortedInto(const Napi::CallbackInfo& info) {
  auto v = sr::typedArrayArg<float>(info, 0, "sortedInto", "values", 0, true);
  auto out = sr::typedArrayArg<double>(info, 1, "sortedInto", "out", v.length);
  sr::psort::Ranked r;
  r.load(v.data, static_cast<long>(v.length));
  r.sortAll();
  r.values(out.data);
  return info.Env().Undefined();
}

void InitSelection(Napi::Env env, Napi::Object exports) {
  exports.Set("selectRanksXYInto", Napi::Function::New(env, SelectRanksXYInto, "selectRanksXYInto"));
  exports.Set("keyRankInto", Napi::Function::New(env, KeyRankInto, "keyRankInto"));
  exports.Set("sortedInto", Napi::Function::New(env, SortedInto, "sortedInto"));
  exports.Set("selectRanksInto", Napi::Function::New(env, SelectRanksInto, "selectRanksInto"));
  exports.Set("rankedEndsInto", Napi::Function::New(env, RankedEndsInto, "rankedEndsInto"));
}

}  // namespace

SR_KERNEL_FAMILY(selection, InitSelection);
