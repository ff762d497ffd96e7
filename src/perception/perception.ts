import { Counters } from "../diagnostics/counters.js";
import { InvalidInputError, SpatialRewardError } from "../errors.js";
import { validateIntrinsics, type PinholeIntrinsics } from "../geometry/intrinsics.js";
import { frameFromUp, type SpatialFrame } from "../geometry/spatial_frame.js";
import type { Scene, SceneObject } from "../scene/scene_object.js";
import { AmodalBoxEstimator, type Box3, type RestingOn } from "./amodal_box.js";
import { ColorNamer } from "./color_naming.js";
import { DetectionSegmenter } from "./detection_segmenter.js";
import { DepthReader, readLabels, validateImage } from "./image_views.js";
import { ObjectTracker } from "./object_tracker.js";
import type { Detection2D, RgbdFrame } from "./rgbd_frame.js";
import { SupportPlaneEstimator } from "./support_plane.js";

export interface PerceptionOptions {
  /** Objects with fewer surviving points are dropped (and counted). */
  minPoints: number;
  /** Points lower than this above the support surface are the surface itself, metres. */
  minHeightAboveSupport: number;
  /** Background samples for the plane fit (spread over the area around the objects). */
  planeSamples: number;
  /** Objects with more pixels than this are sampled every 2nd (or 3rd) pixel. */
  maxPointsPerObject: number;
  /** Depth range the sensor is trusted in, metres. */
  minDepth: number;
  maxDepth: number;
}

export const DEFAULT_PERCEPTION_OPTIONS: PerceptionOptions = {
  minPoints: 30,
  minHeightAboveSupport: 0.006,
  planeSamples: 4000,
  maxPointsPerObject: 1500,
  minDepth: 0.1,
  maxDepth: 10,
};

const MAX_LABEL = 65536;

/**
 * RGB-D frame → scene graph: lifts segmented depth pixels to 3D, canonicalises them into the
 * gravity-aligned spatial frame (support plane by RANSAC, or a given up vector), rejects
 * flying pixels and surface points, estimates amodal boxes, names colours and tracks ids.
 *
 * Every rejected frame throws a SpatialRewardError after counting `errors.<code>`; every
 * dropped object or pixel class is counted too, so callers can keep running and report.
 * Buffers are allocated on the first frame of a size and reused after.
 */
export class Perception {
  readonly counters = new Counters();
  readonly options: PerceptionOptions;
  private readonly depthReader = new DepthReader();
  private readonly plane = new SupportPlaneEstimator();
  private readonly boxes = new AmodalBoxEstimator();
  private readonly colors = new ColorNamer();
  private readonly segmenter = new DetectionSegmenter();
  readonly tracker = new ObjectTracker();

  private intrinsicsKey = "";
  private rayX = new Float64Array(0);
  private rayY = new Float64Array(0);
  private samples = new Float32Array(0);
  private xs = new Float32Array(0);
  private ys = new Float32Array(0);
  private zs = new Float32Array(0);
  private depthM = new Float32Array(0);
  private above = new Uint8Array(0);
  private readonly labelCount = new Int32Array(MAX_LABEL);
  private readonly labelU0 = new Int32Array(MAX_LABEL);
  private readonly labelU1 = new Int32Array(MAX_LABEL);
  private readonly labelV0 = new Int32Array(MAX_LABEL);
  private readonly labelV1 = new Int32Array(MAX_LABEL);
  private readonly box: Box3 = { cx: 0, cy: 0, cz: 0, sx: 0, sy: 0, sz: 0 };
  private lastStamp: bigint | null = null;
  /** The frame of the last processed scene (for callers that map answers back to the camera). */
  lastFrame: SpatialFrame | null = null;

  constructor(options: Partial<PerceptionOptions> = {}) {
    this.options = { ...DEFAULT_PERCEPTION_OPTIONS, ...options };
  }

  /** Forget the plane and the tracks (new scene or camera moved for good). */
  reset(): void {
    this.plane.reset();
    this.tracker.reset();
    this.lastStamp = null;
  }

  process(frame: RgbdFrame): Scene {
    this.counters.inc("frames_in");
    try {
      const scene = this.processUnchecked(frame);
      this.counters.inc("frames_out");
      this.counters.inc("objects_out", scene.objects.length);
      return scene;
    } catch (e) {
      const code = e instanceof SpatialRewardError ? e.code : "internal";
      this.counters.inc(`errors.${code}`);
      throw e;
    }
  }

  private processUnchecked(frame: RgbdFrame): Scene {
    const k = frame.intrinsics;
    validateIntrinsics(k);
    const { width, height } = k;
    validateImage(frame.depth, "depth", width, height, ["32FC1", "16UC1"]);
    validateImage(frame.rgb, "rgb", width, height, ["rgb8", "bgr8"]);
    if (!frame.instances && !frame.detections) {
      throw new InvalidInputError("bad_argument", "frame has neither instance masks nor detections");
    }
    if (frame.instances) validateImage(frame.instances.image, "instance mask", width, height, ["mono8", "mono16", "16UC1"]);
    if (this.lastStamp !== null && frame.stamp < this.lastStamp) {
      throw new InvalidInputError("out_of_order_stamp", `frame stamp ${frame.stamp} ns is older than the previous ${this.lastStamp} ns`);
    }
    this.prepare(k);

    const depth = this.depthReader.read(frame.depth);
    const d = depth.data, ds = depth.stride, dscale = depth.scale;
    const minZ = this.options.minDepth, maxZ = this.options.maxDepth;

    let labels: Uint8Array | Uint16Array;
    let ls: number;
    let labelKinds: (id: number) => string | undefined;
    let instanceMode = true;
    if (frame.instances) {
      const lv = readLabels(frame.instances.image);
      labels = lv.data;
      ls = lv.stride;
      const map = frame.instances.labels;
      labelKinds = (id) => map.get(id);
    } else {
      instanceMode = false;
      labels = new Uint8Array(0);
      ls = width;
      const dets = frame.detections ?? [];
      labelKinds = (id) => dets[id - 1]?.kind;
    }

    // 1. Where the objects are: instance extents, or the detection boxes.
    const dets = frame.detections ?? [];
    const roi = { u0: width, u1: -1, v0: height, v1: -1 };
    let present: number[] = [];
    if (instanceMode) {
      present = this.labelExtents(labels, ls, width, height);
      for (const id of present) this.grow(roi, this.labelU0[id], this.labelU1[id], this.labelV0[id], this.labelV1[id]);
    } else {
      for (const det of dets) this.grow(roi, det.cx - det.width / 2, det.cx + det.width / 2, det.cy - det.height / 2, det.cy + det.height / 2);
    }
    if (roi.u1 < 0) {
      for (let i = 0; i < present.length; i++) this.labelCount[present[i]] = 0;
      throw new InvalidInputError("empty_mask", instanceMode ? "instance mask has no labelled pixels" : "no detections in the frame");
    }
    // The support is the surface the objects stand on, so the plane is sought around them
    // (a floor or a wall elsewhere in the view may be larger).
    const mu = Math.round((roi.u1 - roi.u0) * 0.5) + 8, mv = Math.round((roi.v1 - roi.v0) * 0.5) + 8;
    const pu0 = Math.max(0, Math.floor(roi.u0 - mu)), pu1 = Math.min(width - 1, Math.ceil(roi.u1 + mu));
    const pv0 = Math.max(0, Math.floor(roi.v0 - mv)), pv1 = Math.min(height - 1, Math.ceil(roi.v1 + mv));

    // 2. Support plane from background samples (camera frame).
    const stride = Math.max(2, Math.round(Math.sqrt(((pu1 - pu0 + 1) * (pv1 - pv0 + 1)) / this.options.planeSamples)));
    let ns = 0;
    const samples = this.samples;
    let validSamples = 0;
    for (let v = pv0 + (stride >> 1); v <= pv1; v += stride) {
      const ry = this.rayY[v];
      for (let u = pu0 + (stride >> 1); u <= pu1; u += stride) {
        const z = d[v * ds + u] * dscale;
        if (!(z > minZ && z < maxZ)) continue;
        validSamples++;
        if (instanceMode && labels[v * ls + u] !== 0) continue;
        samples[ns * 3] = this.rayX[u] * z;
        samples[ns * 3 + 1] = ry * z;
        samples[ns * 3 + 2] = z;
        ns++;
      }
    }
    if (validSamples === 0) {
      for (let i = 0; i < present.length; i++) this.labelCount[present[i]] = 0;
      throw new InvalidInputError("bad_depth", "depth image has no valid readings (all zero, NaN or out of range) around the objects");
    }
    let spatial: SpatialFrame;
    if (frame.upInCamera) {
      const up = frame.upInCamera;
      const n = Math.hypot(up.x, up.y, up.z);
      if (!(n > 0)) throw new InvalidInputError("bad_argument", "upInCamera must be a non-zero finite vector");
      spatial = frameFromUp(up, supportHeightAlong(samples, ns, up.x / n, up.y / n, up.z / n));
    } else {
      let plane = this.plane.estimate(samples, ns);
      // The dominant plane can be a floor seen past the table's edge. The support is the
      // plane the objects stand on: if they float high above this one, look again among the
      // samples above it.
      if (plane && this.medianObjectHeight(plane, d, ds, dscale, labels, ls, instanceMode, dets, pu0, pu1, pv0, pv1) > 0.2) {
        let m = 0;
        for (let i = 0; i < ns * 3; i += 3) {
          const h = plane.nx * samples[i] + plane.ny * samples[i + 1] + plane.nz * samples[i + 2] + plane.d;
          if (h > 0.05) { samples[m * 3] = samples[i]; samples[m * 3 + 1] = samples[i + 1]; samples[m * 3 + 2] = samples[i + 2]; m++; }
        }
        const higher = this.plane.estimateFresh(samples, m);
        if (higher) plane = higher;
        this.counters.inc("support_plane.rejected_low_plane");
      }
      if (!plane) {
        for (let i = 0; i < present.length; i++) this.labelCount[present[i]] = 0;
        throw new InvalidInputError("no_support_plane", `no support plane found in ${ns} background samples (needs ≥30% inliers within ${this.plane.options.threshold} m)`);
      }
      spatial = frameFromUp({ x: plane.nx, y: plane.ny, z: plane.nz }, plane.d);
    }
    this.lastFrame = spatial;
    const R = spatial.rotation;
    const r0 = R[0], r1 = R[1], r2 = R[2], r3 = R[3], r4 = R[4], r5 = R[5], r6 = R[6], r7 = R[7], r8 = R[8];
    const supportZ = spatial.supportZ;
    const floorZ = supportZ === null ? -Infinity : supportZ + this.options.minHeightAboveSupport;
    const colorFloorZ = supportZ === null ? -Infinity : supportZ + 0.015;

    // 3. Detections → label image by segmenting depth inside each box.
    if (!instanceMode) {
      const depthM = this.depthM, above = this.above;
      for (let v = 0; v < height; v++) {
        for (let u = 0; u < width; u++) depthM[v * width + u] = d[v * ds + u] * dscale;
      }
      for (const det of dets) {
        const u0 = Math.max(0, Math.floor(det.cx - det.width / 2)), u1 = Math.min(width - 1, Math.ceil(det.cx + det.width / 2));
        const v0 = Math.max(0, Math.floor(det.cy - det.height / 2)), v1 = Math.min(height - 1, Math.ceil(det.cy + det.height / 2));
        for (let v = v0; v <= v1; v++) {
          const ry = this.rayY[v];
          for (let u = u0; u <= u1; u++) {
            const i = v * width + u;
            const z = depthM[i];
            above[i] = z > minZ && z < maxZ && r6 * this.rayX[u] * z + r7 * ry * z + r8 * z > floorZ ? 1 : 0;
          }
        }
      }
      labels = this.segmenter.segment(dets, width, height, depthM, above);
      for (const det of dets) {
        const u0 = Math.max(0, Math.floor(det.cx - det.width / 2)), u1 = Math.min(width - 1, Math.ceil(det.cx + det.width / 2));
        const v0 = Math.max(0, Math.floor(det.cy - det.height / 2)), v1 = Math.min(height - 1, Math.ceil(det.cy + det.height / 2));
        for (let v = v0; v <= v1; v++) above.fill(0, v * width + u0, v * width + u1 + 1);
      }
      present = this.labelExtents(labels, ls, width, height);
      if (present.length === 0) throw new InvalidInputError("empty_mask", "no detection box contains an object above the support surface");
    }
    const count = this.labelCount, U0 = this.labelU0, U1 = this.labelU1, V0 = this.labelV0, V1 = this.labelV1;

    // 4. Per instance: filtered points in the spatial frame, box and colour.
    const rgb = frame.rgb.data, rgbStep = frame.rgb.step;
    const bgr = frame.rgb.encoding === "bgr8";
    const objects: SceneObject[] = [];
    const resting: boolean[] = [];
    const xs = this.xs, ys = this.ys, zs = this.zs;
    for (const id of present) {
      const pixels = count[id];
      count[id] = 0;
      const kind = labelKinds(id);
      if (kind === undefined) {
        this.counters.inc("dropped.unlabelled_instance");
        continue;
      }
      let n = 0;
      let onSupport = 0, onObject = 0, floating = 0;
      this.colors.begin();
      // Large objects are sampled on a grid: a few thousand points pin a box down as well as
      // all of them; the first and last rows and columns are always visited so extents keep.
      const step = pixels > this.options.maxPointsPerObject * 4 ? 3 : pixels > this.options.maxPointsPerObject ? 2 : 1;
      for (let v = V0[id]; v <= V1[id]; v = v + step > V1[id] && v < V1[id] ? V1[id] : v + step) {
        const ry = this.rayY[v];
        const row = v * ls;
        for (let u = U0[id]; u <= U1[id]; u = u + step > U1[id] && u < U1[id] ? U1[id] : u + step) {
          if (labels[row + u] !== id) continue;
          const di = v * ds + u;
          const z = d[di] * dscale;
          if (!(z > minZ && z < maxZ)) continue;
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
          const cx = this.rayX[u] * z, cy = ry * z;
          const pz = r6 * cx + r7 * cy + r8 * z;
          if (pz < floorZ) continue;
          xs[n] = r0 * cx + r1 * cy + r2 * z;
          ys[n] = r3 * cx + r4 * cy + r5 * z;
          zs[n] = pz;
          n++;
          // Contact evidence at the bottom edge: just below a resting object the image shows
          // the surface it stands on at about its depth; below a lifted one, the table far behind.
          if (v + 2 < height && labels[row + 2 * ls + u] !== id) {
            const below = labels[row + 2 * ls + u];
            const zb = d[di + 2 * ds] * dscale;
            if (zb > minZ && zb < maxZ) {
              const dz = zb - z;
              if (below === 0) {
                if (dz < 0.07) onSupport++;
                else floating++;
              } else if (dz > -0.02) {
                if (dz < 0.07) onObject++;
                else floating++;
              }
            }
          }
          // Colour only from points clearly off the surface: mask spill onto a bright table
          // would otherwise outshine a dark object.
          if (pz > colorFloorZ) {
            const ci = v * rgbStep + u * 3;
            if (bgr) this.colors.add(rgb[ci + 2], rgb[ci + 1], rgb[ci]);
            else this.colors.add(rgb[ci], rgb[ci + 1], rgb[ci + 2]);
          }
        }
      }
      if (n < this.options.minPoints) {
        this.counters.inc("dropped.too_few_points");
        continue;
      }
      const b = this.box;
      const evidence = onSupport + onObject + floating;
      const rests: RestingOn =
        evidence < 5 ? "unknown" : onSupport >= 0.5 * evidence ? "support" : onObject >= 0.3 * evidence ? "object" : "nothing";
      n = this.boxes.estimate(xs, ys, zs, 0, n, supportZ, rests, b);
      resting.push(this.boxes.lastResting);
      if (this.boxes.rejected > 0) this.counters.inc("dropped.stray_points", this.boxes.rejected);
      objects.push({
        id: "",
        kind,
        color: this.colors.finish(),
        center: { x: b.cx, y: b.cy, z: b.cz },
        size: { x: b.sx, y: b.sy, z: b.sz },
        confidence: Math.min(1, n / 400),
        numPoints: n,
      });
    }
    this.tracker.update(objects, resting);
    this.lastStamp = frame.stamp;
    return { stamp: frame.stamp, objects, supportZ };
  }

  /** One pass over the label image: ids present (sorted) and their pixel extents. */
  private labelExtents(labels: Uint8Array | Uint16Array, ls: number, width: number, height: number): number[] {
    const present: number[] = [];
    // Most of a mask is background: read mono8 masks four pixels at a time and skip zero words.
    const wordsPerRow = width >> 2;
    const words = labels instanceof Uint8Array && labels.byteOffset % 4 === 0 && ls % 4 === 0
      ? new Uint32Array(labels.buffer, labels.byteOffset, (ls * height) >> 2)
      : null;
    for (let v = 0; v < height; v++) {
      const row = v * ls;
      let u = 0;
      if (words) {
        const wrow = row >> 2;
        for (let w = 0; w < wordsPerRow; w++) {
          if (words[wrow + w] === 0) continue;
          const u0 = w << 2;
          for (let k = 0; k < 4; k++) this.visit(labels[row + u0 + k], u0 + k, v, present);
        }
        u = wordsPerRow << 2;
      }
      for (; u < width; u++) this.visit(labels[row + u], u, v, present);
    }
    return present.sort((a, b) => a - b);
  }

  private visit(id: number, u: number, v: number, present: number[]): void {
    if (id === 0) return;
    const count = this.labelCount;
    if (count[id] === 0) {
      present.push(id);
      this.labelU0[id] = u; this.labelU1[id] = u; this.labelV0[id] = v; this.labelV1[id] = v;
    } else {
      if (u < this.labelU0[id]) this.labelU0[id] = u;
      if (u > this.labelU1[id]) this.labelU1[id] = u;
      this.labelV1[id] = v;
    }
    count[id]++;
  }

  /** Median height above `plane` of a grid of object pixels (mask pixels, or inside boxes). */
  private medianObjectHeight(
    plane: { nx: number; ny: number; nz: number; d: number },
    d: Float32Array | Uint16Array, ds: number, dscale: number,
    labels: Uint8Array | Uint16Array, ls: number, instanceMode: boolean, dets: readonly Detection2D[],
    u0: number, u1: number, v0: number, v1: number,
  ): number {
    const hs: number[] = [];
    const step = Math.max(2, Math.round(Math.sqrt(((u1 - u0 + 1) * (v1 - v0 + 1)) / 2000)));
    for (let v = v0; v <= v1; v += step) {
      for (let u = u0; u <= u1; u += step) {
        const inside = instanceMode
          ? labels[v * ls + u] !== 0
          : dets.some((b) => Math.abs(u - b.cx) <= b.width / 4 && Math.abs(v - b.cy) <= b.height / 4);
        if (!inside) continue;
        const z = d[v * ds + u] * dscale;
        if (!(z > this.options.minDepth && z < this.options.maxDepth)) continue;
        hs.push(plane.nx * this.rayX[u] * z + plane.ny * this.rayY[v] * z + plane.nz * z + plane.d);
      }
    }
    if (hs.length === 0) return 0;
    hs.sort((a, b) => a - b);
    return hs[hs.length >> 1];
  }

  private grow(roi: { u0: number; u1: number; v0: number; v1: number }, u0: number, u1: number, v0: number, v1: number): void {
    roi.u0 = Math.min(roi.u0, u0); roi.u1 = Math.max(roi.u1, u1);
    roi.v0 = Math.min(roi.v0, v0); roi.v1 = Math.max(roi.v1, v1);
  }

  private prepare(k: PinholeIntrinsics): void {
    const key = `${k.width}x${k.height}:${k.fx}:${k.fy}:${k.cx}:${k.cy}`;
    if (key === this.intrinsicsKey) return;
    this.intrinsicsKey = key;
    this.rayX = new Float64Array(k.width);
    this.rayY = new Float64Array(k.height);
    for (let u = 0; u < k.width; u++) this.rayX[u] = (u - k.cx) / k.fx;
    for (let v = 0; v < k.height; v++) this.rayY[v] = (v - k.cy) / k.fy;
    const n = k.width * k.height;
    this.samples = new Float32Array(Math.ceil(n / 4 + 64) * 3);
    this.xs = new Float32Array(n);
    this.ys = new Float32Array(n);
    this.zs = new Float32Array(n);
    this.depthM = new Float32Array(n);
    this.above = new Uint8Array(n);
    this.plane.reset();
  }
}

/** True if either neighbour reading is valid and nearer than `lim`. */
function nearer(a: number, b: number, lim: number): boolean {
  return (a > 0 && a < lim) || (b > 0 && b < lim);
}

/** Height of the dominant horizontal surface along `up` (densest 1 cm slab of sample heights). */
function supportHeightAlong(samples: Float32Array, n: number, ux: number, uy: number, uz: number): number | null {
  if (n === 0) return null;
  const bins = new Map<number, number>();
  let best = 0, bestBin = 0;
  for (let i = 0; i < n * 3; i += 3) {
    const h = ux * samples[i] + uy * samples[i + 1] + uz * samples[i + 2];
    const b = Math.round(h * 100);
    const c = (bins.get(b) ?? 0) + 1;
    bins.set(b, c);
    if (c > best) { best = c; bestBin = b; }
  }
  let s = 0, c = 0;
  for (let i = 0; i < n * 3; i += 3) {
    const h = ux * samples[i] + uy * samples[i + 1] + uz * samples[i + 2];
    if (Math.abs(h - bestBin / 100) <= 0.01) { s += h; c++; }
  }
  // The plane's offset d is minus the surface height along up.
  return -(s / c);
}
