import { runColdFrameBench } from "./cold_frame_bench.js";
import { runPipelineBench } from "./pipeline_bench.js";
import { runRenderBench } from "./render_bench.js";
import { runStateOnlyRewardBench } from "./state_only_reward_bench.js";
import { runSimEnvBench } from "./sim_env_bench.js";

/** `npm run bench`: every benchmark, one JSON object on stdout. */
const json = process.argv.includes("--json");
const pipeline = runPipelineBench();
// The same frames with the paths interleaved frame by frame (each starts on caches the other just
// used): the figure this bench reported before it ran the paths in blocks, kept for comparison.
const interleaved = runPipelineBench({ schedule: "interleaved" });
// The rasteriser per path, same scenario, same run (bench/render_bench.ts).
const render = runRenderBench({ seed: 11, width: pipeline.width, height: pipeline.height, objects: pipeline.objects });
// Perception on frames not in the CPU's caches, as a node gets them from a driver's process.
const coldFrames = runColdFrameBench();
const stateOnly = runStateOnlyRewardBench();
const simEnv = runSimEnvBench();
const nativeP50 = pipeline.pipeline_ms_native?.p50 ?? null;
const out = {
  node: process.version,
  pipeline,
  pipeline_ms: pipeline.pipeline_ms,
  pipeline_path: pipeline.pipeline_path,
  pipeline_ms_ts: pipeline.pipeline_ms_ts,
  pipeline_ms_native: pipeline.pipeline_ms_native,
  pipeline_ms_native_2t: pipeline.pipeline_ms_native_2t,
  native_threads: pipeline.native_threads,
  native_speedup_p50: pipeline.native_speedup_p50,
  native_speedup_cpu: pipeline.native_speedup_cpu,
  scenes_identical: pipeline.scenes_identical,
  scenes_compared: pipeline.scenes_compared,
  pipeline_schedule: pipeline.schedule,
  pipeline_interleaved: {
    pipeline_ms_ts: interleaved.pipeline_ms_ts,
    pipeline_ms_native: interleaved.pipeline_ms_native,
    pipeline_ms_native_2t: interleaved.pipeline_ms_native_2t,
    native_threads: interleaved.native_threads,
    native_speedup_p50: interleaved.native_speedup_p50,
    native_speedup_cpu: interleaved.native_speedup_cpu,
    scenes_identical: interleaved.scenes_identical,
    scenes_compared: interleaved.scenes_compared,
  },
  stages: pipeline.stages,
  perception_cold_frames: coldFrames,
  render_ms: render.render_ms,
  render,
  state_only_rewards_per_s: stateOnly.rewards_per_s,
  sim_env_state_only_steps_per_s: simEnv.steps_per_s,
  goals: {
    pipeline_p50_ms_max: 2,
    pipeline_p50_met: pipeline.pipeline_ms.p50 <= 2,
    native_pipeline_p50_ms_max: 0.3,
    native_pipeline_p50_met: nativeP50 !== null && nativeP50 <= 0.3,
    native_speedup_min: 4,
    native_speedup_met: pipeline.native_speedup_p50 !== null && pipeline.native_speedup_p50 >= 4,
    state_only_rewards_per_s_min: 100_000,
    state_only_met: stateOnly.rewards_per_s >= 100_000,
  },
};
console.log(json ? JSON.stringify(out) : JSON.stringify(out, null, 2));
