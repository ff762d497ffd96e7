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

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

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
  /**
   * add() for each point next(u, v, z) gives, until it returns false. With SSE2 the sums are
   * kept in registers two to a register between points (out of line, each of ~20 sums is a load
   * and a store a point): every lane adds what add() adds, computed as there (x·1 is x exactly).
   */
  template <typename Next>
  SR_ALWAYS_INLINE void addAll(double s2, double tanE, Next next) {
    double u, v, z;
#if defined(__SSE2__)
    // add()'s constant factors, grouped as its expressions group them.
    const double k3 = 3 * s2, k6 = 6 * s2, k33 = 3 * s2 * s2, kt = tanE * s2, k2t = 2 * tanE * s2;
    double* m = mom_;
    double* mz = momZ_;
    double m0 = m[0];
    long added = 0;
    __m128d v12 = _mm_loadu_pd(m + 1), v34 = _mm_loadu_pd(m + 3), u01 = _mm_loadu_pd(m + 5), u23 = _mm_loadu_pd(m + 7);
    __m128d h2s = _mm_loadu_pd(m + 10), h3s = _mm_loadu_pd(m + 15), z01 = _mm_loadu_pd(mz), zu1s = _mm_loadu_pd(mz + 3);
    __m128d h2v2z2 = _mm_set_pd(mz[2], m[12]), h4zu2 = _mm_set_pd(mz[6], m[20]);
    while (next(u, v, z)) {
      added++;
      m0 += 1;
      const double u2 = u * u;
      const double h2 = u2 - s2, h3 = u2 * u - k3 * u, h4 = u2 * u2 - k6 * u2 + k33;
      const double zu1 = u * z + kt, zu2 = u2 * z - s2 * z + k2t * u;
      const __m128d one = _mm_set_pd(v, 1.0);               // (1, v)
      const __m128d pv = _mm_mul_pd(one, _mm_set1_pd(v));   // (v, v²)
      const __m128d vv = _mm_unpackhi_pd(pv, pv);           // (v², v²)
      const __m128d pv34 = _mm_mul_pd(pv, vv);              // (v³, v⁴) = (v·v², v²·v²)
      const __m128d pv23 = _mm_shuffle_pd(pv, pv34, 1);     // (v², v³)
      v12 = _mm_add_pd(v12, pv);
      v34 = _mm_add_pd(v34, pv34);
      const __m128d uu = _mm_set1_pd(u);
      u01 = _mm_add_pd(u01, _mm_mul_pd(uu, one));
      u23 = _mm_add_pd(u23, _mm_mul_pd(uu, pv23));
      h2s = _mm_add_pd(h2s, _mm_mul_pd(_mm_set1_pd(h2), one));
      h3s = _mm_add_pd(h3s, _mm_mul_pd(_mm_set1_pd(h3), one));
      h2v2z2 = _mm_add_pd(h2v2z2, _mm_mul_pd(_mm_set_pd(z, h2), vv));
      z01 = _mm_add_pd(z01, _mm_mul_pd(_mm_set1_pd(z), one));
      zu1s = _mm_add_pd(zu1s, _mm_mul_pd(_mm_set1_pd(zu1), one));
      h4zu2 = _mm_add_pd(h4zu2, _mm_set_pd(zu2, h4));
    }
    count += added;
    m[0] = m0;
    _mm_storeu_pd(m + 1, v12);
    _mm_storeu_pd(m + 3, v34);
    _mm_storeu_pd(m + 5, u01);
    _mm_storeu_pd(m + 7, u23);
    _mm_storeu_pd(m + 10, h2s);
    _mm_storeu_pd(m + 15, h3s);
    _mm_storeu_pd(mz, z01);
    _mm_storeu_pd(mz + 3, zu1s);
    _mm_storel_pd(m + 12, h2v2z2);
    _mm_storeh_pd(mz + 2, h2v2z2);
    _mm_storel_pd(m + 20, h4zu2);
    _mm_storeh_pd(mz + 6, h4zu2);
#else
    while (next(u, v, z)) add(u, v, z, s2, tanE);
#endif
  }
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
  /**
   * add() for the points (DU[j], DV[j], DZ[j]), j < m, in order: all of them (trim null), or
   * those at or above the surface trim[0..5] less trimBelow (the trimmed passes).
   */
  void addDisc(const double* DU, const double* DV, const double* DZ, long m, const double* trim, double trimBelow);
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
  void addDiscAvx2(const double* DU, const double* DV, const double* DZ, long m, const double* trim, double trimBelow);
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
  /**
   * Keys gathered by the selections of rejectStrays (2 per point 64-bit, 4 per point 32-bit);
   * later the 32-bit ones hold point lists: the level fit's points, wallColumns' band and bins.
   */
  std::vector<uint64_t> sel_;
  std::vector<uint32_t> sel32_;
  /** roundTop's reselection: which groups of four points the vector pass computed. */
  std::vector<uint8_t> groupDone_;
  /**
   * rejectStrays' histograms of the points' x and y (FloatHist), still theirs while no point has
   * been dropped since (histValid_): the edges' selections over xs and ys start from them.
   */
  psort::FloatHist histX_, histY_;
  bool histValid_ = false;
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
  double roundTop(const float* xs, const float* ys, const float* zs, long start, long n, double c, double sn, double zMin, double band, double sigS, double tanE,
                  double cosE, double sigma);
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
