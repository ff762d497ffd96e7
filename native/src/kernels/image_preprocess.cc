// The backbone's camera image → model patches (kernel family "image_preprocess"): a port of
// src/backbone/image_preprocess.ts ImagePreprocessor.resize (the reference and the fallback),
// operation for operation in double like the JS numbers, so the patches equal its bit for bit:
// every output sum keeps the reference's order; SIMD only runs independent sums side by side
// (the three channels and two input rows of the horizontal pass, adjacent columns of the
// vertical one). The resampling tables are the TS AxisTables, passed in; the ring of
// horizontally filtered rows and a row pair converted to double are this thread's scratch,
// grown only when a larger input or model size arrives, never per frame.
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif
// x86-64 with GCC or Clang: an AVX2 horizontal and vertical pass, chosen at run time (the addon
// is built for baseline x86-64; -ffp-contract=off keeps every mul and add separate there too).
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define SR_PREPROCESS_AVX2 1
#include <immintrin.h>
#endif

#include "kernels.h"
#include "perception_args.h"

namespace {

using sr::perception::holds;
using sr::perception::integerIn;
using sr::perception::numberArg;
using sr::perception::rangeFail;

constexpr long kMaxSide = 16384;  // MAX_IMAGE_SIDE

struct Axis {
  const int32_t* start;
  const float* weights;
  long taps;
};

struct Scratch {
  std::vector<float> ring;          // R rows of [3, S]
  std::vector<long> ringRow;        // input row held by each slot
  std::vector<long> tapRows;        // ring offsets of one output row's taps
  std::vector<double> pix;          // input rows as doubles: a pair, 6 per pixel rA gA rB gB bA bB (mono: a b); AVX2 four rows, 16 per pixel
  std::vector<float> dummy;         // [3, S]: where the AVX2 pass writes rows past the last
  std::vector<double> acc;          // [3, S] for windows over 8 taps
  std::vector<float> rowA, rowB;    // the last even and odd model-image rows
};

thread_local Scratch scratch;

/** Input rows y and y2 (y2 may equal y) → ring rows at dstA, dstB (unnormalised [3, S] planes). */
void horizontalPair(const uint8_t* rowA, const uint8_t* rowB, long width, long bpp, long r, long g, long b, const Axis& x,
                    double* pix, float* dstA, float* dstB, long S) {
  for (long i = 0; i < width; i++) {
    const uint8_t* pa = rowA + i * bpp;
    const uint8_t* pb = rowB + i * bpp;
    double* q = pix + i * 6;
    q[0] = pa[r]; q[1] = pa[g]; q[2] = pb[r]; q[3] = pb[g]; q[4] = pa[b]; q[5] = pb[b];
  }
  const long T = x.taps;
  for (long ox = 0; ox < S; ox++) {
    const double* q = pix + static_cast<long>(x.start[ox]) * 6;
    const float* w = x.weights + ox * T;
#if defined(__SSE2__)
    __m128d s0 = _mm_setzero_pd(), s1 = _mm_setzero_pd(), s2 = _mm_setzero_pd();
    for (long k = 0; k < T; k++, q += 6) {
      const __m128d wk = _mm_set1_pd(static_cast<double>(w[k]));
      s0 = _mm_add_pd(s0, _mm_mul_pd(wk, _mm_loadu_pd(q)));
      s1 = _mm_add_pd(s1, _mm_mul_pd(wk, _mm_loadu_pd(q + 2)));
      s2 = _mm_add_pd(s2, _mm_mul_pd(wk, _mm_loadu_pd(q + 4)));
    }
    double v[6];
    _mm_storeu_pd(v, s0);
    _mm_storeu_pd(v + 2, s1);
    _mm_storeu_pd(v + 4, s2);
#else
    double v[6] = {0, 0, 0, 0, 0, 0};
    for (long k = 0; k < T; k++, q += 6) {
      const double wk = w[k];
      for (int c = 0; c < 6; c++) v[c] += wk * q[c];
    }
#endif
    dstA[ox] = static_cast<float>(v[0]);
    dstA[S + ox] = static_cast<float>(v[1]);
    dstA[2 * S + ox] = static_cast<float>(v[4]);
    dstB[ox] = static_cast<float>(v[2]);
    dstB[S + ox] = static_cast<float>(v[3]);
    dstB[2 * S + ox] = static_cast<float>(v[5]);
  }
}

#if defined(SR_PREPROCESS_AVX2)
/**
 * Four input rows at once (AVX2): each pixel's 4 bytes (3-byte pixels: its 3 and the next
 * pixel's first, a lane that is computed and dropped) as 4 doubles per row, so one tap is four
 * vector multiply-adds for 4 rows × 4 lanes, each lane the same left-to-right sum as the TS.
 * lane[c]: the byte offset of channel c (R, G, B) in a pixel.
 */
__attribute__((target("avx2"))) void horizontalQuadAvx2(const uint8_t* const* rows, long width, long bpp, const long* lane, const Axis& x,
                                                         double* pix, float* const* dst, long S) {
  // 4-byte loads stay inside the row but for the last 3-byte pixel (the buffer may end there).
  const long safe = bpp == 4 ? width : width - 1;
  const uint8_t *r0 = rows[0], *r1 = rows[1], *r2 = rows[2], *r3 = rows[3];
  double* o = pix;
  long i = 0;
  for (long at = 0; i < safe; i++, o += 16, at += bpp) {
    int32_t v0, v1, v2, v3;
    std::memcpy(&v0, r0 + at, 4);
    std::memcpy(&v1, r1 + at, 4);
    std::memcpy(&v2, r2 + at, 4);
    std::memcpy(&v3, r3 + at, 4);
    // Rows 0 and 1 widened together, then 2 and 3: 8 bytes → 8 int32 → 2 × 4 doubles.
    const __m256i a = _mm256_cvtepu8_epi32(_mm_unpacklo_epi32(_mm_cvtsi32_si128(v0), _mm_cvtsi32_si128(v1)));
    const __m256i b = _mm256_cvtepu8_epi32(_mm_unpacklo_epi32(_mm_cvtsi32_si128(v2), _mm_cvtsi32_si128(v3)));
    _mm256_storeu_pd(o, _mm256_cvtepi32_pd(_mm256_castsi256_si128(a)));
    _mm256_storeu_pd(o + 4, _mm256_cvtepi32_pd(_mm256_extracti128_si256(a, 1)));
    _mm256_storeu_pd(o + 8, _mm256_cvtepi32_pd(_mm256_castsi256_si128(b)));
    _mm256_storeu_pd(o + 12, _mm256_cvtepi32_pd(_mm256_extracti128_si256(b, 1)));
  }
  for (; i < width; i++, o += 16) {
    for (long q = 0; q < 4; q++) {
      for (long c = 0; c < 4; c++) o[q * 4 + c] = c < bpp ? rows[q][i * bpp + c] : 0.0;
    }
  }
  const long T = x.taps;
  const long lr = lane[0], lg = lane[1], lb = lane[2];
  // Outputs in blocks of 4: v[row][ox % 4] holds each output's 4 lanes, transposed into one
  // 4-output vector per lane and stored 4 planes' values at a time.
  alignas(16) float v[4][4][4];
  for (long ox = 0; ox < S; ox++) {
    const double* q = pix + static_cast<long>(x.start[ox]) * 16;
    const float* w = x.weights + ox * T;
    __m256d s0 = _mm256_setzero_pd(), s1 = _mm256_setzero_pd(), s2 = _mm256_setzero_pd(), s3 = _mm256_setzero_pd();
    for (long k = 0; k < T; k++, q += 16) {
      const __m256d wk = _mm256_set1_pd(static_cast<double>(w[k]));
      s0 = _mm256_add_pd(s0, _mm256_mul_pd(wk, _mm256_loadu_pd(q)));
      s1 = _mm256_add_pd(s1, _mm256_mul_pd(wk, _mm256_loadu_pd(q + 4)));
      s2 = _mm256_add_pd(s2, _mm256_mul_pd(wk, _mm256_loadu_pd(q + 8)));
      s3 = _mm256_add_pd(s3, _mm256_mul_pd(wk, _mm256_loadu_pd(q + 12)));
    }
    const long m = ox & 3;
    _mm_store_ps(v[0][m], _mm256_cvtpd_ps(s0));
    _mm_store_ps(v[1][m], _mm256_cvtpd_ps(s1));
    _mm_store_ps(v[2][m], _mm256_cvtpd_ps(s2));
    _mm_store_ps(v[3][m], _mm256_cvtpd_ps(s3));
    if (m == 3) {
      const long o0 = ox - 3;
      for (long r = 0; r < 4; r++) {
        __m128 l0 = _mm_load_ps(v[r][0]), l1 = _mm_load_ps(v[r][1]), l2 = _mm_load_ps(v[r][2]), l3 = _mm_load_ps(v[r][3]);
        _MM_TRANSPOSE4_PS(l0, l1, l2, l3);
        alignas(16) float t[4][4];
        _mm_store_ps(t[0], l0);
        _mm_store_ps(t[1], l1);
        _mm_store_ps(t[2], l2);
        _mm_store_ps(t[3], l3);
        float* d = dst[r];
        _mm_storeu_ps(d + o0, _mm_load_ps(t[lr]));
        _mm_storeu_ps(d + S + o0, _mm_load_ps(t[lg]));
        _mm_storeu_ps(d + 2 * S + o0, _mm_load_ps(t[lb]));
      }
    } else if (ox == S - 1) {
      for (long r = 0; r < 4; r++) {
        float* d = dst[r];
        for (long i = 0; i <= m; i++) {
          d[ox - m + i] = v[r][i][lr];
          d[S + ox - m + i] = v[r][i][lg];
          d[2 * S + ox - m + i] = v[r][i][lb];
        }
      }
    }
  }
}

/** vertical()'s sweep from k0 (acc holds the taps before it when k0 > 0), 4 columns at a time (AVX2). */
__attribute__((target("avx2"))) long verticalAvx2(const float* ring, const long* rows, const float* w, long T, long k0, const double* acc, float* row,
                                                   long j0, long j1, double sc, double sh) {
  const __m256d vsc = _mm256_set1_pd(sc), vsh = _mm256_set1_pd(sh);
  __m256d wv[64];
  const long nw = T < 64 ? T : 64;
  for (long k = 0; k < nw; k++) wv[k] = _mm256_set1_pd(static_cast<double>(w[k]));
  long j = j0;
  for (; j + 4 <= j1; j += 4) {
    __m256d s;
    long k = k0;
    if (k0 > 0) {
      s = _mm256_loadu_pd(acc + j);
    } else {
      s = _mm256_mul_pd(wv[0], _mm256_cvtps_pd(_mm_loadu_ps(ring + rows[0] + j)));
      k = 1;
    }
    for (; k < nw; k++) s = _mm256_add_pd(s, _mm256_mul_pd(wv[k], _mm256_cvtps_pd(_mm_loadu_ps(ring + rows[k] + j))));
    for (; k < T; k++) s = _mm256_add_pd(s, _mm256_mul_pd(_mm256_set1_pd(static_cast<double>(w[k])), _mm256_cvtps_pd(_mm_loadu_ps(ring + rows[k] + j))));
    _mm_storeu_ps(row + j, _mm256_cvtpd_ps(_mm256_add_pd(_mm256_mul_pd(s, vsc), vsh)));
  }
  return j;
}

bool haveAvx2() {
  static const bool yes = __builtin_cpu_supports("avx2");
  return yes;
}
#else
bool haveAvx2() { return false; }
#endif

/** mono8 rows y and y2: filtered once each, replicated to the three planes. */
void horizontalMonoPair(const uint8_t* rowA, const uint8_t* rowB, long width, const Axis& x, double* pix, float* dstA, float* dstB, long S) {
  for (long i = 0; i < width; i++) {
    pix[i * 2] = rowA[i];
    pix[i * 2 + 1] = rowB[i];
  }
  const long T = x.taps;
  for (long ox = 0; ox < S; ox++) {
    const double* q = pix + static_cast<long>(x.start[ox]) * 2;
    const float* w = x.weights + ox * T;
#if defined(__SSE2__)
    __m128d s = _mm_setzero_pd();
    for (long k = 0; k < T; k++, q += 2) s = _mm_add_pd(s, _mm_mul_pd(_mm_set1_pd(static_cast<double>(w[k])), _mm_loadu_pd(q)));
    double v[2];
    _mm_storeu_pd(v, s);
#else
    double v[2] = {0, 0};
    for (long k = 0; k < T; k++, q += 2) {
      v[0] += w[k] * q[0];
      v[1] += w[k] * q[1];
    }
#endif
    const float a = static_cast<float>(v[0]), bb = static_cast<float>(v[1]);
    dstA[ox] = a; dstA[S + ox] = a; dstA[2 * S + ox] = a;
    dstB[ox] = bb; dstB[S + ox] = bb; dstB[2 * S + ox] = bb;
  }
}

/**
 * One output row (vertical() of the TS): up to 8 taps the sum runs left to right from the first
 * product; wider windows sum four products at a time into acc (acc = p0+p1+p2+p3, then
 * acc += (p4+p5+p6+p7) ...), the last 1-4 taps added to acc one by one; then ·scale + shift.
 */
void vertical(const float* ring, const long* rows, const float* w, long T, double* acc, float* row, long S, const float* scale, const float* shift, bool avx2) {
  const long n = 3 * S;
  long k0 = 0;  // taps before k0 are in acc
  if (T > 8) {
    const long last = ((T - 1) & 3) + 1;
    for (long k = 0; k < T - last; k += 4) {
      const double wa = w[k], wb = w[k + 1], wc = w[k + 2], wd = w[k + 3];
      const float *a = ring + rows[k], *b = ring + rows[k + 1], *c = ring + rows[k + 2], *d = ring + rows[k + 3];
      if (k == 0) {
        for (long j = 0; j < n; j++) acc[j] = wa * a[j] + wb * b[j] + wc * c[j] + wd * d[j];
      } else {
        for (long j = 0; j < n; j++) acc[j] += wa * a[j] + wb * b[j] + wc * c[j] + wd * d[j];
      }
    }
    k0 = T - last;
  }
  for (long c = 0; c < 3; c++) {
    const double sc = scale[c], sh = shift[c];
    const long j0 = c * S, j1 = j0 + S;
    long j = j0;
#if defined(SR_PREPROCESS_AVX2)
    if (avx2) j = verticalAvx2(ring, rows, w, T, k0, acc, row, j0, j1, sc, sh);
#endif
#if defined(__SSE2__)
    const __m128d vsc = _mm_set1_pd(sc), vsh = _mm_set1_pd(sh);
    for (; j + 2 <= j1; j += 2) {
      __m128d s;
      long k = k0;
      if (k0 > 0) {
        s = _mm_loadu_pd(acc + j);
      } else {
        s = _mm_mul_pd(_mm_set1_pd(static_cast<double>(w[0])), _mm_cvtps_pd(_mm_castpd_ps(_mm_load_sd(reinterpret_cast<const double*>(ring + rows[0] + j)))));
        k = 1;
      }
      for (; k < T; k++) {
        const __m128d v = _mm_cvtps_pd(_mm_castpd_ps(_mm_load_sd(reinterpret_cast<const double*>(ring + rows[k] + j))));
        s = _mm_add_pd(s, _mm_mul_pd(_mm_set1_pd(static_cast<double>(w[k])), v));
      }
      s = _mm_add_pd(_mm_mul_pd(s, vsc), vsh);
      _mm_storel_pi(reinterpret_cast<__m64*>(row + j), _mm_cvtpd_ps(s));
    }
#endif
    for (; j < j1; j++) {
      double s;
      long k = k0;
      if (k0 > 0) {
        s = acc[j];
      } else {
        s = static_cast<double>(w[0]) * ring[rows[0] + j];
        k = 1;
      }
      for (; k < T; k++) s += static_cast<double>(w[k]) * ring[rows[k] + j];
      row[j] = static_cast<float>(s * sc + sh);
    }
  }
}

/** One [3, S] model-image row → its place in every patch it crosses. */
void toPatches(const float* row, long S, long p, float* out, long rowOff) {
  const long g = S / p, pp = p * p, dim = 3 * pp;
  for (long c = 0; c < 3; c++) {
    const float* src = row + c * S;
    float* o = out + rowOff + c * pp;
    for (long gx = 0; gx < g; gx++, o += dim, src += p) std::memcpy(o, src, sizeof(float) * p);
  }
}

/** Rows 2y (a) and 2y + 1 (b) → row y of the S/2 image averaged 2×2: 0.25 · (a0 + a1 + b0 + b1) in double. */
void coarseRow(const float* a, const float* b, long S, long p, float* out, long rowOff) {
  const long H = S / 2, g = H / p, pp = p * p, dim = 3 * pp;
  for (long c = 0; c < 3; c++) {
    long j = c * S;
    float* o = out + rowOff + c * pp;
    for (long gx = 0; gx < g; gx++, o += dim) {
      for (long x = 0; x < p; x++, j += 2) {
        o[x] = static_cast<float>(0.25 * (((static_cast<double>(a[j]) + a[j + 1]) + b[j]) + b[j + 1]));
      }
    }
  }
}

long patchRowOffset(long y, long side, long p) {
  const long g = side / p, dim = 3 * p * p;
  return (y / p) * g * dim + (y % p) * p;
}

Axis axisArg(const Napi::CallbackInfo& info, size_t i, const char* K, const char* name, long inSize, long outSize) {
  Napi::Env env = info.Env();
  const std::string n(name);
  auto start = sr::typedArrayArg<int32_t>(info, i, K, (n + " start").c_str(), static_cast<size_t>(outSize));
  const long taps = integerIn(env, numberArg(info, i + 2, K, (n + " taps").c_str()), 1, inSize, K, (n + " taps").c_str());
  auto weights = sr::typedArrayArg<float>(info, i + 1, K, (n + " weights").c_str(), static_cast<size_t>(outSize * taps));
  for (long o = 0; o < outSize; o++) {
    if (start.data[o] < 0 || start.data[o] > inSize - taps) rangeFail(env, K, n + " start[" + std::to_string(o) + "] is outside the input");
  }
  return Axis{start.data, weights.data, taps};
}

// resizeToPatches(data, width, height, step, bpp, r, g, b, xStart, xWeights, xTaps, yStart, yWeights, yTaps,
//                 size, patch, scale, shift, patches, coarsePatches[, allowAvx2])
Napi::Value ResizeToPatches(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const char* K = "resizeToPatches";
  auto data = sr::typedArrayArg<uint8_t>(info, 0, K, "data", 0, true);
  const long width = integerIn(env, numberArg(info, 1, K, "width"), 1, kMaxSide, K, "width");
  const long height = integerIn(env, numberArg(info, 2, K, "height"), 1, kMaxSide, K, "height");
  const long bpp = integerIn(env, numberArg(info, 4, K, "bpp"), 1, 4, K, "bpp");
  const long step = integerIn(env, numberArg(info, 3, K, "step"), width * bpp, 1L << 40, K, "step");
  const long r = integerIn(env, numberArg(info, 5, K, "r"), 0, bpp - 1, K, "r");
  const long g = integerIn(env, numberArg(info, 6, K, "g"), 0, bpp - 1, K, "g");
  const long b = integerIn(env, numberArg(info, 7, K, "b"), 0, bpp - 1, K, "b");
  if (bpp == 2) rangeFail(env, K, "bpp must be 1, 3 or 4");
  holds(env, data.length, static_cast<size_t>(step * (height - 1) + width * bpp), K, "data");
  const long S = integerIn(env, numberArg(info, 14, K, "size"), 1, kMaxSide, K, "size");
  const long p = integerIn(env, numberArg(info, 15, K, "patch"), 1, S, K, "patch");
  if (S % p != 0) rangeFail(env, K, "size must be a multiple of patch");
  const Axis x = axisArg(info, 8, K, "x", width, S);
  const Axis y = axisArg(info, 11, K, "y", height, S);
  auto scale = sr::typedArrayArg<float>(info, 16, K, "scale", 3);
  auto shift = sr::typedArrayArg<float>(info, 17, K, "shift", 3);
  auto patches = sr::typedArrayArg<float>(info, 18, K, "patches", static_cast<size_t>(3 * S * S));
  auto coarse = sr::typedArrayArg<float>(info, 19, K, "coarsePatches", 0, true);
  const bool hasCoarse = coarse.length > 0;
  if (hasCoarse) {
    if (S % (2 * p) != 0) rangeFail(env, K, "coarse patches need size a multiple of 2 x patch");
    if (coarse.length != static_cast<size_t>(3 * (S / 2) * (S / 2))) rangeFail(env, K, "coarsePatches must hold 3 (size/2)^2 elements or none");
  }

  Scratch& s = scratch;
  // Rows are filtered 4 at a time on the AVX2 path (else 2): ring slot = row % R, R = T + 3, so
  // rows yy + 1 .. yy + 3 land in the slots of rows yy − T .. yy − T + 2, before every window from here on.
  // An optional 21st argument false keeps to the SSE2 path (tests cover both on an AVX2 host).
  const bool avx2 = haveAvx2() && !(info.Length() > 20 && info[20].IsBoolean() && !info[20].As<Napi::Boolean>().Value());
  const bool quad = avx2 && bpp != 1;
  const long T = y.taps, R = T + 3, rowLen = 3 * S;
  if (s.ring.size() < static_cast<size_t>(R * rowLen)) s.ring.resize(R * rowLen);
  if (s.ringRow.size() < static_cast<size_t>(R)) s.ringRow.resize(R);
  if (s.tapRows.size() < static_cast<size_t>(T)) s.tapRows.resize(T);
  if (s.pix.size() < static_cast<size_t>(width * 16)) s.pix.resize(width * 16);
  if (s.dummy.size() < static_cast<size_t>(rowLen)) s.dummy.resize(rowLen);
  const long lane[3] = {r, g, b};
  if (s.acc.size() < static_cast<size_t>(rowLen)) s.acc.resize(rowLen);
  if (s.rowA.size() < static_cast<size_t>(rowLen)) { s.rowA.resize(rowLen); s.rowB.resize(rowLen); }
  std::fill(s.ringRow.begin(), s.ringRow.begin() + R, -1L);
  float* ring = s.ring.data();
  const uint8_t* px = data.data;

  for (long oy = 0; oy < S; oy++) {
    const long y0 = y.start[oy];
    for (long k = 0; k < T; k++) {
      const long yy = y0 + k, slot = yy % R;
      if (s.ringRow[slot] != yy) {
#if defined(SR_PREPROCESS_AVX2)
        if (quad) {
          const uint8_t* src[4];
          float* dst[4];
          for (long q = 0; q < 4; q++) {
            const long yq = yy + q;
            src[q] = px + (yq < height ? yq : yy) * step;
            dst[q] = yq < height ? ring + (yq % R) * rowLen : s.dummy.data();
          }
          horizontalQuadAvx2(src, width, bpp, lane, x, s.pix.data(), dst, S);
          for (long q = 0; q < 4 && yy + q < height; q++) s.ringRow[(yy + q) % R] = yy + q;
          s.tapRows[k] = slot * rowLen;
          continue;
        }
#endif
        const bool pair = yy + 1 < height;
        const long slot2 = pair ? (yy + 1) % R : slot;
        const uint8_t* rowA = px + yy * step;
        const uint8_t* rowB = pair ? rowA + step : rowA;
        float* dstA = ring + slot * rowLen;
        float* dstB = ring + slot2 * rowLen;
        if (bpp == 1) horizontalMonoPair(rowA, rowB, width, x, s.pix.data(), dstA, dstB, S);
        else horizontalPair(rowA, rowB, width, bpp, r, g, b, x, s.pix.data(), dstA, dstB, S);
        if (pair) s.ringRow[slot2] = yy + 1;
        s.ringRow[slot] = yy;
      }
      s.tapRows[k] = slot * rowLen;
    }
    float* row = (oy & 1) == 0 ? s.rowA.data() : s.rowB.data();
    vertical(ring, s.tapRows.data(), y.weights + oy * T, T, s.acc.data(), row, S, scale.data, shift.data, avx2);
    toPatches(row, S, p, patches.data, patchRowOffset(oy, S, p));
    if (hasCoarse && (oy & 1) == 1) coarseRow(s.rowA.data(), s.rowB.data(), S, p, coarse.data, patchRowOffset(oy >> 1, S / 2, p));
  }
  return env.Undefined();
}

void InitImagePreprocess(Napi::Env env, Napi::Object exports) {
  exports.Set("resizeToPatches", Napi::Function::New(env, ResizeToPatches, "resizeToPatches"));
}

}  // namespace

SR_KERNEL_FAMILY(image_preprocess, InitImagePreprocess);
