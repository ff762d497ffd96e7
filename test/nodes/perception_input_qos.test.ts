import { describe, expect, it, vi } from "vitest";
import { InprocTransport } from "../../src/transport/inproc_transport.js";
import type { QoS } from "../../src/transport/qos.js";
import { PerceptionNode } from "../../nodes/perception_node.js";

const IMAGE_TOPICS = ["camera/color/image_raw", "camera/aligned_depth_to_color/image_raw", "camera/instances"];

/** The QoS the node asks for on its three image topics, given its parameters. */
function inputQos(params: Record<string, number | string>): QoS[] {
  const transport = new InprocTransport();
  const node = transport.createNode("perception", { parameterOverrides: { warmup_frames: 0, segmentation: "masks", ...params } });
  const spy = vi.spyOn(node, "createSubscription");
  try {
    new PerceptionNode(node);
    return spy.mock.calls.filter((c) => IMAGE_TOPICS.includes(c[1])).map((c) => c[2]);
  } finally {
    void transport.shutdown();
  }
}

describe("perception node: the image subscriptions' QoS (input_reliability, input_depth)", () => {
  it("is sensor data by default, keep-all with reliable, keep-last N with reliable and input_depth N", () => {
    expect(inputQos({}).map((q) => [q.reliability, q.history, q.depth])).toEqual(Array(3).fill(["best_effort", "keep_last", 5]));
    expect(inputQos({ input_reliability: "reliable" }).map((q) => [q.reliability, q.history])).toEqual(Array(3).fill(["reliable", "keep_all"]));
    expect(inputQos({ input_reliability: "reliable", input_depth: 0 }).map((q) => q.history)).toEqual(Array(3).fill("keep_all"));
    // Keep-last with reliability is what Cyclone's shared memory (iceoryx) needs.
    expect(inputQos({ input_reliability: "reliable", input_depth: 30 }).map((q) => [q.reliability, q.history, q.depth])).toEqual(Array(3).fill(["reliable", "keep_last", 30]));
    expect(inputQos({ input_depth: 2 }).map((q) => [q.reliability, q.history, q.depth])).toEqual(Array(3).fill(["best_effort", "keep_last", 2]));
  });

  it("refuses a depth that is not an integer in range, with the parameter's name", () => {
    for (const bad of [-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, 1001, 2 ** 53, "ten", ""]) {
      expect(() => inputQos({ input_reliability: "reliable", input_depth: bad }), String(bad)).toThrow(/input_depth/);
    }
    // Keep-all is a reliable-only choice: best effort has nothing to wait for.
    expect(() => inputQos({ input_depth: 0 })).toThrow(/input_depth must be an integer in 1\.\.1000/);
  });
});
