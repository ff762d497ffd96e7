import type { Publisher, TransportNode } from "../src/transport/port.js";
import { QOS_DEFAULT, QOS_LATCHED } from "../src/transport/qos.js";
import { Counters } from "../src/diagnostics/counters.js";
import { InvalidInputError } from "../src/errors.js";
import { validateScene } from "../src/scene/scene_validation.js";
import { parseRewardSpec, formatRewardSpec } from "../src/reward/parse_reward_spec.js";
import { RewardTracker } from "../src/reward/reward_tracker.js";
import type { RewardSpec } from "../src/reward/reward_spec.js";
import type * as M from "../src/msgs/generated.js";
import { T, rewardToMsg, sceneFromMsg } from "./messages.js";
import { clip } from "./error_reporter.js";
import { DiagnosticsPublisher, DIAGNOSTIC_LEVEL } from "./diagnostics_publisher.js";
import { RosClock } from "./ros_clock.js";

const WAITING = "waiting for a reward spec (reward_spec parameter, latched reward/spec topic or set_reward_spec service)";

/**
 * Reward node: the rearrangement reward of every scene graph, published on `reward` in the
 * scene's frame. The task is set by the `reward_spec` parameter, the latched `reward/spec` topic
 * (RewardSpec) or the `set_reward_spec` service; an expression ("near(red mug, blue bowl,
 * 0.05)") or an instruction ("put the red mug next to the blue bowl"). A new spec restarts
 * progress from the next frame. A bad spec is refused with the reason (the service answers
 * ok=false, `ros2 param set` fails), counted, logged, and the previous spec stays; a bad spec
 * at start-up leaves the node without a task, ERROR on /diagnostics until a good one arrives.
 */
export class RewardNode {
  readonly counters = new Counters();
  readonly diagnostics: DiagnosticsPublisher;
  private tracker: RewardTracker | null = null;
  private specText = "";
  private succeeded = false;

  constructor(readonly node: TransportNode) {
    const clock = new RosClock(node, (e) => this.diagnostics.errors.report(e, "/clock"));
    const initial = String(node.declareParameter("reward_spec", ""));
    this.diagnostics = new DiagnosticsPublisher(node, "reward", this.counters, clock);
    const errors = this.diagnostics.errors;
    this.diagnostics.condition = { level: DIAGNOSTIC_LEVEL.WARN, message: WAITING };
    if (initial.trim() !== "") {
      const r = this.setSpec(initial, "reward_spec parameter");
      if (!r.ok) {
        node.logger.error(`the reward_spec parameter was refused, the node has no task until a valid spec arrives: ${r.message}`);
        this.diagnostics.condition = { level: DIAGNOSTIC_LEVEL.ERROR, message: `reward_spec parameter refused: ${r.message}` };
      }
    }
    // `ros2 param set … reward_spec "<bad>"` fails with the reason (counted and logged like any
    // refused spec) instead of being accepted; a good one is installed; "" clears the task.
    node.onParameterValidate((name, value) => {
      if (name !== "reward_spec") return;
      if (String(value).trim() === "") {
        this.clearSpec();
        return;
      }
      const r = this.setSpec(value, "reward_spec parameter");
      if (!r.ok) throw new InvalidInputError("bad_reward_spec", r.message);
    });
    node.createSubscription<M.spatial_reward_msgs__msg__RewardSpec>(
      T.RewardSpec, "reward/spec", QOS_LATCHED, errors.guard("reward/spec", (m) => this.setSpec(m.text, "reward/spec")),
    );
    node.createService<M.spatial_reward_msgs__srv__SetRewardSpec_Request, M.spatial_reward_msgs__srv__SetRewardSpec_Response>(
      T.SetRewardSpec, "set_reward_spec", (req) => this.setSpec(req.text, "set_reward_spec"),
    );
    const pub = node.createPublisher<M.spatial_reward_msgs__msg__Reward>(T.Reward, "reward", QOS_DEFAULT);
    // Keep-all: every frame's scene gets its reward (training data), even when a burst of
    // frames reaches the process faster than one event loop turns them around.
    node.createSubscription<M.spatial_reward_msgs__msg__SceneObjects>(
      T.SceneObjects, "scene/objects", { ...QOS_DEFAULT, history: "keep_all" },
      errors.guard("scene/objects", (msg) => {
        this.counters.inc("scenes_in");
        if (!this.tracker) {
          this.counters.inc("dropped.no_reward_spec");
          return;
        }
        this.reward(msg, pub);
      }),
    );
  }

  private reward(msg: M.spatial_reward_msgs__msg__SceneObjects, pub: Publisher<M.spatial_reward_msgs__msg__Reward>): void {
    const t0 = performance.now();
    const scene = validateScene(sceneFromMsg(msg));
    const r = this.tracker!.update(scene);
    pub.publish(rewardToMsg(r, this.specText, msg.header.frame_id));
    this.counters.inc("rewards_out");
    if (r.success !== this.succeeded) {
      this.succeeded = r.success;
      this.node.logger.info(r.success ? `task satisfied: ${this.specText}` : `task no longer satisfied: ${this.specText}`);
    }
    this.diagnostics.latency.add(performance.now() - t0);
  }

  /** No task: scenes are counted as dropped.no_reward_spec until a spec arrives. */
  private clearSpec(): void {
    if (this.tracker) this.node.logger.info("reward spec cleared (reward_spec set to \"\"); waiting for a new one");
    this.tracker = null;
    this.specText = "";
    this.diagnostics.condition = { level: DIAGNOSTIC_LEVEL.WARN, message: WAITING };
  }

  /**
   * Parses and installs a spec; a bad one is counted, logged and reported, the old one stays.
   * Never throws: it also answers the set_reward_spec service.
   */
  setSpec(text: unknown, source = "set_reward_spec"): { ok: boolean; message: string } {
    let spec: RewardSpec;
    let tracker: RewardTracker;
    try {
      spec = parseRewardSpec(text as string);
      tracker = new RewardTracker(spec);
    } catch (e) {
      const typed = this.diagnostics.errors.report(e, source);
      return { ok: false, message: typed.code === "internal" ? "internal error parsing the spec (logged)" : clip(typed.message) };
    }
    this.tracker = tracker;
    this.specText = formatRewardSpec(spec);
    this.succeeded = false;
    this.counters.inc("specs_set");
    this.diagnostics.condition = null;
    this.node.logger.info(`reward spec set from ${source}: ${this.specText}`);
    return { ok: true, message: this.specText };
  }
}
