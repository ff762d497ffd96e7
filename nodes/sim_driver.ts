import type { TransportNode } from "../src/transport/port.js";
import { QOS_LATCHED } from "../src/transport/qos.js";
import type * as M from "../src/msgs/generated.js";
import { T, header } from "./messages.js";
import { RgbdSensor, teleopScenario, worldAt, type NoiseModel, type TeleopScenario } from "../sim/index.js";
import { SimCameraNode } from "./sim_camera_node.js";

/**
 * Plays the seeded scripted teleop episode on the camera topics at `rate_hz` (a ROS timer),
 * looping when it ends, and latches the episode's task on `reward/spec` so a reward node
 * anywhere on the graph scores it. Parameters: seed, rate_hz, frames, noise.
 */
export class SimDriver {
  readonly camera: SimCameraNode;
  readonly scenario: TeleopScenario;
  private readonly sensor: RgbdSensor;
  private frame = 0;
  published = 0;

  constructor(readonly node: TransportNode) {
    this.camera = new SimCameraNode(node);
    const seed = Number(node.declareParameter("seed", 7));
    const rate = Number(node.declareParameter("rate_hz", 30.0));
    const frames = Number(node.declareParameter("frames", 300));
    const noise = String(node.declareParameter("noise", "realsense")) as NoiseModel;
    if (noise !== "none" && noise !== "realsense") throw new Error(`sim_camera: noise must be none or realsense, got ${noise}`);
    this.scenario = teleopScenario(seed, frames);
    this.sensor = new RgbdSensor({ noise, seed });
    node
      .createPublisher<M.spatial_reward_msgs__msg__RewardSpec>(T.RewardSpec, "reward/spec", QOS_LATCHED)
      .publish({ header: header(BigInt(Date.now()) * 1_000_000n, ""), text: this.scenario.episode.instruction });
    node.createTimer(1000 / rate, () => this.step());
  }

  /** Publishes the next frame (also callable directly, e.g. to run faster than real time). */
  step(): void {
    const { world, camera, episode } = this.scenario;
    const f = this.frame % episode.poses.length;
    const stamp = BigInt(Date.now()) * 1_000_000n;
    const cap = this.sensor.capture(worldAt(world, episode.poses[f]), camera, stamp);
    this.camera.publish(cap.frame, cap.truth);
    this.frame++;
    this.published++;
  }
}
