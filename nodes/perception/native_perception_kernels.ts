import { InvalidInputError } from "../../src/errors.js";
import type { LabelExtents } from "../../src/perception/label_extents.js";
import {
  createTsPerceptionKernels, type DepthSamples, type LabelSamples, type PerceptionKernels, type PerceptionKernelsFactory,
} from "../../src/perception/perception_kernels.js";
import { kernelFamily, loadKernelsAddon, nativeThreads } from "../native/kernels_addon.js";

/** Kernel family "perception_frame" (native/src/kernels/perception_frame.cc). */
interface FrameFamily {
  labelExtents(labels: LabelSamples, stride: number, width: number, height: number, count: Int32Array, u0: Int32Array, u1: Int32Array, v0: Int32Array, v1: Int32Array, present: Int32Array): number;
  backgroundSamples(depth: DepthSamples, labels: LabelSamples, rayX: Float64Array, rayY: Float64Array, p: Float64Array, out: Float32Array, counts: Int32Array): number;
  countPlaneInliers(pts: Float32Array, n: number, nx: number, ny: number, nz: number, d: number, threshold: number): number;
  refinePlane(pts: Float32Array, n: number, nx: number, ny: number, nz: number, d: number, threshold: number, out: Float64Array): number;
  ransacPlane(pts: Float32Array, n: number, seed: Uint32Array, threshold: number, maxIterations: number, confidence: number, out: Float64Array): number;
  depthNoiseAt1m(samples: Float32Array, n: number, rotation: Float64Array, supportZ: number, scratch: Float64Array): number;
  medianObjectHeight(p: Float64Array, depth: DepthSamples, labels: LabelSamples, boxes: Float64Array, nBoxes: number, rayX: Float64Array, rayY: Float64Array, heights: Float64Array, mark: Uint8Array): number;
  metricDepthAbove(p: Float64Array, depth: DepthSamples, boxes: Float64Array, nBoxes: number, rayX: Float64Array, rayY: Float64Array, depthM: Float32Array, above: Uint8Array): void;
  readonly perceptionMathExact: boolean;
}

/** Kernel family "perception_objects" (native/src/kernels/perception_objects.cc). */
interface ObjectsFamily {
  measureObjects(
    p: Float64Array, depth: DepthSamples, labels: LabelSamples, rgb: Uint8Array, rayX: Float64Array, rayY: Float64Array,
    ids: Int32Array, n: number, count: Int32Array, u0: Int32Array, u1: Int32Array, v0: Int32Array, v1: Int32Array,
    xs: Float32Array, ys: Float32Array, zs: Float32Array, out: Float64Array, threads?: number,
  ): void;
}

/** Kernel family "helper_thread" (native/src/kernels/helper_thread.cc): the addon's helper thread. */
interface HelperFamily {
  helperThread(op?: "state" | "stop" | "failStarts" | "allowStarts"): NativeHelperState;
}

/** The addon's helper thread (process-wide), which measureObjects shares a frame's objects with. */
export interface NativeHelperState {
  /** The process may use two CPUs and the thread could be (or was) created. */
  readonly available: boolean;
  readonly running: boolean;
  readonly startFailed: boolean;
  /** Since the process started: calls shared with the helper, and those it took part in. */
  readonly jobs: number;
  readonly jobsHelped: number;
  /** FUTEX_WAKEs callers paid for, after their work (calls at a steady rate while the helper slept until woken). */
  readonly callerWakes: number;
  /** The helper's wake-ups on its own ahead of an expected call, those that found none, its time spent spinning. */
  readonly timedWakes: number;
  readonly emptySpins: number;
  readonly spinMs: number;
  /** How late its timed wake-ups ended, in total (the VM's wake-up latency), and those that came after the call. */
  readonly lateMs: number;
  readonly lateWakes: number;
}

/** How the native perception kernels are made; unset fields follow the environment. */
export interface NativePerceptionOptions {
  /** Threads measureObjects may use: 2 shares a frame's objects with the addon's helper thread. Default: nativeThreads(). */
  readonly threads?: 1 | 2;
}

const FRAME_FUNCTIONS = [
  "labelExtents", "backgroundSamples", "countPlaneInliers", "refinePlane", "ransacPlane", "depthNoiseAt1m", "medianObjectHeight", "metricDepthAbove",
] as const;

/** A kernel's TypeError/RangeError (arguments it refused) as the package's typed error. */
function refused(kernel: string, e: unknown): never {
  if (e instanceof TypeError || e instanceof RangeError) throw new InvalidInputError("bad_argument", `native perception kernel ${kernel}: ${e.message}`);
  throw e;
}

/** Whether the native perception kernels run here, and whether their math is V8's own (bit-identical results). */
export interface NativePerceptionStatus {
  readonly native: boolean;
  /** Math.sin/cos/atan2/log/pow resolved to the running V8's functions; false: libm's (results differ in the last bits). */
  readonly exactMath: boolean;
}

/**
 * The native perception kernels (the kernels addon's perception families), or null where the
 * addon is not built, lacks them, or SPATIAL_REWARD_NATIVE=0 (the loader warns once when it
 * cannot load). Each Perception gets its own kernel object from the factory.
 */
export function nativePerceptionKernels(options: NativePerceptionOptions = {}): PerceptionKernelsFactory | null {
  const frame = kernelFamily<FrameFamily>("perception", FRAME_FUNCTIONS);
  const objects = kernelFamily<ObjectsFamily>("perception", ["measureObjects"]);
  if (!frame || !objects) return null;
  return () => createNativeKernels(frame, objects, options.threads ?? nativeThreads());
}

/** The addon's helper thread, or null where the addon (or a build with it) is not loaded. */
export function nativeHelperThread(op: "state" | "stop" | "failStarts" | "allowStarts" = "state"): NativeHelperState | null {
  // Not kernelFamily(): an addon without it has no TypeScript fallback to warn about.
  const addon = loadKernelsAddon() as Partial<HelperFamily> | null;
  return typeof addon?.helperThread === "function" ? addon.helperThread(op) : null;
}

/**
 * The perception kernels of a given kernels addon module (`require` of its .node file), or null
 * when it lacks them: for comparing two builds in one process (bench/kernels_ab.ts), where the
 * process's own addon is the one nativePerceptionKernels() gives.
 */
export function nativePerceptionKernelsOf(addon: Readonly<Record<string, unknown>>): PerceptionKernelsFactory | null {
  const missing = [...FRAME_FUNCTIONS, "measureObjects"].filter((f) => typeof addon[f] !== "function");
  if (missing.length > 0) return null;
  const frame = addon as unknown as FrameFamily, objects = addon as unknown as ObjectsFamily;
  return () => createNativeKernels(frame, objects, nativeThreads());
}

/**
 * The perception kernels for this process: native where the addon has them (unless
 * SPATIAL_REWARD_NATIVE=0), else the TypeScript reference. What the edges pass as
 * PerceptionOptions.kernels; in-process library users do the same:
 *
 *   import { perceptionKernels } from "spatial-reward/native";
 *   const perception = new Perception({ kernels: perceptionKernels() });
 */
export function perceptionKernels(): PerceptionKernelsFactory {
  return nativePerceptionKernels() ?? createTsPerceptionKernels;
}

/** Which perception kernels perceptionKernels() gives here. */
export function nativePerceptionStatus(): NativePerceptionStatus {
  const frame = kernelFamily<FrameFamily>("perception", FRAME_FUNCTIONS);
  const native = frame !== null && kernelFamily<ObjectsFamily>("perception", ["measureObjects"]) !== null;
  return { native, exactMath: native && frame.perceptionMathExact === true };
}

function createNativeKernels(f: FrameFamily, o: ObjectsFamily, threads: 1 | 2): PerceptionKernels {
  return {
    name: "native",
    threads,
    labelExtents(labels: LabelSamples, stride: number, width: number, height: number, ext: LabelExtents): number {
      let size: number;
      try {
        size = f.labelExtents(labels, stride, width, height, ext.count, ext.u0, ext.u1, ext.v0, ext.v1, ext.present);
      } catch (e) {
        return refused("labelExtents", e);
      }
      ext.size = size;
      return size;
    },
    backgroundSamples(depth, labels, rayX, rayY, p, out, counts) {
      try {
        return f.backgroundSamples(depth, labels, rayX, rayY, p, out, counts);
      } catch (e) {
        return refused("backgroundSamples", e);
      }
    },
    countPlaneInliers(pts, n, nx, ny, nz, d, threshold) {
      try {
        return f.countPlaneInliers(pts, n, nx, ny, nz, d, threshold);
      } catch (e) {
        return refused("countPlaneInliers", e);
      }
    },
    refinePlane(pts, n, nx, ny, nz, d, threshold, out) {
      try {
        return f.refinePlane(pts, n, nx, ny, nz, d, threshold, out);
      } catch (e) {
        return refused("refinePlane", e);
      }
    },
    ransacPlane(pts, n, seed, threshold, maxIterations, confidence, out) {
      try {
        return f.ransacPlane(pts, n, seed, threshold, maxIterations, confidence, out);
      } catch (e) {
        return refused("ransacPlane", e);
      }
    },
    depthNoiseAt1m(samples, n, rotation, supportZ, scratch) {
      try {
        return f.depthNoiseAt1m(samples, n, rotation, supportZ, scratch);
      } catch (e) {
        return refused("depthNoiseAt1m", e);
      }
    },
    medianObjectHeight(p, depth, labels, boxes, nBoxes, rayX, rayY, heights, mark) {
      try {
        return f.medianObjectHeight(p, depth, labels, boxes, nBoxes, rayX, rayY, heights, mark);
      } catch (e) {
        return refused("medianObjectHeight", e);
      }
    },
    metricDepthAbove(p, depth, boxes, nBoxes, rayX, rayY, depthM, above) {
      try {
        f.metricDepthAbove(p, depth, boxes, nBoxes, rayX, rayY, depthM, above);
      } catch (e) {
        refused("metricDepthAbove", e);
      }
    },
    measureObjects(p, depth, labels, rgb, rayX, rayY, ids, n, ext, xs, ys, zs, out) {
      try {
        o.measureObjects(p, depth, labels, rgb, rayX, rayY, ids, n, ext.count, ext.u0, ext.u1, ext.v0, ext.v1, xs, ys, zs, out, threads);
      } catch (e) {
        refused("measureObjects", e);
      }
    },
  };
}
