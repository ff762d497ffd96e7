import { filter, map, tap } from "rxjs";
import type { Publisher, TransportNode } from "../src/transport/port.js";
import type { Scene } from "../src/scene/scene_object.js";
import { QOS_DEFAULT, QOS_LATCHED } from "../src/transport/qos.js";
import { Counters } from "../src/diagnostics/counters.js";
import { isSpatialRewardError } from "../src/errors.js";
import { parseRewardSpec, formatRewardSpec } from "../src/reward/parse_reward_spec.js";
import { RewardTracker } from "../src/reward/reward_tracker.js";
import type * as M from "../src/msgs/generated.js";
import { T, rewardToMsg, sceneFromMsg } from "./messages.js";
import { DiagnosticsPublisher } from "./diagnostics_publisher.js";

/**
 * Reward node: the rearrangement reward of every scene graph, published on `reward`.
 * The task is set by the `reward_spec` parameter, the latched `reward/spec` topic
 * (RewardSpec) or the `set_reward_spec` service; an expression ("near(red mug, blue bowl,
 * 0.05)") or an instruction ("put the red mug next to the blue bowl"). A new spec restarts
 * progress from the next frame. Frames whose objects cannot be resolved are counted.
 */
export class RewardNode {
  readonly counters = new Counters();
  private tracker: RewardTracker | null = null;
  private specText = "";
  private readonly diagnostics: DiagnosticsPublisher;

  constructor(readonly node: TransportNode) {
    const frameId = String(node.declareParameter("frame_id", "spatial"));
    const initial = String(node.declareParameter("reward_spec", ""));
    this.diagnostics = new DiagnosticsPublisher(node, "reward", this.counters);
    if (initial) this.setSpec(initial);
    node.onParameterChange((name, value) => {
      if (name === "reward_spec") this.setSpec(String(value));
    });
    node.createSubscription<M.spatial_reward_msgs__msg__RewardSpec>(T.RewardSpec, "reward/spec", QOS_LATCHED, (m) => this.setSpec(m.text));
    node.createService<M.spatial_reward_msgs__srv__SetRewardSpec_Request, M.spatial_reward_msgs__srv__SetRewardSpec_Response>(
      T.SetRewardSpec, "set_reward_spec", (req) => this.setSpec(req.text),
    );
    const pub = node.createPublisher<M.spatial_reward_msgs__msg__Reward>(T.Reward, "reward", QOS_DEFAULT);
    node
      // Keep-all: every frame's scene gets its reward (training data), even when a burst of
      // frames reaches the process faster than one event loop turns them around.
      .observe<M.spatial_reward_msgs__msg__SceneObjects>(T.SceneObjects, "scene/objects", { ...QOS_DEFAULT, history: "keep_all" })
      .pipe(
        tap(() => this.counters.inc("scenes_in")),
        filter(() => {
          if (this.tracker) return true;
          this.counters.inc("dropped.no_reward_spec");
          return false;
        }),
        map(sceneFromMsg),
      )
      .subscribe((scene) => this.reward(scene, pub, frameId));
  }

  private reward(scene: Scene, pub: Publisher<M.spatial_reward_msgs__msg__Reward>, frameId: string): void {
    const t0 = performance.now();
    try {
      const r = this.tracker!.update(scene);
      pub.publish(rewardToMsg(r, this.specText, frameId));
      this.counters.inc("rewards_out");
      this.diagnostics.latency.add(performance.now() - t0);
    } catch (e) {
      if (!isSpatialRewardError(e)) throw e;
      this.counters.inc(`errors.${e.code}`);
      this.diagnostics.lastError = e.message;
    }
  }

  /** Parses and installs a spec; a bad one is counted and reported, the old one stays. */
  setSpec(text: string): { ok: boolean; message: string } {
    try {
      const spec = parseRewardSpec(text);
      this.tracker = new RewardTracker(spec);
      this.specText = formatRewardSpec(spec);
      this.counters.inc("specs_set");
      return { ok: true, message: this.specText };
    } catch (e) {
      if (!isSpatialRewardError(e)) throw e;
      this.counters.inc(`errors.${e.code}`);
      this.diagnostics.lastError = e.message;
      return { ok: false, message: e.message };
    }
  }
}
