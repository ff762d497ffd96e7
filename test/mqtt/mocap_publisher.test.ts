import { afterEach, describe, expect, it } from "vitest";
import { InvalidInputError } from "../../src/errors.js";
import { InprocTransport } from "../../src/transport/inproc_transport.js";
import type { MocapFrame } from "../../src/msgs/mocap_proto.js";
import { MocapPublisher, type MocapFrameSource } from "../../nodes/mqtt/mocap_publisher.js";
import { freeLoopbackPort } from "../../nodes/mqtt/mosquitto_broker.js";
import { MocapIngestNode } from "../../nodes/mocap_ingest_node.js";
import { makeFrame, waitFor } from "./mqtt_fixtures.js";

/**
 * The QoS 1 publisher sources use (the simulator's emitter, BVH playback, the bench): a source's
 * dropouts (null) become gaps the ingest counts as lost, source and encoding errors are counted
 * and skipped, and frames never pile up past maxUnacked while the broker is away.
 */
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.reverse()) await c();
  cleanups.length = 0;
});

/** Frame k; every 10th tick (k % 10 === 9) a dropout; tick 5 throws; tick 7 has a stream id that cannot be a topic level. */
class FaultySource implements MocapFrameSource {
  k = 0n;
  next(deviceNs: bigint): MocapFrame | null {
    const k = this.k++;
    if (k % 10n === 9n) return null;
    if (k === 5n) throw new Error("source glitch");
    return makeFrame(k === 7n ? "s1/evil" : "s1", k, deviceNs);
  }
}

describe("MocapPublisher", () => {
  it("turns source dropouts into gaps the ingest counts, and skips frames it cannot send", async () => {
    const transport = new InprocTransport();
    transport.logSinks = [];
    const ingest = new MocapIngestNode(transport.createNode("mocap_ingest", { parameterOverrides: { diagnostics_period_ms: 0, embedded_port: 0, reorder_window_ms: 5 } }));
    cleanups.push(async () => {
      await ingest.close();
      await transport.shutdown();
    });
    await ingest.start();
    await ingest.subscribed();
    const pub = new MocapPublisher({ url: ingest.brokerUrl, source: new FaultySource(), rateHz: 500, maxTicks: 40, clientId: "pub-faulty" });
    cleanups.push(() => pub.close(true));
    await pub.waitConnected();
    pub.start();
    await pub.finished();
    expect(await pub.drain(5000)).toBe(true);
    // 40 ticks: 4 dropouts (9, 19, 29, 39), tick 5 threw, tick 7's stream id is refused.
    expect(pub.stats).toMatchObject({ ticks: 40, frames_skipped_by_source: 4, frames_failed: 2, frames_sent: 34, frames_acked: 34 });
    expect(pub.lastError).toMatch(/topic level|glitch/);
    // The ingest saw 34 frames; the 3 interior dropouts and ticks 5 and 7 are gaps (39, the last, is never followed).
    expect(await waitFor(() => ingest.counters.get("frames_out") === 34, 5000)).toBe(true);
    await new Promise((r) => setTimeout(r, 30));
    const c = ingest.streamCounters().s1;
    expect(c.frames_released).toBe(34);
    expect(c.frames_lost).toBe(5);
  });

  it("keeps at most maxUnacked frames while the broker is unreachable, counting the rest", async () => {
    const port = await freeLoopbackPort(); // nothing listens
    const pub = new MocapPublisher({
      url: `mqtt://127.0.0.1:${port}`, source: { next: (d) => makeFrame("s1", 0n, d) }, rateHz: 1000, maxTicks: 50, maxUnacked: 8, clientId: "pub-offline",
      connection: { backoff: { minMs: 1000, maxMs: 1000, factor: 2, jitter: 0 } },
    });
    cleanups.push(() => pub.close(true));
    pub.start();
    await pub.finished();
    expect(pub.connected).toBe(false);
    expect(pub.stats.frames_sent).toBe(8);
    expect(pub.unacked).toBe(8);
    expect(pub.stats.frames_dropped_backlog).toBe(42);
  });

  it("refuses bad options", () => {
    const source = { next: (d: bigint) => makeFrame("s1", 0n, d) };
    for (const o of [{ rateHz: 0 }, { rateHz: NaN }, { rateHz: 20_000 }, { topicPrefix: "mocap/#" }, { topicPrefix: "" }, { maxUnacked: 0 }, { maxUnacked: 70_000 }, { maxTicks: -1 }]) {
      expect(() => new MocapPublisher({ url: "mqtt://127.0.0.1:1", source, rateHz: 240, ...o }), JSON.stringify(o)).toThrow(InvalidInputError);
    }
    expect(() => new MocapPublisher({ url: "http://127.0.0.1", source, rateHz: 240 })).toThrow(/mqtt:\/\//);
  });
});
