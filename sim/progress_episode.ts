import { parseRewardSpec } from "../src/reward/parse_reward_spec.js";
import { RewardTracker } from "../src/reward/reward_tracker.js";
import { drawSceneVariation, type SceneVariation } from "./scene_variation.js";
import { checkInteger, checkSeed } from "./sim_arguments.js";
import { worldAt } from "./teleop.js";
import { teleopScenario } from "./teleop_scenario.js";
import { truthScene } from "./truth.js";
import { VqaFrameRenderer } from "./vqa_frame.js";

export interface ProgressFrame {
  frame: number;
  /** Ground-truth progress in [0, 1]: the reward tracker on the true scene of this frame. */
  progress: number;
  /** Packed rgb8, the caller's to keep. */
  rgb: Uint8Array;
}

export interface ProgressEpisode {
  /** The seed the scenario was built from (teleopScenario moves past seeds with no feasible task). */
  seed: number;
  /** The seed asked for; its variation (field of view, noise, jitter) is the episode's. */
  requestedSeed: number;
  task: string;
  variation: SceneVariation;
  frames: number;
  stride: number;
  /** Every `stride`-th frame from frame 0, rendered on demand. */
  views(): Generator<ProgressFrame>;
}

const PERIOD_NS = 33_333_333n;

/**
 * One scripted teleop episode (teleopScenario: lift, carry, lower, release) labelled per frame
 * with ground-truth progress as sim/episode_eval.ts computes it: a RewardTracker for the
 * episode's instruction updated with the true scene of every frame (strided-out frames too,
 * so the baseline is frame 0 whatever the stride).
 */
export function progressEpisode(renderer: VqaFrameRenderer, seed: number, frames: number, stride: number): ProgressEpisode {
  checkSeed(seed, "progressEpisode");
  checkInteger(stride, "progressEpisode stride", 1, frames);
  const variation = drawSceneVariation(seed, renderer.ranges);
  const scenario = teleopScenario(seed, frames, renderer.cameraOptions(variation));
  const { world, camera, episode } = scenario;
  return {
    seed: scenario.seed,
    requestedSeed: seed,
    task: episode.instruction,
    variation,
    frames,
    stride,
    *views() {
      const tracker = new RewardTracker(parseRewardSpec(episode.instruction));
      const noise = VqaFrameRenderer.noiseStream(scenario.seed);
      for (let f = 0; f < frames; f++) {
        const w = worldAt(world, episode.poses[f]);
        const stamp = BigInt(f) * PERIOD_NS;
        if (f % stride !== 0) {
          tracker.update(truthScene(w, camera, stamp));
          continue;
        }
        const view = renderer.view(scenario.seed, w, camera, variation, noise, stamp);
        yield { frame: f, progress: tracker.update(view.truth).progress, rgb: view.rgb };
      }
    },
  };
}
