import { afterEach, describe, expect, it, vi } from "vitest";
import { TINY_CONFIG } from "../../src/backbone/config.js";
import { SpatialRewardError } from "../../src/errors.js";
import { InprocTransport } from "../../src/transport/inproc_transport.js";
import { SpatialNode } from "../../nodes/spatial_node.js";
import type { BackboneRuntimePort } from "../../nodes/backbone_node.js";

/**
 * demo --backbone closes the backbone runtime (its worker thread) and the transport when the
 * episode fails half-way, not only when it succeeds: a live worker keeps the process from
 * exiting. The runtime module is replaced by a double (the node imports it on demand), and the
 * failure is the engine's spatial_query handler throwing, so the demo's own call rejects.
 */

const runtime = vi.hoisted(() => ({ opened: 0, closed: 0 }));
vi.mock("../../nodes/backbone/backbone_runtime.js", () => ({
  BackboneRuntime: {
    open: async (): Promise<BackboneRuntimePort> => {
      runtime.opened++;
      return {
        config: TINY_CONFIG,
        addStream: () => undefined,
        pushFrame: async () => ({
          encodeMs: 1, preprocessMs: 0, projectMs: 1, prefillMs: 1, totalMs: 3, visualTokens: 49, keptFraction: 1, queueMs: 0, batch: 1, superseded: false,
        }),
        ask: async () => ({ text: "", tokenIds: [], prefillMs: 0, tokenMs: 0, trained: false }),
        onFailure: () => undefined,
        setQuestion: () => undefined,
        close: async () => {
          runtime.closed++;
        },
      };
    },
  },
}));

afterEach(() => {
  vi.restoreAllMocks();
});

describe("demo --backbone when the episode fails", () => {
  it("a rejection half-way still closes the backbone runtime and shuts the transport down, and the error reaches the caller", async () => {
    const shutdown = vi.spyOn(InprocTransport.prototype, "shutdown");
    vi.spyOn(SpatialNode.prototype, "query").mockImplementation(() => {
      throw new SpatialRewardError("internal", "spatial node exploded");
    });
    vi.spyOn(process.stderr, "write").mockImplementation(() => true);
    vi.spyOn(console, "log").mockImplementation(() => undefined);
    const { run } = await import("../../nodes/cli/demo.js");
    await expect(run({ frames: 30, seed: 7, noise: "none", json: true, backbone: true })).rejects.toThrow();
    expect(runtime.opened).toBe(1);
    expect(runtime.closed).toBe(1);
    expect(shutdown).toHaveBeenCalledTimes(1);
  }, 60_000);
});
