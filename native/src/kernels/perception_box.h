// The box of one object from the points the camera sees: a port of
// src/perception/object_box.ts (ObjectBoxEstimator), noisy_edge.ts, quadratic_surface.ts and
// ray_quadratic_fit.ts,
// operation for operation (the TS files explain the method; comments here only map the port).
// Where the reference reads a typed array past its end (only with degenerate inputs: no points)
// JS gives undefined, i.e. NaN in arithmetic: `at()` reads the same way, so no input reads
// outside a buffer and the results still follow the reference's.
#pragma once

#include <cmath>
#include <cstdint>
#include <vector>

#include "perception_math.h"
#include "perception_sort.h"

namespace sr {
namespace perception {

struct Box3 {
  double cx, cy, cz, sx, sy, sz;
};

// RestingOn codes (src/perception/object_measurements.ts RESTING_ON).
enum RestingOnCode { kOnSupport = 0, kOnObject = 1, kOnNothing = 2, kOccluded = 3, kUnknown = 4 };

struct BoxContext {
  /** NaN: no support. */
  double supportZ;
  int restingOn;
  double noise1m;
  double pixelAngle;
};

struct BoxOptions {
  double trim, restingTolerance, flatCurvature, topFaceSpan;
};

/** sorted[i] as JS reads a typed array of n values: NaN outside [0, n) (and for a NaN index). */
inline double at(const double* v, double i, long n) {
  if (!(i >= 0 && i < static_cast<double>(n))) return std::numeric_limits<double>::quiet_NaN();
  return v[static_cast<long>(i)];
}

// noisy_edge.ts, over values read by rank (the reference's sorted copy).
double edgeRank(psort::Ranked& v, double s, double trim, bool high);
/** Readies both ends of `v` for a noisyEdgeLow/High pair with noise s and trim (one pass for both). */
void prepareEdges(psort::Ranked& v, double s, double trim);
inline double noisyEdgeLow(psort::Ranked& v, double s, double trim) { return v.at(edgeRank(v, s, trim, false)); }
inline double noisyEdgeHigh(psort::Ranked& v, double s, double trim) { return v.at(static_cast<double>(v.n - 1) - edgeRank(v, s, trim, true)); }

struct Eigen2 {
  double l1, l2, e1u, e1v;
};

// quadratic_surface.ts
class QuadraticSurfaceFit {
 public:
  double coef[6] = {0, 0, 0, 0, 0, 0};
  long count = 0;
  void reset();
  void add(double u, double v, double z, double s2, double tanE);
  bool solve();
  double at(double u, double v) const {
    const double* c = coef;
    return c[0] + c[1] * u + c[2] * v + c[3] * u * u + c[4] * u * v + c[5] * v * v;
  }

 private:
  double m_[36];
  double r_[6];
  double work_[36];
  double rhs_[6];
  double mom_[25];
  double momZ_[9];
};

void hessianEigen(const double* coef, Eigen2& out);

// ray_quadratic_fit.ts
class RayQuadraticFit {
 public:
  double coef[6] = {0, 0, 0, 0, 0, 0};
  long count = 0;
  void reset();
  /**
   * The reference's loops over f = (1, u, v, u², uv, v²) written out (a call and two loops a
   * point bound the fits under noise): each sum gets fp·fq as there, 1·x being x exactly.
   */
  SR_ALWAYS_INLINE void add(double u, double v, double z) {
    const double f3 = u * u, f4 = u * v, f5 = v * v;
    double* m = m_;
    m[0] += 1;
    m[1] += u;
    m[2] += v;
    m[3] += f3;
    m[4] += f4;
    m[5] += f5;
    m[7] += u * u;
    m[8] += u * v;
    m[9] += u * f3;
    m[10] += u * f4;
    m[11] += u * f5;
    m[14] += v * v;
    m[15] += v * f3;
    m[16] += v * f4;
    m[17] += v * f5;
    m[21] += f3 * f3;
    m[22] += f3 * f4;
    m[23] += f3 * f5;
    m[28] += f4 * f4;
    m[29] += f4 * f5;
    m[35] += f5 * f5;
    double* r = r_;
    r[0] += z;
    r[1] += u * z;
    r[2] += v * z;
    r[3] += f3 * z;
    r[4] += f4 * z;
    r[5] += f5 * z;
    zz_ += z * z;
    count++;
  }
  bool solve();
  double at(double u, double v) const {
    const double* c = coef;
    return c[0] + c[1] * u + c[2] * v + c[3] * u * u + c[4] * u * v + c[5] * v * v;
  }
  double curvatureStdError(double eu, double ev);

 private:
  double m_[36] = {0};
  double r_[6] = {0};
  double zz_ = 0;
  double work_[36];
  double rhs_[6];
  double x_[6] = {0};
  double g_[6];
};

/** object_box.ts ObjectBoxEstimator. Scratch grows to the largest object seen and is reused. */
class ObjectBoxEstimator {
 public:
  explicit ObjectBoxEstimator(const BoxOptions& options) : options_(options) {}
  void setOptions(const BoxOptions& options) { options_ = options; }
  bool lastResting = false;
  /** 0 amodal, 1 top face. */
  int lastEvidence = 0;
  long rejected = 0;
  double lastLowest = 0;
  long estimate(float* xs, float* ys, float* zs, long start, long n0, const BoxContext& ctx, Box3& out);

 private:
  BoxOptions options_;
  std::vector<double> a_, b_, s_, t_;
  /** Keys gathered by the selections of rejectStrays (2 per point 64-bit, 4 per point 32-bit). */
  std::vector<uint64_t> sel_;
  std::vector<uint32_t> sel32_;
  /** roundTop's reselection: which groups of four points the vector pass computed. */
  std::vector<uint8_t> groupDone_;
  /** rejectStrays' sums of the kept points' coordinates (added in their order). */
  double sumX_ = 0, sumY_ = 0, sumZ_ = 0;
  /** Ray coordinates (along, across the view) and heights of the points, for the fits under noise. */
  std::vector<double> ru_, rv_, rz_;
  /** fitRayQuadratic's disc: the offsets and heights of the points in it (3 per point). */
  std::vector<double> disc_;
  QuadraticSurfaceFit fit_;
  RayQuadraticFit rayFit_;
  Eigen2 rayEig_{0, 0, 1, 0};
  Eigen2 eig_{0, 0, 1, 0};
  double peakU_ = 0, peakV_ = 0;
  double wallXLo_ = 0, wallXHi_ = 0, wallYLo_ = 0, wallYHi_ = 0;
  int32_t binCount_[257];
  int32_t binFirst_[257];
  /** The heights (sorted whole: the top's level is searched through them). */
  psort::Ranked heights_;
  /** Whatever extent's edges are being read (only its ends get sorted). */
  psort::Ranked edges_;

  void ensure(long n);
  long rejectStrays(float* xs, float* ys, float* zs, long start, long n);
  long rejectHeightStrays(float* xs, float* ys, float* zs, long start, long n, double gap);
  double roundTop(const float* xs, const float* ys, const float* zs, long start, long n, double zMin, double band, double sigS, double tanE, double cosE, double sigma);
  bool peakOf(double cu, double cv, const double* sel, long n, const float* zs, long start, double cutZ);
  void visibleBox(const float* xs, const float* ys, long start, long n, double c, double sn, double sinE, double sAlong, double pixel, Box3& out);
  void topFaceBox(const float* xs, const float* ys, const float* zs, long start, long n, double level, double half, double wallFrom, double wallTo,
                  double c, double sn, double sinE, double sAlong, double pixel, Box3& out);
  bool wallColumns(const float* xs, const float* ys, const float* zs, long start, long n, double from, double to, double pixel,
                   double xMin, double xMax, double yMin, double yMax);
  void reflectedBox(const float* xs, const float* ys, long start, long n, double cx, double cy, double sAlong, double pixel, Box3& out);
  void rayCoordinates(const float* xs, const float* ys, const float* zs, long start, long n, double zRef, double c, double sn);
  bool fitRayQuadratic(long n, double zRef, double u0, double v0, double rho, double trimBelow);
  double rayPeak(long n, double zRef, double u0, double v0, double rho, double trimBelow);
};

}  // namespace perception
}  // namespace sr
