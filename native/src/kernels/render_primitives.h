// Ray against the simulator's convex primitives, in the primitive's local frame: a line-by-line
// port of sim/shapes.ts (intersectLocal and its helpers), the reference. Same operations in the
// same order, in double, so hits and normals are the TypeScript ones bit for bit.
#pragma once

#include <cmath>
#include <limits>

#include "js_math.h"

namespace sr {
namespace render {

constexpr double kInf = std::numeric_limits<double>::infinity();

struct Hit {
  double t, nx, ny, nz;
};

// Primitive codes of the render layout (sim/native_rasteriser.ts PRIMITIVE_CODES).
enum PrimitiveType : int { kBox = 0, kCylinder = 1, kSphere = 2, kEllipsoid = 3, kCapsule = 4, kBowl = 5 };

inline bool slabBox(double x0, double x1, double y0, double y1, double z0, double z1, double ox, double oy, double oz, double dx,
                    double dy, double dz, Hit& hit) {
  double tn = -kInf, tf = kInf, sign = 0;
  int axis = -1;
  const double lo[3] = {x0, y0, z0}, hi[3] = {x1, y1, z1}, o[3] = {ox, oy, oz}, d[3] = {dx, dy, dz};
  for (int a = 0; a < 3; a++) {
    if (d[a] == 0) {
      if (o[a] < lo[a] || o[a] > hi[a]) return false;
      continue;
    }
    double t0 = (lo[a] - o[a]) / d[a], t1 = (hi[a] - o[a]) / d[a];
    double sg = -1;
    if (t0 > t1) {
      double tt = t0;
      t0 = t1;
      t1 = tt;
      sg = 1;
    }
    if (t0 > tn) {
      tn = t0;
      axis = a;
      sign = sg;
    }
    if (t1 < tf) tf = t1;
  }
  if (tn > tf || tn <= 0 || axis < 0) return false;
  hit.t = tn;
  hit.nx = axis == 0 ? sign : 0;
  hit.ny = axis == 1 ? sign : 0;
  hit.nz = axis == 2 ? sign : 0;
  return true;
}

// Vertical cylinder x²+y² ≤ r², z0 ≤ z ≤ z1.
inline bool cylinderZ(double r, double z0, double z1, double ox, double oy, double oz, double dx, double dy, double dz, Hit& hit) {
  double tn = -kInf, tf = kInf, cap = 0;
  const double a = dx * dx + dy * dy;
  if (a > 0) {
    const double b = ox * dx + oy * dy, c = ox * ox + oy * oy - r * r;
    const double disc = b * b - a * c;
    if (disc < 0) return false;
    const double sq = std::sqrt(disc);
    tn = (-b - sq) / a;
    tf = (-b + sq) / a;
  } else if (ox * ox + oy * oy > r * r) {
    return false;
  }
  if (dz != 0) {
    double t0 = (z0 - oz) / dz, t1 = (z1 - oz) / dz, c0 = -1;
    if (t0 > t1) {
      double tt = t0;
      t0 = t1;
      t1 = tt;
      c0 = 1;
    }
    if (t0 > tn) {
      tn = t0;
      cap = c0;
    }
    if (t1 < tf) tf = t1;
  } else if (oz < z0 || oz > z1) {
    return false;
  }
  if (tn > tf || tn <= 0) return false;
  hit.t = tn;
  if (cap != 0) {
    hit.nx = 0;
    hit.ny = 0;
    hit.nz = cap;
  } else {
    const double hx = ox + tn * dx, hy = oy + tn * dy, n = js::hypot(hx, hy);
    hit.nx = hx / n;
    hit.ny = hy / n;
    hit.nz = 0;
  }
  return true;
}

// Sphere ∩ {zMin ≤ z ≤ zMax} (a flat cut when zMax < cz + r).
inline bool sphere(double cx, double cy, double cz, double r, double ox, double oy, double oz, double dx, double dy, double dz,
                   double zMin, double zMax, Hit& hit) {
  const double px = ox - cx, py = oy - cy, pz = oz - cz;
  const double a = dx * dx + dy * dy + dz * dz;
  const double b = px * dx + py * dy + pz * dz;
  const double c = px * px + py * py + pz * pz - r * r;
  const double disc = b * b - a * c;
  if (disc < 0) return false;
  const double sq = std::sqrt(disc);
  double tn = (-b - sq) / a, tf = (-b + sq) / a;
  bool cut = false;
  if (zMax < kInf || zMin > -kInf) {
    if (dz != 0) {
      double t0 = (zMin - oz) / dz, t1 = (zMax - oz) / dz;
      bool top = false;
      if (t0 > t1) {
        double tt = t0;
        t0 = t1;
        t1 = tt;
        top = true;
      }
      if (t0 > tn) {
        tn = t0;
        cut = top;
      }
      if (t1 < tf) tf = t1;
    } else if (oz < zMin || oz > zMax) {
      return false;
    }
  }
  if (tn > tf || tn <= 0) return false;
  hit.t = tn;
  if (cut) {
    hit.nx = 0;
    hit.ny = 0;
    hit.nz = 1;
  } else {
    hit.nx = (px + tn * dx) / r;
    hit.ny = (py + tn * dy) / r;
    hit.nz = (pz + tn * dz) / r;
  }
  return true;
}

// Capsule along local x: segment (±half, 0, r), radius r; the union's nearest entry.
inline bool capsuleX(double r, double half, double ox, double oy, double oz, double dx, double dy, double dz, Hit& hit) {
  double best = kInf;
  const double py = oy, pz = oz - r;
  const double a = dy * dy + dz * dz;
  if (a > 0) {
    const double b = py * dy + pz * dz, c = py * py + pz * pz - r * r;
    const double disc = b * b - a * c;
    if (disc >= 0) {
      const double t = (-b - std::sqrt(disc)) / a;
      const double x = ox + t * dx;
      if (t > 0 && x >= -half && x <= half) {
        best = t;
        hit.t = t;
        hit.nx = 0;
        hit.ny = (py + t * dy) / r;
        hit.nz = (pz + t * dz) / r;
      }
    }
  }
  const double ends[2] = {-half, half};
  Hit tmp;
  for (double ex : ends) {
    if (sphere(ex, 0, r, r, ox, oy, oz, dx, dy, dz, -kInf, kInf, tmp) && tmp.t < best) {
      best = tmp.t;
      hit = tmp;
    }
  }
  return best < kInf;
}

// Nearest entry t > 0 of the local ray o + t·d into the primitive (params p[0..2] as packed
// by the layout), writing the hit and its local normal; false if none.
inline bool intersectLocal(int type, const double* p, double ox, double oy, double oz, double dx, double dy, double dz, Hit& hit) {
  switch (type) {
    case kBox:
      return slabBox(-p[0] / 2, p[0] / 2, -p[1] / 2, p[1] / 2, 0, p[2], ox, oy, oz, dx, dy, dz, hit);
    case kCylinder:
      return cylinderZ(p[0], 0, p[1], ox, oy, oz, dx, dy, dz, hit);
    case kSphere:
      return sphere(0, 0, p[0], p[0], ox, oy, oz, dx, dy, dz, -kInf, kInf, hit);
    case kEllipsoid: {
      const double a = p[0], b = p[1], c = p[2];
      const bool ok = sphere(0, 0, 1, 1, ox / a, oy / b, oz / c, dx / a, dy / b, dz / c, -kInf, kInf, hit);
      if (ok) {
        const double nx = hit.nx / a, ny = hit.ny / b, nz = hit.nz / c;
        const double n = js::hypot(nx, ny, nz);
        hit.nx = nx / n;
        hit.ny = ny / n;
        hit.nz = nz / n;
      }
      return ok;
    }
    case kCapsule:
      return capsuleX(p[0], p[1] / 2 - p[0], ox, oy, oz, dx, dy, dz, hit);
    case kBowl:
      return sphere(0, 0, p[0], p[0], ox, oy, oz, dx, dy, dz, -kInf, p[1], hit);
    default:
      return false;
  }
}

// Support function h(d) = max over the solid of d·p, in local coordinates: sim/shapes.ts
// supportLocal, operation for operation.
inline double supportLocal(int type, const double* p, double dx, double dy, double dz) {
  switch (type) {
    case kBox:
      return (std::fabs(dx) * p[0]) / 2 + (std::fabs(dy) * p[1]) / 2 + js::maxZero(dz * p[2]);
    case kCylinder:
      return p[0] * js::hypot(dx, dy) + js::maxZero(dz * p[1]);
    case kSphere:
      return dz * p[0] + p[0] * js::hypot(dx, dy, dz);
    case kEllipsoid:
      return dz * p[2] + std::sqrt(p[0] * p[0] * dx * dx + p[1] * p[1] * dy * dy + p[2] * p[2] * dz * dz);
    case kCapsule: {
      const double half = p[1] / 2 - p[0];
      return std::fabs(dx) * half + dz * p[0] + p[0] * js::hypot(dx, dy, dz);
    }
    case kBowl: {
      const double R = p[0], h = p[1];
      const double n = js::hypot(dx, dy, dz);
      if (n == 0) return 0;
      const double sz = R + (R * dz) / n;
      if (sz <= h) return dz * R + R * n;
      const double rho = std::sqrt(js::maxZero(R * R - (h - R) * (h - R)));
      return dz * h + rho * js::hypot(dx, dy);
    }
    default:
      return std::numeric_limits<double>::quiet_NaN();
  }
}

// sim/shapes.ts supportWorld, with the pose's cosine and sine given (V8's, from the caller).
inline double supportWorld(int type, const double* p, double x, double y, double z, double c, double s, double dx, double dy, double dz) {
  const double lx = c * dx + s * dy, ly = -s * dx + c * dy;
  return supportLocal(type, p, lx, ly, dz) + dx * x + dy * y + dz * z;
}

}  // namespace render
}  // namespace sr
