import type { MqttClient } from "mqtt";
import { InvalidInputError } from "../../src/errors.js";

export interface BackoffOptions {
  /** First delay after a connection is lost (ms). */
  minMs: number;
  /** No delay is ever longer (ms). */
  maxMs: number;
  /** Growth per failed attempt (> 1). */
  factor: number;
  /** Fraction of each delay that is random (0 = none, 1 = anywhere in [0, delay]). */
  jitter: number;
}

export const DEFAULT_BACKOFF: Readonly<BackoffOptions> = Object.freeze({ minMs: 100, maxMs: 10_000, factor: 2, jitter: 0.5 });

/**
 * Exponential reconnect delays, bounded and jittered: attempt k (from 0 since the last good
 * connection) waits base_k = min(maxMs, minMs · factor^k), less a random part of up to
 * jitter · base_k, so the delay lies in [(1 − jitter) · base_k, base_k]. The jitter keeps a fleet
 * of clients from reconnecting in lockstep after a broker restart; the bound keeps a long outage
 * from leaving the client asleep for minutes once the broker is back.
 */
export class ReconnectBackoff {
  readonly options: Readonly<BackoffOptions>;
  private attemptsValue = 0;

  constructor(options: Partial<BackoffOptions> = {}, private readonly random: () => number = Math.random) {
    const o = { ...DEFAULT_BACKOFF, ...options };
    if (!Number.isFinite(o.minMs) || o.minMs < 1) throw new InvalidInputError("bad_argument", `reconnect minimum delay must be ≥ 1 ms, got ${o.minMs}`);
    if (!Number.isFinite(o.maxMs) || o.maxMs < o.minMs) throw new InvalidInputError("bad_argument", `reconnect maximum delay must be ≥ the minimum (${o.minMs} ms), got ${o.maxMs}`);
    if (!Number.isFinite(o.factor) || o.factor <= 1 || o.factor > 100) throw new InvalidInputError("bad_argument", `reconnect backoff factor must be in (1, 100], got ${o.factor}`);
    if (!Number.isFinite(o.jitter) || o.jitter < 0 || o.jitter > 1) throw new InvalidInputError("bad_argument", `reconnect jitter must be in [0, 1], got ${o.jitter}`);
    this.options = Object.freeze(o);
  }

  /** Delays handed out since the last reset (failed attempts so far in this outage). */
  get attempts(): number {
    return this.attemptsValue;
  }

  /** The delay before the next attempt; each call counts one attempt. */
  next(): number {
    const { minMs, maxMs, factor, jitter } = this.options;
    // Capped before it can overflow: factor^k grows past maxMs long before Infinity.
    const base = Math.min(maxMs, minMs * Math.pow(factor, Math.min(this.attemptsValue, 64)));
    this.attemptsValue++;
    return Math.max(1, Math.round(base - jitter * base * this.random()));
  }

  /** A connection succeeded: the next outage starts again from minMs. */
  reset(): void {
    this.attemptsValue = 0;
  }
}

/**
 * Makes an mqtt.js client reconnect with `backoff` instead of its fixed reconnectPeriod.
 *
 * mqtt.js reads options.reconnectPeriod each time it arms its reconnect timer, which it does
 * from its own 'close' listener (connection lost, or an attempt failed) after every attempt
 * clears the previous timer in connect(). A listener prepended to 'close' sets the period just
 * before that happens, so each attempt waits the next backoff delay; a CONNACK resets it. (This
 * relies on mqtt.js 5's reconnect logic; test/mqtt/reconnect_backoff.test.ts checks the delays
 * it actually produces against a closed port.) reconnectPeriod stays > 0, so mqtt.js keeps its
 * own offline queue and resubscription bookkeeping.
 *
 * `onScheduled(delayMs, attempt)` is told every delay chosen. Returns a function that detaches.
 */
export function applyBackoff(client: MqttClient, backoff: ReconnectBackoff, onScheduled?: (delayMs: number, attempt: number) => void): () => void {
  client.options.reconnectPeriod = backoff.options.minMs;
  const onClose = (): void => {
    const delay = backoff.next();
    client.options.reconnectPeriod = delay;
    onScheduled?.(delay, backoff.attempts);
  };
  const onConnect = (): void => backoff.reset();
  client.prependListener("close", onClose);
  client.on("connect", onConnect);
  return () => {
    client.off("close", onClose);
    client.off("connect", onConnect);
  };
}
