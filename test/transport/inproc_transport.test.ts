import { describe, expect, it } from "vitest";
import { firstValueFrom, take, toArray } from "rxjs";
import { SpatialRewardError } from "../../src/errors.js";
import type * as M from "../../src/msgs/generated.js";
import { InprocTransport } from "../../src/transport/inproc_transport.js";
import { QOS_DEFAULT, QOS_LATCHED, QOS_SENSOR_DATA } from "../../src/transport/qos.js";

const STRING = "std_msgs/msg/String";
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function codeOf(f: () => unknown): string | undefined {
  try {
    f();
  } catch (e) {
    return e instanceof SpatialRewardError ? e.code : "untyped";
  }
  return undefined;
}

describe("InprocTransport topics", () => {
  it("delivers synchronously, by reference, to every subscriber across namespaces and remaps", async () => {
    const t = new InprocTransport();
    const a = t.createNode("a", { namespace: "robot" });
    const b = t.createNode("b", { remaps: ["in:=/robot/out"] });
    const got: M.std_msgs__msg__String[] = [];
    const got2: string[] = [];
    b.createSubscription(STRING, "in", QOS_DEFAULT, (m) => got.push(m));
    b.createSubscription(STRING, "/robot/out", QOS_SENSOR_DATA, (m) => got2.push(m.data));
    const pub = a.createPublisher(STRING, "out");
    expect(pub.topic).toBe("/robot/out");
    const msg = { data: "hi" };
    pub.publish(msg);
    expect(got).toHaveLength(1);
    expect(got[0]).toBe(msg);
    expect(got2).toEqual(["hi"]);
    expect(pub.subscriptionCount()).toBe(2);
    expect(a.counters().get("published./robot/out")).toBe(1);
    expect(b.counters().get("received./robot/out")).toBe(2);
    expect(t.counters.get("messages_delivered")).toBe(2);
    await t.shutdown();
  });

  it("gives a topic one type: a second type throws type_mismatch and is counted, until nobody uses the topic", () => {
    const t = new InprocTransport();
    const n = t.createNode("n");
    const p = n.createPublisher(STRING, "x");
    expect(codeOf(() => n.createSubscription("sensor_msgs/msg/Image", "x", QOS_DEFAULT, () => {}))).toBe("type_mismatch");
    expect(codeOf(() => n.createPublisher("sensor_msgs/msg/Image", "/x"))).toBe("type_mismatch");
    expect(t.counters.get("errors.type_mismatch")).toBe(2);
    p.destroy();
    expect(codeOf(() => n.createPublisher("sensor_msgs/msg/Image", "x"))).toBeUndefined();
  });

  it("replays each transient_local publisher's last depth messages to late transient_local subscribers only", () => {
    const t = new InprocTransport();
    const n = t.createNode("n");
    const depth3 = { ...QOS_LATCHED, depth: 3 };
    const p1 = n.createPublisher<number>("std_msgs/msg/Int32", "latched", depth3);
    const p2 = n.createPublisher<number>("std_msgs/msg/Int32", "latched", QOS_LATCHED);
    const volatilePub = n.createPublisher<number>("std_msgs/msg/Int32", "latched", QOS_DEFAULT);
    for (const v of [1, 2, 3, 4]) p1.publish(v);
    p2.publish(10);
    p2.publish(11);
    volatilePub.publish(99);
    const late: number[] = [];
    const lateDepth1: number[] = [];
    const volatileLate: number[] = [];
    n.createSubscription<number>("std_msgs/msg/Int32", "latched", depth3, (m) => late.push(m));
    n.createSubscription<number>("std_msgs/msg/Int32", "latched", QOS_LATCHED, (m) => lateDepth1.push(m));
    n.createSubscription<number>("std_msgs/msg/Int32", "latched", QOS_DEFAULT, (m) => volatileLate.push(m));
    expect(late).toEqual([2, 3, 4, 11]);
    expect(lateDepth1).toEqual([4, 11]);
    expect(volatileLate).toEqual([]);
    p1.destroy();
    const afterDestroy: number[] = [];
    n.createSubscription<number>("std_msgs/msg/Int32", "latched", depth3, (m) => afterDestroy.push(m));
    expect(afterDestroy).toEqual([11]);
  });

  it("keeps delivering when a callback throws: counts it, reports it through onError, publisher unaffected", () => {
    const t = new InprocTransport();
    const errors: [unknown, string][] = [];
    t.onError = (e, where) => errors.push([e, where]);
    const n = t.createNode("n");
    const ok: number[] = [];
    n.createSubscription<number>("std_msgs/msg/Int32", "x", QOS_DEFAULT, () => {
      throw new Error("boom");
    });
    n.createSubscription<number>("std_msgs/msg/Int32", "x", QOS_DEFAULT, (m) => ok.push(m));
    const p = n.createPublisher<number>("std_msgs/msg/Int32", "x");
    expect(() => {
      p.publish(1);
      p.publish(2);
    }).not.toThrow();
    expect(ok).toEqual([1, 2]);
    expect(t.counters.get("callback_errors")).toBe(2);
    expect(n.counters().get("callback_errors")).toBe(2);
    expect(errors.map(([e, w]) => [(e as Error).message, w])).toEqual([["boom", "/x"], ["boom", "/x"]]);
    t.onError = () => {
      throw new Error("hook broken too");
    };
    expect(() => p.publish(3)).not.toThrow();
    expect(ok).toEqual([1, 2, 3]);
    expect(t.counters.get("error_handler_failures")).toBe(1);
  });

  it("a subscription added during delivery waits for the next message; one destroyed gets nothing more", () => {
    const t = new InprocTransport();
    const n = t.createNode("n");
    const seen: string[] = [];
    const p = n.createPublisher<number>("std_msgs/msg/Int32", "x");
    const second = { destroy: () => {} };
    n.createSubscription<number>("std_msgs/msg/Int32", "x", QOS_DEFAULT, (m) => {
      seen.push(`first ${m}`);
      second.destroy();
      if (m === 1) n.createSubscription<number>("std_msgs/msg/Int32", "x", QOS_DEFAULT, (k) => seen.push(`late ${k}`));
    });
    second.destroy = n.createSubscription<number>("std_msgs/msg/Int32", "x", QOS_DEFAULT, (m) => seen.push(`second ${m}`)).destroy;
    p.publish(1);
    p.publish(2);
    expect(seen).toEqual(["first 1", "first 2", "late 2"]);
  });

  it("observe() subscribes on subscribe, unsubscribes on unsubscribe, completes on node destroy", async () => {
    const t = new InprocTransport();
    const n = t.createNode("n");
    const p = n.createPublisher(STRING, "x");
    const two = firstValueFrom(n.observe(STRING, "x").pipe(take(2), toArray()));
    expect(p.subscriptionCount()).toBe(1);
    p.publish({ data: "a" });
    p.publish({ data: "b" });
    expect((await two).map((m) => m.data)).toEqual(["a", "b"]);
    expect(p.subscriptionCount()).toBe(0);
    let completed = false;
    const other = t.createNode("o");
    other.observe(STRING, "/x").subscribe({ complete: () => (completed = true) });
    other.destroy();
    expect(completed).toBe(true);
  });

  it("rejects a non-positive QoS depth", () => {
    const n = new InprocTransport().createNode("n");
    expect(codeOf(() => n.createPublisher(STRING, "x", { ...QOS_DEFAULT, depth: 0 }))).toBe("bad_argument");
  });
});

describe("InprocTransport services", () => {
  it("round-trips an async and a sync handler, typed by ServiceTypes", async () => {
    const t = new InprocTransport();
    const s = t.createNode("server", { namespace: "robot" });
    const c = t.createNode("client", { namespace: "robot" });
    s.createService("spatial_reward_msgs/srv/SetRewardSpec", "set_spec", async (r) => ({ ok: r.text.length > 0, message: `got ${r.text}` }));
    s.createService<{ a: number }, { b: number }>("pkg/srv/Double", "~/double", (r) => ({ b: r.a * 2 }));
    const setSpec = c.createClient("spatial_reward_msgs/srv/SetRewardSpec", "set_spec");
    expect(setSpec.service).toBe("/robot/set_spec");
    expect(await setSpec.call({ text: "near(a, b)" })).toEqual({ ok: true, message: "got near(a, b)" });
    const double = c.createClient<{ a: number }, { b: number }>("pkg/srv/Double", "/robot/server/double");
    expect(await double.call({ a: 21 })).toEqual({ b: 42 });
    await t.shutdown();
  });

  it("rejects on a missing service after the timeout, and on a handler error", async () => {
    const t = new InprocTransport();
    const n = t.createNode("n");
    const missing = n.createClient<{ a: number }, { b: number }>("pkg/srv/Double", "nope");
    const started = Date.now();
    await expect(missing.call({ a: 1 }, 30)).rejects.toThrow("service /nope (pkg/srv/Double) not available after 30 ms");
    expect(Date.now() - started).toBeGreaterThanOrEqual(25);
    expect(n.counters().get("service_unavailable")).toBe(1);
    n.createService<{ a: number }, { b: number }>("pkg/srv/Double", "fails", () => {
      throw new Error("handler broke");
    });
    await expect(n.createClient("pkg/srv/Double", "fails").call({ a: 1 })).rejects.toThrow("handler broke");
    n.createService<{ a: number }, { b: number }>("pkg/srv/Double", "slow", () => new Promise(() => {}));
    await expect(n.createClient("pkg/srv/Double", "slow").call({ a: 1 }, 20)).rejects.toThrow("did not answer within 20 ms");
    await expect(n.createClient("pkg/srv/Other", "fails").call({})).rejects.toMatchObject({ code: "type_mismatch" });
    expect(codeOf(() => n.createService("pkg/srv/Double", "fails", () => ({})))).toBe("bad_argument");
  });

  it("a waiting call is answered as soon as the service appears", async () => {
    const t = new InprocTransport();
    const n = t.createNode("n");
    const client = n.createClient<{ a: number }, { b: number }>("pkg/srv/Double", "later");
    expect(await client.waitForService(5)).toBe(false);
    const pending = client.call({ a: 2 }, 1000);
    await sleep(5);
    const started = Date.now();
    n.createService<{ a: number }, { b: number }>("pkg/srv/Double", "later", (r) => ({ b: r.a * 2 }));
    expect(await pending).toEqual({ b: 4 });
    expect(Date.now() - started).toBeLessThan(100);
  });
});

describe("InprocTransport timers and parameters", () => {
  it("fires timers, counts a throwing tick without stopping, and cancels", async () => {
    const t = new InprocTransport();
    const errors: string[] = [];
    t.onError = (_, where) => errors.push(where);
    const n = t.createNode("n", { namespace: "ns" });
    let ticks = 0;
    const timer = n.createTimer(5, () => {
      ticks++;
      if (ticks === 1) throw new Error("first tick fails");
    });
    await sleep(40);
    expect(ticks).toBeGreaterThan(2);
    expect(errors[0]).toBe("timer:/ns/n");
    expect(n.counters().get("callback_errors")).toBe(1);
    timer.cancel();
    const after = ticks;
    await sleep(20);
    expect(ticks).toBe(after);
    expect(codeOf(() => n.createTimer(0, () => {}))).toBe("bad_argument");
    expect(codeOf(() => n.createTimer(Number.NaN, () => {}))).toBe("bad_argument");
  });

  it("applies overrides of the declared type, typed from the default", () => {
    const t = new InprocTransport();
    const n = t.createNode("n", { parameterOverrides: { rate: 15, names: ["a", "b"], list: [1, 2], flag: true } });
    const rate: number = n.declareParameter("rate", 30);
    expect(rate).toBe(15);
    expect(n.declareParameter("name", "x")).toBe("x");
    expect(n.declareParameter("names", ["z"])).toEqual(["a", "b"]);
    expect(n.declareParameter("list", [])).toEqual([1, 2]);
    expect(n.declareParameter("flag", false)).toBe(true);
    expect(n.declareParameter("nested.value", 0.5)).toBe(0.5);
    const bad = (overrides: Record<string, never>, name: string, def: number | string[]) =>
      () => t.createNode("m", { parameterOverrides: overrides }).declareParameter(name, def);
    expect(bad({ rate: "fast" as never }, "rate", 30)).toThrow(/expected number, got string/);
    expect(bad({ names: [1, 2] as never }, "names", ["a"])).toThrow(/expected string_array, got number_array/);
    expect(bad({ rate: Number.POSITIVE_INFINITY as never }, "rate", 30)).toThrow(/finite/);
    expect(bad({ names: ["a", 1] as never }, "names", ["a"])).toThrow(/one type/);
    expect(codeOf(() => n.declareParameter("rate", 1))).toBe("bad_argument");
    expect(codeOf(() => n.declareParameter("bad name", 1))).toBe("bad_argument");
  });

  it("sets declared parameters of the same type and notifies listeners until they stop", () => {
    const t = new InprocTransport();
    const n = t.createNode("n");
    n.declareParameter("name", "x");
    n.declareParameter("list", [] as number[]);
    const seen: [string, unknown][] = [];
    const stop = n.onParameterChange((k, v) => seen.push([k, v]));
    n.setParameter("name", "y");
    n.setParameter("list", [3]);
    expect(n.getParameter("name")).toBe("y");
    expect(codeOf(() => n.setParameter("name", 3))).toBe("bad_argument");
    expect(codeOf(() => n.setParameter("list", ["a"]))).toBe("bad_argument");
    expect(() => n.setParameter("undeclared", 1)).toThrow(/not declared/);
    stop();
    n.setParameter("name", "z");
    expect(seen).toEqual([["name", "y"], ["list", [3]]]);
    expect(n.getParameter("name")).toBe("z");
  });
});

describe("InprocTransport cleanup", () => {
  it("destroy() stops timers, subscriptions, services and publishers of that node only", async () => {
    const t = new InprocTransport();
    const n = t.createNode("n");
    const other = t.createNode("o");
    let ticks = 0;
    n.createTimer(5, () => ticks++);
    const got: number[] = [];
    const otherGot: number[] = [];
    n.createSubscription<number>("std_msgs/msg/Int32", "/x", QOS_DEFAULT, (m) => got.push(m));
    other.createSubscription<number>("std_msgs/msg/Int32", "/x", QOS_DEFAULT, (m) => otherGot.push(m));
    const mine = n.createPublisher<number>("std_msgs/msg/Int32", "/x");
    n.createService<object, object>("pkg/srv/S", "/svc", () => ({}));
    const pub = other.createPublisher<number>("std_msgs/msg/Int32", "/x");
    n.destroy();
    const after = ticks;
    pub.publish(1);
    mine.publish(2);
    await sleep(20);
    expect(ticks).toBe(after);
    expect(got).toEqual([]);
    expect(otherGot).toEqual([1]);
    expect(n.counters().get("publish_after_destroy")).toBe(1);
    expect(await other.createClient("pkg/srv/S", "/svc").waitForService(5)).toBe(false);
    expect(codeOf(() => n.createPublisher(STRING, "y"))).toBe("bad_argument");
  });

  it("shutdown() closes every node: no deliveries, no timers, waiting clients released", async () => {
    const t = new InprocTransport();
    const a = t.createNode("a");
    const b = t.createNode("b");
    let ticks = 0;
    b.createTimer(5, () => ticks++);
    const got: string[] = [];
    b.createSubscription(STRING, "/x", QOS_DEFAULT, (m) => got.push(m.data));
    const p = a.createPublisher(STRING, "/x");
    const waiting = a.createClient("pkg/srv/S", "/never").waitForService(10_000);
    const started = Date.now();
    await t.shutdown();
    expect(await waiting).toBe(false);
    expect(Date.now() - started).toBeLessThan(1000);
    const after = ticks;
    p.publish({ data: "late" });
    await sleep(20);
    expect(got).toEqual([]);
    expect(ticks).toBe(after);
  });

  it("honours __node and __ns remaps in the node's identity and names", () => {
    const t = new InprocTransport();
    const n = t.createNode("perception", { remaps: ["__node:=perc2", "__ns:=/cam1", "perception:scene:=/scene_all"] });
    expect(n.fullyQualifiedName).toBe("/cam1/perc2");
    expect(n.createPublisher(STRING, "scene").topic).toBe("/scene_all");
    expect(n.createPublisher(STRING, "~/debug").topic).toBe("/cam1/perc2/debug");
  });
});
