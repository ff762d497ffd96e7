import { runColdFrameBench } from "../../bench/cold_frame_bench.js";
import { runPipelineBench } from "../../bench/pipeline_bench.js";
import { runRenderBench } from "../../bench/render_bench.js";
import { runStateOnlyRewardBench } from "../../bench/state_only_reward_bench.js";
import { runSimEnvBench } from "../../bench/sim_env_bench.js";
import { Progress } from "./progress.js";
import type { BenchOptions } from "./program.js";

/**
 * Per-stage latency of the pipeline on both perception kernel paths (TypeScript and native,
 * side by side in one run), the rasteriser per path, and state-only rates (options checked by
 * program.ts).
 */
export async function run(values: BenchOptions): Promise<number> {
  const { frames } = values;
  const progress = new Progress(250, true);
  const pipeline = runPipelineBench({
    frames,
    seed: values.seed,
    noise: values.noise,
    queries: values.queries,
    schedule: values.schedule,
    onProgress: (f) => progress.update(`pipeline: frame ${f}/${frames}`),
  });
  progress.update("render…", true);
  const render = runRenderBench({ frames, seed: values.seed, width: pipeline.width, height: pipeline.height, objects: pipeline.objects });
  progress.update("perception on cache-cold frames…", true);
  const coldFrames = runColdFrameBench({ seed: values.seed });
  progress.update("state-only rewards…", true);
  const stateOnly = runStateOnlyRewardBench();
  const simEnv = runSimEnvBench();
  progress.done();
  const out = {
    pipeline_ms: pipeline.pipeline_ms,
    pipeline_path: pipeline.pipeline_path,
    pipeline_ms_ts: pipeline.pipeline_ms_ts,
    pipeline_ms_native: pipeline.pipeline_ms_native,
    pipeline_ms_native_2t: pipeline.pipeline_ms_native_2t,
    native_speedup_p50: pipeline.native_speedup_p50,
    native_speedup_cpu: pipeline.native_speedup_cpu,
    scenes_identical: pipeline.scenes_identical,
    scenes_compared: pipeline.scenes_compared,
    pipeline_schedule: pipeline.schedule,
    render_ms: render.render_ms,
    stages: pipeline.stages,
    perception_cold_frames: coldFrames,
    state_only_rewards_per_s: stateOnly.rewards_per_s,
    sim_env_state_only_steps_per_s: simEnv.steps_per_s,
    pipeline,
    render,
  };
  if (values.json) console.log(JSON.stringify(out));
  else {
    const s = pipeline.stages;
    const ms = (x: { p50: number; p99: number } | null) => (x ? `p50 ${x.p50} ms  p99 ${x.p99} ms` : "not available");
    console.log(`${pipeline.width}x${pipeline.height}, ${pipeline.objects} objects, ${pipeline.queries_per_frame} queries/frame, ${pipeline.frames_measured} frames`);
    console.log(`pipeline (lift + scene graph + queries + reward), fastest path (${pipeline.pipeline_path}): ${ms(pipeline.pipeline_ms)}  (${pipeline.pipeline_hz_at_p50} Hz at p50)`);
    const cpu = (x: { cpu_ms_per_frame: number } | null) => (x ? `; CPU ${x.cpu_ms_per_frame} ms/frame` : "");
    console.log(`  typescript kernels: ${ms(pipeline.pipeline_ms_ts)}${cpu(pipeline.paths.typescript)}`);
    console.log(`  native kernels:     ${ms(pipeline.pipeline_ms_native)}${cpu(pipeline.paths.native)}${pipeline.perception_kernels.native ? "" : ` (${pipeline.perception_kernels.reason})`}`);
    if (pipeline.pipeline_ms_native_2t) console.log(`  native, helper thread (SPATIAL_REWARD_NATIVE_THREADS=2): ${ms(pipeline.pipeline_ms_native_2t)}${cpu(pipeline.paths.native_2t)}`);
    if (pipeline.native_speedup_p50 !== null) {
      console.log(`  native ${pipeline.native_speedup_p50}x faster at p50 (${pipeline.native_speedup_cpu}x in CPU time, paths taking turns ${pipeline.schedule === "blocks" ? "in blocks" : "frame by frame"}); scenes identical on ${pipeline.scenes_identical}/${pipeline.scenes_compared} frames`);
    }
    console.log(`  render ${s.render_ms.p50} ms | lift+scene ${s.lift_scene_graph_ms.p50} ms | queries ${s.queries_ms.p50} ms | reward ${s.reward_ms.p50} ms (p50, ${pipeline.pipeline_path})`);
    const cold = (p: { warm_ms: { p50: number }; cold_ms: { p50: number }; cold_over_warm_p50: number } | null) =>
      (p ? `warm p50 ${p.warm_ms.p50} ms, cold p50 ${p.cold_ms.p50} ms (${p.cold_over_warm_p50}x)` : "not available");
    console.log(`perception on 16UC1 frames in / out of the CPU's caches (as from a camera driver's process): typescript ${cold(coldFrames.paths.typescript)}; native ${cold(coldFrames.paths.native)}`);
    console.log(`render per path: typescript ${ms(render.render_ms.ts)}; native ${ms(render.render_ms.native)}`);
    console.log(`state-only rewards: ${stateOnly.rewards_per_s.toLocaleString("en-US")} /s; SimEnv state-only: ${simEnv.steps_per_s.toLocaleString("en-US")} steps/s`);
  }
  return 0;
}
