import type { TransportNode } from "../src/transport/port.js";
import { QOS_LATCHED, type QoS } from "../src/transport/qos.js";
import { InvalidInputError } from "../src/errors.js";
import { fromNanoseconds } from "../src/time/ros_time.js";
import type { Publisher } from "../src/transport/port.js";
import type * as M from "../src/msgs/generated.js";
import { T, header } from "./messages.js";
import { RgbdSensor, teleopScenario, worldAt, type NoiseModel, type TeleopScenario } from "../sim/index.js";
import { SimCameraNode } from "./sim_camera_node.js";

/** What a simulator's /clock publisher uses: reliable (matches every reader), newest only. */
const QOS_CLOCK_PUBLISHER: QoS = { reliability: "reliable", durability: "volatile", history: "keep_last", depth: 1 };

/**
 * Plays the seeded scripted teleop episode on the camera topics at `rate_hz` (a ROS timer),
 * looping when it ends, and latches the episode's task on `reward/spec` so a reward node
 * anywhere on the graph scores it. On simulated time it publishes each frame's stamp on /clock.
 * Parameters: seed, rate_hz, frames, noise, use_sim_time (true: the simulator is the time
 * source, stamps start at 0 and advance 1/rate_hz per frame; false: wall-clock stamps),
 * publish_clock (default: use_sim_time).
 */
export class SimDriver {
  readonly camera: SimCameraNode;
  readonly scenario: TeleopScenario;
  private readonly sensor: RgbdSensor;
  private readonly clockPub: Publisher<M.rosgraph_msgs__msg__Clock> | null;
  private readonly useSimTime: boolean;
  private readonly periodNs: bigint;
  private frame = 0;
  published = 0;

  constructor(readonly node: TransportNode) {
    this.camera = new SimCameraNode(node);
    const seed = Number(node.declareParameter("seed", 7));
    const rate = Number(node.declareParameter("rate_hz", 30.0));
    const frames = Number(node.declareParameter("frames", 300));
    const noise = String(node.declareParameter("noise", "realsense")) as NoiseModel;
    this.useSimTime = Boolean(node.declareParameter("use_sim_time", false));
    // /clock is for nodes on simulated time; wall-clock stamps need none (and two simulators
    // would interleave two clocks).
    const publishClock = Boolean(node.declareParameter("publish_clock", this.useSimTime));
    if (noise !== "none" && noise !== "realsense") throw new InvalidInputError("bad_argument", `sim_camera: noise must be none or realsense, got ${noise}`);
    if (!(rate > 0 && rate <= 1000)) throw new InvalidInputError("bad_argument", `sim_camera: rate_hz must be in (0, 1000], got ${rate}`);
    this.periodNs = BigInt(Math.round(1e9 / rate));
    this.scenario = teleopScenario(seed, frames);
    this.sensor = new RgbdSensor({ noise, seed });
    this.clockPub = publishClock ? node.createPublisher<M.rosgraph_msgs__msg__Clock>(T.Clock, "/clock", QOS_CLOCK_PUBLISHER) : null;
    node
      .createPublisher<M.spatial_reward_msgs__msg__RewardSpec>(T.RewardSpec, "reward/spec", QOS_LATCHED)
      .publish({ header: header(this.stampOf(0), ""), text: this.scenario.episode.instruction });
    node.logger.info(`simulating "${this.scenario.episode.instruction}" (seed ${seed}, ${frames}-frame episode, ${rate} Hz, ${this.useSimTime ? "simulated" : "wall"} clock)`);
    node.createTimer(1000 / rate, () => {
      try {
        this.step();
      } catch (e) {
        // A failing frame must not stop the camera: reported (SimCameraNode.errors), the timer keeps running.
        this.camera.errors.report(e, `frame ${this.frame}`);
        this.frame++;
      }
    });
  }

  private stampOf(frame: number): bigint {
    return this.useSimTime ? BigInt(frame) * this.periodNs : BigInt(Date.now()) * 1_000_000n;
  }

  /** Publishes the next frame (also callable directly, e.g. to run faster than real time). */
  step(): void {
    const { world, camera, episode } = this.scenario;
    const f = this.frame % episode.poses.length;
    const stamp = this.stampOf(this.frame);
    this.clockPub?.publish({ clock: fromNanoseconds(stamp) });
    const cap = this.sensor.capture(worldAt(world, episode.poses[f]), camera, stamp);
    this.camera.publish(cap.frame, cap.truth);
    this.frame++;
    this.published++;
  }
}
