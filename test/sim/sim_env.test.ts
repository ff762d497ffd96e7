import { describe, expect, it } from "vitest";
import {
  RgbdSensor, ScriptedPolicy, SimEnv, Rng, generateWorld, placeCamera, teleopScenario, type NoiseModel, type SimAction, type SimEnvOptions, type SimStep,
} from "../../sim/index.js";
import { InvalidInputError, SpatialRewardError } from "../../src/errors.js";
import { parseRewardSpec } from "../../src/reward/parse_reward_spec.js";
import { RewardTracker } from "../../src/reward/reward_tracker.js";

describe("SimEnv state-only with ScriptedPolicy", () => {
  it.each([1, 2, 3, 8])("seed %i reaches success; reward = −residual; done at success; no frame", (seed) => {
    const env = new SimEnv({ render: false, maxSteps: 600 });
    let obs = env.reset(seed);
    expect(obs.frame).toBeNull();
    expect(obs.gripper.holding).toBeNull();
    const initial = env.world.objects.map((o) => ({ ...o.pose }));
    const a = env.world.objects.findIndex((o) => o.id === env.plan.object);
    expect(a).toBeGreaterThanOrEqual(0);
    const reference = new RewardTracker(parseRewardSpec(env.task));
    const policy = new ScriptedPolicy(env);
    let step: SimStep | null = null, held = false;
    const g0 = { ...obs.gripper };
    for (let k = 0; k < 600; k++) {
      const action = policy.act(obs);
      step = env.step(action);
      const g = step.observation.gripper;
      // Per-axis motion limit of 2 cm.
      expect(Math.abs(g.x - g0.x)).toBeLessThanOrEqual(0.02 + 1e-12);
      expect(Math.abs(g.y - g0.y)).toBeLessThanOrEqual(0.02 + 1e-12);
      Object.assign(g0, g);
      if (g.holding !== null) { expect(g.holding).toBe(env.plan.object); held = true; }
      expect(step.observation.frame).toBeNull();
      expect(step.reward).toBe(-step.info.result.residual);
      expect(step.reward).toBeCloseTo(reference.update(step.info.truth).reward, 12);
      expect(step.info.step).toBe(k + 1);
      expect(step.done).toBe(step.info.result.success || k + 1 >= 600);
      obs = step.observation;
      if (step.done) break;
    }
    expect(held).toBe(true);
    expect(step!.info.result.success).toBe(true);
    expect(step!.done).toBe(true);
    // Success may come while A is still being lowered onto its target (within the spec's tolerance),
    // but A is over its target then, at or above it; nothing else moved.
    const p = step!.observation.poses[a];
    expect(Math.hypot(p.x - env.plan.target.x, p.y - env.plan.target.y)).toBeLessThan(0.003);
    expect(p.z).toBeGreaterThanOrEqual(env.plan.target.z - 1e-9);
    step!.observation.poses.forEach((q, i) => { if (i !== a) expect(q).toEqual(initial[i]); });
  });

  it("throughput: state-only steps per second (reported; speed goals live in benchmarks)", () => {
    const env = new SimEnv({ render: false, maxSteps: 1e9 });
    const rng = new Rng(4);
    env.reset(5);
    const N = 20_000;
    const t0 = performance.now();
    for (let k = 0; k < N; k++) env.step({ dx: rng.uniform(-0.03, 0.03), dy: rng.uniform(-0.03, 0.03), dz: rng.uniform(-0.03, 0.03), grip: (k & 64) !== 0 });
    const sps = N / ((performance.now() - t0) / 1000);
    console.log(`SimEnv state-only: ${Math.round(sps)} steps/s over ${N} steps`);
    expect(sps).toBeGreaterThan(0);
  });

  it("clips actions to 2 cm per axis, ignores non-finite values, keeps the gripper above the table, and needs reset first", () => {
    expect(() => new SimEnv({ render: false }).step({ dx: 0, dy: 0, dz: 0, grip: false })).toThrow();
    const env = new SimEnv({ render: false });
    const o = env.reset(2);
    const g = { ...o.gripper };
    let s = env.step({ dx: 1, dy: -1, dz: NaN, grip: false });
    expect(s.observation.gripper.x).toBeCloseTo(g.x + 0.02, 12);
    expect(s.observation.gripper.y).toBeCloseTo(g.y - 0.02, 12);
    expect(s.observation.gripper.z).toBeCloseTo(g.z, 12);
    for (let k = 0; k < 40; k++) s = env.step({ dx: 0, dy: 0, dz: -1, grip: false });
    expect(s.observation.gripper.z).toBe(env.world.tableZ);
    // Gripping in empty air holds nothing.
    s = env.step({ dx: 0, dy: 0, dz: 0.02, grip: true });
    expect(s.observation.gripper.holding === null || env.world.objects.some((ob) => ob.id === s.observation.gripper.holding)).toBe(true);
  });
});

describe("SimEnv render mode", () => {
  it("observations carry an RgbdFrame of the configured size", () => {
    const env = new SimEnv({ render: true, noise: "realsense", camera: { width: 160, height: 120 } });
    const obs = env.reset(3);
    for (const f of [obs.frame, env.step({ dx: 0.01, dy: 0, dz: 0, grip: false }).observation.frame]) {
      expect(f).not.toBeNull();
      expect(f!.intrinsics.width).toBe(160);
      expect(f!.intrinsics.height).toBe(120);
      expect(f!.rgb.data.length).toBe(160 * 120 * 3);
      expect(f!.depth.encoding).toBe("32FC1");
      expect(f!.depth.data.length).toBe(160 * 120 * 4);
      expect(f!.instances!.image.data.length).toBe(160 * 120);
      expect(f!.instances!.labels.size).toBe(env.world.objects.length);
    }
    const s = env.step({ dx: 0, dy: 0, dz: 0, grip: false });
    expect(s.observation.stamp).toBe(2n * 33_333_333n);
    expect(s.observation.frame!.stamp).toBe(s.observation.stamp);
  });
});

describe("SimEnv observations are the caller's to keep", () => {
  it("a stored observation and result do not change when the env steps on", () => {
    const env = new SimEnv({ render: false, maxSteps: 100 });
    env.reset(5);
    const first = env.step({ dx: 0.01, dy: 0, dz: 0, grip: false });
    const kept = JSON.stringify({ poses: first.observation.poses, reward: first.info.result.reward, progress: first.info.result.progress });
    const policy = new ScriptedPolicy(env);
    let obs = first.observation;
    for (let i = 0; i < 60; i++) obs = env.step(policy.act(obs)).observation;
    expect(JSON.stringify({ poses: first.observation.poses, reward: first.info.result.reward, progress: first.info.result.progress })).toBe(kept);
  });
});

describe("sim entry points refuse arguments that would alias or crash", () => {
  const expectBad = (f: () => unknown, code: "bad_argument" | "bad_state", mentions?: RegExp) => {
    let caught: unknown;
    try {
      f();
    } catch (e) {
      caught = e;
    }
    expect(caught, "should throw a SpatialRewardError").toBeInstanceOf(SpatialRewardError);
    expect((caught as SpatialRewardError).code).toBe(code);
    if (code === "bad_argument") expect(caught).toBeInstanceOf(InvalidInputError);
    if (mentions) expect((caught as Error).message).toMatch(mentions);
  };
  const BAD_SEEDS: unknown[] = [NaN, 1.5, -1, -0.5, 2 ** 32, 2 ** 53, Infinity, -Infinity, "7", 7n, null, undefined];

  it("SimEnv.reset: seeds are integers in [0, 2^32); 2^32 - 1 is the last", () => {
    const env = new SimEnv({ render: false });
    for (const seed of BAD_SEEDS) expectBad(() => env.reset(seed as number), "bad_argument", /integer in \[0, 2\^32\)/);
    // Before, 1.5 and 2^32 + 1 silently gave seed 1's world.
    const one = env.reset(1).poses;
    expect(new SimEnv({ render: false }).reset(2 ** 32 - 1).poses).not.toEqual(one);
    expect(env.reset(0).poses).not.toEqual(one);
    expect(env.reset(1).poses).toEqual(one);
  });

  it("SimEnv.step before reset is bad_state; a non-object action is bad_argument", () => {
    const env = new SimEnv({ render: false });
    expectBad(() => env.step({ dx: 0, dy: 0, dz: 0, grip: false }), "bad_state", /before reset/);
    env.reset(3);
    for (const a of [null, undefined, 5, "left"]) expectBad(() => env.step(a as unknown as SimAction), "bad_argument", /action/);
    expect(env.step({ dx: 0, dy: 0, dz: 0, grip: false }).info.step).toBe(1);
  });

  it("SimEnv options are checked at construction", () => {
    for (const options of [
      { maxSteps: 0 }, { maxSteps: -1 }, { maxSteps: 1.5 }, { maxSteps: NaN },
      { noise: "gaussian" }, { render: "yes" },
      { camera: { width: 0 } }, { camera: { width: 640.5 } }, { camera: { height: 1e6 } }, { camera: { hfovDeg: 180 } }, { camera: { hfovDeg: NaN } },
      { camera: { minPitchDeg: 50, maxPitchDeg: 20 } }, { camera: { minVisibleFraction: 2 } },
    ] as Partial<SimEnvOptions>[]) {
      expectBad(() => new SimEnv(options), "bad_argument");
    }
    let caught: unknown;
    try {
      new SimEnv({ task: "all(".repeat(40) });
    } catch (e) {
      caught = e;
    }
    expect((caught as SpatialRewardError).code).toBe("bad_reward_spec");
    // No limit and an explicit undefined are fine.
    const env = new SimEnv({ render: false, maxSteps: Infinity, task: undefined, camera: { width: undefined } });
    expect(env.reset(4).poses.length).toBeGreaterThan(0);
  });

  it("teleopScenario, RgbdSensor, generateWorld and placeCamera: the same seed rules and bounded sizes", () => {
    for (const seed of BAD_SEEDS) {
      expectBad(() => teleopScenario(seed as number, 30), "bad_argument", /seed/);
      expectBad(() => new RgbdSensor({ noise: "none", seed: seed as number }), "bad_argument", /seed/);
      expectBad(() => generateWorld(seed as number), "bad_argument", /seed/);
    }
    const world = generateWorld(5);
    expectBad(() => placeCamera(world, -3), "bad_argument", /seed/);
    expectBad(() => placeCamera(world, 5, { width: -640 }), "bad_argument", /width/);
    for (const frames of [0, 19, 20.5, NaN, Infinity, 1e9]) expectBad(() => teleopScenario(5, frames), "bad_argument", /frames/);
    expectBad(() => new RgbdSensor({ noise: "kinect" as NoiseModel, seed: 1 }), "bad_argument", /noise/);
    expectBad(() => new RgbdSensor(undefined as unknown as { noise: NoiseModel; seed: number }), "bad_argument");
    // A minimum the table cannot hold used to recurse until the stack overflowed.
    expectBad(() => generateWorld(5, { minObjects: 12, maxObjects: 12, clearance: 0.3 }), "bad_argument", /holds minObjects 12/);
    expectBad(() => generateWorld(5, { minObjects: 100, maxObjects: 100 }), "bad_argument", /minObjects/);
    expectBad(() => generateWorld(5, { minObjects: 5, maxObjects: 3 }), "bad_argument", /maxObjects/);
    // The top of the seed space works and stays in it (a retry wraps instead of leaving it).
    const top = teleopScenario(2 ** 32 - 1, 20);
    expect(top.seed).toBeGreaterThanOrEqual(0);
    expect(top.seed).toBeLessThan(2 ** 32);
    expect(() => new RgbdSensor({ noise: "realsense", seed: top.seed })).not.toThrow();
  });
});
