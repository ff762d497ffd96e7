import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parse } from "@foxglove/rosmsg";
import { MessageReader } from "@foxglove/rosmsg2-serialization";
import protobuf from "protobufjs";
import descriptor from "protobufjs/ext/descriptor.js";
import { afterAll, describe, expect, it } from "vitest";
import { EpisodeWriter, type EpisodeWriterOptions } from "../../nodes/recorder/episode_writer.js";
import { SyncFileWritable } from "../../nodes/recorder/file_writable.js";
import { decompressHandlers, loadCompression, type Compression } from "../../nodes/recorder/chunk_compression.js";
import { CdrCodec } from "../../src/msgs/cdr_codec.js";
import { jsonChannel, protobufChannel, rosChannel, type ChannelPlan } from "../../src/record/channel_plan.js";
import { EPISODE_METADATA_NAME, parseEpisodeMetadata, type EpisodeMetadata } from "../../src/record/episode_metadata.js";
import { McapScanner, memorySource } from "../../src/record/mcap_scan.js";
import { RecordingInspector } from "../../src/record/recording_inspector.js";
import { RecordingWriteError } from "../../src/record/recording_errors.js";
import { isSpatialRewardError } from "../../src/errors.js";
import { MemoryWritable, readIndexed } from "./mcap_test_helpers.js";

const root = join(dirname(fileURLToPath(import.meta.url)), "../..");
const dir = mkdtempSync(join(tmpdir(), "episode-writer-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The mocap proto's FileDescriptorSet, built here with protobufjs from msgs/proto/mocap.proto. */
function mocapDescriptor(): { bytes: Uint8Array; root: protobuf.Root } {
  const root = protobuf.loadSync(join(root_, "msgs/proto/mocap.proto"));
  return { bytes: descriptor.FileDescriptorSet.encode(root.toDescriptor("proto3")).finish(), root };
}
const root_ = root;

const META: EpisodeMetadata = {
  task: "put the red mug next to the blue bowl", operator: "ana", seed: 42n, calibration: '{"camera":"d435","extrinsics":[0,0,1]}',
  clockOffsetNs: -1_234_567n, clockDriftPpm: 3.5, startWallTimeNs: 1_736_000_000_123_456_789n, softwareVersion: "spatial-reward test",
  extra: { site: "lab 2" },
};

const imageCodec = new CdrCodec("sensor_msgs/msg/Image");
const poseCodec = new CdrCodec("geometry_msgs/msg/PoseStamped");
const rewardCodec = new CdrCodec("spatial_reward_msgs/msg/Reward");

function image(i: number) {
  const data = new Uint8Array(32 * 24 * 3);
  for (let k = 0; k < data.length; k++) data[k] = (k * 7 + i * 13) & 255;
  return { header: { stamp: { sec: 100 + i, nanosec: 5 }, frame_id: "camera_color_optical_frame" }, height: 24, width: 32, encoding: "rgb8", is_bigendian: 0, step: 96, data };
}
const pose = (i: number) => ({ header: { stamp: { sec: 100, nanosec: i * 1000 }, frame_id: "world" }, pose: { position: { x: i, y: -i, z: 0.5 }, orientation: { x: 0, y: 0, z: 0, w: 1 } } });
const reward = (i: number) => ({ header: { stamp: { sec: 100 + i, nanosec: 0 }, frame_id: "table" }, spec: "near(red mug, blue bowl, 0.05)", reward: -i / 10, progress: i / 40, success: i === 39, residual: i / 100 });

describe("EpisodeWriter", () => {
  for (const compression of ["zstd", "lz4", "none"] as Compression[]) {
    it(`writes a chunked, indexed, ${compression} file the official reader reads back in full`, async () => {
      const { bytes: fds, root: proto } = mocapDescriptor();
      const Frame = proto.lookupType("spatial_reward.mocap.MocapFrame");
      const channels: ChannelPlan[] = [
        rosChannel("/camera/color/image_raw", "sensor_msgs/msg/Image"),
        rosChannel("/mocap/hand", "geometry_msgs/msg/PoseStamped"),
        rosChannel("/reward", "spatial_reward_msgs/msg/Reward"),
        protobufChannel("/mocap/frames", "spatial_reward.mocap.MocapFrame", fds),
        jsonChannel("/notes", "note", { type: "object", properties: { text: { type: "string" } } }),
      ];
      const path = join(dir, `roundtrip_${compression}.mcap`);
      const w = await EpisodeWriter.create(path, channels, META, { chunkSize: 8192, compression });
      const sent: { topic: string; data: Uint8Array; value: unknown }[] = [];
      // One scratch buffer reused for every message: write() borrows the bytes only while it runs.
      const scratch = new ArrayBuffer(1 << 16);
      const t0 = 1_736_000_000_000_000_000n;
      for (let i = 0; i < 40; i++) {
        const t = t0 + BigInt(i) * 33_333_333n;
        const put = (topic: string, value: unknown, data: Uint8Array) => {
          sent.push({ topic, data: new Uint8Array(data), value });
          expect(w.write(w.channelId(topic)!, t, data, t - 1000n)).toBe(true);
          data.fill(0xee);
        };
        put("/camera/color/image_raw", image(i), imageCodec.encode(image(i), scratch));
        put("/mocap/hand", pose(i), poseCodec.encode(pose(i), scratch));
        put("/reward", reward(i), rewardCodec.encode(reward(i), scratch));
        const frame = { streamId: "optitrack", frameNumber: 1000 + i, systemLatencyMs: 2.5, rigidBodies: [{ id: 1, name: "hand", position: { x: i, y: 0, z: 1 }, tracked: true }] };
        put("/mocap/frames", frame, Frame.encode(Frame.fromObject(frame)).finish());
        put("/notes", { text: `frame ${i}` }, new TextEncoder().encode(JSON.stringify({ text: `frame ${i}` })));
      }
      const result = await w.close();
      expect(result).toMatchObject({ ok: true, error: null, messages: 200, lost: 0, dropped: 0 });
      expect(result.chunks).toBeGreaterThan(3);
      expect(result.topics["/camera/color/image_raw"]).toBe(40);

      const { reader, messages } = await readIndexed(path);
      expect(reader.header.profile).toBe(""); // mixed encodings: not the ros2 profile
      expect(reader.chunkIndexes.length).toBe(result.chunks);
      expect(new Set(reader.chunkIndexes.map((c) => c.compression))).toEqual(new Set([compression === "none" ? "" : compression]));
      expect(reader.statistics?.messageCount).toBe(200n);
      const byTopic = new Map([...reader.channelsById.values()].map((c) => [c.id, c]));
      for (const plan of channels) {
        const ch = [...reader.channelsById.values()].find((c) => c.topic === plan.topic)!;
        expect(ch.messageEncoding).toBe(plan.messageEncoding);
        const schema = reader.schemasById.get(ch.schemaId)!;
        expect([schema.name, schema.encoding]).toEqual([plan.schema.name, plan.schema.encoding]);
        expect(Buffer.from(schema.data).equals(Buffer.from(plan.schema.data))).toBe(true);
      }
      // Every message, bytes intact (the scratch buffer was overwritten after each write), in order per topic.
      const got = messages.map((m) => ({ topic: byTopic.get(m.channelId)!.topic, data: m.data, seq: m.sequence, log: m.logTime, pub: m.publishTime }));
      for (const topic of channels.map((c) => c.topic)) {
        const want = sent.filter((s) => s.topic === topic);
        const have = got.filter((g) => g.topic === topic);
        expect(have.length).toBe(want.length);
        have.forEach((h, i) => {
          expect(Buffer.from(h.data).equals(Buffer.from(want[i].data)), `${topic} #${i}`).toBe(true);
          expect(h.seq).toBe(i);
          expect(h.pub).toBe(h.log - 1000n);
        });
      }
      // Decoded the way Foxglove decodes: CDR with a reader built from the file's own ros2msg schema, protobuf from its descriptor.
      const decode = (topic: string) => {
        const ch = [...reader.channelsById.values()].find((c) => c.topic === topic)!;
        return new MessageReader(parse(new TextDecoder().decode(reader.schemasById.get(ch.schemaId)!.data), { ros2: true }));
      };
      const img = got.filter((g) => g.topic === "/camera/color/image_raw");
      expect(decode("/camera/color/image_raw").readMessage(img[7].data)).toEqual(image(7));
      expect(decode("/reward").readMessage(got.filter((g) => g.topic === "/reward")[39].data)).toEqual(reward(39));
      const fdsBack = reader.schemasById.get([...reader.channelsById.values()].find((c) => c.topic === "/mocap/frames")!.schemaId)!.data;
      const FrameBack = protobuf.Root.fromDescriptor(fdsBack).lookupType("spatial_reward.mocap.MocapFrame");
      const f = FrameBack.toObject(FrameBack.decode(got.filter((g) => g.topic === "/mocap/frames")[3].data), { longs: Number });
      expect(f).toMatchObject({ streamId: "optitrack", frameNumber: 1003, rigidBodies: [{ name: "hand", position: { x: 3, z: 1 }, tracked: true }] });
      expect(JSON.parse(new TextDecoder().decode(got.filter((g) => g.topic === "/notes")[5].data))).toEqual({ text: "frame 5" });
      // Episode metadata: one record named "episode", indexed, parsing back to what was written.
      const meta = [];
      for await (const m of reader.readMetadata({ name: EPISODE_METADATA_NAME })) meta.push(m);
      expect(reader.metadataIndexes.map((m) => m.name)).toEqual([EPISODE_METADATA_NAME]);
      expect(meta.length).toBe(1);
      expect(parseEpisodeMetadata(meta[0].metadata)).toEqual(META);
      expect(meta[0].metadata.get("start_wall_time")).toBe("2025-01-04T14:13:20.123Z");
    });
  }

  it("a ROS-only episode carries the ros2 profile; the metadata record comes right after the header", async () => {
    const path = join(dir, "ros_only.mcap");
    const w = await EpisodeWriter.create(path, [rosChannel("/reward", "spatial_reward_msgs/msg/Reward")], META);
    w.write(0, 5n, rewardCodec.encode(reward(1)));
    await w.close();
    const bytes = new Uint8Array(readFileSync(path));
    const records = [...new McapScanner(memorySource(bytes), { decompressHandlers: decompressHandlers() }).records()].map((r) => r.type);
    expect(records.slice(0, 2)).toEqual(["Header", "Metadata"]);
    expect((await readIndexed(path)).reader.header.profile).toBe("ros2");
  });

  it("never overwrites a file", async () => {
    const path = join(dir, "exists.mcap");
    writeFileSync(path, "keep me");
    const e = await EpisodeWriter.create(path, [], null).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(RecordingWriteError);
    expect((e as RecordingWriteError).errno).toBe("EEXIST");
    expect(readFileSync(path, "utf8")).toBe("keep me");
  });

  it("refuses bad options and plans with typed errors before creating anything", async () => {
    const bad = async (o: EpisodeWriterOptions, plans: ChannelPlan[] = []) => {
      const path = join(dir, `bad_${Math.random()}.mcap`);
      const e = await EpisodeWriter.create(path, plans, null, o).catch((x: unknown) => x);
      expect(isSpatialRewardError(e) && e.code).toBe("bad_argument");
      expect(existsSync(path)).toBe(false);
    };
    await bad({ chunkSize: 10 });
    await bad({ chunkSize: 1.5e9 });
    await bad({ zstdLevel: 40 });
    await bad({}, [rosChannel("/a", "std_msgs/msg/String"), rosChannel("/a", "std_msgs/msg/String")]);
  });
});

describe("EpisodeWriter write errors", () => {
  it("a full disk mid-episode is a typed error, counted with what it cost, and the file keeps every chunk before it", async () => {
    await loadCompression();
    const mem = new MemoryWritable({ failAfter: 20_000 });
    const w = await EpisodeWriter.create("mem.mcap", [rosChannel("/reward", "spatial_reward_msgs/msg/Reward")], META, { chunkSize: 2048, openWritable: () => mem });
    const errors: RecordingWriteError[] = [];
    w.onError = (e) => errors.push(e);
    let refused = 0;
    for (let i = 0; i < 2000; i++) {
      if (!w.write(0, BigInt(i) * 1_000_000n, rewardCodec.encode(reward(i)))) refused++;
      if (i % 10 === 0) await w.idle();
    }
    const result = await w.close();
    expect(errors.length).toBe(1);
    expect(errors[0]).toBeInstanceOf(RecordingWriteError);
    expect(errors[0].code).toBe("write_failed");
    expect(errors[0].errno).toBe("ENOSPC");
    expect(errors[0].message).toMatch(/no space left on the device \(ENOSPC\)/);
    expect(result.ok).toBe(false);
    expect(result.error).toBe(errors[0]);
    expect(w.counters.get("errors.write_failed")).toBe(1);
    expect(refused).toBeGreaterThan(0);
    expect(w.counters.get("dropped.write_failed")).toBe(refused);
    // Nothing unaccounted for: every write() is in the file, lost with the failed chunk, or refused.
    expect(result.messages + result.lost + result.dropped).toBe(2000);
    expect(result.lost).toBeGreaterThan(0);
    expect(mem.closed).toBe(true);
    // The messages the result says are in the file are: the first ones, in order, recoverable.
    const scanner = new McapScanner(memorySource(mem.bytes()), { decompressHandlers: decompressHandlers() });
    const seqs: number[] = [];
    for (const r of scanner.records()) if (r.type === "Message") seqs.push(r.sequence);
    expect(seqs).toEqual([...Array(result.messages).keys()]);
    expect(scanner.summary.end).toBe("truncated");
  });

  it("a full disk at creation (/dev/full) is a typed ENOSPC error", async () => {
    if (!existsSync("/dev/full")) return;
    const e = await EpisodeWriter.create("/dev/full", [], META, { openWritable: (p) => SyncFileWritable.create(p, "w") }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(RecordingWriteError);
    expect((e as RecordingWriteError).errno).toBe("ENOSPC");
  });

  it("while a chunk is written, messages queue up to the bound; past it they are refused, counted and leave sequence gaps", async () => {
    const mem = new MemoryWritable({ delayMs: 5 });
    const w = await EpisodeWriter.create("slow.mcap", [rosChannel("/reward", "spatial_reward_msgs/msg/Reward")], null, { chunkSize: 1024, maxQueuedBytes: 4000, openWritable: () => mem });
    const size = rewardCodec.encode(reward(0)).byteLength;
    let accepted = 0;
    let written = 0;
    // Bursts of 100 while chunks are being written, each followed by a message once idle, so
    // the refused ones fall between accepted ones.
    for (let round = 0; round < 4; round++) {
      for (let i = 0; i < 100; i++) if (w.write(0, BigInt(written++), rewardCodec.encode(reward(i)))) accepted++;
      await w.idle();
      expect(w.write(0, BigInt(written++), rewardCodec.encode(reward(0)))).toBe(true);
      accepted++;
    }
    const result = await w.close();
    expect(result.ok).toBe(true);
    expect(result.dropped).toBe(written - accepted);
    expect(result.dropped).toBeGreaterThan(100);
    expect(w.counters.get("dropped.queue_full")).toBe(written - accepted);
    expect(accepted).toBeLessThanOrEqual(4 * (Math.floor(4000 / size) + 2) + 4);
    const { messages } = await readIndexed(mem.bytes());
    expect(messages.length).toBe(accepted);
    const inspector = new RecordingInspector();
    for (const r of new McapScanner(memorySource(mem.bytes()), { decompressHandlers: decompressHandlers() }).records()) inspector.add(r);
    const ch = inspector.report().channels[0];
    expect(ch.sequence?.missing).toBe(written - accepted);
  });

  it("write() after close is refused and counted", async () => {
    const mem = new MemoryWritable();
    const w = await EpisodeWriter.create("closed.mcap", [rosChannel("/reward", "spatial_reward_msgs/msg/Reward")], null, { openWritable: () => mem });
    await w.close();
    expect(w.write(0, 1n, new Uint8Array(4))).toBe(false);
    expect(w.counters.get("dropped.closed")).toBe(1);
    // The result describes the file as it was closed.
    expect((await w.close()).dropped).toBe(0);
  });
});
