import { PoseSceneBuilder, type ObjectPose } from "../src/reward/scene_from_poses.js";
import { parseRewardSpec } from "../src/reward/parse_reward_spec.js";
import { RewardTracker } from "../src/reward/reward_tracker.js";
import type { RewardResult } from "../src/reward/reward_spec.js";

/**
 * State-only rewards: poses in, reward out, as a simulator loop or a mocap stream calls it.
 * Eight objects; object A moves a little every step (so nothing is constant-folded) along a
 * pick-and-place path; the spec combines near and lift.
 */
export function runStateOnlyRewardBench(steps = 400_000): { rewards_per_s: number; steps: number; final_progress: number } {
  const kinds = ["mug", "bowl", "apple", "can", "box", "book", "bottle", "plate"];
  const colors = ["red", "blue", "green", "yellow", "white", "black", "orange", "purple"];
  const poses: ObjectPose[] = kinds.map((kind, i) => ({
    id: `${kind}#1`,
    kind,
    color: colors[i],
    position: { x: 0.8 + 0.1 * (i % 4), y: -0.3 + 0.2 * Math.floor(i / 4) + 0.05 * i, z: -0.7 },
    size: { x: 0.08, y: 0.08, z: 0.1 },
  }));
  const tracker = new RewardTracker(parseRewardSpec("all(near(red mug, blue bowl, 0.05), lift(apple, 0.05))"));
  const builder = new PoseSceneBuilder();
  const out: RewardResult = { stamp: 0n, reward: 0, progress: 0, success: false, residual: 0 };
  const a = poses[0].position;
  const start = { ...a };
  const goal = { x: poses[1].position.x, y: poses[1].position.y + 0.1, z: a.z };
  const run = (n: number) => {
    for (let i = 0; i < n; i++) {
      const s = (i % 1000) / 999;
      a.x = start.x + (goal.x - start.x) * s;
      a.y = start.y + (goal.y - start.y) * s;
      tracker.updateInto(builder.build(poses, BigInt(i), -0.75), out);
    }
  };
  run(20_000); // warm-up: let the JIT settle
  tracker.reset();
  const t0 = process.hrtime.bigint();
  run(steps);
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  return { rewards_per_s: Math.round(steps / seconds), steps, final_progress: out.progress };
}
