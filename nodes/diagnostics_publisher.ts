import type { TransportNode } from "../src/transport/port.js";
import { QOS_DEFAULT } from "../src/transport/qos.js";
import type { Counters } from "../src/diagnostics/counters.js";
import { LatencyStats } from "../src/diagnostics/latency_stats.js";
import type * as M from "../src/msgs/generated.js";
import { T, header } from "./messages.js";

/**
 * Publishes a node's counters (its own and its transport's, as `transport.*`: rates follow from
 * received.<topic> between two messages, drops from dropped.<topic>) and processing latency as diagnostic_msgs/DiagnosticArray on
 * /diagnostics once per `diagnostics_period_ms` (default 1 s), the way ROS 2 tools expect.
 */
export class DiagnosticsPublisher {
  latency = new LatencyStats();
  lastError = "";
  private readonly pub;
  /** The previous snapshot's received.* counts and time, for per-topic rates. */
  private previous: { t: bigint; counts: Map<string, number> } | null = null;

  constructor(private readonly node: TransportNode, private readonly what: string, readonly counters: Counters) {
    this.pub = node.createPublisher<M.diagnostic_msgs__msg__DiagnosticArray>(T.DiagnosticArray, "/diagnostics", QOS_DEFAULT);
    const period = Number(node.declareParameter("diagnostics_period_ms", 1000));
    if (period > 0) node.createTimer(period, () => this.publish());
  }

  /** The message published now (also handy for tests and the CLI summary). */
  snapshot(nowNs: bigint = BigInt(Date.now()) * 1_000_000n): M.diagnostic_msgs__msg__DiagnosticArray {
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
    this.previous = { t: nowNs, counts: received };
    values.push(
      { key: "latency_ms.p50", value: String(lat.p50) },
      { key: "latency_ms.p99", value: String(lat.p99) },
      { key: "latency_ms.n", value: String(lat.n) },
    );
    const errors = counts.filter(([k]) => k.startsWith("errors.") || k.startsWith("transport.errors.")).reduce((n, [, v]) => n + v, 0);
    return {
      header: header(nowNs, ""),
      status: [{
        level: errors > 0 ? 1 : 0,
        name: `${this.node.fullyQualifiedName}: ${this.what}`,
        message: errors > 0 ? `${errors} input error(s); last: ${this.lastError}` : "OK",
        hardware_id: "",
        values,
      }],
    };
  }

  publish(): void {
    this.pub.publish(this.snapshot());
  }
}
