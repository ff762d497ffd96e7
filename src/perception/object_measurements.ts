import { ColorNamer } from "./color_naming.js";
import type { LabelExtents } from "./label_extents.js";
import { ObjectBoxEstimator, type Box3, type BoxContext, type RestingOn } from "./object_box.js";

/**
 * Layout of the `measureObjects` kernel's parameters (one Float64Array per frame): image
 * geometry (strides in elements; depth scale to metres; bgr 1 or 0), the spatial frame
 * (rotation row-major, camera optical → spatial), the support (supportZ NaN: none; floorZ and
 * colorFloorZ -Infinity then), the depth noise at 1 m, the sum fx + fy, the lift's and the box
 * estimator's options. Native kernels read the same layout (native/src/kernels/perception_layout.h):
 * change both together.
 */
export const MEASURE_PARAMS = {
  width: 0, height: 1, depthStride: 2, depthScale: 3, labelStride: 4, rgbStep: 5, bgr: 6,
  floorZ: 7, colorFloorZ: 8, repair: 9, noise1m: 10, supportZ: 11, focalSum: 12,
  minDepth: 13, maxDepth: 14, maxPointsPerObject: 15, minPoints: 16,
  trim: 17, restingTolerance: 18, flatCurvature: 19, topFaceSpan: 20,
  rotation: 21,
  length: 30,
} as const;

/**
 * Layout of one object's measurement (MEASURE.stride values per lifted id, in the order given):
 * `status` 0 measured, 1 too few points (only `points` and `islands` are set then); `points`
 * lifted, or kept by the box; `islands` masked pixels dropped as another object's; the box;
 * `resting` 1 when the box estimator put it on the support; `restingOn` the contact evidence
 * (RESTING_ON's index); `lowest` its lowest seen point; `rejected` stray points; the mean
 * colour of its brightest pixels (NaN: no colour seen).
 */
export const MEASURE = {
  stride: 16,
  status: 0, points: 1, islands: 2, cx: 3, cy: 4, cz: 5, sx: 6, sy: 7, sz: 8,
  resting: 9, restingOn: 10, lowest: 11, rejected: 12, red: 13, green: 14, blue: 15,
} as const;

export const MEASURED = 0;
export const TOO_FEW_POINTS = 1;

/** RestingOn by its code in a measurement. */
export const RESTING_ON: readonly RestingOn[] = ["support", "object", "nothing", "occluded", "unknown"];

/**
 * What an object stands on, from the contact evidence at its bottom edge (pixels just below it
 * on the support, on another object, with the table far behind, hidden by a nearer object):
 * RESTING_ON's index. Mostly hidden behind nearer objects at its bottom edge: it stands on
 * something not seen.
 */
export function restingOnCode(onSupport: number, onObject: number, floating: number, occluded: number): number {
  const evidence = onSupport + onObject + floating;
  return occluded >= 5 && occluded >= evidence ? 3
    : evidence < 5 ? 4 : onSupport >= 0.5 * evidence ? 0 : onObject >= 0.3 * evidence ? 1 : 2;
}

/**
 * Per object: its pixels lifted to points in the spatial frame (instance_lift below), its box
 * from them (object_box.ts), its colour and what it stands on. The TypeScript reference of the
 * `measureObjects` kernel: one instance per Perception (its buffers are reused every frame).
 */
export class ObjectMeasurer {
  readonly boxes = new ObjectBoxEstimator();
  private readonly colors = new ColorNamer();
  /** The colour of the mask's interior only (see INNER_REACH). */
  private readonly inner = new ColorNamer();
  private readonly box: Box3 = { cx: 0, cy: 0, cz: 0, sx: 0, sy: 0, sz: 0 };
  private readonly ctx: BoxContext = { supportZ: null, restingOn: "unknown", noise1m: 0, pixelAngle: 0 };
  private readonly contact = new Int32Array(4);
  /** Bottom-edge pixels of the instance being lifted: their height and contact kind (contact's index). */
  private edgeHeight = new Float32Array(0);
  private edgeKind = new Uint8Array(0);
  /** Pixel step the last lifted instance was sampled with. */
  private liftStep = 1;
  /** Masked pixels of the last lifted instance dropped as another object's. */
  private islands = 0;

  /**
   * Measures the objects `ids[0 .. n)` (label ids of `ext`) into `out` (MEASURE layout, in
   * order). `xs`, `ys`, `zs` are scratch for one object's points (the image's pixel count).
   */
  measure(
    p: Float64Array, depth: Float32Array | Uint16Array, labels: Uint8Array | Uint16Array, rgb: Uint8Array,
    rayX: Float64Array, rayY: Float64Array, ids: Int32Array, n: number, ext: LabelExtents,
    xs: Float32Array, ys: Float32Array, zs: Float32Array, out: Float64Array,
  ): void {
    const width = p[MEASURE_PARAMS.width];
    if (this.edgeHeight.length !== width * 8) {
      // Bottom-edge pixels of one instance: a few per column at most.
      this.edgeHeight = new Float32Array(width * 8);
      this.edgeKind = new Uint8Array(width * 8);
    }
    const supportZ = p[MEASURE_PARAMS.supportZ];
    const ctx = this.ctx;
    ctx.supportZ = Number.isNaN(supportZ) ? null : supportZ;
    ctx.noise1m = p[MEASURE_PARAMS.noise1m];
    const minPoints = p[MEASURE_PARAMS.minPoints], focalSum = p[MEASURE_PARAMS.focalSum];
    const b = this.box, contact = this.contact;
    for (let k = 0; k < n; k++) {
      const id = ids[k];
      const o = k * MEASURE.stride;
      let points = this.lift(id, ext.count[id], p, depth, labels, rgb, rayX, rayY, ext, xs, ys, zs);
      out[o + MEASURE.islands] = this.islands;
      if (points < minPoints) {
        out[o + MEASURE.status] = TOO_FEW_POINTS;
        out[o + MEASURE.points] = points;
        continue;
      }
      const rests = restingOnCode(contact[0], contact[1], contact[2], contact[3]);
      ctx.restingOn = RESTING_ON[rests];
      ctx.pixelAngle = (2 * this.liftStep) / focalSum;
      points = this.boxes.estimate(xs, ys, zs, 0, points, ctx, b);
      out[o + MEASURE.status] = MEASURED;
      out[o + MEASURE.points] = points;
      out[o + MEASURE.cx] = b.cx; out[o + MEASURE.cy] = b.cy; out[o + MEASURE.cz] = b.cz;
      out[o + MEASURE.sx] = b.sx; out[o + MEASURE.sy] = b.sy; out[o + MEASURE.sz] = b.sz;
      out[o + MEASURE.resting] = this.boxes.lastResting ? 1 : 0;
      out[o + MEASURE.restingOn] = rests;
      out[o + MEASURE.lowest] = this.boxes.lastLowest;
      out[o + MEASURE.rejected] = this.boxes.rejected;
      (this.inner.pixels >= MIN_INNER_PIXELS ? this.inner : this.colors).brightestMean(out, o + MEASURE.red);
    }
  }

  /**
   * One instance's pixels → points in the spatial frame (xs, ys, zs; returns how many), its
   * colour (this.colors) and the contact evidence below it (this.contact: on the support, on
   * another object, floating, hidden). Its own function so the optimiser spends its inlining
   * budget on this loop's helpers.
   */
  private lift(
    id: number, pixels: number, p: Float64Array,
    d: Float32Array | Uint16Array, labels: Uint8Array | Uint16Array, rgb: Uint8Array,
    rayX: Float64Array, rayY: Float64Array, ext: LabelExtents,
    xs: Float32Array, ys: Float32Array, zs: Float32Array,
  ): number {
    const P = MEASURE_PARAMS;
    const width = p[P.width], height = p[P.height], ds = p[P.depthStride], dscale = p[P.depthScale], ls = p[P.labelStride];
    const rgbStep = p[P.rgbStep], bgr = p[P.bgr] === 1;
    const floorZ = p[P.floorZ], colorFloorZ = p[P.colorFloorZ], repair = p[P.repair], noise1m = p[P.noise1m], supportZ = p[P.supportZ];
    const r0 = p[P.rotation], r1 = p[P.rotation + 1], r2 = p[P.rotation + 2], r3 = p[P.rotation + 3], r4 = p[P.rotation + 4];
    const r5 = p[P.rotation + 5], r6 = p[P.rotation + 6], r7 = p[P.rotation + 7], r8 = p[P.rotation + 8];
    const minZ = p[P.minDepth], maxZ = p[P.maxDepth], maxPoints = p[P.maxPointsPerObject];
    const U0 = Math.max(0, ext.u0[id] - repair), U1 = Math.min(width - 1, ext.u1[id] + repair);
    const V0 = Math.max(0, ext.v0[id] - repair), V1 = Math.min(height - 1, ext.v1[id] + repair);
    const edgeHeight = this.edgeHeight, edgeKind = this.edgeKind, colors = this.colors, inner = this.inner;
    let n = 0;
    let edges = 0, islands = 0, depthSum = 0;
    colors.begin();
    inner.begin();
    // Large objects are sampled on a grid: a few thousand points pin a box down as well as
    // all of them; the first and last rows and columns are always visited so extents keep.
    const step = pixels > maxPoints * 4 ? 3 : pixels > maxPoints ? 2 : 1;
    this.liftStep = step;
    for (let v = V0; v <= V1; v = v + step > V1 && v < V1 ? V1 : v + step) {
      const ry = rayY[v];
      const row = v * ls;
      for (let u = U0; u <= U1; u = u + step > U1 && u < U1 ? U1 : u + step) {
        const label = labels[row + u];
        if (label !== id && (label !== 0 || repair === 0)) continue;
        const di = v * ds + u;
        const z = d[di] * dscale;
        if (!(z > minZ && z < maxZ)) continue;
        if (repair > 0) {
          const tol = 0.01 + 3 * noise1m * z * z;
          // A background pixel just outside the mask on the instance's surface is the
          // instance's (the mask fell short); a masked pixel with no masked neighbour on its
          // surface is another object's (the mask overran onto it).
          // One call site: the optimiser inlines it once, and has budget left for the colour's add below.
          if (!adjoins(labels, ls, d, ds, dscale, u, v, id, z, tol, label === 0 ? repair : 1, width, height)) {
            if (label !== 0) islands++;
            continue;
          }
        }
        // Flying pixels and mask spill onto the background: a markedly nearer neighbour
        // means this pixel is behind (or between) surfaces, not on the object.
        const jump = 0.03 + 0.03 * z;
        const lim = z - jump;
        if (
          (u >= 2 && nearer(d[di - 1] * dscale, d[di - 2] * dscale, lim)) ||
          (u + 2 < width && nearer(d[di + 1] * dscale, d[di + 2] * dscale, lim)) ||
          (v >= 2 && nearer(d[di - ds] * dscale, d[di - 2 * ds] * dscale, lim)) ||
          (v + 2 < height && nearer(d[di + ds] * dscale, d[di + 2 * ds] * dscale, lim))
        ) continue;
        const cx = rayX[u] * z, cy = ry * z;
        const pz = r6 * cx + r7 * cy + r8 * z;
        if (pz < floorZ) continue;
        depthSum += z;
        xs[n] = r0 * cx + r1 * cy + r2 * z;
        ys[n] = r3 * cx + r4 * cy + r5 * z;
        zs[n] = pz;
        n++;
        // Contact evidence at the bottom edge: just below a resting object the image shows
        // the surface it stands on at about its depth; below a lifted one, the table far behind.
        if (v + 2 < height && labels[row + 2 * ls + u] !== id && edges < edgeHeight.length && d[di + 2 * ds] * dscale > minZ && d[di + 2 * ds] * dscale < maxZ) {
          // 0 support, 1 object, 2 floating, 3 hidden by a nearer object below it in the image.
          const dz2 = d[di + 2 * ds] * dscale - z;
          const below2 = labels[row + 2 * ls + u];
          let kind = below2 === 0 ? (dz2 < 0.07 ? 0 : 2) : dz2 > -0.02 ? (dz2 < 0.07 ? 1 : 2) : 3;
          // Masks fall short of a boundary by a pixel or two: a support's top under a stacked
          // object can be a strip of unlabelled pixels clearly above the support, continuous in
          // depth with the object's foot. Past such a strip (up to CONTACT_BAND pixels) the first
          // labelled pixel is the evidence; a strip that ends on the support or far behind is the
          // object's own rim, and the first pixel's reading stands.
          for (let k = 2, zp = z; below2 === 0 && k <= 2 + CONTACT_BAND && v + k < height; k++) {
            const below = labels[row + k * ls + u];
            if (below === id) break;
            const zb = d[di + k * ds] * dscale;
            if (!(zb > minZ && zb < maxZ) || Math.abs(zb - zp) > 0.03 + 0.03 * zb) break;
            if (below !== 0) {
              const dz = zb - z;
              kind = dz > -0.02 ? (dz < 0.07 ? 1 : 2) : 3;
              break;
            }
            const up = r6 * rayX[u] + r7 * rayY[v + k] + r8;
            if (!(zb * up - supportZ > UNLABELLED_OBJECT_HEIGHT + 3 * noise1m * zb * zb * Math.abs(up))) break;
            zp = zb;
          }
          edgeHeight[edges] = pz;
          edgeKind[edges++] = kind;
        }
        // Colour only from points clearly off the surface: mask spill onto a bright table
        // would otherwise outshine a dark object.
        if (pz > colorFloorZ) {
          const ci = v * rgbStep + u * 3;
          const r = bgr ? rgb[ci + 2] : rgb[ci], g = rgb[ci + 1], bl = bgr ? rgb[ci] : rgb[ci + 2];
          colors.add(r, g, bl);
          if (label === id && !touches(labels, ls, d, ds, dscale, u, v, id, z, jump, width, height)) inner.add(r, g, bl);
        }
      }
    }
    this.islands = islands;
    const liftRange = n > 0 ? depthSum / n : 0;
    // Only the bottom edge near the object's lowest point says what it stands on: the edges of
    // a bowl's flanks or a ball's sides, higher up, have the table far behind them whatever
    // holds the object.
    let lowest = Infinity;
    for (let i = 0; i < n; i++) if (zs[i] < lowest) lowest = zs[i];
    const reach = 0.02 + 3 * noise1m * liftRange * liftRange;
    const contact = this.contact;
    contact.fill(0);
    for (let i = 0; i < edges; i++) if (edgeHeight[i] <= lowest + reach) contact[edgeKind[i]]++;
    return n;
  }
}

/**
 * Whether a background pixel at (u, v) of depth z lies next to instance `id` on its surface:
 * an instance pixel at most `reach` pixels away along the row or the column, within `tol` of
 * z in depth.
 */
function adjoins(
  labels: Uint8Array | Uint16Array, ls: number, d: Float32Array | Uint16Array, ds: number, dscale: number,
  u: number, v: number, id: number, z: number, tol: number, reach: number, width: number, height: number,
): boolean {
  for (let k = 1; k <= reach; k++) {
    if (u >= k && labels[v * ls + u - k] === id && Math.abs(d[v * ds + u - k] * dscale - z) <= tol) return true;
    if (u + k < width && labels[v * ls + u + k] === id && Math.abs(d[v * ds + u + k] * dscale - z) <= tol) return true;
    if (v >= k && labels[(v - k) * ls + u] === id && Math.abs(d[(v - k) * ds + u] * dscale - z) <= tol) return true;
    if (v + k < height && labels[(v + k) * ls + u] === id && Math.abs(d[(v + k) * ds + u] * dscale - z) <= tol) return true;
  }
  return false;
}

/**
 * An unlabelled pixel whose point lies this far above the support, plus three standard
 * deviations of its height under depth noise, is not the support's (metres). Why: a stacked
 * object's contact evidence is the strip of image just below its foot, its support's top or
 * side; RealSense masks (1-2 pixels of erosion) leave that strip unlabelled, it counted as the
 * table, and a cube on a cube was boxed down to the table.
 */
export const UNLABELLED_OBJECT_HEIGHT = 0.01;
/** Unlabelled pixels above the support walked past, below an object's bottom edge, before its contact counts as unseen. */
export const CONTACT_BAND = 4;

/**
 * How far from where the mask meets a touching surface a pixel must lie to name the object's
 * colour. A segmenter's boundary is off by a pixel or two (RealSense masks here: up to 2 pixels
 * of dilation and ragged boundary pixels), and where the object touches another surface (the
 * table or support at its foot, the object on it, a neighbour) the band along the boundary
 * holds that surface's pixels. They are often brighter than the object's own shaded sides and
 * took the brightest-pixel colour: a blue can on a red box read red, a black cube beside a
 * table's edge brown. Against a depth jump (a silhouette over the far background) a spilled
 * pixel is not the object's surface and is dropped by the depth tests already, and the band
 * is kept: a bottle's lit cap is a few pixels wide.
 */
export const BLEED_REACH = 3;
/** Pixels (sampled) away from touching surfaces needed to name the colour from them; fewer: every pixel. */
export const MIN_INNER_PIXELS = 20;

/**
 * Whether a pixel of depth z lies BLEED_REACH pixels (along the row or the column) from a pixel
 * of another label on a surface continuous with it (depth within `jump`, the flying-pixel test's
 * discontinuity): a boundary where another surface touches the object.
 */
function touches(
  labels: Uint8Array | Uint16Array, ls: number, d: Float32Array | Uint16Array, ds: number, dscale: number,
  u: number, v: number, id: number, z: number, jump: number, width: number, height: number,
): boolean {
  const k = BLEED_REACH;
  return (u >= k && labels[v * ls + u - k] !== id && continuous(d[v * ds + u - k] * dscale, z, jump)) ||
    (u + k < width && labels[v * ls + u + k] !== id && continuous(d[v * ds + u + k] * dscale, z, jump)) ||
    (v >= k && labels[(v - k) * ls + u] !== id && continuous(d[(v - k) * ds + u] * dscale, z, jump)) ||
    (v + k < height && labels[(v + k) * ls + u] !== id && continuous(d[(v + k) * ds + u] * dscale, z, jump));
}

/** A valid reading within `jump` of z. */
function continuous(a: number, z: number, jump: number): boolean {
  return a > 0 && Math.abs(a - z) < jump;
}

/** True if either neighbour reading is valid and nearer than `lim`. */
function nearer(a: number, b: number, lim: number): boolean {
  return (a > 0 && a < lim) || (b > 0 && b < lim);
}
