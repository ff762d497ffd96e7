// Port of src/perception/object_box.ts, noisy_edge.ts and quadratic_surface.ts (see perception_box.h).
// Every expression keeps the reference's operand order and grouping: doubles are rounded the same
// way only if they are computed the same way. Float32Array elements are promoted to double where
// the reference reads them (JS numbers are doubles), never combined as floats.
#include "perception_box.h"

#include <algorithm>
#include <cstring>
#include <limits>

// x86-64 with GCC or Clang: roundTop's reselection (a hypot and six divisions a point) four
// points at a time with AVX2, chosen at run time (baseline x86-64 build; the target adds no FMA).
#if defined(SR_JS_LANES) && !defined(SR_BOX_NO_AVX2)
#define SR_BOX_AVX2 1
#include <immintrin.h>
#endif

namespace sr {
namespace perception {

namespace pjs = sr::pjs;
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
const double kInvSqrt2Pi = 1 / std::sqrt(2 * 3.141592653589793);  // noisy_edge.ts INV_SQRT_2PI (the literal is Math.PI)
constexpr int kMaxWallColumns = 256;
constexpr double kMinSinE = 0.05;
// object_box.ts: the ray-coordinate fits under noise.
constexpr double kExactSigmaH = 0.0005;
constexpr double kFaceDiscFraction = 0.3;
constexpr double kPeakDiscFraction = 0.35;
constexpr double kRayDiscMin = 0.006;
constexpr double kRayFitTrimSigmas = 2.5;
constexpr double kAboveFaceWindows = 2.5;

double pixelGap(double ux, double uy, double c, double sn, double sinE, double pixel) {
  const double along = ux * c + uy * sn, across = -ux * sn + uy * c;
  const double a = along > 0 ? along / pjs::max(sinE, 0.1) : 0;
  return 0.5 * pixel * pjs::hypot(a, across);
}

double medianWithin(const double* sorted, long n, double lo, double hi) {
  // The reference's scans from the start, as binary searches: each test holds for a prefix of
  // the sorted values (NaN, sorted last, passes neither).
  const long i = std::partition_point(sorted, sorted + n, [lo](double z) { return z < lo; }) - sorted;
  const long j = std::partition_point(sorted + i, sorted + n, [hi](double z) { return z <= hi; }) - sorted;
  return j > i ? sorted[(i + j - 1) >> 1] : (lo + hi) / 2;
}

// Also ray_quadratic_fit.ts solve6 (the same elimination).
bool solveInto(const double* m, const double* r, double* a, double* b, double* x) {
  const int n = 6;
  std::memcpy(a, m, 36 * sizeof(double));
  std::memcpy(b, r, 6 * sizeof(double));
  double scale = 0;
  for (int i = 0; i < 36; i++) scale = pjs::max(scale, std::fabs(a[i]));
  if (!(scale > 0)) return false;
  for (int col = 0; col < n; col++) {
    int piv = col;
    for (int row = col + 1; row < n; row++) {
      if (std::fabs(a[row * n + col]) > std::fabs(a[piv * n + col])) piv = row;
    }
    if (!(std::fabs(a[piv * n + col]) > 1e-15 * scale)) return false;
    if (piv != col) {
      for (int k = 0; k < n; k++) {
        const double tmp = a[col * n + k];
        a[col * n + k] = a[piv * n + k];
        a[piv * n + k] = tmp;
      }
      const double tb = b[col];
      b[col] = b[piv];
      b[piv] = tb;
    }
    for (int row = col + 1; row < n; row++) {
      const double f = a[row * n + col] / a[col * n + col];
      if (f == 0) continue;
      for (int k = col; k < n; k++) a[row * n + k] -= f * a[col * n + k];
      b[row] -= f * b[col];
    }
  }
  for (int row = n - 1; row >= 0; row--) {
    double sum = b[row];
    for (int k = row + 1; k < n; k++) sum -= a[row * n + k] * x[k];
    x[row] = sum / a[row * n + row];
  }
  for (int k = 0; k < n; k++) {
    if (!std::isfinite(x[k])) return false;
  }
  return true;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// noisy_edge.ts

void prepareEdges(psort::Ranked& v, double s, double trim) {
  const long n = v.n;
  if (n < 2) return;
  const double last = static_cast<double>(n - 1);
  if (!(s > 0) || n < 8) {
    const double base = pjs::min(last, pjs::round(trim * last));
    if (!(base >= 0)) return;
    v.ends(static_cast<long>(base) + 1, static_cast<long>(base) + 1);
    return;
  }
  // The scans start at the 2% rank and usually end a few ranks on (at() extends the sorted ends as they go).
  const long q = static_cast<long>(pjs::min(last, pjs::round(0.02 * last)));
  v.need(q + 24, q + 24);
}

double edgeRank(psort::Ranked& v, double s, double trim, bool high) {
  const long n = v.n;
  const double last = static_cast<double>(n - 1);
  const double base = pjs::min(last, pjs::round(trim * last));
  if (!(s > 0) || n < 8) return base;
  const long q = static_cast<long>(pjs::min(last, pjs::round(0.02 * last)));
  auto value = [&](long i) { return high ? -v.atRank(n - 1 - i) : v.atRank(i); };
  const double e0 = value(q), lim = e0 + 4 * s;
  long i = q;
  // The scan through the ranks sorted already. Where it would go on past them it ends at the
  // last rank whose value (negated for the high end) is at most lim, told by a count instead of
  // by sorting on: from rank q (value e0 <= lim, not NaN) the values go up, NaN last at the low
  // end and, at the high end, first (those ranks, below q, count among the values not below
  // -lim); a NaN lim stops the scan at q.
  const long ready = high ? v.readyHigh() : v.readyLow();
  while (i + 1 < n && i + 1 < ready && value(i + 1) <= lim) i++;
  if (i + 1 < n && i + 1 >= ready && lim == lim) {
    const long count = high ? v.countNotBelow(-lim) : v.countAtMost(lim);
    if (count - 1 > i) i = count - 1;
  }
  const double rho = static_cast<double>(i - q + 1) / (4 * s);
  return pjs::min(last, pjs::max(base, pjs::round(rho * s * kInvSqrt2Pi)));
}

// ---------------------------------------------------------------------------------------------
// quadratic_surface.ts

void QuadraticSurfaceFit::reset() {
  count = 0;
  for (double& x : mom_) x = 0;
  for (double& x : momZ_) x = 0;
}

void QuadraticSurfaceFit::add(double u, double v, double z, double s2, double tanE) {
  count++;
  const double u2 = u * u;
  const double h0 = 1, h1 = u, h2 = u2 - s2, h3 = u2 * u - 3 * s2 * u, h4 = u2 * u2 - 6 * s2 * u2 + 3 * s2 * s2;
  const double v2 = v * v, v3 = v2 * v, v4 = v2 * v2;
  double* m = mom_;
  m[0] += h0; m[1] += v; m[2] += v2; m[3] += v3; m[4] += v4;
  m[5] += h1; m[6] += h1 * v; m[7] += h1 * v2; m[8] += h1 * v3;
  m[10] += h2; m[11] += h2 * v; m[12] += h2 * v2;
  m[15] += h3; m[16] += h3 * v;
  m[20] += h4;
  const double zu1 = u * z + tanE * s2;
  const double zu2 = u2 * z - s2 * z + 2 * tanE * s2 * u;
  double* mz = momZ_;
  mz[0] += z; mz[1] += v * z; mz[2] += v2 * z;
  mz[3] += zu1; mz[4] += zu1 * v;
  mz[6] += zu2;
}

bool QuadraticSurfaceFit::solve() {
  if (count < 8) return false;
  static const int pa[6] = {0, 1, 0, 2, 1, 0}, pb[6] = {0, 0, 1, 0, 1, 2};
  for (int p = 0; p < 6; p++) {
    for (int q = 0; q < 6; q++) m_[p * 6 + q] = mom_[(pa[p] + pa[q]) * 5 + pb[p] + pb[q]];
    r_[p] = momZ_[pa[p] * 3 + pb[p]];
  }
  return solveInto(m_, r_, work_, rhs_, coef);
}

void hessianEigen(const double* coef, Eigen2& out) {
  const double h11 = 2 * coef[3], h12 = coef[4], h22 = 2 * coef[5];
  const double mid = (h11 + h22) / 2;
  const double disc = std::sqrt(pjs::max(0.0, pjs::pow((h11 - h22) / 2, 2) + h12 * h12));
  out.l1 = mid - disc;
  out.l2 = mid + disc;
  double eu = h12, ev = out.l1 - h11;
  const double au = out.l1 - h22, av = h12;
  if (pjs::hypot(au, av) > pjs::hypot(eu, ev)) {
    eu = au;
    ev = av;
  }
  const double n = pjs::hypot(eu, ev);
  if (n < 1e-12) {
    out.e1u = 1;
    out.e1v = 0;
    return;
  }
  out.e1u = eu / n;
  out.e1v = ev / n;
}

// ---------------------------------------------------------------------------------------------
// ray_quadratic_fit.ts

void RayQuadraticFit::reset() {
  count = 0;
  for (double& x : m_) x = 0;
  for (double& x : r_) x = 0;
  zz_ = 0;
}

#if defined(SR_BOX_AVX2)
bool boxAvx2();
#endif

void RayQuadraticFit::addDisc(const double* DU, const double* DV, const double* DZ, long m, const double* trim, double trimBelow) {
#if defined(SR_BOX_AVX2)
  if (boxAvx2()) {
    addDiscAvx2(DU, DV, DZ, m, trim, trimBelow);
    return;
  }
#endif
  for (long j = 0; j < m; j++) {
    const double du = DU[j], dv = DV[j], z = DZ[j];
    if (trim != nullptr && z < trim[0] + trim[1] * du + trim[2] * dv + trim[3] * du * du + trim[4] * du * dv + trim[5] * dv * dv - trimBelow) continue;
    add(du, dv, z);
  }
}

#if defined(SR_BOX_AVX2)
// addDisc with four of add()'s sums to a register (out of line, ~30 sums a point were a load and
// a store each): with A = (1, u, v, u²) and B = (uv, v², z, 0), row p of the products is f_p·A
// and f_p·B (f = 1, u, v, u², uv, v²), and each sum sits in the lane that gets exactly add()'s
// product for it (1·x is x; the other lanes add products no sum keeps). Every sum adds the same
// values in the same order; count and zz as add() makes them.
__attribute__((target("avx2"))) void RayQuadraticFit::addDiscAvx2(const double* DU, const double* DV, const double* DZ, long m, const double* trim, double trimBelow) {
  double* M = m_;
  double* R = r_;
  __m256d a0 = _mm256_setr_pd(M[0], M[1], M[2], M[3]), b0 = _mm256_setr_pd(M[4], M[5], R[0], 0);
  __m256d a1 = _mm256_setr_pd(0, M[7], M[8], M[9]), b1 = _mm256_setr_pd(M[10], M[11], R[1], 0);
  __m256d a2 = _mm256_setr_pd(0, 0, M[14], M[15]), b2 = _mm256_setr_pd(M[16], M[17], R[2], 0);
  __m256d a3 = _mm256_setr_pd(0, 0, 0, M[21]), b3 = _mm256_setr_pd(M[22], M[23], R[3], 0);
  __m256d b4 = _mm256_setr_pd(M[28], M[29], R[4], 0), b5 = _mm256_setr_pd(0, M[35], R[5], 0);
  double zz = zz_;
  long added = 0;
  for (long j = 0; j < m; j++) {
    const double u = DU[j], v = DV[j], z = DZ[j];
    if (trim != nullptr && z < trim[0] + trim[1] * u + trim[2] * v + trim[3] * u * u + trim[4] * u * v + trim[5] * v * v - trimBelow) continue;
    const double f3 = u * u, f4 = u * v, f5 = v * v;
    const __m256d A = _mm256_setr_pd(1, u, v, f3), B = _mm256_setr_pd(f4, f5, z, 0);
    const __m256d vu = _mm256_set1_pd(u), vv = _mm256_set1_pd(v), v3 = _mm256_set1_pd(f3);
    a0 = _mm256_add_pd(a0, A);
    b0 = _mm256_add_pd(b0, B);
    a1 = _mm256_add_pd(a1, _mm256_mul_pd(vu, A));
    b1 = _mm256_add_pd(b1, _mm256_mul_pd(vu, B));
    a2 = _mm256_add_pd(a2, _mm256_mul_pd(vv, A));
    b2 = _mm256_add_pd(b2, _mm256_mul_pd(vv, B));
    a3 = _mm256_add_pd(a3, _mm256_mul_pd(v3, A));
    b3 = _mm256_add_pd(b3, _mm256_mul_pd(v3, B));
    b4 = _mm256_add_pd(b4, _mm256_mul_pd(_mm256_set1_pd(f4), B));
    b5 = _mm256_add_pd(b5, _mm256_mul_pd(_mm256_set1_pd(f5), B));
    zz += z * z;
    added++;
  }
  alignas(32) double l[4];
  _mm256_store_pd(l, a0);
  M[0] = l[0], M[1] = l[1], M[2] = l[2], M[3] = l[3];
  _mm256_store_pd(l, b0);
  M[4] = l[0], M[5] = l[1], R[0] = l[2];
  _mm256_store_pd(l, a1);
  M[7] = l[1], M[8] = l[2], M[9] = l[3];
  _mm256_store_pd(l, b1);
  M[10] = l[0], M[11] = l[1], R[1] = l[2];
  _mm256_store_pd(l, a2);
  M[14] = l[2], M[15] = l[3];
  _mm256_store_pd(l, b2);
  M[16] = l[0], M[17] = l[1], R[2] = l[2];
  _mm256_store_pd(l, a3);
  M[21] = l[3];
  _mm256_store_pd(l, b3);
  M[22] = l[0], M[23] = l[1], R[3] = l[2];
  _mm256_store_pd(l, b4);
  M[28] = l[0], M[29] = l[1], R[4] = l[2];
  _mm256_store_pd(l, b5);
  M[35] = l[1], R[5] = l[2];
  zz_ = zz;
  count += added;
}
#endif

bool RayQuadraticFit::solve() {
  if (count < 12) return false;
  for (int p = 1; p < 6; p++) {
    for (int q = 0; q < p; q++) m_[p * 6 + q] = m_[q * 6 + p];
  }
  return solveInto(m_, r_, work_, rhs_, coef);
}

double RayQuadraticFit::curvatureStdError(double eu, double ev) {
  const long n = count;
  if (n <= 6) return std::numeric_limits<double>::infinity();
  const double* c = coef;
  double ssr = zz_;
  for (int p = 0; p < 6; p++) {
    ssr -= 2 * c[p] * r_[p];
    for (int q = 0; q < 6; q++) ssr += c[p] * m_[p * 6 + q] * c[q];
  }
  const double s2 = pjs::max(0.0, ssr) / static_cast<double>(n - 6);
  for (double& x : g_) x = 0;
  g_[3] = 2 * eu * eu;
  g_[4] = 2 * eu * ev;
  g_[5] = 2 * ev * ev;
  if (!solveInto(m_, g_, work_, rhs_, x_)) return std::numeric_limits<double>::infinity();
  double q = 0;
  for (int p = 0; p < 6; p++) q += g_[p] * x_[p];
  return std::sqrt(s2 * pjs::max(0.0, q));
}

// ---------------------------------------------------------------------------------------------
// object_box.ts ObjectBoxEstimator

void ObjectBoxEstimator::ensure(long n) {
  const size_t need = static_cast<size_t>(n > 0 ? n : 0);
  if (a_.size() >= need && !a_.empty()) return;
  const size_t len = need > 1024 ? need : 1024;
  a_.resize(len);
  b_.resize(len);
  s_.resize(len);
  t_.resize(len);
  ru_.resize(len);
  rv_.resize(len);
  rz_.resize(len);
  disc_.resize(3 * len + 12);  // three arrays, four doubles past each (discAvx2's stores)
  sel_.resize(2 * len);
  sel32_.resize(4 * len);
  groupDone_.resize(len / 4 + 1);
}

#if defined(SR_BOX_AVX2)
bool boxAvx2();
long levelPassAvx2(const float* xs, const float* ys, const float* zs, long n, double c, double sn, double level, double half, double* T, double* S, double* B,
                   uint32_t* atTop, double& cu, double& cv, long& m, long& nTop);
#endif

long ObjectBoxEstimator::estimate(float* xs, float* ys, float* zs, long start, long n0, const BoxContext& ctx, Box3& out) {
  ensure(n0);
  long n = rejectStrays(xs, ys, zs, start, n0);
  const double trim = options_.trim;
  double* A = a_.data();
  double* B = b_.data();
  double* S = s_.data();
  double* T = t_.data();
  const double dn0 = static_cast<double>(n);

  // The viewing ray to the object: horizontal azimuth phi, depression E below the horizon.
  double mx = sumX_, my = sumY_, mz = sumZ_;
  mx /= dn0;
  my /= dn0;
  mz /= dn0;
  const double r2 = mx * mx + my * my + mz * mz;
  const long cut = rejectHeightStrays(xs, ys, zs, start, n, 0.01 + 2 * pjs::max(0.0, ctx.noise1m) * r2 * pjs::max(kMinSinE, -mz / std::sqrt(r2)));
  // rejectHeightStrays left the kept heights sorted in A and heights_ (the cut ones are the
  // lowest and highest: what remains is the sorted order without them), unless NaN kept it from
  // trimming them there.
  const bool zSorted = heights_.n == n - cut;
  if (cut > 0) {
    histValid_ = false;
    n -= cut;
    mx = 0;
    my = 0;
    mz = 0;
    for (long i = start; i < start + n; i++) {
      mx += xs[i];
      my += ys[i];
      mz += zs[i];
    }
    const double dn = static_cast<double>(n);
    mx /= dn;
    my /= dn;
    mz /= dn;
  }
  const long end = start + n;
  const double range = pjs::hypot(mx, my, mz);
  const double sinE = pjs::max(kMinSinE, -mz / range);
  const double cosE = std::sqrt(1 - sinE * sinE);
  const double tanE = sinE / cosE;
  const double phi = pjs::atan2(my, mx);
  const double c = pjs::cos(phi), sn = pjs::sin(phi);
  const double sigma = pjs::max(0.0, ctx.noise1m) * range * range;
  const double sigH = sigma * sinE, sigS = sigma * cosE;
  const double pixel = pjs::max(0.0, ctx.pixelAngle) * range;

  // Bottom: the support surface under a resting object (its underside is hidden).
  if (!zSorted) {
    heights_.load(zs + start, n);
    heights_.sortAll();
    heights_.values(A);
  }
  const double* Z = A;
  const double zLow = noisyEdgeLow(heights_, sigH, trim);
  const bool hasSupport = ctx.supportZ == ctx.supportZ;
  const double supportZ = ctx.supportZ;
  const double above = !hasSupport ? kInf : zLow - supportZ;
  const bool sliver = ctx.restingOn == kOnNothing && above < 0.08 && at(Z, static_cast<double>(n - 1), n) - zLow < above;
  const bool resting = ctx.restingOn == kOnSupport || ctx.restingOn == kOccluded || sliver || (ctx.restingOn == kUnknown && above < options_.restingTolerance);
  lastLowest = zLow;
  const double bottom = hasSupport && resting ? pjs::min(supportZ, zLow) : zLow;
  lastResting = resting;

  // The top's level: the densest height window near the top, then the median inside it.
  const double half = pjs::max(0.0025, 2.5 * sigH);
  const double last = static_cast<double>(n - 1);
  const double q99 = at(Z, pjs::round(0.99 * last), n);
  const double q995 = at(Z, pjs::round(0.995 * last), n);
  const double zMax = at(Z, last, n);
  // The first rank from which Z[j] < q99 - 4 half fails (a sorted prefix; NaN sorts last), n - 1 at most.
  const long j = std::partition_point(Z, Z + (n > 0 ? n - 1 : 0), [&](double z) { return z < q99 - 4 * half; }) - Z;
  long best = 0, bestLo = j, lo = j;
  for (long i = j; i < n; i++) {
    while (Z[i] - Z[lo] > 2 * half) lo++;
    if (i - lo + 1 > best) {
      best = i - lo + 1;
      bestLo = lo;
    }
  }
  double level = at(Z, static_cast<double>(bestLo + (best >> 1)), n);
  level = medianWithin(Z, n, level - half, level + half);

  // Is the top a face? Curvature of the points at that level, and their width across the view.
  // One pass makes every point's T (across the view) and the S (along it) of the points at the
  // level (the rest of S only roundTop needs: it makes them), and lists the fit's points.
  QuadraticSurfaceFit& fit = fit_;
  uint32_t* atTop = sel32_.data();
  double cu = 0, cv = 0;
  long m = 0, nTop = 0;
  long done = 0;
#if defined(SR_BOX_AVX2)
  if (boxAvx2()) done = levelPassAvx2(xs + start, ys + start, zs + start, n, c, sn, level, half, T, S, B, atTop, cu, cv, m, nTop);
#endif
  for (long i = start + done, k = done; i < end; i++, k++) {
    const double x = xs[i], y = ys[i], z = zs[i];
    const double t = -x * sn + y * c;
    T[k] = t;
    const bool window = !(std::fabs(z - level) > half), upper = z >= level && z <= level + half;
    if (!window && !upper) continue;
    const double sk = x * c + y * sn;
    S[k] = sk;
    if (window) {
      cu += sk;
      cv += t;
      B[m++] = t;
    }
    if (upper) atTop[nTop++] = static_cast<uint32_t>(k);
  }
  cu /= pjs::max(1.0, static_cast<double>(m));
  cv /= pjs::max(1.0, static_cast<double>(m));
  fit.reset();
  long q = 0;
  fit.addAll(sigS * sigS, tanE, [&](double& u, double& v, double& z) {
    if (q == nTop) return false;
    const long k = atTop[q++];
    u = S[k] - cu;
    v = T[k] - cv;
    z = zs[start + k] - level;
    return true;
  });
  psort::Ranked& R = edges_;
  R.load(T, n);
  prepareEdges(R, 0, trim);
  const double tLo = noisyEdgeLow(R, 0, trim), tHi = noisyEdgeHigh(R, 0, trim);
  double topWidth = 0;
  if (m >= 8) {
    R.load(B, m);
    prepareEdges(R, 0, 0.01);
    topWidth = noisyEdgeHigh(R, 0, 0.01) - noisyEdgeLow(R, 0, 0.01);
  }
  bool flat = false;
  if (fit.solve()) {
    hessianEigen(fit.coef, eig_);
    flat = eig_.l1 > -options_.flatCurvature && topWidth >= options_.topFaceSpan * (tHi - tLo);
  }
  // Under noise, round tops are told and measured by ray-coordinate fits (object_box.ts).
  double rayTop = std::numeric_limits<double>::quiet_NaN();
  if (sigH >= kExactSigmaH) {
    rayCoordinates(xs, ys, zs, start, n, q99, c, sn);
    const double* RU = ru_.data();
    const double* RV = rv_.data();
    const double* RZ = rz_.data();
    // The disc starts at the upper tenth of the points (their rays). Its bound is read from the
    // sorted heights (the same order statistic as the reference's quickselect, whose result can
    // differ only in a zero's sign, which `<` cannot tell), unless a NaN makes quickselect's
    // result depend on its steps.
    double q90;
    if (n > 0 && Z[n - 1] == Z[n - 1]) {
      q90 = Z[static_cast<long>(pjs::min(last, pjs::max(0.0, pjs::round(0.9 * last))))];
    } else {
      for (long k = 0; k < n; k++) A[k] = RZ[k];
      q90 = psort::quantileInPlace(A, n, 0.9);
    }
    double u0 = 0, v0 = 0;
    long m0 = 0;
    for (long k = 0; k < n; k++) {
      if (RZ[k] < q90) continue;
      u0 += RU[k];
      v0 += RV[k];
      m0++;
    }
    u0 /= static_cast<double>(m0);
    v0 /= static_cast<double>(m0);
    const double width = tHi - tLo, trimBelow = kRayFitTrimSigmas * sigH;
    bool overruled = false;
    if (flat && fitRayQuadratic(n, q99, u0, v0, pjs::max(kRayDiscMin, kFaceDiscFraction * width), trimBelow)) {
      const Eigen2& e = rayEig_;
      const double se = rayFit_.curvatureStdError(e.e1u, e.e1v);
      overruled = e.l1 + 2 * se < -options_.flatCurvature;
      if (overruled) flat = false;
    }
    if (!flat) rayTop = rayPeak(n, q99, u0, v0, pjs::max(kRayDiscMin, kPeakDiscFraction * pjs::min(q99 - bottom, width)), trimBelow);
    // A dome peaking well above the face's level is another object's points over the face.
    if (overruled && rayTop - level > kAboveFaceWindows * half) {
      flat = true;
      rayTop = std::numeric_limits<double>::quiet_NaN();
    }
  }

  if (flat) {
    lastEvidence = 1;
    const double height = pjs::max(level - bottom, 1e-3);
    if (sigH > 0.0005 && level < -0.05) topFaceBox(xs, ys, zs, start, n, level, half, bottom + 0.007, level - 3 * sigH - 0.002, c, sn, sinE, sigma * cosE, pixel, out);
    else visibleBox(xs, ys, start, n, c, sn, sinE, sigma * cosE, pixel, out);
    out.cz = bottom + height / 2;
    out.sz = height;
    return n;
  }

  lastEvidence = 0;
  const double band = pjs::max(0.01, 3 * sigH, 0.2 * (q99 - bottom));
  const double top = roundTop(xs, ys, zs, start, n, c, sn, q99 - band, band, sigS, tanE, cosE, sigma);
  // Across the view the silhouette's extremes are seen: their midpoint is the centre.
  const double tc = (tLo + tHi) / 2;
  const double cx = peakU_ * c - tc * sn, cy = peakU_ * sn + tc * c;
  const double zTop = pjs::min(zMax, sigH < kExactSigmaH ? pjs::max(top, q995) : pjs::max(std::isfinite(rayTop) ? rayTop : top, q99 - 3 * sigH - 0.003));
  const double height = pjs::max(zTop - bottom, 1e-3);
  reflectedBox(xs, ys, start, n, cx, cy, sigma * cosE, sigma < 0.001 ? pixel : 0, out);
  out.cz = bottom + height / 2;
  out.sz = height;
  return n;
}


#if defined(SR_BOX_AVX2)
bool boxAvx2() {
  static const bool yes = __builtin_cpu_supports("avx2");
  return yes;
}

// roundTop's reselection height zp (the point moved along its ray onto the fitted surface, at
// most 3 sigma) of points k = 0, 4, 8, ... below n & ~3 into zp[k]; sigma > 0. The scalar
// loop's operations in its order per lane; js::hypot's general case (largest magnitude finite
// and non-zero, no NaN) only: a group with another lane is left to the caller (false in done[g]).
__attribute__((target("avx2"))) void reselectAvx2(const float* xs, const float* ys, const float* zs, const double* S, const double* T, long n, double cu, double cv,
                                                  const double* cf, double zRef, double sigma, double* zp, uint8_t* done) {
  const __m256d absMask = _mm256_castsi256_pd(_mm256_set1_epi64x(0x7FFFFFFFFFFFFFFFll));
  const __m256d zero = _mm256_setzero_pd(), inf = _mm256_set1_pd(std::numeric_limits<double>::infinity());
  const __m256d vcu = _mm256_set1_pd(cu), vcv = _mm256_set1_pd(cv), vzRef = _mm256_set1_pd(zRef);
  const __m256d c0 = _mm256_set1_pd(cf[0]), c1 = _mm256_set1_pd(cf[1]), c2 = _mm256_set1_pd(cf[2]), c3 = _mm256_set1_pd(cf[3]), c4 = _mm256_set1_pd(cf[4]), c5 = _mm256_set1_pd(cf[5]);
  const __m256d two = _mm256_set1_pd(2), lo = _mm256_set1_pd(-3 * sigma), hi = _mm256_set1_pd(3 * sigma), tiny = _mm256_set1_pd(1e-6);
  for (long k = 0; k + 4 <= n; k += 4) {
    const __m256d x = _mm256_cvtps_pd(_mm_loadu_ps(xs + k)), y = _mm256_cvtps_pd(_mm_loadu_ps(ys + k)), zi = _mm256_cvtps_pd(_mm_loadu_ps(zs + k));
    const __m256d ax = _mm256_and_pd(x, absMask), ay = _mm256_and_pd(y, absMask), az = _mm256_and_pd(zi, absMask);
    // js::hypot: the largest magnitude (strictly greater replaces), each over it, Kahan's sum.
    __m256d mx = _mm256_blendv_pd(zero, ax, _mm256_cmp_pd(ax, zero, _CMP_GT_OQ));
    mx = _mm256_blendv_pd(mx, ay, _mm256_cmp_pd(ay, mx, _CMP_GT_OQ));
    mx = _mm256_blendv_pd(mx, az, _mm256_cmp_pd(az, mx, _CMP_GT_OQ));
    const __m256d nan = _mm256_or_pd(_mm256_cmp_pd(x, y, _CMP_UNORD_Q), _mm256_cmp_pd(zi, zi, _CMP_UNORD_Q));
    const __m256d general = _mm256_andnot_pd(nan, _mm256_and_pd(_mm256_cmp_pd(mx, zero, _CMP_GT_OQ), _mm256_cmp_pd(mx, inf, _CMP_LT_OQ)));
    if (_mm256_movemask_pd(general) != 15) {
      done[k >> 2] = 0;
      continue;
    }
    done[k >> 2] = 1;
    const __m256d r = js::hypot3Lanes(ax, ay, az, mx);
    const __m256d sk = _mm256_loadu_pd(S + k), tk = _mm256_loadu_pd(T + k);
    const __m256d u = _mm256_sub_pd(sk, vcu), v = _mm256_sub_pd(tk, vcv);
    const __m256d rs = _mm256_div_pd(sk, r), rt = _mm256_div_pd(tk, r), rz = _mm256_div_pd(zi, r);
    const __m256d qu = _mm256_add_pd(_mm256_add_pd(c1, _mm256_mul_pd(_mm256_mul_pd(two, c3), u)), _mm256_mul_pd(c4, v));
    const __m256d qv = _mm256_add_pd(_mm256_add_pd(c2, _mm256_mul_pd(c4, u)), _mm256_mul_pd(_mm256_mul_pd(two, c5), v));
    const __m256d g = _mm256_sub_pd(rz, _mm256_add_pd(_mm256_mul_pd(qu, rs), _mm256_mul_pd(qv, rt)));
    // fit.at(u, v): c0 + c1 u + c2 v + c3 u u + c4 u v + c5 v v, left to right.
    __m256d at = _mm256_add_pd(c0, _mm256_mul_pd(c1, u));
    at = _mm256_add_pd(at, _mm256_mul_pd(c2, v));
    at = _mm256_add_pd(at, _mm256_mul_pd(_mm256_mul_pd(c3, u), u));
    at = _mm256_add_pd(at, _mm256_mul_pd(_mm256_mul_pd(c4, u), v));
    at = _mm256_add_pd(at, _mm256_mul_pd(_mm256_mul_pd(c5, v), v));
    const __m256d f = _mm256_sub_pd(_mm256_sub_pd(zi, vzRef), at);
    const __m256d negF = _mm256_xor_pd(f, _mm256_set1_pd(-0.0));
    const __m256d clamped = js::maxLanes(lo, js::minLanes(hi, _mm256_div_pd(negF, g)));
    const __m256d lambda = _mm256_and_pd(_mm256_cmp_pd(_mm256_and_pd(g, absMask), tiny, _CMP_GT_OQ), clamped);
    _mm256_storeu_pd(zp + k, _mm256_add_pd(zi, _mm256_mul_pd(lambda, rz)));
  }
}

// estimate's pass at the top's level over points k < n & ~3 (returns where it stopped; the
// scalar loop does the rest): T of every point, and for those at the level (window) or just
// above it (upper) S, the window's sums and list, the fit's list. The lanes make x, y, z, T and
// the tests as the scalar loop does (no FMA; !(a > b) as NGT_UQ); a group of four with a point
// at the level goes through its points in order as the scalar loop would, so the sums are added
// in the same order. Why: the scalar loop's branch on the tests, taken or not point by point
// along an object's rows, was mispredicted often (the hottest instruction of estimate itself).
__attribute__((target("avx2"))) long levelPassAvx2(const float* xs, const float* ys, const float* zs, long n, double c, double sn, double level, double half, double* T,
                                                   double* S, double* B, uint32_t* atTop, double& cu, double& cv, long& m, long& nTop) {
  const __m256d vc = _mm256_set1_pd(c), vsn = _mm256_set1_pd(sn), vlevel = _mm256_set1_pd(level), vhalf = _mm256_set1_pd(half);
  const __m256d vtopEnd = _mm256_set1_pd(level + half), sign = _mm256_set1_pd(-0.0), absMask = _mm256_castsi256_pd(_mm256_set1_epi64x(0x7FFFFFFFFFFFFFFFll));
  const long to = n & ~3L;
  double su = cu, sv = cv;
  long mm = m, nt = nTop;
  for (long k = 0; k < to; k += 4) {
    const __m256d x = _mm256_cvtps_pd(_mm_loadu_ps(xs + k)), y = _mm256_cvtps_pd(_mm_loadu_ps(ys + k)), z = _mm256_cvtps_pd(_mm_loadu_ps(zs + k));
    const __m256d t = _mm256_add_pd(_mm256_mul_pd(_mm256_xor_pd(x, sign), vsn), _mm256_mul_pd(y, vc));
    _mm256_storeu_pd(T + k, t);
    const int window = _mm256_movemask_pd(_mm256_cmp_pd(_mm256_and_pd(_mm256_sub_pd(z, vlevel), absMask), vhalf, _CMP_NGT_UQ));
    const int upper = _mm256_movemask_pd(_mm256_and_pd(_mm256_cmp_pd(z, vlevel, _CMP_GE_OQ), _mm256_cmp_pd(z, vtopEnd, _CMP_LE_OQ)));
    if ((window | upper) == 0) continue;
    alignas(32) double tl[4], sl[4];
    _mm256_store_pd(tl, t);
    _mm256_store_pd(sl, _mm256_add_pd(_mm256_mul_pd(x, vc), _mm256_mul_pd(y, vsn)));
    SR_UNROLL4
    for (int l = 0; l < 4; l++) {
      const bool w = (window >> l) & 1, u = (upper >> l) & 1;
      if (!w && !u) continue;
      S[k + l] = sl[l];
      if (w) {
        su += sl[l];
        sv += tl[l];
        B[mm++] = tl[l];
      }
      if (u) atTop[nt++] = static_cast<uint32_t>(k + l);
    }
  }
  cu = su;
  cv = sv;
  m = mm;
  nTop = nt;
  return to;
}

// rejectStrays' passes over the points four at a time (the scalar loops' operations per lane;
// the scalar loops finish the last n % 4 points).

// The squared distances' keys (psort::keyOf) of points k < n & ~3 into K, and their least and
// greatest. A squared distance is +0, positive or NaN: its key is its bits (NaN's made the
// canonical NaN's) with the top bit set, so keys order as those bits do as signed integers.
// Also the sums of the points' x, y and z, added in their order (sum[0..2]; the estimate's mean
// when no point is dropped): chains of dependent adds that in a pass of their own set its pace.
__attribute__((target("avx2"))) void distanceKeysAvx2(const float* X, const float* Y, const float* Z, long n, double mx, double my, uint64_t* K, uint64_t& kmin,
                                                      uint64_t& kmax, double* sum) {
  const __m256d vmx = _mm256_set1_pd(mx), vmy = _mm256_set1_pd(my);
  const __m256i nanBits = _mm256_set1_epi64x(0x7FF8000000000000ll), top = _mm256_set1_epi64x(static_cast<long long>(0x8000000000000000ull));
  __m256i lo = _mm256_set1_epi64x(0x7FFFFFFFFFFFFFFFll), hi = _mm256_set1_epi64x(-1);
  double sx = sum[0], sy = sum[1], sz = sum[2];
  for (long i = 0; i + 4 <= n; i += 4) {
    SR_UNROLL4
    for (long q = i; q < i + 4; q++) {
      sx += X[q];
      sy += Y[q];
      sz += Z[q];
    }
    const __m256d dx = _mm256_sub_pd(_mm256_cvtps_pd(_mm_loadu_ps(X + i)), vmx), dy = _mm256_sub_pd(_mm256_cvtps_pd(_mm_loadu_ps(Y + i)), vmy);
    const __m256d d2 = _mm256_add_pd(_mm256_mul_pd(dx, dx), _mm256_mul_pd(dy, dy));
    const __m256i b = _mm256_castpd_si256(_mm256_blendv_pd(d2, _mm256_castsi256_pd(nanBits), _mm256_cmp_pd(d2, d2, _CMP_UNORD_Q)));
    lo = _mm256_blendv_epi8(lo, b, _mm256_cmpgt_epi64(lo, b));
    hi = _mm256_blendv_epi8(hi, b, _mm256_cmpgt_epi64(b, hi));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(K + i), _mm256_or_si256(b, top));
  }
  sum[0] = sx;
  sum[1] = sy;
  sum[2] = sz;
  alignas(32) int64_t l[4], h[4];
  _mm256_store_si256(reinterpret_cast<__m256i*>(l), lo);
  _mm256_store_si256(reinterpret_cast<__m256i*>(h), hi);
  int64_t mn = l[0], mxb = h[0];
  for (int k = 1; k < 4; k++) {
    mn = l[k] < mn ? l[k] : mn;
    mxb = h[k] > mxb ? h[k] : mxb;
  }
  // With no group the bounds stay above (below) every key: the scalar loop's starting values.
  kmin = n >= 4 ? static_cast<uint64_t>(mn) | 0x8000000000000000ull : ~0ull;
  kmax = n >= 4 ? static_cast<uint64_t>(mxb) | 0x8000000000000000ull : 0;
}

// psort::selectKeyByBits (the same bins, counts and gathered keys, the same settled() bound) with its two passes four keys at a time.
template <typename Settled>
__attribute__((target("avx2"))) uint64_t selectKeyByBitsAvx2(uint64_t* keys, long n, long r, uint64_t kmin, uint64_t kmax, Settled settled) {
  if (kmin == kmax) return kmin;
  const uint64_t span = kmax - kmin;
  int shift = 0;
  while ((span >> shift) >= 256) shift++;
  const __m256i base = _mm256_set1_epi64x(static_cast<long long>(kmin));
  const __m128i count = _mm_cvtsi32_si128(shift);
  uint32_t hist[256];
  std::memset(hist, 0, sizeof hist);
  alignas(32) uint64_t b4[4];
  long i = 0;
  for (; i + 4 <= n; i += 4) {
    _mm256_store_si256(reinterpret_cast<__m256i*>(b4), _mm256_srl_epi64(_mm256_sub_epi64(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(keys + i)), base), count));
    hist[b4[0]]++;
    hist[b4[1]]++;
    hist[b4[2]]++;
    hist[b4[3]]++;
  }
  for (; i < n; i++) hist[(keys[i] - kmin) >> shift]++;
  // From the top bin down (rank r is the 95%): the least bin whose keys and those below number
  // more than r (the bins hold all n keys), and the keys below it.
  uint64_t b = 255;
  long above = 0;
  while (b > 0 && above + static_cast<long>(hist[b]) < n - r) above += hist[b--];
  const long acc = n - above - static_cast<long>(hist[b]);
  if (settled(kmin + (b << shift))) return kmin + (b << shift);
  uint64_t* g = keys + n;
  long m = 0;
  const __m256i want = _mm256_set1_epi64x(static_cast<long long>(b));
  for (i = 0; i + 4 <= n; i += 4) {
    const __m256i k = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(keys + i));
    const int hit = _mm256_movemask_pd(_mm256_castsi256_pd(_mm256_cmpeq_epi64(_mm256_srl_epi64(_mm256_sub_epi64(k, base), count), want)));
    if (hit == 0) continue;
    for (int j = 0; j < 4; j++) {
      if (hit & (1 << j)) g[m++] = keys[i + j];
    }
  }
  for (; i < n; i++) {
    const uint64_t k = keys[i];
    g[m] = k;
    m += ((k - kmin) >> shift) == b;
  }
  std::nth_element(g, g + (r - acc), g + m);
  return g[r - acc];
}

// Bit j of out[k >> 2]: whether point k (< n & ~3) lies beyond the limit (dx² + dy² > limit2; a NaN does not).
__attribute__((target("avx2"))) void beyondAvx2(const float* X, const float* Y, long n, double mx, double my, double limit2, uint8_t* out) {
  const __m256d vmx = _mm256_set1_pd(mx), vmy = _mm256_set1_pd(my), lim = _mm256_set1_pd(limit2);
  for (long i = 0; i + 4 <= n; i += 4) {
    const __m256d dx = _mm256_sub_pd(_mm256_cvtps_pd(_mm_loadu_ps(X + i)), vmx), dy = _mm256_sub_pd(_mm256_cvtps_pd(_mm_loadu_ps(Y + i)), vmy);
    const __m256d d2 = _mm256_add_pd(_mm256_mul_pd(dx, dx), _mm256_mul_pd(dy, dy));
    out[i >> 2] = static_cast<uint8_t>(_mm256_movemask_pd(_mm256_cmp_pd(d2, lim, _CMP_GT_OQ)));
  }
}

// peakOf's spans along (eu, ev) over points k < n & ~3: the least and greatest p of the selected
// points, and of those at or above cutZ, and how many those are; p as the scalar loop makes it.
// The bounds are the scalar loop's (`p < lo` keeps the first of equal values, min_pd may keep
// another: only where -0 and +0 tie, which neither the tests nor the midpoints can tell; a NaN p
// is passed over by both, min_pd returning its second operand).
__attribute__((target("avx2"))) void spanAvx2(const double* S, const double* T, const double* sel, const float* zs, long n, double cu, double cv, double eu, double ev,
                                              double cutZ, double& lo, double& hi, double& clo, double& chi, long& cn) {
  const __m256d vcu = _mm256_set1_pd(cu), vcv = _mm256_set1_pd(cv), veu = _mm256_set1_pd(eu), vev = _mm256_set1_pd(ev), vcut = _mm256_set1_pd(cutZ);
  const __m256d inf = _mm256_set1_pd(kInf), ninf = _mm256_set1_pd(-kInf), zero = _mm256_setzero_pd();
  __m256d l = _mm256_set1_pd(lo), h = _mm256_set1_pd(hi), cl = _mm256_set1_pd(clo), ch = _mm256_set1_pd(chi);
  long count = cn;
  for (long k = 0; k + 4 <= n; k += 4) {
    const __m256d taken = _mm256_cmp_pd(_mm256_loadu_pd(sel + k), zero, _CMP_NEQ_UQ);
    if (_mm256_movemask_pd(taken) == 0) continue;
    const __m256d p = _mm256_add_pd(_mm256_mul_pd(_mm256_sub_pd(_mm256_loadu_pd(S + k), vcu), veu), _mm256_mul_pd(_mm256_sub_pd(_mm256_loadu_pd(T + k), vcv), vev));
    l = _mm256_min_pd(_mm256_blendv_pd(inf, p, taken), l);
    h = _mm256_max_pd(_mm256_blendv_pd(ninf, p, taken), h);
    const __m256d above = _mm256_and_pd(taken, _mm256_cmp_pd(_mm256_cvtps_pd(_mm_loadu_ps(zs + k)), vcut, _CMP_GE_OQ));
    const int m = _mm256_movemask_pd(above);
    if (m == 0) continue;
    count += (m & 1) + ((m >> 1) & 1) + ((m >> 2) & 1) + (m >> 3);
    cl = _mm256_min_pd(_mm256_blendv_pd(inf, p, above), cl);
    ch = _mm256_max_pd(_mm256_blendv_pd(ninf, p, above), ch);
  }
  alignas(32) double a[4], b[4], c[4], d[4];
  _mm256_store_pd(a, l);
  _mm256_store_pd(b, h);
  _mm256_store_pd(c, cl);
  _mm256_store_pd(d, ch);
  for (int i = 0; i < 4; i++) {
    if (a[i] < lo) lo = a[i];
    if (b[i] > hi) hi = b[i];
    if (c[i] < clo) clo = c[i];
    if (d[i] > chi) chi = d[i];
  }
  cn = count;
}
#endif

double ObjectBoxEstimator::roundTop(const float* xs, const float* ys, const float* zs, long start, long n, double c, double sn, double zMin, double band, double sigS,
                                    double tanE, double cosE, double sigma) {
  double* S = s_.data();
  const double* T = t_.data();
  QuadraticSurfaceFit& fit = fit_;
  double* sel = a_.data();
  const long end = start + n;
  const double flatCurvature = options_.flatCurvature;
  // Without a fit, the middle of the cloud; the first selection's sums in the same pass (each
  // sum a chain of dependent adds: side by side they share its time).
  double su = 0, sv = 0, cu = 0, cv = 0;
  long m = 0;
  for (long i = start, k = 0; k < n; i++, k++) {
    const double x = xs[i], y = ys[i];
    const double sk = x * c + y * sn, tk = T[k];
    S[k] = sk;
    su += sk;
    sv += tk;
    const bool in = zs[i] >= zMin;
    sel[k] = in ? 1 : 0;
    if (in) {
      cu += sk;
      cv += tk;
      m++;
    }
  }
  peakU_ = su / static_cast<double>(n);
  peakV_ = sv / static_cast<double>(n);
  double zPeak = zMin + band;
  double fitU = 0, fitV = 0, fitRef = 0;
  bool solved = false;
  for (int pass = 0; pass < 2; pass++) {
    if (m < 8) break;
    cu /= static_cast<double>(m);
    cv /= static_cast<double>(m);
    const double zRef = zMin + band;
    fit.reset();
    long k = 0;
    fit.addAll(sigS * sigS, tanE, [&](double& u, double& v, double& z) {
      while (k < n && sel[k] == 0) k++;
      if (k == n) return false;
      u = S[k] - cu;
      v = T[k] - cv;
      z = zs[start + k] - zRef;
      k++;
      return true;
    });
    if (!fit.solve()) {
      peakU_ = cu;
      peakV_ = cv;
      break;
    }
    const bool weak = peakOf(cu, cv, sel, n, zs, start, -kInf);
    zPeak = zRef + fit.at(peakU_ - cu, peakV_ - cv);
    if (weak) {
      // A ridge's ends curve away from the view unevenly (object_box.ts).
      const double lStrong = pjs::min(eig_.l1, eig_.l2);
      const double depth = lStrong < -flatCurvature ? (0.8 * (1 - cosE)) / -lStrong : band;
      const double cutZ = zPeak - pjs::min(band, pjs::max(0.002, 2 * sigma * tanE * cosE, depth));
      peakOf(cu, cv, sel, n, zs, start, cutZ);
      zPeak = zRef + fit.at(peakU_ - cu, peakV_ - cv);
    }
    fitU = cu;
    fitV = cv;
    fitRef = zRef;
    solved = true;
    if (pass == 1) break;
    // Reselect by the fitted surface where each point's ray meets it (object_box.ts).
    const double lStrong = pjs::min(eig_.l1, eig_.l2);
    const double band2 = lStrong < -flatCurvature ? pjs::max(0.003, 2 * sigma * tanE * cosE, pjs::min(band, 0.3 / -lStrong)) : band;
    const double* cf = fit.coef;
    double nu = 0, nv = 0;
    long nm = 0;
    // The moved heights four points at a time where AVX2 runs (b_ is free until the residuals).
    double* ZP = b_.data();
    uint8_t* groupDone = groupDone_.data();
    long vecTo = 0;
#if defined(SR_BOX_AVX2)
    if (sigma > 0 && boxAvx2()) {
      vecTo = n & ~3L;
      reselectAvx2(xs + start, ys + start, zs + start, S, T, n, cu, cv, cf, zRef, sigma, ZP, groupDone);
    }
#endif
    for (long i = start, k = 0; i < end; i++, k++) {
      const double u = S[k] - cu, v = T[k] - cv;
      const double zi = zs[i];
      double zp = zi;
      if (k < vecTo && groupDone[k >> 2]) {
        zp = ZP[k];
      } else if (sigma > 0) {
        const double r = pjs::hypot(xs[i], ys[i], zi);
        const double rs = S[k] / r, rt = T[k] / r, rz = zi / r;
        const double qu = cf[1] + 2 * cf[3] * u + cf[4] * v, qv = cf[2] + cf[4] * u + 2 * cf[5] * v;
        const double g = rz - (qu * rs + qv * rt);
        const double f = zi - zRef - fit.at(u, v);
        const double lambda = std::fabs(g) > 1e-6 ? pjs::max(-3 * sigma, pjs::min(3 * sigma, -f / g)) : 0;
        zp = zi + lambda * rz;
      }
      sel[k] = zp >= zPeak - band2 ? 1 : 0;
      if (sel[k] != 0) {
        nu += S[k];
        nv += T[k];
        nm++;
      }
    }
    cu = nu;
    cv = nv;
    m = nm;
    if (m < 8) break;
  }
  if (!solved) return zPeak;
  // The peak's height: the fitted surface's, shifted by the median residual of the points around the peak.
  const double drop = pjs::max(0.002, sigma * tanE);
  double* R = b_.data();
  long nr = 0;
  for (long i = start, k = 0; i < end; i++, k++) {
    const double dz = zPeak - (fitRef + fit.at(S[k] - fitU, T[k] - fitV));
    if (dz > drop) continue;
    R[nr++] = zs[i] - (fitRef + fit.at(S[k] - fitU, T[k] - fitV));
  }
  if (nr < 8) return zPeak;
  return zPeak + psort::quantileInPlace(R, nr, 0.5);
}

#if defined(SR_BOX_AVX2)
// fitRayQuadratic's disc over points k < n & ~3 (returns where it stopped; m counts the points
// stored): each lane's du, dv and test as the scalar loop makes them (!(d2 > r2) as NGT_UQ), the
// points in the disc moved to the front in order and stored four at a time (up to three values
// past them, which the next store or nothing reads: the arrays have room).
__attribute__((target("avx2"))) long discAvx2(const double* U, const double* V, const double* Z, long n, double u0, double v0, double r2, double zRef, double* DU,
                                              double* DV, double* DZ, long& m) {
  const __m256d vu0 = _mm256_set1_pd(u0), vv0 = _mm256_set1_pd(v0), vr2 = _mm256_set1_pd(r2), vz = _mm256_set1_pd(zRef);
  long k = 0, mm = m;
  for (; k + 4 <= n; k += 4) {
    const __m256d du = _mm256_sub_pd(_mm256_loadu_pd(U + k), vu0), dv = _mm256_sub_pd(_mm256_loadu_pd(V + k), vv0);
    const int in = _mm256_movemask_pd(_mm256_cmp_pd(_mm256_add_pd(_mm256_mul_pd(du, du), _mm256_mul_pd(dv, dv)), vr2, _CMP_NGT_UQ));
    if (in == 0) continue;
    const __m256i perm = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(psort::kCompress4x64.idx[in]));
    const __m256d z = _mm256_sub_pd(_mm256_loadu_pd(Z + k), vz);
    _mm256_storeu_pd(DU + mm, _mm256_castps_pd(_mm256_permutevar8x32_ps(_mm256_castpd_ps(du), perm)));
    _mm256_storeu_pd(DV + mm, _mm256_castps_pd(_mm256_permutevar8x32_ps(_mm256_castpd_ps(dv), perm)));
    _mm256_storeu_pd(DZ + mm, _mm256_castps_pd(_mm256_permutevar8x32_ps(_mm256_castpd_ps(z), perm)));
    mm += psort::kCompress4x64.count[in];
  }
  m = mm;
  return k;
}

// rayCoordinates over points k < n & ~3, four at a time: each lane the scalar loop's operations in
// its order (a division a point bound that loop; -qx by flipping the sign, exactly).
__attribute__((target("avx2"))) void rayCoordinatesAvx2(const float* xs, const float* ys, const float* zs, long n, double zRef, double c, double sn, double* U, double* V,
                                                        double* Z) {
  const __m256d vz = _mm256_set1_pd(zRef), vc = _mm256_set1_pd(c), vsn = _mm256_set1_pd(sn), sign = _mm256_set1_pd(-0.0);
  for (long k = 0; k + 4 <= n; k += 4) {
    const __m256d z = _mm256_cvtps_pd(_mm_loadu_ps(zs + k));
    const __m256d f = _mm256_div_pd(vz, z);
    const __m256d qx = _mm256_mul_pd(_mm256_cvtps_pd(_mm_loadu_ps(xs + k)), f), qy = _mm256_mul_pd(_mm256_cvtps_pd(_mm_loadu_ps(ys + k)), f);
    _mm256_storeu_pd(U + k, _mm256_add_pd(_mm256_mul_pd(qx, vc), _mm256_mul_pd(qy, vsn)));
    _mm256_storeu_pd(V + k, _mm256_add_pd(_mm256_mul_pd(_mm256_xor_pd(qx, sign), vsn), _mm256_mul_pd(qy, vc)));
    _mm256_storeu_pd(Z + k, z);
  }
}
#endif

void ObjectBoxEstimator::rayCoordinates(const float* xs, const float* ys, const float* zs, long start, long n, double zRef, double c, double sn) {
  double* U = ru_.data();
  double* V = rv_.data();
  double* Z = rz_.data();
  long done = 0;
#if defined(SR_BOX_AVX2)
  if (boxAvx2()) {
    rayCoordinatesAvx2(xs + start, ys + start, zs + start, n, zRef, c, sn, U, V, Z);
    done = n & ~3L;
  }
#endif
  for (long i = start + done, k = done; k < n; i++, k++) {
    const double f = zRef / zs[i];
    const double qx = xs[i] * f, qy = ys[i] * f;
    U[k] = qx * c + qy * sn;
    V[k] = -qx * sn + qy * c;
    Z[k] = zs[i];
  }
}

bool ObjectBoxEstimator::fitRayQuadratic(long n, double zRef, double u0, double v0, double rho, double trimBelow) {
  const double* U = ru_.data();
  const double* V = rv_.data();
  const double* Z = rz_.data();
  RayQuadraticFit& fit = rayFit_;
  const double r2 = rho * rho;
  const double* cf = fit.coef;
  // The disc's points (the same every pass) with their offsets, gathered by the first pass: the
  // trimmed passes go through them alone, in the same order.
  double* DU = disc_.data();
  double* DV = DU + n + 4;
  double* DZ = DV + n + 4;
  long m = 0, k = 0;
#if defined(SR_BOX_AVX2)
  if (boxAvx2()) k = discAvx2(U, V, Z, n, u0, v0, r2, zRef, DU, DV, DZ, m);
#endif
  for (; k < n; k++) {
    const double du = U[k] - u0, dv = V[k] - v0;
    if (du * du + dv * dv > r2) continue;
    DU[m] = du;
    DV[m] = dv;
    DZ[m] = Z[k] - zRef;
    m++;
  }
  fit.reset();
  fit.addDisc(DU, DV, DZ, m, nullptr, 0);
  if (!fit.solve()) return false;
  for (int pass = 1; pass < 3; pass++) {
    const double c[6] = {cf[0], cf[1], cf[2], cf[3], cf[4], cf[5]};
    fit.reset();
    fit.addDisc(DU, DV, DZ, m, c, trimBelow);
    if (!fit.solve()) return false;
  }
  hessianEigen(cf, rayEig_);
  return true;
}

double ObjectBoxEstimator::rayPeak(long n, double zRef, double u0, double v0, double rho, double trimBelow) {
  double u = u0, v = v0, z = std::numeric_limits<double>::quiet_NaN();
  for (int step = 0; step < 3; step++) {
    if (!fitRayQuadratic(n, zRef, u, v, rho, trimBelow)) break;
    const double* cf = rayFit_.coef;
    const Eigen2& e = rayEig_;
    double pu = 0, pv = 0;
    for (int d = 0; d < 2; d++) {
      const double eu = d == 0 ? e.e1u : -e.e1v, ev = d == 0 ? e.e1v : e.e1u;
      const double l = d == 0 ? e.l1 : e.l2;
      if (!(l < -options_.flatCurvature)) continue;
      const double off = pjs::max(-rho, pjs::min(rho, -(cf[1] * eu + cf[2] * ev) / l));
      pu += off * eu;
      pv += off * ev;
    }
    z = zRef + rayFit_.at(pu, pv);
    u += pu;
    v += pv;
  }
  return z;
}

bool ObjectBoxEstimator::peakOf(double cu, double cv, const double* sel, long n, const float* zs, long start, double cutZ) {
  const double* cf = fit_.coef;
  const double* S = s_.data();
  const double* T = t_.data();
  Eigen2& e = eig_;
  hessianEigen(cf, e);
  double pu = 0, pv = 0;
  bool weak = false;
  for (int d = 0; d < 2; d++) {
    const double eu = d == 0 ? e.e1u : -e.e1v, ev = d == 0 ? e.e1v : e.e1u;
    const double l = d == 0 ? e.l1 : e.l2;
    double lo = kInf, hi = -kInf, clo = kInf, chi = -kInf;
    long cn = 0, k = 0;
#if defined(SR_BOX_AVX2)
    if (boxAvx2()) {
      spanAvx2(S, T, sel, zs + start, n, cu, cv, eu, ev, cutZ, lo, hi, clo, chi, cn);
      k = n & ~3L;
    }
#endif
    for (; k < n; k++) {
      if (sel[k] == 0) continue;
      const double p = (S[k] - cu) * eu + (T[k] - cv) * ev;
      if (p < lo) lo = p;
      if (p > hi) hi = p;
      if (zs[start + k] >= cutZ) {
        cn++;
        if (p < clo) clo = p;
        if (p > chi) chi = p;
      }
    }
    // A stationary point outside the points it was fitted to is an extrapolation.
    const double newton = -(cf[1] * eu + cf[2] * ev) / l;
    double off;
    if (l < -options_.flatCurvature && newton >= lo && newton <= hi) {
      off = newton;
    } else {
      weak = true;
      off = cn >= 8 ? (clo + chi) / 2 : (lo + hi) / 2;
    }
    pu += off * eu;
    pv += off * ev;
  }
  peakU_ = cu + pu;
  peakV_ = cv + pv;
  return weak;
}

void ObjectBoxEstimator::visibleBox(const float* xs, const float* ys, long start, long n, double c, double sn, double sinE, double sAlong, double pixel, Box3& out) {
  const double trim = options_.trim;
  psort::Ranked& R = edges_;
  R.load(xs + start, n, histValid_ ? &histX_ : nullptr);
  const double sx = sAlong * std::fabs(c);
  prepareEdges(R, sx, trim);
  const double xLo = noisyEdgeLow(R, sx, trim) - pixelGap(-1, 0, c, sn, sinE, pixel);
  const double xHi = noisyEdgeHigh(R, sx, trim) + pixelGap(1, 0, c, sn, sinE, pixel);
  R.load(ys + start, n, histValid_ ? &histY_ : nullptr);
  const double sy = sAlong * std::fabs(sn);
  prepareEdges(R, sy, trim);
  const double yLo = noisyEdgeLow(R, sy, trim) - pixelGap(0, -1, c, sn, sinE, pixel);
  const double yHi = noisyEdgeHigh(R, sy, trim) + pixelGap(0, 1, c, sn, sinE, pixel);
  out.cx = (xLo + xHi) / 2;
  out.cy = (yLo + yHi) / 2;
  out.sx = xHi - xLo;
  out.sy = yHi - yLo;
}

void ObjectBoxEstimator::topFaceBox(const float* xs, const float* ys, const float* zs, long start, long n, double level, double half, double wallFrom, double wallTo,
                                    double c, double sn, double sinE, double sAlong, double pixel, Box3& out) {
  double* A = a_.data();
  double* B = b_.data();
  const long end = start + n;
  const double trim = options_.trim;
  long m = 0;
  for (long i = start; i < end; i++) {
    const double z = zs[i];
    if (std::fabs(z - level) > half || !(z < 0)) continue;
    const double k = level / z;
    A[m] = xs[i] * k;
    B[m] = ys[i] * k;
    m++;
  }
  if (m < 16) {
    visibleBox(xs, ys, start, n, c, sn, sinE, sAlong, pixel, out);
    return;
  }
  psort::Ranked& R = edges_;
  R.load(A, m);
  prepareEdges(R, 0, trim);
  double xLo = noisyEdgeLow(R, 0, trim), xHi = noisyEdgeHigh(R, 0, trim);
  R.load(B, m);
  prepareEdges(R, 0, trim);
  double yLo = noisyEdgeLow(R, 0, trim), yHi = noisyEdgeHigh(R, 0, trim);
  // Wall columns lying well outside the top face's footprint are another object's.
  const double tol = 0.01 + 3 * sAlong;
  const bool walls = wallColumns(xs, ys, zs, start, n, wallFrom, wallTo, pixel, xLo - tol, xHi + tol, yLo - tol, yHi + tol);
  if (std::fabs(c) > 0.5) {
    if (walls) {
      if (c > 0) xLo = wallXLo_;
      else xHi = wallXHi_;
    } else {
      R.load(xs + start, n, histValid_ ? &histX_ : nullptr);
      if (c > 0) xLo = noisyEdgeLow(R, sAlong * c, trim);
      else xHi = noisyEdgeHigh(R, -sAlong * c, trim);
    }
  }
  if (std::fabs(sn) > 0.5) {
    if (walls) {
      if (sn > 0) yLo = wallYLo_;
      else yHi = wallYHi_;
    } else {
      R.load(ys + start, n, histValid_ ? &histY_ : nullptr);
      if (sn > 0) yLo = noisyEdgeLow(R, sAlong * sn, trim);
      else yHi = noisyEdgeHigh(R, -sAlong * sn, trim);
    }
  }
  xLo -= pixelGap(-1, 0, c, sn, sinE, pixel);
  xHi += pixelGap(1, 0, c, sn, sinE, pixel);
  yLo -= pixelGap(0, -1, c, sn, sinE, pixel);
  yHi += pixelGap(0, 1, c, sn, sinE, pixel);
  out.cx = (xLo + xHi) / 2;
  out.cy = (yLo + yHi) / 2;
  out.sx = xHi - xLo;
  out.sy = yHi - yLo;
}

bool ObjectBoxEstimator::wallColumns(const float* xs, const float* ys, const float* zs, long start, long n, double from, double to, double pixel, double xMin, double xMax,
                                     double yMin, double yMax) {
  if (!(to - from >= 0.004)) return false;
  const double* T = t_.data();
  const long end = start + n;
  // The band's points listed once (then binned once: a division a point), in order.
  uint32_t* band = sel32_.data();
  int32_t* bandBin = reinterpret_cast<int32_t*>(band + n);
  double tMin = kInf, tMax = -kInf;
  long m = 0;
  for (long i = start, k = 0; i < end; i++, k++) {
    if (zs[i] < from || zs[i] > to) continue;
    if (T[k] < tMin) tMin = T[k];
    if (T[k] > tMax) tMax = T[k];
    band[m++] = static_cast<uint32_t>(k);
  }
  if (m < 40) return false;
  const double binsD = pjs::min(static_cast<double>(kMaxWallColumns), pjs::max(1.0, std::floor((tMax - tMin) / pjs::max(0.002, 1.5 * pixel)) + 1));
  // A NaN count (only from non-finite input) bins nothing in the reference: no wall.
  if (!(binsD >= 1)) return false;
  const int bins = static_cast<int>(binsD);
  double width = (tMax - tMin) / bins;
  if (width == 0 || width != width) width = 1;  // `|| 1`
  int32_t* count = binCount_;
  int32_t* first = binFirst_;
  for (int b = 0; b <= bins; b++) count[b] = 0;
  auto binOf = [&](double t) { return static_cast<int>(pjs::min(static_cast<double>(bins - 1), std::floor((t - tMin) / width))); };
  for (long j = 0; j < m; j++) {
    const int b = binOf(T[band[j]]);
    bandBin[j] = b;
    count[b]++;
  }
  first[0] = 0;
  for (int b = 0; b < bins; b++) first[b + 1] = first[b] + count[b];
  for (int b = 0; b < bins; b++) count[b] = 0;
  double* X = a_.data();
  double* Y = b_.data();
  for (long j = 0; j < m; j++) {
    const int b = bandBin[j];
    const int32_t slot = first[b] + count[b]++;
    X[slot] = xs[start + band[j]];
    Y[slot] = ys[start + band[j]];
  }
  wallXLo_ = kInf;
  wallXHi_ = -kInf;
  wallYLo_ = kInf;
  wallYHi_ = -kInf;
  int used = 0;
  for (int b = 0; b < bins; b++) {
    const int32_t c = count[b];
    if (c < 5) continue;
    const int32_t o = first[b];
    const double mx = psort::quantileInPlace(X + o, c, 0.5), my = psort::quantileInPlace(Y + o, c, 0.5);
    if (mx < xMin || mx > xMax || my < yMin || my > yMax) continue;
    used++;
    if (mx < wallXLo_) wallXLo_ = mx;
    if (mx > wallXHi_) wallXHi_ = mx;
    if (my < wallYLo_) wallYLo_ = my;
    if (my > wallYHi_) wallYHi_ = my;
  }
  return used >= 3;
}

void ObjectBoxEstimator::reflectedBox(const float* xs, const float* ys, long start, long n, double cx, double cy, double sAlong, double pixel, Box3& out) {
  const double trim = options_.trim;
  const double c = pjs::cos(pjs::atan2(cy, cx)), sn = pjs::sin(pjs::atan2(cy, cx));
  const double gx = 0.5 * pixel * std::fabs(sn), gy = 0.5 * pixel * std::fabs(c);
  psort::Ranked& R = edges_;
  R.load(xs + start, n, histValid_ ? &histX_ : nullptr);
  prepareEdges(R, sAlong * std::fabs(c), trim);
  const double xLo = noisyEdgeLow(R, sAlong * std::fabs(c), trim) - gx, xHi = noisyEdgeHigh(R, sAlong * std::fabs(c), trim) + gx;
  R.load(ys + start, n, histValid_ ? &histY_ : nullptr);
  prepareEdges(R, sAlong * std::fabs(sn), trim);
  const double yLo = noisyEdgeLow(R, sAlong * std::fabs(sn), trim) - gy, yHi = noisyEdgeHigh(R, sAlong * std::fabs(sn), trim) + gy;
  // A centre outside the seen extent is a fit gone wrong: the seen extent's middle then.
  if (!(cx > xLo && cx < xHi)) cx = (xLo + xHi) / 2;
  if (!(cy > yLo && cy < yHi)) cy = (yLo + yHi) / 2;
  out.cx = cx;
  out.cy = cy;
  out.sx = 2 * (std::fabs(c) >= 0.5 ? (c > 0 ? cx - xLo : xHi - cx) : pjs::max(cx - xLo, xHi - cx));
  out.sy = 2 * (std::fabs(sn) >= 0.5 ? (sn > 0 ? cy - yLo : yHi - cy) : pjs::max(cy - yLo, yHi - cy));
}

long ObjectBoxEstimator::rejectHeightStrays(float* xs, float* ys, float* zs, long start, long n, double gap) {
  // Sorted whole (the estimate searches the top's level through them, and reuses them when nothing is cut).
  double* Z = a_.data();
  heights_.load(zs + start, n);
  heights_.sortAll();
  heights_.values(Z);
  const long tail = static_cast<long>(std::floor(0.06 * static_cast<double>(n)));
  double hi = kInf, lo = -kInf;
  for (long i = n - 1; i >= n - tail && i > 0; i--) {
    if (Z[i] - Z[i - 1] > gap) hi = Z[i - 1];
  }
  for (long i = 0; i < tail && i + 1 < n; i++) {
    if (Z[i + 1] - Z[i] > gap) lo = Z[i + 1];
  }
  if (hi == kInf && lo == -kInf) return 0;
  long w = start;
  for (long i = start; i < start + n; i++) {
    if (zs[i] > hi || zs[i] < lo) continue;
    xs[w] = xs[i];
    ys[w] = ys[i];
    zs[w] = zs[i];
    w++;
  }
  const long removed = start + n - w;
  rejected += removed;
  // The removed heights are the lowest (below lo) and the highest (above hi): the kept ones'
  // sorted order is Z without them. A NaN (sorted last, never removed) would sit between: then
  // the caller sorts again.
  if (removed > 0 && !(Z[n - 1] != Z[n - 1])) {
    long low = 0, high = 0;
    while (low < n && Z[low] < lo) low++;
    while (high < n - low && Z[n - 1 - high] > hi) high++;
    if (low + high == removed) {
      if (low > 0) std::memmove(Z, Z + low, static_cast<size_t>(n - low - high) * sizeof(double));
      heights_.dropEnds(low, high);
    }
  }
  return removed;
}

long ObjectBoxEstimator::rejectStrays(float* xs, float* ys, float* zs, long start, long n) {
  // The reference's quantiles (quickselect over copies) as rank reads: the results can differ
  // from quickselect's only in the sign of a zero, which nothing below can tell (a midpoint of
  // two quantiles, squared distances).
  const long end = start + n;
  const double last = static_cast<double>(n - 1);
  const long k05 = static_cast<long>(pjs::min(last, pjs::max(0.0, pjs::round(0.05 * last))));
  const long k95 = static_cast<long>(pjs::min(last, pjs::max(0.0, pjs::round(0.95 * last))));
  histValid_ = false;
  if (n <= 0) {
    rejected = 0;
    sumX_ = sumY_ = sumZ_ = 0;
    return 0;
  }
  const float* X = xs + start;
  const float* Y = ys + start;
  double x05, x95, y05, y95;
  psort::selectPairsByValue2(X, Y, n, k05, k95, x05, x95, y05, y95, sel32_.data(), &histX_, &histY_);
  const double mx = (x05 + x95) / 2;
  const double my = (y05 + y95) / 2;
  // The squared distances' rank k95, from their keys (one pass makes them and their range, and
  // the sums of all points: the kept points' when none is dropped).
  uint64_t* K = sel_.data();
  uint64_t kmin = ~0ull, kmax = 0;
  const float* Z = zs + start;
  double all[3] = {0, 0, 0};
  long vecTo = 0;
  bool avx2 = false;
#if defined(SR_BOX_AVX2)
  avx2 = boxAvx2();
  if (avx2) {
    vecTo = n & ~3L;
    distanceKeysAvx2(X, Y, Z, n, mx, my, K, kmin, kmax, all);
  }
#endif
  for (long i = vecTo; i < n; i++) {
    all[0] += X[i];
    all[1] += Y[i];
    all[2] += Z[i];
    const double dx = X[i] - mx, dy = Y[i] - my;
    const uint64_t k = psort::keyOf(dx * dx + dy * dy);
    K[i] = k;
    kmin = k < kmin ? k : kmin;
    kmax = k > kmax ? k : kmax;
  }
  // The limit grows with the squared distance of rank k95 (hi): when the greatest one (kmax; a
  // NaN's key is above every number's) is within the limit made from a lower bound of hi (the
  // least key of the bin holding the rank), it is within the exact one, and hi is not needed.
  const double dmax = psort::valueOf(kmax);
  auto limitOf = [](double d2) {
    const double limit = 1.3 * std::sqrt(d2) + 0.01;
    return limit * limit;
  };
  auto settled = [&](uint64_t bound) { return dmax <= limitOf(psort::valueOf(bound)); };
  uint64_t hiKey;
#if defined(SR_BOX_AVX2)
  if (avx2) hiKey = selectKeyByBitsAvx2(K, n, k95, kmin, kmax, settled);
  else
#endif
    hiKey = psort::selectKeyByBits(K, n, k95, kmin, kmax, settled);
  const double limit2 = limitOf(psort::valueOf(hiKey));
  // Mostly none lies beyond (hiKey may then be that bound): the kept points are all of them.
  if (dmax <= limit2) {
    sumX_ = all[0];
    sumY_ = all[1];
    sumZ_ = all[2];
    rejected = 0;
    histValid_ = true;
    return n;
  }
  // Which points lie beyond the limit, four at a time where AVX2 runs (groupDone_ is free here).
  uint8_t* beyond = groupDone_.data();
#if defined(SR_BOX_AVX2)
  if (avx2) beyondAvx2(X, Y, n, mx, my, limit2, beyond);
#endif
  // The kept points' sums (the estimate's mean) in the order its own pass would add them. Until
  // the first point is dropped every kept point stays where it is.
  double sx = 0, sy = 0, sz = 0;
  long w = start;
  auto keep = [&](long i) {
    const float x = xs[i], y = ys[i], z = zs[i];
    if (w != i) {
      xs[w] = x;
      ys[w] = y;
      zs[w] = z;
    }
    sx += x;
    sy += y;
    sz += z;
    w++;
  };
  // By the beyondAvx2 groups of four: a group with none beyond, while nothing has moved, is only
  // summed (most are; the per-point bit tests cost three times the sums).
  for (long k = 0; k < vecTo; k += 4) {
    const uint32_t m = beyond[k >> 2];
    const long i = start + k;
    if (m == 0 && w == i) {
      for (long q = i; q < i + 4; q++) {
        sx += xs[q];
        sy += ys[q];
        sz += zs[q];
      }
      w += 4;
      continue;
    }
    for (long q = 0; q < 4; q++) {
      if (((m >> q) & 1) == 0) keep(i + q);
    }
  }
  for (long i = start + vecTo; i < end; i++) {
    const double dx = xs[i] - mx, dy = ys[i] - my;
    if (!(dx * dx + dy * dy > limit2)) keep(i);
  }
  sumX_ = sx;
  sumY_ = sy;
  sumZ_ = sz;
  rejected = n - (w - start);
  histValid_ = rejected == 0;
  return w - start;
}

}  // namespace perception
}  // namespace sr
