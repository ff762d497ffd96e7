// Perception's per-object kernel (family "perception_objects"): measureObjects, a port of
// src/perception/object_measurements.ts ObjectMeasurer: per object, its pixels lifted to the
// spatial frame (mask repair by depth, flying-pixel rejection, colour and bottom-edge contact
// evidence accumulated in the same pass), then its box (perception_box.cc). One call for all
// of a frame's objects; the caller's typed arrays are read and written in place; the box
// estimator's scratch is per thread and reused (allocated only when a larger object than any
// before arrives). With threads = 2 the objects are shared with the addon's helper thread
// (helper_thread.h; SharedObjects below): the same results, value for value. Layouts:
// MEASURE_PARAMS in, MEASURE out (change both sides together).
#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
#include <string>
#include <type_traits>
#include <vector>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif
// x86-64 with GCC or Clang: the lift's per-pixel arithmetic four pixels at a time with AVX2,
// chosen at run time (the addon is built for baseline x86-64; the target adds no FMA).
// -DSR_LIFT_NO_AVX2 builds the scalar path only (to compare the two).
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__)) && !defined(SR_LIFT_NO_AVX2)
#define SR_LIFT_AVX2 1
#include <immintrin.h>
#endif

#include "helper_thread.h"
#include "kernels.h"
#include "perception_args.h"
#include "perception_box.h"
#include "perception_math.h"

namespace {

using sr::perception::Box3;
using sr::perception::BoxContext;
using sr::perception::BoxOptions;
using sr::perception::ImageArg;
using sr::perception::ObjectBoxEstimator;
using sr::perception::Sample;
using sr::perception::allFinite;
using sr::perception::finiteIn;
using sr::perception::holds;
using sr::perception::imageArg;
using sr::perception::integerIn;
using sr::perception::kMaxLabel;
using sr::perception::kMaxSide;
using sr::perception::numberArg;
using sr::perception::rangeFail;
namespace pjs = sr::pjs;

enum Params {
  kWidth = 0, kHeight, kDepthStride, kDepthScale, kLabelStride, kRgbStep, kBgr,
  kFloorZ, kColorFloorZ, kRepair, kNoise1m, kSupportZ, kFocalSum,
  kMinDepth, kMaxDepth, kMaxPointsPerObject, kMinPoints,
  kTrim, kRestingTolerance, kFlatCurvature, kTopFaceSpan,
  kRotation,
  kParamsLength = 30,
};
enum Out {
  kStride = 16,
  kStatus = 0, kPoints, kIslands, kCx, kCy, kCz, kSx, kSy, kSz, kResting, kRestingOn, kLowest, kRejected, kRed, kGreen, kBlue,
};

// color_naming.ts ColorNamer, over bytes: a pixel's luminance bin depends only on the integer
// r * 3 + g * 6 + b (0..2550), so the reference's per-pixel division is done once per value
// (kLumBins), and the sums of bytes are kept as integers (exact, as the reference's doubles are
// below 2^53).
constexpr int kColorBins = 32;
constexpr int kLumKeys = 255 * 10 + 1;
struct LumBins {
  uint8_t bin[kLumKeys];
  LumBins() {
    for (int s = 0; s < kLumKeys; s++) {
      const double lum = static_cast<double>(s) / 10;
      bin[s] = static_cast<uint8_t>(pjs::min(kColorBins - 1, static_cast<double>(static_cast<int32_t>(lum * kColorBins) >> 8)));
    }
  }
};
const LumBins kLumBins;
inline int lumBin(int r, int g, int b) { return kLumBins.bin[r * 3 + g * 6 + b]; }
struct ColorSums {
  uint32_t hist[kColorBins];
  uint64_t sums[kColorBins * 3];
  long pixels = 0;
  void begin() {
    std::memset(hist, 0, sizeof hist);
    std::memset(sums, 0, sizeof sums);
    pixels = 0;
  }
  // brightestMean: the mean of the brightest 8% of the pixels, NaN without pixels.
  void brightestMean(double* out) const {
    double total = 0;
    for (int i = 0; i < kColorBins; i++) total += hist[i];
    if (total == 0) {
      out[0] = out[1] = out[2] = std::numeric_limits<double>::quiet_NaN();
      return;
    }
    const double want = pjs::max(1.0, total * 0.08);
    double got = 0, r = 0, g = 0, b = 0;
    for (int i = kColorBins - 1; i >= 0 && got < want; i--) {
      got += hist[i];
      r += static_cast<double>(sums[i * 3]);
      g += static_cast<double>(sums[i * 3 + 1]);
      b += static_cast<double>(sums[i * 3 + 2]);
    }
    out[0] = r / got;
    out[1] = g / got;
    out[2] = b / got;
  }
};

/** What one call needs besides the images; scratch lives per thread (see Workspace). */
struct Frame {
  long width, height, ds, ls, rgbStep;
  double dscale;
  bool bgr;
  double floorZ, colorFloorZ, noise1m, minZ, maxZ, maxPoints, supportZ;
  long repair;
  double r[9];
  const double* rayX;
  const double* rayY;
  const uint8_t* rgb;
  const int32_t* u0;
  const int32_t* u1;
  const int32_t* v0;
  const int32_t* v1;
};

// SR_ALWAYS_INLINE (perception_math.h) where it is called per lifted pixel (GCC kept these out
// of line: a call a pixel, and adjoins()' reach-1 loop not unrolled); no effect on results.

// A run of pixels in one luminance bin, summed in registers and added to a ColorSums when the
// bin changes and at the end (neighbouring pixels mostly share a bin; adding each to the arrays
// chained every pixel on the last one's stores). A pixel's three bytes, in the image's order,
// are summed as 21-bit fields of one word (packed(): one add a pixel), flushed before a field
// could carry (kMaxRun pixels of 255). Integer sums: the same totals in any order.
struct ColorRun {
  static constexpr uint32_t kMaxRun = ((1u << 21) - 1) / 255;
  int bin = -1;
  uint32_t n = 0;
  uint64_t sum = 0;
  static SR_ALWAYS_INLINE uint64_t packed(uint64_t b0, uint64_t b1, uint64_t b2) { return b0 | (b1 << 21) | (b2 << 42); }
  // red: the byte holding red (0 RGB, 2 BGR).
  SR_ALWAYS_INLINE void add(ColorSums& to, int red, int nb, uint64_t px) {
    if (nb != bin) {
      flush(to, red);
      bin = nb;
    }
    n++;
    sum += px;
  }
  SR_ALWAYS_INLINE void flush(ColorSums& to, int red) {
    if (n != 0) addTo(to, red, bin, n, sum);
    n = 0;
    sum = 0;
  }
  // Out of line and by value: a run copied to locals stays in registers.
  static __attribute__((noinline)) void addTo(ColorSums& to, int red, int bin, uint32_t n, uint64_t sum) {
    const uint64_t field[3] = {sum & 0x1FFFFF, (sum >> 21) & 0x1FFFFF, sum >> 42};
    to.pixels += n;
    to.hist[bin] += n;
    to.sums[bin * 3] += field[red];
    to.sums[bin * 3 + 1] += field[1];
    to.sums[bin * 3 + 2] += field[2 - red];
  }
};

// The colour sums of one instance's pixels by luminance bin, as 21-bit fields of one word per bin
// (ColorRun::packed), in two sets: even and odd columns. Each pixel is added straight to its
// set's bin (no branch on the bin: a run per bin cost a mispredicted branch wherever the bin
// changed); two sets, so neighbouring pixels of one bin are not one chain of adds through
// memory. Flushed into a ColorSums before a field could carry (kMaxRun pixels) and at the end:
// integer sums, the same totals in any order.
struct ColorPacked {
  uint64_t sum[2][kColorBins];
  uint32_t n[2][kColorBins];
  uint32_t pending = 0;
  void begin() {
    std::memset(sum, 0, sizeof sum);
    std::memset(n, 0, sizeof n);
    pending = 0;
  }
  // red: the byte holding red (0 RGB, 2 BGR).
  void flush(ColorSums& to, int red) {
    for (int s = 0; s < 2; s++) {
      for (int bin = 0; bin < kColorBins; bin++) {
        if (n[s][bin] == 0) continue;
        ColorRun::addTo(to, red, bin, n[s][bin], sum[s][bin]);
      }
    }
    begin();
  }
};

struct Workspace {
  ObjectBoxEstimator boxes{BoxOptions{0, 0, 0, 0}};
  ColorSums colors;
  // The colour away from touching surfaces (object_measurements.ts BLEED_REACH).
  ColorSums inner;
  ColorPacked colorPacked, innerPacked;
  std::vector<float> edgeHeight;
  std::vector<uint8_t> edgeKind;
  int32_t contact[4];
  long liftStep = 1;
  long islands = 0;
  // lift's label bitmasks (LabelMasks): one bit a pixel over the instance's box and a margin.
  std::vector<uint64_t> idRows;
  std::vector<uint64_t> rowWords;
  // One lifted row's per-pixel results (PixelRow), by column - base.
  std::vector<double> rowZ;
  std::vector<float> rowX, rowY, rowZf;
  std::vector<uint64_t> rowBits;
};


template <typename D, typename L>
SR_ALWAYS_INLINE bool adjoins(const L* labels, long ls, const D* d, long ds, double dscale, long u, long v, long id, double z, double tol, long reach, long width, long height) {
  for (long k = 1; k <= reach; k++) {
    if (u >= k && labels[v * ls + u - k] == id && std::fabs(static_cast<double>(d[v * ds + u - k]) * dscale - z) <= tol) return true;
    if (u + k < width && labels[v * ls + u + k] == id && std::fabs(static_cast<double>(d[v * ds + u + k]) * dscale - z) <= tol) return true;
    if (v >= k && labels[(v - k) * ls + u] == id && std::fabs(static_cast<double>(d[(v - k) * ds + u]) * dscale - z) <= tol) return true;
    if (v + k < height && labels[(v + k) * ls + u] == id && std::fabs(static_cast<double>(d[(v + k) * ds + u]) * dscale - z) <= tol) return true;
  }
  return false;
}

inline bool nearer(double a, double b, double lim) { return (a > 0 && a < lim) || (b > 0 && b < lim); }

// object_measurements.ts UNLABELLED_OBJECT_HEIGHT, CONTACT_BAND
constexpr double kUnlabelledObjectHeight = 0.01;
constexpr long kContactBand = 4;

// object_measurements.ts BLEED_REACH, MIN_INNER_PIXELS, continuous, touches
constexpr long kBleedReach = 3;
constexpr long kMinInnerPixels = 20;
inline bool continuous(double a, double z, double jump) { return a > 0 && std::fabs(a - z) < jump; }
// touches() by directions: its image-bound and label tests are made by words (`away`: the pixels
// whose neighbour BLEED_REACH along `step` (+-1 a column, +-ds a row) lies in the image and is not
// the instance's), only the depth tests per pixel; the bits of `edge` whose test holds are added to
// `touched`, and those touched already are not tested again. Every test is pure, so the order in
// which they are made does not matter.
template <typename D>
SR_ALWAYS_INLINE uint64_t touchedAlong(const D* d, double dscale, long at, long step, const double* z, uint64_t edge, uint64_t away, uint64_t touched) {
  for (uint64_t bits = edge & away & ~touched; bits != 0; bits &= bits - 1) {
    const int b = __builtin_ctzll(bits);
    const double zb = z[b];
    if (continuous(static_cast<double>(d[at + b + kBleedReach * step]) * dscale, zb, 0.03 + 0.03 * zb)) touched |= 1ull << b;
  }
  return touched;
}


// Bit i of a row's mask is column base + i. The lift asks, per pixel, which of its neighbours
// carry the instance's label: most of its box's pixels are background far from the instance (a
// mask-repair candidate only within `repair` pixels of it) or deep inside it, and one word
// operation answers that for 64 pixels, where testing neighbour labels pixel by pixel cost most of
// the lift. Exact: the masks only skip pixels whose tests they decide; every test that depends on
// depth still runs as before, in the same order.
inline bool bitAt(const uint64_t* w, long i) { return (w[i >> 6] >> (i & 63)) & 1; }

// Sets the bit of every column c in [c0, c1] of `row` holding `value` (bit c - base of `words`;
// the words past the last such bit may receive zero bits: one word of padding).
template <typename L>
inline void labelBits(const L* row, long c0, long c1, long base, long value, uint64_t* words) {
  long c = c0;
#if defined(__SSE2__)
  if (sizeof(L) == 1) {
    if (value < 0 || value > 255) return;  // no 8-bit label equals it
    const __m128i want = _mm_set1_epi8(static_cast<char>(value));
    auto chunk = [&](long at) __attribute__((always_inline)) {
      const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(row + at));
      const uint64_t m = static_cast<uint32_t>(_mm_movemask_epi8(_mm_cmpeq_epi8(v, want)));
      if (m == 0) return;
      const long pos = at - base;
      const int sh = static_cast<int>(pos & 63);
      words[pos >> 6] |= m << sh;
      if (sh > 48) words[(pos >> 6) + 1] |= m >> (64 - sh);
    };
    for (; c + 15 <= c1; c += 16) chunk(c);
    // The last columns as the 16 ending at c1, when the span holds 16 (bits set twice stay set).
    if (c <= c1 && c1 - 15 >= c0) {
      chunk(c1 - 15);
      return;
    }
  } else if (sizeof(L) == 2) {
    if (value < 0 || value > 65535) return;
    const __m128i want = _mm_set1_epi16(static_cast<short>(value));
    for (; c + 7 <= c1; c += 8) {
      const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(row + c));
      const __m128i eq = _mm_cmpeq_epi16(v, want);
      const uint64_t m = static_cast<uint32_t>(_mm_movemask_epi8(_mm_packs_epi16(eq, _mm_setzero_si128()))) & 0xFF;
      if (m == 0) continue;
      const long pos = c - base;
      const int sh = static_cast<int>(pos & 63);
      words[pos >> 6] |= m << sh;
      if (sh > 56) words[(pos >> 6) + 1] |= m >> (64 - sh);
    }
  }
#endif
  for (; c <= c1; c++) {
    if (static_cast<long>(row[c]) == value) {
      const long pos = c - base;
      words[pos >> 6] |= 1ull << (pos & 63);
    }
  }
}

// Word j of a mask moved k (1..63) columns: bit i of shiftUp is bit i - k of x (the pixel k to
// the left), bit i of shiftDown is bit i + k (k to the right); nw words, zero past the ends.
SR_ALWAYS_INLINE uint64_t shiftUp(const uint64_t* x, long j, int k) { return (x[j] << k) | (j > 0 ? x[j - 1] >> (64 - k) : 0); }
SR_ALWAYS_INLINE uint64_t shiftDown(const uint64_t* x, long j, long nw, int k) { return (x[j] >> k) | (j + 1 < nw ? x[j + 1] << (64 - k) : 0); }


// What the lift computes for one pixel from depth (and the instance's label bits) alone, whatever
// the tests before it decide: its depth, its point (x, y and the height zf as stored), and as
// bits by column - base: depth in range (valid); valid, not a flying pixel (no markedly nearer
// neighbour) and not below the floor (clear); above the colour floor (colour); an instance pixel
// among its 4 neighbours on its surface (adj1: adjoins() with reach 1, the mask repair's test of
// an instance pixel). Every test is pure (only the islands count, kept by words, depends on which
// fails first), so a row's candidates are computed first and then walked by words in column order,
// each keeping what passes all of the reference's tests in the order the reference stores them.
struct PixelRow {
  double* z;
  float* x;
  float* y;
  float* zf;
  uint64_t* valid;
  uint64_t* clear;
  uint64_t* colour;
  uint64_t* adj1;
};
struct LiftGeometry {
  long width, height, ds, ls;
  double dscale, minZ, maxZ, noise1m, floorZ, colorFloorZ, r[9];
  const double* rayX;
};

inline void setBit(uint64_t* w, long i) { w[i >> 6] |= 1ull << (i & 63); }

template <typename D, typename L, bool kUnitScale>
inline void pixelAt(const LiftGeometry& g, const D* d, const L* labels, long id, bool own, bool near1, long v, double ry, long u, long i, PixelRow& out) {
  const long width = g.width, height = g.height, ds = g.ds;
  const double dscale = kUnitScale ? 1.0 : g.dscale;
  const long di = v * ds + u;
  const double z = static_cast<double>(d[di]) * dscale;
  const double jump = 0.03 + 0.03 * z;
  const double lim = z - jump;
  const bool flying = (u >= 2 && nearer(static_cast<double>(d[di - 1]) * dscale, static_cast<double>(d[di - 2]) * dscale, lim)) ||
                      (u + 2 < width && nearer(static_cast<double>(d[di + 1]) * dscale, static_cast<double>(d[di + 2]) * dscale, lim)) ||
                      (v >= 2 && nearer(static_cast<double>(d[di - ds]) * dscale, static_cast<double>(d[di - 2 * ds]) * dscale, lim)) ||
                      (v + 2 < height && nearer(static_cast<double>(d[di + ds]) * dscale, static_cast<double>(d[di + 2 * ds]) * dscale, lim));
  const double* r = g.r;
  const double cx = g.rayX[u] * z, cy = ry * z;
  const double pz = r[6] * cx + r[7] * cy + r[8] * z;
  out.z[i] = z;
  out.x[i] = static_cast<float>(r[0] * cx + r[1] * cy + r[2] * z);
  out.y[i] = static_cast<float>(r[3] * cx + r[4] * cy + r[5] * z);
  out.zf[i] = static_cast<float>(pz);
  const bool valid = z > g.minZ && z < g.maxZ;
  if (valid) setBit(out.valid, i);
  if (valid && !flying && !(pz < g.floorZ)) setBit(out.clear, i);
  if (pz > g.colorFloorZ) setBit(out.colour, i);
  if (own && near1 && adjoins(labels, g.ls, d, ds, dscale, u, v, id, z, 0.01 + 3 * g.noise1m * z * z, 1, width, height)) setBit(out.adj1, i);
}

// The bits of word j for the columns - base in [a, b).
SR_ALWAYS_INLINE uint64_t spanBits(long j, long a, long b) {
  const long lo = a - (j << 6), hi = b - (j << 6);
  const uint64_t below = hi >= 64 ? ~0ull : hi <= 0 ? 0 : (1ull << hi) - 1;
  const uint64_t from = lo <= 0 ? ~0ull : lo >= 64 ? 0 : ~((1ull << lo) - 1);
  return below & from;
}

#if defined(SR_LIFT_AVX2)
bool haveAvx2() {
  static const bool yes = __builtin_cpu_supports("avx2");
  return yes;
}

// Four depths in metres as doubles: float metres exactly; uint16 millimetres (16UC1, what
// RealSense-class cameras publish) as double(d) * scale, the reference's one multiplication.
// nearer() of each lane against its lim; |a - z| <= tol.
struct MetreDepth {
  __attribute__((target("avx2"))) SR_ALWAYS_INLINE __m256d operator()(const float* p) const { return _mm256_cvtps_pd(_mm_loadu_ps(p)); }
};
struct ScaledDepth {
  double scale;
  __attribute__((target("avx2"))) SR_ALWAYS_INLINE __m256d operator()(const uint16_t* p) const {
    const __m128i four = _mm_cvtepu16_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p)));
    return _mm256_mul_pd(_mm256_cvtepi32_pd(four), _mm256_set1_pd(scale));
  }
};
__attribute__((target("avx2"))) inline __m256d near(__m256d a, __m256d lim) {
  return _mm256_and_pd(_mm256_cmp_pd(a, _mm256_setzero_pd(), _CMP_GT_OQ), _mm256_cmp_pd(a, lim, _CMP_LT_OQ));
}
__attribute__((target("avx2"))) inline __m256d within(__m256d a, __m256d z, __m256d tol) {
  const __m256d absMask = _mm256_castsi256_pd(_mm256_set1_epi64x(0x7FFFFFFFFFFFFFFFll));
  return _mm256_cmp_pd(_mm256_and_pd(_mm256_sub_pd(a, z), absMask), tol, _CMP_LE_OQ);
}
__attribute__((target("avx2"))) SR_ALWAYS_INLINE uint64_t lanes(__m256d m, int sh) { return static_cast<uint64_t>(_mm256_movemask_pd(m)) << sh; }

// pixelAt for float depth in metres or uint16 depth with its scale (At), four columns at a time over the columns - base [i0, i1) (i0
// and i1 - i0 multiples of 4, so four lanes never straddle a word), every column and its two
// neighbours each side inside the image and rows v - 2 .. v + 2 too. The same IEEE operations in
// the same order per lane (no FMA; |x| by clearing the sign). A row's bits are gathered in
// registers and stored once a word; adjoins()' neighbour tests are masked there by the label
// words moved one column (adj1 is set for any pixel with it; the walk reads it for the
// instance's pixels only).
template <typename D, typename At>
__attribute__((target("avx2"))) void pixelsAvx2(const LiftGeometry& g, const D* d, At at, const uint64_t* idRow, long rs, long nw, long v, double ry, long i0, long i1,
                                                long base, PixelRow& out) {
  const long ds = g.ds;
  const D* row = d + v * ds + base;
  const __m256d c003 = _mm256_set1_pd(0.03), c001 = _mm256_set1_pd(0.01), n3 = _mm256_set1_pd(3 * g.noise1m);
  const __m256d minZ = _mm256_set1_pd(g.minZ), maxZ = _mm256_set1_pd(g.maxZ), vry = _mm256_set1_pd(ry);
  const __m256d floorZ = _mm256_set1_pd(g.floorZ), colorFloorZ = _mm256_set1_pd(g.colorFloorZ);
  const __m256d r0 = _mm256_set1_pd(g.r[0]), r1 = _mm256_set1_pd(g.r[1]), r2 = _mm256_set1_pd(g.r[2]), r3 = _mm256_set1_pd(g.r[3]), r4 = _mm256_set1_pd(g.r[4]);
  const __m256d r5 = _mm256_set1_pd(g.r[5]), r6 = _mm256_set1_pd(g.r[6]), r7 = _mm256_set1_pd(g.r[7]), r8 = _mm256_set1_pd(g.r[8]);
  for (long j = i0 >> 6; (j << 6) < i1; j++) {
    const long from = i0 > (j << 6) ? i0 : j << 6, to = i1 < ((j + 1) << 6) ? i1 : (j + 1) << 6;
    uint64_t valid = 0, clear = 0, colour = 0, wl = 0, wr = 0, wu = 0, wd = 0;
    for (long i = from; i < to; i += 4) {
      const D* c = row + i;
      const int sh = static_cast<int>(i & 63);
      const __m256d z = at(c);
      const __m256d lim = _mm256_sub_pd(z, _mm256_add_pd(c003, _mm256_mul_pd(c003, z)));
      const __m256d l1 = at(c - 1), r1v = at(c + 1), u1 = at(c - ds), d1 = at(c + ds);
      const __m256d fly = _mm256_or_pd(_mm256_or_pd(_mm256_or_pd(near(l1, lim), near(at(c - 2), lim)), _mm256_or_pd(near(r1v, lim), near(at(c + 2), lim))),
                                       _mm256_or_pd(_mm256_or_pd(near(u1, lim), near(at(c - 2 * ds), lim)), _mm256_or_pd(near(d1, lim), near(at(c + 2 * ds), lim))));
      // 0.01 + 3 * noise1m * z * z, grouped as the reference's ((3 * noise1m) * z) * z.
      const __m256d tol = _mm256_add_pd(c001, _mm256_mul_pd(_mm256_mul_pd(n3, z), z));
      const __m256d in = _mm256_and_pd(_mm256_cmp_pd(z, minZ, _CMP_GT_OQ), _mm256_cmp_pd(z, maxZ, _CMP_LT_OQ));
      const __m256d cx = _mm256_mul_pd(_mm256_loadu_pd(g.rayX + (base + i)), z), cy = _mm256_mul_pd(vry, z);
      const __m256d pz = _mm256_add_pd(_mm256_add_pd(_mm256_mul_pd(r6, cx), _mm256_mul_pd(r7, cy)), _mm256_mul_pd(r8, z));
      const __m256d x = _mm256_add_pd(_mm256_add_pd(_mm256_mul_pd(r0, cx), _mm256_mul_pd(r1, cy)), _mm256_mul_pd(r2, z));
      const __m256d y = _mm256_add_pd(_mm256_add_pd(_mm256_mul_pd(r3, cx), _mm256_mul_pd(r4, cy)), _mm256_mul_pd(r5, z));
      _mm256_storeu_pd(out.z + i, z);
      _mm_storeu_ps(out.x + i, _mm256_cvtpd_ps(x));
      _mm_storeu_ps(out.y + i, _mm256_cvtpd_ps(y));
      _mm_storeu_ps(out.zf + i, _mm256_cvtpd_ps(pz));
      valid |= lanes(in, sh);
      clear |= lanes(_mm256_andnot_pd(_mm256_or_pd(fly, _mm256_cmp_pd(pz, floorZ, _CMP_LT_OQ)), in), sh);
      colour |= lanes(_mm256_cmp_pd(pz, colorFloorZ, _CMP_GT_OQ), sh);
      wl |= lanes(within(l1, z, tol), sh);
      wr |= lanes(within(r1v, z, tol), sh);
      wu |= lanes(within(u1, z, tol), sh);
      wd |= lanes(within(d1, z, tol), sh);
    }
    out.valid[j] |= valid;
    out.clear[j] |= clear;
    out.colour[j] |= colour;
    out.adj1[j] |= (wl & shiftUp(idRow, j, 1)) | (wr & shiftDown(idRow, j, nw, 1)) | (wu & idRow[j - rs]) | (wd & idRow[j + rs]);
  }
}

#endif

// The kept points of one word (bits by column - at), in column order: stored from xs[n] on,
// their depths added to depthSum in that order, the lowest height kept. Out of line, with its
// few values in registers (inside the lift they were reloaded from the stack every point).
__attribute__((noinline)) long emitPoints(uint64_t keep, const PixelRow& px, long at, float* xs, float* ys, float* zs, long n, double& depthSum, double& lowest) {
  const double* z = px.z + at;
  const float* x = px.x + at;
  const float* y = px.y + at;
  const float* zf = px.zf + at;
  double sum = depthSum, low = lowest;
  for (; keep != 0; keep &= keep - 1) {
    const int i = __builtin_ctzll(keep);
    sum += z[i];
    xs[n] = x[i];
    ys[n] = y[i];
    zs[n] = zf[i];
    // The lowest point, as a pass over zs after the loop would find it (same values, same order).
    if (zf[i] < low) low = zf[i];
    n++;
  }
  depthSum = sum;
  lowest = low;
  return n;
}

// The colours of one word's points (bits by column - at; rgb: the image row): every one to
// `all`, those of `innerBits` to `in` too. kBgr: the image's bytes are blue, green, red.
template <bool kBgr>
__attribute__((noinline)) void addColours(uint64_t bits, uint64_t innerBits, const uint8_t* rgb, long at, ColorPacked& all, ColorPacked& in) {
  // At most 64 pixels a word (a count would be a call without the popcnt instruction).
  all.pending += 64;
  in.pending += 64;
  for (; bits != 0; bits &= bits - 1) {
    const int i = __builtin_ctzll(bits);
    const uint8_t* p = rgb + (at + i) * 3;
    const uint32_t b0 = p[0], b1 = p[1], b2 = p[2];
    const int bin = kBgr ? lumBin(static_cast<int>(b2), static_cast<int>(b1), static_cast<int>(b0)) : lumBin(static_cast<int>(b0), static_cast<int>(b1), static_cast<int>(b2));
    const uint64_t px3 = ColorRun::packed(b0, b1, b2);
    const int s = static_cast<int>((at + i) & 1);
    all.sum[s][bin] += px3;
    all.n[s][bin]++;
    if (((innerBits >> i) & 1) != 0) {
      in.sum[s][bin] += px3;
      in.n[s][bin]++;
    }
  }
}

/** A read-prefetch of every cache line of [p, p + bytes) (a hint: no effect on results). */
inline void prefetchRange(const uint8_t* p, size_t bytes) {
#if defined(__GNUC__)
  for (size_t o = 0; o < bytes; o += 64) __builtin_prefetch(p + o, 0, 3);
#else
  (void)p;
  (void)bytes;
#endif
}

// ObjectMeasurer.lift: the instance's points into xs/ys/zs (returns how many), colour and contact in ws.
// kUnitScale: depth in metres (scale 1), where every depth * scale is the depth itself (exact in
// IEEE arithmetic), so the compiler drops the dozen multiplications per pixel.
template <typename D, typename L, bool kUnitScale>
long lift(Workspace& ws, const Frame& f, const D* d, const L* labels, long id, long pixels, float* xs, float* ys, float* zs) {
  const long width = f.width, height = f.height, ds = f.ds, ls = f.ls, repair = f.repair;
  const double dscale = kUnitScale ? 1.0 : f.dscale, minZ = f.minZ, maxZ = f.maxZ, noise1m = f.noise1m;
  const double r6 = f.r[6], r7 = f.r[7], r8 = f.r[8];
  const long U0 = static_cast<long>(pjs::max(0.0, static_cast<double>(f.u0[id] - repair)));
  const long U1 = static_cast<long>(pjs::min(static_cast<double>(width - 1), static_cast<double>(f.u1[id] + repair)));
  const long V0 = static_cast<long>(pjs::max(0.0, static_cast<double>(f.v0[id] - repair)));
  const long V1 = static_cast<long>(pjs::min(static_cast<double>(height - 1), static_cast<double>(f.v1[id] + repair)));
  float* edgeHeight = ws.edgeHeight.data();
  uint8_t* edgeKind = ws.edgeKind.data();
  const long edgeCapacity = static_cast<long>(ws.edgeHeight.size());
  const double* rayX = f.rayX;
  const double* rayY = f.rayY;
  const uint8_t* rgb = f.rgb;
  const long rgbStep = f.rgbStep;
  const int red = f.bgr ? 2 : 0;
  ColorSums& colors = ws.colors;
  ColorSums& inner = ws.inner;
  long n = 0, edges = 0, islands = 0;
  double depthSum = 0;
  double lowest = std::numeric_limits<double>::infinity();
  colors.begin();
  inner.begin();
  ColorPacked& colorRun = ws.colorPacked;
  ColorPacked& innerRun = ws.innerPacked;
  colorRun.begin();
  innerRun.begin();
  const double dp = static_cast<double>(pixels);
  const long step = dp > f.maxPoints * 4 ? 3 : dp > f.maxPoints ? 2 : 1;
  ws.liftStep = step;
  // The instance's label as bits over its box, `margin` rows and columns beyond it (the farthest
  // neighbour a test reads: the repair's reach, BLEED_REACH); rows and columns off the image stay zero.
  const long margin = repair > kBleedReach ? repair : kBleedReach;
  const long base = U0 - margin, rowBase = V0 - margin;
  const long nw = (U1 + margin - base + 1 + 63) >> 6, rs = nw + 1, rows = V1 - V0 + 1 + 2 * margin;
  if (ws.idRows.size() < static_cast<size_t>(rows * rs)) ws.idRows.resize(static_cast<size_t>(rows * rs));
  if (ws.rowWords.size() < static_cast<size_t>(4 * rs)) ws.rowWords.resize(static_cast<size_t>(4 * rs));
  uint64_t* idRows = ws.idRows.data();
  std::memset(idRows, 0, static_cast<size_t>(rows * rs) * sizeof(uint64_t));
  {
    const long c0 = base > 0 ? base : 0, c1 = U1 + margin < width - 1 ? U1 + margin : width - 1;
    const long r0 = rowBase > 0 ? rowBase : 0, r1 = V1 + margin < height - 1 ? V1 + margin : height - 1;
    for (long r = r0; r <= r1; r++) labelBits(labels + r * ls, c0, c1, base, id, idRows + (r - rowBase) * rs);
  }
  if (ws.rowZ.size() < static_cast<size_t>(nw * 64)) {
    ws.rowZ.resize(static_cast<size_t>(nw * 64));
    ws.rowX.resize(static_cast<size_t>(nw * 64));
    ws.rowY.resize(static_cast<size_t>(nw * 64));
    ws.rowZf.resize(static_cast<size_t>(nw * 64));
  }
  if (ws.rowBits.size() < static_cast<size_t>(4 * rs)) ws.rowBits.resize(static_cast<size_t>(4 * rs));
  uint64_t* bits0 = ws.rowBits.data();
  PixelRow px{ws.rowZ.data(), ws.rowX.data(), ws.rowY.data(), ws.rowZf.data(), bits0, bits0 + rs, bits0 + 2 * rs, bits0 + 3 * rs};
  const LiftGeometry geo{width, height, ds, ls, f.dscale, minZ, maxZ, noise1m, f.floorZ, f.colorFloorZ, {f.r[0], f.r[1], f.r[2], f.r[3], f.r[4], f.r[5], r6, r7, r8}, rayX};
#if defined(SR_LIFT_AVX2)
  // Float depth is metres (scale 1); uint16 depth is scaled (millimetres).
  constexpr bool kVector = (kUnitScale && std::is_same<D, float>::value) || (!kUnitScale && std::is_same<D, uint16_t>::value);
  const bool avx2 = kVector && haveAvx2();
#endif
  uint64_t* visit = ws.rowWords.data();
  uint64_t* zeroRow = visit + rs;
  uint64_t* cand = zeroRow + rs;
  uint64_t* near1 = cand + rs;
  std::memset(visit, 0, static_cast<size_t>(rs) * sizeof(uint64_t));
  for (long u = U0; u <= U1; u = u + step > U1 && u < U1 ? U1 : u + step) visit[(u - base) >> 6] |= 1ull << ((u - base) & 63);
  // Label 0 as the id: its pixels are background to adjoins() (reach `repair`, no islands).
  const bool mend = repair > 0 && id != 0;
  for (long v = V0; v <= V1; v = v + step > V1 && v < V1 ? V1 : v + step) {
    const double ry = rayY[v];
    const long row = v * ls;
    const uint64_t* idRow = idRows + (v - rowBase) * rs;
    // The colour image is read only on the row being lifted (depth and labels are read two rows
    // ahead by the neighbour tests): fetch the next row's colour span now, so its first read is no miss.
    prefetchRange(rgb + (v + step <= V1 ? v + step : v) * rgbStep + U0 * 3, static_cast<size_t>(U1 - U0 + 1) * 3);
    // Likewise the depth rows the next lifted row reads first below it (the neighbour tests'):
    // the row's arithmetic is too short to hide their misses.
    {
      const long c0 = U0 >= 2 ? U0 - 2 : 0, c1 = U1 + 2 < width ? U1 + 2 : width - 1;
      for (long r = v + step + 1; r <= v + step + 2 && r < height; r++) {
        prefetchRange(reinterpret_cast<const uint8_t*>(d + r * ds + c0), static_cast<size_t>(c1 - c0 + 1) * sizeof(D));
      }
    }
    // The pixels the reference's tests let through to its depth test: the instance's, and (mask
    // repair) background ones with an instance pixel within `repair` along the row or the column,
    // without which adjoins() fails. near1: an instance pixel among the 4 neighbours.
    if (repair > 0) {
      for (long j = 0; j < rs; j++) zeroRow[j] = 0;
      labelBits(labels + row, U0, U1, base, 0, zeroRow);
    }
    long jFirst = -1, jLast = -1;
    for (long j = 0; j < nw; j++) {
      const uint64_t* up1 = idRow - rs;
      const uint64_t* dn1 = idRow + rs;
      const uint64_t n1 = shiftUp(idRow, j, 1) | shiftDown(idRow, j, nw, 1) | up1[j] | dn1[j];
      uint64_t nr = n1;
      for (long k = 2; k <= repair; k++) nr |= shiftUp(idRow, j, static_cast<int>(k)) | shiftDown(idRow, j, nw, static_cast<int>(k)) | idRow[j - k * rs] | idRow[j + k * rs];
      near1[j] = n1;
      cand[j] = visit[j] & (idRow[j] | (repair > 0 ? zeroRow[j] & nr : 0));
      if (cand[j] == 0) continue;
      if (jFirst < 0) jFirst = j;
      jLast = j;
    }
    if (jFirst < 0) continue;
    const long first = (jFirst << 6) + __builtin_ctzll(cand[jFirst]), last = (jLast << 6) + 63 - __builtin_clzll(cand[jLast]);
    for (long j = jFirst; j <= jLast; j++) px.valid[j] = px.clear[j] = px.colour[j] = px.adj1[j] = 0;
    // Depth-only results of the candidates (pixelAt), four at a time where AVX2 runs: over the
    // whole run of columns from the first candidate to the last, in fours from a multiple of 4
    // (every column costs less there than picking out the candidates); the candidates outside it
    // (the image's outer two columns and rows, a row's odd end) one by one.
    long simdFrom = 0, simdTo = 0;
#if defined(SR_LIFT_AVX2)
    if (avx2 && v >= 2 && v + 2 < height) {
      const long lo = 2 - base, hi = width - 2 - base;  // the columns - base it may cover: [lo, hi)
      simdFrom = first & ~3L;
      if (simdFrom < lo) simdFrom = (lo + 3) & ~3L;
      simdTo = simdFrom + ((last + 1 - simdFrom + 3) & ~3L);
      if (simdTo > hi) simdTo = simdFrom + ((hi - simdFrom) & ~3L);
      if (simdTo > simdFrom) {
        if constexpr (std::is_same<D, float>::value) pixelsAvx2(geo, d, MetreDepth{}, idRow, rs, nw, v, ry, simdFrom, simdTo, base, px);
        else if constexpr (std::is_same<D, uint16_t>::value) pixelsAvx2(geo, d, ScaledDepth{dscale}, idRow, rs, nw, v, ry, simdFrom, simdTo, base, px);
      }
      else simdTo = simdFrom;
    }
#endif
    for (long j = jFirst; j <= jLast; j++) {
      for (uint64_t bits = cand[j] & ~spanBits(j, simdFrom, simdTo); bits != 0; bits &= bits - 1) {
        const long i = (j << 6) + __builtin_ctzll(bits);
        pixelAt<D, L, kUnitScale>(geo, d, labels, id, bitAt(idRow, i), bitAt(near1, i), v, ry, base + i, i, px);
      }
    }
    const uint64_t* idBelow2 = v + 2 < height ? idRow + 2 * rs : nullptr;
    const uint8_t* rgbRow = rgb + v * rgbStep;
    for (long j = jFirst; j <= jLast; j++) {
      const uint64_t c = cand[j];
      if (c == 0) continue;
      // The tests by words: in range; the instance's pixels with an instance neighbour on their
      // surface (the others are islands: counted, dropped), the background candidates by
      // adjoins() below; not flying; not below the floor.
      const uint64_t own = c & px.valid[j] & idRow[j];
      const uint64_t mended = mend ? own : 0;
      // Mostly none: the count (a libgcc call without the popcnt instruction) only for some.
      if (const uint64_t lone = mended & ~px.adj1[j]) islands += __builtin_popcountll(lone);
      uint64_t keep = c & px.clear[j] & (~mended | px.adj1[j]);
      if (repair > 0) {
        for (uint64_t bits = keep & ~mended; bits != 0; bits &= bits - 1) {
          const int b = __builtin_ctzll(bits);
          const long i = (j << 6) + b;
          const double z = px.z[i];
          if (!adjoins(labels, ls, d, ds, dscale, base + i, v, id, z, 0.01 + 3 * noise1m * z * z, repair, width, height)) keep &= ~(1ull << b);
        }
      }
      n = emitPoints(keep, px, j << 6, xs, ys, zs, n, depthSum, lowest);
      // Contact evidence at the bottom edge, in the points' order (the first edgeCapacity count).
      for (uint64_t bits = idBelow2 != nullptr ? keep & ~idBelow2[j] : 0; bits != 0 && edges < edgeCapacity; bits &= bits - 1) {
        const long i = (j << 6) + __builtin_ctzll(bits);
        const long u = base + i;
        const long di = v * ds + u;
        const double z = px.z[i];
        const double z2 = static_cast<double>(d[di + 2 * ds]) * dscale;
        if (!(z2 > minZ && z2 < maxZ)) continue;
        // 0 support, 1 object, 2 floating, 3 hidden by a nearer object below it in the image.
        const double dz2 = z2 - z;
        const long below2 = labels[row + 2 * ls + u];
        uint8_t kind = below2 == 0 ? (dz2 < 0.07 ? 0 : 2) : dz2 > -0.02 ? (dz2 < 0.07 ? 1 : 2) : 3;
        // Past a strip of unlabelled pixels above the support (object_measurements.ts CONTACT_BAND).
        double zp = z;
        for (long k = 2; below2 == 0 && k <= 2 + kContactBand && v + k < height; k++) {
          const long below = labels[row + k * ls + u];
          if (below == id) break;
          const double zb = static_cast<double>(d[di + k * ds]) * dscale;
          if (!(zb > minZ && zb < maxZ) || std::fabs(zb - zp) > 0.03 + 0.03 * zb) break;
          if (below != 0) {
            const double dz = zb - z;
            kind = dz > -0.02 ? (dz < 0.07 ? 1 : 2) : 3;
            break;
          }
          const double up = r6 * rayX[u] + r7 * rayY[v + k] + r8;
          if (!(zb * up - f.supportZ > kUnlabelledObjectHeight + 3 * noise1m * zb * zb * std::fabs(up))) break;
          zp = zb;
        }
        edgeHeight[edges] = px.zf[i];
        edgeKind[edges++] = kind;
      }
      // Colour only from points clearly off the surface; the inner colour from the instance's
      // pixels that the reference's touches() finds away from touching surfaces (false where all
      // four pixels BLEED_REACH away are the instance's; else the depth tests, touchedAlong).
      const uint64_t tinted = keep & px.colour[j];
      if (tinted == 0) continue;
      const uint64_t left = shiftUp(idRow, j, static_cast<int>(kBleedReach)), right = shiftDown(idRow, j, nw, static_cast<int>(kBleedReach));
      const uint64_t up = idRow[j - kBleedReach * rs], down = idRow[j + kBleedReach * rs];
      const uint64_t interior = left & right & up & down;
      if (colorRun.pending > ColorRun::kMaxRun - 64) colorRun.flush(colors, red);
      if (innerRun.pending > ColorRun::kMaxRun - 64) innerRun.flush(inner, red);
      uint64_t innerBits = tinted & own & interior;
      if (const uint64_t edge = tinted & own & ~interior) {
        // Off the image a neighbour's label bit is zero: the bounds go in by masks too.
        constexpr long kFar = 1L << 40;
        const uint64_t awayL = ~left & spanBits(j, kBleedReach - base, kFar), awayR = ~right & spanBits(j, -kFar, width - kBleedReach - base);
        const uint64_t awayU = v >= kBleedReach ? ~up : 0, awayD = v + kBleedReach < height ? ~down : 0;
        const long at = v * ds + base + (j << 6);
        const double* z = px.z + (j << 6);
        uint64_t touched = touchedAlong(d, dscale, at, -1, z, edge, awayL, 0);
        touched = touchedAlong(d, dscale, at, 1, z, edge, awayR, touched);
        touched = touchedAlong(d, dscale, at, -ds, z, edge, awayU, touched);
        touched = touchedAlong(d, dscale, at, ds, z, edge, awayD, touched);
        innerBits |= edge & ~touched;
      }
      if (red == 0) addColours<false>(tinted, innerBits, rgbRow, base + (j << 6), colorRun, innerRun);
      else addColours<true>(tinted, innerBits, rgbRow, base + (j << 6), colorRun, innerRun);
    }
  }
  colorRun.flush(colors, red);
  innerRun.flush(inner, red);
  ws.islands = islands;
  const double liftRange = n > 0 ? depthSum / static_cast<double>(n) : 0;
  // Only the bottom edge near the object's lowest point says what it stands on.
  const double reach = 0.02 + 3 * noise1m * liftRange * liftRange;
  for (int k = 0; k < 4; k++) ws.contact[k] = 0;
  for (long i = 0; i < edges; i++) {
    if (edgeHeight[i] <= lowest + reach) ws.contact[edgeKind[i]]++;
  }
  return n;
}

// object_measurements.ts restingOnCode
int restingOnCode(double onSupport, double onObject, double floating, double occluded) {
  const double evidence = onSupport + onObject + floating;
  return occluded >= 5 && occluded >= evidence ? 3 : evidence < 5 ? 4 : onSupport >= 0.5 * evidence ? 0 : onObject >= 0.3 * evidence ? 1 : 2;
}

// One object: lifted into xs/ys/zs (scratch from 0), measured into o (MEASURE).
template <typename D, typename L>
void measureOne(Workspace& ws, const Frame& f, const double* p, const D* depth, const L* labels, const int32_t* count, long id,
                float* xs, float* ys, float* zs, double* o) {
  BoxContext ctx{p[kSupportZ], 4, p[kNoise1m], 0};
  Box3 b{0, 0, 0, 0, 0, 0};
  long points = f.dscale == 1 ? lift<D, L, true>(ws, f, depth, labels, id, count[id], xs, ys, zs) : lift<D, L, false>(ws, f, depth, labels, id, count[id], xs, ys, zs);
  o[kIslands] = static_cast<double>(ws.islands);
  if (static_cast<double>(points) < p[kMinPoints]) {
    o[kStatus] = 1;
    o[kPoints] = static_cast<double>(points);
    return;
  }
  const int rests = restingOnCode(ws.contact[0], ws.contact[1], ws.contact[2], ws.contact[3]);
  ctx.restingOn = rests;
  ctx.pixelAngle = (2 * static_cast<double>(ws.liftStep)) / p[kFocalSum];
  points = ws.boxes.estimate(xs, ys, zs, 0, points, ctx, b);
  o[kStatus] = 0;
  o[kPoints] = static_cast<double>(points);
  o[kCx] = b.cx;
  o[kCy] = b.cy;
  o[kCz] = b.cz;
  o[kSx] = b.sx;
  o[kSy] = b.sy;
  o[kSz] = b.sz;
  o[kResting] = ws.boxes.lastResting ? 1 : 0;
  o[kRestingOn] = rests;
  o[kLowest] = ws.boxes.lastLowest;
  o[kRejected] = static_cast<double>(ws.boxes.rejected);
  (ws.inner.pixels >= kMinInnerPixels ? ws.inner : ws.colors).brightestMean(o + kRed);
}

// This thread's scratch for the lift and the box estimator (grown, never shrunk), set for the frame.
Workspace& threadWorkspace(const double* p, size_t width) {
  thread_local Workspace ws;
  ws.boxes.setOptions(BoxOptions{p[kTrim], p[kRestingTolerance], p[kFlatCurvature], p[kTopFaceSpan]});
  // Bottom-edge pixels of one instance: a few per column at most (the reference's capacity).
  if (ws.edgeHeight.size() != width * 8) {
    ws.edgeHeight.assign(width * 8, 0.0f);
    ws.edgeKind.assign(width * 8, 0);
  }
  return ws;
}

// The helper thread's point scratch. The caller lifts into the JS arrays, which JS does not read
// after the call (perception.ts), so each thread lifts into its own.
struct HelperPoints {
  std::vector<float> xs, ys, zs;
  void reserve(size_t n) {
    if (xs.size() >= n) return;
    xs.resize(n);
    ys.resize(n);
    zs.resize(n);
  }
};

// A frame's objects shared by the caller and the helper thread (helper_thread.h): each claims the
// next object, largest pixel count first (so the last to finish is a small one), and writes its
// results at the object's index in `out`. The output is the serial loop's, value for value: an
// object's results depend only on the frame and the object, never on what its scratch held before.
template <typename D, typename L>
struct SharedObjects final : sr::helper::Job {
  const Frame& f;
  const double* p;
  const D* depth;
  const L* labels;
  const int32_t* count;
  const int32_t* ids;
  const long* order;  // object indices, largest first
  long n;
  float *xs, *ys, *zs;  // the caller's
  double* out;
  std::atomic<long> next{0};
  // Per thread (caller, helper): the object it could not finish (an allocation failed), else -1.
  long failed[2] = {-1, -1};

  SharedObjects(const Frame& f, const double* p, const D* depth, const L* labels, const int32_t* count, const int32_t* ids, const long* order,
                long n, float* xs, float* ys, float* zs, double* out)
      : f(f), p(p), depth(depth), labels(labels), count(count), ids(ids), order(order), n(n), xs(xs), ys(ys), zs(zs), out(out) {}

  void measure(Workspace& ws, long k, float* x, float* y, float* z) { measureOne(ws, f, p, depth, labels, count, ids[k], x, y, z, out + k * kStride); }

  void run(bool onHelper) noexcept override {
    long k = -1;
    try {
      Workspace& ws = threadWorkspace(p, static_cast<size_t>(f.width));
      float *x = xs, *y = ys, *z = zs;
      if (onHelper) {
        thread_local HelperPoints points;
        points.reserve(static_cast<size_t>(f.width) * static_cast<size_t>(f.height));
        x = points.xs.data();
        y = points.ys.data();
        z = points.zs.data();
      }
      for (long c; (c = next.fetch_add(1, std::memory_order_relaxed)) < n;) {
        k = order[c];
        measure(ws, k, x, y, z);
      }
    } catch (...) {
      // The objects it did not claim are left to the other thread or to finish().
      failed[onHelper ? 1 : 0] = k;
    }
  }

  // On the caller after runShared: what a failed thread left, where an exception surfaces as it
  // does in the serial loop.
  void finish() {
    Workspace& ws = threadWorkspace(p, static_cast<size_t>(f.width));
    for (long k : failed) {
      if (k >= 0) measure(ws, k, xs, ys, zs);
    }
    for (long c; (c = next.fetch_add(1, std::memory_order_relaxed)) < n;) measure(ws, order[c], xs, ys, zs);
  }
};

template <typename D, typename L>
void measureAll(const Frame& f, const double* p, const D* depth, const L* labels, const int32_t* count, const int32_t* ids, long n,
                float* xs, float* ys, float* zs, double* out, bool shared) {
  if (!shared || n < 2) {
    Workspace& ws = threadWorkspace(p, static_cast<size_t>(f.width));
    for (long k = 0; k < n; k++) measureOne(ws, f, p, depth, labels, count, ids[k], xs, ys, zs, out + k * kStride);
    return;
  }
  thread_local std::vector<long> order;
  order.resize(static_cast<size_t>(n));
  for (long k = 0; k < n; k++) order[static_cast<size_t>(k)] = k;
  std::stable_sort(order.begin(), order.end(), [&](long a, long b) { return count[ids[a]] > count[ids[b]]; });
  SharedObjects<D, L> job(f, p, depth, labels, count, ids, order.data(), n, xs, ys, zs, out);
  sr::helper::runShared(job);
  job.finish();
}

template <typename D>
void measureAllD(const Frame& f, const double* p, const D* depth, const ImageArg& labels, const int32_t* count, const int32_t* ids, long n,
                 float* xs, float* ys, float* zs, double* out, bool shared) {
  if (labels.type == Sample::kUint8) measureAll(f, p, depth, static_cast<const uint8_t*>(labels.data), count, ids, n, xs, ys, zs, out, shared);
  else measureAll(f, p, depth, static_cast<const uint16_t*>(labels.data), count, ids, n, xs, ys, zs, out, shared);
}

// measureObjects(params, depth, labels, rgb, rayX, rayY, ids, n, count, u0, u1, v0, v1, xs, ys, zs, out[, threads])
Napi::Value MeasureObjects(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const char* K = "measureObjects";
  auto pa = sr::typedArrayArg<double>(info, 0, K, "params", kParamsLength);
  double p[kParamsLength];
  std::memcpy(p, pa.data, sizeof p);
  ImageArg depth = imageArg(info, 1, K, "depth", true);
  ImageArg labels = imageArg(info, 2, K, "labels", false);
  auto rgb = sr::typedArrayArg<uint8_t>(info, 3, K, "rgb", 0, true);
  auto rayX = sr::typedArrayArg<double>(info, 4, K, "rayX", 0, true);
  auto rayY = sr::typedArrayArg<double>(info, 5, K, "rayY", 0, true);
  auto ids = sr::typedArrayArg<int32_t>(info, 6, K, "ids", 0, true);
  const long n = integerIn(env, numberArg(info, 7, K, "n"), 0, static_cast<long>(ids.length), K, "n");
  const char* extNames[5] = {"count", "u0", "u1", "v0", "v1"};
  const int32_t* ext[5];
  for (int i = 0; i < 5; i++) ext[i] = sr::typedArrayArg<int32_t>(info, 8 + i, K, extNames[i], kMaxLabel, true).data;

  Frame f;
  f.width = integerIn(env, p[kWidth], 1, kMaxSide, K, "width");
  f.height = integerIn(env, p[kHeight], 1, kMaxSide, K, "height");
  f.ds = integerIn(env, p[kDepthStride], f.width, kMaxSide * 4, K, "depth stride");
  f.dscale = finiteIn(env, p[kDepthScale], K, "depth scale");
  f.ls = integerIn(env, p[kLabelStride], f.width, kMaxSide * 4, K, "label stride");
  f.rgbStep = integerIn(env, p[kRgbStep], 3 * f.width, kMaxSide * 16, K, "rgb step");
  f.bgr = integerIn(env, p[kBgr], 0, 1, K, "bgr") == 1;
  f.repair = integerIn(env, p[kRepair], 0, 8, K, "repair");
  f.noise1m = finiteIn(env, p[kNoise1m], K, "noise1m");
  for (int i : {kFloorZ, kColorFloorZ, kMinDepth, kMaxDepth, kMaxPointsPerObject, kMinPoints}) {
    if (p[i] != p[i]) rangeFail(env, K, "params[" + std::to_string(i) + "] is NaN");
  }
  f.floorZ = p[kFloorZ];
  f.colorFloorZ = p[kColorFloorZ];
  f.supportZ = p[kSupportZ];
  f.minZ = p[kMinDepth];
  f.maxZ = p[kMaxDepth];
  f.maxPoints = p[kMaxPointsPerObject];
  if (p[kSupportZ] == p[kSupportZ]) finiteIn(env, p[kSupportZ], K, "supportZ");
  if (!(finiteIn(env, p[kFocalSum], K, "fx + fy") > 0)) rangeFail(env, K, "fx + fy must be positive");
  for (int i = kTrim; i <= kTopFaceSpan; i++) finiteIn(env, p[i], K, "box option");
  allFinite(env, p + kRotation, 9, K, "rotation");
  for (int i = 0; i < 9; i++) f.r[i] = p[kRotation + i];

  const size_t w = static_cast<size_t>(f.width), h = static_cast<size_t>(f.height);
  holds(env, depth.length, static_cast<size_t>(f.ds) * (h - 1) + w, K, "depth");
  holds(env, labels.length, static_cast<size_t>(f.ls) * (h - 1) + w, K, "labels");
  holds(env, rgb.length, static_cast<size_t>(f.rgbStep) * (h - 1) + 3 * w, K, "rgb");
  holds(env, rayX.length, w, K, "rayX");
  holds(env, rayY.length, h, K, "rayY");
  allFinite(env, rayX.data, w, K, "rayX");
  allFinite(env, rayY.data, h, K, "rayY");
  auto xs = sr::typedArrayArg<float>(info, 13, K, "xs", w * h, true);
  auto ys = sr::typedArrayArg<float>(info, 14, K, "ys", w * h, true);
  auto zs = sr::typedArrayArg<float>(info, 15, K, "zs", w * h, true);
  auto out = sr::typedArrayArg<double>(info, 16, K, "out", static_cast<size_t>(n) * kStride, true);
  for (long k = 0; k < n; k++) {
    if (ids.data[k] < 0 || ids.data[k] >= kMaxLabel) rangeFail(env, K, "ids[" + std::to_string(k) + "] = " + std::to_string(ids.data[k]) + " is not a label id (0..65535)");
  }
  f.rayX = rayX.data;
  f.rayY = rayY.data;
  f.rgb = rgb.data;
  f.u0 = ext[1];
  f.u1 = ext[2];
  f.v0 = ext[3];
  f.v1 = ext[4];

  // threads: 2 lets the helper thread take part (helper_thread.h); absent or 1, this thread alone.
  long threads = 1;
  if (info.Length() > 17 && !info[17].IsUndefined()) threads = integerIn(env, numberArg(info, 17, K, "threads"), 1, 2, K, "threads");
  const bool shared = threads == 2;
  if (depth.type == Sample::kFloat32) measureAllD(f, p, static_cast<const float*>(depth.data), labels, ext[0], ids.data, n, xs.data, ys.data, zs.data, out.data, shared);
  else measureAllD(f, p, static_cast<const uint16_t*>(depth.data), labels, ext[0], ids.data, n, xs.data, ys.data, zs.data, out.data, shared);
  return env.Undefined();
}

void InitPerceptionObjects(Napi::Env env, Napi::Object exports) {
  exports.Set("measureObjects", Napi::Function::New(env, MeasureObjects, "measureObjects"));
}

}  // namespace

SR_KERNEL_FAMILY(perception_objects, InitPerceptionObjects);
