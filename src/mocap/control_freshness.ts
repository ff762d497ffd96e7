import { InvalidInputError } from "../errors.js";
import type { RecorderControl } from "../msgs/mocap_proto.js";

/**
 * Whether an episode command that arrived over MQTT is one to act on now, or an old one the
 * broker kept: a retained message (delivered to every new subscription), or one queued in the
 * recorder's persistent session while it was away and delivered when it connects again, maybe
 * hours later. Acting on such a command would start or stop an episode nobody asked for now.
 *
 * Rules, in order:
 * 1. A retained delivery is refused ("retained"): control is an event, never state.
 * 2. A stamped command (issued_at_ns ≠ 0, the sender's Unix time) older than maxAgeMs, or more
 *    than maxAgeMs in the future (a sender clock that cannot be trusted), is refused
 *    ("too_old", "from_future"). Sender and recorder clocks must agree within the window (NTP).
 * 3. A command with a sequence (≠ 0) not above the last accepted from the same sender is
 *    refused ("old_sequence"): a QoS 1 redelivery, or a replay inside the age window. Senders
 *    are remembered up to maxSenders (the least recently seen forgotten first).
 * 4. An unstamped command (an older sender) cannot be dated: refused when requireStamp
 *    ("unstamped"); else refused when it arrived in a replay phase — when the broker sends what
 *    it queued for a resumed session, which the caller tells (MqttRecorderControl: from a
 *    CONNACK with session present until the SUBACK and at least a grace second after it)
 *    ("queued_unstamped"); else accepted and counted as unstamped. Stamping is the reliable way:
 *    no MQTT 3.1.1 flag tells a queued message from a live one.
 */
export interface ControlFreshnessOptions {
  /** Oldest (and furthest in the future) a stamped command may be (ms). Default 10000. */
  maxAgeMs: number;
  /** Refuse commands without issued_at_ns. Default false (they are accepted outside a replay). */
  requireStamp: boolean;
  /** Senders whose last sequence is remembered. Default 256. */
  maxSenders: number;
}

export const DEFAULT_CONTROL_FRESHNESS: Readonly<ControlFreshnessOptions> = Object.freeze({ maxAgeMs: 10_000, requireStamp: false, maxSenders: 256 });

export const STALE_REASONS = ["retained", "too_old", "from_future", "old_sequence", "queued_unstamped", "unstamped"] as const;
export type StaleReason = (typeof STALE_REASONS)[number];

export type ControlVerdict =
  | { ok: true; unstamped: boolean }
  | { ok: false; reason: StaleReason; message: string };

/** How the command was delivered. */
export interface ControlDelivery {
  /** The MQTT retain flag as delivered (set for a retained message sent on subscription). */
  retained: boolean;
  /** Delivered while the broker sends what it queued for a resumed session. */
  replay: boolean;
}

const MAX_SENDER_CHARS = 256;

export class ControlFreshness {
  readonly options: ControlFreshnessOptions;
  private readonly lastSequence = new Map<string, bigint>();

  constructor(options: Partial<ControlFreshnessOptions> = {}) {
    const o: ControlFreshnessOptions = { ...DEFAULT_CONTROL_FRESHNESS, ...options };
    if (!Number.isSafeInteger(o.maxAgeMs) || o.maxAgeMs < 1) throw new InvalidInputError("bad_argument", `control maxAgeMs must be a positive integer (ms), got ${o.maxAgeMs}`);
    if (!Number.isSafeInteger(o.maxSenders) || o.maxSenders < 1) throw new InvalidInputError("bad_argument", `control maxSenders must be a positive integer, got ${o.maxSenders}`);
    if (typeof o.requireStamp !== "boolean") throw new InvalidInputError("bad_argument", "control requireStamp must be a boolean");
    this.options = o;
  }

  /** Checks `c` delivered as `d` at `nowNs` (Unix ns); an accepted sequence is remembered. */
  check(c: Pick<RecorderControl, "issued_at_ns" | "sequence" | "sender">, d: ControlDelivery, nowNs: bigint): ControlVerdict {
    if (d.retained) return { ok: false, reason: "retained", message: "a retained RecorderControl (delivered on subscription, not sent now) is ignored: publish control commands without the retain flag" };
    const stamp = typeof c.issued_at_ns === "bigint" ? c.issued_at_ns : 0n;
    const windowNs = BigInt(this.options.maxAgeMs) * 1_000_000n;
    if (stamp !== 0n) {
      const ageNs = nowNs - stamp;
      if (ageNs > windowNs) return { ok: false, reason: "too_old", message: `a RecorderControl issued ${fmtMs(ageNs)} ago is ignored (mqtt_control_max_age_ms ${this.options.maxAgeMs}): the broker kept it while the recorder was away` };
      if (-ageNs > windowNs) return { ok: false, reason: "from_future", message: `a RecorderControl stamped ${fmtMs(-ageNs)} in the future is ignored (more than mqtt_control_max_age_ms ${this.options.maxAgeMs}): the sender's clock is off` };
    } else if (this.options.requireStamp) {
      return { ok: false, reason: "unstamped", message: "a RecorderControl without issued_at_ns is ignored (mqtt_control_require_stamp is set): its age cannot be told" };
    } else if (d.replay) {
      return { ok: false, reason: "queued_unstamped", message: "a RecorderControl without issued_at_ns delivered on reconnect, before the subscription was confirmed, is ignored: the broker queued it while the recorder was away and its age cannot be told" };
    }
    const seq = typeof c.sequence === "bigint" ? c.sequence : 0n;
    if (seq !== 0n) {
      const sender = typeof c.sender === "string" ? c.sender.slice(0, MAX_SENDER_CHARS) : "";
      const last = this.lastSequence.get(sender);
      if (last !== undefined && seq <= last) {
        return { ok: false, reason: "old_sequence", message: `a RecorderControl with sequence ${seq} from sender ${JSON.stringify(sender.slice(0, 60))} is ignored: ${last} was taken already (a redelivery or a replay)` };
      }
      // Most recently seen last: the first key is the one to forget.
      this.lastSequence.delete(sender);
      this.lastSequence.set(sender, seq);
      if (this.lastSequence.size > this.options.maxSenders) this.lastSequence.delete(this.lastSequence.keys().next().value as string);
    }
    return { ok: true, unstamped: stamp === 0n };
  }
}

function fmtMs(ns: bigint): string {
  const ms = Number(ns / 1_000_000n);
  return ms >= 10_000 ? `${(ms / 1000).toFixed(0)} s` : `${ms} ms`;
}
