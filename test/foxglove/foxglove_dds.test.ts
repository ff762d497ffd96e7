import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FoxgloveBridge } from "../../nodes/foxglove/foxglove_bridge.js";
import { T } from "../../nodes/messages.js";
import { CdrCodec } from "../../src/msgs/cdr_codec.js";
import type * as M from "../../src/msgs/generated.js";
import { DdsTransport } from "../../src/transport/dds/dds_transport.js";
import type { TransportNode } from "../../src/transport/port.js";
import { QOS_SENSOR_DATA } from "../../src/transport/qos.js";
import { DDS_AVAILABLE, useLoopbackDds } from "../dds/dds_env.js";
import { TestClient, waitUntil } from "./foxglove_test_client.js";

/**
 * The bridge on the dds backend (Cyclone DDS, loopback only): it shows what a node publishes on
 * the ROS 2 wire, from this process's participant (`sim --backend dds --foxglove`) and from
 * another participant (a node in another process).
 */
const DOMAIN = 43;

function image(seed: number): M.sensor_msgs__msg__Image {
  const data = new Uint8Array(640 * 480 * 3);
  for (let i = 0; i < data.length; i += 997) data[i] = (i + seed) & 0xff;
  return { header: { stamp: { sec: 100 + seed, nanosec: 0 }, frame_id: "cam" }, height: 480, width: 640, encoding: "rgb8", is_bigendian: 0, step: 1920, data };
}

describe.runIf(DDS_AVAILABLE)("Foxglove bridge on the dds backend", () => {
  const transports: DdsTransport[] = [];
  beforeAll(() => useLoopbackDds());
  afterAll(async () => {
    for (const t of transports) await t.shutdown();
  });

  async function check(publisherNode: TransportNode, bridgeTransport: DdsTransport): Promise<void> {
    const bridge = await FoxgloveBridge.start(bridgeTransport, { port: 0 });
    const client = await TestClient.connect(bridge.url);
    try {
      client.subscribe("/camera/color/image_raw");
      expect(await waitUntil(() => bridge.subscribedTopics().length === 1, 5000)).toBe(true);
      const pub = publisherNode.createPublisher<M.sensor_msgs__msg__Image>(T.Image, "camera/color/image_raw", QOS_SENSOR_DATA);
      await waitUntil(() => pub.subscriptionCount() > 0, 10_000);
      // Best effort: keep publishing until a few arrive.
      for (let i = 0; i < 200 && client.messages("/camera/color/image_raw").length < 3; i++) {
        pub.publish(image(i));
        await new Promise((r) => setTimeout(r, 30));
      }
      const got = client.messages("/camera/color/image_raw");
      expect(got.length, JSON.stringify(bridge.counters.snapshot())).toBeGreaterThanOrEqual(3);
      const img = new CdrCodec(T.Image).decode(got[0].data);
      const seed = img.header.stamp.sec - 100;
      expect(Buffer.compare(Buffer.from(img.data), Buffer.from(image(seed).data))).toBe(0);
      pub.destroy();
    } finally {
      await client.close();
      await bridge.close();
    }
  }

  it("from a node of the same participant", async () => {
    const t = new DdsTransport({ domainId: DOMAIN });
    transports.push(t);
    await check(t.createNode("camera"), t);
  }, 60_000);

  it("from another participant", async () => {
    const a = new DdsTransport({ domainId: DOMAIN + 1 });
    const b = new DdsTransport({ domainId: DOMAIN + 1 });
    transports.push(a, b);
    await check(a.createNode("camera"), b);
  }, 60_000);
});
