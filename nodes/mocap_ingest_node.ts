import type { IConnackPacket, MqttClient } from "mqtt";
import type { Publisher, Timer, TransportNode } from "../src/transport/port.js";
import { QOS_DEFAULT, QOS_TF } from "../src/transport/qos.js";
import { Counters } from "../src/diagnostics/counters.js";
import { InvalidInputError, SpatialRewardError, type ErrorCode } from "../src/errors.js";
import { ClockSync, type ClockEstimate } from "../src/mocap/clock_sync.js";
import { decodeMocapFrame, resolveMocapLimits, type MocapLimits } from "../src/mocap/mocap_codec.js";
import { MOCAP_FRAME_ID, mocapFrameMessage, mocapPoses } from "../src/mocap/mocap_poses.js";
import { MOCAP_COUNTER_KEYS, MocapValidator, usableName, type MocapCounterKey, type MocapCounters, type ValidatedMocapFrame } from "../src/mocap/mocap_validator.js";
import type * as M from "../src/msgs/generated.js";
import type { MocapFrame } from "../src/msgs/mocap_proto.js";
import { rewardToMsg, T } from "./messages.js";
import { clip } from "./error_reporter.js";
import { DiagnosticsPublisher, DIAGNOSTIC_LEVEL, type DiagnosticLevel } from "./diagnostics_publisher.js";
import { RosClock } from "./ros_clock.js";
import { BodyReward, parseBodyObject } from "./mocap/body_reward.js";
import { anchoredNowNs, wallClockAnchor } from "./mocap/wall_clock_anchor.js";
import { EmbeddedBroker } from "./mqtt/embedded_broker.js";
import { DEFAULT_SESSION_QUEUE_LIMITS } from "./mqtt/bounded_session_store.js";
import { connectMqtt, mqttClientOptions, parseBrokerUrl, type MqttConnectionSettings } from "./mqtt/mqtt_connection.js";
import { checkTopicPrefix } from "./mqtt/mocap_publisher.js";

/** What onFrame gets as the payload of a frame that did not come from MQTT (never, today: every frame is decoded from one). */
const EMPTY_PAYLOAD = new Uint8Array(0);

/** The reward topic (relative: under the node's namespace). */
export const MOCAP_REWARD_TOPIC = "mocap/reward";

/**
 * Validator counters that are rejections or losses: a rise since the last /diagnostics report
 * makes it WARN. (frames_received, frames_released, frames_reordered, bodies_untracked and the
 * renormalisation counts describe healthy traffic.)
 */
const REJECTION_KEYS: readonly MocapCounterKey[] = [
  "frames_malformed", "frames_wrong_stream", "frames_too_large", "frames_bad_axes", "frames_non_finite", "frames_duplicate",
  "frames_late", "frames_stale", "frames_bad_device_time", "frames_lost", "bodies_rejected_zero_quaternion",
  "bodies_rejected_quaternion", "bodies_rejected_jump", "bodies_rejected_out_of_range", "bodies_rejected_duplicate_id",
  "markers_rejected_out_of_range", "joints_rejected", "skeletons_rejected",
];

/** The error code a validator rejection is logged under (the validator counts it; this only names it). */
function rejectionCode(key: MocapCounterKey): ErrorCode | null {
  switch (key) {
    case "frames_malformed":
    case "frames_wrong_stream":
    case "frames_non_finite":
    case "bodies_rejected_zero_quaternion":
    case "bodies_rejected_quaternion":
    case "bodies_rejected_jump":
    case "bodies_rejected_out_of_range":
    case "bodies_rejected_duplicate_id":
    case "markers_rejected_out_of_range":
    case "joints_rejected":
    case "skeletons_rejected":
    case "bodies_renamed":
      return "bad_message";
    case "frames_too_large":
      return "payload_too_large";
    case "frames_bad_axes":
      return "bad_axes";
    case "frames_duplicate":
    case "frames_late":
    case "frames_stale":
    case "frames_bad_device_time":
      return "out_of_order_stamp";
    default:
      return null;
  }
}

/** A ROS 2 topic token from any text: [A-Za-z0-9_] kept, anything else "_", a leading digit or nothing prefixed with "_". */
export function topicToken(text: string): string {
  let out = text.replace(/[^A-Za-z0-9_]/g, "_").slice(0, 100);
  if (out === "" || /^[0-9]/.test(out)) out = `_${out}`;
  return out;
}

/** A frame the ingest published, for in-process consumers (recorder, bench). */
export interface IngestedFrame {
  /** The stream as named by the MQTT topic (mocap/<stream>/frame). */
  stream: string;
  /** The validated frame (REP-103 metres); valid only during the callback. */
  frame: ValidatedMocapFrame;
  /** Mid-exposure on the host clock (ns). */
  stampNs: bigint;
  /**
   * The MQTT payload the frame was decoded from, as it arrived (the source's axes and unit,
   * before validation), for recorders that keep what the mocap system sent; borrowed: copy it
   * to keep it past the callback.
   */
  payload: Uint8Array;
}

export interface MocapIngestOptions {
  /** Called for every frame published, after its messages. */
  onFrame?: (f: IngestedFrame) => void;
}

/** The broker connection as /diagnostics shows it. */
export interface MqttLinkStatus {
  url: string;
  connected: boolean;
  /** Connections made (the first included). */
  connects: number;
  /** Connections lost after being up. */
  disconnects: number;
  /** Reconnect attempts scheduled in the current outage. */
  attempts: number;
  /** The delay chosen for the next reconnect attempt (ms). */
  nextDelayMs: number;
  /** Ended outages (a lost connection that came back). */
  outages: number;
  outageMsTotal: number;
  outageMsLast: number;
  outageMsMax: number;
  /** Length of the outage under way (ms), 0 while connected. */
  outageMsNow: number;
  /** Reconnects where the broker no longer had the session (frames queued for us are gone). */
  sessionsLost: number;
}

interface Stream {
  /** As in the MQTT topic. */
  readonly id: string;
  /** Its ROS topic token. */
  readonly token: string;
  readonly validator: MocapValidator;
  readonly clock: ClockSync;
  readonly framePub: Publisher<M.spatial_reward_msgs__msg__MocapFrame> | null;
  /** Body name → its pose publisher (null: over the topic limit). */
  readonly bodyPubs: Map<string, Publisher<M.geometry_msgs__msg__PoseStamped> | null>;
  readonly bodyTokens: Set<string>;
}

/**
 * mocap_ingest: motion capture over MQTT (msgs/proto/mocap.proto frames on
 * `<topic_prefix>/<stream>/frame`) → validated, REP-103, host-clock poses on the transport.
 *
 * MQTT: QoS 1 subscription over a persistent session (clean=false, the fixed `client_id`):
 * frames published while the ingest is away are kept by the broker and delivered when it is
 * back. Reconnects back off exponentially (reconnect_min_ms doubling up to reconnect_max_ms,
 * jittered by reconnect_jitter). `broker`: "embedded" (the default: an aedes broker on
 * 127.0.0.1:`embedded_port` in this process, zero setup; each persistent session's stored
 * queue bounded by `embedded_max_queued_messages` (100000) and `embedded_max_queued_mb` (256),
 * newer messages dropped past them and counted as embedded_broker.queue_dropped) or an
 * mqtt:// / mqtts:// URL, with
 * `username`/`password` and TLS files (`tls_ca_file`, `tls_cert_file`, `tls_key_file`,
 * `tls_reject_unauthorized`). `mqtt_version` 4 (3.1.1, default) or 5 (`session_expiry_s`).
 *
 * Per payload: the size limit (`max_payload_bytes`) before parsing, decodeMocapFrame, then one
 * MocapValidator per stream (reorder window `reorder_window_frames`/`reorder_window_ms`,
 * released also by a `poll_period_ms` timer), one ClockSync per stream (device → host clock),
 * then for each released frame, stamped at its mid-exposure on the host clock:
 *   mocap/<stream>/<body>/pose  geometry_msgs/PoseStamped per tracked rigid body (names
 *                               sanitised to ROS tokens; a clash gets _<id>)
 *   /tf                         tf2_msgs/TFMessage, `frame_id` ("mocap") → each tracked body
 *   mocap/<stream>/frame        spatial_reward_msgs/MocapFrame
 *   mocap/reward                spatial_reward_msgs/Reward of `reward_spec` when set, over the
 *                               rigid bodies `reward_objects` maps to scene objects, from the
 *                               `reward_stream` stream ("" = the first stream seen)
 * Host receive time is the node's clock at message arrival: ROS time (/clock with
 * use_sim_time) or the system clock at sub-millisecond resolution.
 *
 * Every rejection is counted: decode failures as errors.<payload_too_large | bad_message |
 * wrong_schema>, the validators' counters per stream (stream.<id>.<key> on /diagnostics), broker
 * disconnects and outage durations (mqtt.*). A callback that throws is counted and logged,
 * never rethrown. Parameters are read at start; a bad one stops the node from starting.
 */
export class MocapIngestNode {
  readonly counters = new Counters();
  readonly diagnostics: MocapIngestDiagnostics;
  private readonly clock: RosClock;
  /** The host clock for receive stamps: the wall clock at sub-ms accuracy, advanced monotonically. */
  private readonly anchor = wallClockAnchor();
  private readonly streams = new Map<string, Stream>();
  /** Each decoded frame's payload, until the validator releases the frame (held frames keep theirs alive). */
  private readonly payloads = new WeakMap<MocapFrame, Uint8Array>();
  private readonly limits: MocapLimits;
  private readonly p: IngestParameters;
  private readonly tfPub: Publisher<M.tf2_msgs__msg__TFMessage> | null;
  private readonly rewardPub: Publisher<M.spatial_reward_msgs__msg__Reward> | null;
  private readonly reward: BodyReward | null;
  private rewardStream: string;
  private bodyTopics = 0;
  private embedded: EmbeddedBroker | null = null;
  private client: MqttClient | null = null;
  private pollTimer: Timer | null = null;
  private url = "";
  private everConnected = false;
  /** performance.now() when the connection was lost (or the first attempt began), null while connected. */
  private downSince: number | null = null;
  private readonly link: MqttLinkStatus = {
    url: "", connected: false, connects: 0, disconnects: 0, attempts: 0, nextDelayMs: 0, outages: 0,
    outageMsTotal: 0, outageMsLast: 0, outageMsMax: 0, outageMsNow: 0, sessionsLost: 0,
  };
  private subscribedResolve: (() => void) | null = null;
  private readonly subscribedPromise: Promise<void>;
  private closing: Promise<void> | null = null;
  /** Set once close() has flushed the validators: nothing received after it could be released. */
  private flushed = false;

  constructor(readonly node: TransportNode, private readonly options: MocapIngestOptions = {}) {
    this.p = readParameters(node);
    this.limits = resolveMocapLimits({ maxPayloadBytes: this.p.maxPayloadBytes });
    this.rewardStream = this.p.rewardStream;
    this.reward = this.p.rewardSpec.trim() === "" ? null : makeReward(this.p);
    this.clock = new RosClock(node, (e) => this.diagnostics.errors.report(e, "/clock"));
    this.diagnostics = new MocapIngestDiagnostics(node, this.counters, this.clock, this);
    this.tfPub = this.p.publishTf ? node.createPublisher(T.TFMessage, "/tf", QOS_TF) : null;
    this.rewardPub = this.reward ? node.createPublisher(T.Reward, MOCAP_REWARD_TOPIC, QOS_DEFAULT) : null;
    this.subscribedPromise = new Promise<void>((resolve) => (this.subscribedResolve = resolve));
    this.diagnostics.condition = { level: DIAGNOSTIC_LEVEL.WARN, message: "not started" };
    if (this.reward) node.logger.info(`mocap reward: ${this.reward.specText} over rigid bodies ${this.reward.objects.map((o) => o.body).join(", ")}`);
  }

  /** The broker URL in use ("" before start). */
  get brokerUrl(): string {
    return this.url;
  }

  /** The node's clock for receive stamps: ROS time with use_sim_time, else the system clock at sub-ms accuracy (wall_clock_anchor.ts). */
  now(): bigint {
    if (this.clock.useSimTime) return this.clock.now();
    return anchoredNowNs(this.anchor);
  }

  /**
   * Starts the embedded broker (broker "embedded") and connects; the client keeps retrying with
   * backoff until the broker answers. Rejects only when the embedded broker cannot listen.
   */
  async start(): Promise<void> {
    if (this.client) return;
    if (this.p.broker === "embedded") {
      try {
        this.embedded = await EmbeddedBroker.start({
          port: this.p.embeddedPort, maxQueuedMessages: this.p.embeddedMaxQueuedMessages, maxQueuedBytes: this.p.embeddedMaxQueuedBytes,
          onQueueDrop: (d) => {
            this.counters.inc("embedded_broker.queue_dropped");
            // One line at the first drop of a client and at every 10x, not one per frame of a 240 Hz stream.
            if (Number.isInteger(Math.log10(d.clientDrops))) {
              this.node.logger.warn(`embedded MQTT broker: the session queue of client ${clip(JSON.stringify(d.clientId), 80)} is full ` +
                `(${d.queuedMessages} messages, ${(d.queuedBytes / 1e6).toFixed(1)} MB; embedded_max_queued_messages/_mb): ${d.clientDrops} message(s) dropped so far`);
            }
          },
        });
      } catch (e) {
        const typed = this.diagnostics.errors.report(e, "embedded broker");
        this.diagnostics.condition = { level: DIAGNOSTIC_LEVEL.ERROR, message: typed.message };
        throw typed;
      }
      this.url = this.embedded.url;
      this.node.logger.info(`embedded MQTT broker (aedes, in-memory sessions) listening on ${this.url}`);
    } else this.url = this.p.broker;
    this.link.url = this.url;
    this.downSince = performance.now();
    const settings: MqttConnectionSettings = { ...this.p.connection, url: this.url };
    const { client } = connectMqtt(settings, (delay, attempt) => {
      this.link.nextDelayMs = delay;
      this.link.attempts = attempt;
    });
    this.client = client;
    const errors = this.diagnostics.errors;
    client.on("connect", errors.guard("mqtt connect", (connack: IConnackPacket) => this.onConnect(client, connack)));
    client.on("close", errors.guard("mqtt close", () => this.onClose()));
    client.on("error", (e: Error) => {
      // mqtt.js gives a refused CONNACK a numeric reason code; socket and TLS errors a string one.
      const refused = typeof (e as { code?: unknown }).code === "number";
      this.counters.inc(refused ? "mqtt.connect_refused" : "mqtt.connection_errors");
      errors.report(new SpatialRewardError("backend_unavailable", `MQTT broker ${this.url}: ${e.message}`), "mqtt", true);
      if (refused) {
        this.diagnostics.condition = {
          level: DIAGNOSTIC_LEVEL.ERROR,
          message: `MQTT broker ${this.url} refused the connection (${e.message}): check username, password and client_id; retrying with backoff`,
        };
      }
    });
    client.on("message", errors.guard("mqtt message", (topic: string, payload: Buffer) => this.onMessage(topic, payload)));
    this.pollTimer = this.node.createTimer(this.p.pollPeriodMs, errors.guard("reorder poll", () => this.poll()));
    this.diagnostics.condition = { level: DIAGNOSTIC_LEVEL.WARN, message: `connecting to MQTT broker ${this.url}` };
  }

  /** Resolves once the first subscription was granted. */
  subscribed(): Promise<void> {
    return this.subscribedPromise;
  }

  /** The broker connection's state and history. */
  linkStatus(): MqttLinkStatus {
    return { ...this.link, outageMsNow: this.downSince === null ? 0 : Math.round(performance.now() - this.downSince) };
  }

  /** Streams seen (as named by their MQTT topics). */
  streamIds(): string[] {
    return [...this.streams.keys()];
  }

  /** Each stream's validator counters. */
  streamCounters(): Record<string, MocapCounters> {
    const out: Record<string, MocapCounters> = {};
    for (const [id, s] of this.streams) out[id] = s.validator.counters();
    return out;
  }

  /** Each stream's device → host clock estimate (for episode metadata). */
  clockEstimates(): Record<string, ClockEstimate> {
    const out: Record<string, ClockEstimate> = {};
    for (const [id, s] of this.streams) out[id] = s.clock.estimate();
    return out;
  }

  /**
   * Disconnects (keeping the persistent session on the broker), then releases and publishes
   * every frame still held for reordering, stops the embedded broker and destroys the node's
   * endpoints. Idempotent. The flush comes after the disconnect: a frame delivered while the
   * client ends is held like any other and must be released (or counted) too.
   */
  close(): Promise<void> {
    this.closing ??= (async () => {
      this.pollTimer?.cancel();
      const client = this.client;
      if (client) await new Promise<void>((resolve) => client.end(false, {}, () => resolve()));
      this.flushed = true;
      for (const s of this.streams.values()) this.publishReleased(s, s.validator.flush());
      await this.embedded?.stop();
      this.node.destroy();
    })();
    return this.closing;
  }

  // ---- MQTT -----------------------------------------------------------------------------

  private onConnect(client: MqttClient, connack: IConnackPacket): void {
    this.link.connected = true;
    this.link.connects++;
    this.counters.inc("mqtt.connects");
    const down = this.downSince;
    this.downSince = null;
    if (this.everConnected && down !== null) {
      const ms = Math.round(performance.now() - down);
      this.link.outages++;
      this.link.outageMsTotal += ms;
      this.link.outageMsLast = ms;
      this.link.outageMsMax = Math.max(this.link.outageMsMax, ms);
      this.counters.inc("mqtt.outages");
      this.counters.inc("mqtt.outage_ms_total", ms);
      this.node.logger.warn(`MQTT broker ${this.url} is back after a ${ms} ms outage (${this.link.attempts} reconnect attempt(s))`);
      if (!connack.sessionPresent) {
        this.link.sessionsLost++;
        this.counters.inc("mqtt.sessions_lost");
        this.node.logger.warn(`MQTT broker ${this.url} no longer had session ${this.p.connection.clientId}: frames it held for us while we were away are gone`);
      }
    } else this.node.logger.info(`connected to MQTT broker ${this.url} as ${this.p.connection.clientId} (session ${connack.sessionPresent ? "resumed" : "new"})`);
    this.everConnected = true;
    this.link.attempts = 0;
    this.diagnostics.condition = null;
    // Subscribed on every CONNACK: a broker that lost the session must be told again (a
    // resumed session keeps it, and subscribing again changes nothing there).
    const filter = `${this.p.topicPrefix}/+/frame`;
    client.subscribe(filter, { qos: 1 }, this.diagnostics.errors.guard("mqtt subscribe", (err: Error | null, granted?: { qos: number }[]) => {
      if (err) {
        this.diagnostics.errors.report(new SpatialRewardError("backend_unavailable", `subscribing to ${filter}: ${err.message}`), "mqtt");
        return;
      }
      const qos = granted?.[0]?.qos;
      if (qos === 128 || qos === undefined) {
        this.diagnostics.condition = { level: DIAGNOSTIC_LEVEL.ERROR, message: `the broker refused the subscription to ${filter}` };
        this.diagnostics.errors.report(new SpatialRewardError("backend_unavailable", `the broker refused the subscription to ${filter}`), "mqtt");
        return;
      }
      this.counters.inc("mqtt.subscriptions");
      if (qos < 1) this.node.logger.warn(`the broker granted QoS ${qos} for ${filter}: frames may be lost`);
      this.subscribedResolve?.();
      this.subscribedResolve = null;
    }));
  }

  private onClose(): void {
    const wasConnected = this.link.connected;
    this.link.connected = false;
    // Our own close() is not a lost broker.
    if (this.closing) return;
    if (wasConnected) {
      this.link.disconnects++;
      this.counters.inc("mqtt.disconnects");
      this.downSince = performance.now();
      this.node.logger.warn(`lost the MQTT broker ${this.url}; reconnecting with backoff`);
    }
    // A refusal (ERROR) stays until a connection succeeds.
    if (this.diagnostics.condition?.level === DIAGNOSTIC_LEVEL.ERROR) return;
    const what = this.everConnected ? "MQTT broker unreachable" : "connecting to MQTT broker";
    this.diagnostics.condition = { level: DIAGNOSTIC_LEVEL.WARN, message: `${what} ${this.url}` };
  }

  private onMessage(topic: string, payload: Buffer): void {
    const receiveNs = this.now();
    this.counters.inc("mqtt.messages");
    if (this.flushed) {
      // The client has ended, so this should not happen; if a late event does come, it is counted, not held forever.
      this.counters.inc("dropped.after_close");
      return;
    }
    const id = this.streamIdOf(topic);
    const t0 = performance.now();
    const frame = decodeMocapFrame(payload, this.limits);
    // Only a payload that decodes takes a stream slot: garbage on max_streams topic names must
    // not lock a real stream that starts later out of the ingest.
    const stream = this.streamOf(id, topic);
    if (this.options.onFrame) this.payloads.set(frame, payload);
    this.publishReleased(stream, stream.validator.push(frame, receiveNs));
    this.diagnostics.latency.add(performance.now() - t0);
  }

  private poll(): void {
    const now = this.now();
    for (const s of this.streams.values()) {
      if (s.validator.pending() > 0) this.publishReleased(s, s.validator.poll(now));
    }
  }

  /** The stream id of a message's topic (`<prefix>/<id>/frame`); throws (counted) for any other topic. */
  private streamIdOf(topic: string): string {
    const prefix = `${this.p.topicPrefix}/`;
    const id = topic.startsWith(prefix) && topic.endsWith("/frame") ? topic.slice(prefix.length, -"/frame".length) : null;
    if (id === null || id === "" || id.includes("/")) {
      this.counters.inc("dropped.unexpected_topic");
      throw new InvalidInputError("bad_message", `MQTT message on ${clip(JSON.stringify(topic), 120)}, not ${this.p.topicPrefix}/<stream>/frame`);
    }
    return id;
  }

  /** The stream `id`, created on first sight; throws (counted) over max_streams. */
  private streamOf(id: string, topic: string): Stream {
    const known = this.streams.get(id);
    if (known) return known;
    if (this.streams.size >= this.p.maxStreams) {
      this.counters.inc("dropped.stream_limit");
      throw new InvalidInputError("bad_message", `stream ${clip(JSON.stringify(id), 80)} is over the max_streams limit (${this.p.maxStreams}); its frames are dropped`);
    }
    let token = topicToken(id);
    const taken = new Set([...this.streams.values()].map((s) => s.token));
    while (taken.has(token)) token = `${token}_`;
    const errors = this.diagnostics.errors;
    const stream: Stream = {
      id,
      token,
      validator: new MocapValidator({
        ...this.p.validator,
        streamId: id,
        limits: this.limits,
        onReject: (key, message) => {
          const code = rejectionCode(key);
          if (code !== null) errors.report(new InvalidInputError(code, message), `mocap stream ${clip(id, 60)}`, true);
          else if (key === "stream_resets" || key === "device_time_resets") this.node.logger.info(`mocap stream ${clip(id, 60)}: ${message}`);
        },
      }),
      clock: new ClockSync(),
      framePub: this.p.publishFrames ? this.node.createPublisher(T.MocapFrame, `mocap/${token}/frame`, QOS_DEFAULT) : null,
      bodyPubs: new Map(),
      bodyTokens: new Set(),
    };
    this.streams.set(id, stream);
    if (this.reward && this.rewardStream === "") this.rewardStream = id;
    this.node.logger.info(`mocap stream ${clip(JSON.stringify(id), 80)} on MQTT topic ${clip(topic, 120)} → mocap/${token}/…`);
    return stream;
  }

  // ---- per released frame ------------------------------------------------------------

  private publishReleased(s: Stream, released: readonly ValidatedMocapFrame[]): void {
    // The validator reuses its array: everything is read here, before the next push or poll.
    for (let i = 0; i < released.length; i++) {
      try {
        this.publishFrame(s, released[i]);
      } catch (e) {
        this.counters.inc("dropped.publish_failed");
        this.diagnostics.errors.report(e, `mocap stream ${clip(s.id, 60)} frame ${released[i].frame.frame_number}`);
      }
    }
  }

  private publishFrame(s: Stream, v: ValidatedMocapFrame): void {
    const f = v.frame;
    s.clock.update(f.device_timestamp_ns, v.receiveNs);
    const stampNs = s.clock.toHost(f.device_timestamp_ns);
    const frameId = this.p.frameId;
    if (this.p.publishPoses || this.tfPub) {
      const { poses, tf } = mocapPoses(v, stampNs, frameId);
      if (this.p.publishPoses) {
        for (const p of poses) this.bodyPublisher(s, p.name, p.id)?.publish(p.pose);
      }
      if (this.tfPub && tf.transforms.length > 0) this.tfPub.publish(tf);
    }
    s.framePub?.publish(mocapFrameMessage(v, stampNs, frameId));
    this.counters.inc("frames_out");
    if (this.reward && this.rewardPub && s.id === this.rewardStream) {
      const r = this.reward.update(f, stampNs);
      if ("missing" in r) this.counters.inc("rewards_skipped.body_missing");
      else {
        this.rewardPub.publish(rewardToMsg(r, this.reward.specText, frameId));
        this.counters.inc("rewards_out");
      }
    }
    const onFrame = this.options.onFrame;
    if (onFrame) onFrame({ stream: s.id, frame: v, stampNs, payload: this.payloads.get(f) ?? EMPTY_PAYLOAD });
  }

  /** A body's pose publisher, created on first sight; null (counted) over max_body_topics. */
  private bodyPublisher(s: Stream, name: string, id: number): Publisher<M.geometry_msgs__msg__PoseStamped> | null {
    const known = s.bodyPubs.get(name);
    if (known !== undefined) {
      if (known === null) this.counters.inc("dropped.body_topic_limit");
      return known;
    }
    if (this.bodyTopics >= this.p.maxBodyTopics) {
      s.bodyPubs.set(name, null);
      this.counters.inc("dropped.body_topic_limit");
      this.node.logger.warn(`rigid body ${clip(name, 60)} of stream ${clip(s.id, 60)} gets no pose topic: max_body_topics (${this.p.maxBodyTopics}) reached (its TF is still published)`);
      return null;
    }
    let token = topicToken(name);
    if (s.bodyTokens.has(token)) token = `${token}_${id}`;
    while (s.bodyTokens.has(token)) token = `${token}_`;
    s.bodyTokens.add(token);
    const pub = this.node.createPublisher(T.PoseStamped, `mocap/${s.token}/${token}/pose`, QOS_DEFAULT) as Publisher<M.geometry_msgs__msg__PoseStamped>;
    s.bodyPubs.set(name, pub);
    this.bodyTopics++;
    return pub;
  }
}

// ---- parameters ------------------------------------------------------------------------

interface IngestParameters {
  broker: string;
  embeddedPort: number;
  embeddedMaxQueuedMessages: number;
  embeddedMaxQueuedBytes: number;
  topicPrefix: string;
  connection: Omit<MqttConnectionSettings, "url">;
  maxPayloadBytes: number;
  maxStreams: number;
  maxBodyTopics: number;
  pollPeriodMs: number;
  frameId: string;
  publishPoses: boolean;
  publishTf: boolean;
  publishFrames: boolean;
  validator: { reorderWindowFrames: number; reorderWindowMs: number; quaternionTolerance: number; maxSpeedMps: number; maxPositionM: number };
  rewardSpec: string;
  rewardObjects: string[];
  rewardStream: string;
  rewardSupportZ: string;
  rewardSuccessTolerance: number;
}

function bad(message: string): InvalidInputError {
  return new InvalidInputError("bad_argument", `mocap_ingest: ${message}`);
}

function intParam(node: TransportNode, name: string, def: number, min: number, max: number): number {
  const v = Number(node.declareParameter(name, def));
  if (!Number.isInteger(v) || v < min || v > max) throw bad(`${name} must be an integer from ${min} to ${max}, got ${v}`);
  return v;
}

function numParam(node: TransportNode, name: string, def: number, min: number, max: number): number {
  const v = Number(node.declareParameter(name, def));
  if (!Number.isFinite(v) || v < min || v > max) throw bad(`${name} must be a number from ${min} to ${max}, got ${v}`);
  return v;
}

/** Every parameter, declared and checked (a bad one throws InvalidInputError naming it). */
function readParameters(node: TransportNode): IngestParameters {
  const broker = String(node.declareParameter("broker", "embedded"));
  if (broker !== "embedded") {
    try {
      parseBrokerUrl(broker);
    } catch (e) {
      throw bad((e as Error).message);
    }
  }
  const embeddedPort = intParam(node, "embedded_port", 1883, 0, 65535);
  const topicPrefix = String(node.declareParameter("topic_prefix", "mocap"));
  try {
    checkTopicPrefix(topicPrefix);
  } catch (e) {
    throw bad((e as Error).message);
  }
  const mqttVersion = intParam(node, "mqtt_version", 4, 4, 5);
  if (broker === "embedded" && mqttVersion === 5) throw bad("the embedded broker (aedes) speaks MQTT 3.1.1: mqtt_version must be 4 with broker embedded");
  const connection: Omit<MqttConnectionSettings, "url"> = {
    clientId: String(node.declareParameter("client_id", "spatial_reward_mocap_ingest")),
    clean: false,
    protocolVersion: mqttVersion as 4 | 5,
    sessionExpiryS: intParam(node, "session_expiry_s", 3600, 0, 0xffffffff),
    username: String(node.declareParameter("username", "")),
    password: String(node.declareParameter("password", "")),
    tls: {
      caFile: String(node.declareParameter("tls_ca_file", "")),
      certFile: String(node.declareParameter("tls_cert_file", "")),
      keyFile: String(node.declareParameter("tls_key_file", "")),
      rejectUnauthorized: Boolean(node.declareParameter("tls_reject_unauthorized", true)),
    },
    keepaliveS: intParam(node, "keepalive_s", 10, 1, 65535),
    connectTimeoutMs: intParam(node, "connect_timeout_ms", 5000, 100, 600_000),
    backoff: {
      minMs: intParam(node, "reconnect_min_ms", 100, 1, 600_000),
      maxMs: intParam(node, "reconnect_max_ms", 10_000, 1, 3_600_000),
      factor: numParam(node, "reconnect_factor", 2, 1.01, 100),
      jitter: numParam(node, "reconnect_jitter", 0.5, 0, 1),
    },
  };
  if (connection.backoff.maxMs < connection.backoff.minMs) throw bad(`reconnect_max_ms (${connection.backoff.maxMs}) must be ≥ reconnect_min_ms (${connection.backoff.minMs})`);
  const url = broker === "embedded" ? "mqtt://127.0.0.1:1883" : broker;
  try {
    // Checks the client id, credentials and TLS files now, so a bad one stops the node at start.
    mqttClientOptions({ ...connection, url });
  } catch (e) {
    throw bad((e as Error).message);
  }
  const frameId = String(node.declareParameter("frame_id", MOCAP_FRAME_ID));
  if (!usableName(frameId)) throw bad(`frame_id ${JSON.stringify(frameId.slice(0, 80))} is not a usable TF frame id`);
  const p: IngestParameters = {
    broker,
    embeddedPort,
    embeddedMaxQueuedMessages: intParam(node, "embedded_max_queued_messages", DEFAULT_SESSION_QUEUE_LIMITS.maxQueuedMessages, 1, 100_000_000),
    embeddedMaxQueuedBytes: intParam(node, "embedded_max_queued_mb", DEFAULT_SESSION_QUEUE_LIMITS.maxQueuedBytes >> 20, 1, 1 << 20) * (1 << 20),
    topicPrefix,
    connection,
    maxPayloadBytes: intParam(node, "max_payload_bytes", 1 << 20, 64, 64 << 20),
    maxStreams: intParam(node, "max_streams", 16, 1, 1024),
    maxBodyTopics: intParam(node, "max_body_topics", 1024, 0, 100_000),
    pollPeriodMs: intParam(node, "poll_period_ms", 5, 1, 1000),
    frameId,
    publishPoses: Boolean(node.declareParameter("publish_poses", true)),
    publishTf: Boolean(node.declareParameter("publish_tf", true)),
    publishFrames: Boolean(node.declareParameter("publish_frames", true)),
    validator: {
      reorderWindowFrames: intParam(node, "reorder_window_frames", 4, 0, 1000),
      reorderWindowMs: numParam(node, "reorder_window_ms", 20, 0, 10_000),
      quaternionTolerance: numParam(node, "quaternion_tolerance", 1e-3, 0, 1),
      maxSpeedMps: numParam(node, "max_speed_mps", 20, 0, 1e6),
      maxPositionM: numParam(node, "max_position_m", 1000, 0, 1e9),
    },
    rewardSpec: String(node.declareParameter("reward_spec", "")),
    rewardObjects: node.declareParameter("reward_objects", [] as string[]).map(String),
    rewardStream: String(node.declareParameter("reward_stream", "")),
    rewardSupportZ: String(node.declareParameter("reward_support_z", "")),
    rewardSuccessTolerance: numParam(node, "reward_success_tolerance", 0, 0, 100),
  };
  if (p.rewardSpec.trim() === "" && p.rewardObjects.length > 0) throw bad("reward_objects is set but reward_spec is empty");
  return p;
}

function makeReward(p: IngestParameters): BodyReward {
  try {
    const objects = p.rewardObjects.map(parseBodyObject);
    const z = p.rewardSupportZ.trim();
    const supportZ = z === "" ? null : Number(z);
    if (supportZ !== null && !Number.isFinite(supportZ)) throw new InvalidInputError("bad_argument", `reward_support_z must be "" (none) or a height in metres, got ${JSON.stringify(z.slice(0, 40))}`);
    const reward = new BodyReward(p.rewardSpec, objects, p.rewardSuccessTolerance, supportZ);
    reward.selfCheck();
    return reward;
  } catch (e) {
    throw bad(`reward: ${(e as Error).message}`);
  }
}

// ---- diagnostics -----------------------------------------------------------------------

/**
 * /diagnostics of mocap_ingest: the standard status, plus each stream's validator counters
 * (stream.<id>.<key>, non-zero ones) and clock estimate, and the broker link (mqtt.*). WARN
 * while the broker is unreachable and when frames or bodies were rejected or lost since the
 * last report; ERROR when the embedded broker could not start or the subscription was refused.
 */
export class MocapIngestDiagnostics extends DiagnosticsPublisher {
  private previousRejections = 0;

  constructor(node: TransportNode, counters: Counters, clock: RosClock, private readonly ingest: MocapIngestNode) {
    super(node, "mocap_ingest", counters, clock);
  }

  override snapshot(nowNs?: bigint): M.diagnostic_msgs__msg__DiagnosticArray {
    const link = this.ingest.linkStatus();
    if (link.url !== "" && !link.connected && this.condition?.level !== DIAGNOSTIC_LEVEL.ERROR) {
      const what = link.connects > 0 ? "MQTT broker unreachable" : "connecting to MQTT broker";
      this.condition = {
        level: DIAGNOSTIC_LEVEL.WARN,
        message: `${what} ${link.url} for ${(link.outageMsNow / 1000).toFixed(1)} s (${link.attempts} reconnect attempt(s), next in ${link.nextDelayMs} ms)`,
      };
    }
    const msg = super.snapshot(nowNs);
    const status = msg.status[0];
    status.values.push(
      { key: "mqtt.url", value: link.url },
      { key: "mqtt.connected", value: String(link.connected) },
      { key: "mqtt.reconnect_attempts", value: String(link.attempts) },
      { key: "mqtt.next_reconnect_ms", value: String(link.nextDelayMs) },
      { key: "mqtt.outage_ms_now", value: String(link.outageMsNow) },
      { key: "mqtt.outage_ms_last", value: String(link.outageMsLast) },
      { key: "mqtt.outage_ms_max", value: String(link.outageMsMax) },
    );
    let rejections = 0;
    const clocks = this.ingest.clockEstimates();
    for (const [id, c] of Object.entries(this.ingest.streamCounters())) {
      const key = `stream.${topicToken(id)}`;
      for (const k of MOCAP_COUNTER_KEYS) if (c[k] !== 0) status.values.push({ key: `${key}.${k}`, value: String(c[k]) });
      for (const k of REJECTION_KEYS) rejections += c[k];
      const e = clocks[id];
      status.values.push(
        { key: `${key}.clock_offset_ns`, value: String(e.offset_ns) },
        { key: `${key}.clock_drift_ppm`, value: e.drift_ppm.toFixed(3) },
        { key: `${key}.clock_residual_ns`, value: e.residual_ns.toFixed(0) },
        { key: `${key}.clock_resets`, value: String(e.resets) },
        { key: `${key}.clock_congestions`, value: String(e.congestions) },
      );
    }
    const fresh = rejections - this.previousRejections;
    this.previousRejections = rejections;
    if (fresh > 0) {
      status.level = Math.max(status.level, DIAGNOSTIC_LEVEL.WARN) as DiagnosticLevel;
      const note = `${fresh} mocap frame/body rejection(s) or lost frame(s) since the last report (${rejections} in all)`;
      status.message = status.message === "OK" ? note : `${status.message}; ${note}`;
    }
    return msg;
  }
}
