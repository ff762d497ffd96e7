import { runPipelineBench } from "../../bench/pipeline_bench.js";
import { runStateOnlyRewardBench } from "../../bench/state_only_reward_bench.js";
import { runSimEnvBench } from "../../bench/sim_env_bench.js";
import { Progress } from "./progress.js";
import type { BenchOptions } from "./program.js";

/** Per-stage latency of the pipeline and state-only rates (options checked by program.ts). */
export async function run(values: BenchOptions): Promise<number> {
  const { frames } = values;
  const progress = new Progress(250, true);
  const pipeline = runPipelineBench({
    frames,
    seed: values.seed,
    noise: values.noise,
    queries: values.queries,
    onProgress: (f) => progress.update(`pipeline: frame ${f}/${frames}`),
  });
  progress.update("state-only rewards…", true);
  const stateOnly = runStateOnlyRewardBench();
  const simEnv = runSimEnvBench();
  progress.done();
  const out = {
    pipeline_ms: pipeline.pipeline_ms,
    stages: pipeline.stages,
    state_only_rewards_per_s: stateOnly.rewards_per_s,
    sim_env_state_only_steps_per_s: simEnv.steps_per_s,
    pipeline,
  };
  if (values.json) console.log(JSON.stringify(out));
  else {
    const s = pipeline.stages;
    console.log(`${pipeline.width}x${pipeline.height}, ${pipeline.objects} objects, ${pipeline.queries_per_frame} queries/frame, ${pipeline.frames_measured} frames`);
    console.log(`pipeline (lift + scene graph + queries + reward): p50 ${pipeline.pipeline_ms.p50} ms  p99 ${pipeline.pipeline_ms.p99} ms  (${pipeline.pipeline_hz_at_p50} Hz at p50)`);
    console.log(`  render ${s.render_ms.p50} ms | lift+scene ${s.lift_scene_graph_ms.p50} ms | queries ${s.queries_ms.p50} ms | reward ${s.reward_ms.p50} ms (p50)`);
    console.log(`state-only rewards: ${stateOnly.rewards_per_s.toLocaleString("en-US")} /s; SimEnv state-only: ${simEnv.steps_per_s.toLocaleString("en-US")} steps/s`);
  }
  return 0;
}
