// Math as V8 computes it, where C/C++ spells the same function differently. A kernel whose TS
// reference calls these gets bit-identical results only through these versions.
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#endif

namespace sr {
namespace js {

// Math.hypot(a, b[, c]): V8 normalises by the largest magnitude and sums the squares with
// Kahan compensation (builtins-math.cc / math.tq); libm's hypot rounds differently.
inline double hypot(const double* values, int n) {
  double max = 0;
  bool nan = false;
  double abs[3];
  for (int i = 0; i < n; i++) {
    double a = std::fabs(values[i]);
    if (std::isnan(a)) nan = true;
    abs[i] = a;
    if (a > max) max = a;
  }
  if (max == std::numeric_limits<double>::infinity()) return max;
  if (nan) return std::numeric_limits<double>::quiet_NaN();
  if (max == 0) return 0;
  double sum = 0, compensation = 0;
  for (int i = 0; i < n; i++) {
    double q = abs[i] / max;
    double summand = q * q - compensation;
    double preliminary = sum + summand;
    compensation = (preliminary - sum) - summand;
    sum = preliminary;
  }
  return std::sqrt(sum) * max;
}
inline double hypot(double a, double b) {
  const double v[2] = {a, b};
  return hypot(v, 2);
}
inline double hypot(double a, double b, double c) {
  const double v[3] = {a, b, c};
  return hypot(v, 3);
}

// Math.max(0, x) and Math.min(255, x): NaN in, NaN out (std::max/std::min would drop it).
inline double maxZero(double x) { return x > 0 ? x : (x != x ? x : 0.0); }
inline double min255(double x) { return x < 255 ? x : (x != x ? x : 255.0); }

// Math.min(a, b) / Math.max(a, b): NaN if either is NaN; -0 below +0.
inline double min(double a, double b) {
  if (a != a || b != b) return std::numeric_limits<double>::quiet_NaN();
  if (a == b) return std::signbit(a) ? a : b;
  return a < b ? a : b;
}
inline double max(double a, double b) {
  if (a != a || b != b) return std::numeric_limits<double>::quiet_NaN();
  if (a == b) return std::signbit(a) ? b : a;
  return a > b ? a : b;
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define SR_JS_LANES 1
// min and max above per lane of four doubles, branch-free (AVX2 callers, chosen at run time):
// NaN if either is NaN (the canonical NaN, as quiet_NaN()), of equal values (+0 and -0) the one
// with the sign bit for min (a | b), without it for max (a & b), else the smaller / larger.
__attribute__((target("avx2"))) inline __m256d minLanes(__m256d a, __m256d b) {
  const __m256d lt = _mm256_cmp_pd(a, b, _CMP_LT_OQ), eq = _mm256_cmp_pd(a, b, _CMP_EQ_OQ), un = _mm256_cmp_pd(a, b, _CMP_UNORD_Q);
  const __m256d r = _mm256_or_pd(_mm256_blendv_pd(b, a, lt), _mm256_and_pd(eq, a));
  return _mm256_blendv_pd(r, _mm256_set1_pd(std::numeric_limits<double>::quiet_NaN()), un);
}
__attribute__((target("avx2"))) inline __m256d maxLanes(__m256d a, __m256d b) {
  const __m256d gt = _mm256_cmp_pd(a, b, _CMP_GT_OQ), eq = _mm256_cmp_pd(a, b, _CMP_EQ_OQ), un = _mm256_cmp_pd(a, b, _CMP_UNORD_Q);
  const __m256d r = _mm256_blendv_pd(_mm256_blendv_pd(b, a, gt), _mm256_and_pd(a, b), eq);
  return _mm256_blendv_pd(r, _mm256_set1_pd(std::numeric_limits<double>::quiet_NaN()), un);
}
// hypot's general case per lane for three magnitudes ax, ay, az whose largest is mx (finite and
// non-zero, no NaN): each over mx, their squares summed with Kahan's compensation in that order,
// the root times mx.
// The same two lanes at a time with SSE2 (x86-64's baseline: no target attribute needed).
inline __m128d hypot3Lanes128(__m128d ax, __m128d ay, __m128d az, __m128d mx) {
  const __m128d zero = _mm_setzero_pd();
  const __m128d qx = _mm_div_pd(ax, mx), qy = _mm_div_pd(ay, mx), qz = _mm_div_pd(az, mx);
  __m128d sum = zero, compensation = zero;
  __m128d summand = _mm_sub_pd(_mm_mul_pd(qx, qx), compensation);
  __m128d preliminary = _mm_add_pd(sum, summand);
  compensation = _mm_sub_pd(_mm_sub_pd(preliminary, sum), summand);
  sum = preliminary;
  summand = _mm_sub_pd(_mm_mul_pd(qy, qy), compensation);
  preliminary = _mm_add_pd(sum, summand);
  compensation = _mm_sub_pd(_mm_sub_pd(preliminary, sum), summand);
  sum = preliminary;
  summand = _mm_sub_pd(_mm_mul_pd(qz, qz), compensation);
  sum = _mm_add_pd(sum, summand);
  return _mm_mul_pd(_mm_sqrt_pd(sum), mx);
}
__attribute__((target("avx2"))) inline __m256d hypot3Lanes(__m256d ax, __m256d ay, __m256d az, __m256d mx) {
  const __m256d zero = _mm256_setzero_pd();
  const __m256d qx = _mm256_div_pd(ax, mx), qy = _mm256_div_pd(ay, mx), qz = _mm256_div_pd(az, mx);
  __m256d sum = zero, compensation = zero;
  __m256d summand = _mm256_sub_pd(_mm256_mul_pd(qx, qx), compensation);
  __m256d preliminary = _mm256_add_pd(sum, summand);
  compensation = _mm256_sub_pd(_mm256_sub_pd(preliminary, sum), summand);
  sum = preliminary;
  summand = _mm256_sub_pd(_mm256_mul_pd(qy, qy), compensation);
  preliminary = _mm256_add_pd(sum, summand);
  compensation = _mm256_sub_pd(_mm256_sub_pd(preliminary, sum), summand);
  sum = preliminary;
  summand = _mm256_sub_pd(_mm256_mul_pd(qz, qz), compensation);
  sum = _mm256_add_pd(sum, summand);
  return _mm256_mul_pd(_mm256_sqrt_pd(sum), mx);
}
#endif

// A double stored into an Int32Array (ECMAScript ToInt32): truncated, modulo 2^32, signed;
// NaN and infinities 0.
inline int32_t toInt32(double x) {
  if (x >= -2147483648.0 && x < 2147483648.0) return static_cast<int32_t>(x);
  if (!std::isfinite(x)) return 0;
  double m = std::fmod(std::trunc(x), 4294967296.0);
  if (m < 0) m += 4294967296.0;
  return static_cast<int32_t>(static_cast<uint32_t>(m));
}

// A double stored into a Uint8Array (ECMAScript ToUint8): truncated toward zero, modulo 256,
// NaN and infinities 0.
inline uint8_t toUint8(double x) {
  if (x >= 0 && x < 256) return static_cast<uint8_t>(x);
  if (!std::isfinite(x)) return 0;
  double m = std::fmod(std::trunc(x), 256.0);
  if (m < 0) m += 256;
  return static_cast<uint8_t>(m);
}

}  // namespace js
}  // namespace sr
