// Math as V8 computes it, for the perception kernels, whose TS references they must equal bit
// for bit. + - * / and sqrt are IEEE in both (the addon is built without FMA contraction);
// what differs is spelled here:
// - Math.sin/cos/atan2/log/pow: V8 (Node 20) uses its own fdlibm port, which rounds differently
//   from glibc's libm in a few percent of inputs. The addon lives in the process that runs the
//   JS, whose V8 exports those very functions (v8::base::ieee754::*): they are looked up there
//   once, so the kernels call the code Math.sin calls. Where the lookup fails (another engine or
//   Node build), libm is used and `exact()` is false: results then differ in the last bits.
// - Math.hypot: V8 normalises by the largest magnitude and sums with Kahan compensation.
// - Math.round rounds half up (towards +Infinity), Math.min/max propagate NaN and order -0 < +0.
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>

#if !defined(_WIN32)
#include <dlfcn.h>
#endif

namespace sr {
namespace pjs {

struct V8Math {
  double (*sin)(double);
  double (*cos)(double);
  double (*atan2)(double, double);
  double (*log)(double);
  double (*pow)(double, double);
  bool exact;
};

inline double libmSin(double x) { return std::sin(x); }
inline double libmCos(double x) { return std::cos(x); }
inline double libmAtan2(double y, double x) { return std::atan2(y, x); }
inline double libmLog(double x) { return std::log(x); }
inline double libmPow(double x, double y) { return std::pow(x, y); }

inline V8Math resolveV8Math() {
  V8Math m{libmSin, libmCos, libmAtan2, libmLog, libmPow, false};
#if !defined(_WIN32)
  // Itanium C++ ABI names of v8::base::ieee754::{sin,cos,atan2,log,pow}.
  void* s = dlsym(RTLD_DEFAULT, "_ZN2v84base7ieee7543sinEd");
  void* c = dlsym(RTLD_DEFAULT, "_ZN2v84base7ieee7543cosEd");
  void* a = dlsym(RTLD_DEFAULT, "_ZN2v84base7ieee7545atan2Edd");
  void* l = dlsym(RTLD_DEFAULT, "_ZN2v84base7ieee7543logEd");
  void* p = dlsym(RTLD_DEFAULT, "_ZN2v84base7ieee7543powEdd");
  if (s && c && a && l && p) {
    m.sin = reinterpret_cast<double (*)(double)>(s);
    m.cos = reinterpret_cast<double (*)(double)>(c);
    m.atan2 = reinterpret_cast<double (*)(double, double)>(a);
    m.log = reinterpret_cast<double (*)(double)>(l);
    m.pow = reinterpret_cast<double (*)(double, double)>(p);
    m.exact = true;
  }
#endif
  return m;
}

inline const V8Math& v8math() {
  static const V8Math m = resolveV8Math();
  return m;
}

/** Whether the transcendental functions are V8's own (results bit-identical to the TS reference). */
inline bool exact() { return v8math().exact; }
inline double sin(double x) { return v8math().sin(x); }
inline double cos(double x) { return v8math().cos(x); }
inline double atan2(double y, double x) { return v8math().atan2(y, x); }
inline double log(double x) { return v8math().log(x); }
inline double pow(double x, double y) { return v8math().pow(x, y); }

// Math.hypot over n values (builtins: math.tq MathHypot).
inline double hypotN(const double* values, int n) {
  double abs[3];
  double max = 0;
  bool nan = false;
  for (int i = 0; i < n; i++) {
    if (std::isnan(values[i])) {
      nan = true;
    } else {
      abs[i] = std::fabs(values[i]);
      if (abs[i] > max) max = abs[i];
    }
  }
  if (max == std::numeric_limits<double>::infinity()) return max;
  if (nan) return std::numeric_limits<double>::quiet_NaN();
  if (max == 0) return 0;
  double sum = 0, compensation = 0;
  for (int i = 0; i < n; i++) {
    const double q = abs[i] / max;
    const double summand = q * q - compensation;
    const double preliminary = sum + summand;
    compensation = (preliminary - sum) - summand;
    sum = preliminary;
  }
  return std::sqrt(sum) * max;
}
inline double hypot(double a, double b) {
  const double v[2] = {a, b};
  return hypotN(v, 2);
}
inline double hypot(double a, double b, double c) {
  const double v[3] = {a, b, c};
  return hypotN(v, 3);
}

// Math.round: ceil, then one down when that went more than half up (CSA Float64Round).
inline double round(double x) {
  double v = std::ceil(x);
  if (v - 0.5 <= x) return v;
  return v - 1.0;
}

// Math.max / Math.min of two values: NaN wins; +0 is larger than -0.
inline double max(double a, double b) {
  if (a != a || b != b) return std::numeric_limits<double>::quiet_NaN();
  if (a == b) return std::signbit(a) ? b : a;
  return a > b ? a : b;
}
inline double min(double a, double b) {
  if (a != a || b != b) return std::numeric_limits<double>::quiet_NaN();
  if (a == b) return std::signbit(a) ? a : b;
  return a < b ? a : b;
}
inline double max(double a, double b, double c) { return max(max(a, b), c); }

// Math.sign(x) for a non-zero, non-NaN x.
inline double sign(double x) { return x > 0 ? 1.0 : -1.0; }

}  // namespace pjs
}  // namespace sr
