import { Perception, RewardTracker, isSpatialRewardError, parseRewardSpec } from "spatial-reward";
import { ScriptedPolicy, SimEnv } from "spatial-reward/sim";

// A simulator loop: a scripted teleop policy acts, each camera frame goes through
// perception, and the rearrangement reward is computed from what the camera saw.
const env = new SimEnv({ render: true, noise: "realsense", maxSteps: 300 });
let obs = env.reset(42);
const policy = new ScriptedPolicy(env);
const perception = new Perception();
// Hysteresis on success: perceived boxes are noisy, so a brief occlusion must not flip it (src/reward/REWARDS.md).
const perceived = new RewardTracker(parseRewardSpec(env.task), { hysteresis: true });

let reward = perceived.update(perception.process(obs.frame!));
let skipped = 0;
for (let done = false; !done; ) {
  const step = env.step(policy.act(obs));
  obs = step.observation;
  done = step.done;
  try {
    reward = perceived.update(perception.process(obs.frame!));
  } catch (e) {
    if (!isSpatialRewardError(e)) throw e;
    skipped++; // e.g. the carried object left the view: typed error, keep the last reward
  }
}
console.log(`${env.task}: success ${reward.success}, progress ${reward.progress.toFixed(2)}, ${skipped} frames skipped`);
export const result = { task: env.task, reward, skipped };
