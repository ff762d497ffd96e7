import { Counters } from "../diagnostics/counters.js";
import { InvalidInputError, SpatialRewardError } from "../errors.js";
import { validateIntrinsics, type PinholeIntrinsics } from "../geometry/intrinsics.js";
import { frameFromUp, type SpatialFrame } from "../geometry/spatial_frame.js";
import type { Scene, SceneObject } from "../scene/scene_object.js";
import { validateStampNs } from "../time/ros_time.js";
import { StampGate, type StampVerdict, type TimelineJump } from "../time/stamp_gate.js";
import { nearestColorName } from "./color_naming.js";
import { DEPTH_ABOVE_PARAMS } from "./detection_depth.js";
import { DetectionSegmenter } from "./detection_segmenter.js";
import { DepthReader, LabelReader, validateImage, type DepthView } from "./image_views.js";
import { LabelExtents, MAX_LABEL } from "./label_extents.js";
import { HEIGHT_PARAMS, objectHeightCells } from "./object_height.js";
import { DEFAULT_OBJECT_BOX_OPTIONS, type RestingOn } from "./object_box.js";
import { MEASURE, MEASURE_PARAMS, RESTING_ON, TOO_FEW_POINTS } from "./object_measurements.js";
import { OcclusionProbe } from "./occlusion_probe.js";
import { ObjectTracker } from "./object_tracker.js";
import { createTsPerceptionKernels, type PerceptionKernels, type PerceptionKernelsFactory } from "./perception_kernels.js";
import type { Detection2D, InstanceMask, RgbdFrame } from "./rgbd_frame.js";
import { settleOnSupports } from "./stacked_support.js";
import { SupportPlaneEstimator } from "./support_plane.js";
import {
  SAMPLE_PARAMS, detectionRegion, instanceRegion, sampleStride, supportHeightAlong, supportRegion, type PixelRegion,
} from "./support_samples.js";

export interface PerceptionOptions {
  /** Objects with fewer surviving points are dropped (and counted). */
  minPoints: number;
  /** Points lower than this above the support surface are the surface itself, metres. */
  minHeightAboveSupport: number;
  /** Background samples for the plane fit (spread over the area around the objects). */
  planeSamples: number;
  /**
   * Objects with more pixels than this are sampled every 2nd pixel (every 3rd past four times
   * this) along rows and columns. Why not fewer: under depth noise edges and levels are read
   * through the scatter of many points, and the native kernels gain less from fewer points
   * than the TypeScript ones. Measured at 640x480 with 8 objects (same process, both paths):
   * 600 took native perception p50 0.60 -> 0.45 ms but TypeScript 2.50 -> 1.52 ms (4.2x ->
   * 3.4x), and on 60 eval scenes RealSense depth extents within 10% 88.8 -> 84.7%,
   * qualitative 99.11 -> 98.45%.
   */
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
  /**
   * The per-frame kernels (perception_kernels.ts): the TypeScript ones when absent. The
   * package's edges pass native ones where the addon is built
   * (nodes/perception/native_perception_kernels.ts: perceptionKernels()); results are the same.
   */
  kernels?: PerceptionKernelsFactory;
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

const DEPTH_ENCODINGS = ["32FC1", "16UC1"];
const RGB_ENCODINGS = ["rgb8", "bgr8"];
const LABEL_ENCODINGS = ["mono8", "mono16", "16UC1"];
const NO_LABELS = new Uint8Array(0);

/** This frame's views and camera, set by readFrame (no allocation per frame). */
interface FrameViews {
  width: number;
  height: number;
  instanceMode: boolean;
  depth: DepthView;
  labels: Uint8Array | Uint16Array;
  /** Label image row stride, elements. */
  labelStride: number;
}

/** What findSupport gives the later stages. */
interface Support {
  spatial: SpatialFrame;
  supportZ: number | null;
  /** Lowest height of an object point (the support + minHeightAboveSupport; -Infinity without a support). */
  floorZ: number;
  noise1m: number;
}

/**
 * RGB-D frame → scene graph: lifts segmented depth pixels to 3D, canonicalises them into the
 * gravity-aligned spatial frame (support plane by RANSAC, or a given up vector), rejects
 * flying pixels and surface points, repairs masks by depth, estimates each object's box from the
 * evidence it has (object_box.ts), settles stacked objects on their supports, names colours and
 * tracks ids.
 *
 * The frame goes through named stages, each its own method below and each a kernel call
 * (perception_kernels.ts) where it touches pixels or points: admit (validation, stamps) →
 * locate the objects (label extents, or detection boxes) → find the support (background
 * samples → plane → spatial frame, depth noise) → segment detections (detection mode) →
 * measure the objects (lift with per-object accumulation, contact evidence, box, colour) →
 * stack (settle on supports) → track.
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
  /** The per-frame kernels in use (their `name` says which implementation). */
  readonly kernels: PerceptionKernels;
  private readonly depthReader = new DepthReader();
  private readonly labelReader = new LabelReader();
  private readonly plane: SupportPlaneEstimator;
  private readonly segmenter = new DetectionSegmenter();
  private readonly stamps: StampGate;
  readonly tracker = new ObjectTracker();
  private readonly occlusion = new OcclusionProbe();

  // Camera-sized buffers, allocated on the first frame of a camera and reused after (prepare()).
  private camWidth = 0;
  private camHeight = 0;
  private camFx = NaN;
  private camFy = NaN;
  private camCx = NaN;
  private camCy = NaN;
  private rayX = new Float64Array(0);
  private rayY = new Float64Array(0);
  private samples = new Float32Array(0);
  private noiseScratch = new Float64Array(0);
  private heights = new Float64Array(0);
  private gridMark = new Uint8Array(0);
  private xs = new Float32Array(0);
  private ys = new Float32Array(0);
  private zs = new Float32Array(0);
  private depthM = new Float32Array(0);
  private above = new Uint8Array(0);
  private readonly extents = new LabelExtents();
  // Kernel parameter blocks and small outputs, reused every frame.
  private readonly sampleParams = new Float64Array(SAMPLE_PARAMS.length);
  private readonly sampleCounts = new Int32Array(2);
  private readonly heightParams = new Float64Array(HEIGHT_PARAMS.length);
  private readonly depthAboveParams = new Float64Array(DEPTH_ABOVE_PARAMS.length);
  private readonly measureParams = new Float64Array(MEASURE_PARAMS.length);
  private boxes = new Float64Array(0);
  private measureIds = new Int32Array(0);
  private measurements = new Float64Array(0);
  private readonly views: FrameViews = { width: 0, height: 0, instanceMode: true, depth: { data: new Float32Array(0), stride: 0, scale: 1 }, labels: NO_LABELS, labelStride: 0 };
  private readonly objectRegion: PixelRegion = { u0: 0, u1: 0, v0: 0, v1: 0 };
  private readonly searchRegion: PixelRegion = { u0: 0, u1: 0, v0: 0, v1: 0 };
  // Per-object results of the frame, handed to stacking and the tracker (read during the call only).
  private readonly resting: boolean[] = [];
  private readonly restingOn: RestingOn[] = [];
  private readonly lowest: number[] = [];
  private readonly floating: boolean[] = [];
  // Per-frame state, cleared by endFrame() however the frame ends.
  /** This frame's usable detections (detection k is label k + 1). */
  private readonly dets: Detection2D[] = [];
  private frameLabels: InstanceMask["labels"] | null = null;

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
    if (o.kernels !== undefined && typeof o.kernels !== "function") {
      throw new InvalidInputError("bad_argument", "kernels must be a function returning the perception kernels (perception_kernels.ts)");
    }
    this.kernels = (o.kernels ?? createTsPerceptionKernels)();
    this.plane = new SupportPlaneEstimator({}, this.kernels);
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
    this.endFrame();
    this.extents.count.fill(0);
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
    this.extents.clear();
    this.dets.length = 0;
    this.frameLabels = null;
    this.occlusion.clear();
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

  /** The stages, in order (the class comment lists them). */
  private processFrame(frame: RgbdFrame, verdict: StampVerdict): Scene {
    const f = this.readFrame(frame);
    this.locateObjects(f);
    const support = this.findSupport(frame, f);
    if (!f.instanceMode) this.segmentDetections(frame, f, support);
    const objects = this.measureObjects(frame, f, support);
    // A stacked object's underside is hidden: its bottom is the top of what it stands on.
    const settled = settleOnSupports(objects, this.restingOn, this.resting, this.lowest);
    if (settled > 0) this.counters.inc("boxes.settled_on_object", settled);
    // Nothing below throws on input: the frame is accepted, and the cross-frame state moves.
    this.track(frame, f, support, objects, verdict);
    return { stamp: frame.stamp, objects, supportZ: support.supportZ };
  }

  /** Views over the frame's images (no copy where the bytes allow), the camera's rays; detections screened. */
  private readFrame(frame: RgbdFrame): FrameViews {
    const k = frame.intrinsics;
    const f = this.views;
    f.width = k.width;
    f.height = k.height;
    f.instanceMode = frame.instances !== undefined && frame.instances !== null;
    if (!f.instanceMode) this.screenDetections(frame.detections!, k.width, k.height);
    this.prepare(k);
    f.depth = this.depthReader.read(frame.depth);
    if (f.instanceMode) {
      const lv = this.labelReader.read(frame.instances!.image);
      f.labels = lv.data;
      f.labelStride = lv.stride;
      this.frameLabels = frame.instances!.labels;
    } else {
      f.labels = NO_LABELS;
      f.labelStride = k.width;
    }
    return f;
  }

  /** Where the objects are: the instances' extents (kernel labelExtents), or the detection boxes. */
  private locateObjects(f: FrameViews): void {
    const region = this.objectRegion;
    if (f.instanceMode) {
      this.kernels.labelExtents(f.labels, f.labelStride, f.width, f.height, this.extents);
      this.checkInstanceBudget(f.width, f.height);
      instanceRegion(this.extents, f.width, f.height, region);
    } else {
      detectionRegion(this.dets, f.width, f.height, region);
    }
    if (region.u1 < 0) {
      throw new InvalidInputError("empty_mask", f.instanceMode ? "instance mask has no labelled pixels" : "no detections in the frame");
    }
  }

  /**
   * The support and the spatial frame: background samples around the objects (kernel
   * backgroundSamples), then the plane (the plane kernels; or the given up vector), checked to be
   * what the objects stand on and seen obliquely; the depth noise read off it (kernel depthNoiseAt1m).
   */
  private findSupport(frame: RgbdFrame, f: FrameViews): Support {
    const o = this.options, kernels = this.kernels;
    const search = this.searchRegion;
    supportRegion(this.objectRegion, f.width, f.height, search);
    const sp = this.sampleParams;
    sp[SAMPLE_PARAMS.depthStride] = f.depth.stride; sp[SAMPLE_PARAMS.depthScale] = f.depth.scale;
    sp[SAMPLE_PARAMS.labelStride] = f.instanceMode ? f.labelStride : 0;
    sp[SAMPLE_PARAMS.u0] = search.u0; sp[SAMPLE_PARAMS.u1] = search.u1; sp[SAMPLE_PARAMS.v0] = search.v0; sp[SAMPLE_PARAMS.v1] = search.v1;
    sp[SAMPLE_PARAMS.stride] = sampleStride(search, o.planeSamples);
    sp[SAMPLE_PARAMS.minDepth] = o.minDepth; sp[SAMPLE_PARAMS.maxDepth] = o.maxDepth;
    const samples = this.samples;
    let ns = kernels.backgroundSamples(f.depth.data, f.labels, this.rayX, this.rayY, sp, samples, this.sampleCounts);
    if (this.sampleCounts[1] === 0) {
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
      if (plane && this.objectHeightAbove(plane, f) > 0.2) {
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
      if (oblique < Math.sin((o.minSupportObliquityDeg * Math.PI) / 180)) {
        const deg = (Math.asin(Math.min(1, oblique)) * 180) / Math.PI;
        throw new InvalidInputError(
          "no_support_plane",
          `the dominant surface around the objects faces the camera (its normal is ${deg.toFixed(1)}° from the optical axis, ` +
            `under ${o.minSupportObliquityDeg}°): a wall or a constant-depth image, not a support seen from above`,
        );
      }
      spatial = frameFromUp({ x: plane.nx, y: plane.ny, z: plane.nz }, plane.d);
    }
    const supportZ = spatial.supportZ;
    // How noisy this camera's depth is, read off the flat support: the box estimator reads
    // edges and top faces through it (0 for exact depth).
    const noise1m = kernels.depthNoiseAt1m(samples, ns, spatial.rotation, supportZ === null ? NaN : supportZ, this.noiseScratch);
    return { spatial, supportZ, floorZ: supportZ === null ? -Infinity : supportZ + o.minHeightAboveSupport, noise1m };
  }

  /** Median height of the objects' pixels above a candidate plane (kernel medianObjectHeight). */
  private objectHeightAbove(plane: { nx: number; ny: number; nz: number; d: number }, f: FrameViews): number {
    const p = this.heightParams, search = this.searchRegion;
    p[HEIGHT_PARAMS.nx] = plane.nx; p[HEIGHT_PARAMS.ny] = plane.ny; p[HEIGHT_PARAMS.nz] = plane.nz; p[HEIGHT_PARAMS.d] = plane.d;
    p[HEIGHT_PARAMS.depthStride] = f.depth.stride; p[HEIGHT_PARAMS.depthScale] = f.depth.scale;
    p[HEIGHT_PARAMS.labelStride] = f.instanceMode ? f.labelStride : 0;
    p[HEIGHT_PARAMS.u0] = search.u0; p[HEIGHT_PARAMS.u1] = search.u1; p[HEIGHT_PARAMS.v0] = search.v0; p[HEIGHT_PARAMS.v1] = search.v1;
    p[HEIGHT_PARAMS.minDepth] = this.options.minDepth; p[HEIGHT_PARAMS.maxDepth] = this.options.maxDepth;
    const nBoxes = f.instanceMode ? 0 : this.packBoxes();
    return this.kernels.medianObjectHeight(p, f.depth.data, f.labels, this.boxes, nBoxes, this.rayX, this.rayY, this.heights, this.gridMark);
  }

  /** The usable detections' boxes as cx, cy, width, height rows (for the kernels). */
  private packBoxes(): number {
    const dets = this.dets;
    if (this.boxes.length < dets.length * 4) this.boxes = new Float64Array(Math.max(64, dets.length) * 4);
    const b = this.boxes;
    for (let i = 0; i < dets.length; i++) {
      const d = dets[i];
      b[i * 4] = d.cx; b[i * 4 + 1] = d.cy; b[i * 4 + 2] = d.width; b[i * 4 + 3] = d.height;
    }
    return dets.length;
  }

  /**
   * Detection mode: detections → a label image, by segmenting depth inside each box (metric
   * depth and the above-the-support mask by kernel metricDepthAbove; DetectionSegmenter
   * grows the regions, splitting overlapping boxes on colour edges); then its extents.
   */
  private segmentDetections(frame: RgbdFrame, f: FrameViews, support: Support): void {
    const o = this.options, R = support.spatial.rotation;
    const p = this.depthAboveParams;
    p[DEPTH_ABOVE_PARAMS.width] = f.width; p[DEPTH_ABOVE_PARAMS.height] = f.height;
    p[DEPTH_ABOVE_PARAMS.depthStride] = f.depth.stride; p[DEPTH_ABOVE_PARAMS.depthScale] = f.depth.scale;
    p[DEPTH_ABOVE_PARAMS.floorZ] = support.floorZ; p[DEPTH_ABOVE_PARAMS.minDepth] = o.minDepth; p[DEPTH_ABOVE_PARAMS.maxDepth] = o.maxDepth;
    p[DEPTH_ABOVE_PARAMS.r6] = R[6]; p[DEPTH_ABOVE_PARAMS.r7] = R[7]; p[DEPTH_ABOVE_PARAMS.r8] = R[8];
    const nBoxes = this.packBoxes();
    // The segmenter reads `above` only inside the box it is growing, all of which is written here first.
    this.kernels.metricDepthAbove(p, f.depth.data, this.boxes, nBoxes, this.rayX, this.rayY, this.depthM, this.above);
    f.labels = this.segmenter.segment(this.dets, f.width, f.height, this.depthM, this.above, frame.rgb.data, frame.rgb.step, frame.rgb.encoding === "bgr8");
    f.labelStride = f.width;
    if (this.kernels.labelExtents(f.labels, f.labelStride, f.width, f.height, this.extents) === 0) {
      throw new InvalidInputError("empty_mask", "no detection box contains an object above the support surface");
    }
  }

  /**
   * Per object with a class: its points in the spatial frame, contact evidence, box and colour
   * (kernel measureObjects, one call for all); counted drops replayed in object order.
   */
  private measureObjects(frame: RgbdFrame, f: FrameViews, support: Support): SceneObject[] {
    const o = this.options, ext = this.extents, k = frame.intrinsics;
    if (this.measureIds.length < ext.size) {
      this.measureIds = new Int32Array(Math.max(64, ext.size));
      this.measurements = new Float64Array(this.measureIds.length * MEASURE.stride);
    }
    const ids = this.measureIds;
    let n = 0;
    for (let i = 0; i < ext.size; i++) {
      const id = ext.present[i];
      if (this.kindOf(id, f.instanceMode) !== undefined) ids[n++] = id;
    }
    const P = MEASURE_PARAMS, p = this.measureParams, R = support.spatial.rotation, supportZ = support.supportZ;
    p[P.width] = f.width; p[P.height] = f.height;
    p[P.depthStride] = f.depth.stride; p[P.depthScale] = f.depth.scale; p[P.labelStride] = f.labelStride;
    p[P.rgbStep] = frame.rgb.step; p[P.bgr] = frame.rgb.encoding === "bgr8" ? 1 : 0;
    p[P.floorZ] = support.floorZ; p[P.colorFloorZ] = supportZ === null ? -Infinity : supportZ + 0.015;
    p[P.repair] = f.instanceMode ? o.maskRepairPixels : 0;
    p[P.noise1m] = support.noise1m; p[P.supportZ] = supportZ === null ? NaN : supportZ; p[P.focalSum] = k.fx + k.fy;
    p[P.minDepth] = o.minDepth; p[P.maxDepth] = o.maxDepth; p[P.maxPointsPerObject] = o.maxPointsPerObject; p[P.minPoints] = o.minPoints;
    const bo = DEFAULT_OBJECT_BOX_OPTIONS;
    p[P.trim] = bo.trim; p[P.restingTolerance] = bo.restingTolerance; p[P.flatCurvature] = bo.flatCurvature; p[P.topFaceSpan] = bo.topFaceSpan;
    for (let i = 0; i < 9; i++) p[P.rotation + i] = R[i];
    const out = this.measurements;
    this.kernels.measureObjects(p, f.depth.data, f.labels, frame.rgb.data, this.rayX, this.rayY, ids, n, ext, this.xs, this.ys, this.zs, out);

    const objects: SceneObject[] = [];
    const resting = this.resting, restingOn = this.restingOn, lowest = this.lowest;
    resting.length = 0; restingOn.length = 0; lowest.length = 0;
    for (let i = 0, m = 0; i < ext.size; i++) {
      const kind = this.kindOf(ext.present[i], f.instanceMode);
      if (kind === undefined) {
        this.counters.inc("dropped.unlabelled_instance");
        continue;
      }
      const at = (m++) * MEASURE.stride;
      const islands = out[at + MEASURE.islands];
      if (islands > 0) this.counters.inc("dropped.mask_island_pixels", islands);
      if (out[at + MEASURE.status] === TOO_FEW_POINTS) {
        this.counters.inc("dropped.too_few_points");
        continue;
      }
      const points = out[at + MEASURE.points];
      resting.push(out[at + MEASURE.resting] === 1);
      restingOn.push(RESTING_ON[out[at + MEASURE.restingOn]]);
      lowest.push(out[at + MEASURE.lowest]);
      const rejected = out[at + MEASURE.rejected];
      if (rejected > 0) this.counters.inc("dropped.stray_points", rejected);
      const red = out[at + MEASURE.red];
      objects.push({
        id: "",
        kind,
        color: Number.isNaN(red) ? "" : nearestColorName(red, out[at + MEASURE.green], out[at + MEASURE.blue]),
        center: { x: out[at + MEASURE.cx], y: out[at + MEASURE.cy], z: out[at + MEASURE.cz] },
        size: { x: out[at + MEASURE.sx], y: out[at + MEASURE.sy], z: out[at + MEASURE.sz] },
        confidence: Math.min(1, points / 400),
        numPoints: points,
      });
    }
    return objects;
  }

  /** Ids across frames, boxes filtered over time, briefly hidden objects held (OcclusionProbe); the stamp committed. */
  private track(frame: RgbdFrame, f: FrameViews, support: Support, objects: SceneObject[], verdict: StampVerdict): void {
    if (verdict === "adopt") {
      // A new timeline (bag restart, clock step): the old tracks belong to another time.
      this.tracker.reset();
      this.counters.inc("stamp_jump.adopted");
    }
    this.occlusion.set(f.depth, frame.intrinsics, support.spatial.rotation, this.options.minDepth);
    const floating = this.floating;
    floating.length = 0;
    for (const r of this.restingOn) floating.push(r === "nothing");
    this.tracker.update(objects, this.resting, this.lowest, this.occlusion.hidden, floating);
    this.stamps.commit(frame.stamp, verdict === "adopt" ? "adopt" : "accept");
    this.lastFrame = support.spatial;
  }

  /** The per-frame budget applied to instance masks: labelled instances and their bounding-box area. */
  private checkInstanceBudget(width: number, height: number): void {
    const ext = this.extents;
    let labelled = 0, area = 0;
    for (let i = 0; i < ext.size; i++) {
      const id = ext.present[i];
      if (this.kindOf(id, true) === undefined) continue;
      labelled++;
      area += (ext.u1[id] - ext.u0[id] + 1) * (ext.v1[id] - ext.v0[id] + 1);
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
   * Allocates the camera-sized buffers for `width` x `height` now and writes every page of them,
   * so that the first frame of that size does not: ~5 MB of fresh memory, faulted in during the
   * first frame, cost ~20 ms per camera on a virtualised host (four cameras in one process: the
   * first frames' reward latency 120-166 ms). The node calls this while it warms up.
   */
  reserve(width: number, height: number): void {
    if (!(Number.isInteger(width) && Number.isInteger(height) && width > 0 && height > 0)) {
      throw new Error(`Perception.reserve: width and height must be positive integers, got ${width}x${height}`);
    }
    if (width !== this.camWidth || height !== this.camHeight) this.allocate(width, height);
    for (const b of [this.samples, this.noiseScratch, this.heights, this.gridMark, this.xs, this.ys, this.zs, this.depthM, this.above]) b.fill(0);
  }

  private prepare(k: PinholeIntrinsics): void {
    if (k.width === this.camWidth && k.height === this.camHeight && k.fx === this.camFx && k.fy === this.camFy && k.cx === this.camCx && k.cy === this.camCy) return;
    // Every stage writes what it reads of these in the frame: their contents do not matter
    // (test/perception/camera_buffers.test.ts), only their size.
    if (k.width !== this.camWidth || k.height !== this.camHeight) this.allocate(k.width, k.height);
    this.camFx = k.fx; this.camFy = k.fy; this.camCx = k.cx; this.camCy = k.cy;
    this.rayX = new Float64Array(k.width);
    this.rayY = new Float64Array(k.height);
    for (let u = 0; u < k.width; u++) this.rayX[u] = (u - k.cx) / k.fx;
    for (let v = 0; v < k.height; v++) this.rayY[v] = (v - k.cy) / k.fy;
    this.plane.reset();
  }

  private allocate(width: number, height: number): void {
    this.camWidth = width; this.camHeight = height;
    // Intrinsics are unknown for this size until prepare() sees them.
    this.camFx = NaN; this.camFy = NaN; this.camCx = NaN; this.camCy = NaN;
    const n = width * height;
    // Plane samples sit on a grid of stride ≥ 2: at most this many per frame.
    this.samples = new Float32Array(((width >> 1) + 1) * ((height >> 1) + 1) * 3);
    this.noiseScratch = new Float64Array(this.samples.length / 3);
    this.heights = new Float64Array(objectHeightCells(width, height));
    this.gridMark = new Uint8Array(this.heights.length);
    this.xs = new Float32Array(n);
    this.ys = new Float32Array(n);
    this.zs = new Float32Array(n);
    this.depthM = new Float32Array(n);
    this.above = new Uint8Array(n);
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
