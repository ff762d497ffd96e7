import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse } from "@foxglove/rosmsg";
import { MessageReader } from "@foxglove/rosmsg2-serialization";
import { afterAll, afterEach, describe, expect, it, vi } from "vitest";
import { RecorderNode, type RecorderOptions } from "../../nodes/recorder_node.js";
import { InprocTransport } from "../../src/transport/inproc_transport.js";
import { QOS_DEFAULT, QOS_LATCHED, QOS_SENSOR_DATA } from "../../src/transport/qos.js";
import type { ParameterValue } from "../../src/transport/parameters.js";
import type * as M from "../../src/msgs/generated.js";
import { jsonChannel } from "../../src/record/channel_plan.js";
import { EPISODE_END_METADATA_NAME, parseEpisodeEndMetadata, parseEpisodeMetadata } from "../../src/record/episode_metadata.js";
import type { ClockEstimate } from "../../src/mocap/clock_sync.js";
import { inspectFile } from "../../nodes/recorder/recording_files.js";
import { describeInspection } from "../../nodes/cli/record.js";
import { MemoryWritable, readIndexed } from "./mcap_test_helpers.js";

const dir = mkdtempSync(join(tmpdir(), "recorder-node-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let transports: InprocTransport[] = [];
afterEach(async () => {
  for (const t of transports) await t.shutdown();
  transports = [];
});

type Req = M.spatial_reward_msgs__srv__RecordEpisode_Request;
type Res = M.spatial_reward_msgs__srv__RecordEpisode_Response;

function graph(params: Record<string, ParameterValue> = {}, options: RecorderOptions = {}) {
  const transport = new InprocTransport();
  transports.push(transport);
  transport.logSinks = [];
  const out = mkdtempSync(join(dir, "episodes-"));
  const recorder = new RecorderNode(
    transport.createNode("recorder", { parameterOverrides: { diagnostics_period_ms: 0, output_dir: out, chunk_size: 4096, ...params } }),
    { softwareVersion: "spatial-reward test", ...options },
  );
  const probe = transport.createNode("probe");
  const images = probe.createPublisher<M.sensor_msgs__msg__Image>("sensor_msgs/msg/Image", "camera/color/image_raw", QOS_SENSOR_DATA);
  const rewards = probe.createPublisher<M.spatial_reward_msgs__msg__Reward>("spatial_reward_msgs/msg/Reward", "reward", QOS_DEFAULT);
  const spec = probe.createPublisher<M.spatial_reward_msgs__msg__RewardSpec>("spatial_reward_msgs/msg/RewardSpec", "reward/spec", QOS_LATCHED);
  const control = probe.createPublisher<M.spatial_reward_msgs__msg__RecorderControl>("spatial_reward_msgs/msg/RecorderControl", "recorder/control", QOS_DEFAULT);
  const service = probe.createClient<Req, Res>("spatial_reward_msgs/srv/RecordEpisode", "record_episode");
  return { transport, recorder, images, rewards, spec, control, service, out };
}

const image = (i: number): M.sensor_msgs__msg__Image => ({
  header: { stamp: { sec: 1000 + i, nanosec: 250 }, frame_id: "camera_color_optical_frame" },
  height: 2, width: 3, encoding: "rgb8", is_bigendian: 0, step: 9, data: Uint8Array.from({ length: 18 }, (_, k) => k + i),
});
const reward = (i: number): M.spatial_reward_msgs__msg__Reward => ({
  header: { stamp: { sec: 1000 + i, nanosec: 0 }, frame_id: "table" }, spec: "near(a, b, 0.05)", reward: -i, progress: i / 10, success: false, residual: i,
});
const start = (task: string): Req => ({ command: 1, task, operator: "ana", seed: 7n });
const stop: Req = { command: 2, task: "", operator: "", seed: 0n };

describe("recorder node", () => {
  it("records an episode started by the service and stopped by recorder/control, CDR the schema decodes, the latched spec first", async () => {
    const g = graph({}, { extraChannels: [jsonChannel("/mocap/json", "frame", { type: "object" })], clockOffset: () => ({ offsetNs: -1234n, driftPpm: 2.5 }) });
    g.spec.publish({ header: { stamp: { sec: 999, nanosec: 0 }, frame_id: "" }, text: "near(red mug, blue bowl, 0.05)" });
    g.images.publish(image(0)); // between episodes: counted, not written
    const started = await g.service.call(start("put the mug next to the bowl"));
    expect(started.ok).toBe(true);
    expect(started.path.startsWith(g.out)).toBe(true);
    expect(g.recorder.episodePath).toBe(started.path);
    for (let i = 1; i <= 12; i++) {
      g.images.publish(image(i));
      g.rewards.publish(reward(i));
      expect(g.recorder.recordRaw("/mocap/json", new TextEncoder().encode(`{"i":${i}}`))).toBe(true);
    }
    // A message the codec cannot serialise (here a hostile getter; the CDR writer fills most
    // wrong values with defaults) is counted and skipped; the episode goes on.
    g.images.publish(Object.defineProperty({ ...image(13) }, "encoding", { get: () => { throw new Error("hostile getter"); } }));
    g.control.publish({ command: 2, task: "", operator: "", seed: 0n });
    expect(await g.recorder.stop()).toBeNull(); // queued behind the control topic's stop: nothing left to stop
    expect(g.recorder.recording).toBe(false);
    g.images.publish(image(14));

    const c = g.recorder.counters;
    expect(c.get("idle_messages")).toBe(3); // the spec and two images outside the episode
    expect(c.get("recorded")).toBe(37); // 12 × 3 + the latched spec
    expect(c.get("dropped.unserialisable")).toBe(1);
    expect(c.get("errors.bad_message")).toBe(1);
    expect(c.get("episodes_finished")).toBe(1);

    const { reader, messages } = await readIndexed(started.path);
    const topics = new Map([...reader.channelsById.values()].map((ch) => [ch.id, ch.topic]));
    const count = (t: string) => messages.filter((m) => topics.get(m.channelId) === t).length;
    expect(count("/camera/color/image_raw")).toBe(12);
    expect(count("/reward")).toBe(12);
    expect(count("/reward/spec")).toBe(1);
    expect(count("/mocap/json")).toBe(12);
    expect(topics.get(messages[0].channelId)).toBe("/reward/spec");
    const imageChannel = [...reader.channelsById.values()].find((ch) => ch.topic === "/camera/color/image_raw")!;
    const schema = reader.schemasById.get(imageChannel.schemaId)!;
    expect([schema.name, schema.encoding, imageChannel.messageEncoding]).toEqual(["sensor_msgs/msg/Image", "ros2msg", "cdr"]);
    const decoder = new MessageReader(parse(new TextDecoder().decode(schema.data), { ros2: true }));
    const imgs = messages.filter((m) => m.channelId === imageChannel.id);
    expect(imgs.map((m) => decoder.readMessage(m.data))).toEqual([...Array(12).keys()].map((i) => image(i + 1)));
    // Publish time = the header stamp; log time = when the recorder received it (the node's clock).
    expect(imgs[0].publishTime).toBe(1001_000_000_250n);
    expect(imgs[0].logTime).toBeGreaterThan(1_600_000_000_000_000_000n);
    const meta = [];
    for await (const m of reader.readMetadata({ name: "episode" })) meta.push(parseEpisodeMetadata(m.metadata));
    expect(meta).toEqual([expect.objectContaining({ task: "put the mug next to the bowl", operator: "ana", seed: 7n, clockOffsetNs: -1234n, clockDriftPpm: 2.5, softwareVersion: "spatial-reward test" })]);
  });

  it("answers a second start, a stop with nothing running and an unknown command with ok=false and the reason", async () => {
    const g = graph();
    expect((await g.service.call(stop)).message).toBe("no episode is being recorded");
    const first = await g.service.call(start("a"));
    const again = await g.service.call(start("b"));
    expect(again.ok).toBe(false);
    expect(again.message).toContain(`an episode is being recorded (${first.path})`);
    const bad = await g.service.call({ ...stop, command: 9 });
    expect(bad).toMatchObject({ ok: false, message: expect.stringMatching(/COMMAND_START \(1\) or COMMAND_STOP \(2\), got 9/) });
    const done = await g.service.call(stop);
    expect(done).toMatchObject({ ok: true, path: first.path, message: "finished: 0 messages" });
    // Every episode is its own file.
    const next = await g.service.call(start("c"));
    expect(next.path).not.toBe(first.path);
    await g.recorder.shutdown();
    expect(readdirSync(g.out).filter((f) => f.endsWith(".mcap")).length).toBe(2);
  });

  it("a full disk ends the episode: ERROR on /diagnostics, counted, the file keeps its chunks, the next episode starts clean", async () => {
    const mem = new MemoryWritable({ failAfter: 6000 });
    const g = graph({ chunk_size: 1024 }, { writer: { openWritable: () => mem } });
    await g.recorder.start({ task: "t", operator: "o" });
    for (let round = 0; round < 20; round++) {
      for (let i = 0; i < 10; i++) g.images.publish(image(round * 10 + i));
      await new Promise((r) => setImmediate(r));
    }
    expect(g.recorder.counters.get("errors.write_failed")).toBe(1);
    expect(g.recorder.diagnostics.condition?.level).toBe(2);
    expect(g.recorder.diagnostics.condition?.message).toMatch(/recording failed: .*ENOSPC/);
    expect(g.recorder.counters.get("dropped.recording")).toBeGreaterThan(0);
    const result = (await g.recorder.stop())!;
    expect(result.ok).toBe(false);
    expect(result.messages + result.lost + result.dropped).toBe(200);
    expect(g.recorder.counters.get("episodes_failed")).toBe(1);
  });

  it("seed 0 means none on every control path: the service and recorder/control record no seed, as MQTT control does", async () => {
    const g = graph();
    const seeds = async (path: string) => {
      const { reader } = await readIndexed(path);
      const out = [];
      for await (const m of reader.readMetadata({ name: "episode" })) out.push(parseEpisodeMetadata(m.metadata).seed);
      return out;
    };
    const byService = await g.service.call({ command: 1, task: "s", operator: "ana", seed: 0n });
    expect((await g.service.call(stop)).ok).toBe(true);
    g.control.publish({ command: 1, task: "c", operator: "ana", seed: 0n });
    await vi.waitUntil(() => g.recorder.recording, { timeout: 5000 });
    const byTopic = g.recorder.episodePath!;
    g.control.publish({ command: 2, task: "", operator: "", seed: 0n });
    await vi.waitUntil(() => g.recorder.counters.get("episodes_finished") === 2, { timeout: 5000 });
    const withSeed = await g.service.call(start("seeded"));
    await g.recorder.stop();
    expect(await seeds(byService.path)).toEqual([null]);
    expect(await seeds(byTopic)).toEqual([null]);
    expect(await seeds(withSeed.path)).toEqual([7n]);
  });

  it("messages arriving while the episode's file closes are counted as dropped (in the result), not as idle", async () => {
    // Each write to the file resolves 30 ms later, so closing (last chunk, summary, footer) takes a while.
    const mem = new MemoryWritable({ delayMs: 30 });
    const g = graph({}, { extraChannels: [jsonChannel("/mocap/json", "frame", { type: "object" })], writer: { openWritable: () => mem } });
    await g.recorder.start({ task: "t", operator: "o" });
    for (let i = 0; i < 5; i++) g.images.publish(image(i));
    const stopping = g.recorder.stop();
    await new Promise((r) => setTimeout(r, 5));
    expect(mem.closed).toBe(false);
    expect(g.recorder.recording).toBe(true); // the file is still open
    for (let i = 5; i < 8; i++) g.images.publish(image(i));
    expect(g.recorder.recordRaw("/mocap/json", new TextEncoder().encode("{}"))).toBe(false);
    const result = (await stopping)!;
    expect(mem.closed).toBe(true);
    expect(result.ok).toBe(true);
    expect(result.messages).toBe(5);
    expect(result.dropped).toBe(4);
    const c = g.recorder.counters;
    expect(c.get("idle_messages")).toBe(0);
    expect(c.get("dropped.recording")).toBe(4);
    expect(c.get("episode.dropped.closed")).toBe(4);
    // Once closed, messages are between episodes again.
    g.images.publish(image(9));
    expect(c.get("idle_messages")).toBe(1);
  });

  it("writes an episode_end record at close with each stream's final clock estimate; record inspect shows it", async () => {
    // The ingest's estimates: none at the start, fitted over the episode by its end; a stream with no sample yet is left out.
    let clocks: Record<string, ClockEstimate> = {};
    const g = graph({}, { clockOffset: () => null, clockEstimates: () => clocks });
    const before = BigInt(Date.now()) * 1_000_000n;
    const { path } = await g.recorder.start({ task: "t", operator: "o" });
    g.images.publish(image(1));
    const sim: ClockEstimate = { offset_ns: 3_200_000_150n, drift_ppm: -0.75, residual_ns: 210, samples: 2400, resets: 0, congestions: 1 };
    clocks = { sim, idle: { offset_ns: 0n, drift_ppm: 0, residual_ns: 0, samples: 0, resets: 0, congestions: 0 } };
    await g.recorder.stop();
    const after = BigInt(Date.now()) * 1_000_000n;
    const { reader } = await readIndexed(path);
    const start = [], end = [];
    for await (const m of reader.readMetadata({ name: "episode" })) start.push(parseEpisodeMetadata(m.metadata));
    for await (const m of reader.readMetadata({ name: EPISODE_END_METADATA_NAME })) end.push(parseEpisodeEndMetadata(m.metadata));
    expect(start).toEqual([expect.objectContaining({ clockOffsetNs: null, clockDriftPpm: null })]);
    expect(end).toHaveLength(1);
    expect(end[0].clocks).toEqual({ sim });
    expect(end[0].endWallTimeNs >= before && end[0].endWallTimeNs <= after + 1_000_000n).toBe(true);
    const inspected = await inspectFile(path);
    expect(inspected.metadata.map((m) => m.name)).toEqual(["episode", "episode_end"]);
    expect(inspected.metadata[1].entries).toMatchObject({ "clock/sim/offset_ns": "3200000150", "clock/sim/drift_ppm": "-0.75", "clock/sim/congestions": "1" });
    const text = describeInspection(inspected);
    expect(text).toMatch(/^ {2}episode_end:$/m);
    expect(text).toMatch(/^ {4}clock\/sim\/offset_ns: 3200000150$/m);
  });

  it("refuses bad parameters at start with the reason", () => {
    const transport = new InprocTransport();
    transports.push(transport);
    transport.logSinks = [];
    const make = (p: Record<string, ParameterValue>) => () => new RecorderNode(transport.createNode(`r${Math.random().toString(36).slice(2)}`, { parameterOverrides: { diagnostics_period_ms: 0, ...p } }));
    expect(make({ compression: "gzip" })).toThrow(/compression must be one of zstd, lz4, none/);
    expect(make({ fsync: "always" })).toThrow(/fsync must be one of close, chunk, none/);
    expect(make({ chunk_size: 12 })).toThrow(/chunk_size must be an integer/);
    expect(make({ zstd_level: 0 })).toThrow(/zstd_level must be an integer from 1 to 19/);
    expect(make({ topics: ["camera/image"] })).toThrow(/must be "topic:pkg\/msg\/Type"/);
    expect(make({ topics: ["a:sensor_msgs/msg/Image:fast"] })).toThrow(/qos must be one of/);
    expect(make({ topics: ["a:nope_msgs/msg/Thing"] })).toThrow(/no message definition for nope_msgs\/msg\/Thing/);
    expect(make({ topics: ["a:std_msgs/msg/String", "a:std_msgs/msg/String"] })).toThrow(/listed twice/);
    expect(make({ file_prefix: "../x" })).toThrow(/file_prefix/);
    const clash = () => new RecorderNode(transport.createNode("clash", { parameterOverrides: { diagnostics_period_ms: 0, topics: ["/r:std_msgs/msg/String"] } }), { extraChannels: [jsonChannel("/r", "n", {})] });
    expect(clash).toThrow(/topic \/r is planned twice/);
  });
});
