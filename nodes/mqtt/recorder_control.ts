import type { IConnackPacket, IPublishPacket, MqttClient } from "mqtt";
import type { Counters } from "../../src/diagnostics/counters.js";
import { InvalidInputError, SpatialRewardError } from "../../src/errors.js";
import { decodeRecorderControl, resolveMocapLimits, type MocapLimits } from "../../src/mocap/mocap_codec.js";
import { ControlFreshness, DEFAULT_CONTROL_FRESHNESS, type ControlFreshnessOptions } from "../../src/mocap/control_freshness.js";
import { controlSeed } from "../../src/record/episode_metadata.js";
import { RecorderControl_Command, type RecorderControl } from "../../src/msgs/mocap_proto.js";
import type { TransportNode } from "../../src/transport/port.js";
import { connectMqtt, mqttClientOptions, NO_TLS, type MqttConnectionSettings } from "./mqtt_connection.js";
import { DEFAULT_BACKOFF } from "./reconnect_backoff.js";

/** The control topic of msgs/proto/mocap.proto's RecorderControl. */
export const DEFAULT_CONTROL_TOPIC = "mocap/control";
/** How long after the CONNACK of a resumed session unstamped commands count as queued (see MqttRecorderControl). */
export const REPLAY_GRACE_MS = 1000;
/** A control message is a command and two short strings: anything near this size is hostile. */
const CONTROL_LIMITS: MocapLimits = resolveMocapLimits({ maxPayloadBytes: 64 * 1024 });

/** What the control drives: the recorder's start and stop (RecorderNode satisfies it). */
export interface RecorderControlTarget {
  start(request: { task: string; operator: string; seed?: bigint | null }): Promise<unknown>;
  stop(): Promise<unknown>;
}

export interface RecorderControlParameters {
  settings: MqttConnectionSettings;
  topic: string;
  /** How old commands may be, and whether they must be stamped (src/mocap/control_freshness.ts). */
  freshness: Omit<ControlFreshnessOptions, "maxSenders">;
}

function bad(message: string): InvalidInputError {
  return new InvalidInputError("bad_argument", `recorder: ${message}`);
}

/**
 * The recorder's MQTT control parameters, declared on `node`; null when `mqtt_control_broker`
 * is "" (the default: no MQTT control). The connection is the one every spatial-reward MQTT
 * client uses (nodes/mqtt/mqtt_connection.ts): QoS 1 over a persistent session with a fixed
 * client id, so a command sent while the recorder is reconnecting is delivered when it is
 * back; credentials and TLS files as the ingest takes them. A bad value throws (the node does
 * not start).
 */
export function readRecorderControlParameters(node: TransportNode): RecorderControlParameters | null {
  const url = String(node.declareParameter("mqtt_control_broker", ""));
  const topic = String(node.declareParameter("mqtt_control_topic", DEFAULT_CONTROL_TOPIC));
  const settings: MqttConnectionSettings = {
    url,
    clientId: String(node.declareParameter("mqtt_client_id", "spatial_reward_recorder")),
    clean: false,
    protocolVersion: 4,
    sessionExpiryS: 3600,
    username: String(node.declareParameter("mqtt_username", "")),
    password: String(node.declareParameter("mqtt_password", "")),
    tls: {
      caFile: String(node.declareParameter("mqtt_tls_ca_file", NO_TLS.caFile)),
      certFile: String(node.declareParameter("mqtt_tls_cert_file", NO_TLS.certFile)),
      keyFile: String(node.declareParameter("mqtt_tls_key_file", NO_TLS.keyFile)),
      rejectUnauthorized: Boolean(node.declareParameter("mqtt_tls_reject_unauthorized", NO_TLS.rejectUnauthorized)),
    },
    keepaliveS: 10,
    connectTimeoutMs: 5000,
    backoff: { ...DEFAULT_BACKOFF },
  };
  const maxAgeMs = Number(node.declareParameter("mqtt_control_max_age_ms", DEFAULT_CONTROL_FRESHNESS.maxAgeMs));
  const requireStamp = node.declareParameter("mqtt_control_require_stamp", DEFAULT_CONTROL_FRESHNESS.requireStamp);
  if (url === "") return null;
  if (!Number.isSafeInteger(maxAgeMs) || maxAgeMs < 1 || maxAgeMs > 86_400_000) throw bad(`mqtt_control_max_age_ms must be an integer from 1 to 86400000, got ${maxAgeMs}`);
  if (typeof requireStamp !== "boolean") throw bad(`mqtt_control_require_stamp must be true or false, got ${JSON.stringify(requireStamp)}`);
  if (!/^[A-Za-z0-9_-]+(?:\/[A-Za-z0-9_-]+)*$/.test(topic) || topic.length > 200) {
    throw bad(`mqtt_control_topic must be MQTT topic levels of A-Z a-z 0-9 _ - (no wildcards), got ${JSON.stringify(topic.slice(0, 80))}`);
  }
  try {
    mqttClientOptions(settings);
  } catch (e) {
    throw bad((e as Error).message);
  }
  return { settings, topic, freshness: { maxAgeMs, requireStamp } };
}

/**
 * Episode control over MQTT: RecorderControl protobuf messages (msgs/proto/mocap.proto) on
 * `topic` start (START, with task, operator and seed; seed 0 = none given) and stop (STOP)
 * the target's episodes. Every payload is counted (`mqtt_control.messages`); one that is too
 * large, undecodable or has no known command is counted (`mqtt_control.rejected`), handed to
 * `onError` as a typed error and skipped. A command the target refuses (START while recording)
 * goes to `onError` too. Broker outages are retried with the shared backoff.
 *
 * Old commands are not acted on (ControlFreshness): a retained one, one stamped (issued_at_ns)
 * more than `mqtt_control_max_age_ms` (10 s) away from now, one whose sequence its sender has
 * used already, and an unstamped one delivered in a resumed session's replay phase (after a
 * CONNACK with session present, until its SUBACK and at least REPLAY_GRACE_MS: when the broker
 * sends what it queued while the recorder was away) or at all with `mqtt_control_require_stamp`. Each is counted (`mqtt_control.stale` and
 * `mqtt_control.stale.<reason>`) and reported as out_of_order_stamp; accepted unstamped
 * commands are counted as `mqtt_control.unstamped`.
 */
export class MqttRecorderControl {
  private readonly client: MqttClient;
  private subscribedResolve: (() => void) | null = null;
  private readonly subscribedPromise: Promise<void>;
  private closing: Promise<void> | null = null;
  private readonly freshness: ControlFreshness;
  /**
   * A resumed session's replay phase: from its CONNACK until both that connection's SUBACK and
   * REPLAY_GRACE_MS have passed. Mosquitto sends what it queued for the session before it reads
   * our SUBSCRIBE; aedes may answer the SUBSCRIBE first and send its queue just after.
   */
  private awaitingSuback = false;
  private replayUntilMs = 0;

  constructor(
    private readonly p: RecorderControlParameters,
    private readonly target: RecorderControlTarget,
    private readonly counters: Counters,
    private readonly onError: (e: unknown, context: string) => void,
    private readonly log: (message: string) => void = () => {},
    /** Unix time now (ns): what command stamps are compared with. */
    private readonly nowNs: () => bigint = () => BigInt(Date.now()) * 1_000_000n,
  ) {
    this.freshness = new ControlFreshness(p.freshness);
    this.subscribedPromise = new Promise<void>((resolve) => (this.subscribedResolve = resolve));
    this.client = connectMqtt(p.settings).client;
    this.client.on("connect", (connack: IConnackPacket) => this.guard("mqtt connect", () => this.onConnect(connack)));
    this.client.on("error", (e: Error) => {
      this.counters.inc("mqtt_control.connection_errors");
      this.onError(new SpatialRewardError("backend_unavailable", `MQTT control broker ${p.settings.url}: ${e.message}`), "mqtt control");
    });
    this.client.on("message", (topic: string, payload: Buffer, packet: IPublishPacket) => this.guard(`MQTT ${p.topic}`, () => this.onMessage(topic, payload, packet)));
  }

  /** Resolves once the broker granted the subscription. */
  subscribed(): Promise<void> {
    return this.subscribedPromise;
  }

  /** Disconnects (the persistent session stays on the broker). Idempotent. */
  close(): Promise<void> {
    this.closing ??= new Promise<void>((resolve) => this.client.end(false, {}, () => resolve()));
    return this.closing;
  }

  private guard(context: string, fn: () => void): void {
    try {
      fn();
    } catch (e) {
      this.onError(e, context);
    }
  }

  private onConnect(connack: IConnackPacket): void {
    this.counters.inc("mqtt_control.connects");
    // Only a session the broker kept can hold queued commands.
    const resumed = connack?.sessionPresent === true;
    this.awaitingSuback = resumed;
    this.replayUntilMs = resumed ? performance.now() + REPLAY_GRACE_MS : 0;
    // Subscribed on every CONNACK: a broker that lost the session must be told again.
    this.client.subscribe(this.p.topic, { qos: 1 }, (err, granted) => this.guard("mqtt control subscribe", () => {
      this.awaitingSuback = false;
      const qos = granted?.[0]?.qos;
      if (err || qos === undefined || qos === 128) {
        throw new SpatialRewardError("backend_unavailable", `the broker ${this.p.settings.url} refused the subscription to ${this.p.topic}${err ? `: ${err.message}` : ""}`);
      }
      if (this.subscribedResolve) this.log(`episode control on MQTT ${this.p.topic} at ${this.p.settings.url}`);
      this.subscribedResolve?.();
      this.subscribedResolve = null;
    }));
  }

  private onMessage(topic: string, payload: Buffer, packet: IPublishPacket | undefined): void {
    this.counters.inc("mqtt_control.messages");
    let control: RecorderControl;
    try {
      if (topic !== this.p.topic) throw new InvalidInputError("bad_message", `a message on ${JSON.stringify(topic.slice(0, 120))}, not ${this.p.topic}`);
      control = decodeRecorderControl(payload, CONTROL_LIMITS);
      if (control.command !== RecorderControl_Command.START && control.command !== RecorderControl_Command.STOP) {
        throw new InvalidInputError("bad_message", `RecorderControl command must be START (1) or STOP (2), got ${String(control.command)}`);
      }
    } catch (e) {
      this.counters.inc("mqtt_control.rejected");
      throw e;
    }
    const context = `MQTT ${this.p.topic}`;
    const replay = this.awaitingSuback || performance.now() < this.replayUntilMs;
    const verdict = this.freshness.check(control, { retained: packet?.retain === true, replay }, this.nowNs());
    if (!verdict.ok) {
      this.counters.inc("mqtt_control.stale");
      this.counters.inc(`mqtt_control.stale.${verdict.reason}`);
      throw new InvalidInputError("out_of_order_stamp", `${control.command === RecorderControl_Command.START ? "START" : "STOP"}: ${verdict.message}`);
    }
    if (verdict.unstamped) this.counters.inc("mqtt_control.unstamped");
    if (control.command === RecorderControl_Command.START) {
      this.counters.inc("mqtt_control.starts");
      this.target.start({ task: control.task, operator: control.operator, seed: controlSeed(control.seed) }).catch((e: unknown) => this.onError(e, context));
    } else {
      this.counters.inc("mqtt_control.stops");
      this.target.stop().catch((e: unknown) => this.onError(e, context));
    }
  }
}
