// The simulator's RGB-D rasteriser (kernel family "render"): a port of sim/renderer.ts's
// per-pixel loop, the reference. One ray per pixel through the pinhole, direction (x, y, 1) in
// the optical frame, so t is the optical depth; nearest object hit wins (earliest index on ties),
// else the table top, else the floor, else sky. Every double is computed with the reference's
// operations in its order (hoisting only what is the same value for every pixel), so depth,
// RGB, mask and the per-object pixel counts equal the TypeScript path's bit for bit.
//
// Zero copy: the caller's typed arrays are written in place; nothing is allocated per frame.
// The TS wrapper (sim/native_rasteriser.ts) packs the scene and validates it; the checks here
// only guarantee that no input can read or write outside the caller's buffers.
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "kernels.h"
#include "render_primitives.h"

namespace {

using sr::render::Hit;

// The layout (sim/native_rasteriser.ts RENDER_LAYOUT): change both together and bump the version.
constexpr int kLayoutVersion = 2;
constexpr size_t kSceneLength = 40;
constexpr size_t kObjectStride = 12;
constexpr int kMaxObjects = 255;
constexpr int kMaxSide = 16384;
enum Scene : size_t {
  kWidth = 0, kHeight, kFx, kFy, kCx, kCy,
  kPx, kPy, kPz, kRx, kRy, kRz, kDx, kDy, kDz, kFwdX, kFwdY, kFwdZ,
  kTableZ, kTableHalfX, kTableHalfY,
  kLight0, kLight1, kLight2, kAmbient, kDiffuse, kMaxRange,
  kSkyR, kSkyG, kSkyB, kTableR, kTableG, kTableB, kFloorR, kFloorG, kFloorB,
  kObjectCount,
};
enum Object : size_t { kType = 0, kP0, kP1, kP2, kX, kY, kZ, kCos, kSin, kBaseR, kBaseG, kBaseB };

struct Placed {
  int type;
  double p[3];
  double x, y, z, c, s;
  // The camera centre in the object's local frame: the same for every ray of the frame.
  double lox, loy, loz;
  double base[3];
  int u0, u1, v0, v1;
};

[[noreturn]] void fail(Napi::Env env, const std::string& what) { throw Napi::RangeError::New(env, "renderRgbd: " + what); }

int integerIn(Napi::Env env, double x, int lo, int hi, const char* what) {
  if (!(x >= lo && x <= hi) || x != std::floor(x)) fail(env, std::string(what) + " must be an integer in [" + std::to_string(lo) + ", " + std::to_string(hi) + "], got " + std::to_string(x));
  return static_cast<int>(x);
}

// The object's pixel bounds: its world AABB's corners projected, a pixel of margin, the whole
// image when a corner is at or behind the camera (sim/renderer.ts projectedBounds, the TS
// path's, operation for operation, down to the Int32Array stores). Only rows and columns inside
// them are tested against the object.
void projectedBounds(Placed& q, const double* sc, int width, int height) {
  using sr::js::min;
  using sr::js::max;
  using sr::render::supportWorld;
  const double x0 = -supportWorld(q.type, q.p, q.x, q.y, q.z, q.c, q.s, -1, 0, 0), x1 = supportWorld(q.type, q.p, q.x, q.y, q.z, q.c, q.s, 1, 0, 0);
  const double y0 = -supportWorld(q.type, q.p, q.x, q.y, q.z, q.c, q.s, 0, -1, 0), y1 = supportWorld(q.type, q.p, q.x, q.y, q.z, q.c, q.s, 0, 1, 0);
  const double z0 = -supportWorld(q.type, q.p, q.x, q.y, q.z, q.c, q.s, 0, 0, -1), z1 = supportWorld(q.type, q.p, q.x, q.y, q.z, q.c, q.s, 0, 0, 1);
  double a = sr::render::kInf, b = -sr::render::kInf, c = sr::render::kInf, d = -sr::render::kInf;
  bool behind = false;
  for (int corner = 0; corner < 8; corner++) {
    const double x = corner & 4 ? x1 : x0, y = corner & 2 ? y1 : y0, z = corner & 1 ? z1 : z0;
    const double dx = x - sc[kPx], dy = y - sc[kPy], dz = z - sc[kPz];
    const double ox = dx * sc[kRx] + dy * sc[kRy] + dz * sc[kRz];
    const double oy = dx * sc[kDx] + dy * sc[kDy] + dz * sc[kDz];
    const double oz = dx * sc[kFwdX] + dy * sc[kFwdY] + dz * sc[kFwdZ];
    const double u = sc[kCx] + (sc[kFx] * ox) / oz, v = sc[kCy] + (sc[kFy] * oy) / oz;
    if (oz <= 0.01) behind = true;
    a = min(a, u);
    b = max(b, u);
    c = min(c, v);
    d = max(d, v);
  }
  if (behind) {
    a = 0;
    b = width - 1;
    c = 0;
    d = height - 1;
  }
  q.u0 = sr::js::toInt32(max(0, std::floor(a) - 1));
  q.u1 = sr::js::toInt32(min(width - 1, std::ceil(b) + 1));
  q.v0 = sr::js::toInt32(max(0, std::floor(c) - 1));
  q.v1 = sr::js::toInt32(min(height - 1, std::ceil(d) + 1));
}

// What a ray that hits no object sees: the table top, else the floor, else sky.
struct Background {
  double tableRise, floorRise, Px, Py, maxRange, halfX, halfY;
  const uint8_t* rgb[3];  // sky, table, floor
};

// One row's background. Both divisions are computed for every pixel, without branches, so
// they pipeline (two lanes at a time with SSE2, every x86-64) instead of waiting on the
// table-edge branch; each lane's IEEE operations are the reference's, and the values kept are
// the ones the reference computes in its branches: depth tTable on the table, tFloor on the
// floor, 0 for sky.
void backgroundRow(const Background& b, const double* colX, const double* colY, const double* colZ, double dyx, double dyy,
                   double dyz, int width, float* depth, uint8_t* mask, uint8_t* rgb) {
  std::memset(mask, 0, static_cast<size_t>(width));
  int u = 0;
#if defined(__SSE2__)
  const __m128d vdyx = _mm_set1_pd(dyx), vdyy = _mm_set1_pd(dyy), vdyz = _mm_set1_pd(dyz);
  const __m128d rise = _mm_set1_pd(b.tableRise), fall = _mm_set1_pd(b.floorRise), px = _mm_set1_pd(b.Px), py = _mm_set1_pd(b.Py);
  const __m128d range = _mm_set1_pd(b.maxRange), hx0 = _mm_set1_pd(b.halfX), hy0 = _mm_set1_pd(b.halfY);
  const __m128d zero = _mm_setzero_pd(), absMask = _mm_castsi128_pd(_mm_set1_epi64x(0x7fffffffffffffffLL));
  for (; u + 2 <= width; u += 2) {
    const __m128d dx = _mm_add_pd(_mm_loadu_pd(colX + u), vdyx);
    const __m128d dy = _mm_add_pd(_mm_loadu_pd(colY + u), vdyy);
    const __m128d dz = _mm_add_pd(_mm_loadu_pd(colZ + u), vdyz);
    const __m128d tTable = _mm_div_pd(rise, dz);
    const __m128d hx = _mm_add_pd(px, _mm_mul_pd(tTable, dx)), hy = _mm_add_pd(py, _mm_mul_pd(tTable, dy));
    const __m128d tFloor = _mm_div_pd(fall, dz);
    const __m128d down = _mm_cmplt_pd(dz, zero);
    const __m128d onTable = _mm_and_pd(_mm_and_pd(down, _mm_cmplt_pd(tTable, range)),
                                       _mm_and_pd(_mm_cmple_pd(_mm_and_pd(hx, absMask), hx0), _mm_cmple_pd(_mm_and_pd(hy, absMask), hy0)));
    const __m128d onFloor = _mm_andnot_pd(onTable, _mm_and_pd(down, _mm_cmplt_pd(tFloor, range)));
    const __m128d d = _mm_or_pd(_mm_and_pd(onTable, tTable), _mm_and_pd(onFloor, tFloor));
    _mm_storel_pi(reinterpret_cast<__m64*>(depth + u), _mm_cvtpd_ps(d));
    const int table = _mm_movemask_pd(onTable), floor = _mm_movemask_pd(onFloor);
    for (int k = 0; k < 2; k++) {
      const uint8_t* c = b.rgb[(table >> k & 1) ? 1 : (floor >> k & 1) ? 2 : 0];
      uint8_t* out = rgb + 3 * (u + k);
      out[0] = c[0];
      out[1] = c[1];
      out[2] = c[2];
    }
  }
#endif
  for (; u < width; u++) {
    const double dx = colX[u] + dyx, dy = colY[u] + dyy, dz = colZ[u] + dyz;
    const double tTable = b.tableRise / dz;
    const double hx = b.Px + tTable * dx, hy = b.Py + tTable * dy;
    const double tFloor = b.floorRise / dz;
    const bool down = dz < 0;
    const bool onTable = down & (tTable < b.maxRange) & (std::fabs(hx) <= b.halfX) & (std::fabs(hy) <= b.halfY);
    const bool onFloor = down & !onTable & (tFloor < b.maxRange);
    depth[u] = static_cast<float>(onTable ? tTable : onFloor ? tFloor : 0.0);
    const uint8_t* c = b.rgb[onTable ? 1 : onFloor ? 2 : 0];
    uint8_t* out = rgb + 3 * u;
    out[0] = c[0];
    out[1] = c[1];
    out[2] = c[2];
  }
}

// renderRgbd(scene: Float64Array, objects: Float64Array, bounds (out): Int32Array, rgb: Uint8Array,
//            depth: Float32Array, mask: Uint8Array, visible: Int32Array, silhouette: Int32Array)
Napi::Value RenderRgbd(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto scene = sr::typedArrayArg<double>(info, 0, "renderRgbd", "scene", kSceneLength);
  // Read every scalar before any output is written: an output may share the scene's buffer.
  double sc[kSceneLength];
  std::memcpy(sc, scene.data, sizeof sc);
  for (size_t i = 0; i < kSceneLength; i++) {
    if (!std::isfinite(sc[i])) fail(env, "scene[" + std::to_string(i) + "] is not finite");
  }
  const int width = integerIn(env, sc[kWidth], 1, kMaxSide, "width");
  const int height = integerIn(env, sc[kHeight], 1, kMaxSide, "height");
  const int n = integerIn(env, sc[kObjectCount], 0, kMaxObjects, "object count");
  const size_t pixels = static_cast<size_t>(width) * static_cast<size_t>(height);
  auto objects = sr::typedArrayArg<double>(info, 1, "renderRgbd", "objects", n * kObjectStride, true);
  auto bounds = sr::typedArrayArg<int32_t>(info, 2, "renderRgbd", "bounds", 4 * static_cast<size_t>(n), true);

  Placed placed[kMaxObjects];
  const double Px = sc[kPx], Py = sc[kPy], Pz = sc[kPz];
  for (int i = 0; i < n; i++) {
    const double* o = objects.data + i * kObjectStride;
    Placed& q = placed[i];
    q.type = integerIn(env, o[kType], 0, sr::render::kBowl, "primitive type");
    for (int k = 0; k < 3; k++) q.p[k] = o[kP0 + k];
    q.x = o[kX];
    q.y = o[kY];
    q.z = o[kZ];
    q.c = o[kCos];
    q.s = o[kSin];
    // shapes.ts intersectWorld: the ray origin into the local frame (rotate by −yaw).
    const double px = Px - o[kX], py = Py - o[kY];
    q.lox = q.c * px + q.s * py;
    q.loy = -q.s * px + q.c * py;
    q.loz = Pz - o[kZ];
    for (int k = 0; k < 3; k++) q.base[k] = o[kBaseR + k];
    projectedBounds(q, sc, width, height);
  }
  // Written only now: `bounds` may share memory with `objects`.
  for (int i = 0; i < n; i++) {
    bounds.data[4 * i] = placed[i].u0;
    bounds.data[4 * i + 1] = placed[i].u1;
    bounds.data[4 * i + 2] = placed[i].v0;
    bounds.data[4 * i + 3] = placed[i].v1;
  }
  auto rgb = sr::typedArrayArg<uint8_t>(info, 3, "renderRgbd", "rgb", pixels * 3);
  auto depth = sr::typedArrayArg<float>(info, 4, "renderRgbd", "depth", pixels);
  auto mask = sr::typedArrayArg<uint8_t>(info, 5, "renderRgbd", "mask", pixels);
  auto visible = sr::typedArrayArg<int32_t>(info, 6, "renderRgbd", "visible", n);
  auto silhouette = sr::typedArrayArg<int32_t>(info, 7, "renderRgbd", "silhouette", n);
  for (int i = 0; i < n; i++) {
    visible.data[i] = 0;
    silhouette.data[i] = 0;
  }

  const double fx = sc[kFx], fy = sc[kFy], cx = sc[kCx], cy = sc[kCy];
  const double Rx = sc[kRx], Ry = sc[kRy], Rz = sc[kRz], Dx = sc[kDx], Dy = sc[kDy], Dz = sc[kDz];
  const double Fx = sc[kFwdX], Fy = sc[kFwdY], Fz = sc[kFwdZ];
  const double tableZ = sc[kTableZ], halfX = sc[kTableHalfX], halfY = sc[kTableHalfY];
  const double L0 = sc[kLight0], L1 = sc[kLight1], L2 = sc[kLight2], ambient = sc[kAmbient], diffuse = sc[kDiffuse];
  const double maxRange = sc[kMaxRange];
  // The reference's (world.tableZ - P.z) and -P.z, the same for every ray.
  const double tableRise = tableZ - Pz, floorRise = -Pz;
  // Shading of the sky (1), table and floor (lit from above) is the same for every pixel.
  const double flatShade = ambient + diffuse * L2;
  uint8_t sky[3], table[3], floorRgb[3];
  for (int k = 0; k < 3; k++) {
    sky[k] = sr::js::toUint8(sr::js::min255(sc[kSkyR + k] * 1.0));
    table[k] = sr::js::toUint8(sr::js::min255(sc[kTableR + k] * flatShade));
    floorRgb[k] = sr::js::toUint8(sr::js::min255(sc[kFloorR + k] * flatShade));
  }

  // F + R·x per column, as the reference's (F.x + R.x * ox) before it adds D.x * oy.
  // thread_local: sized once per width, reused by every later frame (no per-frame allocation).
  thread_local std::vector<double> columnStore;
  columnStore.resize(3 * static_cast<size_t>(width));
  // One TLS lookup per frame, not per pixel. Three planes (x, y, z) for two-lane loads.
  double* const colX = columnStore.data();
  double* const colY = colX + width;
  double* const colZ = colY + width;
  for (int u = 0; u < width; u++) {
    const double ox = (u - cx) / fx;
    colX[u] = Fx + Rx * ox;
    colY[u] = Fy + Ry * ox;
    colZ[u] = Fz + Rz * ox;
  }
  const Background bgScene{tableRise, floorRise, Px, Py, maxRange, halfX, halfY, {sky, table, floorRgb}};

  int rowObjects[kMaxObjects];
  Hit hit{0, 0, 0, 0};
  for (int v = 0; v < height; v++) {
    const double oy = (v - cy) / fy;
    const double dyx = Dx * oy, dyy = Dy * oy, dyz = Dz * oy;
    int rowCount = 0;
    int rowU0 = width, rowU1 = -1;
    for (int i = 0; i < n; i++) {
      if (v >= placed[i].v0 && v <= placed[i].v1) {
        rowObjects[rowCount++] = i;
        if (placed[i].u0 < rowU0) rowU0 = placed[i].u0;
        if (placed[i].u1 > rowU1) rowU1 = placed[i].u1;
      }
    }
    const size_t rowBase = static_cast<size_t>(v) * width;
    backgroundRow(bgScene, colX, colY, colZ, dyx, dyy, dyz, width, depth.data + rowBase, mask.data + rowBase, rgb.data + 3 * rowBase);
    // Then the objects, over the columns some object of this row covers.
    const int uFirst = rowU0 < 0 ? 0 : rowU0, uLast = rowU1 >= width ? width - 1 : rowU1;
    for (int u = uFirst; u <= uLast; u++) {
      const double dx = colX[u] + dyx;
      const double dy = colY[u] + dyy;
      const double dz = colZ[u] + dyz;
      double best = maxRange, nx = 0, ny = 0, nz = 1;
      int who = -1;
      for (int r = 0; r < rowCount; r++) {
        const int i = rowObjects[r];
        const Placed& q = placed[i];
        if (u < q.u0 || u > q.u1) continue;
        const double ldx = q.c * dx + q.s * dy, ldy = -q.s * dx + q.c * dy;
        if (sr::render::intersectLocal(q.type, q.p, q.lox, q.loy, q.loz, ldx, ldy, dz, hit)) {
          silhouette.data[i]++;
          if (hit.t < best) {
            best = hit.t;
            who = i;
            // The local normal back to world axes (intersectWorld).
            nx = q.c * hit.nx - q.s * hit.ny;
            ny = q.s * hit.nx + q.c * hit.ny;
            nz = hit.nz;
          }
        }
      }
      if (who < 0) continue;
      const size_t idx = rowBase + u;
      const Placed& q = placed[who];
      const double shade = ambient + diffuse * sr::js::maxZero(nx * L0 + ny * L1 + nz * L2);
      visible.data[who]++;
      mask.data[idx] = static_cast<uint8_t>(who + 1);
      depth.data[idx] = static_cast<float>(best);
      uint8_t* out = rgb.data + 3 * idx;
      out[0] = sr::js::toUint8(sr::js::min255(q.base[0] * shade));
      out[1] = sr::js::toUint8(sr::js::min255(q.base[1] * shade));
      out[2] = sr::js::toUint8(sr::js::min255(q.base[2] * shade));
    }
  }
  return env.Undefined();
}

// The layout this build was compiled with, checked by the TS wrapper before the first call.
Napi::Value RenderRgbdLayout(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o = Napi::Object::New(env);
  o.Set("version", kLayoutVersion);
  o.Set("sceneLength", static_cast<double>(kSceneLength));
  o.Set("objectStride", static_cast<double>(kObjectStride));
  o.Set("maxObjects", kMaxObjects);
  o.Set("maxSide", kMaxSide);
  return o;
}

void InitRender(Napi::Env env, Napi::Object exports) {
  exports.Set("renderRgbd", Napi::Function::New(env, RenderRgbd, "renderRgbd"));
  exports.Set("renderRgbdLayout", Napi::Function::New(env, RenderRgbdLayout, "renderRgbdLayout"));
}

}  // namespace

SR_KERNEL_FAMILY(render, InitRender);
