import type { RgbdFrame } from "../src/perception/rgbd_frame.js";
import type { Scene } from "../src/scene/scene_object.js";
import type { RewardResult } from "../src/reward/reward_spec.js";
import { parseRewardSpec } from "../src/reward/parse_reward_spec.js";
import { RewardTracker } from "../src/reward/reward_tracker.js";
import type { Camera } from "./camera.js";
import { cameraOptions, type CameraOptions } from "./camera_placement.js";
import { InvalidInputError, SpatialRewardError } from "../src/errors.js";
import { checkInteger, checkNoise, checkSeed } from "./sim_arguments.js";
import { RgbdSensor } from "./rgbd_sensor.js";
import type { NoiseModel } from "./sensor_noise.js";
import { primitiveHeight, supportWorld, type Pose } from "./shapes.js";
import { teleopScenario } from "./teleop_scenario.js";
import { truthScene } from "./truth.js";
import type { World } from "./world.js";

export interface SimEnvOptions {
  /** false: state-only (poses and truth, no images) for fast loops. */
  render: boolean;
  noise: NoiseModel;
  camera: Partial<CameraOptions>;
  /** Steps before `done` without success: an integer ≥ 1, or Infinity for no limit. */
  maxSteps: number;
  /** Task (expression or instruction); default: the seed's scripted pick-and-place task. */
  task?: string;
}

/** Gripper command: a displacement (metres, world frame, clipped to 2 cm per axis) and grip. */
export interface SimAction {
  dx: number;
  dy: number;
  dz: number;
  grip: boolean;
}

export interface SimObservation {
  stamp: bigint;
  gripper: { x: number; y: number; z: number; holding: string | null };
  /** World poses of all objects, in world.objects order. */
  poses: readonly Pose[];
  /** The camera frame (render mode only); buffers are reused by the next step. */
  frame: RgbdFrame | null;
}

export interface SimStep {
  observation: SimObservation;
  reward: number;
  done: boolean;
  info: { truth: Scene; result: RewardResult; task: string; step: number };
}

const MAX_STEP = 0.02;
const GRASP_DISTANCE = 0.03;
const PERIOD_NS = 33_333_333n;

/**
 * A Gym-style environment over the tabletop simulator: reset(seed) → observation,
 * step(action) → {observation, reward, done, info}. The reward is the rearrangement
 * reward of the ground-truth scene (privileged, as simulators give it); run Perception on
 * `observation.frame` to train on perceived rewards instead. State-only mode renders
 * nothing and takes microseconds per step.
 */
export class SimEnv {
  readonly options: SimEnvOptions;
  world!: World;
  camera!: Camera;
  task = "";
  /** The seed's pick-and-place plan: which object to move and where it belongs. */
  plan: { object: string; target: Pose } = { object: "", target: { x: 0, y: 0, z: 0, yaw: 0 } };
  private sensor: RgbdSensor | null = null;
  private tracker!: RewardTracker;
  private gripper = { x: 0, y: 0, z: 0, holding: -1 };
  private steps = 0;

  /** Options are checked here, so a bad one fails at construction, not at the first reset. */
  constructor(options: Partial<SimEnvOptions> = {}) {
    const given = Object.fromEntries(Object.entries(options ?? {}).filter(([, v]) => v !== undefined));
    const o: SimEnvOptions = { render: true, noise: "none", camera: {}, maxSteps: 500, ...given };
    if (typeof o.render !== "boolean") throw new InvalidInputError("bad_argument", `SimEnv: render must be true or false, got ${String(o.render)}`);
    checkNoise(o.noise, "SimEnv");
    if (o.maxSteps !== Infinity) checkInteger(o.maxSteps, "SimEnv maxSteps (or Infinity)", 1, Number.MAX_SAFE_INTEGER);
    cameraOptions(o.camera);
    // The task is parsed at every reset; a spec that cannot parse is refused now (RewardSpecError).
    if (o.task !== undefined) parseRewardSpec(o.task);
    this.options = o;
  }

  /** Seeds are integers in [0, 2^32): the simulator's generators are 32-bit, larger ones would alias. */
  reset(seed: number): SimObservation {
    checkSeed(seed, "SimEnv.reset");
    const scenario = teleopScenario(seed, 20, this.options.camera);
    // Work on a private copy: steps move objects.
    this.world = { ...scenario.world, objects: scenario.world.objects.map((o) => ({ ...o, pose: { ...o.pose } })) };
    this.camera = scenario.camera;
    this.task = this.options.task ?? scenario.episode.instruction;
    const last = scenario.episode.poses[scenario.episode.poses.length - 1];
    this.plan = { object: scenario.episode.task.a, target: { ...last[scenario.episode.aIndex] } };
    this.tracker = new RewardTracker(parseRewardSpec(this.task));
    this.sensor = this.options.render ? new RgbdSensor({ noise: this.options.noise, seed }) : null;
    const table = this.world.tableZ;
    this.gripper = { x: 0, y: 0, z: table + 0.3, holding: -1 };
    this.steps = 0;
    return this.observe().observation;
  }

  step(action: SimAction): SimStep {
    if (!this.world) throw new SpatialRewardError("bad_state", "SimEnv.step() before reset(seed): call reset first");
    if (action === null || typeof action !== "object") {
      throw new InvalidInputError("bad_argument", "SimEnv.step: the action must be an object { dx, dy, dz, grip }");
    }
    const clip = (v: number) => (Number.isFinite(v) ? Math.max(-MAX_STEP, Math.min(MAX_STEP, v)) : 0);
    const g = this.gripper;
    g.x += clip(action.dx);
    g.y += clip(action.dy);
    g.z = Math.max(this.world.tableZ, g.z + clip(action.dz));
    if (action.grip && g.holding < 0) {
      g.holding = this.world.objects.findIndex((o) => {
        const top = o.pose.z + primitiveHeight(o.primitive);
        return Math.hypot(o.pose.x - g.x, o.pose.y - g.y, top - g.z) <= GRASP_DISTANCE;
      });
    } else if (!action.grip && g.holding >= 0) {
      const o = this.world.objects[g.holding];
      o.pose.z = this.surfaceBelow(g.holding);
      g.holding = -1;
    }
    if (g.holding >= 0) {
      const o = this.world.objects[g.holding];
      o.pose.x = g.x;
      o.pose.y = g.y;
      o.pose.z = Math.max(this.surfaceBelow(g.holding), g.z - primitiveHeight(o.primitive));
    }
    this.steps++;
    return this.observe();
  }

  /** Height of the highest surface under object i: the table or the top of an object beneath. */
  private surfaceBelow(i: number): number {
    const o = this.world.objects[i];
    let z = this.world.tableZ;
    for (let j = 0; j < this.world.objects.length; j++) {
      if (j === i) continue;
      const b = this.world.objects[j];
      const reach = supportWorld(b.primitive, { ...b.pose, x: 0, y: 0 }, 1, 0, 0);
      if (Math.hypot(b.pose.x - o.pose.x, b.pose.y - o.pose.y) < reach) z = Math.max(z, b.pose.z + primitiveHeight(b.primitive));
    }
    return z;
  }

  private observe(): SimStep {
    const stamp = BigInt(this.steps) * PERIOD_NS;
    let frame: RgbdFrame | null = null;
    let truth: Scene;
    if (this.sensor) {
      const cap = this.sensor.capture(this.world, this.camera, stamp);
      frame = cap.frame;
      truth = cap.truth;
    } else {
      truth = truthScene(this.world, this.camera, stamp);
    }
    // Observations and results are the caller's to keep (replay buffers): fresh objects each step.
    const result = this.tracker.update(truth);
    const g = this.gripper;
    return {
      observation: {
        stamp,
        gripper: { x: g.x, y: g.y, z: g.z, holding: g.holding >= 0 ? this.world.objects[g.holding].id : null },
        poses: this.world.objects.map((o) => ({ ...o.pose })),
        frame,
      },
      reward: result.reward,
      done: result.success || this.steps >= this.options.maxSteps,
      info: { truth, result, task: this.task, step: this.steps },
    };
  }
}
