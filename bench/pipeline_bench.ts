import { Perception } from "../src/perception/perception.js";
import { answerQuestion } from "../src/spatial/answer_question.js";
import { generateQuestions } from "../src/spatial/question_generator.js";
import { parseRewardSpec } from "../src/reward/parse_reward_spec.js";
import { RewardTracker } from "../src/reward/reward_tracker.js";
import { LatencyStats } from "../src/diagnostics/latency_stats.js";
import { RgbdSensor, Rng, teleopScenario, worldAt, type NoiseModel } from "../sim/index.js";

export interface PipelineBenchOptions {
  frames: number;
  seed: number;
  noise: NoiseModel;
  width: number;
  height: number;
  objects: number;
  queries: number;
  onProgress?: (frame: number) => void;
}

export const DEFAULT_PIPELINE_BENCH: PipelineBenchOptions = {
  frames: 300, seed: 11, noise: "none", width: 640, height: 480, objects: 8, queries: 40,
};

/**
 * Per-stage latency of one frame of the core pipeline, in-process, one thread: render (the
 * simulator, not part of the pipeline), lift + scene graph (Perception.process), N spatial
 * queries answered from the scene (parsed from text each time), and the reward. Runs a
 * scripted pick-and-place episode so objects move and the tracker works.
 */
export function runPipelineBench(opts: Partial<PipelineBenchOptions> = {}) {
  const o = { ...DEFAULT_PIPELINE_BENCH, ...opts };
  const { world, camera, episode } = teleopScenario(o.seed, o.frames, { width: o.width, height: o.height }, { minObjects: o.objects, maxObjects: o.objects });
  const sensor = new RgbdSensor({ noise: o.noise, seed: o.seed });
  const perception = new Perception();
  const tracker = new RewardTracker(parseRewardSpec(episode.instruction));
  const first = sensor.capture(worldAt(world, episode.poses[0]), camera, 0n);
  const rng = new Rng(o.seed);
  const pool = generateQuestions(first.truth, () => rng.next(), { perType: 3 }).questions.map((q) => q.text);
  const questions = Array.from({ length: o.queries }, (_, i) => pool[i % pool.length]);

  const render = new LatencyStats(), lift = new LatencyStats(), queries = new LatencyStats(), reward = new LatencyStats(), pipeline = new LatencyStats();
  let answered = 0, okAnswers = 0;
  const warmup = Math.min(30, Math.floor(o.frames / 5));
  for (let f = 0; f < o.frames; f++) {
    const t0 = performance.now();
    const cap = sensor.capture(worldAt(world, episode.poses[f]), camera, BigInt(f) * 33_333_333n);
    delete cap.frame.detections;
    const t1 = performance.now();
    const scene = perception.process(cap.frame);
    const t2 = performance.now();
    for (const q of questions) {
      const a = answerQuestion(scene, q);
      answered++;
      if (a.status === "ok") okAnswers++;
    }
    const t3 = performance.now();
    tracker.update(scene);
    const t4 = performance.now();
    if (f >= warmup) {
      render.add(t1 - t0); lift.add(t2 - t1); queries.add(t3 - t2); reward.add(t4 - t3); pipeline.add(t4 - t1);
    }
    o.onProgress?.(f + 1);
  }
  const p = pipeline.summary();
  return {
    width: o.width,
    height: o.height,
    objects: world.objects.length,
    queries_per_frame: o.queries,
    frames_measured: p.n,
    noise: o.noise,
    pipeline_ms: p,
    pipeline_hz_at_p50: Math.round(1000 / p.p50),
    stages: {
      render_ms: render.summary(),
      lift_scene_graph_ms: lift.summary(),
      queries_ms: queries.summary(),
      reward_ms: reward.summary(),
    },
    answers_ok_fraction: Math.round((okAnswers / answered) * 1000) / 1000,
    frames_per_s_with_render: Math.round(1000 / (render.mean() + p.mean)),
  };
}
