import type { MqttClient } from "mqtt";
import { InvalidInputError } from "../../src/errors.js";
import { encodeMocapFrame } from "../../src/mocap/mocap_codec.js";
import type { MocapFrame } from "../../src/msgs/mocap_proto.js";
import { connectMqtt, NO_TLS, type MqttConnectionSettings } from "./mqtt_connection.js";
import { DEFAULT_BACKOFF } from "./reconnect_backoff.js";

/**
 * Where a publisher gets its frames: a mocap system, the simulator's emitter (sim/), a BVH
 * file, a test. The publisher calls next() once per tick of its rate with the tick's device
 * time (nanoseconds on the source's clock: the publisher's clock plus the configured device
 * offset); the source returns the frame for that moment, with its own stream id, frame number
 * and device timestamp (a source may add jitter or skew to the latter), or null for a tick it
 * drops (a simulated dropout: the frame number it skips is the gap the ingest must count).
 * The publisher encodes the frame before next() is called again, so a source may reuse one
 * frame object.
 */
export interface MocapFrameSource {
  next(deviceNs: bigint): MocapFrame | null;
}

export interface MocapPublisherOptions {
  /** The broker, e.g. mqtt://127.0.0.1:1883. */
  url: string;
  source: MocapFrameSource;
  /** Frames per second (> 0, ≤ 10000). */
  rateHz: number;
  /** Topic prefix: frames go to <prefix>/<stream_id>/frame. Default "mocap". */
  topicPrefix?: string;
  /** Fixed client id (persistent session). Default "spatial_reward_mocap_publisher". */
  clientId?: string;
  /** Stop after this many ticks (undefined = until stop()). */
  maxTicks?: number;
  /** Added to the publisher's clock to give the device time passed to next() (ns). Default 0. */
  deviceOffsetNs?: bigint;
  /** The publisher's clock (ns, monotonic). Default process.hrtime.bigint (CLOCK_MONOTONIC: shared by every process on the host). */
  clock?: () => bigint;
  /**
   * Frames published but not yet acknowledged (PUBACK) that may pile up, e.g. while the broker
   * is down (mqtt.js keeps them in memory and resends them on reconnect). Beyond it frames are
   * dropped and counted (frames_dropped_backlog). Default 50000: MQTT packet ids are 16-bit, so
   * at most 65535 can be outstanding at all.
   */
  maxUnacked?: number;
  /** Connection settings beyond the URL and client id (TLS, credentials, backoff...). */
  connection?: Partial<Omit<MqttConnectionSettings, "url" | "clientId">>;
  /** Told the clock time of every publish call (for latency measurements), after it is handed to the client. */
  onPublished?: (frame: MocapFrame, publishNs: bigint) => void;
}

export interface MocapPublisherStats {
  ticks: number;
  /** Frames handed to the MQTT client (publish called). */
  frames_sent: number;
  /** Payload bytes of the frames sent. */
  bytes_sent: number;
  /** Frames the broker acknowledged (PUBACK). */
  frames_acked: number;
  /** Ticks the source returned null for. */
  frames_skipped_by_source: number;
  /** Frames not sent because maxUnacked frames were outstanding. */
  frames_dropped_backlog: number;
  /** Frames the source could not produce or the codec could not encode, or whose stream id cannot be a topic level. */
  frames_failed: number;
  /** Frames sent that the client gave up on (an error instead of PUBACK, e.g. closed with force). */
  frames_send_failed: number;
  /** Ticks that ran late enough to be caught up in one timer callback. */
  late_ticks: number;
  connects: number;
  disconnects: number;
}

const MAX_CATCH_UP_TICKS = 1000;

/**
 * Publishes encoded MocapFrames at a fixed rate to <prefix>/<stream_id>/frame with QoS 1 over a
 * persistent session (clean=false, fixed client id): frames published while the broker is
 * unreachable stay in the client and are sent when it reconnects (with exponential backoff), so
 * a broker restart loses nothing as long as maxUnacked is not reached.
 *
 * Ticks are scheduled on absolute times (t0 + k / rate), not by repeated fixed sleeps, so the
 * rate does not drift with timer latency; ticks that fall behind (a busy event loop) are caught
 * up in order, counted as late_ticks. Frame numbers and stamps are the source's.
 */
export class MocapPublisher {
  readonly stats: MocapPublisherStats = {
    ticks: 0, frames_sent: 0, bytes_sent: 0, frames_acked: 0, frames_skipped_by_source: 0, frames_dropped_backlog: 0, frames_failed: 0, frames_send_failed: 0,
    late_ticks: 0, connects: 0, disconnects: 0,
  };
  /** The last source or encode error, for logs. */
  lastError = "";
  private readonly client: MqttClient;
  private readonly prefix: string;
  private readonly periodNs: bigint;
  private readonly clock: () => bigint;
  private readonly deviceOffsetNs: bigint;
  private readonly maxUnacked: number;
  private readonly maxTicks: number;
  private timer: NodeJS.Timeout | null = null;
  private t0 = 0n;
  private running = false;
  private finishedResolve: (() => void) | null = null;
  private readonly finishedPromise: Promise<void>;
  private wasConnected = false;

  constructor(private readonly o: MocapPublisherOptions) {
    if (!Number.isFinite(o.rateHz) || o.rateHz <= 0 || o.rateHz > 10_000) throw new InvalidInputError("bad_argument", `mocap publisher rate must be in (0, 10000] Hz, got ${o.rateHz}`);
    this.prefix = o.topicPrefix ?? "mocap";
    checkTopicPrefix(this.prefix);
    this.maxUnacked = o.maxUnacked ?? 50_000;
    if (!Number.isInteger(this.maxUnacked) || this.maxUnacked < 1 || this.maxUnacked > 65_000) {
      throw new InvalidInputError("bad_argument", `maxUnacked must be an integer from 1 to 65000, got ${this.maxUnacked}`);
    }
    this.maxTicks = o.maxTicks ?? Infinity;
    if (this.maxTicks !== Infinity && (!Number.isInteger(this.maxTicks) || this.maxTicks < 0)) throw new InvalidInputError("bad_argument", `maxTicks must be an integer ≥ 0, got ${this.maxTicks}`);
    this.periodNs = BigInt(Math.round(1e9 / o.rateHz));
    this.clock = o.clock ?? process.hrtime.bigint;
    this.deviceOffsetNs = o.deviceOffsetNs ?? 0n;
    this.finishedPromise = new Promise<void>((resolve) => (this.finishedResolve = resolve));
    const c = o.connection ?? {};
    const { client } = connectMqtt({
      url: o.url,
      clientId: o.clientId ?? "spatial_reward_mocap_publisher",
      clean: c.clean ?? false,
      protocolVersion: c.protocolVersion ?? 4,
      sessionExpiryS: c.sessionExpiryS ?? 3600,
      username: c.username ?? "",
      password: c.password ?? "",
      tls: c.tls ?? NO_TLS,
      keepaliveS: c.keepaliveS ?? 10,
      connectTimeoutMs: c.connectTimeoutMs ?? 5000,
      backoff: c.backoff ?? DEFAULT_BACKOFF,
    });
    this.client = client;
    client.on("connect", () => {
      this.stats.connects++;
      this.wasConnected = true;
    });
    client.on("close", () => {
      if (this.wasConnected) this.stats.disconnects++;
      this.wasConnected = false;
    });
    // Connection errors are retried by the client; without a listener EventEmitter would throw them.
    client.on("error", (e) => (this.lastError = e.message));
  }

  get connected(): boolean {
    return this.client.connected;
  }

  /** Frames sent and not yet acknowledged. */
  get unacked(): number {
    return this.stats.frames_sent - this.stats.frames_acked - this.stats.frames_send_failed;
  }

  /** Resolves once the client is connected (it retries until then). */
  waitConnected(): Promise<void> {
    if (this.client.connected) return Promise.resolve();
    return new Promise<void>((resolve) => this.client.once("connect", () => resolve()));
  }

  /** Starts ticking now. Resolves when maxTicks ticks ran (see finished()). */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.t0 = this.clock();
    this.schedule();
  }

  /** Resolves when maxTicks ticks ran or stop() was called. */
  finished(): Promise<void> {
    return this.finishedPromise;
  }

  /**
   * Waits until every sent frame is acknowledged (at most `timeoutMs`); resolves true when
   * none is left unacknowledged.
   */
  async drain(timeoutMs = 10_000): Promise<boolean> {
    const end = Date.now() + timeoutMs;
    while (this.unacked > 0 && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
    return this.unacked === 0;
  }

  /** Stops ticking (frames already sent keep being retried until close()). */
  stop(): void {
    this.running = false;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.finishedResolve?.();
  }

  /** Stops and disconnects; `force` drops unacknowledged frames instead of waiting for them. */
  async close(force = false): Promise<void> {
    this.stop();
    await new Promise<void>((resolve) => this.client.end(force, {}, () => resolve()));
  }

  private schedule(): void {
    if (!this.running) return;
    const due = this.t0 + BigInt(this.stats.ticks) * this.periodNs;
    const waitMs = Number(due - this.clock()) / 1e6;
    this.timer = setTimeout(() => this.tick(), Math.max(0, Math.floor(waitMs)));
  }

  private tick(): void {
    this.timer = null;
    let ran = 0;
    // Every tick that is due runs now, in order: a late timer must not skip frames.
    while (this.running && this.stats.ticks < this.maxTicks && ran < MAX_CATCH_UP_TICKS) {
      const due = this.t0 + BigInt(this.stats.ticks) * this.periodNs;
      if (due > this.clock()) break;
      if (ran > 0) this.stats.late_ticks++;
      this.publishTick(due);
      ran++;
    }
    if (this.stats.ticks >= this.maxTicks) {
      this.stop();
      return;
    }
    this.schedule();
  }

  private publishTick(dueNs: bigint): void {
    this.stats.ticks++;
    let frame: MocapFrame | null;
    let payload: Uint8Array;
    try {
      frame = this.o.source.next(dueNs + this.deviceOffsetNs);
      if (frame === null) {
        this.stats.frames_skipped_by_source++;
        return;
      }
      payload = encodeMocapFrame(frame);
    } catch (e) {
      this.stats.frames_failed++;
      this.lastError = e instanceof Error ? e.message : String(e);
      return;
    }
    if (!isTopicLevel(frame.stream_id)) {
      this.stats.frames_failed++;
      this.lastError = `stream id ${JSON.stringify(String(frame.stream_id).slice(0, 80))} cannot be an MQTT topic level`;
      return;
    }
    if (this.unacked >= this.maxUnacked) {
      this.stats.frames_dropped_backlog++;
      return;
    }
    const topic = `${this.prefix}/${frame.stream_id}/frame`;
    this.stats.frames_sent++;
    this.stats.bytes_sent += payload.byteLength;
    this.client.publish(topic, Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength), { qos: 1 }, (err) => {
      // The callback of a QoS 1 publish runs at PUBACK, or with an error when the client gave it up.
      if (err) {
        this.stats.frames_send_failed++;
        this.lastError = err.message;
      } else this.stats.frames_acked++;
    });
    this.o.onPublished?.(frame, this.clock());
  }
}

const PREFIX = /^[A-Za-z0-9_-]+(?:\/[A-Za-z0-9_-]+)*$/;

/** An MQTT topic prefix without wildcards or empty levels (e.g. "mocap", "lab/mocap"). */
export function checkTopicPrefix(prefix: string): string {
  if (!PREFIX.test(prefix) || prefix.length > 200) {
    throw new InvalidInputError("bad_argument", `MQTT topic prefix must be levels of A-Z a-z 0-9 _ - separated by "/" (no wildcards), got ${JSON.stringify(prefix.slice(0, 80))}`);
  }
  return prefix;
}

/** A non-empty MQTT topic level without separators or wildcards (what a stream id must be to name its topic). */
export function isTopicLevel(text: string): boolean {
  return typeof text === "string" && text.length > 0 && text.length <= 128 && !/[/+#\u0000]/.test(text);
}
