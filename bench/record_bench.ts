import { closeSync, existsSync, mkdtempSync, openSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import protobuf from "protobufjs";
import descriptor from "protobufjs/ext/descriptor.js";
import { McapIndexedReader } from "@mcap/core";
import { CdrCodec } from "../src/msgs/cdr_codec.js";
import type * as M from "../src/msgs/generated.js";
import { protobufChannel, rosChannel } from "../src/record/channel_plan.js";
import { EpisodeWriter } from "../nodes/recorder/episode_writer.js";
import { COMPRESSIONS, decompressHandlers, loadCompression, type Compression } from "../nodes/recorder/chunk_compression.js";
import { FileByteSource } from "../nodes/recorder/recording_files.js";
import { depthMillimetres, RgbdSensor, teleopScenario, worldAt } from "../sim/index.js";
import { benchArgs } from "./bench_args.js";

/**
 * `node dist/bench/record_bench.js [--seconds S] [--compression zstd,lz4,none] [--zstd-levels 1,3]
 * [--depth 16UC1|32FC1] [--json]`:
 * how fast the recorder writes a teleop episode, against the rate the stream needs.
 *
 * The stream, per second of episode: 30 RGB frames 640x480 rgb8 and 30 aligned depth frames
 * 640x480, 16UC1 in mm as a RealSense driver sends them (or the simulator's own 32FC1), from
 * simulator renders of a scripted teleop episode with RealSense noise (30 rendered once and
 * replayed), 240 mocap frames as protobuf (50 rigid bodies, a 60-joint
 * skeleton, 100 markers, msgs/proto/mocap.proto) and 30 rewards. Each ROS message is CDR-encoded
 * from its message object into a reused buffer, as the recorder node does, and written through
 * EpisodeWriter (4 MiB chunks) to a file in the OS temp dir, as fast as it goes: `--seconds`
 * of episode (default 60) take `wall_s`. headroom_x = episode seconds / wall seconds: how many
 * times real time the recorder keeps up with on this machine (one thread doing CDR, compression
 * and write(2) itself); cpu_headroom_x = episode seconds / the process's CPU seconds, the same
 * without the time spent waiting for a core on a busy machine. The file is read back with McapIndexedReader and
 * every message accounted for per channel (`channels`: sent = accepted by write(), written = the
 * writer's count, read_back, duplicate or missing sequence numbers, content compared with what was
 * sent; `all_accounted`); the process exits 1 when a channel is not. Compressions are measured one
 * after the other in one run.
 */
const { values } = benchArgs("record_bench", "node dist/bench/record_bench.js [--seconds S] [--compression LIST] [--zstd-levels LIST] [--depth 16UC1|32FC1] [--json]", {
  options: {
    seconds: { type: "string", default: "60" },
    compression: { type: "string", default: COMPRESSIONS.join(",") },
    "zstd-levels": { type: "string", default: "1,3" },
    depth: { type: "string", default: "16UC1" },
    json: { type: "boolean", default: false },
  },
});
const seconds = Number(values.seconds);
if (!Number.isInteger(seconds) || seconds < 1 || seconds > 3600) throw new Error(`--seconds must be an integer 1..3600, got ${values.seconds}`);
const compressions = values.compression.split(",") as Compression[];
for (const c of compressions) if (!(COMPRESSIONS as readonly string[]).includes(c)) throw new Error(`--compression: ${c} is not one of ${COMPRESSIONS.join(", ")}`);
const zstdLevels = values["zstd-levels"].split(",").map(Number);
for (const l of zstdLevels) if (!Number.isInteger(l) || l < 1 || l > 19) throw new Error(`--zstd-levels: ${l} is not an integer 1..19`);
const depthEncoding = values.depth;
if (depthEncoding !== "16UC1" && depthEncoding !== "32FC1") throw new Error(`--depth must be 16UC1 or 32FC1, got ${depthEncoding}`);
const progress = (text: string) => process.stderr.write(`${text}\n`);
const round = (x: number, d = 2) => Math.round(x * 10 ** d) / 10 ** d;

// ---- the stream's content ---------------------------------------------------------------
const W = 640;
const H = 480;
const scenario = teleopScenario(7, 30, { width: W, height: H });
const sensor = new RgbdSensor({ noise: "realsense", seed: scenario.seed });
const frames: { rgb: Uint8Array; depth: Uint8Array; depthEncoding: string; depthStep: number }[] = [];
const tRender = performance.now();
for (let f = 0; f < 30; f++) {
  const cap = sensor.capture(worldAt(scenario.world, scenario.episode.poses[f]), scenario.camera, 0n);
  const d = cap.frame.depth;
  if (d.encoding !== "32FC1") throw new Error(`the simulator's depth is ${d.encoding}, expected 32FC1`);
  let depth = Uint8Array.from(d.data);
  let step = d.step;
  if (depthEncoding === "16UC1") {
    // What a RealSense driver publishes on aligned_depth_to_color/image_raw: millimetres, 0 = no reading.
    depth = new Uint8Array(depthMillimetres(d).buffer);
    step = W * 2;
  }
  frames.push({ rgb: Uint8Array.from(cap.frame.rgb.data), depth, depthEncoding, depthStep: step });
}
progress(`rendered 30 frames ${W}x${H} in ${round((performance.now() - tRender) / 1000, 1)} s (depth ${depthEncoding})`);

const here = dirname(fileURLToPath(import.meta.url));
// bench/ from the sources, dist/bench/ from the build.
const root = [join(here, ".."), join(here, "..", "..")].find((p) => existsSync(join(p, "msgs/proto/mocap.proto")));
if (root === undefined) throw new Error("cannot find msgs/proto/mocap.proto above this file");
const proto = protobuf.loadSync(join(root, "msgs/proto/mocap.proto"));
const Frame = proto.lookupType("spatial_reward.mocap.MocapFrame");
const fds = descriptor.FileDescriptorSet.encode(proto.toDescriptor("proto3")).finish();
function mocapFrame(n: number): Uint8Array {
  const v = (k: number) => ({ x: Math.sin(n * 0.01 + k), y: Math.cos(n * 0.013 + k), z: 1 + 0.1 * Math.sin(k) });
  const q = (k: number) => ({ x: 0, y: 0, z: Math.sin(n * 0.001 + k), w: Math.cos(n * 0.001 + k) });
  return Frame.encode(Frame.fromObject({
    streamId: "optitrack", frameNumber: n, deviceTimestampNs: 1_000_000 + n * 4_166_667, systemLatencyMs: 3.2,
    axes: { upAxis: 1, handedness: 1, unit: 1 },
    rigidBodies: Array.from({ length: 50 }, (_, k) => ({ id: k, name: `body_${k}`, position: v(k), orientation: q(k), meanMarkerError: 0.0004, tracked: true })),
    markers: Array.from({ length: 100 }, (_, k) => ({ id: k, position: v(k * 0.1), residual: 0.0002, occluded: false })),
    skeletons: [{ id: 1, name: "operator", joints: Array.from({ length: 60 }, (_, k) => ({ name: `joint_${k}`, parent: k - 1, position: v(k * 0.2), orientation: q(k), tracked: true })) }],
  })).finish();
}
const mocapSample = mocapFrame(0);
progress(`mocap frame: ${mocapSample.byteLength} bytes of protobuf`);

const imageCodec = new CdrCodec("sensor_msgs/msg/Image");
const rewardCodec = new CdrCodec("spatial_reward_msgs/msg/Reward");
const scratch = new ArrayBuffer(W * H * 3 + 4096);
const T0 = 1_736_000_000_000_000_000n;
/** Channel ids are indices here, as EpisodeWriter assigns them. */
const CHANNELS = ["/camera/color/image_raw", "/camera/aligned_depth_to_color/image_raw", "/mocap/frames", "/reward"] as const;
const sameBytes = (a: Uint8Array, b: Uint8Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));

async function measure(compression: Compression, zstdLevel: number) {
  const dir = mkdtempSync(join(tmpdir(), "record-bench-"));
  const path = join(dir, "episode.mcap");
  try {
    const w = await EpisodeWriter.create(path, [
      rosChannel(CHANNELS[0], "sensor_msgs/msg/Image"),
      rosChannel(CHANNELS[1], "sensor_msgs/msg/Image"),
      protobufChannel(CHANNELS[2], "spatial_reward.mocap.MocapFrame", fds),
      rosChannel(CHANNELS[3], "spatial_reward_msgs/msg/Reward"),
    ], null, { compression, zstdLevel });
    // Mocap frames are encoded once per distinct pose beforehand: producing them is the ingest's cost, not the recorder's.
    const mocap = Array.from({ length: 240 }, (_, i) => mocapFrame(i));
    // Per channel: messages handed to write() and accepted by it (a refusal is counted, not sent).
    const sent = new Array<number>(CHANNELS.length).fill(0);
    const refused = new Array<number>(CHANNELS.length).fill(0);
    const send = (ch: number, t: bigint, data: Uint8Array, publish?: bigint) => {
      if (w.write(ch, t, data, publish)) sent[ch]++;
      else refused[ch]++;
    };
    let messages = 0;
    let bytes = 0;
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    for (let tick = 0; tick < seconds * 240; tick++) {
      const t = T0 + BigInt(tick) * 4_166_667n;
      const stamp = { sec: Number(t / 1_000_000_000n), nanosec: Number(t % 1_000_000_000n) };
      const m = mocap[tick % 240];
      send(2, t, m);
      messages++;
      bytes += m.byteLength;
      if (tick % 8 === 0) {
        const f = frames[(tick / 8) % frames.length];
        const header = { stamp, frame_id: "camera_color_optical_frame" };
        const rgb: M.sensor_msgs__msg__Image = { header, height: H, width: W, encoding: "rgb8", is_bigendian: 0, step: W * 3, data: f.rgb };
        const depth: M.sensor_msgs__msg__Image = { header, height: H, width: W, encoding: f.depthEncoding, is_bigendian: 0, step: f.depthStep, data: f.depth };
        for (const [ch, msg] of [[0, rgb], [1, depth]] as const) {
          const data = imageCodec.encode(msg, scratch);
          send(ch, t, data, t);
          bytes += data.byteLength;
          messages++;
        }
        const r = rewardCodec.encode({ header: { stamp, frame_id: "table" }, spec: "near(red mug, blue bowl, 0.05)", reward: -0.1, progress: 0.5, success: false, residual: 0.1 }, scratch);
        send(3, t, r, t);
        bytes += r.byteLength;
        messages++;
        // Let the chunk writes settle, as the event loop does between transport callbacks.
        await w.idle();
      }
      if (tick % (240 * 10) === 0 && tick > 0) progress(`${compression}: ${tick / 240} s of episode written`);
    }
    const result = await w.close();
    const wall = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    // Every message accounted for: read back with the official indexed reader, per channel: the
    // count, each sequence number exactly once, and the content (a mocap frame byte for byte, an
    // image's pixel block against the render it was encoded from; its log time says which).
    await loadCompression();
    const fd = openSync(path, "r");
    const back = CHANNELS.map(() => ({ count: 0, duplicates: 0, content_mismatch: 0, seen: new Uint8Array(seconds * 240 + 1) }));
    try {
      const src = new FileByteSource(fd);
      const reader = await McapIndexedReader.Initialize({
        readable: { size: async () => BigInt(src.size), read: async (o, s) => src.read(Number(o), Number(s)) },
        decompressHandlers: decompressHandlers(),
      });
      for await (const msg of reader.readMessages()) {
        const b = back[msg.channelId];
        b.count++;
        if (msg.sequence >= b.seen.length || b.seen[msg.sequence] === 1) b.duplicates++;
        else b.seen[msg.sequence] = 1;
        const tick = Number((msg.logTime - T0) / 4_166_667n);
        let expected: Uint8Array | null = null;
        if (msg.channelId === 2) expected = mocap[tick % 240];
        else if (msg.channelId === 0 || msg.channelId === 1) {
          const f = frames[(tick / 8) % frames.length];
          expected = f === undefined ? null : msg.channelId === 0 ? f.rgb : f.depth;
        }
        if (expected !== null) {
          const tail = msg.data.subarray(msg.data.byteLength - expected.byteLength);
          if (msg.channelId === 2 ? !sameBytes(msg.data, expected) : !sameBytes(tail, expected)) b.content_mismatch++;
        }
      }
    } finally {
      closeSync(fd);
    }
    const readBack = back.reduce((a, b) => a + b.count, 0);
    const missingSequences = back.map((b, i) => {
      let seen = 0;
      for (let q = 0; q < Math.min(sent[i], b.seen.length); q++) seen += b.seen[q];
      return sent[i] - seen;
    });
    const channels = CHANNELS.map((topic, i) => ({
      topic,
      sent: sent[i],
      refused: refused[i],
      written: result.topics[topic] ?? 0,
      read_back: back[i].count,
      duplicates: back[i].duplicates,
      missing_sequences: missingSequences[i],
      content_mismatch: back[i].content_mismatch,
      accounted: sent[i] === back[i].count && (result.topics[topic] ?? 0) === sent[i] && refused[i] === 0 && back[i].duplicates === 0 && missingSequences[i] === 0 && back[i].content_mismatch === 0,
    }));
    const fileBytes = statSync(path).size;
    return {
      compression,
      zstd_level: compression === "zstd" ? zstdLevel : null,
      episode_s: seconds,
      wall_s: round(wall, 3),
      headroom_x: round(seconds / wall, 2),
      messages,
      written: result.messages,
      read_back: readBack,
      dropped: result.dropped + result.lost,
      all_accounted: channels.every((c) => c.accounted),
      channels,
      stream_mb_per_s: round(bytes / seconds / 1e6, 2),
      write_mb_per_s: round(bytes / wall / 1e6, 1),
      file_mb: round(fileBytes / 1e6, 1),
      ratio: round(bytes / fileBytes, 2),
      chunks: result.chunks,
      cpu_s: round((cpu.user + cpu.system) / 1e6, 2),
      // On a shared machine wall time includes waiting for a core; CPU time is what the recorder costs.
      cpu_headroom_x: round(seconds / ((cpu.user + cpu.system) / 1e6), 2),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await loadCompression();
const runs = [];
for (const c of compressions) {
  for (const level of c === "zstd" ? zstdLevels : [0]) {
    const r = await measure(c, level || 3);
    progress(`${c}${c === "zstd" ? ` ${level}` : ""}: ${r.write_mb_per_s} MB/s (${r.headroom_x}x real time), file ${r.file_mb} MB, ratio ${r.ratio}, read back ${r.read_back}/${r.messages}, ` +
      `every message accounted for per channel: ${r.all_accounted}`);
    runs.push(r);
  }
}
const out = { bench: "record", stream: { rgb: `${W}x${H} rgb8 @ 30 Hz`, depth: `${W}x${H} ${depthEncoding} @ 30 Hz`, mocap: `${mocapSample.byteLength} B protobuf @ 240 Hz`, reward: "30 Hz" }, chunk_size: 4 << 20, runs };
process.stdout.write(`${values.json ? JSON.stringify(out) : JSON.stringify(out, null, 2)}\n`);
if (!runs.every((r) => r.all_accounted)) {
  progress("record bench: a message sent was not read back as sent (see channels)");
  process.exitCode = 1;
}
