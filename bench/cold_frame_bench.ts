import { LatencyStats, type LatencySummary } from "../src/diagnostics/latency_stats.js";
import { Perception } from "../src/perception/perception.js";
import { createTsPerceptionKernels, type PerceptionKernelsFactory } from "../src/perception/perception_kernels.js";
import type { RgbdFrame } from "../src/perception/rgbd_frame.js";
import type { Scene } from "../src/scene/scene_object.js";
import { nativePerceptionKernels } from "../nodes/perception/native_perception_kernels.js";
import { cameraWireFrame, RgbdSensor, teleopScenario, worldAt } from "../sim/index.js";

/**
 * Perception on frames as a node gets them from a camera driver's process, beside the same
 * frames as `npm run bench`'s pipeline gets them. The pipeline bench renders each frame right
 * before perceiving it, so the frame is in the CPU's caches; a frame that arrives over DDS from
 * another process (16UC1 depth and masks, as drivers send them) was written by another core and
 * is not. Measured here, on each available kernel path: every frame `warm` (its images read
 * once right before it, the perception's own memory hot from the frames before) by one
 * Perception, and `cold` (64 MiB touched before it: the caches hold neither the frame nor the
 * perception's memory) by another, in blocks of 10 frames, the four runs taking turns block by
 * block; their scenes compared. Cold is the bound: a node's per-camera CPU (bench:dds, where a
 * node's own memory stays partly cached between frames) lies between the two.
 */
export interface ColdFrameBenchOptions {
  frames: number;
  seed: number;
  width: number;
  height: number;
  objects: number;
}

export const DEFAULT_COLD_FRAME_BENCH: ColdFrameBenchOptions = { frames: 240, seed: 11, width: 640, height: 480, objects: 8 };

/** Bytes touched before a cold frame: more than the last-level cache of any host this runs on. */
const EVICT_BYTES = 64 << 20;
const WARMUP_FRAMES = 20;
const BLOCK_FRAMES = 10;

export interface ColdFramePath {
  warm_ms: LatencySummary;
  cold_ms: LatencySummary;
  /** cold p50 over warm p50. */
  cold_over_warm_p50: number;
}

export interface ColdFrameBenchResult {
  encoding: "16UC1";
  width: number;
  height: number;
  objects: number;
  frames_measured: number;
  evict_bytes: number;
  paths: { typescript: ColdFramePath; native: ColdFramePath | null };
  scenes_identical: number;
  scenes_compared: number;
}

function sceneText(s: Scene): string {
  return JSON.stringify(s, (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v));
}

export function runColdFrameBench(opts: Partial<ColdFrameBenchOptions> = {}): ColdFrameBenchResult {
  const o = { ...DEFAULT_COLD_FRAME_BENCH, ...opts };
  if (!Number.isInteger(o.frames) || o.frames <= WARMUP_FRAMES) throw new Error(`cold frame bench: frames must be an integer above ${WARMUP_FRAMES}`);
  const { world, camera, episode } = teleopScenario(o.seed, o.frames, { width: o.width, height: o.height }, { minObjects: o.objects, maxObjects: o.objects });
  const sensor = new RgbdSensor({ noise: "none", seed: o.seed });
  const frames: RgbdFrame[] = [];
  for (let f = 0; f < o.frames; f++) {
    const frame = cameraWireFrame(sensor.capture(worldAt(world, episode.poses[f]), camera, BigInt(f) * 33_333_333n).frame);
    delete frame.detections;
    frames.push(frame);
  }
  const native = nativePerceptionKernels();
  const factories: ["typescript" | "native", PerceptionKernelsFactory][] = [["typescript", createTsPerceptionKernels]];
  if (native) factories.push(["native", native]);
  const runs = factories.flatMap(([name, kernels]) =>
    (["warm", "cold"] as const).map((mode) => ({ name, mode, perception: new Perception({ kernels }), stats: new LatencyStats(), texts: [] as string[] })));
  const evict = new Uint8Array(EVICT_BYTES);
  let sink = 0;
  const makeCold = (f: number) => {
    for (let i = 0; i < evict.length; i += 64) evict[i] = f;
  };
  const makeWarm = (frame: RgbdFrame) => {
    for (const a of [frame.depth.data, frame.rgb.data, frame.instances?.image.data]) {
      if (!a) continue;
      const bytes = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
      for (let i = 0; i < bytes.length; i += 64) sink += bytes[i];
    }
  };
  for (let b0 = 0, block = 0; b0 < o.frames; b0 += BLOCK_FRAMES, block++) {
    const b1 = Math.min(o.frames, b0 + BLOCK_FRAMES);
    for (let k = 0; k < runs.length; k++) {
      const run = runs[(block + k) % runs.length];
      for (let f = b0; f < b1; f++) {
        if (run.mode === "cold") makeCold(f);
        else makeWarm(frames[f]);
        const t0 = performance.now();
        const scene = run.perception.process(frames[f]);
        const dt = performance.now() - t0;
        if (f >= WARMUP_FRAMES) run.stats.add(dt);
        run.texts[f] = sceneText(scene);
      }
    }
  }
  let identical = 0;
  for (let f = 0; f < o.frames; f++) if (runs.every((r) => r.texts[f] === runs[0].texts[f])) identical++;
  if (sink < 0) throw new Error("unreachable");
  const figures = (name: string): ColdFramePath | null => {
    const of = (mode: string) => runs.find((r) => r.name === name && r.mode === mode)?.stats.summary();
    const warm = of("warm"), cold = of("cold");
    if (!warm || !cold) return null;
    return { warm_ms: warm, cold_ms: cold, cold_over_warm_p50: Math.round((cold.p50 / warm.p50) * 100) / 100 };
  };
  return {
    encoding: "16UC1",
    width: o.width,
    height: o.height,
    objects: o.objects,
    frames_measured: o.frames - WARMUP_FRAMES,
    evict_bytes: EVICT_BYTES,
    paths: { typescript: figures("typescript")!, native: figures("native") },
    scenes_identical: identical,
    scenes_compared: o.frames,
  };
}
