// Perception's per-object kernel (family "perception_objects"): measureObjects, a port of
// src/perception/object_measurements.ts ObjectMeasurer: per object, its pixels lifted to the
// spatial frame (mask repair by depth, flying-pixel rejection, colour and bottom-edge contact
// evidence accumulated in the same pass), then its box (perception_box.cc). One call for all
// of a frame's objects; the caller's typed arrays are read and written in place; the box
// estimator's scratch is per thread and reused (allocated only when a larger object than any
// before arrives). Layouts: MEASURE_PARAMS in, MEASURE out (change both sides together).
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

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

// A run of pixels in one luminance bin, summed in registers and added to a ColorSums when the
// bin changes and at the end (neighbouring pixels mostly share a bin; adding each to the arrays
// chained every pixel on the last one's stores). Integer sums: the same totals in any order.
struct ColorRun {
  int bin = -1;
  uint32_t n = 0;
  uint64_t r = 0, g = 0, b = 0;
  void add(ColorSums& to, int nb, int R, int G, int B) {
    if (nb != bin) {
      flush(to);
      bin = nb;
    }
    n++;
    r += static_cast<uint64_t>(R);
    g += static_cast<uint64_t>(G);
    b += static_cast<uint64_t>(B);
  }
  void flush(ColorSums& to) {
    if (n == 0) return;
    to.pixels += n;
    to.hist[bin] += n;
    to.sums[bin * 3] += r;
    to.sums[bin * 3 + 1] += g;
    to.sums[bin * 3 + 2] += b;
    n = 0;
    r = g = b = 0;
  }
};

struct Workspace {
  ObjectBoxEstimator boxes{BoxOptions{0, 0, 0, 0}};
  ColorSums colors;
  // The colour away from touching surfaces (object_measurements.ts BLEED_REACH).
  ColorSums inner;
  std::vector<float> edgeHeight;
  std::vector<uint8_t> edgeKind;
  int32_t contact[4];
  long liftStep = 1;
  long islands = 0;
};

// Inlined at both calls (GCC kept it out of line: a call per lifted pixel, and the reach-1
// call with its loop not unrolled); no effect on results.
#if defined(__GNUC__)
#define SR_ALWAYS_INLINE __attribute__((always_inline)) inline
#else
#define SR_ALWAYS_INLINE inline
#endif

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
template <typename D, typename L>
bool touches(const L* labels, long ls, const D* d, long ds, double dscale, long u, long v, long id, double z, double jump, long width, long height) {
  const long k = kBleedReach;
  return (u >= k && labels[v * ls + u - k] != id && continuous(static_cast<double>(d[v * ds + u - k]) * dscale, z, jump)) ||
         (u + k < width && labels[v * ls + u + k] != id && continuous(static_cast<double>(d[v * ds + u + k]) * dscale, z, jump)) ||
         (v >= k && labels[(v - k) * ls + u] != id && continuous(static_cast<double>(d[(v - k) * ds + u]) * dscale, z, jump)) ||
         (v + k < height && labels[(v + k) * ls + u] != id && continuous(static_cast<double>(d[(v + k) * ds + u]) * dscale, z, jump));
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
  const double dscale = kUnitScale ? 1.0 : f.dscale, minZ = f.minZ, maxZ = f.maxZ, floorZ = f.floorZ, colorFloorZ = f.colorFloorZ, noise1m = f.noise1m;
  const double r0 = f.r[0], r1 = f.r[1], r2 = f.r[2], r3 = f.r[3], r4 = f.r[4], r5 = f.r[5], r6 = f.r[6], r7 = f.r[7], r8 = f.r[8];
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
  ColorSums& colors = ws.colors;
  ColorSums& inner = ws.inner;
  long n = 0, edges = 0, islands = 0;
  double depthSum = 0;
  double lowest = std::numeric_limits<double>::infinity();
  colors.begin();
  inner.begin();
  ColorRun colorRun, innerRun;
  const double dp = static_cast<double>(pixels);
  const long step = dp > f.maxPoints * 4 ? 3 : dp > f.maxPoints ? 2 : 1;
  ws.liftStep = step;
  for (long v = V0; v <= V1; v = v + step > V1 && v < V1 ? V1 : v + step) {
    const double ry = rayY[v];
    const long row = v * ls;
    // The colour image is read only on the row being lifted (depth and labels are read two rows
    // ahead by the neighbour tests): fetch the next row's colour span now, so its first read is no miss.
    prefetchRange(rgb + (v + step <= V1 ? v + step : v) * f.rgbStep + U0 * 3, static_cast<size_t>(U1 - U0 + 1) * 3);
    for (long u = U0; u <= U1; u = u + step > U1 && u < U1 ? U1 : u + step) {
      const long label = labels[row + u];
      if (label != id && (label != 0 || repair == 0)) continue;
      const long di = v * ds + u;
      const double z = static_cast<double>(d[di]) * dscale;
      if (!(z > minZ && z < maxZ)) continue;
      if (repair > 0) {
        const double tol = 0.01 + 3 * noise1m * z * z;
        // Mask repair by depth (object_measurements.ts).
        if (label == 0 ? !adjoins(labels, ls, d, ds, dscale, u, v, id, z, tol, repair, width, height) : !adjoins(labels, ls, d, ds, dscale, u, v, id, z, tol, 1, width, height)) {
          if (label != 0) islands++;
          continue;
        }
      }
      // Flying pixels and mask spill: a markedly nearer neighbour.
      const double jump = 0.03 + 0.03 * z;
      const double lim = z - jump;
      if ((u >= 2 && nearer(static_cast<double>(d[di - 1]) * dscale, static_cast<double>(d[di - 2]) * dscale, lim)) ||
          (u + 2 < width && nearer(static_cast<double>(d[di + 1]) * dscale, static_cast<double>(d[di + 2]) * dscale, lim)) ||
          (v >= 2 && nearer(static_cast<double>(d[di - ds]) * dscale, static_cast<double>(d[di - 2 * ds]) * dscale, lim)) ||
          (v + 2 < height && nearer(static_cast<double>(d[di + ds]) * dscale, static_cast<double>(d[di + 2 * ds]) * dscale, lim)))
        continue;
      const double cx = rayX[u] * z, cy = ry * z;
      const double pz = r6 * cx + r7 * cy + r8 * z;
      if (pz < floorZ) continue;
      depthSum += z;
      xs[n] = static_cast<float>(r0 * cx + r1 * cy + r2 * z);
      ys[n] = static_cast<float>(r3 * cx + r4 * cy + r5 * z);
      const float zf = static_cast<float>(pz);
      zs[n] = zf;
      n++;
      // The lowest point, as a pass over zs after the loop would find it (same values, same order).
      if (zf < lowest) lowest = zf;
      // Contact evidence at the bottom edge.
      if (v + 2 < height && labels[row + 2 * ls + u] != id && edges < edgeCapacity && static_cast<double>(d[di + 2 * ds]) * dscale > minZ &&
          static_cast<double>(d[di + 2 * ds]) * dscale < maxZ) {
        // 0 support, 1 object, 2 floating, 3 hidden by a nearer object below it in the image.
        const double dz2 = static_cast<double>(d[di + 2 * ds]) * dscale - z;
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
        edgeHeight[edges] = static_cast<float>(pz);
        edgeKind[edges++] = kind;
      }
      // Colour only from points clearly off the surface.
      if (pz > colorFloorZ) {
        const long ci = v * f.rgbStep + u * 3;
        const int r = f.bgr ? rgb[ci + 2] : rgb[ci], g = rgb[ci + 1], bl = f.bgr ? rgb[ci] : rgb[ci + 2];
        const int bin = lumBin(r, g, bl);
        colorRun.add(colors, bin, r, g, bl);
        if (label == id && !touches(labels, ls, d, ds, dscale, u, v, id, z, jump, width, height)) innerRun.add(inner, bin, r, g, bl);
      }
    }
  }
  colorRun.flush(colors);
  innerRun.flush(inner);
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

template <typename D, typename L>
void measureAll(Workspace& ws, const Frame& f, const double* p, const D* depth, const L* labels, const int32_t* count, const int32_t* ids, long n,
                float* xs, float* ys, float* zs, double* out) {
  const double supportZ = p[kSupportZ];
  BoxContext ctx{supportZ, 4, p[kNoise1m], 0};
  const double minPoints = p[kMinPoints], focalSum = p[kFocalSum];
  Box3 b{0, 0, 0, 0, 0, 0};
  for (long k = 0; k < n; k++) {
    const long id = ids[k];
    double* o = out + k * kStride;
    long points = f.dscale == 1 ? lift<D, L, true>(ws, f, depth, labels, id, count[id], xs, ys, zs) : lift<D, L, false>(ws, f, depth, labels, id, count[id], xs, ys, zs);
    o[kIslands] = static_cast<double>(ws.islands);
    if (static_cast<double>(points) < minPoints) {
      o[kStatus] = 1;
      o[kPoints] = static_cast<double>(points);
      continue;
    }
    const int rests = restingOnCode(ws.contact[0], ws.contact[1], ws.contact[2], ws.contact[3]);
    ctx.restingOn = rests;
    ctx.pixelAngle = (2 * static_cast<double>(ws.liftStep)) / focalSum;
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
}

template <typename D>
void measureAllD(Workspace& ws, const Frame& f, const double* p, const D* depth, const ImageArg& labels, const int32_t* count, const int32_t* ids, long n,
                 float* xs, float* ys, float* zs, double* out) {
  if (labels.type == Sample::kUint8) measureAll(ws, f, p, depth, static_cast<const uint8_t*>(labels.data), count, ids, n, xs, ys, zs, out);
  else measureAll(ws, f, p, depth, static_cast<const uint16_t*>(labels.data), count, ids, n, xs, ys, zs, out);
}

// measureObjects(params, depth, labels, rgb, rayX, rayY, ids, n, count, u0, u1, v0, v1, xs, ys, zs, out)
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

  thread_local Workspace ws;
  ws.boxes.setOptions(BoxOptions{p[kTrim], p[kRestingTolerance], p[kFlatCurvature], p[kTopFaceSpan]});
  // Bottom-edge pixels of one instance: a few per column at most (the reference's capacity).
  if (ws.edgeHeight.size() != w * 8) {
    ws.edgeHeight.assign(w * 8, 0.0f);
    ws.edgeKind.assign(w * 8, 0);
  }
  if (depth.type == Sample::kFloat32) measureAllD(ws, f, p, static_cast<const float*>(depth.data), labels, ext[0], ids.data, n, xs.data, ys.data, zs.data, out.data);
  else measureAllD(ws, f, p, static_cast<const uint16_t*>(depth.data), labels, ext[0], ids.data, n, xs.data, ys.data, zs.data, out.data);
  return env.Undefined();
}

void InitPerceptionObjects(Napi::Env env, Napi::Object exports) {
  exports.Set("measureObjects", Napi::Function::New(env, MeasureObjects, "measureObjects"));
}

}  // namespace

SR_KERNEL_FAMILY(perception_objects, InitPerceptionObjects);
