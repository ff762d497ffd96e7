import type { Publisher, TransportNode } from "../src/transport/port.js";
import { QOS_LATCHED } from "../src/transport/qos.js";
import type * as M from "../src/msgs/generated.js";
import { EPISODE_FPS, RgbdSensor, worldAt, type NoiseModel, type TeleopScenario } from "../sim/index.js";
import { header, T } from "./messages.js";
import { SimCameraNode } from "./sim_camera_node.js";

const FRAME_NS = 1e9 / EPISODE_FPS;
/** Share of a frame's own render time left to the rest of the process before the next frame. */
const YIELD_FRACTION = 0.5;
/** How soon a held camera looks again (ms). */
const HOLD_RETRY_MS = 5;

/**
 * The simulator's camera for a session where other streams (the simulated mocap) follow the
 * same scripted episode by the clock: frame f shows the scripted world at time f / 30 s after
 * `startNs` and is stamped with that time (its exposure), on the caller's clock. When rendering
 * falls behind, the frames it had no time for are skipped and counted, so the camera never
 * lags the episode's time the way a frame-per-tick driver (SimDriver) does on a busy host, and
 * never takes more than two thirds of the event loop (see schedule()), nor any of it while
 * `holdWhile` says a stream with a higher priority is behind. The
 * episode's task is latched on reward/spec. Stops after the episode's last frame.
 */
export class RealtimeSimCamera {
  readonly camera: SimCameraNode;
  /** Frames published, and frames skipped because rendering was late. */
  published = 0;
  skipped = 0;
  private readonly sensor: RgbdSensor;
  private last = -1;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private startNs = 0n;
  private startMs = 0;
  private readonly now: () => bigint;
  private readonly holdWhile: () => boolean;
  /** Ticks that found the camera held. */
  held = 0;
  /** When the last frame was done and how long it took (performance.now ms). */
  private renderEndMs = 0;
  private renderMs = 0;

  constructor(
    readonly node: TransportNode,
    readonly scenario: TeleopScenario,
    options: {
      seed: number; noise: NoiseModel; now: () => bigint;
      /** While true no frame is rendered (the ones due meanwhile are skipped): how a busier stream gets priority. */
      holdWhile?: () => boolean;
    },
  ) {
    this.camera = new SimCameraNode(node);
    this.sensor = new RgbdSensor({ noise: options.noise, seed: options.seed });
    this.now = options.now;
    this.holdWhile = options.holdWhile ?? (() => false);
    const spec: Publisher<M.spatial_reward_msgs__msg__RewardSpec> = node.createPublisher(T.RewardSpec, "reward/spec", QOS_LATCHED);
    spec.publish({ header: header(this.now(), ""), text: scenario.episode.instruction });
  }

  /** Starts the episode at `startNs` on the clock given (its frame 0 is due then). */
  start(startNs: bigint): void {
    this.startNs = startNs;
    this.startMs = performance.now() - Number(this.now() - startNs) / 1e6;
    this.schedule();
  }

  stop(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }

  private schedule(): void {
    const next = this.last + 1;
    if (next >= this.scenario.episode.poses.length) return;
    const dueMs = this.startMs + (next * FRAME_NS) / 1e6;
    // After a frame that took R ms, at least R / 2 ms for everything else in this process (the
    // mocap path needs a few turns of the event loop per frame): on a host too slow for the
    // camera's rate, the camera skips frames instead of starving the mocap stream.
    const earliest = this.renderEndMs + this.renderMs * YIELD_FRACTION;
    this.timer = setTimeout(() => this.tick(), Math.max(0, dueMs - performance.now(), earliest - performance.now()));
  }

  private tick(): void {
    this.timer = null;
    if (this.holdWhile()) {
      this.held++;
      this.timer = setTimeout(() => this.tick(), HOLD_RETRY_MS);
      return;
    }
    const t0 = performance.now();
    const frames = this.scenario.episode.poses.length;
    const f = Math.min(frames - 1, Math.floor(Number(this.now() - this.startNs) / FRAME_NS));
    if (f > this.last) {
      this.skipped += f - this.last - 1;
      this.last = f;
      try {
        const { world, camera, episode } = this.scenario;
        const stamp = this.startNs + BigInt(Math.round(f * FRAME_NS));
        const cap = this.sensor.capture(worldAt(world, episode.poses[f]), camera, stamp);
        this.camera.publish(cap.frame, cap.truth);
        this.published++;
      } catch (e) {
        // A failing frame must not stop the camera: reported (SimCameraNode.errors) and the next one is tried.
        this.camera.errors.report(e, `frame ${f}`);
      }
      this.renderEndMs = performance.now();
      this.renderMs = this.renderEndMs - t0;
    }
    this.schedule();
  }
}
