import { Perception } from "../src/perception/perception.js";
import { createTsPerceptionKernels, type PerceptionKernelsFactory } from "../src/perception/perception_kernels.js";
import type { Scene } from "../src/scene/scene_object.js";
import type { RgbdFrame } from "../src/perception/rgbd_frame.js";
import { answerQuestion } from "../src/spatial/answer_question.js";
import { generateQuestions } from "../src/spatial/question_generator.js";
import { parseRewardSpec } from "../src/reward/parse_reward_spec.js";
import { RewardTracker } from "../src/reward/reward_tracker.js";
import { LatencyStats, type LatencySummary } from "../src/diagnostics/latency_stats.js";
import { nativeHelperThread, nativePerceptionKernels, nativePerceptionStatus, type NativeHelperState } from "../nodes/perception/native_perception_kernels.js";
import { nativeKernelsStatus, nativeThreads } from "../nodes/native/kernels_addon.js";
import { RgbdSensor, Rng, teleopScenario, worldAt, type NoiseModel } from "../sim/index.js";

export interface PipelineBenchOptions {
  frames: number;
  seed: number;
  noise: NoiseModel;
  width: number;
  height: number;
  objects: number;
  queries: number;
  /** Ground-truth instance masks (the default) or detector boxes. */
  masks: "gt" | "detections";
  /** Which perception kernels run: both side by side (the default; native only where built), or one. */
  paths: "both" | "ts" | "native";
  /**
   * How the two paths take turns. "blocks" (the default): `blockFrames` frames of one path, then
   * the same frames on the other, the first path alternating block by block; each path renders
   * its frame right before processing it (its own sensor, same seed: the same frames), as a node
   * runs one path on frames it has just received. "interleaved": each frame rendered once and
   * processed by both paths one after the other, so each path starts its frame on caches the
   * other path has just used (it reads ~0.15-0.2 ms slower native p50 on this host).
   */
  schedule: "blocks" | "interleaved";
  blockFrames: number;
  /** Also run "native_2t" where the native path runs on one thread (the default) and a helper can. */
  nativeTwoThreads: boolean;
  onProgress?: (frame: number) => void;
  /** Called after each frame a path processes (tests check the schedule with it). */
  onPathFrame?: (path: PathName, frame: number) => void;
}

export const DEFAULT_PIPELINE_BENCH: PipelineBenchOptions = {
  frames: 300, seed: 11, noise: "none", width: 640, height: 480, objects: 8, queries: 40, masks: "gt", paths: "both",
  schedule: "blocks", blockFrames: 30, nativeTwoThreads: true,
};

/** One perception path's per-stage latency (ms) over the measured frames. */
export interface PipelinePathFigures {
  /** lift + scene graph + queries + reward. */
  pipeline_ms: LatencySummary;
  pipeline_hz_at_p50: number;
  stages: { lift_scene_graph_ms: LatencySummary; queries_ms: LatencySummary; reward_ms: LatencySummary };
  answers_ok_fraction: number;
  /**
   * Process CPU time (user + system, every thread: GC and compiler threads too) per frame of
   * this path, ms: less sensitive than wall time to a loaded host preempting the longer path.
   */
  cpu_ms_per_frame: number;
}

/**
 * "native_2t": the native kernels with the addon's helper thread (threads 2, asked for with
 * SPATIAL_REWARD_NATIVE_THREADS=2), run beside "native" when that runs on the calling thread alone
 * (the default) and the process may use two CPUs, so both are measured on the same frames.
 */
type PathName = "typescript" | "native" | "native_2t";

interface PathRun {
  name: PathName;
  perception: Perception;
  tracker: RewardTracker;
  lift: LatencyStats;
  queries: LatencyStats;
  reward: LatencyStats;
  pipeline: LatencyStats;
  answered: number;
  ok: number;
  cpuUs: number;
  scene: Scene | null;
  /** Blocks: this path's own sensor, and its scenes of the current block as text. */
  sensor: RgbdSensor;
  sceneTexts: string[];
}

/**
 * Per-stage latency of one frame of the core pipeline, in-process, one thread: render (the
 * simulator, not part of the pipeline), lift + scene graph (Perception.process), N spatial
 * queries answered from the scene (parsed from text each time), and the reward. Runs a
 * scripted pick-and-place episode so objects move and the tracker works.
 *
 * Both perception kernel paths run in the same process on the same frames (the TypeScript one
 * and the native one where the addon has the perception kernels), each with its own Perception
 * and RewardTracker, taking turns as `schedule` says: by default in blocks of frames (a node
 * runs one path, so each path's frames follow each other as they would there; the blocks
 * alternate, so load drift hits both), or frame by frame. Their scenes are compared frame by
 * frame. `pipeline_ms` is the fastest available path's figure.
 */
export function runPipelineBench(opts: Partial<PipelineBenchOptions> = {}) {
  const o = { ...DEFAULT_PIPELINE_BENCH, ...opts };
  const { world, camera, episode } = teleopScenario(o.seed, o.frames, { width: o.width, height: o.height }, { minObjects: o.objects, maxObjects: o.objects });
  if (o.schedule !== "blocks" && o.schedule !== "interleaved") throw new Error(`pipeline bench: schedule must be "blocks" or "interleaved", got ${String(o.schedule)}`);
  if (!Number.isInteger(o.blockFrames) || o.blockFrames < 1) throw new Error(`pipeline bench: blockFrames must be a positive integer, got ${o.blockFrames}`);
  const native = o.paths === "ts" ? null : nativePerceptionKernels();
  if (o.paths === "native" && !native) throw new Error(`pipeline bench: the native perception kernels are not available (${nativeKernelsStatus().reason ?? "the addon lacks them"})`);
  const factories: [PathName, PerceptionKernelsFactory][] = [];
  if (o.paths !== "native") factories.push(["typescript", createTsPerceptionKernels]);
  if (native) factories.push(["native", native]);
  const threads = native ? nativeThreads() : 1;
  if (native && threads === 1 && o.nativeTwoThreads && nativeHelperThread()?.available) factories.push(["native_2t", nativePerceptionKernels({ threads: 2 })!]);
  const helperBefore = native ? nativeHelperThread() : null;
  const paths: PathRun[] = factories.map(([name, kernels]) => ({
    name, perception: new Perception({ kernels }), tracker: new RewardTracker(parseRewardSpec(episode.instruction)),
    lift: new LatencyStats(), queries: new LatencyStats(), reward: new LatencyStats(), pipeline: new LatencyStats(), answered: 0, ok: 0, cpuUs: 0, scene: null,
    sensor: new RgbdSensor({ noise: o.noise, seed: o.seed }), sceneTexts: [],
  }));
  // Every sensor takes the same captures in the same order (the noise draws follow them).
  const sensor = paths[0].sensor;
  const first = sensor.capture(worldAt(world, episode.poses[0]), camera, 0n);
  for (const p of paths.slice(1)) p.sensor.capture(worldAt(world, episode.poses[0]), camera, 0n);
  const rng = new Rng(o.seed);
  const pool = generateQuestions(first.truth, () => rng.next(), { perType: 3 }).questions.map((q) => q.text);
  const questions = Array.from({ length: o.queries }, (_, i) => pool[i % pool.length]);

  const render = new LatencyStats();
  let compared = 0, identical = 0;
  const warmup = Math.min(30, Math.floor(o.frames / 5));
  const capture = (p: PathRun, f: number) => {
    const t0 = performance.now();
    const cap = p.sensor.capture(worldAt(world, episode.poses[f]), camera, BigInt(f) * 33_333_333n);
    if (o.masks === "detections") delete cap.frame.instances;
    else delete cap.frame.detections;
    if (f >= warmup && p === paths[0]) render.add(performance.now() - t0);
    return cap.frame;
  };
  const step = (p: PathRun, frame: RgbdFrame, f: number) => {
    const cpu = process.cpuUsage();
    const a = performance.now();
    const scene = p.perception.process(frame);
    const b = performance.now();
    for (const q of questions) {
      const answer = answerQuestion(scene, q);
      p.answered++;
      if (answer.status === "ok") p.ok++;
    }
    const c = performance.now();
    p.tracker.update(scene);
    const d = performance.now();
    const used = process.cpuUsage(cpu);
    p.scene = scene;
    if (f >= warmup) {
      p.lift.add(b - a); p.queries.add(c - b); p.reward.add(d - c); p.pipeline.add(d - a);
      p.cpuUs += used.user + used.system;
    }
    o.onPathFrame?.(p.name, f);
  };
  if (o.schedule === "interleaved") {
    for (let f = 0; f < o.frames; f++) {
      const frame = capture(paths[0], f);
      for (let k = 0; k < paths.length; k++) step(paths[(f + k) % paths.length], frame, f);
      if (paths.length >= 2) {
        compared++;
        const first = sceneJson(paths[0].scene!);
        if (paths.every((p) => sceneJson(p.scene!) === first)) identical++;
      }
      o.onProgress?.(f + 1);
    }
  } else {
    for (let b0 = 0, block = 0; b0 < o.frames; b0 += o.blockFrames, block++) {
      const b1 = Math.min(o.frames, b0 + o.blockFrames);
      for (let k = 0; k < paths.length; k++) {
        const p = paths[(block + k) % paths.length];
        for (let f = b0; f < b1; f++) {
          step(p, capture(p, f), f);
          // Outside the timed span; a path's scene object may be reused by its next frame.
          if (paths.length >= 2) p.sceneTexts[f - b0] = sceneJson(p.scene!);
        }
      }
      if (paths.length >= 2) {
        for (let f = b0; f < b1; f++) {
          compared++;
          if (paths.every((p) => p.sceneTexts[f - b0] === paths[0].sceneTexts[f - b0])) identical++;
        }
      }
      o.onProgress?.(b1);
    }
  }

  const figures = (p: PathRun): PipelinePathFigures => {
    const s = p.pipeline.summary();
    return {
      pipeline_ms: s,
      pipeline_hz_at_p50: Math.round(1000 / s.p50),
      stages: { lift_scene_graph_ms: p.lift.summary(), queries_ms: p.queries.summary(), reward_ms: p.reward.summary() },
      answers_ok_fraction: Math.round((p.ok / p.answered) * 1000) / 1000,
      cpu_ms_per_frame: round(p.cpuUs / 1000 / Math.max(1, s.n), 3),
    };
  };
  const byName = new Map(paths.map((p) => [p.name, figures(p)]));
  const ts = byName.get("typescript") ?? null, nat = byName.get("native") ?? null, nat2 = byName.get("native_2t") ?? null;
  const helperAfter = native ? nativeHelperThread() : null;
  const ranked = [...byName.entries()].sort((a, b) => a[1].pipeline_ms.p50 - b[1].pipeline_ms.p50);
  const fastest: PathName = ranked[0][0];
  const best = ranked[0][1];
  const renderSummary = render.summary();
  const status = nativePerceptionStatus();
  return {
    width: o.width,
    height: o.height,
    objects: world.objects.length,
    queries_per_frame: o.queries,
    frames_measured: best.pipeline_ms.n,
    schedule: o.schedule,
    /** Frames per block (the "blocks" schedule), else null. */
    block_frames: o.schedule === "blocks" ? o.blockFrames : null,
    noise: o.noise,
    masks: o.masks,
    /** The fastest available path's pipeline latency, and which path that is. */
    pipeline_ms: best.pipeline_ms,
    pipeline_path: fastest,
    pipeline_hz_at_p50: best.pipeline_hz_at_p50,
    pipeline_ms_ts: ts?.pipeline_ms ?? null,
    pipeline_ms_native: nat?.pipeline_ms ?? null,
    /** The native kernels with the helper thread (null where the native path has it already, or no helper can run). */
    pipeline_ms_native_2t: nat2?.pipeline_ms ?? null,
    /** Threads the native path's measureObjects may use, and what the addon's helper thread did over the run (native_2t's calls where it ran). */
    native_threads: nat ? { threads, helper: helperDelta(helperBefore, helperAfter) } : null,
    /** TypeScript p50 / native p50 (and p99), measured side by side on the same frames. */
    native_speedup_p50: ts && nat ? round(ts.pipeline_ms.p50 / nat.pipeline_ms.p50, 2) : null,
    native_speedup_p99: ts && nat ? round(ts.pipeline_ms.p99 / nat.pipeline_ms.p99, 2) : null,
    /** The same ratio of CPU time per frame (see PipelinePathFigures.cpu_ms_per_frame). */
    native_speedup_cpu: ts && nat ? round(ts.cpu_ms_per_frame / nat.cpu_ms_per_frame, 2) : null,
    /** Frames whose scenes (every id, kind, colour, box, count) were identical on every path. */
    scenes_compared: compared,
    scenes_identical: compared > 0 ? identical : null,
    perception_kernels: {
      native: nat !== null,
      exact_math: status.exactMath,
      ...(nat ? {} : { reason: o.paths === "ts" ? "--paths ts" : nativeKernelsStatus().reason ?? "the addon lacks the perception kernels" }),
    },
    stages: { render_ms: renderSummary, ...best.stages },
    paths: { typescript: ts, native: nat, native_2t: nat2 },
    answers_ok_fraction: best.answers_ok_fraction,
    frames_per_s_with_render: Math.round(1000 / (renderSummary.mean + best.pipeline_ms.mean)),
  };
}

/**
 * The helper thread over the run (all warm-up frames too): calls shared with it, calls it took
 * part in, FUTEX_WAKEs callers paid for (after their work, to re-arm it), its timed wake-ups ahead
 * of a call, how late they ended, those too late for the call, spins that found no call, and its
 * time spent spinning.
 */
function helperDelta(before: NativeHelperState | null, after: NativeHelperState | null) {
  if (!before || !after) return null;
  const d = (k: keyof NativeHelperState) => Number(after[k]) - Number(before[k]);
  return {
    running: after.running, calls: d("jobs"), calls_helped: d("jobsHelped"), caller_wakes: d("callerWakes"),
    timed_wakes: d("timedWakes"), timed_wake_late_us_mean: d("timedWakes") > 0 ? round((d("lateMs") / d("timedWakes")) * 1000, 1) : null,
    late_wakes: d("lateWakes"), empty_spins: d("emptySpins"), spin_ms: round(d("spinMs"), 1),
  };
}

function round(x: number, digits: number): number {
  return Math.round(x * 10 ** digits) / 10 ** digits;
}

/** A scene as comparable text (stamps are bigint). */
function sceneJson(s: Scene): string {
  return JSON.stringify(s, (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v));
}
