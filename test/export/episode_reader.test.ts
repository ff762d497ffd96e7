import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { decompressHandlers, loadCompression } from "../../nodes/recorder/chunk_compression.js";
import { openEpisode } from "../../nodes/recorder/episode_file.js";
import { InvalidInputError, SpatialRewardError } from "../../src/errors.js";
import { decodeMocap, decodeRos, EpisodeReader, mocapChannel, sameTopic, type RecordedMessage } from "../../src/record/episode_reader.js";
import { RecordingFormatError } from "../../src/record/recording_errors.js";
import { memoryReadable, seededRandom } from "../record/mcap_test_helpers.js";
import { writeEpisode, type FixtureEpisode } from "./export_fixtures.js";

/**
 * The episode reader over files the recorder's EpisodeWriter writes: channels, metadata,
 * messages in log-time order, decoding by schema; and over hostile bytes: whatever the file,
 * opening and reading it throws only RecordingFormatError, and decoding a message only
 * InvalidInputError.
 */
const work = mkdtempSync(join(tmpdir(), "sr-reader-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));
let ep: FixtureEpisode;

describe("EpisodeReader", () => {
  beforeAll(async () => {
    ep = await writeEpisode(join(work, "ep.mcap"), { seed: 31, frames: 20, width: 48, height: 36, mocapHz: 60 });
  }, 60_000);

  it("lists the channels and metadata, yields every message in log-time order, decodes by schema", async () => {
    const file = await openEpisode(ep.path);
    try {
      const r = file.reader;
      expect(r.metadata).toMatchObject({ task: ep.task, operator: "fixture", seed: 31n });
      expect(r.channels.map((c) => [c.topic, c.schemaName, c.messageEncoding, c.count])).toEqual([
        ["/camera/color/image_raw", "sensor_msgs/msg/Image", "cdr", 20],
        ["/camera/aligned_depth_to_color/image_raw", "sensor_msgs/msg/Image", "cdr", 20],
        ["/camera/color/camera_info", "sensor_msgs/msg/CameraInfo", "cdr", 20],
        ["/camera/instances", "spatial_reward_msgs/msg/InstanceMasks", "cdr", 20],
        ["/scene/objects", "spatial_reward_msgs/msg/SceneObjects", "cdr", ep.scenes.size],
        ["/reward", "spatial_reward_msgs/msg/Reward", "cdr", 20],
        ["/mocap/frames", "spatial_reward.mocap.MocapFrame", "protobuf", ep.mocap.length],
      ]);
      expect(r.channel("camera/color/image_raw")).toBe(r.channels[0]);
      expect(r.channel("/nope")).toBeUndefined();
      expect(mocapChannel(r)?.topic).toBe("/mocap/frames");
      let last = -1n, n = 0;
      for await (const m of r.messages()) {
        expect(m.logTime >= last).toBe(true);
        last = m.logTime;
        n++;
      }
      expect(n).toBe(r.channels.reduce((a, c) => a + (c.count ?? 0), 0));
      const images: RecordedMessage[] = [];
      const mocap: RecordedMessage[] = [];
      for await (const m of r.messages(["camera/color/image_raw", "mocap/frames", "not/there"])) (m.channel.topic === "/mocap/frames" ? mocap : images).push(m);
      expect(images.length).toBe(20);
      expect(mocap.length).toBe(ep.mocap.length);
      const img = decodeRos(images[3], "sensor_msgs/msg/Image");
      expect([img.width, img.height, img.encoding]).toEqual([48, 36, "rgb8"]);
      expect(Buffer.from(img.data).equals(Buffer.from(ep.camera[3].rgbd.rgb.data))).toBe(true);
      expect(images[3].publishTime).toBe(ep.camera[3].stamp);
      const frame = decodeMocap(mocap[5]);
      expect(frame.frame_number).toBe(ep.mocap[5].truth.frameNumber);
      expect(mocap[5].logTime).toBe(ep.mocap[5].logTime);
      // Wrong type, wrong encoding, undecodable bytes: typed errors the exports count.
      expect(() => decodeRos(images[0], "sensor_msgs/msg/CameraInfo")).toThrow(expect.objectContaining({ code: "type_mismatch" }));
      expect(() => decodeMocap(images[0])).toThrow(expect.objectContaining({ code: "type_mismatch" }));
      expect(() => decodeRos({ ...images[0], data: new Uint8Array([0, 1, 0, 0, 255, 255, 255, 127]) }, "sensor_msgs/msg/Image")).toThrow(expect.objectContaining({ code: "bad_message" }));
      expect(() => decodeMocap({ ...mocap[0], data: new Uint8Array([0xff, 0xff, 0xff]) })).toThrow(InvalidInputError);
      expect(sameTopic("/a/b", "a/b") && !sameTopic("a/b", "a/c")).toBe(true);
    } finally {
      file.close();
    }
  });

  it("names the file and says what is wrong: empty, not MCAP, no summary (record recover), not a file", async () => {
    await loadCompression();
    const open = (bytes: Uint8Array) => EpisodeReader.open("x.mcap", memoryReadable(bytes), decompressHandlers());
    await expect(open(new Uint8Array(0))).rejects.toThrow(/^x\.mcap: the file is empty/);
    await expect(open(new TextEncoder().encode("PAR1 not mcap at all"))).rejects.toThrow(/^x\.mcap: not an MCAP recording/);
    const whole = new Uint8Array(readFileSync(ep.path));
    await expect(open(whole.subarray(0, whole.length - 100))).rejects.toThrow(/record recover/);
    await expect(openEpisode(work)).rejects.toThrow(RecordingFormatError);
    await expect(openEpisode(join(work, "missing.mcap"))).rejects.toThrow(/cannot be read/);
  });

  it("fuzz: 400 seeded mutations of an episode: open/read throw only RecordingFormatError, decoding only InvalidInputError", async () => {
    await loadCompression();
    const whole = new Uint8Array(readFileSync(ep.path));
    const rand = seededRandom(0xe915);
    const outcomes: Record<string, number> = {};
    const t0 = performance.now();
    for (let i = 0; i < 400; i++) {
      const bytes = new Uint8Array(whole);
      const kind = i % 4;
      let data = bytes;
      if (kind === 0) for (let k = 0; k < 1 + Math.floor(rand() * 8); k++) bytes[Math.floor(rand() * bytes.length)] ^= 1 << Math.floor(rand() * 8);
      else if (kind === 1) data = bytes.subarray(0, Math.floor(rand() * bytes.length));
      else if (kind === 2) {
        const at = Math.floor(rand() * bytes.length), n = Math.floor(rand() * 64);
        for (let k = at; k < Math.min(bytes.length, at + n); k++) bytes[k] = Math.floor(rand() * 256);
      } else {
        // The summary region (the end of the file) is where the indexed reader starts.
        const at = bytes.length - 1 - Math.floor(rand() * 2000);
        bytes[at] = Math.floor(rand() * 256);
        bytes[Math.max(0, at - 8)] ^= 0x80;
      }
      let outcome = "read";
      try {
        const r = await EpisodeReader.open("fuzz.mcap", memoryReadable(data), decompressHandlers());
        for await (const m of r.messages()) {
          try {
            if (m.channel.messageEncoding === "protobuf") decodeMocap(m);
            else decodeRos(m, m.channel.schemaName as "sensor_msgs/msg/Image");
          } catch (e) {
            if (!(e instanceof InvalidInputError)) throw new Error(`decode threw ${String(e)}`);
            outcomes.bad_message = (outcomes.bad_message ?? 0) + 1;
          }
        }
      } catch (e) {
        if (!(e instanceof RecordingFormatError)) throw new Error(`mutation ${i} (kind ${kind}) threw ${e instanceof SpatialRewardError ? e.code : String(e)}`);
        outcome = "format_error";
      }
      outcomes[outcome] = (outcomes[outcome] ?? 0) + 1;
    }
    // Chunk CRCs catch nearly every mutation of the data; what they do not cover still reads or fails typed.
    expect(outcomes.format_error).toBeGreaterThan(300);
    expect(performance.now() - t0).toBeLessThan(120_000);
  }, 180_000);

  it("fuzz: 3000 mutated messages of every recorded type decode or throw InvalidInputError", async () => {
    const file = await openEpisode(ep.path);
    const samples: RecordedMessage[] = [];
    try {
      const seen = new Map<string, number>();
      for await (const m of file.reader.messages()) {
        const k = seen.get(m.channel.topic) ?? 0;
        if (k < 3) samples.push(m);
        seen.set(m.channel.topic, k + 1);
      }
    } finally {
      file.close();
    }
    const rand = seededRandom(0xdec0de);
    let refused = 0, decoded = 0;
    for (let i = 0; i < 3000; i++) {
      const m = samples[i % samples.length];
      const data = new Uint8Array(m.data);
      const kind = i % 3;
      let bytes = data;
      if (kind === 0) for (let k = 0; k < 1 + Math.floor(rand() * 4); k++) data[Math.floor(rand() * data.length)] = Math.floor(rand() * 256);
      else if (kind === 1) bytes = data.subarray(0, Math.floor(rand() * data.length));
      else {
        // A length or count field made huge: the first bytes after the CDR header hold the header's string length.
        const at = 4 + Math.floor(rand() * Math.min(64, data.length - 8));
        data.set([0xff, 0xff, 0xff, 0x7f], at);
      }
      try {
        if (m.channel.messageEncoding === "protobuf") decodeMocap({ ...m, data: bytes });
        else decodeRos({ ...m, data: bytes }, m.channel.schemaName as "sensor_msgs/msg/Image");
        decoded++;
      } catch (e) {
        if (!(e instanceof InvalidInputError)) throw new Error(`mutation ${i} of ${m.channel.topic} threw ${String(e)}`);
        refused++;
      }
    }
    expect(refused).toBeGreaterThan(100);
    expect(decoded).toBeGreaterThan(100);
  }, 120_000);
});
