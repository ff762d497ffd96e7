// Perception's per-frame kernels over whole images and the support's samples (kernel family
// "perception_frame"): ports of the TypeScript references named at each function, operation for
// operation, so results equal theirs bit for bit (see perception_math.h for where V8's math is
// spelled out). Zero copy over the caller's typed arrays; nothing allocated per frame.
// Parameter blocks follow the layouts of the TS stage files (change both together).
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif
// x86-64 with GCC or Clang: depthNoiseAt1m's loop four samples at a time with AVX2, chosen at run
// time (the addon is built for baseline x86-64; the target adds no FMA, so nothing is contracted).
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define SR_FRAME_AVX2 1
#include <immintrin.h>
#endif

#include "kernels.h"
#include "perception_args.h"
#include "perception_math.h"
#include "perception_sort.h"

namespace {

using sr::perception::ImageArg;
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

#if defined(SR_FRAME_AVX2)
bool haveAvx2() {
  static const bool yes = __builtin_cpu_supports("avx2");
  return yes;
}
#endif

// ---------------------------------------------------------------------------------------------
// labelExtents (src/perception/label_extents.ts labelExtentsTs, sortPresent)

struct Extents {
  int32_t* count;
  int32_t* u0;
  int32_t* u1;
  int32_t* v0;
  int32_t* v1;
  int32_t* present;
};

/**
 * The first u' >= u, in steps of 64 bytes of labels while a whole step fits before `width`,
 * whose 64 bytes are not all zero (one test a cache line: twice the words of the 4-word test
 * below, which then finds the run inside it).
 */
template <typename L>
inline long skipZeroBlocks(const L* row, long u, long width) {
#if defined(__SSE2__)
  constexpr long kBlock = 64 / static_cast<long>(sizeof(L));
  const __m128i zero = _mm_setzero_si128();
  while (u + kBlock <= width) {
    const __m128i* p = reinterpret_cast<const __m128i*>(row + u);
    const __m128i any = _mm_or_si128(_mm_or_si128(_mm_loadu_si128(p), _mm_loadu_si128(p + 1)), _mm_or_si128(_mm_loadu_si128(p + 2), _mm_loadu_si128(p + 3)));
    if (_mm_movemask_epi8(_mm_cmpeq_epi8(any, zero)) != 0xFFFF) break;
    u += kBlock;
  }
#endif
  return u;
}

template <typename L>
long scanLabels(const L* labels, long stride, long width, long height, Extents e) {
  long size = 0;
  // Most of a mask is background: skip runs of zero labels a machine word at a time. An
  // instance's pixels come in runs along a row: each run is counted and bounded at once (the
  // same counts and extents as pixel by pixel; ids still appear in raster order).
  constexpr long kPerWord = static_cast<long>(sizeof(uint64_t) / sizeof(L));
  for (long v = 0; v < height; v++) {
    const L* row = labels + v * stride;
    long u = 0;
    while (u < width) {
      u = skipZeroBlocks(row, u, width);
      // Four words at a time (one test), then one.
      while (u + 4 * kPerWord <= width) {
        uint64_t w[4];
        std::memcpy(w, row + u, sizeof w);
        if ((w[0] | w[1] | w[2] | w[3]) != 0) break;
        u += 4 * kPerWord;
      }
      if (u + kPerWord <= width) {
        uint64_t word;
        std::memcpy(&word, row + u, sizeof word);
        if (word == 0) {
          u += kPerWord;
          continue;
        }
#if defined(__GNUC__) && defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
        // Straight to the word's first labelled pixel (its lowest non-zero bytes): the zero
        // pixels before a run cost a pass through the tests above each, ~5 ns a run's.
        u += static_cast<long>(__builtin_ctzll(word)) / static_cast<long>(8 * sizeof(L));
#endif
      }
      if (u >= width) break;
      const int32_t id = row[u];
      if (id == 0) {
        u++;
        continue;
      }
      const long from = u;
      u++;
      // The run: whole words of this id, then pixel by pixel.
      const uint64_t same = static_cast<uint64_t>(static_cast<L>(id)) * (~0ull / ((1ull << (8 * sizeof(L) - 1) << 1) - 1));
      while (u + kPerWord <= width) {
        uint64_t word;
        std::memcpy(&word, row + u, sizeof word);
        if (word != same) {
#if defined(__GNUC__) && defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
          // The run ends at the word's first pixel of another id (its lowest differing bytes).
          u += static_cast<long>(__builtin_ctzll(word ^ same)) / static_cast<long>(8 * sizeof(L));
#endif
          break;
        }
        u += kPerWord;
      }
      while (u < width && row[u] == id) u++;
      const int32_t last = static_cast<int32_t>(u - 1);
      if (e.count[id] == 0) {
        e.present[size++] = id;
        e.u0[id] = static_cast<int32_t>(from);
        e.u1[id] = last;
        e.v0[id] = static_cast<int32_t>(v);
        e.v1[id] = static_cast<int32_t>(v);
      } else {
        if (from < e.u0[id]) e.u0[id] = static_cast<int32_t>(from);
        if (last > e.u1[id]) e.u1[id] = last;
        e.v1[id] = static_cast<int32_t>(v);
      }
      e.count[id] += static_cast<int32_t>(u - from);
    }
  }
  return size;
}

void sortPresent(Extents e, long size) {
  if (size <= 64) {
    for (long i = 1; i < size; i++) {
      const int32_t id = e.present[i];
      long j = i - 1;
      while (j >= 0 && e.present[j] > id) {
        e.present[j + 1] = e.present[j];
        j--;
      }
      e.present[j + 1] = id;
    }
    return;
  }
  long k = 0;
  for (long id = 1; id < kMaxLabel && k < size; id++) {
    if (e.count[id] != 0) e.present[k++] = static_cast<int32_t>(id);
  }
}

// labelExtents(labels, stride, width, height, count, u0, u1, v0, v1, present): ids present
Napi::Value LabelExtents(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const char* K = "labelExtents";
  ImageArg labels = imageArg(info, 0, K, "labels", false);
  const long stride = integerIn(env, numberArg(info, 1, K, "stride"), 1, kMaxSide * 4, K, "stride");
  const long width = integerIn(env, numberArg(info, 2, K, "width"), 1, kMaxSide, K, "width");
  const long height = integerIn(env, numberArg(info, 3, K, "height"), 1, kMaxSide, K, "height");
  if (stride < width) rangeFail(env, K, "stride " + std::to_string(stride) + " is less than the width " + std::to_string(width));
  holds(env, labels.length, static_cast<size_t>(stride * (height - 1) + width), K, "labels");
  Extents e;
  const char* names[6] = {"count", "u0", "u1", "v0", "v1", "present"};
  int32_t** fields[6] = {&e.count, &e.u0, &e.u1, &e.v0, &e.v1, &e.present};
  for (int i = 0; i < 6; i++) *fields[i] = sr::typedArrayArg<int32_t>(info, 4 + i, K, names[i], kMaxLabel, true).data;
  const long size = labels.type == Sample::kUint8
      ? scanLabels(static_cast<const uint8_t*>(labels.data), stride, width, height, e)
      : scanLabels(static_cast<const uint16_t*>(labels.data), stride, width, height, e);
  sortPresent(e, size);
  return Napi::Number::New(env, static_cast<double>(size));
}

// ---------------------------------------------------------------------------------------------
// backgroundSamples (src/perception/support_samples.ts backgroundSamplesTs, SAMPLE_PARAMS)

enum SampleParams { kSpDepthStride = 0, kSpDepthScale, kSpLabelStride, kSpU0, kSpU1, kSpV0, kSpV1, kSpStride, kSpMinDepth, kSpMaxDepth, kSpLength };

template <typename D, typename L>
long sampleGrid(const D* depth, const L* labels, const double* rayX, const double* rayY, long ds, double dscale, long ls,
                long pu0, long pu1, long pv0, long pv1, long stride, double minZ, double maxZ, float* out, int32_t* counts) {
  const bool instanceMode = ls > 0;
  long ns = 0, valid = 0;
  for (long v = pv0 + (stride >> 1); v <= pv1; v += stride) {
    const double ry = rayY[v];
    for (long u = pu0 + (stride >> 1); u <= pu1; u += stride) {
      const double z = static_cast<double>(depth[v * ds + u]) * dscale;
      if (!(z > minZ && z < maxZ)) continue;
      valid++;
      if (instanceMode && labels[v * ls + u] != 0) continue;
      out[ns * 3] = static_cast<float>(rayX[u] * z);
      out[ns * 3 + 1] = static_cast<float>(ry * z);
      out[ns * 3 + 2] = static_cast<float>(z);
      ns++;
    }
  }
  counts[0] = static_cast<int32_t>(ns);
  counts[1] = static_cast<int32_t>(valid);
  return ns;
}

template <typename D>
long sampleGridD(const D* depth, const ImageArg& labels, const double* rayX, const double* rayY, long ds, double dscale, long ls,
                 long pu0, long pu1, long pv0, long pv1, long stride, double minZ, double maxZ, float* out, int32_t* counts) {
  if (labels.type == Sample::kUint8) {
    return sampleGrid(depth, static_cast<const uint8_t*>(labels.data), rayX, rayY, ds, dscale, ls, pu0, pu1, pv0, pv1, stride, minZ, maxZ, out, counts);
  }
  return sampleGrid(depth, static_cast<const uint16_t*>(labels.data), rayX, rayY, ds, dscale, ls, pu0, pu1, pv0, pv1, stride, minZ, maxZ, out, counts);
}

// backgroundSamples(depth, labels, rayX, rayY, params, out, counts): samples written
Napi::Value BackgroundSamples(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const char* K = "backgroundSamples";
  ImageArg depth = imageArg(info, 0, K, "depth", true);
  ImageArg labels = imageArg(info, 1, K, "labels", false);
  auto rayX = sr::typedArrayArg<double>(info, 2, K, "rayX", 0, true);
  auto rayY = sr::typedArrayArg<double>(info, 3, K, "rayY", 0, true);
  auto p = sr::typedArrayArg<double>(info, 4, K, "params", kSpLength);
  auto out = sr::typedArrayArg<float>(info, 5, K, "out", 0, true);
  auto counts = sr::typedArrayArg<int32_t>(info, 6, K, "counts", 2, true);
  const long ds = integerIn(env, p.data[kSpDepthStride], 1, kMaxSide * 4, K, "depth stride");
  const double dscale = finiteIn(env, p.data[kSpDepthScale], K, "depth scale");
  const long ls = integerIn(env, p.data[kSpLabelStride], 0, kMaxSide * 4, K, "label stride");
  const long pu0 = integerIn(env, p.data[kSpU0], 0, kMaxSide - 1, K, "u0");
  const long pu1 = integerIn(env, p.data[kSpU1], 0, kMaxSide - 1, K, "u1");
  const long pv0 = integerIn(env, p.data[kSpV0], 0, kMaxSide - 1, K, "v0");
  const long pv1 = integerIn(env, p.data[kSpV1], 0, kMaxSide - 1, K, "v1");
  const long stride = integerIn(env, p.data[kSpStride], 1, kMaxSide, K, "stride");
  const double minZ = p.data[kSpMinDepth], maxZ = p.data[kSpMaxDepth];
  counts.data[0] = 0;
  counts.data[1] = 0;
  if (pu1 < pu0 || pv1 < pv0) return Napi::Number::New(env, 0);
  // The grid's last row and column: every index below stays within them.
  const long lastV = pv0 + (stride >> 1) + ((pv1 - pv0 - (stride >> 1)) / stride) * stride;
  const long lastU = pu0 + (stride >> 1) + ((pu1 - pu0 - (stride >> 1)) / stride) * stride;
  if (pv0 + (stride >> 1) > pv1 || pu0 + (stride >> 1) > pu1) return Napi::Number::New(env, 0);
  if (lastU >= ds) rangeFail(env, K, "the region reaches past the depth row stride");
  holds(env, depth.length, static_cast<size_t>(lastV * ds + lastU + 1), K, "depth");
  if (ls > 0) {
    if (lastU >= ls) rangeFail(env, K, "the region reaches past the label row stride");
    holds(env, labels.length, static_cast<size_t>(lastV * ls + lastU + 1), K, "labels");
  }
  holds(env, rayX.length, static_cast<size_t>(lastU + 1), K, "rayX");
  holds(env, rayY.length, static_cast<size_t>(lastV + 1), K, "rayY");
  const size_t cells = static_cast<size_t>((lastV - pv0 - (stride >> 1)) / stride + 1) * static_cast<size_t>((lastU - pu0 - (stride >> 1)) / stride + 1);
  holds(env, out.length, 3 * cells, K, "out");
  const long ns = depth.type == Sample::kFloat32
      ? sampleGridD(static_cast<const float*>(depth.data), labels, rayX.data, rayY.data, ds, dscale, ls, pu0, pu1, pv0, pv1, stride, minZ, maxZ, out.data, counts.data)
      : sampleGridD(static_cast<const uint16_t*>(depth.data), labels, rayX.data, rayY.data, ds, dscale, ls, pu0, pu1, pv0, pv1, stride, minZ, maxZ, out.data, counts.data);
  return Napi::Number::New(env, static_cast<double>(ns));
}

// ---------------------------------------------------------------------------------------------
// Plane kernels (src/perception/support_plane.ts countInliers, refinePlane, ransacPlane;
// src/geometry/symmetric3.ts smallestEigenvector)

#if defined(SR_FRAME_AVX2)
// The plane kernels four samples at a time (AVX2): each sample's distance in its own lane by the
// scalar code's operations, and refinePlane's sums kept as vectors of accumulators (sx sy sz;
// xx xy xz yy and yz zz), each lane adding the samples one by one in the scalar order, an
// outlier as +0.0. A sum that starts at +0 is never -0, so adding +0 leaves it as it is (NaN and
// infinities too): the same sums bit for bit, with a third of the scalar loop's instructions.

/** Samples p[0 .. 12) (four xyz triples) as doubles, one vector per coordinate. */
__attribute__((target("avx2"))) inline void soa4(const float* p, __m256d& x, __m256d& y, __m256d& z) {
  const __m128 f0 = _mm_loadu_ps(p), f1 = _mm_loadu_ps(p + 4), f2 = _mm_loadu_ps(p + 8);
  const __m128 xs = _mm_shuffle_ps(f0, _mm_shuffle_ps(f1, f2, _MM_SHUFFLE(1, 1, 2, 2)), _MM_SHUFFLE(2, 0, 3, 0));
  const __m128 ys = _mm_shuffle_ps(_mm_shuffle_ps(f0, f1, _MM_SHUFFLE(0, 0, 1, 1)), _mm_shuffle_ps(f1, f2, _MM_SHUFFLE(2, 2, 3, 3)), _MM_SHUFFLE(2, 0, 2, 0));
  const __m128 zs = _mm_shuffle_ps(_mm_shuffle_ps(f0, f1, _MM_SHUFFLE(1, 1, 2, 2)), _mm_shuffle_ps(f2, f2, _MM_SHUFFLE(3, 3, 0, 0)), _MM_SHUFFLE(2, 0, 2, 0));
  x = _mm256_cvtps_pd(xs);
  y = _mm256_cvtps_pd(ys);
  z = _mm256_cvtps_pd(zs);
}

struct PlaneLanes {
  __m256d nx, ny, nz, d, t, mt;
  __attribute__((target("avx2"))) PlaneLanes(double pnx, double pny, double pnz, double pd, double threshold)
      : nx(_mm256_set1_pd(pnx)), ny(_mm256_set1_pd(pny)), nz(_mm256_set1_pd(pnz)), d(_mm256_set1_pd(pd)), t(_mm256_set1_pd(threshold)), mt(_mm256_set1_pd(-threshold)) {}
  /** All-ones lanes for the inliers: nx * x + ny * y + nz * z + d within (-threshold, threshold). */
  __attribute__((target("avx2"))) __m256d inliers(__m256d x, __m256d y, __m256d z) const {
    const __m256d dist = _mm256_add_pd(_mm256_add_pd(_mm256_add_pd(_mm256_mul_pd(nx, x), _mm256_mul_pd(ny, y)), _mm256_mul_pd(nz, z)), d);
    return _mm256_and_pd(_mm256_cmp_pd(dist, t, _CMP_LT_OQ), _mm256_cmp_pd(dist, mt, _CMP_GT_OQ));
  }
};

/** countInliers over samples [0, *next): returns the count, *next the first sample not done. */
__attribute__((target("avx2"))) long countInliersAvx2(const float* pts, long n, double nx, double ny, double nz, double d, double threshold, long* next) {
  const PlaneLanes plane(nx, ny, nz, d, threshold);
  long count = 0, i = 0;
  for (; i + 3 < n; i += 4) {
    __m256d x, y, z;
    soa4(pts + i * 3, x, y, z);
    count += __builtin_popcount(static_cast<unsigned>(_mm256_movemask_pd(plane.inliers(x, y, z))));
  }
  *next = i;
  return count;
}

/** refinePlane's first loop over samples [0, returned): the inlier count and sums into c, s[3]. */
__attribute__((target("avx2"))) long refineSumsAvx2(const float* pts, long n, double pnx, double pny, double pnz, double pd, double threshold, long* c, double* s) {
  const PlaneLanes plane(pnx, pny, pnz, pd, threshold);
  const __m256d zero = _mm256_setzero_pd();
  __m256d acc = zero;
  long count = 0, i = 0;
  for (; i + 3 < n; i += 4) {
    __m256d x, y, z;
    soa4(pts + i * 3, x, y, z);
    const __m256d in = plane.inliers(x, y, z);
    count += __builtin_popcount(static_cast<unsigned>(_mm256_movemask_pd(in)));
    x = _mm256_and_pd(in, x);
    y = _mm256_and_pd(in, y);
    z = _mm256_and_pd(in, z);
    // Transposed to one (x, y, z, 0) per sample, added in sample order.
    const __m256d t0 = _mm256_unpacklo_pd(x, y), t1 = _mm256_unpackhi_pd(x, y), t2 = _mm256_unpacklo_pd(z, zero), t3 = _mm256_unpackhi_pd(z, zero);
    acc = _mm256_add_pd(acc, _mm256_permute2f128_pd(t0, t2, 0x20));
    acc = _mm256_add_pd(acc, _mm256_permute2f128_pd(t1, t3, 0x20));
    acc = _mm256_add_pd(acc, _mm256_permute2f128_pd(t0, t2, 0x31));
    acc = _mm256_add_pd(acc, _mm256_permute2f128_pd(t1, t3, 0x31));
  }
  double a[4];
  _mm256_storeu_pd(a, acc);
  *c = count;
  s[0] = a[0];
  s[1] = a[1];
  s[2] = a[2];
  return i;
}

/** refinePlane's second loop over samples [0, returned): the inliers' moments xx xy xz yy yz zz into m[6]. */
__attribute__((target("avx2"))) long refineMomentsAvx2(const float* pts, long n, double pnx, double pny, double pnz, double pd, double threshold,
                                                      double mx, double my, double mz, double* m) {
  const PlaneLanes plane(pnx, pny, pnz, pd, threshold);
  const __m256d vmx = _mm256_set1_pd(mx), vmy = _mm256_set1_pd(my), vmz = _mm256_set1_pd(mz);
  __m256d accA = _mm256_setzero_pd();
  __m128d accB = _mm_setzero_pd();
  long i = 0;
  for (; i + 3 < n; i += 4) {
    __m256d x, y, z;
    soa4(pts + i * 3, x, y, z);
    const __m256d in = plane.inliers(x, y, z);
    const __m256d dx = _mm256_sub_pd(x, vmx), dy = _mm256_sub_pd(y, vmy), dz = _mm256_sub_pd(z, vmz);
    const __m256d pxx = _mm256_and_pd(in, _mm256_mul_pd(dx, dx)), pxy = _mm256_and_pd(in, _mm256_mul_pd(dx, dy));
    const __m256d pxz = _mm256_and_pd(in, _mm256_mul_pd(dx, dz)), pyy = _mm256_and_pd(in, _mm256_mul_pd(dy, dy));
    const __m256d pyz = _mm256_and_pd(in, _mm256_mul_pd(dy, dz)), pzz = _mm256_and_pd(in, _mm256_mul_pd(dz, dz));
    // (xx xy xz yy) per sample: a 4x4 transpose; (yz zz) per sample: pairs; added in sample order.
    const __m256d t0 = _mm256_unpacklo_pd(pxx, pxy), t1 = _mm256_unpackhi_pd(pxx, pxy), t2 = _mm256_unpacklo_pd(pxz, pyy), t3 = _mm256_unpackhi_pd(pxz, pyy);
    const __m256d u0 = _mm256_unpacklo_pd(pyz, pzz), u1 = _mm256_unpackhi_pd(pyz, pzz);
    accA = _mm256_add_pd(accA, _mm256_permute2f128_pd(t0, t2, 0x20));
    accB = _mm_add_pd(accB, _mm256_castpd256_pd128(u0));
    accA = _mm256_add_pd(accA, _mm256_permute2f128_pd(t1, t3, 0x20));
    accB = _mm_add_pd(accB, _mm256_castpd256_pd128(u1));
    accA = _mm256_add_pd(accA, _mm256_permute2f128_pd(t0, t2, 0x31));
    accB = _mm_add_pd(accB, _mm256_extractf128_pd(u0, 1));
    accA = _mm256_add_pd(accA, _mm256_permute2f128_pd(t1, t3, 0x31));
    accB = _mm_add_pd(accB, _mm256_extractf128_pd(u1, 1));
  }
  _mm256_storeu_pd(m, accA);
  _mm_storeu_pd(m + 4, accB);
  return i;
}
#endif

long countInliers(const float* pts, long n, double nx, double ny, double nz, double d, double threshold) {
  long count = 0, i0 = 0;
#if defined(SR_FRAME_AVX2)
  if (haveAvx2()) count = countInliersAvx2(pts, n, nx, ny, nz, d, threshold, &i0);
#endif
  for (long i = i0 * 3; i < n * 3; i += 3) {
    const double dist = nx * pts[i] + ny * pts[i + 1] + nz * pts[i + 2] + d;
    if (dist < threshold && dist > -threshold) count++;
  }
  return count;
}

void smallestEigenvector(double a00, double a01, double a02, double a11, double a12, double a22, double out[3]) {
  double a[9] = {a00, a01, a02, a01, a11, a12, a02, a12, a22};
  double v[9] = {1, 0, 0, 0, 1, 0, 0, 0, 1};
  static const int pairs[3][2] = {{0, 1}, {0, 2}, {1, 2}};
  for (int sweep = 0; sweep < 12; sweep++) {
    const double off = a[1] * a[1] + a[2] * a[2] + a[5] * a[5];
    if (off < 1e-30) break;
    for (const auto& pq : pairs) {
      const int p = pq[0], q = pq[1];
      const double apq = a[p * 3 + q];
      if (std::fabs(apq) < 1e-300) continue;
      const double app = a[p * 3 + p];
      const double aqq = a[q * 3 + q];
      const double theta = (aqq - app) / (2 * apq);
      // Math.sign(theta || 1): 0, -0 and NaN count as 1.
      const double thetaOr1 = (theta == 0 || theta != theta) ? 1.0 : theta;
      const double t = (thetaOr1 > 0 ? 1.0 : -1.0) / (std::fabs(theta) + std::sqrt(theta * theta + 1));
      const double c = 1 / std::sqrt(t * t + 1);
      const double s = t * c;
      for (int k = 0; k < 3; k++) {
        const double akp = a[k * 3 + p];
        const double akq = a[k * 3 + q];
        a[k * 3 + p] = c * akp - s * akq;
        a[k * 3 + q] = s * akp + c * akq;
      }
      for (int k = 0; k < 3; k++) {
        const double apk = a[p * 3 + k];
        const double aqk = a[q * 3 + k];
        a[p * 3 + k] = c * apk - s * aqk;
        a[q * 3 + k] = s * apk + c * aqk;
      }
      for (int k = 0; k < 3; k++) {
        const double vkp = v[k * 3 + p];
        const double vkq = v[k * 3 + q];
        v[k * 3 + p] = c * vkp - s * vkq;
        v[k * 3 + q] = s * vkp + c * vkq;
      }
    }
  }
  int m = 0;
  if (a[4] < a[m * 4]) m = 1;
  if (a[8] < a[m * 4]) m = 2;
  out[0] = v[m];
  out[1] = v[3 + m];
  out[2] = v[6 + m];
}

long refinePlane(const float* pts, long n, double pnx, double pny, double pnz, double pd, double threshold, double* out) {
  long c = 0;
  double sx = 0, sy = 0, sz = 0;
  long i0 = 0;
#if defined(SR_FRAME_AVX2)
  if (haveAvx2()) {
    double s[3];
    i0 = refineSumsAvx2(pts, n, pnx, pny, pnz, pd, threshold, &c, s);
    sx = s[0];
    sy = s[1];
    sz = s[2];
  }
#endif
  for (long i = i0 * 3; i < n * 3; i += 3) {
    const double dist = pnx * pts[i] + pny * pts[i + 1] + pnz * pts[i + 2] + pd;
    if (dist < threshold && dist > -threshold) {
      c++;
      sx += pts[i];
      sy += pts[i + 1];
      sz += pts[i + 2];
    }
  }
  if (c < 3) return 0;
  const double cd = static_cast<double>(c);
  const double mx = sx / cd, my = sy / cd, mz = sz / cd;
  double xx = 0, xy = 0, xz = 0, yy = 0, yz = 0, zz = 0;
  i0 = 0;
#if defined(SR_FRAME_AVX2)
  if (haveAvx2()) {
    double m[6];
    i0 = refineMomentsAvx2(pts, n, pnx, pny, pnz, pd, threshold, mx, my, mz, m);
    xx = m[0];
    xy = m[1];
    xz = m[2];
    yy = m[3];
    yz = m[4];
    zz = m[5];
  }
#endif
  for (long i = i0 * 3; i < n * 3; i += 3) {
    const double dist = pnx * pts[i] + pny * pts[i + 1] + pnz * pts[i + 2] + pd;
    if (dist < threshold && dist > -threshold) {
      const double dx = pts[i] - mx, dy = pts[i + 1] - my, dz = pts[i + 2] - mz;
      xx += dx * dx;
      xy += dx * dy;
      xz += dx * dz;
      yy += dy * dy;
      yz += dy * dz;
      zz += dz * dz;
    }
  }
  double e[3];
  smallestEigenvector(xx, xy, xz, yy, yz, zz, e);
  double nx = e[0], ny = e[1], nz = e[2];
  if (nx * pnx + ny * pny + nz * pnz < 0) {
    nx = -nx;
    ny = -ny;
    nz = -nz;
  }
  const double d = -(nx * mx + ny * my + nz * mz);
  if (d <= 0) return 0;
  out[0] = nx;
  out[1] = ny;
  out[2] = nz;
  out[3] = d;
  return c;
}

double nextRandom(uint32_t* state) {
  uint32_t x = *state;
  x ^= x << 13;
  x ^= x >> 17;
  x ^= x << 5;
  *state = x;
  return static_cast<double>(x) / 4294967296.0;
}

long ransacPlane(const float* pts, long n, uint32_t* seed, double threshold, long maxIterations, double confidence, double* out) {
  long bestCount = 0;
  double needed = static_cast<double>(maxIterations);
  const double dn = static_cast<double>(n);
  for (long it = 0; it < needed && it < maxIterations; it++) {
    const long i = static_cast<long>(std::floor(nextRandom(seed) * dn)) * 3;
    const long j = static_cast<long>(std::floor(nextRandom(seed) * dn)) * 3;
    const long k = static_cast<long>(std::floor(nextRandom(seed) * dn)) * 3;
    const double ux = static_cast<double>(pts[j]) - pts[i], uy = static_cast<double>(pts[j + 1]) - pts[i + 1], uz = static_cast<double>(pts[j + 2]) - pts[i + 2];
    const double vx = static_cast<double>(pts[k]) - pts[i], vy = static_cast<double>(pts[k + 1]) - pts[i + 1], vz = static_cast<double>(pts[k + 2]) - pts[i + 2];
    double nx = uy * vz - uz * vy, ny = uz * vx - ux * vz, nz = ux * vy - uy * vx;
    const double len = pjs::hypot(nx, ny, nz);
    if (len < 1e-9) continue;
    nx /= len;
    ny /= len;
    nz /= len;
    double d = -(nx * pts[i] + ny * pts[i + 1] + nz * pts[i + 2]);
    if (d < 0) {
      nx = -nx;
      ny = -ny;
      nz = -nz;
      d = -d;
    }
    const long count = countInliers(pts, n, nx, ny, nz, d, threshold);
    if (count > bestCount) {
      bestCount = count;
      out[0] = nx;
      out[1] = ny;
      out[2] = nz;
      out[3] = d;
      const double w = static_cast<double>(count) / dn;
      const double p = 1 - w * w * w;
      needed = p <= 1e-12 ? 0 : std::ceil(pjs::log(1 - confidence) / pjs::log(p));
    }
  }
  return bestCount;
}

/** The sample count argument and the samples holding that many xyz triples. */
long sampleCount(const Napi::CallbackInfo& info, const char* K, size_t ptsIndex, size_t nIndex, const float** pts) {
  Napi::Env env = info.Env();
  auto a = sr::typedArrayArg<float>(info, ptsIndex, K, "pts", 0, true);
  const long n = integerIn(env, numberArg(info, nIndex, K, "n"), 0, 1L << 28, K, "n");
  holds(env, a.length, static_cast<size_t>(n) * 3, K, "pts");
  *pts = a.data;
  return n;
}

// countPlaneInliers(pts, n, nx, ny, nz, d, threshold)
Napi::Value CountPlaneInliers(const Napi::CallbackInfo& info) {
  const char* K = "countPlaneInliers";
  const float* pts;
  const long n = sampleCount(info, K, 0, 1, &pts);
  const double nx = numberArg(info, 2, K, "nx"), ny = numberArg(info, 3, K, "ny"), nz = numberArg(info, 4, K, "nz");
  const double d = numberArg(info, 5, K, "d"), threshold = numberArg(info, 6, K, "threshold");
  return Napi::Number::New(info.Env(), static_cast<double>(countInliers(pts, n, nx, ny, nz, d, threshold)));
}

// refinePlane(pts, n, nx, ny, nz, d, threshold, out)
Napi::Value RefinePlane(const Napi::CallbackInfo& info) {
  const char* K = "refinePlane";
  const float* pts;
  const long n = sampleCount(info, K, 0, 1, &pts);
  const double nx = numberArg(info, 2, K, "nx"), ny = numberArg(info, 3, K, "ny"), nz = numberArg(info, 4, K, "nz");
  const double d = numberArg(info, 5, K, "d"), threshold = numberArg(info, 6, K, "threshold");
  auto out = sr::typedArrayArg<double>(info, 7, K, "out", 4, true);
  return Napi::Number::New(info.Env(), static_cast<double>(refinePlane(pts, n, nx, ny, nz, d, threshold, out.data)));
}

// ransacPlane(pts, n, seed, threshold, maxIterations, confidence, out)
Napi::Value RansacPlane(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const char* K = "ransacPlane";
  const float* pts;
  const long n = sampleCount(info, K, 0, 1, &pts);
  auto seed = sr::typedArrayArg<uint32_t>(info, 2, K, "seed", 1, true);
  const double threshold = numberArg(info, 3, K, "threshold");
  const long maxIterations = integerIn(env, numberArg(info, 4, K, "maxIterations"), 0, 1L << 24, K, "maxIterations");
  const double confidence = numberArg(info, 5, K, "confidence");
  auto out = sr::typedArrayArg<double>(info, 6, K, "out", 4, true);
  // Indices are drawn in [0, n): none exist without samples.
  if (n == 0) return Napi::Number::New(env, 0);
  return Napi::Number::New(env, static_cast<double>(ransacPlane(pts, n, seed.data, threshold, maxIterations, confidence, out.data)));
}

// ---------------------------------------------------------------------------------------------
// depthNoiseAt1m (src/perception/depth_noise.ts)

/**
 * Math.hypot(x, y, z) for a finite largest magnitude, as V8 computes it (js::hypot): the term
 * of the largest magnitude is (max / max)^2 = 1 exactly, so it skips that division.
 */
inline double hypot3(double x, double y, double z) {
  const double ax = std::fabs(x), ay = std::fabs(y), az = std::fabs(z);
  double max = ax > ay ? ax : ay;
  if (az > max) max = az;
  if (!(max > 0 && max < std::numeric_limits<double>::infinity())) return pjs::hypot(x, y, z);
  const double qx = ax == max ? 1.0 : ax / max, qy = ay == max ? 1.0 : ay / max, qz = az == max ? 1.0 : az / max;
  double sum = 0, compensation = 0;
  double summand = qx * qx - compensation;
  double preliminary = sum + summand;
  compensation = (preliminary - sum) - summand;
  sum = preliminary;
  summand = qy * qy - compensation;
  preliminary = sum + summand;
  compensation = (preliminary - sum) - summand;
  sum = preliminary;
  summand = qz * qz - compensation;
  preliminary = sum + summand;
  sum = preliminary;
  return std::sqrt(sum) * max;
}

/**
 * depth_noise.ts depthNoiseAt1m. Its quickselect's median is read by selection over keys: the
 * values are |h| / sinA / r^2 of samples that passed both tests, never NaN and never -0, so the
 * median is one value whatever the method (the samples' order is not used).
 */
#if defined(SR_FRAME_AVX2)
/**
 * depthNoise's loop (below) four samples at a time: the SSE2 lanes' operations in the same
 * order, on 256-bit registers (twice the divisions per instruction, which bound this loop).
 * Values go to scratch in sample order from m on; returns the first sample not done.
 */
__attribute__((target("avx2"))) long depthNoiseAvx2(const float* s, long n, double r6, double r7, double r8, double supportZ, double* scratch, long* mInOut) {
  long m = *mInOut, i = 0;
  const __m256d vr6 = _mm256_set1_pd(r6), vr7 = _mm256_set1_pd(r7), vr8 = _mm256_set1_pd(r8), vsz = _mm256_set1_pd(supportZ);
  const __m256d absMask = _mm256_castsi256_pd(_mm256_set1_epi64x(0x7FFFFFFFFFFFFFFFll));
  const __m256d nearM = _mm256_set1_pd(0.03), minSin = _mm256_set1_pd(0.1);
  for (; i + 3 < n; i += 4) {
    const float* a = s + i * 3;
    const __m256d x = _mm256_set_pd(a[9], a[6], a[3], a[0]), y = _mm256_set_pd(a[10], a[7], a[4], a[1]), z = _mm256_set_pd(a[11], a[8], a[5], a[2]);
    const __m256d up = _mm256_add_pd(_mm256_add_pd(_mm256_mul_pd(vr6, x), _mm256_mul_pd(vr7, y)), _mm256_mul_pd(vr8, z));
    const __m256d ah = _mm256_and_pd(_mm256_sub_pd(up, vsz), absMask);
    const __m256d nearLane = _mm256_cmp_pd(ah, nearM, _CMP_LT_OQ);
    if (_mm256_movemask_pd(nearLane) == 0) continue;
    const __m256d ax = _mm256_and_pd(x, absMask), ay = _mm256_and_pd(y, absMask), az = _mm256_and_pd(z, absMask);
    const __m256d xGtY = _mm256_cmp_pd(ax, ay, _CMP_GT_OQ);
    __m256d mx = _mm256_or_pd(_mm256_and_pd(xGtY, ax), _mm256_andnot_pd(xGtY, ay));
    const __m256d zGt = _mm256_cmp_pd(az, mx, _CMP_GT_OQ);
    mx = _mm256_or_pd(_mm256_and_pd(zGt, az), _mm256_andnot_pd(zGt, mx));
    const __m256d range = sr::js::hypot3Lanes(ax, ay, az, mx);
    const __m256d sinA = _mm256_div_pd(_mm256_and_pd(up, absMask), range);
    const int keep = _mm256_movemask_pd(_mm256_and_pd(nearLane, _mm256_cmp_pd(sinA, minSin, _CMP_GT_OQ)));
    if (keep == 0) continue;
    double v[4];
    _mm256_storeu_pd(v, _mm256_div_pd(_mm256_div_pd(ah, sinA), _mm256_mul_pd(range, range)));
    for (int l = 0; l < 4; l++) {
      if (keep & (1 << l)) scratch[m++] = v[l];
    }
  }
  *mInOut = m;
  return i;
}
#endif

#if defined(SR_FRAME_AVX2)
/**
 * The value of rank k of v[0 .. m) (k < m) as selectPair finds it, for values that are all
 * non-negative and not NaN (depthNoise's, but for a degenerate sample: false, and the caller
 * runs selectPair). There the keys' order is the numeric order, the order of the values' bits
 * as unsigned integers too, and equal values have one key: any exact selection gives
 * selectPair's value. By the bits' high part: one pass finds the least and greatest (and
 * checks the values), one counts (bits - least) >> shift into 1024 bins, one gathers the bin
 * holding the rank (and its least and greatest), and the same again on those until few are
 * left for nth_element. Why: selectPair's pass made and stored a key per value, and its sample
 * bracket held about a third of depthNoise's values, as long as depthNoise's loop itself.
 */
__attribute__((target("avx2"))) bool medianAvx2(const double* v, long m, long k, uint64_t* buf, double& out) {
  constexpr int kBinBits = 10;
  constexpr long kBins = 1L << kBinBits;
  if (m <= 0 || k < 0 || k >= m) return false;
  long i = 0;
  __m256d bad = _mm256_setzero_pd();
  __m256d lo4 = _mm256_set1_pd(std::numeric_limits<double>::infinity()), hi4 = _mm256_setzero_pd();
  for (; i + 4 <= m; i += 4) {
    const __m256d x = _mm256_loadu_pd(v + i);
    // NaN (unordered with itself) or a sign bit: collected, tested once after the pass.
    bad = _mm256_or_pd(bad, _mm256_or_pd(x, _mm256_cmp_pd(x, x, _CMP_UNORD_Q)));
    lo4 = _mm256_min_pd(lo4, x);
    hi4 = _mm256_max_pd(hi4, x);
  }
  if (_mm256_movemask_pd(bad) != 0) return false;
  alignas(32) double l4[4], h4[4];
  _mm256_store_pd(l4, lo4);
  _mm256_store_pd(h4, hi4);
  double lo = l4[0], hi = h4[0];
  for (int l = 1; l < 4; l++) {
    lo = l4[l] < lo ? l4[l] : lo;
    hi = h4[l] > hi ? h4[l] : hi;
  }
  for (; i < m; i++) {
    const double x = v[i];
    if (x != x || std::signbit(x)) return false;
    lo = x < lo ? x : lo;
    hi = x > hi ? x : hi;
  }
  uint64_t kmin, kmax;
  std::memcpy(&kmin, &lo, 8);
  std::memcpy(&kmax, &hi, 8);
  const uint64_t* cur = reinterpret_cast<const uint64_t*>(v);
  long n = m, r = k;
  uint32_t hist[kBins];
  alignas(32) int64_t bins[4];
  for (;;) {
    if (kmin == kmax || n <= 48) {
      if (kmin != kmax) {
        if (cur != buf) std::memcpy(buf, cur, static_cast<size_t>(n) * sizeof(uint64_t));
        std::nth_element(buf, buf + r, buf + n);
        kmin = buf[r];
      }
      std::memcpy(&out, &kmin, 8);
      return true;
    }
    int shift = 0;
    while (((kmax - kmin) >> shift) >= static_cast<uint64_t>(kBins)) shift++;
    const __m256i vmin = _mm256_set1_epi64x(static_cast<long long>(kmin));
    const __m128i vshift = _mm_cvtsi32_si128(shift);
    std::memset(hist, 0, sizeof hist);
    i = 0;
    for (; i + 4 <= n; i += 4) {
      _mm256_store_si256(reinterpret_cast<__m256i*>(bins), _mm256_srl_epi64(_mm256_sub_epi64(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(cur + i)), vmin), vshift));
      hist[bins[0]]++;
      hist[bins[1]]++;
      hist[bins[2]]++;
      hist[bins[3]]++;
    }
    for (; i < n; i++) hist[(cur[i] - kmin) >> shift]++;
    long acc = 0, b = 0;
    for (; b < kBins - 1 && acc + static_cast<long>(hist[b]) <= r; b++) acc += hist[b];
    const __m256i want = _mm256_set1_epi64x(b);
    uint64_t nmin = ~0ull, nmax = 0;
    long got = 0;
    i = 0;
    // In place when cur is buf: a value is written at or before where it was read.
    for (; i + 4 <= n; i += 4) {
      const __m256i x = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(cur + i));
      const int hit = _mm256_movemask_pd(_mm256_castsi256_pd(_mm256_cmpeq_epi64(_mm256_srl_epi64(_mm256_sub_epi64(x, vmin), vshift), want)));
      if (hit == 0) continue;
      for (int l = 0; l < 4; l++) {
        if (((hit >> l) & 1) == 0) continue;
        const uint64_t key = cur[i + l];
        buf[got++] = key;
        nmin = key < nmin ? key : nmin;
        nmax = key > nmax ? key : nmax;
      }
    }
    for (; i < n; i++) {
      const uint64_t key = cur[i];
      if (static_cast<long>((key - kmin) >> shift) != b) continue;
      buf[got++] = key;
      nmin = key < nmin ? key : nmin;
      nmax = key > nmax ? key : nmax;
    }
    cur = buf;
    n = got;
    r -= acc;
    kmin = nmin;
    kmax = nmax;
  }
}

#endif

double depthNoise(const float* s, long n, const double* rotation, double supportZ, double* scratch, uint64_t* keys, bool avx2) {
  if (supportZ != supportZ) return 0;
  const double r6 = rotation[6], r7 = rotation[7], r8 = rotation[8];
  long m = 0;
  long i = 0;
#if defined(SR_FRAME_AVX2)
  if (avx2 && haveAvx2()) i = depthNoiseAvx2(s, n, r6, r7, r8, supportZ, scratch, &m);
#else
  (void)avx2;
#endif
#if defined(__SSE2__)
  // Two samples at a time: the same operations in the same order per lane (IEEE division and
  // square root round alike in both units), so the same values. A sample the scalar hypot3
  // sends to pjs::hypot (a zero or non-finite largest term) never passes both tests: with its
  // height near the support every term is finite (a zero coefficient times an infinity would
  // be NaN), and all zero gives 0 / 0 here and a NaN sinA there.
  {
    const __m128d vr6 = _mm_set1_pd(r6), vr7 = _mm_set1_pd(r7), vr8 = _mm_set1_pd(r8), vsz = _mm_set1_pd(supportZ);
    const __m128d absMask = _mm_castsi128_pd(_mm_set1_epi64x(0x7FFFFFFFFFFFFFFFll));
    const __m128d nearM = _mm_set1_pd(0.03), minSin = _mm_set1_pd(0.1);
    for (; i + 1 < n; i += 2) {
      const float* a = s + i * 3;
      const __m128d x = _mm_set_pd(a[3], a[0]), y = _mm_set_pd(a[4], a[1]), z = _mm_set_pd(a[5], a[2]);
      const __m128d up = _mm_add_pd(_mm_add_pd(_mm_mul_pd(vr6, x), _mm_mul_pd(vr7, y)), _mm_mul_pd(vr8, z));
      const __m128d ah = _mm_and_pd(_mm_sub_pd(up, vsz), absMask);
      const __m128d nearLane = _mm_cmplt_pd(ah, nearM);
      if (_mm_movemask_pd(nearLane) == 0) continue;
      const __m128d ax = _mm_and_pd(x, absMask), ay = _mm_and_pd(y, absMask), az = _mm_and_pd(z, absMask);
      // hypot3: the largest magnitude, each term over it (the largest's is exactly 1), Kahan's sum.
      __m128d mx = _mm_or_pd(_mm_and_pd(_mm_cmpgt_pd(ax, ay), ax), _mm_andnot_pd(_mm_cmpgt_pd(ax, ay), ay));
      mx = _mm_or_pd(_mm_and_pd(_mm_cmpgt_pd(az, mx), az), _mm_andnot_pd(_mm_cmpgt_pd(az, mx), mx));
      const __m128d range = sr::js::hypot3Lanes128(ax, ay, az, mx);
      const __m128d sinA = _mm_div_pd(_mm_and_pd(up, absMask), range);
      const int keep = _mm_movemask_pd(_mm_and_pd(nearLane, _mm_cmpgt_pd(sinA, minSin)));
      if (keep == 0) continue;
      double v[2];
      _mm_storeu_pd(v, _mm_div_pd(_mm_div_pd(ah, sinA), _mm_mul_pd(range, range)));
      if (keep & 1) scratch[m++] = v[0];
      if (keep & 2) scratch[m++] = v[1];
    }
  }
#endif
  for (; i < n; i++) {
    const double x = s[i * 3], y = s[i * 3 + 1], z = s[i * 3 + 2];
    const double up = r6 * x + r7 * y + r8 * z;
    const double h = up - supportZ;
    if (!(std::fabs(h) < 0.03)) continue;
    const double range = hypot3(x, y, z);
    const double sinA = std::fabs(up) / range;
    if (!(sinA > 0.1)) continue;
    scratch[m++] = std::fabs(h) / sinA / (range * range);
  }
  if (m < 50) return 0;
  const long k = static_cast<long>(pjs::min(static_cast<double>(m - 1), pjs::max(0.0, pjs::round(0.5 * static_cast<double>(m - 1)))));
  double median, unused;
#if defined(SR_FRAME_AVX2)
  if (avx2 && haveAvx2() && medianAvx2(scratch, m, k, keys, median)) return 1.4826 * median;
#endif
  sr::psort::selectPair([scratch](long i) { return scratch[i]; }, m, k, k, median, unused, keys);
  return 1.4826 * median;
}

// depthNoiseAt1m(samples, n, rotation, supportZ (NaN: none), scratch)
Napi::Value DepthNoiseAt1m(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const char* K = "depthNoiseAt1m";
  const float* s;
  const long n = sampleCount(info, K, 0, 1, &s);
  auto rotation = sr::typedArrayArg<double>(info, 2, K, "rotation", 9, true);
  const double supportZ = numberArg(info, 3, K, "supportZ");
  auto scratch = sr::typedArrayArg<double>(info, 4, K, "scratch", static_cast<size_t>(n), true);
  // The selection's keys (two per value), kept per thread and grown to the most samples seen.
  thread_local std::vector<uint64_t> keys;
  if (keys.size() < 2 * static_cast<size_t>(n)) keys.resize(2 * static_cast<size_t>(n));
  // An optional 6th argument false keeps to the SSE2 path (tests cover both on an AVX2 host).
  const bool avx2 = !(info.Length() > 5 && info[5].IsBoolean() && !info[5].As<Napi::Boolean>().Value());
  return Napi::Number::New(env, depthNoise(s, n, rotation.data, supportZ, scratch.data, keys.data(), avx2));
}

// ---------------------------------------------------------------------------------------------
// medianObjectHeight (src/perception/object_height.ts medianObjectHeightTs, HEIGHT_PARAMS)

enum HeightParams { kHpNx = 0, kHpNy, kHpNz, kHpD, kHpDepthStride, kHpDepthScale, kHpLabelStride, kHpU0, kHpU1, kHpV0, kHpV1, kHpMinDepth, kHpMaxDepth, kHpLength };

template <typename D, typename L>
long objectHeights(const double* p, const D* depth, const L* labels, const double* rayX, const double* rayY, long ds, long ls,
                   long u0, long u1, long v0, long v1, long step, long nu, const uint8_t* mark, double* heights) {
  const double nx = p[kHpNx], ny = p[kHpNy], nz = p[kHpNz], pd = p[kHpD], dscale = p[kHpDepthScale];
  const double minZ = p[kHpMinDepth], maxZ = p[kHpMaxDepth];
  const bool instanceMode = ls > 0;
  long n = 0;
  for (long j = 0, v = v0; v <= v1; j++, v += step) {
    for (long i = 0, u = u0; u <= u1; i++, u += step) {
      const bool inside = instanceMode ? labels[v * ls + u] != 0 : mark[j * nu + i] == 1;
      if (!inside) continue;
      const double z = static_cast<double>(depth[v * ds + u]) * dscale;
      if (!(z > minZ && z < maxZ)) continue;
      heights[n++] = nx * rayX[u] * z + ny * rayY[v] * z + nz * z + pd;
    }
  }
  return n;
}

template <typename D>
long objectHeightsD(const double* p, const D* depth, const ImageArg& labels, const double* rayX, const double* rayY, long ds, long ls,
                    long u0, long u1, long v0, long v1, long step, long nu, const uint8_t* mark, double* heights) {
  if (labels.type == Sample::kUint8) return objectHeights(p, depth, static_cast<const uint8_t*>(labels.data), rayX, rayY, ds, ls, u0, u1, v0, v1, step, nu, mark, heights);
  return objectHeights(p, depth, static_cast<const uint16_t*>(labels.data), rayX, rayY, ds, ls, u0, u1, v0, v1, step, nu, mark, heights);
}

// medianObjectHeight(params, depth, labels, boxes, nBoxes, rayX, rayY, heights, mark)
Napi::Value MedianObjectHeight(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const char* K = "medianObjectHeight";
  auto pa = sr::typedArrayArg<double>(info, 0, K, "params", kHpLength);
  double p[kHpLength];
  std::memcpy(p, pa.data, sizeof p);
  ImageArg depth = imageArg(info, 1, K, "depth", true);
  ImageArg labels = imageArg(info, 2, K, "labels", false);
  auto boxes = sr::typedArrayArg<double>(info, 3, K, "boxes", 0, true);
  const long nBoxes = integerIn(env, numberArg(info, 4, K, "nBoxes"), 0, 1L << 20, K, "nBoxes");
  holds(env, boxes.length, static_cast<size_t>(nBoxes) * 4, K, "boxes");
  auto rayX = sr::typedArrayArg<double>(info, 5, K, "rayX", 0, true);
  auto rayY = sr::typedArrayArg<double>(info, 6, K, "rayY", 0, true);
  auto heights = sr::typedArrayArg<double>(info, 7, K, "heights", 0, true);
  auto mark = sr::typedArrayArg<uint8_t>(info, 8, K, "mark", 0, true);
  const long ds = integerIn(env, p[kHpDepthStride], 1, kMaxSide * 4, K, "depth stride");
  const long ls = integerIn(env, p[kHpLabelStride], 0, kMaxSide * 4, K, "label stride");
  const long u0 = integerIn(env, p[kHpU0], 0, kMaxSide - 1, K, "u0"), u1 = integerIn(env, p[kHpU1], 0, kMaxSide - 1, K, "u1");
  const long v0 = integerIn(env, p[kHpV0], 0, kMaxSide - 1, K, "v0"), v1 = integerIn(env, p[kHpV1], 0, kMaxSide - 1, K, "v1");
  finiteIn(env, p[kHpDepthScale], K, "depth scale");
  if (u1 < u0 || v1 < v0) return Napi::Number::New(env, 0);
  const double stepD = pjs::max(2.0, pjs::round(std::sqrt(static_cast<double>((u1 - u0 + 1) * (v1 - v0 + 1)) / 2000)));
  const long step = static_cast<long>(stepD);
  const long nu = (u1 - u0) / step + 1, nv = (v1 - v0) / step + 1;
  const long lastU = u0 + (nu - 1) * step, lastV = v0 + (nv - 1) * step;
  if (lastU >= ds) rangeFail(env, K, "the region reaches past the depth row stride");
  holds(env, depth.length, static_cast<size_t>(lastV * ds + lastU + 1), K, "depth");
  if (ls > 0) {
    if (lastU >= ls) rangeFail(env, K, "the region reaches past the label row stride");
    holds(env, labels.length, static_cast<size_t>(lastV * ls + lastU + 1), K, "labels");
  }
  holds(env, rayX.length, static_cast<size_t>(lastU + 1), K, "rayX");
  holds(env, rayY.length, static_cast<size_t>(lastV + 1), K, "rayY");
  holds(env, heights.length, static_cast<size_t>(nu * nv), K, "heights");
  holds(env, mark.length, static_cast<size_t>(nu * nv), K, "mark");
  if (ls == 0) {
    std::memset(mark.data, 0, static_cast<size_t>(nu * nv));
    const double du0 = static_cast<double>(u0), dv0 = static_cast<double>(v0);
    for (long k = 0; k < nBoxes; k++) {
      const double bcx = boxes.data[k * 4], bcy = boxes.data[k * 4 + 1];
      const double hw = boxes.data[k * 4 + 2] / 4, hh = boxes.data[k * 4 + 3] / 4;
      // Candidate grid columns and rows, one wider each way; the exact test decides.
      const double i0 = pjs::max(0.0, std::floor((bcx - hw - du0) / stepD) - 1), i1 = pjs::min(static_cast<double>(nu - 1), std::ceil((bcx + hw - du0) / stepD) + 1);
      const double j0 = pjs::max(0.0, std::floor((bcy - hh - dv0) / stepD) - 1), j1 = pjs::min(static_cast<double>(nv - 1), std::ceil((bcy + hh - dv0) / stepD) + 1);
      // Non-finite boxes give NaN bounds: the reference's loops then never run.
      if (!(i0 <= i1 && j0 <= j1)) continue;
      for (long j = static_cast<long>(j0); j <= static_cast<long>(j1); j++) {
        if (!(std::fabs(dv0 + static_cast<double>(j * step) - bcy) <= hh)) continue;
        for (long i = static_cast<long>(i0); i <= static_cast<long>(i1); i++) {
          if (std::fabs(du0 + static_cast<double>(i * step) - bcx) <= hw) mark.data[j * nu + i] = 1;
        }
      }
    }
  }
  const long n = depth.type == Sample::kFloat32
      ? objectHeightsD(p, static_cast<const float*>(depth.data), labels, rayX.data, rayY.data, ds, ls, u0, u1, v0, v1, step, nu, mark.data, heights.data)
      : objectHeightsD(p, static_cast<const uint16_t*>(depth.data), labels, rayX.data, rayY.data, ds, ls, u0, u1, v0, v1, step, nu, mark.data, heights.data);
  if (n == 0) return Napi::Number::New(env, 0);
  return Napi::Number::New(env, sr::psort::selectKth(heights.data, n, n >> 1));
}

// ---------------------------------------------------------------------------------------------
// metricDepthAbove (src/perception/detection_depth.ts metricDepthAboveTs, DEPTH_ABOVE_PARAMS)

enum DepthAboveParams { kDaWidth = 0, kDaHeight, kDaDepthStride, kDaDepthScale, kDaFloorZ, kDaMinDepth, kDaMaxDepth, kDaR6, kDaR7, kDaR8, kDaLength };

template <typename D>
void toMetres(const D* depth, long ds, double dscale, long width, long height, float* depthM) {
  for (long v = 0; v < height; v++) {
    const D* row = depth + v * ds;
    float* outRow = depthM + v * width;
    for (long u = 0; u < width; u++) outRow[u] = static_cast<float>(static_cast<double>(row[u]) * dscale);
  }
}

// metricDepthAbove(params, depth, boxes, nBoxes, rayX, rayY, depthM, above)
Napi::Value MetricDepthAbove(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const char* K = "metricDepthAbove";
  auto pa = sr::typedArrayArg<double>(info, 0, K, "params", kDaLength);
  double p[kDaLength];
  std::memcpy(p, pa.data, sizeof p);
  ImageArg depth = imageArg(info, 1, K, "depth", true);
  auto boxes = sr::typedArrayArg<double>(info, 2, K, "boxes", 0, true);
  const long nBoxes = integerIn(env, numberArg(info, 3, K, "nBoxes"), 0, 1L << 20, K, "nBoxes");
  holds(env, boxes.length, static_cast<size_t>(nBoxes) * 4, K, "boxes");
  auto rayX = sr::typedArrayArg<double>(info, 4, K, "rayX", 0, true);
  auto rayY = sr::typedArrayArg<double>(info, 5, K, "rayY", 0, true);
  auto depthM = sr::typedArrayArg<float>(info, 6, K, "depthM", 0, true);
  auto above = sr::typedArrayArg<uint8_t>(info, 7, K, "above", 0, true);
  const long width = integerIn(env, p[kDaWidth], 1, kMaxSide, K, "width"), height = integerIn(env, p[kDaHeight], 1, kMaxSide, K, "height");
  const long ds = integerIn(env, p[kDaDepthStride], 1, kMaxSide * 4, K, "depth stride");
  if (ds < width) rangeFail(env, K, "depth stride is less than the width");
  const double dscale = finiteIn(env, p[kDaDepthScale], K, "depth scale");
  holds(env, depth.length, static_cast<size_t>(ds * (height - 1) + width), K, "depth");
  holds(env, depthM.length, static_cast<size_t>(width * height), K, "depthM");
  holds(env, above.length, static_cast<size_t>(width * height), K, "above");
  holds(env, rayX.length, static_cast<size_t>(width), K, "rayX");
  holds(env, rayY.length, static_cast<size_t>(height), K, "rayY");
  if (depth.type == Sample::kFloat32) toMetres(static_cast<const float*>(depth.data), ds, dscale, width, height, depthM.data);
  else toMetres(static_cast<const uint16_t*>(depth.data), ds, dscale, width, height, depthM.data);
  const double floorZ = p[kDaFloorZ], minZ = p[kDaMinDepth], maxZ = p[kDaMaxDepth], r6 = p[kDaR6], r7 = p[kDaR7], r8 = p[kDaR8];
  for (long k = 0; k < nBoxes; k++) {
    const double cx = boxes.data[k * 4], cy = boxes.data[k * 4 + 1], bw = boxes.data[k * 4 + 2], bh = boxes.data[k * 4 + 3];
    const double u0 = pjs::max(0.0, std::floor(cx - bw / 2)), u1 = pjs::min(static_cast<double>(width - 1), std::ceil(cx + bw / 2));
    const double v0 = pjs::max(0.0, std::floor(cy - bh / 2)), v1 = pjs::min(static_cast<double>(height - 1), std::ceil(cy + bh / 2));
    if (!(u0 <= u1 && v0 <= v1)) continue;
    for (long v = static_cast<long>(v0); v <= static_cast<long>(v1); v++) {
      const double ry = rayY.data[v];
      for (long u = static_cast<long>(u0); u <= static_cast<long>(u1); u++) {
        const long i = v * width + u;
        const double z = depthM.data[i];
        above.data[i] = z > minZ && z < maxZ && r6 * rayX.data[u] * z + r7 * ry * z + r8 * z > floorZ ? 1 : 0;
      }
    }
  }
  return env.Undefined();
}

void InitPerceptionFrame(Napi::Env env, Napi::Object exports) {
  exports.Set("labelExtents", Napi::Function::New(env, LabelExtents, "labelExtents"));
  exports.Set("backgroundSamples", Napi::Function::New(env, BackgroundSamples, "backgroundSamples"));
  exports.Set("countPlaneInliers", Napi::Function::New(env, CountPlaneInliers, "countPlaneInliers"));
  exports.Set("refinePlane", Napi::Function::New(env, RefinePlane, "refinePlane"));
  exports.Set("ransacPlane", Napi::Function::New(env, RansacPlane, "ransacPlane"));
  exports.Set("depthNoiseAt1m", Napi::Function::New(env, DepthNoiseAt1m, "depthNoiseAt1m"));
  exports.Set("medianObjectHeight", Napi::Function::New(env, MedianObjectHeight, "medianObjectHeight"));
  exports.Set("metricDepthAbove", Napi::Function::New(env, MetricDepthAbove, "metricDepthAbove"));
  // Whether Math.sin/cos/atan2/log/pow are V8's own here (bit-identical results), or libm's.
  exports.Set("perceptionMathExact", Napi::Boolean::New(env, sr::pjs::exact()));
}

}  // namespace

SR_KERNEL_FAMILY(perception_frame, InitPerceptionFrame);
