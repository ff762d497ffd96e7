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
    uint64_t* k = keys_.data();
    double lo = std::numeric_limits<double>::infinity(), hi = -lo;
    bool nan = false;
    for (long i = 0; i < n; i++) {
      const double x = static_cast<double>(v[i]);
      k[i] = keyOf(x);
      if (x < lo) lo = x;
      if (x > hi) hi = x;
      if (x != x) nan = true;
    }
    // A NaN makes the range unusable for bucketing (need() then sorts everything).
    min_ = nan ? std::numeric_limits<double>::quiet_NaN() : lo;
    max_ = hi;
    lowDone_ = 0;
    highFrom_ = n;
    full_ = n < 2;
    endsLow_ = endsHigh_ = 0;
  }

  /**
   * The few lowest (lowK) and highest (highK) ranks, at most kEnds each, found in one pass that
   * keeps them in small sorted buffers; the keys are not moved. A later read of another rank
   * (or need()) leaves this mode for the general one.
   */
  void ends(long lowK, long highK) {
    if (full_ || lowDone_ > 0 || highFrom_ < n || lowK > kEnds || highK > kEnds || lowK + highK > n) {
      need(lowK, highK);
      return;
    }
    const uint64_t* k = keys_.data();
    long nl = 0, nh = 0;
    for (long i = 0; i < n; i++) {
      const uint64_t x = k[i];
      if (lowK > 0 && (nl < lowK || x < low_[nl - 1])) {
        long j = nl < lowK ? nl++ : nl - 1;
        while (j > 0 && low_[j - 1] > x) {
          low_[j] = low_[j - 1];
          j--;
        }
        low_[j] = x;
      }
      if (highK > 0 && (nh < highK || x > high_[0])) {
        // high_ ascending; when full, the smallest (high_[0]) makes way.
        long j;
        if (nh < highK) {
          j = nh++;
          while (j > 0 && high_[j - 1] > x) {
            high_[j] = high_[j - 1];
            j--;
          }
        } else {
          j = 0;
          while (j < highK - 1 && high_[j + 1] < x) {
            high_[j] = high_[j + 1];
            j++;
          }
        }
        high_[j] = x;
      }
    }
    endsLow_ = lowK;
    endsHigh_ = highK;
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

  /**
   * Makes ranks [0, low) and [n - high, n) exact and sorted (at least those: whole buckets are
   * sorted). One pass buckets the unsorted keys by the 11 bits below their highest differing
   * bit; the buckets up to the one holding rank low - 1 go to the front, those from the one
   * holding rank n - high to the back, each group sorted; the rest stays unsorted between.
   */
  void need(long low, long high) {
    endsLow_ = endsHigh_ = 0;
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

  /**
   * The values of ranks r1 <= r2 (in [0, n)), as a sorted copy holds them, without sorting:
   * one histogram over the value range finds the buckets holding the two ranks, and selection
   * runs only inside them. The keys are not moved.
   */
  void select2(long r1, long r2, double& v1, double& v2) {
    uint64_t* t = tmp_.data();
    const uint64_t* k = keys_.data();
    const double span = max_ - min_;
    if (n < 256 || !(span > 0 && span < std::numeric_limits<double>::infinity()) || (!full_ && (lowDone_ > 0 || highFrom_ < n))) {
      if (full_ || lowDone_ > r2 || (highFrom_ <= r1)) {
        v1 = atRank(r1);
        v2 = atRank(r2);
        return;
      }
      std::memcpy(t, k, static_cast<size_t>(n) * sizeof(uint64_t));
      std::nth_element(t, t + r1, t + n);
      v1 = valueOf(t[r1]);
      std::nth_element(t + r1, t + r2, t + n);
      v2 = valueOf(t[r2]);
      return;
    }
    int kBuckets = 64;
    while (kBuckets < 2048 && kBuckets * 8 < n) kBuckets *= 2;
    const double scale = (kBuckets - 1) / span, base = min_;
    auto bucketOf = [&](uint64_t key) {
      const double b = (valueOf(key) - base) * scale;
      return b <= 0 ? 0 : b >= kBuckets - 1 ? kBuckets - 1 : static_cast<int>(b);
    };
    uint32_t hist[2048];
    std::memset(hist, 0, static_cast<size_t>(kBuckets) * sizeof(uint32_t));
    for (long i = 0; i < n; i++) hist[bucketOf(k[i])]++;
    long before1 = 0, before2 = 0, cum = 0;
    int b1 = -1, b2 = -1;
    for (int bkt = 0; bkt < kBuckets; bkt++) {
      const long next = cum + hist[bkt];
      if (b1 < 0 && r1 < next) {
        b1 = bkt;
        before1 = cum;
      }
      if (r2 < next) {
        b2 = bkt;
        before2 = cum;
        break;
      }
      cum = next;
    }
    long n1 = 0, n2 = 0;
    const long size1 = hist[b1];
    for (long i = 0; i < n; i++) {
      const int bkt = bucketOf(k[i]);
      if (bkt == b1) t[n1++] = k[i];
      else if (bkt == b2) t[size1 + n2++] = k[i];
    }
    std::nth_element(t, t + (r1 - before1), t + n1);
    v1 = valueOf(t[r1 - before1]);
    if (b2 == b1) {
      std::nth_element(t, t + (r2 - before1), t + n1);
      v2 = valueOf(t[r2 - before1]);
    } else {
      std::nth_element(t + size1, t + size1 + (r2 - before2), t + size1 + n2);
      v2 = valueOf(t[size1 + (r2 - before2)]);
    }
  }

  /** The value of rank r; NaN outside [0, n) (a typed array read past its end). */
  double at(double r) {
    if (!(r >= 0 && r < static_cast<double>(n))) return std::numeric_limits<double>::quiet_NaN();
    return atRank(static_cast<long>(r));
  }

  /** The value of rank i in [0, n). */
  double atRank(long i) {
    if (endsLow_ > 0 || endsHigh_ > 0) {
      if (i < endsLow_) return valueOf(low_[i]);
      if (i >= n - endsHigh_) return valueOf(high_[i - (n - endsHigh_)]);
      endsLow_ = endsHigh_ = 0;  // the keys were never moved: the general path starts from scratch
    }
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
  uint64_t low_[kEnds], high_[kEnds];
  long endsLow_ = 0, endsHigh_ = 0;
  std::vector<uint64_t> keys_, tmp_;
  long lowDone_ = 0, highFrom_ = 0;
  bool full_ = true;
  /** The loaded values' range (NaN compares make it non-finite or empty: then everything is sorted). */
  double min_ = 0, max_ = 0;

  void ensure() {
    if (keys_.size() < static_cast<size_t>(n)) {
      keys_.resize(static_cast<size_t>(n));
      tmp_.resize(static_cast<size_t>(n));
    }
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
