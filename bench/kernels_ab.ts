import { realpathSync } from "node:fs";
import { createRequire } from "node:module";
import { loadavg } from "node:os";
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { LatencyStats, type LatencySummary } from "../src/diagnostics/latency_stats.js";
import { Perception } from "../src/perception/perception.js";
import { createTsPerceptionKernels, type PerceptionKernelsFactory } from "../src/perception/perception_kernels.js";
import type { Scene } from "../src/scene/scene_object.js";
import { nativePerceptionKernelsOf } from "../nodes/perception/native_perception_kernels.js";
import type { PipelineBenchOptions } from "./pipeline_bench.js";
import { cameraWireFrame, RgbdSensor, teleopScenario, worldAt, type NoiseModel } from "../sim/index.js";
import { benchArgs, benchChoice } from "./bench_args.js";

/**
 * Perception p50 of two (or more) builds of the kernels addon side by side in one process: an
 * A/B of a kernel change on a loaded 2-core host, where times taken in separate runs differ by
 * more than most changes make. Each path renders its frame into its own sensor's buffers right
 * before processing it (as bench/pipeline_bench.ts does: the frame is in cache as a node gets it);
 * which path goes first alternates frame by frame; every frame's scenes are compared.
 *
 *   cp native/build/Release/spatial_reward_kernels.node /tmp/a.node   # before the change
 *   (change, rebuild)
 *   node dist/bench/kernels_ab.js /tmp/a.node native/build/Release/spatial_reward_kernels.node
 *
 * A path is an addon file, or `ts` for the TypeScript kernels. Copy each build to its own file:
 * a .node file is loaded once per path per process.
 */
/** The pipeline bench's scenario, and the addon files to compare. */
export interface KernelsAbOptions extends Pick<PipelineBenchOptions, "frames" | "seed" | "noise" | "width" | "height" | "objects"> {
  paths: string[];
  /** The frames as the simulator renders them (32FC1 depth, mono8 ids) or as a camera driver sends them (16UC1 both). */
  encoding: FrameEncoding;
}

export type FrameEncoding = "32FC1" | "16UC1";

export interface KernelsAbPath {
  path: string;
  perception_ms: LatencySummary;
  /** p50 over the first path's p50. */
  ratio_p50: number;
}

export interface KernelsAbResult {
  frames_measured: number;
  noise: NoiseModel;
  encoding: FrameEncoding;
  paths: KernelsAbPath[];
  scenes_identical: number;
  scenes_compared: number;
  load_average: number;
}

const WARMUP = 30;

function factoryOf(path: string): PerceptionKernelsFactory {
  if (path === "ts") return createTsPerceptionKernels;
  const addon: unknown = createRequire(import.meta.url)(resolve(path));
  const factory = addon !== null && typeof addon === "object" ? nativePerceptionKernelsOf(addon as Record<string, unknown>) : null;
  if (!factory) throw new Error(`kernels A/B: ${path} has no perception kernels`);
  return factory;
}

function sceneText(s: Scene): string {
  return JSON.stringify(s, (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v));
}

export function runKernelsAb(o: KernelsAbOptions): KernelsAbResult {
  if (o.paths.length < 1) throw new Error("kernels A/B: give at least one addon file (or ts)");
  if (!Number.isInteger(o.frames) || o.frames <= WARMUP) throw new Error(`kernels A/B: frames must be an integer above ${WARMUP}`);
  const { world, camera, episode } = teleopScenario(o.seed, o.frames, { width: o.width, height: o.height }, { minObjects: o.objects, maxObjects: o.objects });
  const runs = o.paths.map((path) => ({
    path, perception: new Perception({ kernels: factoryOf(path) }), sensor: new RgbdSensor({ noise: o.noise, seed: o.seed }), stats: new LatencyStats(),
  }));
  const texts: string[] = [];
  let identical = 0;
  for (let f = 0; f < o.frames; f++) {
    for (let k = 0; k < runs.length; k++) {
      const j = (f + k) % runs.length, run = runs[j];
      const rendered = run.sensor.capture(worldAt(world, episode.poses[f]), camera, BigInt(f) * 33_333_333n).frame;
      const frame = o.encoding === "16UC1" ? cameraWireFrame(rendered) : rendered;
      delete frame.detections;
      const t0 = performance.now();
      const scene = run.perception.process(frame);
      const dt = performance.now() - t0;
      if (f >= WARMUP) run.stats.add(dt);
      texts[j] = sceneText(scene);
    }
    if (texts.every((t) => t === texts[0])) identical++;
  }
  const first = runs[0].stats.summary().p50;
  return {
    frames_measured: o.frames - WARMUP,
    noise: o.noise,
    encoding: o.encoding,
    paths: runs.map((r) => {
      const s = r.stats.summary();
      return { path: r.path, perception_ms: s, ratio_p50: Math.round((s.p50 / first) * 1000) / 1000 };
    }),
    scenes_identical: identical,
    scenes_compared: o.frames,
    load_average: Math.round(loadavg()[0] * 100) / 100,
  };
}

function main(): void {
  const { values, positionals } = benchArgs("kernels_ab", "node dist/bench/kernels_ab.js ADDON.node|ts ADDON.node|ts ... [--frames N] [--seed S] [--noise none|realsense] [--encoding 32FC1|16UC1] [--json]", {
    allowPositionals: true,
    options: {
      frames: { type: "string", default: "300" }, seed: { type: "string", default: "11" }, noise: { type: "string", default: "none" },
      encoding: { type: "string", default: "32FC1" }, json: { type: "boolean", default: false },
    },
  });
  const noise = benchChoice("kernels_ab", "noise", values.noise, ["none", "realsense"] as const);
  const encoding = benchChoice("kernels_ab", "encoding", values.encoding, ["32FC1", "16UC1"] as const);
  const r = runKernelsAb({ paths: positionals, encoding, frames: Number(values.frames), seed: Number(values.seed), noise, width: 640, height: 480, objects: 8 });
  if (values.json) {
    console.log(JSON.stringify(r));
    return;
  }
  for (const p of r.paths) {
    const s = p.perception_ms;
    console.log(`${p.path}: perception p50 ${s.p50.toFixed(4)} p90 ${s.p90.toFixed(4)} mean ${s.mean.toFixed(4)} ms (${p.ratio_p50.toFixed(3)}x)`);
  }
  console.log(`scenes identical ${r.scenes_identical}/${r.scenes_compared}, noise ${r.noise}, ${r.encoding}, load ${r.load_average}`);
}

if (process.argv[1] && realpathSync(process.argv[1]) === fileURLToPath(import.meta.url)) main();
