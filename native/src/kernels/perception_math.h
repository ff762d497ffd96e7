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

#include "js_math.h"

#if !defined(_WIN32)
#include <dlfcn.h>
#endif

// For the helpers called once a point that GCC keeps out of line (a call a point); inlining
// does not change results.
#if defined(__GNUC__)
#define SR_ALWAYS_INLINE __attribute__((always_inline)) inline
#else
#define SR_ALWAYS_INLINE inline
#endif
// A short loop of a constant count written out: GCC at -O2 kept some (a compare, a branch and the
// counter for each pass through a body of a few instructions). No effect on results.
#if defined(__clang__)
#define SR_UNROLL4 _Pragma("unroll 4")
#elif defined(__GNUC__)
#define SR_UNROLL4 _Pragma("GCC unroll 4")
#else
#define SR_UNROLL4
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

// Math.hypot, Math.min, Math.max: the renderer's V8-exact versions (js_math.h).
using js::hypot;
using js::max;
using js::min;

// Math.round: ceil, then one down when that went more than half up (CSA Float64Round).
inline double round(double x) {
  double v = std::ceil(x);
  if (v - 0.5 <= x) return v;
  return v - 1.0;
}

inline double max(double a, double b, double c) { return max(max(a, b), c); }

// Math.sign(x) for a non-zero, non-NaN x.
inline double sign(double x) { return x > 0 ? 1.0 : -1.0; }

}  // namespace pjs
}  // namespace sr
