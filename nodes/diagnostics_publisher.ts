import type { TransportNode } from "../src/transport/port.js";
import { QOS_DEFAULT } from "../src/transport/qos.js";
import type { Counters } from "../src/diagnostics/counters.js";
import { LatencyStats } from "../src/diagnostics/latency_stats.js";
import type * as M from "../src/msgs/generated.js";
import { T, header } from "./messages.js";
import { ErrorReporter } from "./error_reporter.js";
import { WALL_CLOCK, type NodeClock } from "./ros_clock.js";

/** diagnostic_msgs/DiagnosticStatus levels. */
export const DIAGNOSTIC_LEVEL = { OK: 0, WARN: 1, ERROR: 2, STALE: 3 } as const;
export type DiagnosticLevel = (typeof DIAGNOSTIC_LEVEL)[keyof typeof DIAGNOSTIC_LEVEL];

/** A standing condition of the node that /diagnostics must show until it clears. */
export interface NodeCondition {
  level: DiagnosticLevel;
  message: string;
}

/**
 * Publishes a node's counters (its own and its transport's, as `transport.*`: rates follow from
 * received.<topic> between two messages, drops from dropped.<topic>) and processing latency as
 * diagnostic_msgs/DiagnosticArray on /diagnostics once per `diagnostics_period_ms` (default 1 s),
 * the way ROS 2 tools expect. Owns the node's ErrorReporter, so every counted error also shows
 * in the status line. Level: ERROR for a standing condition of that level or an unexpected
 * exception since the last snapshot; WARN for input errors or a WARN condition; else OK.
 */
export class DiagnosticsPublisher {
  /**
   * Processing time of the last ~10 s (wall clock: simulated time may pause or jump), within 1%.
   * Two significant digits, not three: the window's ring subtracts a whole histogram every
   * second, a loop over every bucket (2.5 k at 2 digits, 23.5 k at 3), which V8 compiled on the
   * stack and threw away at its first non-empty bucket ~100 times a minute for the 12 windows of
   * a 4-camera graph (5-17 ms bursts on the JS thread every second); at 2 digits, 5 times.
   */
  latency = new LatencyStats({ windowMs: 10_000, significantDigits: 2 });
  readonly errors: ErrorReporter;
  /** Set by the node while something keeps it from doing its job (no reward spec, no camera_info). */
  condition: NodeCondition | null = null;
  private readonly pub;
  /** The previous snapshot's received.* counts and time, for per-topic rates. */
  private previous: { t: bigint; counts: Map<string, number>; errors: number; internal: number } | null = null;

  constructor(
    private readonly node: TransportNode,
    private readonly what: string,
    readonly counters: Counters,
    private readonly clock: NodeClock = WALL_CLOCK,
  ) {
    this.errors = new ErrorReporter(counters, node.logger);
    this.pub = node.createPublisher<M.diagnostic_msgs__msg__DiagnosticArray>(T.DiagnosticArray, "/diagnostics", QOS_DEFAULT);
    const period = Number(node.declareParameter("diagnostics_period_ms", 1000));
    if (!Number.isFinite(period) || period < 0) {
      throw new Error(`${what}: diagnostics_period_ms must be ≥ 0 (0 = off), got ${period}`);
    }
    if (period > 0) node.createTimer(period, this.errors.guard("diagnostics timer", () => this.publish()));
  }

  /** The message published now (also handy for tests and the CLI summary). */
  snapshot(nowNs: bigint = this.clock.now()): M.diagnostic_msgs__msg__DiagnosticArray {
    const lat = this.latency.summary();
    // The node's own counters, then its transport's (received/dropped/decode errors per topic), prefixed.
    const counts = Object.entries(this.counters.snapshot());
    for (const [key, value] of Object.entries(this.node.counters().snapshot())) counts.push([`transport.${key}`, value]);
    const values = counts.map(([key, value]) => ({ key, value: String(value) }));
    // Message rates per input topic since the previous snapshot (what `ros2 topic hz` would say).
    const received = new Map(counts.filter(([k]) => k.startsWith("transport.received.")).map(([k, v]) => [k.slice("transport.received.".length), v]));
    if (this.previous && nowNs > this.previous.t) {
      const dt = Number(nowNs - this.previous.t) / 1e9;
      for (const [topic, n] of received) values.push({ key: `rate_hz.${topic}`, value: ((n - (this.previous.counts.get(topic) ?? 0)) / dt).toFixed(2) });
    }
    values.push(
      { key: "latency_ms.p50", value: String(lat.p50) },
      { key: "latency_ms.p99", value: String(lat.p99) },
      { key: "latency_ms.n", value: String(lat.n) },
      { key: "latency_ms.window_s", value: (this.latency.windowDurationMs / 1000).toFixed(1) },
      { key: "latency_ms.total", value: String(this.latency.count) },
    );
    const errors = counts.filter(([k]) => k.startsWith("errors.") || k.startsWith("transport.errors.")).reduce((n, [, v]) => n + v, 0);
    // Levels follow what happened since the last snapshot: an old burst of bad frames must not
    // keep a healthy node WARN forever (the counters keep the history).
    const newErrors = errors - (this.previous?.errors ?? 0);
    const newInternal = this.errors.internalErrors - (this.previous?.internal ?? 0);
    this.previous = { t: nowNs, counts: received, errors, internal: this.errors.internalErrors };
    let level: DiagnosticLevel = newInternal > 0 ? DIAGNOSTIC_LEVEL.ERROR : newErrors > 0 ? DIAGNOSTIC_LEVEL.WARN : DIAGNOSTIC_LEVEL.OK;
    const parts: string[] = [];
    if (this.condition) {
      level = Math.max(level, this.condition.level) as DiagnosticLevel;
      parts.push(this.condition.message);
    }
    if (newErrors > 0) parts.push(`${newErrors} error(s) since the last report (${errors} in all); last: ${this.errors.lastError}`);
    return {
      header: header(nowNs, ""),
      status: [{
        level,
        name: `${this.node.fullyQualifiedName}: ${this.what}`,
        message: parts.length > 0 ? parts.join("; ") : "OK",
        hardware_id: "",
        values,
      }],
    };
  }

  publish(): void {
    this.pub.publish(this.snapshot());
  }
}
