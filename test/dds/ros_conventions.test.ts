import { spawn } from "node:child_process";
import { existsSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { SpatialRewardError } from "../../src/errors.js";
import type * as M from "../../src/msgs/generated.js";
import { DdsTransport, type DdsTransportOptions } from "../../src/transport/dds/dds_transport.js";
import { cycloneDomainConfig, discoverySettingsFromEnv } from "../../src/transport/dds/discovery_config.js";
import { ddsAddonPath, loadDdsBinding, type EndpointEvent } from "../../src/transport/dds/native_binding.js";
import {
  guidOfGid, ParticipantEntitiesInfoCodec, PARTICIPANT_ENTITIES_INFO_TYPE, ROS_DISCOVERY_INFO_TOPIC, type ParticipantEntitiesInfo,
} from "../../src/transport/dds/participant_entities_info.js";
import type { LogRecord } from "../../src/transport/logger.js";
import { QOS_DEFAULT, type QoS } from "../../src/transport/qos.js";
import { DDS_AVAILABLE, LOOPBACK_CONFIG, until, useLoopbackDds } from "./dds_env.js";

// Domains of their own, so parallel test files never see each other's traffic.
const DOMAIN = 42;
const DOMAIN_RANGE = 45;
const DOMAIN_CONFLICT = 46;
const DOMAIN_TRACE = 47;
const LOOPBACK_URI = `file://${LOOPBACK_CONFIG}`;
const STRING = "std_msgs/msg/String";
const QOS_LATE_JOINER: QoS = { reliability: "reliable", durability: "transient_local", history: "keep_all", depth: 1 };

/** Every sample on ros_discovery_info, read by a participant of the bare binding (not a DdsTransport). */
class DiscoveryInfoSpy {
  readonly binding = loadDdsBinding();
  readonly participant: number;
  readonly samples: Uint8Array[] = [];
  readonly publications = new Map<string, EndpointEvent>();
  readonly subscriptions = new Map<string, EndpointEvent>();

  constructor(domain: number, config: string) {
    this.participant = this.binding.createParticipant(domain, config);
    const topic = this.binding.createTopic(this.participant, ROS_DISCOVERY_INFO_TOPIC, PARTICIPANT_ENTITIES_INFO_TYPE);
    this.binding.createReader(this.participant, topic, QOS_LATE_JOINER, (buffers) => this.samples.push(...buffers));
    const keep = (into: Map<string, EndpointEvent>) => (events: EndpointEvent[]) => {
      for (const e of events) {
        if (e.alive) into.set(e.key, e);
        else into.delete(e.key);
      }
    };
    this.binding.watchEndpoints(this.participant, "publication", keep(this.publications));
    this.binding.watchEndpoints(this.participant, "subscription", keep(this.subscriptions));
  }

  /** The newest announcement of the participant `guid`, decoded in the given layout. */
  latest(guid: string, codec: ParticipantEntitiesInfoCodec): ParticipantEntitiesInfo | undefined {
    for (let i = this.samples.length - 1; i >= 0; i--) {
      try {
        const m = codec.decode(this.samples[i]);
        if (guidOfGid(m.gid) === guid) return m;
      } catch {
        // Another layout or another participant's sample.
      }
    }
    return undefined;
  }

  /** DDS topics of the endpoints (as discovery reports them) whose GUIDs a GID list names. */
  topicsOf(gids: readonly { data: Uint8Array }[], kind: "publication" | "subscription"): string[] {
    const known = kind === "publication" ? this.publications : this.subscriptions;
    return gids.map((g) => known.get(guidOfGid(g))?.topic ?? `unknown ${guidOfGid(g)}`).sort();
  }

  close(): void {
    this.binding.deleteEntity(this.participant);
  }
}

function nodeNames(m: ParticipantEntitiesInfo | undefined): string[] {
  return (m?.node_entities_info_seq ?? []).map((n) => `${n.node_namespace}|${n.node_name}`).sort();
}

describe.runIf(DDS_AVAILABLE)("ROS 2 conventions on the dds backend (loopback)", () => {
  const open: DdsTransport[] = [];
  const spies: DiscoveryInfoSpy[] = [];
  const make = (options: DdsTransportOptions = {}) => {
    const t = new DdsTransport({ domainId: DOMAIN, ...options });
    open.push(t);
    return t;
  };
  beforeAll(() => useLoopbackDds());
  afterEach(async () => {
    for (const s of spies.splice(0)) s.close();
    for (const t of open.splice(0)) await t.shutdown();
  });

  it("announces its nodes, their readers and writers on ros_discovery_info, with the GIDs discovery reports", async () => {
    const a = make();
    const guid = a.binding.entityGuid(a.participant);
    const spy = new DiscoveryInfoSpy(DOMAIN, a.domainConfig);
    spies.push(spy);
    const codec = new ParticipantEntitiesInfoCodec(16);

    const talker = a.createNode("talker", { namespace: "/robot" });
    talker.createPublisher<M.std_msgs__msg__String>(STRING, "chatter", QOS_DEFAULT);
    talker.createSubscription<M.std_msgs__msg__String>(STRING, "cmd", QOS_DEFAULT, () => {});
    talker.createService("spatial_reward_msgs/srv/SetRewardSpec", "set_spec", () => ({ ok: true, message: "" }));
    const listener = a.createNode("listener");
    listener.createSubscription<M.std_msgs__msg__String>(STRING, "/robot/chatter", QOS_DEFAULT, () => {});

    // Cyclone lists a participant's built-in topic readers (the transport's discovery watchers)
    // to readers in the same process; they are not ROS endpoints and never go on the wire.
    const ours = (m: Map<string, EndpointEvent>) => [...m.values()].filter((e) => e.participant === guid && !e.topic.startsWith("DCPS"));
    await until("announcement with both nodes and discovery of their endpoints", () => {
      const m = spy.latest(guid, codec);
      return nodeNames(m).length === 2 && m!.node_entities_info_seq.every((n) => n.reader_gid_seq.length + n.writer_gid_seq.length > 0) &&
        ours(spy.publications).length === 5 && ours(spy.subscriptions).length === 3;
    });
    const info = spy.latest(guid, codec)!;
    expect(info.gid.data.length).toBe(16);
    expect(nodeNames(info)).toEqual(["/robot|talker", "/|listener"].sort());
    const byName = new Map(info.node_entities_info_seq.map((n) => [n.node_name, n]));
    const t = byName.get("talker")!;
    const l = byName.get("listener")!;
    expect(spy.topicsOf(t.writer_gid_seq, "publication")).toEqual(["rr/robot/set_specReply", "rt/robot/chatter", "rt/rosout"]);
    expect(spy.topicsOf(t.reader_gid_seq, "subscription")).toEqual(["rq/robot/set_specRequest", "rt/robot/cmd"]);
    expect(spy.topicsOf(l.writer_gid_seq, "publication")).toEqual(["rt/rosout"]);
    expect(spy.topicsOf(l.reader_gid_seq, "subscription")).toEqual(["rt/robot/chatter"]);
    // Every endpoint of the participant belongs to a node, but the announcement's own writer.
    const announced = new Set(info.node_entities_info_seq.flatMap((n) => [...n.reader_gid_seq, ...n.writer_gid_seq]).map(guidOfGid));
    const unannounced = [...ours(spy.publications), ...ours(spy.subscriptions)].filter((e) => !announced.has(e.key)).map((e) => e.topic);
    expect(unannounced).toEqual([ROS_DISCOVERY_INFO_TOPIC]);

    talker.destroy();
    await until("talker gone from the announcement", () => nodeNames(spy.latest(guid, codec)).join() === "/|listener");
    expect(spy.latest(guid, codec)!.node_entities_info_seq[0].reader_gid_seq.length).toBe(1);
    a.createNode("newcomer", { namespace: "/x" });
    await until("newcomer announced", () => nodeNames(spy.latest(guid, codec)).includes("/x|newcomer"));
    expect(a.counters.get("graph.announcements")).toBeGreaterThan(1);
  });

  it("a late joiner gets the current announcement (transient local), in the 24-byte Humble layout when asked", async () => {
    const b = make({ gidSize: 24, rosout: false });
    const n = b.createNode("humble_style");
    n.createPublisher<M.std_msgs__msg__String>(STRING, "h", QOS_DEFAULT);
    const guid = b.binding.entityGuid(b.participant);
    await new Promise((r) => setTimeout(r, 100));
    const spy = new DiscoveryInfoSpy(DOMAIN, b.domainConfig);
    spies.push(spy);
    const codec24 = new ParticipantEntitiesInfoCodec(24);
    await until("24-byte announcement", () => nodeNames(spy.latest(guid, codec24)).join() === "/|humble_style");
    const info = spy.latest(guid, codec24)!;
    expect(info.gid.data.length).toBe(24);
    expect(Buffer.from(info.gid.data.subarray(16)).equals(Buffer.alloc(8))).toBe(true);
    const w = info.node_entities_info_seq[0].writer_gid_seq;
    await until("writer discovered", () => spy.topicsOf(w, "publication").join() === "rt/h");
    // The 16-byte reader cannot read it as the same message.
    expect(nodeNames(spy.latest(guid, new ParticipantEntitiesInfoCodec(16)))).not.toEqual(["/|humble_style"]);
  });

  it("a wrong type on a topic is counted and logged once on every node with an endpoint there", async () => {
    const ta = make({ rosout: false });
    const tb = make({ rosout: false });
    const logs: LogRecord[] = [];
    tb.logSinks = [(r) => logs.push(r)];
    ta.logSinks = [(r) => logs.push(r)];
    const a = ta.createNode("image_peer");
    const v1 = tb.createNode("victim_sub");
    const v2 = tb.createNode("victim_pub");
    const bystander = tb.createNode("bystander");
    v1.createSubscription<M.std_msgs__msg__String>(STRING, "mixed_types", QOS_DEFAULT, () => {});
    v2.createPublisher<M.std_msgs__msg__String>(STRING, "mixed_types", QOS_DEFAULT);
    bystander.createPublisher<M.std_msgs__msg__String>(STRING, "elsewhere", QOS_DEFAULT);
    a.createPublisher<M.sensor_msgs__msg__Image>("sensor_msgs/msg/Image", "mixed_types", QOS_DEFAULT);

    const mismatch = (n: { counters(): { get(k: string): number } }) => n.counters().get("errors.type_mismatch");
    await until("both victims counted", () => mismatch(v1) === 1 && mismatch(v2) === 1);
    // The Image publisher sees two String endpoints of the peer: one cause each.
    await until("the other side counted", () => mismatch(a) === 2);
    await new Promise((r) => setTimeout(r, 300));
    expect(mismatch(v1)).toBe(1);
    expect(v1.counters().get("errors.type_mismatch./mixed_types")).toBe(1);
    expect(mismatch(v2)).toBe(1);
    expect(mismatch(bystander)).toBe(0);
    expect(tb.counters.get("errors.type_mismatch")).toBe(1);
    const errorsOf = (name: string) => logs.filter((r) => r.level === "error" && r.name === name);
    expect(errorsOf("victim_sub")).toHaveLength(1);
    expect(errorsOf("victim_sub")[0].message).toMatch(/\/mixed_types.*sensor_msgs::msg::dds_::Image_/);
    expect(errorsOf("victim_pub")).toHaveLength(1);
    expect(errorsOf("image_peer")).toHaveLength(2);
    expect(errorsOf("bystander")).toHaveLength(0);

    // A node joining the topic later is told too.
    const late = tb.createNode("late_joiner");
    late.createSubscription<M.std_msgs__msg__String>(STRING, "mixed_types", QOS_DEFAULT, () => {});
    await until("late joiner counted", () => mismatch(late) === 1);
    expect(errorsOf("late_joiner")).toHaveLength(1);

    // Inside one process: the node asking for the other type fails, and everyone on the topic counts it.
    const confused = tb.createNode("confused");
    expect(() => confused.createPublisher("sensor_msgs/msg/Image", "mixed_types", QOS_DEFAULT)).toThrow(SpatialRewardError);
    expect(() => confused.createPublisher("sensor_msgs/msg/Image", "mixed_types", QOS_DEFAULT)).toThrow(/carries std_msgs::msg::dds_::String_/);
    expect(mismatch(confused)).toBe(2);
    expect(errorsOf("confused")).toHaveLength(1);
    expect(mismatch(v1)).toBe(2);
    expect(errorsOf("victim_sub")).toHaveLength(2);
  });

  it("publishes each node's log records on /rosout as rcl_interfaces/msg/Log", async () => {
    const talkerSide = make();
    const node = talkerSide.createNode("chatty", { namespace: "/ns1", logLevel: "info" });
    const before = BigInt(Date.now()) * 1_000_000n;
    node.logger.warn("logged before anyone listened");
    node.logger.debug("below the node's level");

    const quiet = make({ rosout: false });
    const got: M.rcl_interfaces__msg__Log[] = [];
    quiet.createNode("console").createSubscription<M.rcl_interfaces__msg__Log>(
      "rcl_interfaces/msg/Log", "/rosout", { reliability: "reliable", durability: "transient_local", history: "keep_last", depth: 1000 }, (m) => got.push(m),
    );
    await until("transient-local replay of the early record", () => got.some((m) => m.msg === "logged before anyone listened"));
    node.logger.error("logged while listened to");
    await until("live record", () => got.some((m) => m.msg === "logged while listened to"));
    const after = BigInt(Date.now()) * 1_000_000n;
    await new Promise((r) => setTimeout(r, 200));

    const mine = got.filter((m) => m.name === "ns1.chatty");
    expect(mine.map((m) => [m.level, m.msg])).toEqual([[30, "logged before anyone listened"], [40, "logged while listened to"]]);
    for (const m of mine) {
      const ns = BigInt(m.stamp.sec) * 1_000_000_000n + BigInt(m.stamp.nanosec);
      expect(ns >= before - 1_000_000n && ns <= after).toBe(true);
      expect(m.stamp.nanosec).toBeLessThan(1_000_000_000);
    }
    // The transport with rosout disabled published nothing there.
    expect(got.filter((m) => m.name === "console")).toEqual([]);
    quiet.createNode("silent").logger.error("must not reach /rosout");
    await new Promise((r) => setTimeout(r, 200));
    expect(got.some((m) => m.msg === "must not reach /rosout")).toBe(false);
    expect(node.counters().get("published./rosout")).toBe(2);
  });
});

describe.runIf(DDS_AVAILABLE)("discovery range and localhost-only on the dds backend", () => {
  const here = fileURLToPath(new URL(".", import.meta.url));
  const open: DdsTransport[] = [];
  afterEach(async () => {
    for (const t of open.splice(0)) await t.shutdown();
  });

  /** A plain DDS program in another process (subnet range, loopback-only config) talking on rt/<topic>. */
  function otherProcess(topic: string, seconds: number): Promise<{ sent: number; maxMatched: number }> {
    const config = cycloneDomainConfig(discoverySettingsFromEnv({}), LOOPBACK_URI, 1);
    const child = spawn(process.execPath, [join(here, "raw_talker.mjs"), ddsAddonPath()!, String(DOMAIN_RANGE), config, topic, String(seconds)], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    let err = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr.on("data", (d: Buffer) => (err += d.toString()));
    return new Promise((resolve, reject) => {
      child.on("error", reject);
      child.on("exit", (code) => {
        if (code !== 0) reject(new Error(`raw_talker exited ${code}: ${err}`));
        else resolve(JSON.parse(out.trim()) as { sent: number; maxMatched: number });
      });
    });
  }

  function received(t: DdsTransport, topic: string): string[] {
    const got: string[] = [];
    t.createNode(`sink_${topic}`).createSubscription<M.std_msgs__msg__String>(STRING, topic, QOS_DEFAULT, (m) => got.push(m.data));
    return got;
  }

  it("ROS_AUTOMATIC_DISCOVERY_RANGE=LOCALHOST: another process on this host is found over loopback", async () => {
    const t = new DdsTransport({ domainId: DOMAIN_RANGE, rosout: false, environment: { ROS_AUTOMATIC_DISCOVERY_RANGE: "LOCALHOST", CYCLONEDDS_URI: LOOPBACK_URI } });
    open.push(t);
    expect(t.domainConfig).toContain('<AllowMulticast>false</AllowMulticast>');
    expect(t.domainConfig).toContain('<Peer address="localhost"/>');
    const got = received(t, "from_child");
    const child = await otherProcess("from_child", 2.5);
    expect(child.maxMatched).toBe(1);
    expect(got.length).toBeGreaterThan(10);
  }, 20_000);

  it("ROS_AUTOMATIC_DISCOVERY_RANGE=OFF: no other process is found, participants of this one still are", async () => {
    const env = { ROS_AUTOMATIC_DISCOVERY_RANGE: "OFF", CYCLONEDDS_URI: LOOPBACK_URI };
    const t = new DdsTransport({ domainId: DOMAIN_RANGE, rosout: false, environment: env });
    const t2 = new DdsTransport({ domainId: DOMAIN_RANGE, rosout: false, environment: env });
    open.push(t, t2);
    expect(t.domainConfig).toContain(`<Tag>ros_discovery_off_${process.pid}</Tag>`);
    const fromChild = received(t, "from_child");
    const local = received(t, "in_process");
    const pub = t2.createNode("local_talker").createPublisher<M.std_msgs__msg__String>(STRING, "in_process", QOS_DEFAULT);
    await until("in-process match", () => pub.subscriptionCount() === 1);
    pub.publish({ data: "same process" });
    const child = await otherProcess("from_child", 2.5);
    expect(child.sent).toBeGreaterThan(10);
    expect(child.maxMatched).toBe(0);
    expect(fromChild).toEqual([]);
    expect(local).toEqual(["same process"]);
  }, 20_000);

  it("one process cannot configure a domain two ways (as rmw_cyclonedds refuses it)", async () => {
    const t = new DdsTransport({ domainId: DOMAIN_CONFLICT, rosout: false, environment: { CYCLONEDDS_URI: LOOPBACK_URI } });
    open.push(t);
    expect(() => new DdsTransport({ domainId: DOMAIN_CONFLICT, environment: { ROS_AUTOMATIC_DISCOVERY_RANGE: "OFF", CYCLONEDDS_URI: LOOPBACK_URI } })).toThrow(
      /other network\/discovery settings/,
    );
    await t.shutdown();
    // Once its last participant is gone, the domain can be configured anew.
    const again = new DdsTransport({ domainId: DOMAIN_CONFLICT, rosout: false, environment: { ROS_AUTOMATIC_DISCOVERY_RANGE: "OFF", CYCLONEDDS_URI: LOOPBACK_URI } });
    open.push(again);
    expect(again.domainConfig).toContain("ros_discovery_off_");
  });

  it("Humble's ROS_LOCALHOST_ONLY=1 binds the participant to the loopback interface only", async () => {
    // The base config sends discovery only to 127.0.0.1 whatever the interface, so nothing leaves the host.
    const trace = join(tmpdir(), `spatial_reward_cyclone_trace_${process.pid}.log`);
    rmSync(trace, { force: true });
    const base =
      '<CycloneDDS><Domain><General><AllowMulticast>false</AllowMulticast></General>' +
      '<Discovery><ParticipantIndex>auto</ParticipantIndex><Peers><Peer address="127.0.0.1"/></Peers></Discovery>' +
      `<Tracing><Category>config</Category><OutputFile>${trace}</OutputFile></Tracing></Domain></CycloneDDS>`;
    const t = new DdsTransport({ domainId: DOMAIN_TRACE, rosout: false, environment: { ROS_DISTRO: "humble", ROS_LOCALHOST_ONLY: "1", CYCLONEDDS_URI: base } });
    open.push(t);
    await until("trace written", () => existsSync(trace) && /selected interfaces:/.test(readFileSync(trace, "utf8")));
    const selected = /selected interfaces: (.*)/.exec(readFileSync(trace, "utf8"))![1];
    expect(selected).toMatch(/^lo \(/);
    expect(/ownip: (.*)/.exec(readFileSync(trace, "utf8"))![1]).toBe("udp/127.0.0.1");
    // And it still talks (in-process here; the LOCALHOST test above covers another process).
    const got = received(t, "humble_lo");
    const pub = t.createNode("humble_talker").createPublisher<M.std_msgs__msg__String>(STRING, "humble_lo", QOS_DEFAULT);
    await until("match", () => pub.subscriptionCount() === 1);
    pub.publish({ data: "on lo" });
    await until("delivery", () => got.length === 1);
    await t.shutdown();
    rmSync(trace, { force: true });
  });
});
