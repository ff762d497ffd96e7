import { pathToFileURL } from "node:url";
import { Perception, type PerceptionOptions } from "../src/perception/perception.js";
import type { Detection2D, RgbdFrame } from "../src/perception/rgbd_frame.js";
import type { Scene } from "../src/scene/scene_object.js";
import { generateWorld, placeCamera, RgbdSensor, teleopScenario, worldAt } from "../sim/index.js";

/**
 * Cost of hostile detection frames: N full-frame boxes in one Detection2DArray (the stall in
 * issue 7: ~100 ms per box), against a normal detections frame. Measured for this build with
 * its default budget (the frame is refused as detection_budget), with the budget lifted (the
 * segmentation itself, now linear in the boxes' area), and optionally for another build's
 * Perception (`--baseline <dist dir>`, e.g. a worktree of the previous commit) in the same run.
 *
 *   node dist/bench/perception_hostile_bench.js [--boxes 200] [--reps 5] [--baseline /tmp/base/dist]
 *
 * With a baseline it also runs the pipeline bench's episode (640x480, 8 objects, masks, 300
 * frames) through both builds frame by frame, alternating which goes first, so the lift cost
 * of a normal stream is compared side by side in one process (`episode_lift_ms`).
 *
 * Prints one JSON object.
 */
interface PerceptionLike {
  process(frame: RgbdFrame): Scene;
}
type PerceptionCtor = new (options?: Partial<PerceptionOptions>) => PerceptionLike;

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback;
}

/** Milliseconds per frame (median over reps; each rep on a fresh Perception after one warm-up frame). */
function timeFrames(make: () => PerceptionLike, warm: RgbdFrame, frame: RgbdFrame, reps: number): { ms_median: number; ms_min: number; outcome: string } {
  const times: number[] = [];
  let outcome = "";
  for (let r = 0; r < reps; r++) {
    const p = make();
    p.process(warm);
    const t0 = performance.now();
    try {
      outcome = `${p.process(frame).objects.length} objects`;
    } catch (e) {
      outcome = (e as { code?: string }).code ?? String(e);
    }
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  const round = (x: number) => Math.round(x * 1000) / 1000;
  return { ms_median: round(times[times.length >> 1]), ms_min: round(times[0]), outcome };
}

/** Per-frame Perception.process time of each build on the same rendered frames, interleaved. */
function episodeLift(builds: Record<string, () => PerceptionLike>, frames: number): Record<string, { p50: number; p90: number; mean: number; errors: number }> {
  const { world, camera, episode } = teleopScenario(11, frames, { width: 640, height: 480 }, { minObjects: 8, maxObjects: 8 });
  const sensor = new RgbdSensor({ noise: "none", seed: 11 });
  const names = Object.keys(builds);
  const perceptions = names.map((n) => builds[n]());
  const times: number[][] = names.map(() => []);
  const errors = names.map(() => 0);
  const warmup = Math.min(30, Math.floor(frames / 5));
  for (let f = 0; f < frames; f++) {
    const cap = sensor.capture(worldAt(world, episode.poses[f]), camera, BigInt(f) * 33_333_333n);
    const frame: RgbdFrame = { ...cap.frame, detections: undefined };
    for (let k = 0; k < names.length; k++) {
      const i = (k + f) % names.length;
      const t0 = performance.now();
      try {
        perceptions[i].process(frame);
      } catch {
        errors[i]++;
      }
      if (f >= warmup) times[i].push(performance.now() - t0);
    }
  }
  const round = (x: number) => Math.round(x * 1000) / 1000;
  return Object.fromEntries(names.map((n, i) => {
    const t = times[i].sort((a, b) => a - b);
    return [n, { p50: round(t[t.length >> 1]), p90: round(t[Math.floor(t.length * 0.9)]), mean: round(t.reduce((a, b) => a + b, 0) / t.length), errors: errors[i] }];
  }));
}

async function main(): Promise<void> {
  const boxes = Number(arg("boxes", "200"));
  const reps = Number(arg("reps", "5"));
  const baselineDir = arg("baseline", "");
  const baselineReps = Number(arg("baseline-reps", "1"));
  const seed = 21;
  const world = generateWorld(seed);
  const { camera } = placeCamera(world, seed, { width: 640, height: 480 });
  const cap = new RgbdSensor({ noise: "none", seed }).capture(world, camera, 1_000_000_000n);
  const { width, height } = camera.intrinsics;
  const normal: RgbdFrame = { ...cap.frame, instances: undefined };
  const warm: RgbdFrame = { ...normal, stamp: normal.stamp - 33_333_333n };
  const full: Detection2D[] = Array.from({ length: boxes }, () => ({ kind: "box", score: 0.9, cx: width / 2, cy: height / 2, width, height }));
  const hostile: RgbdFrame = { ...normal, detections: full };
  const lifted: Partial<PerceptionOptions> = { maxDetections: 65535, maxDetectionArea: Infinity };

  const out: Record<string, unknown> = {
    node: process.version,
    image: `${width}x${height}`,
    full_frame_boxes: boxes,
    normal_detections: normal.detections!.length,
    this_build: {
      normal_frame: timeFrames(() => new Perception(), warm, normal, reps),
      hostile_default_budget: timeFrames(() => new Perception(), warm, hostile, reps),
      hostile_budget_lifted: timeFrames(() => new Perception(lifted), warm, hostile, reps),
    },
  };
  if (baselineDir) {
    const mod = (await import(pathToFileURL(`${baselineDir}/src/perception/perception.js`).href)) as { Perception: PerceptionCtor };
    out.baseline = {
      dir: baselineDir,
      normal_frame: timeFrames(() => new mod.Perception(), warm, normal, reps),
      hostile: timeFrames(() => new mod.Perception(), warm, hostile, baselineReps),
    };
    out.episode_lift_ms = episodeLift({ this_build: () => new Perception(), baseline: () => new mod.Perception() }, Number(arg("frames", "300")));
  }
  console.log(JSON.stringify(out));
}

await main();
