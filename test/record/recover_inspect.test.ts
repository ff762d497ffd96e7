import { McapStreamReader, McapWriter } from "@mcap/core";
import { beforeAll, describe, expect, it } from "vitest";
import { EpisodeWriter } from "../../nodes/recorder/episode_writer.js";
import { decompressHandlers, loadCompression } from "../../nodes/recorder/chunk_compression.js";
import { rosChannel } from "../../src/record/channel_plan.js";
import { McapScanner, memorySource, type ScanOptions } from "../../src/record/mcap_scan.js";
import { recoverRecording } from "../../src/record/recover_recording.js";
import { RecordingInspector } from "../../src/record/recording_inspector.js";
import { RecordingFormatError } from "../../src/record/recording_errors.js";
import { MemoryWritable, readIndexed } from "./mcap_test_helpers.js";

let scan: ScanOptions;
beforeAll(async () => {
  await loadCompression();
  scan = { decompressHandlers: decompressHandlers() };
});

/** Payload of message i: its index in 4 bytes, then filler that compresses a little. */
function payload(i: number): Uint8Array {
  const b = new Uint8Array(40 + (i % 13) * 7);
  new DataView(b.buffer).setUint32(0, i, true);
  for (let k = 4; k < b.length; k++) b[k] = (i * 31 + k) % 7;
  return b;
}

/** A small episode: two channels, chunks of ~600 bytes, messages numbered 0..n−1 in write order. */
async function episode(n: number, compression: "zstd" | "none" = "zstd"): Promise<Uint8Array> {
  const mem = new MemoryWritable();
  const w = await EpisodeWriter.create("e.mcap", [rosChannel("/a", "std_msgs/msg/String"), rosChannel("/b", "std_msgs/msg/String")], {
    task: "t", operator: "o", seed: 1n, calibration: "", clockOffsetNs: null, clockDriftPpm: null, startWallTimeNs: 1n, softwareVersion: "test", extra: {},
  }, { chunkSize: 1024, compression, openWritable: () => mem });
  for (let i = 0; i < n; i++) {
    w.write(i % 3 === 0 ? 1 : 0, 1_000_000_000n + BigInt(i) * 10_000_000n, payload(i));
    await w.idle();
  }
  expect((await w.close()).ok).toBe(true);
  return mem.bytes();
}

/**
 * The oracle, independent of the scanner: the file's top-level records framed from their
 * length fields (no parsing), and how many messages each chunk holds (McapStreamReader over
 * the whole file, counting messages after each chunk record).
 */
function layout(bytes: Uint8Array): { records: { opcode: number; end: number }[]; chunkMessages: number[] } {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const records: { opcode: number; end: number }[] = [];
  for (let o = 8; o + 9 <= bytes.length;) {
    const end = o + 9 + Number(view.getBigUint64(o + 1, true));
    records.push({ opcode: bytes[o], end });
    if (bytes[o] === 2) break;
    o = end;
  }
  const reader = new McapStreamReader({ includeChunks: true, decompressHandlers: decompressHandlers() });
  reader.append(bytes);
  const chunkMessages: number[] = [];
  for (let r = reader.nextRecord(); r; r = reader.nextRecord()) {
    if (r.type === "Chunk") chunkMessages.push(0);
    else if (r.type === "Message") chunkMessages[chunkMessages.length - 1]++;
  }
  return { records, chunkMessages };
}

async function recoverBytes(bytes: Uint8Array) {
  const out = new MemoryWritable();
  const report = await recoverRecording(new McapScanner(memorySource(bytes), scan), new McapWriter({ writable: out, chunkSize: 4096 }), (l) => `${l} +recovered`);
  return { report, out: out.bytes() };
}

describe("record recover", () => {
  it("cut at every byte: exactly the messages of the complete chunks come back, in a valid indexed file", async () => {
    const full = await episode(60);
    const { records, chunkMessages } = layout(full);
    const headerEnd = records[0].end;
    expect(chunkMessages.length).toBeGreaterThan(4);
    expect(chunkMessages.reduce((a, b) => a + b, 0)).toBe(60);
    let checked = 0;
    for (let cut = 0; cut <= full.length; cut++) {
      const prefix = full.subarray(0, cut);
      if (cut < headerEnd) {
        const e = await recoverBytes(prefix).catch((x: unknown) => x);
        expect(e, `cut ${cut}`).toBeInstanceOf(RecordingFormatError);
        continue;
      }
      const completeChunks = records.filter((r) => r.opcode === 6 && r.end <= cut).length;
      const expected = chunkMessages.slice(0, completeChunks).reduce((a, b) => a + b, 0);
      const { report, out } = await recoverBytes(prefix);
      expect(report.messages, `cut ${cut}`).toBe(expected);
      expect(report.chunks_read).toBe(completeChunks);
      expect(report.metadata).toBe(records.some((r) => r.opcode === 12 && r.end <= cut) ? 1 : 0);
      // Every 16th cut, and at chunk boundaries, read the new file with the official indexed reader.
      if (cut % 16 === 0 || records.some((r) => r.end === cut)) {
        const { messages, reader } = await readIndexed(out);
        const ids = messages.map((m) => new DataView(m.data.buffer, m.data.byteOffset).getUint32(0, true)).sort((a, b) => a - b);
        expect(ids).toEqual([...Array(expected).keys()]);
        for (const m of messages) expect(Buffer.from(m.data).equals(Buffer.from(payload(new DataView(m.data.buffer, m.data.byteOffset).getUint32(0, true))))).toBe(true);
        expect(reader.header.library).toBe("spatial-reward +recovered");
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(20);
  });

  it("a complete file is copied whole, sequence numbers and times kept", async () => {
    const full = await episode(30, "none");
    const { report, out } = await recoverBytes(full);
    expect(report.scan).toMatchObject({ end: "footer", problem: "" });
    expect(report.messages).toBe(30);
    const a = await readIndexed(full);
    const b = await readIndexed(out);
    const key = (m: (typeof a.messages)[number]) => `${m.sequence}/${m.logTime}/${m.publishTime}/${Buffer.from(m.data).toString("hex")}`;
    expect(b.messages.map(key)).toEqual(a.messages.map(key));
    expect([...b.reader.channelsById.values()].map((c) => c.topic).sort()).toEqual(["/a", "/b"]);
  });
});

/** Each chunk's message ids (payload index) and where it starts, from the intact file. */
function chunksOf(bytes: Uint8Array): { start: number; end: number; ids: number[] }[] {
  const { records } = layout(bytes);
  const starts: { start: number; end: number }[] = [];
  for (let i = 1; i < records.length; i++) if (records[i].opcode === 6) starts.push({ start: records[i - 1].end, end: records[i].end });
  const reader = new McapStreamReader({ includeChunks: true, decompressHandlers: decompressHandlers() });
  reader.append(bytes);
  const out: { start: number; end: number; ids: number[] }[] = [];
  for (let r = reader.nextRecord(); r; r = reader.nextRecord()) {
    if (r.type === "Chunk") out.push({ ...starts[out.length], ids: [] });
    else if (r.type === "Message") out[out.length - 1].ids.push(new DataView(r.data.buffer, r.data.byteOffset).getUint32(0, true));
  }
  return out;
}

const idsOf = (messages: { data: Uint8Array }[]) => messages.map((m) => new DataView(m.data.buffer, m.data.byteOffset).getUint32(0, true)).sort((a, b) => a - b);

describe("record recover over damaged chunks", () => {
  it("a chunk with a wrong CRC, wherever it is, costs exactly its own messages; the rest come back, counted from the indexes", async () => {
    const full = await episode(60);
    const chunks = chunksOf(full);
    expect(chunks.length).toBeGreaterThan(4);
    const all = [...Array(60).keys()];
    for (let k = 0; k < chunks.length; k++) {
      const bytes = full.slice();
      bytes[chunks[k].start + 9 + 24] ^= 0xff; // the chunk's uncompressed CRC
      const { report, out } = await recoverBytes(bytes);
      const lost = new Set(chunks[k].ids);
      const { messages, reader } = await readIndexed(out);
      expect(idsOf(messages), `chunk ${k}`).toEqual(all.filter((i) => !lost.has(i)));
      expect(report.messages).toBe(60 - lost.size);
      expect(report.scan.end).toBe("footer");
      expect(report.scan.damagedRecords, JSON.stringify(report.scan.damaged)).toBe(1);
      expect(report.scan.damaged[0]).toMatchObject({ offset: chunks[k].start, bytes: chunks[k].end - chunks[k].start, record: "Chunk", messages: lost.size });
      expect(report.scan.damaged[0].reason).toMatch(/CRC/);
      expect(report.scan.problem).toMatch(/1 damaged record\(s\) skipped/);
      const topics = [...reader.channelsById.values()].map((c) => c.topic).sort();
      if (k === 0) {
        // The first chunk held both Channel records: the later messages are kept on placeholders.
        expect(report.scan.placeholderChannels.length).toBe(2);
        expect(topics).toEqual(report.scan.placeholderChannels.map((id) => `/recovered/channel_${id}`).sort());
      } else {
        expect(report.scan.placeholderChannels).toEqual([]);
        expect(topics).toEqual(["/a", "/b"]);
      }
    }
  });

  it("a damaged length field: past the end or huge, the scan finds the next chunk; a wrong small one is stepped over", async () => {
    const full = await episode(60);
    const chunks = chunksOf(full);
    const k = 2;
    const lost = new Set(chunks[k].ids);
    const expected = [...Array(60).keys()].filter((i) => !lost.has(i));
    for (const length of [1n << 62n, BigInt(full.length), 100n, 40n]) {
      const bytes = full.slice();
      new DataView(bytes.buffer).setBigUint64(chunks[k].start + 1, length, true);
      const { report, out } = await recoverBytes(bytes);
      expect(idsOf((await readIndexed(out)).messages), `length ${length}`).toEqual(expected);
      expect(report.scan.end).toBe("footer");
      expect(report.scan.damagedRecords).toBeGreaterThanOrEqual(1);
      expect(report.scan.damaged[0].offset).toBe(chunks[k].start);
      // Everything up to the next chunk is accounted for as damaged, nothing more.
      expect(report.scan.damagedBytes).toBe(chunks[k + 1].start - chunks[k].start);
    }
  });

  it("two damaged chunks and a killed writer's cut: every message of the other complete chunks comes back", async () => {
    const full = await episode(60);
    const chunks = chunksOf(full);
    const last = chunks.length - 1;
    const bytes = full.slice(0, chunks[last].start + 30);
    bytes[chunks[1].start + 9 + 24] ^= 0x55;
    for (let i = chunks[3].start + 60; i < chunks[3].start + 90; i++) bytes[i] = 0xa5; // compressed bytes overwritten
    const lost = new Set([...chunks[1].ids, ...chunks[3].ids, ...chunks[last].ids]);
    const { report, out } = await recoverBytes(bytes);
    expect(idsOf((await readIndexed(out)).messages)).toEqual([...Array(60).keys()].filter((i) => !lost.has(i)));
    expect(report.scan.end).toBe("truncated");
    expect(report.scan.damagedRecords).toBe(2);
    expect(report.scan.damaged.map((d) => d.offset)).toEqual([chunks[1].start, chunks[3].start]);
    expect(report.scan.damaged.map((d) => d.messages)).toEqual([chunks[1].ids.length, chunks[3].ids.length]);
  });
});

describe("McapScanner resync on a hostile file", () => {
  it("thousands of chunk headers that frame but never parse: the look for the next record is bounded, the scan ends quickly", async () => {
    const full = await episode(10);
    const { records } = layout(full);
    const headerEnd = records[0].end;
    const size = 8 << 20;
    const bytes = new Uint8Array(size);
    bytes.set(full.subarray(0, headerEnd));
    const v = new DataView(bytes.buffer);
    // Damage right after the header (a length past the end), then a fake chunk header every 64 bytes:
    // each claims the rest of the file as uncompressed records with a CRC that never matches.
    bytes[headerEnd] = 6;
    v.setBigUint64(headerEnd + 1, 1n << 60n, true);
    let fakes = 0;
    for (let at = headerEnd + 64; at + 64 < size; at += 64, fakes++) {
      const len = size - at - 9 - 8;
      bytes[at] = 6;
      v.setBigUint64(at + 1, BigInt(len), true);
      v.setBigUint64(at + 25, BigInt(len - 40), true); // uncompressed size
      v.setUint32(at + 33, 1, true); // CRC
      v.setUint32(at + 37, 0, true); // compression ""
      v.setBigUint64(at + 41, BigInt(len - 40), true); // records length
    }
    expect(fakes).toBeGreaterThan(100_000);
    const t0 = performance.now();
    const s = new McapScanner(memorySource(bytes), { ...scan, maxChunkBytes: 16 << 20 });
    const types = [...s.records()].map((r) => r.type);
    expect(performance.now() - t0).toBeLessThan(20_000);
    expect(types).toEqual(["Header"]);
    expect(s.summary.end).toBe("truncated");
  }, 60_000);
});

describe("McapScanner on hostile files", () => {
  /** The scan as it was before damaged records were skipped: it stops at the first one. */
  const names = (bytes: Uint8Array) => {
    const s = new McapScanner(memorySource(bytes), { ...scan, skipDamaged: false });
    const types = [...s.records()].map((r) => r.type);
    return { types, summary: s.summary };
  };

  it("refuses what is not an MCAP recording with a typed error naming why", () => {
    const cases: [Uint8Array, RegExp][] = [
      [new Uint8Array(0), /empty \(0 bytes\)/],
      [new Uint8Array([0x89, 0x4d, 0x43]), /3 bytes long: too short/],
      [new TextEncoder().encode("GIF89a this is not a recording"), /not an MCAP recording: it starts with 47 49 46/],
      [Uint8Array.from([0x89, 0x4d, 0x43, 0x41, 0x50, 0x30, 0x0d, 0x0a]), /nothing else: no Header/],
      [Uint8Array.from([0x89, 0x4d, 0x43, 0x41, 0x50, 0x30, 0x0d, 0x0a, 1, 0xff, 0xff]), /ends inside its first record/],
      [Uint8Array.from([0x89, 0x4d, 0x43, 0x41, 0x50, 0x30, 0x0d, 0x0a, 5, 1, 0, 0, 0, 0, 0, 0, 0, 0]), /is Message, not an MCAP Header/],
      [Uint8Array.from([0x89, 0x4d, 0x43, 0x41, 0x50, 0x30, 0x0d, 0x0a, 1, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0]), /claims 18446744073709551615 bytes/],
    ];
    for (const [bytes, why] of cases) {
      let error: unknown;
      try {
        names(bytes);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(RecordingFormatError);
      expect((error as RecordingFormatError).code).toBe("bad_recording");
      expect((error as Error).message).toMatch(why);
    }
  });

  it("a huge length after the header ends the scan as truncated, without reading it", async () => {
    const full = await episode(10);
    const { records } = layout(full);
    const bytes = full.slice(0, records[1].end + 9);
    new DataView(bytes.buffer).setBigUint64(records[1].end + 1, (1n << 62n), true);
    bytes[records[1].end] = 6;
    const { summary } = names(bytes);
    expect(summary.end).toBe("truncated");
    expect(summary.problem).toMatch(/Chunk record at byte \d+ claims 4611686018427387904 bytes \(damaged length\?\) runs past the end/);
  });

  it("a chunk claiming a huge uncompressed size, an unknown compression or a wrong CRC is a bad record whose messages are not yielded", async () => {
    const full = await episode(20);
    const { records } = layout(full);
    const chunk = records.findIndex((r) => r.opcode === 6);
    const start = records[chunk - 1].end;
    const before = (bytes: Uint8Array) => names(bytes).types.filter((t) => t === "Message").length;
    // Chunk body: start(8) end(8) uncompressed_size(8) crc(4) compression(string) records(...)
    const huge = full.slice();
    new DataView(huge.buffer).setBigUint64(start + 9 + 16, 1n << 40n, true);
    expect(names(huge).summary).toMatchObject({ end: "bad_record" });
    expect(names(huge).summary.problem).toMatch(/over the \d+-byte limit/);
    expect(before(huge)).toBe(0);
    const unknown = full.slice();
    unknown.set(new TextEncoder().encode("zzzz"), start + 9 + 28 + 4);
    expect(names(unknown).summary.problem).toMatch(/Unsupported compression zzzz/);
    const crc = full.slice();
    crc[start + 9 + 24] ^= 0xff;
    expect(names(crc).summary.problem).toMatch(/CRC/);
    expect(before(crc)).toBe(0);
  });

  it("bytes after the closing magic are reported, not ignored", async () => {
    const full = await episode(5);
    const longer = new Uint8Array(full.length + 3);
    longer.set(full);
    expect(names(longer).summary).toMatchObject({ end: "footer", problem: "3 bytes follow the closing magic" });
  });
});

describe("RecordingInspector", () => {
  it("reports counts, rates, the time range, metadata and both kinds of gaps", async () => {
    const mem = new MemoryWritable();
    const w = await EpisodeWriter.create("i.mcap", [rosChannel("/cam", "std_msgs/msg/String"), rosChannel("/unset", "std_msgs/msg/String")], {
      task: "stack", operator: "bo", seed: null, calibration: "c1", clockOffsetNs: 5n, clockDriftPpm: null, startWallTimeNs: 7n, softwareVersion: "v", extra: {},
    }, { chunkSize: 1024, openWritable: () => mem });
    const t0 = 1_700_000_000_000_000_000n;
    // /cam: 100 Hz for 2 s with frames 50–52 missing (a 40 ms period) and sequence 120 skipped by the publisher.
    let seq = 0;
    for (let i = 0; i < 200; i++) {
      if (i >= 50 && i <= 52) continue;
      if (i === 120) seq++;
      w.write(0, t0 + BigInt(i) * 10_000_000n + BigInt((i * 7919) % 1000) * 1000n, payload(i), undefined, seq++);
    }
    // /unset: sequence 0 always (MCAP's "not set"), steady 10 Hz.
    for (let i = 0; i < 20; i++) w.write(1, t0 + BigInt(i) * 100_000_000n, payload(i), undefined, 0);
    await w.close();
    const inspector = new RecordingInspector({ gapFactor: 1.5 });
    const scanner = new McapScanner(memorySource(mem.bytes()), scan);
    for (const r of scanner.records()) inspector.add(r);
    const r = inspector.report();
    expect(r.messages).toBe(217);
    expect(r.start_ns).toBe(t0);
    expect(r.end_ns).toBe(t0 + 199n * 10_000_000n + BigInt((199 * 7919) % 1000) * 1000n);
    const cam = r.channels.find((c) => c.topic === "/cam")!;
    expect(cam).toMatchObject({ count: 197, schema: "std_msgs/msg/String", schema_encoding: "ros2msg", encoding: "cdr", time_gaps: 1, log_time_reversals: 0 });
    expect(cam.rate_hz!).toBeCloseTo(196 / 1.99, 0);
    expect(cam.median_period_ms!).toBeCloseTo(10, 0);
    const at = (i: number) => t0 + BigInt(i) * 10_000_000n + BigInt((i * 7919) % 1000) * 1000n;
    expect(cam.longest_gap_ms).toBe(Number(at(53) - at(49)) / 1e6);
    expect(cam.sequence).toEqual({ first: 0, last: 197, missing: 1, gaps: 1, reordered: 0 });
    const unset = r.channels.find((c) => c.topic === "/unset")!;
    expect(unset.sequence).toBeNull();
    expect(unset.time_gaps).toBe(0);
    expect(r.gaps_total).toBe(2);
    expect(r.gaps.map((g) => [g.topic, g.kind, g.missing])).toEqual([["/cam", "log_time", 3], ["/cam", "sequence", 1]]);
    expect([r.gaps[0].after_ns, r.gaps[0].before_ns]).toEqual([at(49), at(53)]);
    expect([r.gaps[1].after_ns, r.gaps[1].before_ns]).toEqual([at(119), at(120)]);
    expect(r.metadata).toEqual([{ name: "episode", entries: expect.objectContaining({ task: "stack", operator: "bo", seed: "", calibration: "c1", clock_offset_ns: "5" }) }]);
    expect(cam.gap_time).toBe("log_time"); // written without publish times (publish = log)
  });

  it("measures time gaps on publish times (the stamps) where a channel carries them: mocap arriving in bursts shows only the frame the source dropped", async () => {
    const mem = new MemoryWritable();
    const w = await EpisodeWriter.create("m.mcap", [rosChannel("/mocap/sim/frame", "std_msgs/msg/String"), rosChannel("/camera", "std_msgs/msg/String")], null, { chunkSize: 4096, openWritable: () => mem });
    const t0 = 1_700_000_000_000_000_000n;
    const exposure = (i: number) => t0 + (BigInt(i) * 1_000_000_000n) / 240n;
    // 240 Hz stamps, frame 100 never sent; received 12 at a time every 50 ms (behind a busy event loop), 10 ms late.
    for (let i = 0; i < 480; i++) {
      if (i === 100) continue;
      const arrival = exposure(Math.floor(i / 12) * 12 + 11) + 10_000_000n + BigInt(i % 12) * 1000n;
      w.write(0, arrival, payload(i), exposure(i));
    }
    // A camera stamped by its exposure whose frames arrive in exposure order but once swapped (stamp order is what counts).
    for (let i = 0; i < 60; i++) {
      const k = i === 20 ? 21 : i === 21 ? 20 : i;
      w.write(1, t0 + BigInt(i) * 33_333_333n + 40_000_000n, payload(k), t0 + BigInt(k) * 33_333_333n);
    }
    await w.close();
    const inspector = new RecordingInspector({ gapFactor: 1.5 });
    for (const rec of new McapScanner(memorySource(mem.bytes()), scan).records()) inspector.add(rec);
    const r = inspector.report();
    const mocap = r.channels.find((c) => c.topic === "/mocap/sim/frame")!;
    expect(mocap).toMatchObject({ count: 479, gap_time: "publish_time", time_gaps: 1 });
    expect(mocap.median_period_ms!).toBeCloseTo(1000 / 240, 3);
    expect(mocap.longest_gap_ms!).toBeCloseTo(2000 / 240, 3);
    const camera = r.channels.find((c) => c.topic === "/camera")!;
    expect(camera).toMatchObject({ gap_time: "publish_time", time_gaps: 0, log_time_reversals: 0 });
    expect(r.gaps_total).toBe(1);
    expect(r.gaps).toEqual([{ topic: "/mocap/sim/frame", kind: "publish_time", after_ns: exposure(99), before_ns: exposure(101), duration_ms: expect.closeTo(2000 / 240, 3), missing: 1 }]);
  });
});
