import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { decodeMocapFrame, MOCAP_FRAME_TYPE } from "../../src/mocap/mocap_codec.js";
import { LengthUnit, UpAxis } from "../../src/msgs/mocap_proto.js";
import { EPISODE_METADATA_NAME, parseEpisodeMetadata } from "../../src/record/episode_metadata.js";
import { MOSQUITTO_MISSING, startMosquitto } from "../mqtt/mosquitto.js";
import { readIndexed } from "../record/mcap_test_helpers.js";
import { MocapPublisher } from "../../nodes/mqtt/mocap_publisher.js";
import { makeFrame, publishQos1, rawClient, YUpMillimetreSource } from "../mqtt/mqtt_fixtures.js";
import { connect } from "mqtt";
import { encodeMocapFrame } from "../../src/mocap/mocap_codec.js";

/**
 * `spatial-reward collect` end to end with the built CLI: the simulator's camera and its mocap
 * stream (240 Hz over MQTT, device clock 3.2 s behind) through the embedded broker or
 * Mosquitto, the nodes and the recorder in one process; the episode is read back with the
 * official indexed reader and checked against the JSON summary. SIGINT mid-episode finishes a
 * valid indexed file; wrong flags exit 2 before anything starts.
 */
const root = join(dirname(fileURLToPath(import.meta.url)), "../..");
const cli = join(root, "dist", "nodes", "cli", "main.js");
const work = mkdtempSync(join(tmpdir(), "sr-collect-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const FRAME_NS = 1e9 / 30;
const DEVICE_OFFSET_NS = 3_200_000_000;

interface Run { code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }

function collect(args: string[], onStderr?: (text: string, child: ReturnType<typeof spawn>) => void): Promise<Run> {
  const child = spawn(process.execPath, [cli, "collect", ...args], { stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "", stderr = "";
  child.stdout!.on("data", (c: Buffer) => (stdout += c.toString()));
  child.stderr!.on("data", (c: Buffer) => {
    stderr += c.toString();
    onStderr?.(stderr, child);
  });
  return new Promise((resolve) => child.on("exit", (code, signal) => resolve({ code, signal, stdout, stderr })));
}

interface Summary {
  episode: string;
  duration_s: number;
  ended_by: string;
  task: string;
  broker: string;
  messages: Record<string, number>;
  messages_total: number;
  mocap: {
    frames_sent: number | null; frames_received: number; frames_lost: number; source_gaps: number;
    latency_ms: { p50: number; p99: number; n: number };
    publisher: { skipped_by_source: number };
    clock: Record<string, { offset_ns: string }>;
  };
  dropped: number;
  camera: { frames_published: number; frames_skipped_late: number };
}

function lastJson(r: Run): Summary {
  const lines = r.stdout.trim().split("\n");
  return JSON.parse(lines[lines.length - 1]) as Summary;
}

const EXPECTED_TOPICS = [
  "/camera/color/image_raw", "/camera/aligned_depth_to_color/image_raw", "/camera/color/camera_info", "/scene/objects", "/spatial/answer",
  "/reward", "/reward/spec", "/tf", "/mocap/reward", "/mocap/sim/frame", "/mocap/sim/hand/pose", "mocap/frames",
];

/** Everything a collected --sim episode must hold, read back with McapIndexedReader and checked against the summary. */
async function checkEpisode(j: Summary, out: string): Promise<void> {
  expect(j.episode.startsWith(out)).toBe(true);
  expect(existsSync(j.episode)).toBe(true);
  const { reader, messages } = await readIndexed(j.episode);
  const topicOf = (id: number) => reader.channelsById.get(id)!.topic;
  // Every channel of the file, those without messages included.
  const counts: Record<string, number> = Object.fromEntries([...reader.channelsById.values()].map((c) => [c.topic, 0]));
  for (const m of messages) counts[topicOf(m.channelId)] = (counts[topicOf(m.channelId)] ?? 0) + 1;
  // The summary's counts are the file's own, message by message.
  expect(j.messages).toEqual(counts);
  expect(j.messages_total).toBe(messages.length);
  for (const t of EXPECTED_TOPICS) expect(counts[t] ?? 0, t).toBeGreaterThan(0);

  // Mocap: every frame sent was received and recorded, as it arrived (the source's Y-up millimetres), in order.
  expect(j.mocap.frames_lost).toBe(0);
  expect(j.dropped).toBe(0);
  expect(j.mocap.frames_sent).toBe(j.mocap.frames_received);
  expect(counts["mocap/frames"]).toBe(j.mocap.frames_received);
  expect(counts["/mocap/sim/frame"]).toBe(j.mocap.frames_received);
  const channel = [...reader.channelsById.values()].find((c) => c.topic === "mocap/frames")!;
  expect(channel.messageEncoding).toBe("protobuf");
  const schema = reader.schemasById.get(channel.schemaId)!;
  expect([schema.name, schema.encoding]).toEqual([MOCAP_FRAME_TYPE, "protobuf"]);
  const frames = messages.filter((m) => m.channelId === channel.id).map((m) => decodeMocapFrame(m.data));
  expect(frames.every((f) => f.stream_id === "sim" && f.axes?.up_axis === UpAxis.Y_UP && f.axes.unit === LengthUnit.MILLIMETERS)).toBe(true);
  const numbers = frames.map((f) => f.frame_number);
  for (let k = 1; k < numbers.length; k++) expect(numbers[k] > numbers[k - 1]).toBe(true);
  // Frame numbers skipped are exactly the simulated device dropouts (never sent), nothing else.
  expect(Number(numbers[numbers.length - 1] - numbers[0]) + 1).toBe(frames.length + j.mocap.publisher.skipped_by_source);
  expect(j.mocap.latency_ms.n).toBe(j.mocap.frames_received);
  expect(j.mocap.latency_ms.p99).toBeGreaterThanOrEqual(j.mocap.latency_ms.p50);
  expect(j.mocap.latency_ms.p50).toBeGreaterThan(0);

  // One clock: the ingest found the device offset (3.2 s plus the smallest delay), the camera's
  // stamps are the scripted frames' times (multiples of 1/30 s from the episode start), and the
  // camera starts one second (the mocap pre-roll) after the first mocap frame on that clock.
  const offset = Number(j.mocap.clock.sim.offset_ns);
  expect(Math.abs(offset - DEVICE_OFFSET_NS), `clock offset ${offset}`).toBeLessThan(0.5e9);
  const camera = messages.filter((m) => topicOf(m.channelId) === "/camera/color/image_raw").map((m) => m.publishTime);
  for (const t of camera) {
    const d = Number(t - camera[0]);
    expect(Math.abs(d - Math.round(Math.round(d / FRAME_NS) * FRAME_NS))).toBeLessThanOrEqual(1);
  }
  const firstMocap = messages.find((m) => topicOf(m.channelId) === "/mocap/sim/frame")!.publishTime;
  const lead = Number(camera[0] - firstMocap) / 1e9;
  expect(lead, "camera start after the first mocap frame (s)").toBeGreaterThan(0.7);
  expect(lead).toBeLessThan(3);
  expect(j.camera.frames_published).toBe(counts["/camera/color/image_raw"]);

  const meta: Map<string, string>[] = [];
  for await (const m of reader.readMetadata({ name: EPISODE_METADATA_NAME })) meta.push(m.metadata);
  const episode = parseEpisodeMetadata(meta[0]);
  expect(episode.task).toBe(j.task);
  expect(episode.task).toMatch(/^put the /);
  expect(episode.seed).toBe(7n);
  expect(episode.extra.sim).toBe("true");
}

describe("spatial-reward collect", () => {
  it("is built", () => {
    expect(existsSync(cli), `${cli} is missing: run npm run build`).toBe(true);
  });

  it("--sim through the embedded broker: every topic recorded, every mocap frame received once, one clock", async () => {
    const out = join(work, "embedded");
    const r = await collect(["--sim", "--duration", "3", "--json", "--out", out, "--operator", "tester"]);
    expect(r.code, r.stderr).toBe(0);
    const j = lastJson(r);
    expect(j.broker).toMatch(/^mqtt:\/\/127\.0\.0\.1:\d+$/);
    expect(j.ended_by).toBe("duration");
    await checkEpisode(j, out);
    // Progress lines on stderr (not a terminal: one line per update).
    expect(r.stderr).toMatch(/episode episode_.*\.mcap .*camera .* Hz .*mocap .* Hz/);
  }, 120_000);

  it.skipIf(MOSQUITTO_MISSING !== "")("--sim through Mosquitto", async () => {
    const m = await startMosquitto();
    try {
      const out = join(work, "mosquitto");
      const r = await collect(["--sim", "--duration", "2", "--json", "--out", out, "--broker", m.url]);
      expect(r.code, r.stderr).toBe(0);
      const j = lastJson(r);
      expect(j.broker).toBe(m.url);
      await checkEpisode(j, out);
    } finally {
      await m.stop();
    }
  }, 120_000);

  it.skipIf(MOSQUITTO_MISSING !== "")("without --sim: records what a mocap system publishes to the broker, with --topics", async () => {
    const m = await startMosquitto();
    const source = new YUpMillimetreSource("s1");
    const pub = new MocapPublisher({ url: m.url, source, rateHz: 240, clientId: "collect-test-mocap-system" });
    try {
      await pub.waitConnected();
      pub.start();
      const out = join(work, "external");
      const r = await collect(["--duration", "1.5", "--json", "--out", out, "--broker", m.url, "--topics", "mocap/s1/frame:spatial_reward_msgs/msg/MocapFrame,mocap/s1/hand/pose:geometry_msgs/msg/PoseStamped"]);
      expect(r.code, r.stderr).toBe(0);
      const j = lastJson(r);
      const { reader, messages } = await readIndexed(j.episode);
      const count = (topic: string) => messages.filter((x) => reader.channelsById.get(x.channelId)!.topic === topic).length;
      // Only what arrived during the episode is in it, every frame of that once; nothing was lost on the way.
      expect(j.mocap.frames_sent).toBeNull();
      expect(j.mocap.frames_lost).toBe(0);
      expect(j.mocap.frames_received).toBeGreaterThan(240);
      expect(count("mocap/frames")).toBe(j.mocap.frames_received);
      expect(count("/mocap/s1/frame")).toBe(j.mocap.frames_received);
      expect(count("/mocap/s1/hand/pose")).toBe(j.mocap.frames_received);
      expect(count("/camera/color/image_raw")).toBe(0);
      const numbers = messages.filter((x) => reader.channelsById.get(x.channelId)!.topic === "mocap/frames").map((x) => decodeMocapFrame(x.data).frame_number);
      expect(Number(numbers[numbers.length - 1] - numbers[0]) + 1).toBe(numbers.length);
    } finally {
      await pub.close(true);
      await m.stop();
    }
  }, 120_000);

  it.skipIf(MOSQUITTO_MISSING !== "")("starts from a clean MQTT session: frames queued at the broker for an earlier run never reach this one", async () => {
    const m = await startMosquitto();
    try {
      // An earlier run's persistent session, and frames the broker queued for it while it was away.
      const old = connect(m.url, { clientId: "spatial_reward_collect_ingest", clean: false, reconnectPeriod: 0, protocolVersion: 4 });
      await new Promise<void>((resolve) => old.once("connect", () => resolve()));
      await new Promise<void>((resolve, reject) => old.subscribe("mocap/+/frame", { qos: 1 }, (e) => (e ? reject(e) : resolve())));
      await new Promise<void>((resolve) => old.end(false, {}, () => resolve()));
      const raw = await rawClient(m.url, "collect-test-stale");
      for (let n = 0; n < 50; n++) await publishQos1(raw, "mocap/stale/frame", encodeMocapFrame(makeFrame("stale", BigInt(n), 1_000_000_000n + BigInt(n) * 4_166_667n)));
      raw.end(true);
      const r = await collect(["--duration", "0.5", "--json", "--out", join(work, "stale"), "--broker", m.url]);
      expect(r.code, r.stderr).toBe(0);
      const j = lastJson(r) as Summary & { mocap: { frames_outside_episode: number } };
      expect(j.mocap.frames_received).toBe(0);
      expect(j.mocap.frames_outside_episode).toBe(0);
      expect(Object.keys(j.mocap.clock)).toEqual([]);
    } finally {
      await m.stop();
    }
  }, 60_000);

  it("SIGINT mid-episode finishes a complete, indexed file with everything received", async () => {
    const out = join(work, "sigint");
    let sent = false;
    const r = await collect(["--sim", "--duration", "120", "--json", "--out", out], (err, child) => {
      // Once the camera runs (after the mocap pre-roll), and two seconds of it recorded.
      if (!sent && /\b2\.\d\/120 s/.test(err)) {
        sent = true;
        child.kill("SIGINT");
      }
    });
    expect(sent, r.stderr).toBe(true);
    expect({ code: r.code, signal: r.signal }, r.stderr).toEqual({ code: 0, signal: null });
    const j = lastJson(r);
    expect(j.ended_by).toBe("signal");
    expect(j.duration_s).toBeLessThan(60);
    await checkEpisode(j, out);
  }, 120_000);

  it("refuses wrong flags with exit 2 before anything starts", () => {
    const file = join(work, "a-file");
    writeFileSync(file, "x");
    const cases: [string[], string][] = [
      [["--duration", "-1"], "--duration"],
      [["--duration", "abc"], "--duration"],
      [["--duration", "1e9"], "--duration"],
      [["--broker", "http://127.0.0.1:1883"], "--broker: broker URL must use mqtt:// or mqtts://"],
      [["--broker", "mqtt://user:pw@127.0.0.1"], "--broker: put the broker's username and password in their own parameters"],
      [["--broker", "nonsense"], "--broker"],
      [["--out", file], "--out"],
      [["--topics", "camera/x"], "--topics"],
      [["--topics", "a:sensor_msgs/msg/Image:sometimes"], "--topics"],
      [["--noise", "heavy"], "--noise"],
      [["--seed", "-3"], "--seed"],
      [["--task", "x".repeat(5000)], "--task"],
      [["extra"], "too many arguments"],
    ];
    for (const [args, mention] of cases) {
      const r = spawnSync(process.execPath, [cli, "collect", ...args, "--sim", "--out", join(work, "never")], { encoding: "utf8" });
      expect({ code: r.status, stdout: r.stdout }, args.join(" ")).toEqual({ code: 2, stdout: "" });
      const lines = r.stderr.split("\n").filter((l) => l !== "");
      expect(lines, r.stderr).toHaveLength(1);
      expect(lines[0].startsWith("spatial-reward collect: "), lines[0]).toBe(true);
      expect(lines[0]).toContain(mention);
    }
    expect(existsSync(join(work, "never"))).toBe(false);
  }, 60_000);
});
