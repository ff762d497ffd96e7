// Sorting and selection for the perception kernels, with the results of their TS references:
// - Ranked: the values a sorted copy holds at given ranks, where the reference sorts with
//   Float64Array.prototype.sort() (no comparator): ascending, -0 before +0, NaN last. A sort's
//   result is unique under that total order, so any exact algorithm gives the reference's
//   values. Values become order-preserving 64-bit keys; ranks are found by selection and
//   partial sorts (std::nth_element / std::sort on the keys) or an LSD radix sort.
// - selectKth: a port of src/geometry/quantile.ts's quickselect, step for step (its result for
//   ties between -0 and +0 depends on the steps, so it is not replaced by another algorithm).
#pragma once

#include <cstddef>
#include <cstdint>
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "perception_math.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif
// x86-64 with GCC or Clang: binnedEnds' gathering four values at a time with AVX2, chosen at run
// time (the addon is built for baseline x86-64). -DSR_SORT_NO_AVX2 builds the SSE2/scalar path only.
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__)) && !defined(SR_SORT_NO_AVX2)
#define SR_SORT_AVX2 1
#include <immintrin.h>
#endif

namespace sr {
namespace psort {

#if defined(SR_SORT_AVX2)
inline bool sortAvx2() {
  static const bool yes = __builtin_cpu_supports("avx2");
  return yes;
}
#endif

// Branch-free (keys are made in every pass over an object's points).
inline uint64_t keyOf(double d) {
  uint64_t b;
  std::memcpy(&b, &d, 8);
  const uint64_t nan = 0 - static_cast<uint64_t>(d != d);
  b = (b & ~nan) | (0x7FF8000000000000ull & nan);  // every NaN sorts last
  return b ^ ((0 - (b >> 63)) | 0x8000000000000000ull);
}

inline double valueOf(uint64_t k) {
  const uint64_t b = (k >> 63) ? (k & 0x7FFFFFFFFFFFFFFFull) : ~k;
  double d;
  std::memcpy(&d, &b, 8);
  return d;
}

/**
 * One LSD pass: src's keys into dst by byte p (h: where each byte value's keys start, advanced).
 * The shift a constant per byte (a variable shift cost two instructions a key).
 */
template <typename Key, int kByte = 0>
inline void scatterByte(int p, const Key* src, Key* dst, size_t n, uint32_t* h) {
  if constexpr (kByte < static_cast<int>(sizeof(Key))) {
    if (p != kByte) {
      scatterByte<Key, kByte + 1>(p, src, dst, n, h);
      return;
    }
    for (size_t i = 0; i < n; i++) {
      const Key k = src[i];
      dst[h[(k >> (8 * kByte)) & 0xFF]++] = k;
    }
  }
}

/**
 * radixSortKeys' passes over keys[0 .. n) (tmp holds n): one per byte in which some key differs
 * (`differ`: the OR of every key XOR the first), given each byte's counts, hist[byte][value]
 * (the counts of the bytes passed are overwritten).
 */
template <typename Key>
inline void radixPasses(Key* keys, size_t n, Key* tmp, uint32_t (*hist)[256], Key differ) {
  constexpr int kBytes = static_cast<int>(sizeof(Key));
  Key* src = keys;
  Key* dst = tmp;
  for (int p = 0; p < kBytes; p++) {
    if (((differ >> (8 * p)) & 0xFF) == 0) continue;
    uint32_t* h = hist[p];
    uint32_t sum = 0;
    for (int b = 0; b < 256; b++) {
      const uint32_t c = h[b];
      h[b] = sum;
      sum += c;
    }
    scatterByte(p, src, dst, n, h);
    Key* t = src;
    src = dst;
    dst = t;
  }
  if (src != keys) std::memcpy(keys, src, n * sizeof(Key));
}

/** Insertion sort of keys[0 .. n) (few keys). */
template <typename Key>
inline void insertionSortKeys(Key* keys, size_t n) {
  for (size_t i = 1; i < n; i++) {
    const Key x = keys[i];
    size_t j = i;
    while (j > 0 && keys[j - 1] > x) {
      keys[j] = keys[j - 1];
      j--;
    }
    keys[j] = x;
  }
}

/** LSD radix sort of unsigned keys[0 .. n) (tmp holds n), skipping the bytes all keys share; insertion sort for few. */
template <typename Key>
inline void radixSortKeys(Key* keys, size_t n, Key* tmp) {
  constexpr int kBytes = static_cast<int>(sizeof(Key));
  if (n < 2) return;
  if (n <= 48) {
    insertionSortKeys(keys, n);
    return;
  }
  // Only the bytes in which some key differs from the first need a pass (one object's
  // coordinates share sign, exponent and top mantissa bits; float32-exact values end in zeros).
  Key differ = 0;
  const Key k0 = keys[0];
  for (size_t i = 1; i < n; i++) differ |= keys[i] ^ k0;
  uint32_t hist[kBytes][256];
  int passes[kBytes];
  int np = 0;
  for (int p = 0; p < kBytes; p++) {
    if ((differ >> (8 * p)) & 0xFF) passes[np++] = p;
  }
  if (np == 0) return;
  for (int q = 0; q < np; q++) std::memset(hist[passes[q]], 0, sizeof hist[0]);
  for (size_t i = 0; i < n; i++) {
    const Key k = keys[i];
    for (int q = 0; q < np; q++) hist[passes[q]][(k >> (8 * passes[q])) & 0xFF]++;
  }
  radixPasses(keys, n, tmp, hist, differ);
}

inline void sortKeys(uint64_t* keys, size_t n, uint64_t* tmp) { radixSortKeys(keys, n, tmp); }

/** The order-preserving key of a float (the key order is the order of the promoted doubles: -0 before +0, NaN last). */
inline uint32_t keyOf32(float f) {
  uint32_t b;
  std::memcpy(&b, &f, 4);
  const uint32_t nan = 0 - static_cast<uint32_t>(f != f);
  b = (b & ~nan) | (0x7FC00000u & nan);
  return b ^ ((0 - (b >> 31)) | 0x80000000u);
}

inline double valueOf32(uint32_t k) {
  const uint32_t b = (k >> 31) ? (k & 0x7FFFFFFFu) : ~k;
  float f;
  std::memcpy(&f, &b, 4);
  return static_cast<double>(f);
}

inline void sortKeys32(uint32_t* keys, size_t n, uint32_t* tmp) { radixSortKeys(keys, n, tmp); }

/**
 * valueOf32 of keys[0 .. n) into out. Four at a time with SSE2: a key with the top bit set had
 * it set (b = k ^ 0x80000000), one without was inverted (b = ~k), and the float widened exactly.
 */
inline void valuesOf32(const uint32_t* keys, long n, double* out) {
  long i = 0;
#if defined(__SSE2__)
  const __m128i top = _mm_set1_epi32(static_cast<int>(0x80000000u)), ones = _mm_set1_epi32(-1);
  for (; i + 4 <= n; i += 4) {
    const __m128i k = _mm_loadu_si128(reinterpret_cast<const __m128i*>(keys + i));
    const __m128 f = _mm_castsi128_ps(_mm_xor_si128(k, _mm_or_si128(_mm_xor_si128(_mm_srai_epi32(k, 31), ones), top)));
    _mm_storeu_pd(out + i, _mm_cvtps_pd(f));
    _mm_storeu_pd(out + i + 2, _mm_cvtps_pd(_mm_movehl_ps(f, f)));
  }
#endif
  for (; i < n; i++) out[i] = valueOf32(keys[i]);
}

/**
 * keyOf32 of v[0 .. n) into keys; returns the OR of every key XOR the first (n > 0). Four at a
 * time with SSE2: the same bit operations per lane.
 */
inline uint32_t keysOf32(const float* v, size_t n, uint32_t* keys) {
  const uint32_t k0 = keyOf32(v[0]);
  uint32_t differ = 0;
  size_t i = 0;
#if defined(__SSE2__)
  const __m128i nanKey = _mm_set1_epi32(0x7FC00000), top = _mm_set1_epi32(static_cast<int>(0x80000000u)), first = _mm_set1_epi32(static_cast<int>(k0));
  __m128i acc = _mm_setzero_si128();
  for (; i + 4 <= n; i += 4) {
    const __m128 f = _mm_loadu_ps(v + i);
    const __m128i nan = _mm_castps_si128(_mm_cmpunord_ps(f, f));
    const __m128i b = _mm_or_si128(_mm_andnot_si128(nan, _mm_castps_si128(f)), _mm_and_si128(nan, nanKey));
    const __m128i k = _mm_xor_si128(b, _mm_or_si128(_mm_srai_epi32(b, 31), top));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(keys + i), k);
    acc = _mm_or_si128(acc, _mm_xor_si128(k, first));
  }
  alignas(16) uint32_t lanes[4];
  _mm_store_si128(reinterpret_cast<__m128i*>(lanes), acc);
  differ = lanes[0] | lanes[1] | lanes[2] | lanes[3];
#endif
  for (; i < n; i++) {
    keys[i] = keyOf32(v[i]);
    differ |= keys[i] ^ k0;
  }
  return differ;
}

/**
 * One LSD pass of 32-bit keys by byte kByte, src into dst (h: where each byte value's keys
 * start, from its counts). Two scatters at once: the first half of src forward from each
 * bucket's start and the second half backward from its end, the last key to the bucket's last
 * place: the same stable order as one forward pass (its keys of a bucket from the front of src
 * first). Why: in one pass every key's place comes from the previous key of its bucket through
 * a counter in memory (a load of the counter waits for its store, ~5 cycles), and one object's
 * neighbouring heights mostly share the upper bytes: two independent chains halve that wait.
 */
template <int kByte>
inline void scatterByte32(const uint32_t* src, uint32_t* dst, size_t n, const uint32_t* h) {
  uint32_t front[256], back[256];
  std::memcpy(front, h, sizeof front);
  std::memcpy(back, h + 1, 255 * sizeof(uint32_t));
  back[255] = static_cast<uint32_t>(n);
  const size_t half = n / 2;
  for (size_t i = 0, k = n - 1; i < half; i++, k--) {
    const uint32_t a = src[i], z = src[k];
    dst[front[(a >> (8 * kByte)) & 0xFF]++] = a;
    dst[--back[(z >> (8 * kByte)) & 0xFF]] = z;
  }
  if (n & 1) {
    const uint32_t a = src[half];
    dst[front[(a >> (8 * kByte)) & 0xFF]] = a;
  }
}

/**
 * The counts of the low kBytes bytes of keys[0 .. 2 pairs), the even keys' into hist and the odd
 * keys' into odd (sortFloatKeys adds them: two chains of increments instead of one).
 */
template <int kBytes>
inline void countBytePairs(const uint32_t* keys, size_t pairs, uint32_t (*hist)[256], uint32_t (*odd)[256]) {
  for (size_t i = 0; i < pairs; i++) {
    const uint32_t a = keys[2 * i], z = keys[2 * i + 1];
    SR_UNROLL4
    for (int p = 0; p < kBytes; p++) {
      hist[p][(a >> (8 * p)) & 0xFF]++;
      odd[p][(z >> (8 * p)) & 0xFF]++;
    }
  }
}

/**
 * The keys of v[0 .. n) into keys, sorted (tmp holds n): the keys and the bits in which they
 * differ made in one pass (keysOf32), then every byte's counts in one more (the even keys'
 * and the odd keys' counted apart and added: the same totals without one chain of increments
 * through memory where neighbouring keys share a byte; three counts a key where all keys share
 * the top byte, as one object's heights do), then an LSD pass per differing byte (scatterByte32).
 */
inline void sortFloatKeys(const float* v, size_t n, uint32_t* keys, uint32_t* tmp) {
  if (n <= 48) {
    for (size_t i = 0; i < n; i++) keys[i] = keyOf32(v[i]);
    insertionSortKeys(keys, n);
    return;
  }
  const uint32_t differ = keysOf32(v, n, keys);
  const int bytes = (differ >> 24) != 0 ? 4 : 3;
  uint32_t hist[4][256], odd[4][256];
  std::memset(hist, 0, static_cast<size_t>(bytes) * sizeof hist[0]);
  std::memset(odd, 0, static_cast<size_t>(bytes) * sizeof odd[0]);
  if (bytes == 3) countBytePairs<3>(keys, n / 2, hist, odd);
  else countBytePairs<4>(keys, n / 2, hist, odd);
  if (n & 1) {
    const uint32_t a = keys[n - 1];
    for (int p = 0; p < bytes; p++) hist[p][(a >> (8 * p)) & 0xFF]++;
  }
  const uint32_t k0 = keys[0];
  uint32_t* src = keys;
  uint32_t* dst = tmp;
  for (int p = 0; p < bytes; p++) {
    if (((differ >> (8 * p)) & 0xFF) == 0) continue;
    uint32_t* h = hist[p];
    // Every key's byte p is the first key's outside the bits in which some key differs: the
    // starts only over the values those bits reach (the top byte's few, for one object's heights).
    const uint32_t vary = (differ >> (8 * p)) & 0xFF;
    const uint32_t span = (2u << (31 - __builtin_clz(vary))) - 1;
    const int b0 = static_cast<int>((k0 >> (8 * p)) & 0xFF & ~span), b1 = b0 + static_cast<int>(span);
    uint32_t sum = 0;
    for (int b = b0; b <= b1; b++) {
      const uint32_t c = h[b] + odd[p][b];
      h[b] = sum;
      sum += c;
    }
    // The last bucket's end (scatterByte32 reads a bucket's end as the next one's start).
    if (b1 < 255) h[b1 + 1] = static_cast<uint32_t>(n);
    if (p == 0) scatterByte32<0>(src, dst, n, h);
    else if (p == 1) scatterByte32<1>(src, dst, n, h);
    else if (p == 2) scatterByte32<2>(src, dst, n, h);
    else scatterByte32<3>(src, dst, n, h);
    uint32_t* t = src;
    src = dst;
    dst = t;
  }
  if (src != keys) std::memcpy(keys, src, n * sizeof(uint32_t));
}

/**
 * Bracketing ranks by a sample (exact: only where the work is spent depends on the sample).
 * Keys at S evenly spread positions bound, with a margin of three standard deviations of a
 * sample rank, the keys that can hold rank r; one branch-free pass then counts the keys below
 * the bracket and gathers those inside it. When the rank falls outside (a sample that missed),
 * the caller falls back to selection over every key.
 */
struct Bracket {
  uint64_t lo, hi;
};

/** Three standard deviations (and two) of the sample rank of rank r of n, in samples. */
inline long bracketMargin(long S, long n, long r) {
  const double q = static_cast<double>(r) / static_cast<double>(n);
  return static_cast<long>(3 * std::sqrt(static_cast<double>(S) * q * (1 - q))) + 2;
}

/** The sample's bracket for rank r of n (samp: S keys, reordered). lo 0 / hi max: unbounded on that side. */
inline Bracket bracketOf(uint64_t* samp, long S, long n, long r, bool wantLo = true, bool wantHi = true) {
  const double p = static_cast<double>(r) / static_cast<double>(n) * static_cast<double>(S);
  const long d = bracketMargin(S, n, r);
  const long ilo = static_cast<long>(p) - d, ihi = static_cast<long>(p) + 1 + d;
  Bracket b{0, ~0ull};
  if (wantLo && ilo >= 0) {
    std::nth_element(samp, samp + ilo, samp + S);
    b.lo = samp[ilo];
  }
  if (wantHi && ihi < S) {
    std::nth_element(samp, samp + ihi, samp + S);
    b.hi = samp[ihi];
  }
  return b;
}

/** Samples per selection: more for more values (a narrower bracket gathers fewer keys). */
inline long sampleCount(long n) { return n >= 512 ? 128 : 64; }

/**
 * The values of ranks r1 <= r2 (in [0, n)) of value(0 .. n) as a sorted copy holds them (the
 * keys' order), by selection: a sample brackets each rank, one pass gathers the keys inside
 * the brackets, nth_element runs on those. `buf` holds at least 2n keys.
 */
template <typename F>
void selectPair(F value, long n, long r1, long r2, double& v1, double& v2, uint64_t* buf) {
  // Selection over every key: for few values, and when a sample's bracket missed a rank.
  auto selectAll = [&]() {
    for (long i = 0; i < n; i++) buf[i] = keyOf(value(i));
    std::nth_element(buf, buf + r1, buf + n);
    v1 = valueOf(buf[r1]);
    std::nth_element(buf + r1, buf + r2, buf + n);
    v2 = valueOf(buf[r2]);
  };
  if (n < 256) {
    selectAll();
    return;
  }
  const long S = sampleCount(n);
  uint64_t samp[128];
  for (long i = 0; i < S; i++) samp[i] = keyOf(value(((2 * i + 1) * n) / (2 * S)));
  const Bracket b1 = bracketOf(samp, S, n, r1);
  const Bracket b2 = r2 == r1 ? b1 : bracketOf(samp, S, n, r2);
  uint64_t* c1 = buf;
  uint64_t* c2 = buf + n;
  long below1 = 0, in1 = 0, below2 = 0, in2 = 0;
  if (r2 == r1) {
    for (long i = 0; i < n; i++) {
      const uint64_t k = keyOf(value(i));
      c1[in1] = k;
      in1 += (k >= b1.lo) & (k <= b1.hi);
      below1 += k < b1.lo;
    }
  } else {
    for (long i = 0; i < n; i++) {
      const uint64_t k = keyOf(value(i));
      c1[in1] = k;
      in1 += (k >= b1.lo) & (k <= b1.hi);
      below1 += k < b1.lo;
      c2[in2] = k;
      in2 += (k >= b2.lo) & (k <= b2.hi);
      below2 += k < b2.lo;
    }
  }
  const bool ok1 = below1 <= r1 && r1 < below1 + in1;
  const bool ok2 = r2 == r1 ? ok1 : (below2 <= r2 && r2 < below2 + in2);
  if (!ok1 || !ok2) {
    selectAll();
    return;
  }
  std::nth_element(c1, c1 + (r1 - below1), c1 + in1);
  v1 = valueOf(c1[r1 - below1]);
  if (r2 == r1) {
    v2 = v1;
    return;
  }
  std::nth_element(c2, c2 + (r2 - below2), c2 + in2);
  v2 = valueOf(c2[r2 - below2]);
}

/**
 * selectPair's ranks r1 <= r2 of float values, by their values' histogram: the same values
 * (a rank's key is its value, and float keys order as the promoted doubles). One pass finds
 * the range, one counts the values into bins by a monotone map of the value (subtraction and
 * multiplication by a positive number round monotonically, so a lower bin holds only lower keys
 * and equal keys, -0 and +0 included, share a bin; NaN, sorted last, has its own last bin), one
 * gathers the keys of the two bins holding the ranks, and selection runs on those. Faster than
 * selectPair's sample brackets for an object's few hundred to few thousand coordinates; a
 * range blown up by a far stray only makes the bins coarser. `buf` holds at least 2n keys.
 */
inline void selectPairByValue(const float* V, long n, long r1, long r2, double& v1, double& v2, uint32_t* buf) {
  // Two running minima and maxima (independent dependency chains); NaN never replaces a bound.
  float l0 = std::numeric_limits<float>::infinity(), l1 = l0, h0 = -l0, h1 = -l0;
  long i = 0;
  for (; i + 1 < n; i += 2) {
    const float a = V[i], b = V[i + 1];
    l0 = a < l0 ? a : l0;
    h0 = a > h0 ? a : h0;
    l1 = b < l1 ? b : l1;
    h1 = b > h1 ? b : h1;
  }
  if (i < n) {
    const float a = V[i];
    l0 = a < l0 ? a : l0;
    h0 = a > h0 ? a : h0;
  }
  const float lo = l0 < l1 ? l0 : l1, hi = h0 > h1 ? h0 : h1;
  constexpr long kBins = 256;
  uint32_t hist[kBins + 1];
  std::memset(hist, 0, sizeof hist);
  // With a finite positive scale every number maps into [0, kBins]. Without one (one value, an
  // infinite or overflowing range) the scale is 0: a finite distance from lo in bin 0, an infinite
  // one (0 * inf is NaN, never below kBins) in the last bin - still monotone, only coarse.
  float scale = static_cast<float>(kBins) / (hi - lo);
  if (!(scale > 0 && scale < std::numeric_limits<float>::infinity())) scale = 0;
  auto binOf = [lo, scale](float x) -> long {
    if (x != x) return kBins;
    const float t = (x - lo) * scale;
    return t < static_cast<float>(kBins) ? static_cast<long>(t) : kBins - 1;
  };
  for (long k = 0; k < n; k++) hist[binOf(V[k])]++;
  long b1 = 0, c1 = 0, acc = 0, b = 0;
  for (; b < kBins && acc + static_cast<long>(hist[b]) <= r1; b++) acc += hist[b];
  b1 = b;
  c1 = acc;
  for (; b < kBins && acc + static_cast<long>(hist[b]) <= r2; b++) acc += hist[b];
  const long b2 = b, c2 = acc;
  uint32_t* g1 = buf;
  uint32_t* g2 = buf + n;
  long m1 = 0, m2 = 0;
  for (long k = 0; k < n; k++) {
    const float x = V[k];
    const long bx = binOf(x);
    const uint32_t key = keyOf32(x);
    g1[m1] = key;
    m1 += bx == b1;
    g2[m2] = key;
    m2 += bx == b2;
  }
  std::nth_element(g1, g1 + (r1 - c1), g1 + m1);
  v1 = valueOf32(g1[r1 - c1]);
  std::nth_element(g2, g2 + (r2 - c2), g2 + m2);
  v2 = valueOf32(g2[r2 - c2]);
}

/**
 * Bins of float values by a monotone map of the value: t = (x - lo) * scale, truncated, the last
 * bin taking t >= 255 and NaN (whose key is above every other value's). Subtraction and
 * multiplication by a positive number round monotonically, so a lower bin holds only lower keys
 * and equal keys (-0 and +0 included) share a bin. Without a finite positive scale (one value, an
 * infinite or overflowing range) the scale is 0: a finite distance from lo in bin 0, an infinite
 * one (0 * inf is NaN) in the last bin - still monotone, only coarse. With SSE2 the passes below
 * take four values at a time; every step is the scalar one's (IEEE single precision, minps
 * returning its second operand for NaN as `t < 255 ? t : 255` does), so the bins are the same.
 */
struct FloatBins {
  static constexpr long kBins = 256;
  float lo = 0, scale = 0;
  long of(float x) const {
    const float t = (x - lo) * scale;
    return static_cast<long>(t < static_cast<float>(kBins - 1) ? t : static_cast<float>(kBins - 1));
  }
};

#if defined(SR_SORT_AVX2)
/** floatRange's lanes eight at a time over v[0 .. n - n % 8), folded into l4 and h4 (as its SSE2 loop's). */
__attribute__((target("avx2"))) inline long floatRangeAvx2(const float* v, long n, __m128& l4, __m128& h4) {
  __m256 l8 = _mm256_set_m128(l4, l4), h8 = _mm256_set_m128(h4, h4);
  long i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256 x = _mm256_loadu_ps(v + i);
    l8 = _mm256_min_ps(x, l8);
    h8 = _mm256_max_ps(x, h8);
  }
  l4 = _mm_min_ps(_mm256_castps256_ps128(l8), _mm256_extractf128_ps(l8, 1));
  h4 = _mm_max_ps(_mm256_castps256_ps128(h8), _mm256_extractf128_ps(h8, 1));
  return i;
}
#endif

/**
 * The least and greatest of v[0 .. n) (NaN never replaces a bound: +inf / -inf when all are NaN).
 * Which of -0 and +0 is kept depends on the lanes; the bins (floatBins) are the same for either.
 */
inline void floatRange(const float* v, long n, float& lo, float& hi) {
  const float inf = std::numeric_limits<float>::infinity();
  float l = inf, h = -inf;
  long i = 0;
#if defined(__SSE2__)
  __m128 l4 = _mm_set1_ps(inf), h4 = _mm_set1_ps(-inf);
#if defined(SR_SORT_AVX2)
  if (sortAvx2()) i = floatRangeAvx2(v, n, l4, h4);
#endif
  for (; i + 4 <= n; i += 4) {
    const __m128 x = _mm_loadu_ps(v + i);
    l4 = _mm_min_ps(x, l4);
    h4 = _mm_max_ps(x, h4);
  }
  float ls[4], hs[4];
  _mm_storeu_ps(ls, l4);
  _mm_storeu_ps(hs, h4);
  for (int k = 0; k < 4; k++) {
    l = ls[k] < l ? ls[k] : l;
    h = hs[k] > h ? hs[k] : h;
  }
#endif
  for (; i < n; i++) {
    const float a = v[i];
    l = a < l ? a : l;
    h = a > h ? a : h;
  }
  lo = l;
  hi = h;
}

/** The bins for values in [lo, hi] (the range of floatRange). */
inline FloatBins floatBins(float lo, float hi) {
  FloatBins b;
  b.lo = lo;
  b.scale = static_cast<float>(FloatBins::kBins) / (hi - lo);
  if (!(b.scale > 0 && b.scale < std::numeric_limits<float>::infinity())) b.scale = 0;
  return b;
}

/**
 * One float array's FloatBins over its floatRange and its counts in them (countBins): what the
 * passes of selectPairsByValue2 and Ranked::binnedEnds make first. The same values give the same
 * bins and counts, so one array's histogram serves every selection over it.
 */
struct FloatHist {
  FloatBins fb;
  uint32_t hist[FloatBins::kBins];
};

#if defined(__SSE2__)
inline __m128i binsOf4(const float* v, __m128 lo, __m128 scale, __m128 top) {
  return _mm_cvttps_epi32(_mm_min_ps(_mm_mul_ps(_mm_sub_ps(_mm_loadu_ps(v), lo), scale), top));
}
#endif

#if defined(SR_SORT_AVX2)
/** countBins over v[0 .. n) eight at a time (binsOf4's operations per lane); returns how many it counted (a multiple of 8). */
__attribute__((target("avx2"))) inline long countBinsAvx2(const float* v, long n, const FloatBins& fb, uint32_t* hist) {
  const __m256 lo = _mm256_set1_ps(fb.lo), scale = _mm256_set1_ps(fb.scale), top = _mm256_set1_ps(static_cast<float>(FloatBins::kBins - 1));
  alignas(32) int32_t b[8];
  long i = 0;
  for (; i + 8 <= n; i += 8) {
    _mm256_store_si256(reinterpret_cast<__m256i*>(b), _mm256_cvttps_epi32(_mm256_min_ps(_mm256_mul_ps(_mm256_sub_ps(_mm256_loadu_ps(v + i), lo), scale), top)));
    // Written out (GCC kept the loop: five instructions a count instead of two).
    hist[b[0]]++;
    hist[b[1]]++;
    hist[b[2]]++;
    hist[b[3]]++;
    hist[b[4]]++;
    hist[b[5]]++;
    hist[b[6]]++;
    hist[b[7]]++;
  }
  return i;
}
#endif

/** hist[b] += the number of values of v[0 .. n) in bin b (hist holds FloatBins::kBins counts). */
inline void countBins(const float* v, long n, const FloatBins& fb, uint32_t* hist) {
  long i = 0;
#if defined(SR_SORT_AVX2)
  if (sortAvx2()) i = countBinsAvx2(v, n, fb, hist);
#endif
#if defined(__SSE2__)
  const __m128 lo = _mm_set1_ps(fb.lo), scale = _mm_set1_ps(fb.scale), top = _mm_set1_ps(static_cast<float>(FloatBins::kBins - 1));
  alignas(16) int32_t b[4];
  for (; i + 4 <= n; i += 4) {
    _mm_store_si128(reinterpret_cast<__m128i*>(b), binsOf4(v + i, lo, scale, top));
    hist[b[0]]++;
    hist[b[1]]++;
    hist[b[2]]++;
    hist[b[3]]++;
  }
#endif
  for (; i < n; i++) hist[fb.of(v[i])]++;
}

/**
 * Every value of v[0 .. n) whose bin is in [a1, a2] goes (as key(value)) to g1, every one in
 * [c1, c2] to g2, in order; m1 and m2 count them. Empty ranges (a1 > a2) take nothing. Few values
 * are taken: with SSE2 four bins are tested at once and only a group with one taken is looked at.
 */
template <typename K, typename KeyFn>
inline void gatherBins(const float* v, long n, const FloatBins& fb, long a1, long a2, long c1, long c2, K* g1, long& m1, K* g2, long& m2, KeyFn key) {
  long n1 = 0, n2 = 0;
  auto take = [&](float x, long b) {
    const K k = key(x);
    g1[n1] = k;
    n1 += (b >= a1) & (b <= a2);
    g2[n2] = k;
    n2 += (b >= c1) & (b <= c2);
  };
  long i = 0;
#if defined(__SSE2__)
  const __m128 lo = _mm_set1_ps(fb.lo), scale = _mm_set1_ps(fb.scale), top = _mm_set1_ps(static_cast<float>(FloatBins::kBins - 1));
  // Bins 0..255 and range ends -1..256: the signed 32-bit compares are exact.
  const __m128i A1 = _mm_set1_epi32(static_cast<int32_t>(a1 - 1)), A2 = _mm_set1_epi32(static_cast<int32_t>(a2 + 1));
  const __m128i C1 = _mm_set1_epi32(static_cast<int32_t>(c1 - 1)), C2 = _mm_set1_epi32(static_cast<int32_t>(c2 + 1));
  alignas(16) int32_t b[4];
  for (; i + 4 <= n; i += 4) {
    const __m128i bins = binsOf4(v + i, lo, scale, top);
    const __m128i in1 = _mm_and_si128(_mm_cmpgt_epi32(bins, A1), _mm_cmplt_epi32(bins, A2));
    const __m128i in2 = _mm_and_si128(_mm_cmpgt_epi32(bins, C1), _mm_cmplt_epi32(bins, C2));
    if (_mm_movemask_epi8(_mm_or_si128(in1, in2)) == 0) continue;
    _mm_store_si128(reinterpret_cast<__m128i*>(b), bins);
    for (int k = 0; k < 4; k++) take(v[i + k], b[k]);
  }
#endif
  for (; i < n; i++) take(v[i], fb.of(v[i]));
  m1 = n1;
  m2 = n2;
}

/**
 * For a 4-bit lane mask: the 32-bit lane pairs that move its 64-bit lanes to the front, in order,
 * and how many (a permutevar8x32 table; plain data, so outside the AVX2 guard: the box
 * estimator's AVX2 paths use it too, whether or not this file's are built).
 */
struct Compress4x64 {
  alignas(32) int32_t idx[16][8];
  int count[16];
  constexpr Compress4x64() : idx(), count() {
    for (int m = 0; m < 16; m++) {
      int o = 0;
      for (int l = 0; l < 4; l++) {
        if (((m >> l) & 1) == 0) continue;
        idx[m][2 * o] = 2 * l;
        idx[m][2 * o + 1] = 2 * l + 1;
        o++;
      }
      count[m] = o;
    }
  }
};
inline constexpr Compress4x64 kCompress4x64{};

#if defined(SR_SORT_AVX2)

/**
 * gatherBins with the keys of the values as doubles (keyOf), four values at a time: their bins
 * and range tests as there (binsOf4), their keys made in the lanes with keyOf's bit operations,
 * the taken ones moved to the front of the lanes in order and stored (the slots past them are
 * overwritten later or never read, as the scalar loop's unconditional store leaves them).
 */
__attribute__((target("avx2"))) inline void gatherBinsKeysAvx2(const float* v, long n, const FloatBins& fb, long a1, long a2, long c1, long c2, uint64_t* g1, long& m1,
                                                               uint64_t* g2, long& m2) {
  long n1 = 0, n2 = 0, i = 0;
  const __m128 lo = _mm_set1_ps(fb.lo), scale = _mm_set1_ps(fb.scale), top = _mm_set1_ps(static_cast<float>(FloatBins::kBins - 1));
  const __m128i A1 = _mm_set1_epi32(static_cast<int32_t>(a1 - 1)), A2 = _mm_set1_epi32(static_cast<int32_t>(a2 + 1));
  const __m128i C1 = _mm_set1_epi32(static_cast<int32_t>(c1 - 1)), C2 = _mm_set1_epi32(static_cast<int32_t>(c2 + 1));
  const __m256i nanKey = _mm256_set1_epi64x(0x7FF8000000000000ll), topBit = _mm256_set1_epi64x(static_cast<long long>(0x8000000000000000ull));
  const __m256i zero = _mm256_setzero_si256();
  for (; i + 4 <= n; i += 4) {
    const __m128i bins = binsOf4(v + i, lo, scale, top);
    const int k1 = _mm_movemask_ps(_mm_castsi128_ps(_mm_and_si128(_mm_cmpgt_epi32(bins, A1), _mm_cmplt_epi32(bins, A2))));
    const int k2 = _mm_movemask_ps(_mm_castsi128_ps(_mm_and_si128(_mm_cmpgt_epi32(bins, C1), _mm_cmplt_epi32(bins, C2))));
    if ((k1 | k2) == 0) continue;
    const __m256d x = _mm256_cvtps_pd(_mm_loadu_ps(v + i));
    const __m256i b = _mm256_blendv_epi8(_mm256_castpd_si256(x), nanKey, _mm256_castpd_si256(_mm256_cmp_pd(x, x, _CMP_UNORD_Q)));
    const __m256i key = _mm256_xor_si256(b, _mm256_or_si256(_mm256_cmpgt_epi64(zero, b), topBit));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(g1 + n1), _mm256_permutevar8x32_epi32(key, _mm256_load_si256(reinterpret_cast<const __m256i*>(kCompress4x64.idx[k1]))));
    n1 += kCompress4x64.count[k1];
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(g2 + n2), _mm256_permutevar8x32_epi32(key, _mm256_load_si256(reinterpret_cast<const __m256i*>(kCompress4x64.idx[k2]))));
    n2 += kCompress4x64.count[k2];
  }
  for (; i < n; i++) {
    const long bin = fb.of(v[i]);
    const uint64_t k = keyOf(static_cast<double>(v[i]));
    g1[n1] = k;
    n1 += (bin >= a1) & (bin <= a2);
    g2[n2] = k;
    n2 += (bin >= c1) & (bin <= c2);
  }
  m1 = n1;
  m2 = n2;
}
#endif

/**
 * selectPairByValue on two float arrays of the same length (the same ranks r1 <= r2 of each, the
 * same values), through FloatBins' passes (an object's x and y for the stray cut). `buf` holds
 * at least 4n keys. hx and hy, when given, receive X's and Y's histograms.
 */
inline void selectPairsByValue2(const float* X, const float* Y, long n, long r1, long r2, double& x1, double& x2, double& y1, double& y2, uint32_t* buf, FloatHist* hx = nullptr,
                                FloatHist* hy = nullptr) {
  constexpr long kBins = FloatBins::kBins;
  uint32_t* g[4] = {buf, buf + n, buf + 2 * n, buf + 3 * n};
  double* out[4] = {&x1, &x2, &y1, &y2};
  const float* V[2] = {X, Y};
  FloatHist own[2];
  FloatHist* H[2] = {hx != nullptr ? hx : &own[0], hy != nullptr ? hy : &own[1]};
  for (int c = 0; c < 2; c++) {
    float lo, hi;
    floatRange(V[c], n, lo, hi);
    const FloatBins fb = floatBins(lo, hi);
    uint32_t* hist = H[c]->hist;
    H[c]->fb = fb;
    std::memset(hist, 0, sizeof H[c]->hist);
    countBins(V[c], n, fb, hist);
    // The bins holding ranks r1 and r2, and how many values lie below each.
    long acc = 0, b = 0;
    for (; b < kBins - 1 && acc + static_cast<long>(hist[b]) <= r1; b++) acc += hist[b];
    const long b1 = b, below1 = acc;
    // Rank r2 (the 95%) from the top down, where it lies near: the least bin from b1 on whose
    // values and those below number more than r2 (the bins hold all n values), the last at most.
    long above = 0;
    b = kBins - 1;
    while (b > b1 && above + static_cast<long>(hist[b]) < n - r2) above += hist[b--];
    const long b2 = b, below2 = n - above - static_cast<long>(hist[b2]);
    long m1, m2;
    uint32_t* g1 = g[2 * c];
    uint32_t* g2 = g[2 * c + 1];
    gatherBins(V[c], n, fb, b1, b1, b2, b2, g1, m1, g2, m2, [](float x) { return keyOf32(x); });
    std::nth_element(g1, g1 + (r1 - below1), g1 + m1);
    *out[2 * c] = valueOf32(g1[r1 - below1]);
    std::nth_element(g2, g2 + (r2 - below2), g2 + m2);
    *out[2 * c + 1] = valueOf32(g2[r2 - below2]);
  }
}

/**
 * The key of rank r (in [0, n)) of keys[0 .. n), whose least and greatest are kmin and kmax, by
 * bins of the keys' high bits: (key - kmin) >> shift is monotone in the key, so one counting pass
 * finds the bin holding the rank, one pass gathers it (into keys + n: `keys` holds 2n) and
 * selection runs there. For non-negative doubles' keys the bins follow the exponent first (a
 * logarithmic scale: a far stray widens the range by a few exponents, not the bins a thousandfold).
 * settled(bound) is asked once the bin is known, with the least key the bin can hold (at most
 * the key of rank r): when it returns true that bound is returned instead (no gathering): for a
 * caller to whom a lower bound of the rank's key is as good as the key.
 */
template <typename Settled>
inline uint64_t selectKeyByBits(uint64_t* keys, long n, long r, uint64_t kmin, uint64_t kmax, Settled settled) {
  if (kmin == kmax) return kmin;
  const uint64_t span = kmax - kmin;
  int shift = 0;
  while ((span >> shift) >= 256) shift++;
  uint32_t hist[256];
  std::memset(hist, 0, sizeof hist);
  for (long i = 0; i < n; i++) hist[(keys[i] - kmin) >> shift]++;
  // From the top bin down (the stray cut asks for the 95%): the least bin whose keys and those
  // below number more than r (the bins hold all n keys), and the keys below it.
  uint64_t b = 255;
  long above = 0;
  while (b > 0 && above + static_cast<long>(hist[b]) < n - r) above += hist[b--];
  const long acc = n - above - static_cast<long>(hist[b]);
  if (settled(kmin + (b << shift))) return kmin + (b << shift);
  uint64_t* g = keys + n;
  long m = 0;
  for (long i = 0; i < n; i++) {
    const uint64_t k = keys[i];
    g[m] = k;
    m += ((k - kmin) >> shift) == b;
  }
  std::nth_element(g, g + (r - acc), g + m);
  return g[r - acc];
}
/** selectKeyByBits without a bound that settles it. */
inline uint64_t selectKeyByBits(uint64_t* keys, long n, long r, uint64_t kmin, uint64_t kmax) {
  return selectKeyByBits(keys, n, r, kmin, kmax, [](uint64_t) { return false; });
}

#if defined(SR_SORT_AVX2)
__attribute__((target("avx2"))) inline __m256d four(const double* p) { return _mm256_loadu_pd(p); }
__attribute__((target("avx2"))) inline __m256d four(const float* p) { return _mm256_cvtps_pd(_mm_loadu_ps(p)); }

/**
 * Ranked::endsPass' filter four values at a time: from i on, the first i + 4k (<= n - 4) whose
 * four values hold one with !(x > lowV) || !(x < highV); n - 3 or more when none.
 */
template <typename T>
__attribute__((target("avx2"))) long nextEndsCandidates(const T* v, long i, long n, double lowV, double highV) {
  const __m256d lo = _mm256_set1_pd(lowV), hi = _mm256_set1_pd(highV);
  for (; i + 4 <= n; i += 4) {
    const __m256d x = four(v + i);
    if (_mm256_movemask_pd(_mm256_or_pd(_mm256_cmp_pd(x, lo, _CMP_NGT_UQ), _mm256_cmp_pd(x, hi, _CMP_NLT_UQ))) != 0) return i;
  }
  return i;
}
#endif

/**
 * Values whose order statistics are read by rank, exactly as from the reference's sorted copy
 * (Float64Array.prototype.sort order: the keys' order), while sorting only the ranks read.
 * load() only notes the values (float or double): nothing is computed until a rank is asked
 * for, and the values must stay as they are until the last read. The ends of the order (the
 * trimmed edges, the edge scan under noise) come from one pass: a few ranks per end in small
 * sorted buffers, or more through a sample's bracket (the keys at or beyond the bracket's
 * bound gathered and sorted). Any other rank makes the keys: the low ranks [0, lowDone) and
 * the high ranks [highFrom, n) are kept sorted, the middle only partitioned until a rank
 * there is asked for. A whole sort of float values sorts 32-bit keys. Buffers grow to the
 * largest n seen and are reused.
 */
class Ranked {
 public:
  long n = 0;

  void load(const float* v, long count) {
    begin(count);
    srcF_ = v;
  }
  /** load(v, count) of values whose histogram (FloatHist) is known: binnedEnds takes it from there. */
  void load(const float* v, long count, const FloatHist* known) {
    load(v, count);
    knownHist_ = known;
  }
  void load(const double* v, long count) {
    begin(count);
    srcD_ = v;
  }

  /**
   * The few lowest (lowK) and highest (highK) ranks, at most kEnds each, found in one pass that
   * keeps them in small sorted buffers; the keys are not moved. A later read of another rank
   * (or need()) leaves this mode for the general one.
   */
  void ends(long lowK, long highK) {
    if (!lazy_ || lowK > kEnds || highK > kEnds || lowK + highK > n) {
      need(lowK, highK);
      return;
    }
    if (srcF_) endsPass(srcF_, lowK, highK);
    else endsPass(srcD_, lowK, highK);
  }

  /** The sorted values, into out[0 .. n) (after sortAll). */
  void values(double* out) const {
    if (sorted32_) {
      valuesOf32(keys32_.data(), n, out);
      return;
    }
    for (long i = 0; i < n; i++) out[i] = valueOf(keys_[i]);
  }

  /** Sorts everything (for scans through the whole order). */
  void sortAll() {
    endsLow_ = endsHigh_ = 0;
    if (sorted32_) return;
    if (lazy_ && srcF_) {
      ensure();
      sortFloatKeys(srcF_, static_cast<size_t>(n), keys32_.data(), tmp32_.data());
      sorted32_ = true;
      lazy_ = false;
      full_ = true;
      return;
    }
    materialize();
    if (full_) return;
    sortKeys(keys_.data() + lowDone_, static_cast<size_t>(highFrom_ - lowDone_), tmp_.data());
    full_ = true;
    lowDone_ = n;
    highFrom_ = 0;
  }

  /**
   * After sortAll: the `low` lowest and `high` highest values leave (the rest keep their order).
   */
  void dropEnds(long low, long high) {
    if (low + high > n) low = n - high;
    if (sorted32_) {
      if (low > 0) std::memmove(keys32_.data(), keys32_.data() + low, static_cast<size_t>(n - low - high) * sizeof(uint32_t));
    } else if (low > 0) {
      std::memmove(keys_.data(), keys_.data() + low, static_cast<size_t>(n - low - high) * sizeof(uint64_t));
    }
    n -= low + high;
  }

  /**
   * Makes ranks [0, low) and [n - high, n) exact and sorted (at least those). Straight after
   * load, a sample's bracket gathers the keys at or below (above) a bound that has at least that
   * many, and those are sorted (the keys are not made). Otherwise one pass buckets the unsorted
   * keys by value; the buckets up to the one holding rank low - 1 go to the front, those from
   * the one holding rank n - high to the back, each group sorted; the rest stays unsorted between.
   */
  void need(long low, long high) {
    endsLow_ = endsHigh_ = 0;
    if (sorted32_) return;
    if (lazy_) {
      if (n >= 256 && low + high < n / 2 && (srcF_ ? binnedEnds(srcF_, low, high) : sampledEnds(srcD_, low, high))) return;
      materialize();
    }
    if (full_) return;
    if (low < lowDone_) low = lowDone_;
    if (high < n - highFrom_) high = n - highFrom_;
    if (low == lowDone_ && high == n - highFrom_) return;
    const long a = lowDone_, b = highFrom_, m = b - a;
    if (low + high >= n / 2 || m < 256) {
      sortAll();
      return;
    }
    uint64_t* k = keys_.data() + a;
    // Buckets over the value range (monotone in the value: no bucket holds a value above a later
    // bucket's). Without a finite range (NaN or infinite values, all equal) sort everything.
    const double span = max_ - min_;
    if (!(span > 0 && span < std::numeric_limits<double>::infinity())) {
      sortAll();
      return;
    }
    // About 8 values a bucket (64..2048 buckets): the groups sorted stay small, the histogram cheap.
    int kBuckets = 64;
    while (kBuckets < 2048 && kBuckets * 8 < m) kBuckets *= 2;
    const double scale = (kBuckets - 1) / span, base = min_;
    auto bucketOf = [&](uint64_t key) {
      const double b = (valueOf(key) - base) * scale;
      return b <= 0 ? 0 : b >= kBuckets - 1 ? kBuckets - 1 : static_cast<int>(b);
    };
    uint32_t hist[2048];
    std::memset(hist, 0, static_cast<size_t>(kBuckets) * sizeof(uint32_t));
    for (long i = 0; i < m; i++) hist[bucketOf(k[i])]++;
    // Ranks within the unsorted range: the low group must hold rank (low - 1 - a), the high one rank (n - high - a).
    const long wantLow = low - a, wantHigh = (n - high) - a;
    long below = 0;
    int bLow = -1, bHigh = kBuckets;
    long lowCount = 0, highCount = 0;
    if (wantLow > 0) {
      for (int bkt = 0; bkt < kBuckets; bkt++) {
        below += hist[bkt];
        if (below >= wantLow) {
          bLow = bkt;
          lowCount = below;
          break;
        }
      }
    }
    if (wantHigh < m) {
      long above = 0;
      for (int bkt = kBuckets - 1; bkt >= 0; bkt--) {
        above += hist[bkt];
        if (m - above <= wantHigh) {
          bHigh = bkt;
          highCount = above;
          break;
        }
      }
    }
    if (bLow >= bHigh || lowCount + highCount >= m) {
      sortAll();
      return;
    }
    // Scatter: low group to the front, high group to the back, the rest between (into tmp, then back).
    uint64_t* t = tmp_.data();
    long lo = 0, mid = lowCount, hi = m - highCount;
    for (long i = 0; i < m; i++) {
      const uint64_t x = k[i];
      const int bkt = bucketOf(x);
      if (bkt <= bLow) t[lo++] = x;
      else if (bkt >= bHigh) t[hi++] = x;
      else t[mid++] = x;
    }
    std::memcpy(k, t, static_cast<size_t>(m) * sizeof(uint64_t));
    if (lowCount > 0) {
      std::sort(k, k + lowCount);
      lowDone_ = a + lowCount;
    }
    if (highCount > 0) {
      std::sort(k + (m - highCount), k + m);
      highFrom_ = b - highCount;
    }
    if (lowDone_ >= highFrom_) {
      full_ = true;
      lowDone_ = n;
      highFrom_ = 0;
    }
  }

  /** How many of the lowest ranks (highest) are read without sorting more: 0 before any read. */
  long readyLow() const {
    if (endsLow_ > 0 || endsHigh_ > 0) return endsLow_;
    if (sorted32_ || full_) return n;
    return lazy_ ? 0 : lowDone_;
  }
  long readyHigh() const {
    if (endsLow_ > 0 || endsHigh_ > 0) return endsHigh_;
    if (sorted32_ || full_) return n;
    return lazy_ ? 0 : n - highFrom_;
  }

  /** How many of the loaded values are at most x (NaN is not). One pass over them, nothing sorted. */
  long countAtMost(double x) const {
    long c = 0;
    if (srcF_) {
      for (long i = 0; i < n; i++) c += static_cast<double>(srcF_[i]) <= x;
    } else {
      for (long i = 0; i < n; i++) c += srcD_[i] <= x;
    }
    return c;
  }
  /** How many of the loaded values are not below x (NaN is counted). */
  long countNotBelow(double x) const {
    long c = 0;
    if (srcF_) {
      for (long i = 0; i < n; i++) c += !(static_cast<double>(srcF_[i]) < x);
    } else {
      for (long i = 0; i < n; i++) c += !(srcD_[i] < x);
    }
    return c;
  }

  /** The value of rank r; NaN outside [0, n) (a typed array read past its end). */
  double at(double r) {
    if (!(r >= 0 && r < static_cast<double>(n))) return std::numeric_limits<double>::quiet_NaN();
    return atRank(static_cast<long>(r));
  }

  /** The value of rank i in [0, n). */
  double atRank(long i) {
    if (endsLow_ > 0 || endsHigh_ > 0) {
      if (i < endsLow_) {
        if (i >= lowSorted_) {
          // Past the sorted ranks: the rest gathered (all above them) sorted now.
          std::sort(low_ + lowSorted_, low_ + endsLow_);
          lowSorted_ = endsLow_;
        }
        return valueOf(low_[i]);
      }
      if (i >= n - endsHigh_) {
        const long j = i - (n - endsHigh_);
        if (j < endsHigh_ - highSorted_) {
          std::sort(high_, high_ + (endsHigh_ - highSorted_));
          highSorted_ = endsHigh_;
        }
        return valueOf(high_[j]);
      }
      endsLow_ = endsHigh_ = 0;  // the keys were never made or moved: the general path starts from scratch
    }
    if (sorted32_) return valueOf32(keys32_[i]);
    if (lazy_) materialize();
    if (!full_ && i >= lowDone_ && i < highFrom_) {
      // A rank in the unsorted middle: extend the nearer sorted end past it (doubling), or sort all.
      if (i - lowDone_ < highFrom_ - i) need(2 * (i + 1) + 16, n - highFrom_);
      else need(lowDone_, 2 * (n - i) + 16);
      if (!full_ && i >= lowDone_ && i < highFrom_) sortAll();
    }
    return valueOf(keys_[i]);
  }

 private:
  static constexpr long kEnds = 16;
  /** The sorted low and high ends (ends mode): low_[0 .. endsLow_) are ranks 0.., high_ ends at rank n - 1. */
  uint64_t* low_ = nullptr;
  uint64_t* high_ = nullptr;
  long endsLow_ = 0, endsHigh_ = 0;
  /** How many of the low ranks (of the high ranks, from the top) are sorted; the rest gathered only. */
  long lowSorted_ = 0, highSorted_ = 0;
  std::vector<uint64_t> keys_, tmp_, lowBuf_, highBuf_;
  std::vector<uint32_t> keys32_, tmp32_;
  const float* srcF_ = nullptr;
  const FloatHist* knownHist_ = nullptr;
  const double* srcD_ = nullptr;
  /** Keys not made yet (straight after load). */
  bool lazy_ = false;
  /** Float values sorted whole as 32-bit keys (keys32_). */
  bool sorted32_ = false;
  long lowDone_ = 0, highFrom_ = 0;
  bool full_ = true;
  /** The loaded values' range (NaN compares make it non-finite or empty: then everything is sorted). */
  double min_ = 0, max_ = 0;

  void begin(long count) {
    n = count > 0 ? count : 0;
    srcF_ = nullptr;
    srcD_ = nullptr;
    knownHist_ = nullptr;
    lazy_ = true;
    sorted32_ = false;
    lowDone_ = 0;
    highFrom_ = n;
    full_ = n < 2;
    endsLow_ = endsHigh_ = 0;
    ensure();
  }

  void ensure() {
    if (keys_.size() < static_cast<size_t>(n)) {
      keys_.resize(static_cast<size_t>(n));
      tmp_.resize(static_cast<size_t>(n));
      keys32_.resize(static_cast<size_t>(n));
      tmp32_.resize(static_cast<size_t>(n));
      lowBuf_.resize(static_cast<size_t>(n) > static_cast<size_t>(kEnds) ? static_cast<size_t>(n) : static_cast<size_t>(kEnds));
      highBuf_.resize(lowBuf_.size());
    }
    if (lowBuf_.empty()) {
      lowBuf_.resize(kEnds);
      highBuf_.resize(kEnds);
    }
  }

  /** The keys (and the range) of the loaded values. */
  void materialize() {
    if (!lazy_) return;
    lazy_ = false;
    uint64_t* k = keys_.data();
    double lo = std::numeric_limits<double>::infinity(), hi = -lo;
    bool nan = false;
    for (long i = 0; i < n; i++) {
      const double x = srcF_ ? static_cast<double>(srcF_[i]) : srcD_[i];
      k[i] = keyOf(x);
      if (x < lo) lo = x;
      if (x > hi) hi = x;
      if (x != x) nan = true;
    }
    // A NaN makes the range unusable for bucketing (need() then sorts everything).
    min_ = nan ? std::numeric_limits<double>::quiet_NaN() : lo;
    max_ = hi;
  }

#if defined(__SSE2__)
  static __m128d pair(const double* p) { return _mm_loadu_pd(p); }
  static __m128d pair(const float* p) { return _mm_cvtps_pd(_mm_castsi128_ps(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p)))); }
#endif

  template <typename T>
  void endsPass(const T* v, long lowK, long highK) {
    uint64_t* lowB = lowBuf_.data();
    uint64_t* highB = highBuf_.data();
    long nl = 0, nh = 0;
    long i = 0;
    // Inlined at its three calls (GCC kept it out of line: a call a value before the buffers fill).
#if defined(__GNUC__)
    auto step = [&](long i) __attribute__((always_inline)) {
#else
    auto step = [&](long i) {
#endif
      const uint64_t x = keyOf(static_cast<double>(v[i]));
      if (lowK > 0 && (nl < lowK || x < lowB[nl - 1])) {
        long j = nl < lowK ? nl++ : nl - 1;
        while (j > 0 && lowB[j - 1] > x) {
          lowB[j] = lowB[j - 1];
          j--;
        }
        lowB[j] = x;
      }
      if (highK > 0 && (nh < highK || x > highB[0])) {
        // highB ascending; when full, the smallest (highB[0]) makes way.
        long j;
        if (nh < highK) {
          j = nh++;
          while (j > 0 && highB[j - 1] > x) {
            highB[j] = highB[j - 1];
            j--;
          }
        } else {
          j = 0;
          while (j < highK - 1 && highB[j + 1] < x) {
            highB[j] = highB[j + 1];
            j++;
          }
        }
        highB[j] = x;
      }
    };
    // Until both buffers are full every value enters; then only values at or beyond the ends
    // kept so far can, and a pair of values is tested at once (SSE2) against those ends' values:
    // !(x > low) || !(x < high) holds for every value whose key passes (-0 against +0, NaN,
    // equal values included), so the exact key test above still decides, for fewer values.
    for (; i < n && ((lowK > 0 && nl < lowK) || (highK > 0 && nh < highK)); i++) step(i);
#if defined(__SSE2__)
    double lowV = lowK > 0 ? valueOf(lowB[nl - 1]) : -std::numeric_limits<double>::infinity();
    double highV = highK > 0 ? valueOf(highB[0]) : std::numeric_limits<double>::infinity();
#if defined(SR_SORT_AVX2)
    // Four at a time where AVX2 runs; a group's bounds are those kept before it (at most looser
    // than the pair loop's: more values tested by step, the same ones kept).
    if (sortAvx2()) {
      for (;;) {
        i = nextEndsCandidates(v, i, n, lowV, highV);
        if (i + 4 > n) break;
        for (long k = 0; k < 4; k++) step(i + k);
        i += 4;
        if (lowK > 0) lowV = valueOf(lowB[nl - 1]);
        if (highK > 0) highV = valueOf(highB[0]);
      }
    }
#endif
    for (; i + 2 <= n; i += 2) {
      const __m128d x = pair(v + i);
      const int m = _mm_movemask_pd(_mm_or_pd(_mm_cmpngt_pd(x, _mm_set1_pd(lowV)), _mm_cmpnlt_pd(x, _mm_set1_pd(highV))));
      if (m == 0) continue;
      step(i);
      step(i + 1);
      if (lowK > 0) lowV = valueOf(lowB[nl - 1]);
      if (highK > 0) highV = valueOf(highB[0]);
    }
#endif
    for (; i < n; i++) step(i);
    low_ = lowB;
    high_ = highB;
    endsLow_ = lowK;
    endsHigh_ = highK;
    lowSorted_ = lowK;
    highSorted_ = highK;
  }

  /**
   * sampledEnds' result for float values, bracketed by FloatBins instead of a sample (no
   * selections over a sample; the passes take four values at a time): the keys of the bins up to
   * the one holding rank low - 1 and of those from the one holding rank n - high are gathered,
   * and sorted as sampledEnds sorts its brackets' keys. False (nothing set) when the two groups
   * would share a bin.
   */
  bool binnedEnds(const float* v, long low, long high) {
    constexpr long kBins = FloatBins::kBins;
    FloatHist made;
    const FloatHist* h = knownHist_;
    if (h == nullptr) {
      float lo, hi;
      floatRange(v, n, lo, hi);
      made.fb = floatBins(lo, hi);
      std::memset(made.hist, 0, sizeof made.hist);
      countBins(v, n, made.fb, made.hist);
      h = &made;
    }
    const FloatBins& fb = h->fb;
    const uint32_t* hist = h->hist;
    // The low group: bins 0 .. bLow (the first whose running count reaches low); the high group:
    // bins bHigh .. kBins - 1 (counted from the top). -1 / kBins: that group is empty.
    long bLow = -1, bHigh = kBins;
    if (low > 0) {
      long acc = 0;
      for (bLow = 0; bLow < kBins - 1; bLow++) {
        acc += hist[bLow];
        if (acc >= low) break;
      }
    }
    if (high > 0) {
      long acc = 0;
      for (bHigh = kBins - 1; bHigh > 0; bHigh--) {
        acc += hist[bHigh];
        if (acc >= high) break;
      }
    }
    if (bLow >= bHigh) return false;
    uint64_t* lowB = lowBuf_.data();
    uint64_t* highB = highBuf_.data();
    long nl, nh;
#if defined(SR_SORT_AVX2)
    if (sortAvx2()) gatherBinsKeysAvx2(v, n, fb, 0, bLow, bHigh, kBins - 1, lowB, nl, highB, nh);
    else
#endif
      gatherBins(v, n, fb, 0, bLow, bHigh, kBins - 1, lowB, nl, highB, nh, [](float x) { return keyOf(static_cast<double>(x)); });
    if (nl < low || nh < high) return false;
    setEnds(lowB, nl, highB, nh, low, high);
    return true;
  }

  /**
   * Ranks [0, low) and [n - high, n) from a sample's brackets: every key at or below the low
   * bound (at or above the high one) gathered in one pass and sorted. False (nothing set) when
   * a bound holds too few keys.
   */
  template <typename T>
  bool sampledEnds(const T* v, long low, long high) {
    const long S = sampleCount(n);
    uint64_t samp[128];
    for (long i = 0; i < S; i++) samp[i] = keyOf(static_cast<double>(v[((2 * i + 1) * n) / (2 * S)]));
    // The bound: a sample rank three standard deviations past the one expected to hold the rank.
    uint64_t loBound = 0, hiBound = ~0ull;
    if (low > 0) {
      Bracket b = bracketOf(samp, S, n, low - 1, false, true);
      if (b.hi == ~0ull) return false;
      loBound = b.hi;
    }
    if (high > 0) {
      Bracket b = bracketOf(samp, S, n, n - high, true, false);
      if (b.lo == 0) return false;
      hiBound = b.lo;
    }
    uint64_t* lowB = lowBuf_.data();
    uint64_t* highB = highBuf_.data();
    long nl = 0, nh = 0;
    if (low > 0 && high > 0) {
      for (long i = 0; i < n; i++) {
        const uint64_t k = keyOf(static_cast<double>(v[i]));
        lowB[nl] = k;
        nl += k <= loBound;
        highB[nh] = k;
        nh += k >= hiBound;
      }
    } else if (low > 0) {
      for (long i = 0; i < n; i++) {
        const uint64_t k = keyOf(static_cast<double>(v[i]));
        lowB[nl] = k;
        nl += k <= loBound;
      }
    } else {
      for (long i = 0; i < n; i++) {
        const uint64_t k = keyOf(static_cast<double>(v[i]));
        highB[nh] = k;
        nh += k >= hiBound;
      }
    }
    if (nl < low || nh < high || nl + nh > n) return false;
    setEnds(lowB, nl, highB, nh, low, high);
    return true;
  }

  /** Keeps gathered ends: only the ranks asked for are sorted now, the rest of what was gathered when read. */
  void setEnds(uint64_t* lowB, long nl, uint64_t* highB, long nh, long low, long high) {
    if (low > 0 && low < nl) std::nth_element(lowB, lowB + (low - 1), lowB + nl);
    std::sort(lowB, lowB + low);
    // highB ascending ends at rank n - 1: its top `high` go last.
    if (high > 0 && high < nh) std::nth_element(highB, highB + (nh - high), highB + nh);
    std::sort(highB + (nh - high), highB + nh);
    low_ = lowB;
    high_ = highB;
    endsLow_ = nl;
    endsHigh_ = nh;
    lowSorted_ = low;
    highSorted_ = high;
  }
};

/**
 * quantileInPlace's value (nearest rank) read from ranked values: the same order statistic. Only
 * where the reference's use of it cannot tell -0 from +0 (its quickselect may return either for
 * a tie of zeros at that rank; a rank read returns the sorted order's).
 */
inline double quantileRanked(Ranked& r, double q) {
  if (r.n <= 0) return std::numeric_limits<double>::quiet_NaN();
  const double last = static_cast<double>(r.n - 1);
  return r.atRank(static_cast<long>(pjs::min(last, pjs::max(0.0, pjs::round(q * last)))));
}

/** src/geometry/quantile.ts selectKth: Hoare's quickselect over a[0 .. n), in place. */
inline double selectKth(double* a, long n, long k) {
  long lo = 0, hi = n - 1;
  while (lo < hi) {
    const double pivot = a[(lo + hi) >> 1];
    long i = lo, j = hi;
    while (i <= j) {
      while (a[i] < pivot) i++;
      while (a[j] > pivot) j--;
      if (i <= j) {
        const double t = a[i];
        a[i] = a[j];
        a[j] = t;
        i++;
        j--;
      }
    }
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else return a[k];
  }
  return a[k];
}

/** src/geometry/quantile.ts quantileInPlace: the q-quantile by nearest rank (NaN for n <= 0). */
inline double quantileInPlace(double* a, long n, double q) {
  if (n <= 0) return std::numeric_limits<double>::quiet_NaN();
  const double k = pjs::min(static_cast<double>(n - 1), pjs::max(0.0, pjs::round(q * static_cast<double>(n - 1))));
  return selectKth(a, n, static_cast<long>(k));
}

}  // namespace psort
}  // namespace sr
