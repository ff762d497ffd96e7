import { Perception } from "../src/perception/perception.js";
import { parseRewardSpec } from "../src/reward/parse_reward_spec.js";
import { RewardTracker } from "../src/reward/reward_tracker.js";
import type { RewardResult } from "../src/reward/reward_spec.js";
import { flipAgreement, successFlips, type FlipAgreement, type SuccessFlip } from "../src/reward/success_flips.js";
import { isSpatialRewardError } from "../src/errors.js";
import { RgbdSensor } from "./rgbd_sensor.js";
import type { SceneOptions } from "./scene_generator.js";
import type { NoiseModel } from "./sensor_noise.js";
import { worldAt, type PlaceMode } from "./teleop.js";
import { teleopScenario } from "./teleop_scenario.js";
import { truthScene } from "./truth.js";

export interface EpisodeEvalOptions {
  seed: number;
  frames: number;
  noise: NoiseModel;
  width?: number;
  height?: number;
  hfovDeg?: number;
  /** What perception is given: instance masks (the default) or 2D detection boxes. */
  masks?: "gt" | "detections";
  /** Scene options (stacking, clutter) for the world the episode runs in; the original draw by default. */
  scene?: Partial<SceneOptions>;
  /** Only tasks of this placement ("on_top_of": put A on B); either by default. */
  mode?: PlaceMode;
  /**
   * The success hysteresis on the perceived reward (RewardTrackerOptions.hysteresis), as the
   * reward node publishes perceived rewards; default true. The true reward never has it.
   */
  hysteresis?: boolean;
}

export interface EpisodeEvalResult {
  seed: number;
  instruction: string;
  /** The task's placement: next to B, or on top of B. */
  mode: PlaceMode;
  spec: string;
  frames: number;
  /**
   * Spearman rank correlation of the perceived dense reward with ground-truth progress,
   * progress_t = 1 − residual_t / max residual over the episode, from the true poses (a
   * monotone map of the true residual, so the true reward ranks the same way).
   */
  spearman: number;
  /** First frame with success, perceived and true (−1: never). */
  successFrame: number;
  trueSuccessFrame: number;
  /**
   * Every change of success, perceived (a refused frame holds the last) and true: a success
   * that flickers shows here, where the first success frame hides it.
   */
  successFlips: { perceived: SuccessFlip[]; truth: SuccessFlip[] };
  /** The perceived changes against the true ones (within one frame, spurious, largest lag). */
  flips: FlipAgreement;
  finalProgress: number;
  /** The perceived dense reward per frame (a frame without one keeps the previous). */
  rewards: number[];
  /** Frames perception or the reward could not process (counted by error code). */
  errors: Record<string, number>;
}

/** Ranks with ties averaged (Spearman's convention). */
function ranks(xs: readonly number[]): number[] {
  const idx = xs.map((_, i) => i).sort((a, b) => xs[a] - xs[b]);
  const r = new Array<number>(xs.length);
  for (let i = 0; i < idx.length; ) {
    let j = i;
    while (j + 1 < idx.length && xs[idx[j + 1]] === xs[idx[i]]) j++;
    for (let k = i; k <= j; k++) r[idx[k]] = (i + j) / 2;
    i = j + 1;
  }
  return r;
}

export function spearman(a: readonly number[], b: readonly number[]): number {
  const ra = ranks(a), rb = ranks(b);
  const n = a.length;
  const ma = ra.reduce((s, x) => s + x, 0) / n, mb = rb.reduce((s, x) => s + x, 0) / n;
  let num = 0, da = 0, db = 0;
  for (let i = 0; i < n; i++) {
    num += (ra[i] - ma) * (rb[i] - mb);
    da += (ra[i] - ma) ** 2;
    db += (rb[i] - mb) ** 2;
  }
  return da === 0 || db === 0 ? 0 : num / Math.sqrt(da * db);
}

/**
 * Runs one scripted teleop episode through the renderer and perception and compares the
 * perceived reward (with the success hysteresis unless `hysteresis: false`) with the reward of
 * the ground-truth scene under the same spec, including every change of success.
 */
export function evaluateEpisode(o: EpisodeEvalOptions): EpisodeEvalResult {
  const { world, camera, episode } = teleopScenario(o.seed, o.frames, { width: o.width, height: o.height, hfovDeg: o.hfovDeg }, o.scene, o.mode);
  const spec = parseRewardSpec(episode.instruction);
  const est = new RewardTracker(spec, { hysteresis: o.hysteresis ?? true });
  const tru = new RewardTracker(spec);
  const perception = new Perception();
  const sensor = new RgbdSensor({ noise: o.noise, seed: o.seed });
  const rewards: number[] = [];
  const perceivedSuccess: (boolean | null)[] = [];
  const trueSuccess: boolean[] = [];
  const progress: number[] = []; // −true residual: ranks exactly as ground-truth progress
  let successFrame = -1, trueSuccessFrame = -1, finalProgress = 0;
  const errors: Record<string, number> = {};
  const periodNs = 33_333_333n;
  for (let f = 0; f < o.frames; f++) {
    const w = worldAt(world, episode.poses[f]);
    const stamp = BigInt(f) * periodNs;
    const truth = truthScene(w, camera, stamp);
    const t: RewardResult = tru.update(truth);
    trueSuccess.push(t.success);
    if (t.success && trueSuccessFrame < 0) trueSuccessFrame = f;
    let r: RewardResult | null = null;
    try {
      const cap = sensor.capture(w, camera, stamp);
      if (o.masks === "detections") delete cap.frame.instances;
      else delete cap.frame.detections;
      r = est.update(perception.process(cap.frame));
    } catch (e) {
      if (!isSpatialRewardError(e)) throw e;
      errors[e.code] = (errors[e.code] ?? 0) + 1;
    }
    // A frame without a reward keeps the previous one (what a controller would hold).
    rewards.push(r ? r.reward : rewards.length ? rewards[rewards.length - 1] : -Infinity);
    progress.push(-t.residual);
    perceivedSuccess.push(r ? r.success : null);
    if (r) {
      finalProgress = r.progress;
      if (r.success && successFrame < 0) successFrame = f;
    }
  }
  return {
    seed: o.seed,
    instruction: episode.instruction,
    mode: episode.task.mode,
    spec: est.termLabels.join(" & "),
    frames: o.frames,
    spearman: spearman(rewards, progress),
    successFrame,
    trueSuccessFrame,
    successFlips: { perceived: successFlips(perceivedSuccess), truth: successFlips(trueSuccess) },
    flips: flipAgreement(perceivedSuccess, trueSuccess),
    finalProgress,
    rewards,
    errors,
  };
}
