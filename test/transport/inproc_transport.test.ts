import { describe, expect, it } from "vitest";
import { InprocTransport } from "../../src/transport/inproc_transport.js";
import { resolveName } from "../../src/transport/names.js";
import { QOS_DEFAULT, QOS_LATCHED } from "../../src/transport/qos.js";
import { SpatialRewardError } from "../../src/errors.js";

describe("ROS 2 name resolution", () => {
  it.each([
    ["chatter", "/", "n", [], "/chatter"],
    ["chatter", "/robot", "n", [], "/robot/chatter"],
    ["/abs", "/robot", "n", [], "/abs"],
    ["~/private", "/robot", "n", [], "/robot/n/private"],
    ["camera/image", "/robot", "n", ["camera/image:=/cam0/image"], "/cam0/image"],
    ["camera/image", "/", "n", ["/camera/image:=rgb"], "/rgb"],
  ] as const)("%s in %s (%s) → %s", (name, ns, node, remaps, want) => {
    expect(resolveName(name, ns, node, remaps)).toBe(want);
  });

  it("rejects invalid names", () => {
    expect(() => resolveName("bad name", "/", "n")).toThrow(/invalid/);
    expect(() => resolveName("1abc", "/", "n")).toThrow(/invalid/);
  });
});

describe("InprocTransport", () => {
  it("delivers synchronously by reference, with namespace and remaps", async () => {
    const t = new InprocTransport();
    const a = t.createNode("a", { namespace: "robot" });
    const b = t.createNode("b", { remaps: ["in:=/robot/out"] });
    const got: object[] = [];
    b.createSubscription<{ data: string }>("std_msgs/msg/String", "in", QOS_DEFAULT, (m) => got.push(m));
    const pub = a.createPublisher<{ data: string }>("std_msgs/msg/String", "out");
    const msg = { data: "hi" };
    pub.publish(msg);
    expect(got).toHaveLength(1);
    expect(got[0]).toBe(msg);
    expect(pub.subscriptionCount()).toBe(1);
    await t.shutdown();
  });

  it("rejects a second type on a topic and counts it", () => {
    const t = new InprocTransport();
    const n = t.createNode("n");
    n.createPublisher("std_msgs/msg/String", "x");
    expect(() => n.createSubscription("sensor_msgs/msg/Image", "x", QOS_DEFAULT, () => {})).toThrow(SpatialRewardError);
    expect(t.counters.get("errors.type_mismatch")).toBe(1);
  });

  it("replays latched messages to transient-local late joiners only", () => {
    const t = new InprocTransport();
    const n = t.createNode("n");
    n.createPublisher<number>("std_msgs/msg/Int32", "latched", QOS_LATCHED).publish(7);
    const late: number[] = [];
    const volatileLate: number[] = [];
    n.createSubscription<number>("std_msgs/msg/Int32", "latched", QOS_LATCHED, (m) => late.push(m));
    n.createSubscription<number>("std_msgs/msg/Int32", "latched", QOS_DEFAULT, (m) => volatileLate.push(m));
    expect(late).toEqual([7]);
    expect(volatileLate).toEqual([]);
  });

  it("keeps delivering when a callback throws, and counts it", () => {
    const t = new InprocTransport();
    const errors: unknown[] = [];
    t.onError = (e) => errors.push(e);
    const n = t.createNode("n");
    const ok: number[] = [];
    n.createSubscription<number>("std_msgs/msg/Int32", "x", QOS_DEFAULT, () => { throw new Error("boom"); });
    n.createSubscription<number>("std_msgs/msg/Int32", "x", QOS_DEFAULT, (m) => ok.push(m));
    const p = n.createPublisher<number>("std_msgs/msg/Int32", "x");
    p.publish(1);
    p.publish(2);
    expect(ok).toEqual([1, 2]);
    expect(t.counters.get("callback_errors")).toBe(2);
    expect(errors).toHaveLength(2);
  });

  it("round-trips a service and times out on a missing one", async () => {
    const t = new InprocTransport();
    const n = t.createNode("n");
    n.createService<{ a: number }, { b: number }>("pkg/srv/Double", "double", async (r) => ({ b: r.a * 2 }));
    const c = n.createClient<{ a: number }, { b: number }>("pkg/srv/Double", "double");
    expect(await c.call({ a: 21 })).toEqual({ b: 42 });
    const missing = n.createClient("pkg/srv/Double", "nope");
    await expect(missing.call({ a: 1 }, 30)).rejects.toThrow(/not available after 30 ms/);
  });

  it("applies parameter overrides and notifies changes", () => {
    const t = new InprocTransport();
    const n = t.createNode("n", { parameterOverrides: { rate: 15 } });
    expect(n.declareParameter("rate", 30)).toBe(15);
    expect(n.declareParameter("name", "x")).toBe("x");
    const seen: [string, unknown][] = [];
    n.onParameterChange((k, v) => seen.push([k, v]));
    n.setParameter("name", "y");
    expect(n.getParameter("name")).toBe("y");
    expect(seen).toEqual([["name", "y"]]);
    expect(() => n.setParameter("undeclared", 1)).toThrow(/not declared/);
    expect(() => t.createNode("m", { parameterOverrides: { rate: "fast" } }).declareParameter("rate", 30)).toThrow(/expected number/);
  });

  it("fires timers and stops everything on destroy", async () => {
    const t = new InprocTransport();
    const n = t.createNode("n");
    let ticks = 0;
    n.createTimer(5, () => ticks++);
    const got: number[] = [];
    n.createSubscription<number>("std_msgs/msg/Int32", "x", QOS_DEFAULT, (m) => got.push(m));
    const other = t.createNode("o").createPublisher<number>("std_msgs/msg/Int32", "x");
    await new Promise((r) => setTimeout(r, 40));
    expect(ticks).toBeGreaterThan(2);
    n.destroy();
    const after = ticks;
    other.publish(1);
    await new Promise((r) => setTimeout(r, 30));
    expect(ticks).toBe(after);
    expect(got).toEqual([]);
  });

  it("honours __node and __ns remaps", () => {
    const t = new InprocTransport();
    const n = t.createNode("perception", { remaps: ["__node:=perc2", "__ns:=/cam1"] });
    expect(n.fullyQualifiedName).toBe("/cam1/perc2");
    expect(n.createPublisher("std_msgs/msg/String", "scene").topic).toBe("/cam1/scene");
  });
});
