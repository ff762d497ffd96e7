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
#include <cstring>
#include <limits>
#include <vector>

#include "perception_math.h"

namespace sr {
namespace psort {

inline uint64_t keyOf(double d) {
  uint64_t b;
  std::memcpy(&b, &d, 8);
  if (d != d) b = 0x7FF8000000000000ull;  // every NaN sorts last
  return (b >> 63) ? ~b : (b | 0x8000000000000000ull);
}

inline double valueOf(uint64_t k) {
  const uint64_t b = (k >> 63) ? (k & 0x7FFFFFFFFFFFFFFFull) : ~k;
  double d;
  std::memcpy(&d, &b, 8);
  return d;
}

/** LSD radix sort of keys[0 .. n) (tmp holds n), skipping the bytes all keys share; insertion sort for few. */
inline void sortKeys(uint64_t* keys, size_t n, uint64_t* tmp) {
  if (n < 2) return;
  if (n <= 48) {
    for (size_t i = 1; i < n; i++) {
      const uint64_t x = keys[i];
      size_t j = i;
      while (j > 0 && keys[j - 1] > x) {
        keys[j] = keys[j - 1];
        j--;
      }
      keys[j] = x;
    }
    return;
  }
  // Only the bytes in which some key differs from the first need a pass (one object's
  // coordinates share sign, exponent and top mantissa bits; float32-exact values end in zeros).
  uint64_t differ = 0;
  const uint64_t k0 = keys[0];
  for (size_t i = 1; i < n; i++) differ |= keys[i] ^ k0;
  uint32_t hist[8][256];
  int passes[8];
  int np = 0;
  for (int p = 0; p < 8; p++) {
    if ((differ >> (8 * p)) & 0xFF) passes[np++] = p;
  }
  if (np == 0) return;
  for (int q = 0; q < np; q++) std::memset(hist[q], 0, sizeof hist[q]);
  for (size_t i = 0; i < n; i++) {
    const uint64_t k = keys[i];
    for (int q = 0; q < np; q++) hist[q][(k >> (8 * passes[q])) & 0xFF]++;
  }
  uint64_t* src = keys;
  uint64_t* dst = tmp;
  for (int q = 0; q < np; q++) {
    uint32_t* h = hist[q];
    uint32_t sum = 0;
    for (int b = 0; b < 256; b++) {
      const uint32_t c = h[b];
      h[b] = sum;
      sum += c;
    }
    const int shift = 8 * passes[q];
    for (size_t i = 0; i < n; i++) {
      const uint64_t k = src[i];
      dst[h[(k >> shift) & 0xFF]++] = k;
    }
    uint64_t* t = src;
    src = dst;
    dst = t;
  }
  if (src != keys) std::memcpy(keys, src, n * sizeof(uint64_t));
}

/**
 * Values whose order statistics are read by rank, exactly as from the reference's sorted copy
 * (Float64Array.prototype.sort order: the keys' order), while sorting only the ranks read:
 * the low ranks [0, lowDone) and the high ranks [highFrom, n) are kept sorted, the middle
 * only partitioned (std::nth_element on the keys) until a rank there is asked for. Reading the
 * ends of a cloud's extent (trimmed edges, the edge scan under noise) costs O(n), not a sort.
 * Buffers grow to the largest n seen and are reused.
 */
class Ranked {
 public:
  long n = 0;

  template <typename T>
  void load(const T* v, long count) {
    n = count > 0 ? count : 0;
    ensure();
    for (long i = 0; i < n; i++) keys_[i] = keyOf(static_cast<double>(v[i]));
    lowDone_ = 0;
    highFrom_ = n;
    full_ = n < 2;
    endsReady_ = false;
  }

  /** The sorted values, into out[0 .. n) (after sortAll). */
  void values(double* out) const {
    for (long i = 0; i < n; i++) out[i] = valueOf(keys_[i]);
  }

  /** Sorts everything (for scans through the whole order). */
  void sortAll() {
    if (full_) return;
    sortKeys(keys_.data() + lowDone_, static_cast<size_t>(highFrom_ - lowDone_), tmp_.data());
    full_ = true;
    lowDone_ = n;
    highFrom_ = 0;
  }

  /** Makes ranks [0, low) and [n - high, n) exact and sorted. */
  void need(long low, long high) {
    if (full_) return;
    if (low < 0) low = 0;
    if (high < 0) high = 0;
    if (low + high >= n - 64 || low + high >= n / 2) {
      sortAll();
      return;
    }
    uint64_t* k = keys_.data();
    if (low > lowDone_) {
      std::nth_element(k + lowDone_, k + low, k + highFrom_);
      std::sort(k + lowDone_, k + low);
      lowDone_ = low;
    }
    if (n - high <= lowDone_) {
      sortAll();
      return;
    }
    if (n - high < highFrom_) {
      std::nth_element(k + lowDone_, k + (n - high), k + highFrom_);
      std::sort(k + (n - high), k + highFrom_);
      highFrom_ = n - high;
    }
  }

  /** The value of rank r; NaN outside [0, n) (a typed array read past its end). */
  double at(double r) {
    if (!(r >= 0 && r < static_cast<double>(n))) return std::numeric_limits<double>::quiet_NaN();
    const long i = static_cast<long>(r);
    if (!full_ && lowDone_ == 0 && highFrom_ == n && n > 4 * kEnds && (i < kEnds || i >= n - kEnds)) {
      // A rank among the few lowest or highest of values nothing has been sorted for yet (a
      // trimmed edge): one pass keeps the kEnds smallest and largest keys, no partitioning.
      if (!endsReady_) findEnds();
      return valueOf(i < kEnds ? lowEnd_[i] : highEnd_[i - (n - kEnds)]);
    }
    if (!full_ && i >= lowDone_ && i < highFrom_) {
      // A rank in the unsorted middle: extend the nearer sorted end past it (doubling), or sort all.
      if (i - lowDone_ < highFrom_ - i) need(2 * (i + 1) + 16, n - highFrom_);
      else need(lowDone_, 2 * (n - i) + 16);
    }
    return valueOf(keys_[i]);
  }

 private:
  static constexpr long kEnds = 32;
  std::vector<uint64_t> keys_, tmp_;
  long lowDone_ = 0, highFrom_ = 0;
  bool full_ = true;
  bool endsReady_ = false;
  /** The kEnds smallest keys ascending, and the kEnds largest ascending (valid while endsReady_). */
  uint64_t lowEnd_[kEnds], highEnd_[kEnds];

  void findEnds() {
    const uint64_t* k = keys_.data();
    for (long i = 0; i < kEnds; i++) {
      lowEnd_[i] = k[i];
      highEnd_[i] = k[i];
    }
    std::sort(lowEnd_, lowEnd_ + kEnds);
    std::sort(highEnd_, highEnd_ + kEnds);
    // The low buffer's largest and the high buffer's smallest are the thresholds a key must pass.
    for (long i = kEnds; i < n; i++) {
      const uint64_t x = k[i];
      if (x < lowEnd_[kEnds - 1]) {
        long j = kEnds - 1;
        while (j > 0 && lowEnd_[j - 1] > x) {
          lowEnd_[j] = lowEnd_[j - 1];
          j--;
        }
        lowEnd_[j] = x;
      }
      if (x > highEnd_[0]) {
        long j = 0;
        while (j < kEnds - 1 && highEnd_[j + 1] < x) {
          highEnd_[j] = highEnd_[j + 1];
          j++;
        }
        highEnd_[j] = x;
      }
    }
    endsReady_ = true;
  }

  void ensure() {
    if (keys_.size() < static_cast<size_t>(n)) {
      keys_.resize(static_cast<size_t>(n));
      tmp_.resize(static_cast<size_t>(n));
    }
  }
};

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
