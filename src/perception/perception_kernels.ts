import { depthNoiseAt1m } from "./depth_noise.js";
import { metricDepthAboveTs } from "./detection_depth.js";
import { labelExtentsTs, type LabelExtents } from "./label_extents.js";
import { medianObjectHeightTs } from "./object_height.js";
import { ObjectMeasurer } from "./object_measurements.js";
import { TS_PLANE_KERNELS, type PlaneKernels } from "./support_plane.js";
import { backgroundSamplesTs } from "./support_samples.js";

export type DepthSamples = Float32Array | Uint16Array;
export type LabelSamples = Uint8Array | Uint16Array;

/**
 * The per-frame work of perception over pixels and points, stage by stage (perception.ts
 * calls them in this order). Each is a kernel: plain typed arrays and numbers in, results
 * written into the caller's typed arrays, nothing allocated per frame. The TypeScript
 * implementation (createTsPerceptionKernels) is the reference and the default; an edge of the
 * package (nodes/perception/native_perception_kernels.ts) can pass native ones through
 * PerceptionOptions.kernels, which must give the same results (tests compare them).
 * Parameter blocks have fixed layouts (the *_PARAMS constants of each stage file).
 */
export interface PerceptionKernels extends PlaneKernels {
  /** "typescript", or the native implementation's name. */
  readonly name: string;
  /** Threads measureObjects may use within a call (absent: 1, the calling thread). */
  readonly threads?: number;
  /** Label image → per-id pixel counts and extents, ids present ascending (label_extents.ts). Returns how many. */
  labelExtents(labels: LabelSamples, stride: number, width: number, height: number, ext: LabelExtents): number;
  /** Background samples for the support plane (support_samples.ts, SAMPLE_PARAMS). Returns how many. */
  backgroundSamples(depth: DepthSamples, labels: LabelSamples, rayX: Float64Array, rayY: Float64Array, p: Float64Array, out: Float32Array, counts: Int32Array): number;
  /** Median height of object pixels above a plane (object_height.ts, HEIGHT_PARAMS). */
  medianObjectHeight(p: Float64Array, depth: DepthSamples, labels: LabelSamples, boxes: Float64Array, nBoxes: number, rayX: Float64Array, rayY: Float64Array, heights: Float64Array, mark: Uint8Array): number;
  /** Depth noise at 1 m from the samples on the support (depth_noise.ts; supportZ NaN: none, 0). */
  depthNoiseAt1m(samples: Float32Array, n: number, rotation: Float64Array, supportZ: number, scratch: Float64Array): number;
  /** Detection mode: metric depth and the above-the-support mask inside the boxes (detection_depth.ts, DEPTH_ABOVE_PARAMS). */
  metricDepthAbove(p: Float64Array, depth: DepthSamples, boxes: Float64Array, nBoxes: number, rayX: Float64Array, rayY: Float64Array, depthM: Float32Array, above: Uint8Array): void;
  /** Per object: lift, contact evidence, box, colour (object_measurements.ts, MEASURE_PARAMS → MEASURE). */
  measureObjects(
    p: Float64Array, depth: DepthSamples, labels: LabelSamples, rgb: Uint8Array, rayX: Float64Array, rayY: Float64Array,
    ids: Int32Array, n: number, ext: LabelExtents, xs: Float32Array, ys: Float32Array, zs: Float32Array, out: Float64Array,
  ): void;
}

/** Makes one Perception's kernels (they may keep scratch buffers between frames). */
export type PerceptionKernelsFactory = () => PerceptionKernels;

/** The TypeScript kernels: the reference implementation, and the fallback wherever native ones are not given. */
export function createTsPerceptionKernels(): PerceptionKernels {
  const measurer = new ObjectMeasurer();
  return {
    name: "typescript",
    ...TS_PLANE_KERNELS,
    labelExtents: labelExtentsTs,
    backgroundSamples: backgroundSamplesTs,
    medianObjectHeight: medianObjectHeightTs,
    depthNoiseAt1m: (samples, n, rotation, supportZ, scratch) => depthNoiseAt1m(samples, n, rotation, Number.isNaN(supportZ) ? null : supportZ, scratch),
    metricDepthAbove: metricDepthAboveTs,
    measureObjects: (p, depth, labels, rgb, rayX, rayY, ids, n, ext, xs, ys, zs, out) => measurer.measure(p, depth, labels, rgb, rayX, rayY, ids, n, ext, xs, ys, zs, out),
  };
}
