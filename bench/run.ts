import { runPipelineBench } from "./pipeline_bench.js";
import { runStateOnlyRewardBench } from "./state_only_reward_bench.js";
import { runSimEnvBench } from "./sim_env_bench.js";

/** `npm run bench`: every benchmark, one JSON object on stdout. */
const json = process.argv.includes("--json");
const pipeline = runPipelineBench();
const stateOnly = runStateOnlyRewardBench();
const simEnv = runSimEnvBench();
const out = {
  node: process.version,
  pipeline,
  pipeline_ms: pipeline.pipeline_ms,
  stages: pipeline.stages,
  state_only_rewards_per_s: stateOnly.rewards_per_s,
  sim_env_state_only_steps_per_s: simEnv.steps_per_s,
  goals: {
    pipeline_p50_ms_max: 2,
    pipeline_p50_met: pipeline.pipeline_ms.p50 <= 2,
    state_only_rewards_per_s_min: 100_000,
    state_only_met: stateOnly.rewards_per_s >= 100_000,
  },
};
console.log(json ? JSON.stringify(out) : JSON.stringify(out, null, 2));
