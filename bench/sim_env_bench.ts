import { SimEnv, type SimAction } from "../sim/index.js";

/** SimEnv steps per second in state-only mode (poses + truth scene + reward, no rendering). */
export function runSimEnvBench(steps = 100_000): { steps_per_s: number; steps: number } {
  const env = new SimEnv({ render: false, maxSteps: Number.MAX_SAFE_INTEGER });
  env.reset(3);
  const act: SimAction = { dx: 0, dy: 0, dz: 0, grip: false };
  const run = (n: number) => {
    for (let i = 0; i < n; i++) {
      act.dx = i % 200 < 100 ? 0.001 : -0.001;
      env.step(act);
    }
  };
  run(20_000);
  const t0 = process.hrtime.bigint();
  run(steps);
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  return { steps_per_s: Math.round(steps / seconds), steps };
}
