import type { Publisher, Subscription, TransportNode } from "../src/transport/port.js";
import { QOS_DEFAULT, QOS_LATCHED } from "../src/transport/qos.js";
import { Counters } from "../src/diagnostics/counters.js";
import { InvalidInputError } from "../src/errors.js";
import { StampGate } from "../src/time/stamp_gate.js";
import { validateScene } from "../src/scene/scene_validation.js";
import { parseRewardSpec, formatRewardSpec } from "../src/reward/parse_reward_spec.js";
import { RewardTracker } from "../src/reward/reward_tracker.js";
import type { RewardSpec } from "../src/reward/reward_spec.js";
import type * as M from "../src/msgs/generated.js";
import { BACKBONE_PROGRESS_TOPIC, T, header, rewardToMsg, sceneFromMsg, stampOf } from "./messages.js";
import { clip } from "./error_reporter.js";
import { DiagnosticsPublisher, DIAGNOSTIC_LEVEL } from "./diagnostics_publisher.js";
import { RosClock } from "./ros_clock.js";

const WAITING = "waiting for a reward spec (reward_spec parameter, latched reward/spec topic or set_reward_spec service)";

/** Where the published reward comes from: the engine's scene graphs, or the backbone model's progress head. */
export const REWARD_SOURCES = ["engine", "backbone"] as const;
export type RewardSource = (typeof REWARD_SOURCES)[number];
const isRewardSource = (v: unknown): v is RewardSource => v === "engine" || v === "backbone";

/** backbone_progress_timeout_ms: no backbone progress for longer than this is WARN on /diagnostics. */
const PROGRESS_TIMEOUT_LIMITS = { default: 2000, min: 1, max: 3_600_000 } as const;

/**
 * Reward node: the rearrangement reward of every scene graph, published on `reward` in the
 * scene's frame. Scene graphs are perceived ones, so success has the hysteresis of
 * RewardTrackerOptions.hysteresis (on at once, off when the residual passes the tolerance by
 * more than 1 cm or for 3 frames; src/reward/REWARDS.md). The task is set by the `reward_spec` parameter, the latched `reward/spec` topic
 * (RewardSpec) or the `set_reward_spec` service; an expression ("near(red mug, blue bowl,
 * 0.05)") or an instruction ("put the red mug next to the blue bowl"). A new spec restarts
 * progress from the next frame. A bad spec is refused with the reason (the service answers
 * ok=false, `ros2 param set` fails), counted, logged, and the previous spec stays; a bad spec
 * at start-up leaves the node without a task, ERROR on /diagnostics until a good one arrives.
 *
 * `reward_source` ("engine", the default, or "backbone") says where the published reward
 * comes from. With "backbone" the node publishes on `reward` the backbone model's progress from
 * `backbone/progress` (the backbone node's progress head, RGB only) instead of computing it from
 * scene graphs (scenes are then counted as `dropped.reward_source_backbone`): header = the
 * backbone's (the camera frame's stamp and frame id), spec = this node's task (still needed:
 * without one, progress is `dropped.no_reward_spec`), progress = the model's, reward =
 * progress − 1, success = the backbone's (progress ≥ its progress_success_threshold), residual
 * NaN (the model estimates no geometric error). A new spec does not restart the model's
 * progress. Progress must be a finite number in [0, 1] (else `bad_message`), with a valid
 * stamp newer than the last (StampGate, as perception: a repeated or older stamp is
 * `out_of_order_stamp`; a jump of more than 5 s is an outlier unless 3 messages confirm it).
 * The source is said once in the log and always on /diagnostics (`reward_source`); no progress
 * since the source was chosen, or none for `backbone_progress_timeout_ms` (2000), is WARN
 * "no backbone progress received". An invalid value is refused at start (the node does not
 * start) and by `ros2 param set` (the reason, counted as errors.bad_argument).
 */
export class RewardNode {
  readonly counters = new Counters();
  readonly diagnostics: RewardDiagnostics;
  private tracker: RewardTracker | null = null;
  private specText = "";
  private succeeded = false;
  private sourceValue: RewardSource = "engine";
  private progressSub: Subscription | null = null;
  /** Stamps of backbone progress since the source became "backbone": each must be newer than the last. */
  private progressStamps = new StampGate();

  constructor(readonly node: TransportNode) {
    // Checked before anything is created: a node with a source it does not know must not start.
    const source = node.declareParameter("reward_source", "engine");
    if (!isRewardSource(source)) throw new Error(`reward: reward_source must be "engine" or "backbone", got ${JSON.stringify(source)}`);
    const timeoutMs = Number(node.declareParameter("backbone_progress_timeout_ms", PROGRESS_TIMEOUT_LIMITS.default));
    if (!Number.isInteger(timeoutMs) || timeoutMs < PROGRESS_TIMEOUT_LIMITS.min || timeoutMs > PROGRESS_TIMEOUT_LIMITS.max) {
      throw new Error(`reward: backbone_progress_timeout_ms must be an integer in ${PROGRESS_TIMEOUT_LIMITS.min}..${PROGRESS_TIMEOUT_LIMITS.max}, got ${timeoutMs}`);
    }
    const clock = new RosClock(node, (e) => this.diagnostics.errors.report(e, "/clock"));
    const initial = String(node.declareParameter("reward_spec", ""));
    this.diagnostics = new RewardDiagnostics(node, this.counters, clock, timeoutMs);
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
      if (name === "reward_source") {
        if (!isRewardSource(value)) {
          const e = new InvalidInputError("bad_argument", `reward_source must be "engine" or "backbone", got ${clip(JSON.stringify(value), 80)}`);
          errors.report(e, "reward_source parameter");
          throw e;
        }
        return;
      }
      if (name === "backbone_progress_timeout_ms") {
        const v = Number(value);
        if (!Number.isInteger(v) || v < PROGRESS_TIMEOUT_LIMITS.min || v > PROGRESS_TIMEOUT_LIMITS.max) {
          throw new InvalidInputError("bad_argument", `backbone_progress_timeout_ms must be an integer in ${PROGRESS_TIMEOUT_LIMITS.min}..${PROGRESS_TIMEOUT_LIMITS.max}, got ${clip(String(value), 40)}`);
        }
        return;
      }
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
    this.rewardPub = pub;
    node.onParameterChange((name, value) => {
      if (name === "reward_source" && isRewardSource(value)) this.useSource(value);
      else if (name === "backbone_progress_timeout_ms") this.diagnostics.timeoutMs = Number(value);
    });
    // Keep-all: every frame's scene gets its reward (training data), even when a burst of
    // frames reaches the process faster than one event loop turns them around.
    node.createSubscription<M.spatial_reward_msgs__msg__SceneObjects>(
      T.SceneObjects, "scene/objects", { ...QOS_DEFAULT, history: "keep_all" },
      errors.guard("scene/objects", (msg) => {
        this.counters.inc("scenes_in");
        if (this.sourceValue === "backbone") {
          this.counters.inc("dropped.reward_source_backbone");
          return;
        }
        if (!this.tracker) {
          this.counters.inc("dropped.no_reward_spec");
          return;
        }
        this.reward(msg, pub);
      }),
    );
    if (source === "backbone") this.useSource(source);
  }

  private readonly rewardPub: Publisher<M.spatial_reward_msgs__msg__Reward>;

  get rewardSource(): RewardSource {
    return this.sourceValue;
  }

  /**
   * Switches where the reward comes from (said once in the log, shown on /diagnostics). The
   * backbone's topic is subscribed only while it is the source, so an engine-sourced node never
   * receives it; a new backbone period starts a new stamp timeline and waits for its first progress.
   */
  private useSource(source: RewardSource): void {
    if (source === this.sourceValue && (source === "engine" || this.progressSub)) return;
    this.sourceValue = source;
    this.diagnostics.source = source;
    if (source === "backbone") {
      this.progressStamps = new StampGate();
      this.diagnostics.sourceSince = performance.now();
      this.diagnostics.lastProgressAt = NaN;
      const errors = this.diagnostics.errors;
      // Keep-all, as scene/objects: every frame's progress becomes a reward.
      this.progressSub = this.node.createSubscription<M.spatial_reward_msgs__msg__Reward>(
        T.Reward, BACKBONE_PROGRESS_TOPIC, { ...QOS_DEFAULT, history: "keep_all" },
        errors.guard(BACKBONE_PROGRESS_TOPIC, (m) => this.onProgress(m)),
      );
      this.node.logger.info(`reward_source backbone: publishing the backbone model's progress from ${BACKBONE_PROGRESS_TOPIC} on reward ` +
        "instead of computing it from scene graphs");
    } else {
      this.progressSub?.destroy();
      this.progressSub = null;
      this.node.logger.info("reward_source engine: computing the reward from scene graphs");
    }
  }

  /** One backbone progress message → one reward, in the backbone's header, under this node's task. */
  private onProgress(msg: M.spatial_reward_msgs__msg__Reward): void {
    const t0 = performance.now();
    this.counters.inc("progress_in");
    this.diagnostics.lastProgressAt = t0;
    if (!this.tracker) {
      this.counters.inc("dropped.no_reward_spec");
      return;
    }
    const h: unknown = msg === null || typeof msg !== "object" ? null : msg.header;
    if (h === null || typeof h !== "object") throw new InvalidInputError("bad_message", "backbone progress has no header (std_msgs/Header)");
    const stamp = stampOf(msg);
    const p: unknown = msg.progress;
    if (typeof p !== "number" || !(p >= 0 && p <= 1)) {
      throw new InvalidInputError("bad_message", `backbone progress must be a finite number in [0, 1], got ${typeof p === "number" ? String(p) : typeof p}`);
    }
    if (typeof msg.success !== "boolean") throw new InvalidInputError("bad_message", `backbone progress success must be a boolean, got ${typeof msg.success}`);
    const frameId = typeof msg.header.frame_id === "string" ? msg.header.frame_id : "";
    const verdict = this.checkProgressStamp(stamp);
    this.rewardPub.publish({ header: header(stamp, frameId), spec: this.specText, reward: p - 1, progress: p, success: msg.success, residual: NaN });
    this.progressStamps.commit(stamp, verdict);
    this.counters.inc("rewards_out");
    this.noteSuccess(msg.success);
    this.diagnostics.latency.add(performance.now() - t0);
  }

  /** As the backbone node checks its frames: strictly newer, and no unconfirmed jump of more than 5 s. */
  private checkProgressStamp(stamp: bigint): "accept" | "adopt" {
    const gate = this.progressStamps;
    const last = gate.lastStamp;
    if (last !== null && stamp === last) throw new InvalidInputError("out_of_order_stamp", `backbone progress stamp ${stamp} ns repeats the previous one`);
    const verdict = gate.check(stamp);
    if (verdict === "accept") return verdict;
    if (verdict === "adopt") {
      this.counters.inc("stamp_jump.adopted");
      this.node.logger.info(`backbone progress stamps jumped from ${last} ns to a new timeline at ${stamp} ns (confirmed by ${gate.options.confirm} messages)`);
      return verdict;
    }
    if (verdict === "out_of_order") {
      throw new InvalidInputError("out_of_order_stamp", `backbone progress stamp ${stamp} ns is older than the previous one's ${last} ns`);
    }
    const ahead = verdict === "jump_ahead";
    this.counters.inc(ahead ? "stamp_jump.ahead" : "stamp_jump.back");
    throw new InvalidInputError("out_of_order_stamp",
      `backbone progress stamp ${stamp} ns is more than ${Number(gate.options.maxJumpNs) / 1e9} s ${ahead ? "ahead of" : "behind"} the previous one (${last} ns): ` +
      `an outlier, unless ${gate.options.confirm} consecutive messages confirm the new timeline`);
  }

  private noteSuccess(success: boolean): void {
    if (success === this.succeeded) return;
    this.succeeded = success;
    this.node.logger.info(success ? `task satisfied: ${this.specText}` : `task no longer satisfied: ${this.specText}`);
  }

  private reward(msg: M.spatial_reward_msgs__msg__SceneObjects, pub: Publisher<M.spatial_reward_msgs__msg__Reward>): void {
    const t0 = performance.now();
    const scene = validateScene(sceneFromMsg(msg));
    const r = this.tracker!.update(scene);
    pub.publish(rewardToMsg(r, this.specText, msg.header.frame_id));
    this.counters.inc("rewards_out");
    this.noteSuccess(r.success);
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
      // Scene graphs here are perceived: a box disturbed for a frame or two (the carried
      // object's top hidden by the hand, a mask eaten into) must not flip success, so it has
      // the success hysteresis (src/reward/REWARDS.md). Ground truth and mocap poses need none
      // and their trackers (sim, nodes/mocap) go without.
      tracker = new RewardTracker(spec, { hysteresis: true });
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

/**
 * The reward node's /diagnostics: the standard status plus `reward_source`, and with the backbone
 * as source its freshness: WARN "no backbone progress received" before the first message since
 * the source was chosen, or when the last one is older than the timeout.
 */
export class RewardDiagnostics extends DiagnosticsPublisher {
  source: RewardSource = "engine";
  /** performance.now() when the backbone became the source, and of its last progress message (NaN: none). */
  sourceSince = NaN;
  lastProgressAt = NaN;

  constructor(node: TransportNode, counters: Counters, clock: RosClock, public timeoutMs: number) {
    super(node, "reward", counters, clock);
  }

  override snapshot(nowNs?: bigint): M.diagnostic_msgs__msg__DiagnosticArray {
    const msg = super.snapshot(nowNs);
    const status = msg.status[0];
    status.values.push({ key: "reward_source", value: this.source });
    if (this.source !== "backbone") return msg;
    const now = performance.now();
    const age = now - this.lastProgressAt;
    const stale = !Number.isFinite(this.lastProgressAt) || age > this.timeoutMs;
    status.values.push({ key: "backbone_progress_age_ms", value: Number.isFinite(age) ? age.toFixed(0) : "" });
    const note = !Number.isFinite(this.lastProgressAt)
      ? `no backbone progress received on ${BACKBONE_PROGRESS_TOPIC} since reward_source became backbone ${((now - this.sourceSince) / 1000).toFixed(1)} s ago (is a backbone with a progress-head model running?)`
      : stale
        ? `no backbone progress received on ${BACKBONE_PROGRESS_TOPIC} for ${(age / 1000).toFixed(1)} s`
        : `reward_source backbone: the reward is the backbone model's progress from ${BACKBONE_PROGRESS_TOPIC}`;
    status.message = status.message === "OK" ? note : `${note}; ${status.message}`;
    if (stale) status.level = Math.max(status.level, DIAGNOSTIC_LEVEL.WARN);
    return msg;
  }
}
