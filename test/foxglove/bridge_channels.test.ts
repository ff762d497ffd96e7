import { describe, expect, it } from "vitest";
import { FoxgloveBridge } from "../../nodes/foxglove/foxglove_bridge.js";
import { InprocTransport } from "../../src/transport/inproc_transport.js";

/** Which channels the bridge offers for a graph per camera namespace, with remaps. */
describe("Foxglove bridge channels", () => {
  it("one set per namespace (launch --namespaces), /tf and /diagnostics once, remaps applied", async () => {
    const transport = new InprocTransport();
    transport.logSinks = [];
    const bridge = await FoxgloveBridge.start(transport, { port: 0, namespaces: ["/cam0", "/cam1"], remaps: ["reward:=reward_engine", "__node:=renamed"] });
    try {
      const topics = bridge.channels.map((c) => c.topic);
      expect(new Set(topics).size).toBe(topics.length);
      for (const ns of ["/cam0", "/cam1"]) {
        expect(topics).toContain(`${ns}/camera/color/image_raw`);
        expect(topics).toContain(`${ns}/scene/objects/boxes`);
        expect(topics).toContain(`${ns}/reward_engine`);
        expect(topics).not.toContain(`${ns}/reward`);
      }
      expect(topics.filter((t) => t === "/tf" || t === "/diagnostics")).toEqual(["/tf", "/diagnostics"]);
      // 10 relative topics + 2 box channels per namespace, 2 absolute ones.
      expect(topics).toHaveLength(2 * 12 + 2);
      expect(bridge.channels.find((c) => c.topic === "/cam1/sim/truth/boxes")).toMatchObject({ encoding: "json", schemaName: "foxglove.SceneUpdate" });
    } finally {
      await bridge.close();
      await transport.shutdown();
    }
  });
});
