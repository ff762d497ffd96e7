import { Counters } from "../diagnostics/counters.js";
import { InvalidInputError, SpatialRewardError } from "../errors.js";
import { validateIntrinsics, type PinholeIntrinsics } from "../geometry/intrinsics.js";
import { frameFromUp, type SpatialFrame } from "../geometry/spatial_frame.js";
import type { Scene, SceneObject } from "../scene/scene_object.js";
import { validateStampNs } from "../time/ros_time.js";
import { StampGate, type StampVerdict, type TimelineJump } from "../time/stamp_gate.js";
import { ColorNamer } from "./color_naming.js";
import { depthNoiseAt1m } from "./depth_noise.js";
import { DetectionSegmenter } from "./detection_segmenter.js";
import { DepthReader, LabelReader, validateImage } from "./image_views.js";
import { ObjectTracker } from "./object_tracker.js";
import { ObjectBoxEstimator, type Box3, type BoxContext, type RestingOn } from "./object_box.js";
import type { Detection2D, InstanceMask, RgbdFrame } from "./rgbd_frame.js";
import { settleOnSupports } from "./stacked_support.js";
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
  /**
   * Per-frame budget: at most this many detections (or labelled instances in a mask); more
   * is a detection_budget error. Bounds the cost of one frame, which grows with the boxes.
   */
  maxDetections: number;
  /** Per-frame budget: total detection box (or instance bounding box) area, clipped to the image, in images. */
  maxDetectionArea: number;
  /** A frame stamped further than this from the last processed one is a stamp jump, ms. */
  maxStampJumpMs: number;
  /** Consecutive frames on a new timeline (a bag restart, a clock step) before it is adopted. */
  stampJumpConfirmFrames: number;
  /**
   * The fitted support's normal must be at least this far from the optical axis, degrees: a
   * plane facing the camera squarely is a wall (or a top-down view), where "forward" is undefined.
   */
  minSupportObliquityDeg: number;
  /**
   * Instance masks: background pixels this close (in pixels, along a row or column) to an
   * instance, on the same surface as it by depth, are taken as the instance's. Segmenters'
   * masks fall short of the edges by a pixel or two, and a box's extents with them; the table
   * next to an object is the only such pixel at the same depth, and lies below the floor.
   * With it, a masked pixel none of whose 4 neighbours is masked on its surface is dropped
   * (counted as dropped.mask_island_pixels): a neighbour's pixel the mask took. 0 turns both off.
   */
  maskRepairPixels: number;
}

export const DEFAULT_PERCEPTION_OPTIONS: PerceptionOptions = {
  minPoints: 30,
  minHeightAboveSupport: 0.006,
  planeSamples: 4000,
  maxPointsPerObject: 1500,
  minDepth: 0.1,
  maxDepth: 10,
  maxDetections: 256,
  maxDetectionArea: 4,
  maxStampJumpMs: 5000,
  stampJumpConfirmFrames: 3,
  minSupportObliquityDeg: 10,
  maskRepairPixels: 2,
};

const MAX_LABEL = 65536;
const DEPTH_ENCODINGS = ["32FC1", "16UC1"];
const RGB_ENCODINGS = ["rgb8", "bgr8"];
const LABEL_ENCODINGS = ["mono8", "mono16", "16UC1"];
const NO_LABELS = new Uint8Array(0);
const NO_IDS: number[] = [];
const ascending = (a: number, b: number): number => a - b;

/**
 * RGB-D frame → scene graph: lifts segmented depth pixels to 3D, canonicalises them into the
 * gravity-aligned spatial frame (support plane by RANSAC, or a given up vector), rejects
 * flying pixels and surface points, repairs masks by depth, estimates each object's box from the
 * evidence it has (object_box.ts), settles stacked objects on their supports, names colours and
 * tracks ids.
 *
 * Every rejected frame throws a SpatialRewardError after counting `errors.<code>` (exactly
 * once; an unexpected exception counts as `errors.internal` and is rethrown as it was); every
 * dropped object, detection or pixel class is counted too, so callers can keep running and
 * report. A rejected frame leaves nothing behind: per-frame state is cleared whatever the exit
 * and the support-plane memory is rolled back, so the next frame is processed as if the
 * rejected one had never come. Buffers are allocated on the first frame of a size and reused after.
 *
 * Stamps: a frame older than the last processed one is `out_of_order_stamp`. A frame more
 * than maxStampJumpMs away (either way) is an outlier, `out_of_order_stamp` counted under
 * `stamp_jump.ahead` / `stamp_jump.back` too, and costs only itself; when
 * stampJumpConfirmFrames consecutive frames agree on the new timeline it is adopted
 * (`stamp_jump.adopted`, `timelineJumps`, `lastTimelineJump`) and the tracks are reset.
 */
export class Perception {
  readonly counters = new Counters();
  readonly options: PerceptionOptions;
  private readonly depthReader = new DepthReader();
  private readonly labelReader = new LabelReader();
  private readonly plane = new SupportPlaneEstimator();
  private readonly boxes = new ObjectBoxEstimator();
  private readonly colors = new ColorNamer();
  private readonly segmenter = new DetectionSegmenter();
  private readonly stamps: StampGate;
  readonly tracker = new ObjectTracker();

  private camWidth = 0;
  private camHeight = 0;
  private camFx = NaN;
  private camFy = NaN;
  private camCx = NaN;
  private camCy = NaN;
  private rayX = new Float64Array(0);
  private rayY = new Float64Array(0);
  private samples = new Float32Array(0);
  private xs = new Float32Array(0);
  private ys = new Float32Array(0);
  private zs = new Float32Array(0);
  private depthM = new Float32Array(0);
  private above = new Uint8Array(0);
  private gridMark = new Uint8Array(0);
  private heights = new Float64Array(0);
  private readonly labelCount = new Int32Array(MAX_LABEL);
  private readonly labelU0 = new Int32Array(MAX_LABEL);
  private readonly labelU1 = new Int32Array(MAX_LABEL);
  private readonly labelV0 = new Int32Array(MAX_LABEL);
  private readonly labelV1 = new Int32Array(MAX_LABEL);
  private readonly box: Box3 = { cx: 0, cy: 0, cz: 0, sx: 0, sy: 0, sz: 0 };
  private readonly boxContext: BoxContext = { supportZ: null, restingOn: "unknown", noise1m: 0, pixelAngle: 0 };
  /** Scratch for the depth-noise estimate, one value per plane sample. */
  private noiseScratch = new Float64Array(0);
  /** Pixel step the last lifted instance was sampled with. */
  private liftStep = 1;
  /** Contact evidence of the last lifted instance: on the support, on an object, floating, hidden by a nearer object. */
  private readonly contact = new Int32Array(4);
  /** Bottom-edge pixels of the instance being lifted: their height and contact kind (contact's index). */
  private edgeHeight = new Float32Array(0);
  private edgeKind = new Uint8Array(0);
  /** Mean optical depth of the last lifted instance. */
  private liftRange = 0;
  private readonly roi = { u0: 0, u1: 0, v0: 0, v1: 0 };
  // Per-frame state, cleared by endFrame() however the frame ends.
  /** Label ids seen this frame (their labelCount entries are non-zero until cleared). */
  private present: number[] = [];
  /** This frame's usable detections (detection k is label k + 1). */
  private readonly dets: Detection2D[] = [];
  private frameLabels: InstanceMask["labels"] | null = null;

  // What hidden() looks at: this frame's depth, intrinsics and spatial rotation (tracking stage only).
  private hiddenDepth: { data: Float32Array | Uint16Array; stride: number; scale: number } | null = null;
  private hiddenK: PinholeIntrinsics | null = null;
  private hiddenR: Float64Array | null = null;

  /**
   * Whether a box is behind something nearer in this frame: its centre and top centre project
   * onto pixels whose depth reads markedly nearer than they are (an occluder), for the tracker
   * to keep showing an object it lost for a frame or two.
   */
  private readonly hidden = (o: SceneObject): boolean => {
    const depth = this.hiddenDepth, k = this.hiddenK, R = this.hiddenR;
    if (!depth || !k || !R) return false;
    for (let end = 0; end < 2; end++) {
      const x = o.center.x, y = o.center.y, z = o.center.z + end * o.size.z / 2;
      // Spatial → optical: the rotation's transpose.
      const cx = R[0] * x + R[3] * y + R[6] * z, cy = R[1] * x + R[4] * y + R[7] * z, cz = R[2] * x + R[5] * y + R[8] * z;
      if (!(cz > 0)) return false;
      const u = Math.round(k.cx + (k.fx * cx) / cz), v = Math.round(k.cy + (k.fy * cy) / cz);
      if (u < 0 || v < 0 || u >= k.width || v >= k.height) return false;
      const reading = depth.data[v * depth.stride + u] * depth.scale;
      if (!(reading > this.options.minDepth && reading < cz - 0.03)) return false;
    }
    return true;
  };

  /** The frame of the last processed scene (for callers that map answers back to the camera). */
  lastFrame: SpatialFrame | null = null;

  constructor(options: Partial<PerceptionOptions> = {}) {
    this.options = { ...DEFAULT_PERCEPTION_OPTIONS, ...options };
    const o = this.options;
    if (!(Number.isInteger(o.maxDetections) && o.maxDetections >= 0 && o.maxDetections < MAX_LABEL)) {
      throw new InvalidInputError("bad_argument", `maxDetections must be an integer in [0, ${MAX_LABEL - 1}] (got ${o.maxDetections})`);
    }
    if (!(o.maxDetectionArea >= 0)) throw new InvalidInputError("bad_argument", `maxDetectionArea must be ≥ 0 images (got ${o.maxDetectionArea})`);
    if (!(o.maxStampJumpMs >= 0 && o.maxStampJumpMs <= 1e12)) {
      throw new InvalidInputError("bad_argument", `maxStampJumpMs must be in [0, 1e12] (got ${o.maxStampJumpMs})`);
    }
    if (!(Number.isInteger(o.maskRepairPixels) && o.maskRepairPixels >= 0 && o.maskRepairPixels <= 8)) {
      throw new InvalidInputError("bad_argument", `maskRepairPixels must be an integer in [0, 8] (got ${o.maskRepairPixels})`);
    }
    if (!(o.minSupportObliquityDeg >= 0 && o.minSupportObliquityDeg < 90)) {
      throw new InvalidInputError("bad_argument", `minSupportObliquityDeg must be in [0, 90) (got ${o.minSupportObliquityDeg})`);
    }
    this.stamps = new StampGate({ maxJumpNs: BigInt(Math.round(o.maxStampJumpMs * 1e6)), confirm: o.stampJumpConfirmFrames });
  }

  /** Timelines adopted so far (a change is worth a log line: compare with the value before process()). */
  get timelineJumps(): number {
    return this.stamps.jumps;
  }

  /** The last adopted stamp timeline change, null if none. */
  get lastTimelineJump(): TimelineJump | null {
    return this.stamps.lastJump;
  }

  /**
   * An upstream stage (the node's synchroniser) has confirmed a new stamp timeline: the next
   * frame starts it, without this stage's own confirmation costing frames a second time.
   * The tracks restart; the support plane stays (the camera did not move).
   */
  followTimeline(): void {
    this.stamps.reset();
    this.tracker.reset();
  }

  /** Forget the plane, the tracks and the stamp timeline (new scene, camera moved for good, new session). */
  reset(): void {
    this.plane.reset();
    this.plane.mark();
    this.tracker.reset();
    this.stamps.reset();
    this.labelCount.fill(0);
    this.endFrame();
    this.lastFrame = null;
  }

  process(frame: RgbdFrame): Scene {
    this.counters.inc("frames_in");
    this.plane.mark();
    try {
      // Admission is its own step (not inside processFrame): the per-pixel loops keep the
      // optimiser's inlining budget for their hot helpers.
      const verdict = this.admit(frame);
      const scene = this.processFrame(frame, verdict);
      this.counters.inc("frames_out");
      this.counters.inc("objects_out", scene.objects.length);
      return scene;
    } catch (e) {
      this.plane.rollback();
      const code = e instanceof SpatialRewardError ? e.code : "internal";
      this.counters.inc(`errors.${code}`);
      throw e;
    } finally {
      this.endFrame();
    }
  }

  /** Clears what a frame set, whether it succeeded or threw. Never throws. */
  private endFrame(): void {
    const present = this.present, count = this.labelCount;
    for (let i = 0; i < present.length; i++) count[present[i]] = 0;
    this.present = NO_IDS;
    this.dets.length = 0;
    this.frameLabels = null;
    this.hiddenDepth = null;
  }

  /** Checks everything about the frame that can be checked before any work, in order of cost. */
  private admit(frame: RgbdFrame): StampVerdict {
    if (frame === null || typeof frame !== "object") throw new InvalidInputError("bad_argument", "frame is missing");
    const stamp = validateStampNs(frame.stamp);
    const k = frame.intrinsics;
    validateIntrinsics(k);
    const { width, height } = k;
    validateImage(frame.depth, "depth", width, height, DEPTH_ENCODINGS);
    validateImage(frame.rgb, "rgb", width, height, RGB_ENCODINGS);
    const instances = frame.instances;
    if (!instances && !frame.detections) {
      throw new InvalidInputError("bad_argument", "frame has neither instance masks nor detections");
    }
    if (instances) {
      validateImage(instances.image, "instance mask", width, height, LABEL_ENCODINGS);
      if (instances.labels === null || typeof instances.labels !== "object" || typeof instances.labels.get !== "function") {
        throw new InvalidInputError("bad_argument", "instance mask labels must be a map from instance id to class");
      }
    } else if (!Array.isArray(frame.detections)) {
      throw new InvalidInputError("bad_argument", "detections must be an array");
    }
    const up = frame.upInCamera;
    if (up !== undefined) {
      const n = up === null || typeof up !== "object" ? NaN : Math.hypot(up.x, up.y, up.z);
      if (!(n > 0 && n < Infinity)) throw new InvalidInputError("bad_argument", "upInCamera must be a non-zero finite vector");
    }
    const verdict = this.stamps.check(stamp);
    const last = this.stamps.lastStamp;
    if (verdict === "out_of_order") {
      throw new InvalidInputError("out_of_order_stamp", `frame stamp ${stamp} ns is older than the previous ${last} ns`);
    }
    if (verdict === "jump_ahead" || verdict === "jump_back") {
      const ahead = verdict === "jump_ahead";
      this.counters.inc(ahead ? "stamp_jump.ahead" : "stamp_jump.back");
      const gap = Number(ahead ? stamp - last! : last! - stamp) / 1e9;
      throw new InvalidInputError(
        "out_of_order_stamp",
        `frame stamp ${stamp} ns is ${gap.toFixed(3)} s ${ahead ? "ahead of" : "behind"} the last processed frame (${last} ns), ` +
          `more than ${this.options.maxStampJumpMs} ms: an outlier, unless ${this.options.stampJumpConfirmFrames} consecutive frames confirm the new timeline`,
      );
    }
    return verdict;
  }

  /**
   * This frame's usable detections, in order, into this.dets: malformed ones (non-finite or
   * non-positive box, entirely off the image, no class) are dropped and counted. Enforces the
   * per-frame budget on the raw count and on the total clipped box area.
   */
  private screenDetections(raw: readonly Detection2D[], width: number, height: number): Detection2D[] {
    const o = this.options;
    if (raw.length > o.maxDetections) {
      throw new InvalidInputError("detection_budget", `frame has ${raw.length} detections, more than the per-frame budget of ${o.maxDetections} (maxDetections)`);
    }
    const out = this.dets;
    let area = 0, dropped = 0;
    for (let i = 0; i < raw.length; i++) {
      const det = raw[i];
      const a = clippedBoxArea(det, width, height);
      if (a < 0 || typeof det.kind !== "string" || det.kind.length === 0) {
        dropped++;
        continue;
      }
      area += a;
      out.push(det);
    }
    if (dropped > 0) this.counters.inc("dropped.bad_detection", dropped);
    if (area > o.maxDetectionArea * width * height) {
      throw new InvalidInputError(
        "detection_budget",
        `detection boxes cover ${(area / (width * height)).toFixed(2)} images in total (clipped to the image), more than the per-frame budget of ${o.maxDetectionArea} (maxDetectionArea)`,
      );
    }
    if (out.length === 0) {
      throw new InvalidInputError(
        "empty_mask",
        raw.length === 0
          ? "no detections in the frame"
          : `none of the ${raw.length} detections is usable (non-finite or non-positive box, off the image, or no class); counted as dropped.bad_detection`,
      );
    }
    return out;
  }

  /** The class of a label: the mask's label map entry, or the detection's class. */
  private kindOf(id: number, instanceMode: boolean): string | undefined {
    if (instanceMode) {
      const kind = this.frameLabels!.get(id);
      return typeof kind === "string" && kind.length > 0 ? kind : undefined;
    }
    return this.dets[id - 1]?.kind;
  }

  private processFrame(frame: RgbdFrame, verdict: StampVerdict): Scene {
    const k = frame.intrinsics;
    const { width, height } = k;
    const instanceMode = frame.instances !== undefined && frame.instances !== null;
    const dets = instanceMode ? this.dets : this.screenDetections(frame.detections!, width, height);
    this.prepare(k);

    const depth = this.depthReader.read(frame.depth);
    const d = depth.data, ds = depth.stride, dscale = depth.scale;
    const minZ = this.options.minDepth, maxZ = this.options.maxDepth;

    let labels: Uint8Array | Uint16Array = NO_LABELS;
    let ls = width;
    if (instanceMode) {
      const lv = this.labelReader.read(frame.instances!.image);
      labels = lv.data;
      ls = lv.stride;
      this.frameLabels = frame.instances!.labels;
    }

    // 1. Where the objects are: instance extents, or the detection boxes.
    const roi = this.roi;
    roi.u0 = width; roi.u1 = -1; roi.v0 = height; roi.v1 = -1;
    let present = this.present;
    if (instanceMode) {
      present = this.present = this.labelExtents(labels, ls, width, height);
      this.checkInstanceBudget(present, width, height);
      for (const id of present) this.grow(roi, this.labelU0[id], this.labelU1[id], this.labelV0[id], this.labelV1[id]);
    } else {
      for (const det of dets) this.grow(roi, det.cx - det.width / 2, det.cx + det.width / 2, det.cy - det.height / 2, det.cy + det.height / 2);
    }
    if (roi.u1 < 0) {
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
      throw new InvalidInputError("bad_depth", "depth image has no valid readings (all zero, NaN or out of range) around the objects");
    }
    let spatial: SpatialFrame;
    if (frame.upInCamera) {
      const up = frame.upInCamera;
      const n = Math.hypot(up.x, up.y, up.z);
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
        ns = m;
        if (higher) plane = higher;
        this.counters.inc("support_plane.rejected_low_plane");
      }
      if (!plane) {
        throw new InvalidInputError("no_support_plane", `no support plane found in ${ns} background samples (needs ≥30% inliers within ${this.plane.options.threshold} m)`);
      }
      // The spatial frame's forward is the optical axis projected on the support; for a plane
      // facing the camera (a wall seen head-on, or constant depth) it is undefined: whatever
      // the objects stand on is not in view.
      const oblique = Math.hypot(plane.nx, plane.ny);
      if (oblique < Math.sin((this.options.minSupportObliquityDeg * Math.PI) / 180)) {
        const deg = (Math.asin(Math.min(1, oblique)) * 180) / Math.PI;
        throw new InvalidInputError(
          "no_support_plane",
          `the dominant surface around the objects faces the camera (its normal is ${deg.toFixed(1)}° from the optical axis, ` +
            `under ${this.options.minSupportObliquityDeg}°): a wall or a constant-depth image, not a support seen from above`,
        );
      }
      spatial = frameFromUp({ x: plane.nx, y: plane.ny, z: plane.nz }, plane.d);
    }
    const R = spatial.rotation;
    const r6 = R[6], r7 = R[7], r8 = R[8];
    const supportZ = spatial.supportZ;
    const floorZ = supportZ === null ? -Infinity : supportZ + this.options.minHeightAboveSupport;
    const colorFloorZ = supportZ === null ? -Infinity : supportZ + 0.015;
    // How noisy this camera's depth is, read off the flat support: the box estimator reads
    // edges and top faces through it (0 for exact depth).
    const noise1m = depthNoiseAt1m(samples, ns, R, supportZ, this.noiseScratch);

    // 3. Detections → label image by segmenting depth inside each box. The segmenter reads
    // `above` only inside the box it is growing, all of which is written here first.
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
      // Colour lets overlapping boxes split on colour edges where depth is continuous.
      labels = this.segmenter.segment(dets, width, height, depthM, above, frame.rgb.data, frame.rgb.step, frame.rgb.encoding === "bgr8");
      present = this.present = this.labelExtents(labels, ls, width, height);
      if (present.length === 0) throw new InvalidInputError("empty_mask", "no detection box contains an object above the support surface");
    }
    const count = this.labelCount;

    // 4. Per instance: filtered points in the spatial frame, box and colour.
    const rgb = frame.rgb.data, rgbStep = frame.rgb.step;
    const bgr = frame.rgb.encoding === "bgr8";
    const objects: SceneObject[] = [];
    const resting: boolean[] = [];
    const restingOn: RestingOn[] = [];
    const lowest: number[] = [];
    const ctx = this.boxContext;
    ctx.supportZ = supportZ;
    ctx.noise1m = noise1m;
    const xs = this.xs, ys = this.ys, zs = this.zs;
    for (const id of present) {
      const pixels = count[id];
      count[id] = 0;
      const kind = this.kindOf(id, instanceMode);
      if (kind === undefined) {
        this.counters.inc("dropped.unlabelled_instance");
        continue;
      }
      const repair = instanceMode ? this.options.maskRepairPixels : 0;
      let n = this.liftInstance(id, pixels, d, ds, dscale, labels, ls, width, height, rgb, rgbStep, bgr, R, floorZ, colorFloorZ, repair, noise1m);
      const onSupport = this.contact[0], onObject = this.contact[1], floating = this.contact[2], occluded = this.contact[3];
      if (n < this.options.minPoints) {
        this.counters.inc("dropped.too_few_points");
        continue;
      }
      const b = this.box;
      const evidence = onSupport + onObject + floating;
      // Mostly hidden behind nearer objects at its bottom edge: it stands on something we do not see.
      const rests: RestingOn =
        occluded >= 5 && occluded >= evidence ? "occluded"
        : evidence < 5 ? "unknown" : onSupport >= 0.5 * evidence ? "support" : onObject >= 0.3 * evidence ? "object" : "nothing";
      ctx.restingOn = rests;
      ctx.pixelAngle = (2 * this.liftStep) / (k.fx + k.fy);
      n = this.boxes.estimate(xs, ys, zs, 0, n, ctx, b);
      resting.push(this.boxes.lastResting);
      restingOn.push(rests);
      lowest.push(this.boxes.lastLowest);
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
    // A stacked object's underside is hidden: its bottom is the top of what it stands on.
    const settled = settleOnSupports(objects, restingOn, resting, lowest);
    if (settled > 0) this.counters.inc("boxes.settled_on_object", settled);
    // Nothing below throws on input: the frame is accepted, and the cross-frame state moves.
    const stamp = frame.stamp;
    if (verdict === "adopt") {
      // A new timeline (bag restart, clock step): the old tracks belong to another time.
      this.tracker.reset();
      this.counters.inc("stamp_jump.adopted");
    }
    this.hiddenDepth = depth;
    this.hiddenK = k;
    this.hiddenR = R;
    const floating = restingOn.map((r) => r === "nothing");
    this.tracker.update(objects, resting, lowest, this.hidden, floating);
    this.stamps.commit(stamp, verdict === "adopt" ? "adopt" : "accept");
    this.lastFrame = spatial;
    return { stamp, objects, supportZ };
  }

  /**
   * One instance's pixels → points in the spatial frame (xs, ys, zs; returns how many), its
   * colour (this.colors) and the contact evidence below it (this.contact: on the support, on
   * another object, floating). Its own function so the optimiser spends its inlining budget
   * on this loop's helpers.
   */
  private liftInstance(
    id: number, pixels: number,
    d: Float32Array | Uint16Array, ds: number, dscale: number,
    labels: Uint8Array | Uint16Array, ls: number, width: number, height: number,
    rgb: Uint8Array, rgbStep: number, bgr: boolean,
    R: Float64Array, floorZ: number, colorFloorZ: number,
    repair: number, noise1m: number,
  ): number {
    const r0 = R[0], r1 = R[1], r2 = R[2], r3 = R[3], r4 = R[4], r5 = R[5], r6 = R[6], r7 = R[7], r8 = R[8];
    const minZ = this.options.minDepth, maxZ = this.options.maxDepth;
    const U0 = Math.max(0, this.labelU0[id] - repair), U1 = Math.min(width - 1, this.labelU1[id] + repair);
    const V0 = Math.max(0, this.labelV0[id] - repair), V1 = Math.min(height - 1, this.labelV1[id] + repair);
    const xs = this.xs, ys = this.ys, zs = this.zs, rayX = this.rayX, rayY = this.rayY;
    let n = 0;
    let edges = 0, islands = 0, depthSum = 0;
    this.colors.begin();
    // Large objects are sampled on a grid: a few thousand points pin a box down as well as
    // all of them; the first and last rows and columns are always visited so extents keep.
    const step = pixels > this.options.maxPointsPerObject * 4 ? 3 : pixels > this.options.maxPointsPerObject ? 2 : 1;
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
          if (label === 0 ? !this.adjoins(labels, ls, d, ds, dscale, u, v, id, z, tol, repair, width, height) : !this.adjoins(labels, ls, d, ds, dscale, u, v, id, z, tol, 1, width, height)) {
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
        if (v + 2 < height && labels[row + 2 * ls + u] !== id && edges < this.edgeHeight.length) {
          const below = labels[row + 2 * ls + u];
          const zb = d[di + 2 * ds] * dscale;
          if (zb > minZ && zb < maxZ) {
            const dz = zb - z;
            // 0 support, 1 object, 2 floating, 3 hidden by a nearer object below it in the image.
            const kind = below === 0 ? (dz < 0.07 ? 0 : 2) : dz > -0.02 ? (dz < 0.07 ? 1 : 2) : 3;
            this.edgeHeight[edges] = pz;
            this.edgeKind[edges++] = kind;
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
    if (islands > 0) this.counters.inc("dropped.mask_island_pixels", islands);
    this.liftRange = n > 0 ? depthSum / n : 0;
    // Only the bottom edge near the object's lowest point says what it stands on: the edges of
    // a bowl's flanks or a ball's sides, higher up, have the table far behind them whatever
    // holds the object.
    let lowest = Infinity;
    for (let i = 0; i < n; i++) if (zs[i] < lowest) lowest = zs[i];
    const reach = 0.02 + 3 * noise1m * this.liftRange * this.liftRange;
    const contact = this.contact;
    contact.fill(0);
    for (let i = 0; i < edges; i++) if (this.edgeHeight[i] <= lowest + reach) contact[this.edgeKind[i]]++;
    return n;
  }

  /**
   * Whether a background pixel at (u, v) of depth z lies next to instance `id` on its surface:
   * an instance pixel at most `reach` pixels away along the row or the column, within `tol` of
   * z in depth.
   */
  private adjoins(
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

  /** The per-frame budget applied to instance masks: labelled instances and their bounding-box area. */
  private checkInstanceBudget(present: readonly number[], width: number, height: number): void {
    let labelled = 0, area = 0;
    for (let i = 0; i < present.length; i++) {
      const id = present[i];
      if (this.kindOf(id, true) === undefined) continue;
      labelled++;
      area += (this.labelU1[id] - this.labelU0[id] + 1) * (this.labelV1[id] - this.labelV0[id] + 1);
    }
    const o = this.options;
    if (labelled > o.maxDetections) {
      throw new InvalidInputError("detection_budget", `instance mask has ${labelled} labelled instances, more than the per-frame budget of ${o.maxDetections} (maxDetections)`);
    }
    if (area > o.maxDetectionArea * width * height) {
      throw new InvalidInputError(
        "detection_budget",
        `instance bounding boxes cover ${(area / (width * height)).toFixed(2)} images in total, more than the per-frame budget of ${o.maxDetectionArea} (maxDetectionArea)`,
      );
    }
  }

  /**
   * One pass over the label image: ids present (sorted) and their pixel extents. The caller
   * records the ids in this.present for endFrame(). The list is a fresh local array: one the
   * optimiser can see does not escape during the loop (a field's array made this pass ~20% slower).
   */
  private labelExtents(labels: Uint8Array | Uint16Array, ls: number, width: number, height: number): number[] {
    const present: number[] = [];
    // Most of a mask is background: read mono8 masks four pixels at a time and skip zero words.
    // The word view ends at the last whole word of the last row's pixels (its padding may be absent).
    const wordsPerRow = width >> 2;
    const words = labels instanceof Uint8Array && labels.byteOffset % 4 === 0 && ls % 4 === 0
      ? new Uint32Array(labels.buffer, labels.byteOffset, (ls * (height - 1) + (wordsPerRow << 2)) >> 2)
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
    return present.sort(ascending);
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

  /**
   * Median height above `plane` of a grid of object pixels (mask pixels, or the inner half of
   * the boxes). Boxes mark the grid points inside them first, so the cost is grid + boxes,
   * not grid x boxes.
   */
  private medianObjectHeight(
    plane: { nx: number; ny: number; nz: number; d: number },
    d: Float32Array | Uint16Array, ds: number, dscale: number,
    labels: Uint8Array | Uint16Array, ls: number, instanceMode: boolean, dets: readonly Detection2D[],
    u0: number, u1: number, v0: number, v1: number,
  ): number {
    const step = Math.max(2, Math.round(Math.sqrt(((u1 - u0 + 1) * (v1 - v0 + 1)) / 2000)));
    const nu = Math.floor((u1 - u0) / step) + 1, nv = Math.floor((v1 - v0) / step) + 1;
    if (this.heights.length < nu * nv) {
      this.heights = new Float64Array(nu * nv);
      this.gridMark = new Uint8Array(nu * nv);
    }
    const mark = this.gridMark;
    if (!instanceMode) {
      mark.fill(0, 0, nu * nv);
      for (const b of dets) {
        const hw = b.width / 4, hh = b.height / 4;
        // Candidate grid columns and rows, one wider each way; the exact test decides.
        const i0 = Math.max(0, Math.floor((b.cx - hw - u0) / step) - 1), i1 = Math.min(nu - 1, Math.ceil((b.cx + hw - u0) / step) + 1);
        const j0 = Math.max(0, Math.floor((b.cy - hh - v0) / step) - 1), j1 = Math.min(nv - 1, Math.ceil((b.cy + hh - v0) / step) + 1);
        for (let j = j0; j <= j1; j++) {
          if (!(Math.abs(v0 + j * step - b.cy) <= hh)) continue;
          for (let i = i0; i <= i1; i++) if (Math.abs(u0 + i * step - b.cx) <= hw) mark[j * nu + i] = 1;
        }
      }
    }
    const hs = this.heights;
    let n = 0;
    for (let j = 0, v = v0; v <= v1; j++, v += step) {
      for (let i = 0, u = u0; u <= u1; i++, u += step) {
        const inside = instanceMode ? labels[v * ls + u] !== 0 : mark[j * nu + i] === 1;
        if (!inside) continue;
        const z = d[v * ds + u] * dscale;
        if (!(z > this.options.minDepth && z < this.options.maxDepth)) continue;
        hs[n++] = plane.nx * this.rayX[u] * z + plane.ny * this.rayY[v] * z + plane.nz * z + plane.d;
      }
    }
    if (n === 0) return 0;
    const sorted = hs.subarray(0, n).sort();
    return sorted[n >> 1];
  }

  private grow(roi: { u0: number; u1: number; v0: number; v1: number }, u0: number, u1: number, v0: number, v1: number): void {
    roi.u0 = Math.min(roi.u0, u0); roi.u1 = Math.max(roi.u1, u1);
    roi.v0 = Math.min(roi.v0, v0); roi.v1 = Math.max(roi.v1, v1);
  }

  private prepare(k: PinholeIntrinsics): void {
    if (k.width === this.camWidth && k.height === this.camHeight && k.fx === this.camFx && k.fy === this.camFy && k.cx === this.camCx && k.cy === this.camCy) return;
    this.camWidth = k.width; this.camHeight = k.height;
    this.camFx = k.fx; this.camFy = k.fy; this.camCx = k.cx; this.camCy = k.cy;
    this.rayX = new Float64Array(k.width);
    this.rayY = new Float64Array(k.height);
    for (let u = 0; u < k.width; u++) this.rayX[u] = (u - k.cx) / k.fx;
    for (let v = 0; v < k.height; v++) this.rayY[v] = (v - k.cy) / k.fy;
    const n = k.width * k.height;
    // Plane samples sit on a grid of stride ≥ 2: at most this many per frame.
    this.samples = new Float32Array(((k.width >> 1) + 1) * ((k.height >> 1) + 1) * 3);
    this.noiseScratch = new Float64Array(this.samples.length / 3);
    // Bottom-edge pixels of one instance: a few per column at most.
    this.edgeHeight = new Float32Array(k.width * 8);
    this.edgeKind = new Uint8Array(k.width * 8);
    this.xs = new Float32Array(n);
    this.ys = new Float32Array(n);
    this.zs = new Float32Array(n);
    this.depthM = new Float32Array(n);
    this.above = new Uint8Array(n);
    this.plane.reset();
  }
}

/**
 * Pixels of a detection box clipped to the image, or -1 for a box that cannot be used:
 * not an object, non-finite centre or size, non-positive size, or entirely off the image.
 */
function clippedBoxArea(det: Detection2D, width: number, height: number): number {
  if (det === null || typeof det !== "object") return -1;
  const { cx, cy } = det, bw = det.width, bh = det.height;
  if (!(isFiniteNumber(cx) && isFiniteNumber(cy) && isFiniteNumber(bw) && isFiniteNumber(bh))) return -1;
  if (!(bw > 0 && bh > 0)) return -1;
  const u0 = Math.max(0, Math.floor(cx - bw / 2)), u1 = Math.min(width - 1, Math.ceil(cx + bw / 2));
  const v0 = Math.max(0, Math.floor(cy - bh / 2)), v1 = Math.min(height - 1, Math.ceil(cy + bh / 2));
  if (u1 < u0 || v1 < v0) return -1;
  return (u1 - u0 + 1) * (v1 - v0 + 1);
}

function isFiniteNumber(x: unknown): x is number {
  return typeof x === "number" && Number.isFinite(x);
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
