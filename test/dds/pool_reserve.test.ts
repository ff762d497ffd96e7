import { afterEach, beforeAll, describe, expect, it } from "vitest";
import type * as M from "../../src/msgs/generated.js";
import { DdsTransport } from "../../src/transport/dds/dds_transport.js";
import { loadDdsBinding } from "../../src/transport/dds/native_binding.js";
import { sampleLending } from "../../src/transport/dds/sample_lending.js";
import type { QoS } from "../../src/transport/qos.js";
import { DDS_AVAILABLE, until, useLoopbackDds } from "./dds_env.js";

// A domain of its own, so parallel test files never see each other's traffic.
const DOMAIN = 67;
const RELIABLE: QoS = { reliability: "reliable", durability: "volatile", history: "keep_all", depth: 1 };
const DEPTH_BYTES = 640 * 480 * 2;

/**
 * reserveSamples: each call adds its own memory to the process's sample pool (every camera of a
 * process reserves for its images; when a second camera's reservation reused the first one's
 * slots, the pool grew during the first frames instead, faulting fresh memory in on Cyclone's
 * receive thread), and a received sample of the reserved size then takes a reserved slot.
 */
describe.runIf(DDS_AVAILABLE)("sample pool reservation (Cyclone DDS, loopback)", () => {
  const open: DdsTransport[] = [];
  const binding = DDS_AVAILABLE ? loadDdsBinding() : undefined;
  const make = () => {
    const t = new DdsTransport({ domainId: DOMAIN, rosout: false });
    open.push(t);
    return t;
  };
  beforeAll(() => useLoopbackDds());
  afterEach(async () => {
    for (const t of open.splice(0)) await t.shutdown();
  });

  it("adds slots per call (two cameras' reservations are two sets), and received samples of that size reuse them", async () => {
    const node = make().createNode("reserve_listener");
    const lending = sampleLending(node)!;
    expect(lending).not.toBeNull();
    const before = binding!.poolStats();
    expect(lending.reserveSamples(DEPTH_BYTES + 4096, 3)).toBe(3);
    const once = binding!.poolStats();
    expect(once.slots - before.slots).toBe(3);
    const slotBytes = (once.freeBytes - before.freeBytes) / 3;
    expect(slotBytes).toBeGreaterThanOrEqual(DEPTH_BYTES + 4096);
    expect(lending.reserveSamples(DEPTH_BYTES + 4096, 3)).toBe(3);
    const twice = binding!.poolStats();
    expect(twice.slots - before.slots).toBe(6);
    expect(twice.freeBytes - before.freeBytes).toBe(6 * slotBytes);

    // Samples of that size arrive: they take reserved slots, and the pool does not grow.
    const got: number[] = [];
    lending.createLentSubscription<M.sensor_msgs__msg__Image>("sensor_msgs/msg/Image", "reserve/depth", RELIABLE, (msg, lease) => {
      got.push(msg.data.length);
      lending.releaseSample(lease);
    });
    const pub = make().createNode("reserve_talker").createPublisher<M.sensor_msgs__msg__Image>("sensor_msgs/msg/Image", "reserve/depth", RELIABLE);
    await until("match", () => pub.subscriptionCount() === 1);
    const data = new Uint8Array(DEPTH_BYTES).fill(7);
    for (let i = 0; i < 6; i++) {
      pub.publish({ header: { stamp: { sec: i, nanosec: 0 }, frame_id: "cam" }, height: 480, width: 640, encoding: "16UC1", is_bigendian: 0, step: 1280, data });
    }
    await until("six samples", () => got.length === 6);
    expect(got).toEqual(Array(6).fill(DEPTH_BYTES));
    const after = binding!.poolStats();
    expect(after.slots).toBe(twice.slots);
    expect(after.reused - twice.reused).toBeGreaterThanOrEqual(6);
  });

  it("adds nothing for samples the pool does not hold (under 64 KiB), and refuses hostile arguments with a clear error", () => {
    const lending = sampleLending(make().createNode("reserve_hostile"))!;
    const before = binding!.poolStats();
    expect(lending.reserveSamples(1000, 4)).toBe(0);
    expect(lending.reserveSamples(DEPTH_BYTES, 0)).toBe(0);
    for (const [bytes, count] of [[NaN, 1], [-1, 1], [Infinity, 1], [DEPTH_BYTES, -1], [DEPTH_BYTES, 65], [DEPTH_BYTES, 1.5], [DEPTH_BYTES, NaN]]) {
      expect(() => lending.reserveSamples(bytes, count), `${bytes}, ${count}`).toThrow(/reserveSamples: sampleBytes must be finite and >= 0, count an integer in 0..64/);
    }
    expect(binding!.poolStats().slots).toBe(before.slots);
  });
});
