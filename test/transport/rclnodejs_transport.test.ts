import { describe, expect, it } from "vitest";
import { firstValueFrom } from "rxjs";
import type * as M from "../../src/msgs/generated.js";
import { createRclnodejsTransport } from "../../src/transport/rclnodejs/rclnodejs_transport.js";
import { QOS_DEFAULT, QOS_LATCHED, QOS_SENSOR_DATA } from "../../src/transport/qos.js";
import { FakeQoS, FakeRclnodejs } from "./fake_rclnodejs.js";

describe("rclnodejs backend (against FakeRclnodejs: rclnodejs needs ROS 2, absent here)", () => {
  it("initialises rcl with the given arguments and creates spinning rcl nodes under resolved names", async () => {
    const rcl = new FakeRclnodejs();
    const t = await createRclnodejsTransport({ module: rcl, argv: ["--ros-args", "--log-level", "warn"] });
    const n = t.createNode("perception", { namespace: "/cam1", remaps: ["__node:=percept", "camera/color/image_raw:=/rs/color"] });
    expect(rcl.initArgs).toEqual([["--ros-args", "--log-level", "warn"]]);
    // Without argv, rcl gets none (not process.argv, whose --ros-args the node base applied).
    const rcl2 = new FakeRclnodejs();
    await (await createRclnodejsTransport({ module: rcl2 })).shutdown();
    expect(rcl2.initArgs).toEqual([[]]);
    expect(rcl.nodes.map((x) => [x.name, x.ns, x.spinning])).toEqual([["percept", "/cam1", true]]);
    n.createSubscription("sensor_msgs/msg/Image", "camera/color/image_raw", QOS_SENSOR_DATA, () => {});
    n.createPublisher("spatial_reward_msgs/msg/Reward", "reward");
    // rcl receives absolute names, remaps already applied.
    expect(rcl.subs[0].topic).toBe("/rs/color");
    expect(rcl.publishers[0].topic).toBe("/cam1/reward");
    // Plain objects with typed arrays: the shape the nodes use.
    expect(rcl.subs[0].options).toMatchObject({ serializationMode: "default", enableTypedArray: true });
    await t.shutdown();
    expect(rcl.nodes[0].destroyed).toBe(true);
    expect(rcl.shutdowns).toBe(1);
  });

  it("logs through rcl's node logger (console and /rosout as rcl is set up), at the node's level", async () => {
    const rcl = new FakeRclnodejs();
    const t = await createRclnodejsTransport({ module: rcl });
    const n = t.createNode("reward", { logLevel: "debug" });
    n.logger.debug("spec parsed");
    n.logger.error("bad spec");
    expect(rcl.nodes[0].logged).toEqual([["debug", "spec parsed"], ["error", "bad spec"]]);
    expect(rcl.nodes[0].logLevel).toBe(10);
    await t.shutdown();
  });

  it("delivers images with their bytes as a Uint8Array, as src/msgs/generated.ts types them", async () => {
    const rcl = new FakeRclnodejs();
    const t = await createRclnodejsTransport({ module: rcl });
    const n = t.createNode("img");
    const got: M.sensor_msgs__msg__Image[] = [];
    n.createSubscription("sensor_msgs/msg/Image", "depth", QOS_SENSOR_DATA, (m) => got.push(m));
    const data = new Uint8Array(new Uint16Array([1000, 2000]).buffer);
    n.createPublisher("sensor_msgs/msg/Image", "depth").publish({
      header: { stamp: { sec: 1, nanosec: 0 }, frame_id: "cam" }, height: 1, width: 2, encoding: "16UC1", is_bigendian: 0, step: 4, data,
    });
    expect(got).toHaveLength(1);
    expect(got[0].data).toBeInstanceOf(Uint8Array);
    expect(Array.from(new Uint16Array(got[0].data.buffer, got[0].data.byteOffset, 2))).toEqual([1000, 2000]);
  });

  it("maps QoS profiles to rclnodejs policies", async () => {
    const rcl = new FakeRclnodejs();
    const t = await createRclnodejsTransport({ module: rcl });
    const n = t.createNode("q");
    n.createPublisher("std_msgs/msg/String", "sensor", QOS_SENSOR_DATA);
    n.createPublisher("std_msgs/msg/String", "latched", QOS_LATCHED);
    n.createPublisher("std_msgs/msg/String", "all", { ...QOS_DEFAULT, history: "keep_all" });
    const [sensor, latched, all] = rcl.publishers.map((p) => p.options!.qos as FakeQoS);
    expect([sensor.history, sensor.depth, sensor.reliability(), sensor.durability]).toEqual([1, 5, 2, 2]);
    expect([latched.history, latched.depth, latched.reliability(), latched.durability]).toEqual([1, 1, 1, 1]);
    expect(all.history).toBe(2);
    expect(() => n.createPublisher("std_msgs/msg/String", "bad", { ...QOS_DEFAULT, depth: 0 })).toThrow(/depth/);
    expect(() => n.createPublisher("nope/msg/Nothing", "x")).toThrow(/no message definition/);
  });

  it("counts published, received and callback errors; observe() destroys its subscription on unsubscribe", async () => {
    const rcl = new FakeRclnodejs();
    const t = await createRclnodejsTransport({ module: rcl });
    const errors: string[] = [];
    t.onError = (_e, context) => errors.push(context);
    const n = t.createNode("c");
    const pub = n.createPublisher<M.std_msgs__msg__String>("std_msgs/msg/String", "chatter");
    const got: string[] = [];
    n.createSubscription<M.std_msgs__msg__String>("std_msgs/msg/String", "chatter", QOS_DEFAULT, (m) => {
      if (m.data === "boom") throw new Error("callback failed");
      got.push(m.data);
    });
    const first = firstValueFrom(n.observe<M.std_msgs__msg__String>("std_msgs/msg/String", "chatter"));
    pub.publish({ data: "a" });
    pub.publish({ data: "boom" });
    pub.publish({ data: "b" });
    expect((await first).data).toBe("a");
    expect(got).toEqual(["a", "b"]);
    expect(n.counters().get("published./chatter")).toBe(3);
    expect(n.counters().get("callback_errors")).toBe(1);
    expect(errors).toEqual(["/chatter"]);
    // The observe() subscription is gone after its first value; the plain one stays.
    expect(rcl.subs.map((s) => s.destroyed)).toEqual([false, true]);
    n.destroy();
    pub.publish({ data: "late" });
    expect(n.counters().get("publish_after_destroy")).toBe(1);
  });

  it("services: round trip, unavailable service, a failing handler times the client out", async () => {
    const rcl = new FakeRclnodejs();
    const t = await createRclnodejsTransport({ module: rcl });
    const server = t.createNode("server");
    const client = t.createNode("client");
    server.createService("spatial_reward_msgs/srv/SetRewardSpec", "set_spec", async (req) => ({ ok: true, message: `got ${req.text}` }));
    const c = client.createClient("spatial_reward_msgs/srv/SetRewardSpec", "set_spec");
    expect(await c.call({ text: "above(a, b)" }, 1000)).toEqual({ ok: true, message: "got above(a, b)" });
    await expect(client.createClient("spatial_reward_msgs/srv/SetRewardSpec", "none").call({ text: "" }, 50)).rejects.toMatchObject({ code: "service_unavailable" });
    server.createService("spatial_reward_msgs/srv/SetRewardSpec", "broken", () => {
      throw new Error("handler failed");
    });
    await expect(client.createClient("spatial_reward_msgs/srv/SetRewardSpec", "broken").call({ text: "" }, 100)).rejects.toMatchObject({ code: "timeout" });
    expect(server.counters().get("callback_errors")).toBe(1);
    expect(client.counters().get("service_unavailable")).toBe(1);
  });

  it("declares parameters on the rcl node and applies `ros2 param set` to the node's listeners", async () => {
    const rcl = new FakeRclnodejs();
    const t = await createRclnodejsTransport({ module: rcl });
    const n = t.createNode("reward", { parameterOverrides: { rate_hz: 15 } });
    expect(n.declareParameter("reward_spec", "")).toBe("");
    expect(n.declareParameter("rate_hz", 30)).toBe(15);
    n.declareParameter("slop_ms", 2.5);
    // rcl declared use_sim_time itself: declaring it on our node must not redeclare it in rcl.
    expect(n.declareParameter("use_sim_time", false)).toBe(false);
    const fake = rcl.nodes[0];
    expect([...fake.parameters.values()].map((p) => [p.name, p.type, p.value])).toEqual([
      ["use_sim_time", 1, false], ["reward_spec", 4, ""], ["rate_hz", 2, 15n], ["slop_ms", 3, 2.5],
    ]);
    const seen: [string, unknown][] = [];
    n.onParameterChange((name, value) => seen.push([name, value]));
    expect(fake.externalSet(new rcl.Parameter("reward_spec", 4, "near(a, b, 0.05)"))).toEqual({ successful: true, reason: "" });
    expect(fake.externalSet(new rcl.Parameter("rate_hz", 2, 20n)).successful).toBe(true);
    const wrong = fake.externalSet(new rcl.Parameter("reward_spec", 1, true));
    expect(wrong.successful).toBe(false);
    expect(wrong.reason).toMatch(/reward_spec/);
    expect(seen).toEqual([["reward_spec", "near(a, b, 0.05)"], ["rate_hz", 20]]);
    expect(n.getParameter("reward_spec")).toBe("near(a, b, 0.05)");
    // A validator's refusal reaches `ros2 param set` as the reason, and the value stays.
    n.onParameterValidate((name, value) => {
      if (name === "rate_hz" && Number(value) > 100) throw new Error("rate_hz above 100 Hz");
    });
    expect(fake.externalSet(new rcl.Parameter("rate_hz", 2, 500n))).toEqual({ successful: false, reason: "rate_hz above 100 Hz" });
    expect(n.getParameter("rate_hz")).toBe(20);
    expect(seen.length).toBe(2);
  });

  it("without a sourced ROS 2 the backend says what to do", async () => {
    const saved = process.env.ROS_DISTRO;
    delete process.env.ROS_DISTRO;
    try {
      await expect(createRclnodejsTransport()).rejects.toMatchObject({ code: "backend_unavailable", message: expect.stringMatching(/source \/opt\/ros/) });
    } finally {
      if (saved !== undefined) process.env.ROS_DISTRO = saved;
    }
  });
});
