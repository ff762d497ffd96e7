import { McapWriter } from "@mcap/core";
import { beforeAll, describe, expect, it } from "vitest";
import { EpisodeWriter } from "../../nodes/recorder/episode_writer.js";
import { decompressHandlers, loadCompression, type Compression } from "../../nodes/recorder/chunk_compression.js";
import { rosChannel } from "../../src/record/channel_plan.js";
import { McapScanner, memorySource, type ScanOptions } from "../../src/record/mcap_scan.js";
import { recoverRecording } from "../../src/record/recover_recording.js";
import { inspectRecording } from "../../nodes/recorder/recording_files.js";
import { RecordingFormatError } from "../../src/record/recording_errors.js";
import { MemoryWritable, memoryReadable, readIndexed, seededRandom } from "./mcap_test_helpers.js";

/**
 * Fuzz of what reads recordings (the scanner under `record inspect` and `record recover`):
 * seeded mutations of real episode files (zstd, lz4, uncompressed) and random bytes. Each case
 * must end in one of two ways: a RecordingFormatError (not an MCAP file at all), or a report
 * (with the summary of a file that ends in a footer read by McapIndexedReader, as inspect
 * does) and a recovered file that the official indexed reader reads with exactly the messages
 * the report counts. Nothing else may be thrown, and every case must finish quickly.
 */
let baseScan: ScanOptions;
const bases: Uint8Array[] = [];

beforeAll(async () => {
  await loadCompression();
  // Small limits keep a mutated size field from making the wasm decoders allocate hundreds of MB per case.
  baseScan = { decompressHandlers: decompressHandlers(), maxChunkBytes: 1 << 20, maxRecordBytes: 1 << 20 };
  for (const compression of ["zstd", "lz4", "none"] as Compression[]) {
    const mem = new MemoryWritable();
    const w = await EpisodeWriter.create("f.mcap", [rosChannel("/a", "std_msgs/msg/String"), rosChannel("/b", "geometry_msgs/msg/PoseStamped")], {
      task: "fuzz", operator: "x", seed: 3n, calibration: "", clockOffsetNs: null, clockDriftPpm: null, startWallTimeNs: 1n, softwareVersion: "t", extra: {},
    }, { chunkSize: 1024, compression, openWritable: () => mem });
    for (let i = 0; i < 40; i++) {
      const data = new Uint8Array(20 + (i % 9) * 11).fill(i);
      w.write(i % 2, 1_000_000n * BigInt(i), data);
      await w.idle();
    }
    await w.close();
    bases.push(mem.bytes());
  }
});

function mutate(base: Uint8Array, rnd: () => number): Uint8Array {
  const pick = (n: number) => Math.floor(rnd() * n);
  let b = base.slice();
  const kind = pick(7);
  const edits = 1 + pick(8);
  for (let e = 0; e < edits; e++) {
    switch (kind) {
      case 0: // flip bits
        b[pick(b.length)] ^= 1 << pick(8);
        break;
      case 1: // random bytes over a range
        for (let i = pick(b.length), n = pick(64); n > 0 && i < b.length; n--, i++) b[i] = pick(256);
        break;
      case 2: // cut
        b = b.subarray(0, pick(b.length + 1));
        break;
      case 3: { // a length field (or any 8 bytes) set to a huge or boundary value
        const at = pick(Math.max(1, b.length - 8));
        const values = [0n, 1n, 8n, 0x7fffffffn, 0xffffffffn, 1n << 53n, (1n << 63n) - 1n, (1n << 64n) - 1n, BigInt(b.length)];
        if (b.length >= at + 8) new DataView(b.buffer, b.byteOffset).setBigUint64(at, values[pick(values.length)], true);
        break;
      }
      case 4: { // duplicate a slice in place
        const from = pick(b.length);
        const len = pick(200);
        const at = pick(b.length);
        const out = new Uint8Array(b.length + len);
        out.set(b.subarray(0, at));
        out.set(b.subarray(from, from + len), at);
        out.set(b.subarray(at), at + Math.min(len, b.length - from));
        b = out.subarray(0, b.length + Math.min(len, b.length - from));
        break;
      }
      case 5: { // insert random bytes
        const at = pick(b.length);
        const ins = Uint8Array.from({ length: 1 + pick(32) }, () => pick(256));
        const out = new Uint8Array(b.length + ins.length);
        out.set(b.subarray(0, at));
        out.set(ins, at);
        out.set(b.subarray(at), at + ins.length);
        b = out;
        break;
      }
      default: // random bytes after a valid magic, or with none at all
        b = Uint8Array.from({ length: pick(600) }, () => pick(256));
        if (rnd() < 0.5 && b.length >= 8) b.set([0x89, 0x4d, 0x43, 0x41, 0x50, 0x30, 0x0d, 0x0a]);
        break;
    }
  }
  return b;
}

describe("recording readers under fuzz", () => {
  it("3000 seeded mutated and random files: a typed refusal, or a report and a recovered file that agree (stopping at the first damage)", async () => {
    const scan = { ...baseScan, skipDamaged: false };
    const rnd = seededRandom(20250110);
    const outcomes = { refused: 0, footer: 0, end_of_data: 0, truncated: 0, bad_record: 0 };
    let slowest = 0;
    let indexed = 0;
    for (let c = 0; c < 3000; c++) {
      const bytes = mutate(bases[c % bases.length], rnd);
      const t0 = performance.now();
      let inspected: number;
      try {
        // What `record inspect` does: the front-to-back read, and the summary of a complete file.
        const report = await inspectRecording(`case ${c}`, memorySource(bytes), memoryReadable(bytes), scan);
        inspected = report.messages;
        expect(report.channels.reduce((n, ch) => n + ch.count, 0)).toBe(report.messages);
        if (report.indexed) indexed++;
      } catch (e) {
        if (!(e instanceof RecordingFormatError)) throw new Error(`case ${c}: ${e instanceof Error ? e.stack : String(e)}`);
        outcomes.refused++;
        continue;
      }
      const out = new MemoryWritable();
      const report = await recoverRecording(new McapScanner(memorySource(bytes), scan), new McapWriter({ writable: out, chunkSize: 2048 }), (l) => l);
      outcomes[report.scan.end]++;
      expect(report.messages, `case ${c}`).toBe(inspected);
      const { messages } = await readIndexed(out.bytes());
      expect(messages.length, `case ${c}`).toBe(report.messages);
      slowest = Math.max(slowest, performance.now() - t0);
    }
    // Every way a read can end was exercised.
    expect(outcomes.refused).toBeGreaterThan(100);
    expect(outcomes.footer).toBeGreaterThan(10);
    expect(outcomes.truncated).toBeGreaterThan(100);
    expect(outcomes.bad_record).toBeGreaterThan(100);
    expect(outcomes.end_of_data).toBeGreaterThan(0);
    expect(indexed).toBeGreaterThan(0);
    // No case takes long (a hang or a runaway allocation would): generous for a shared, niced machine.
    expect(slowest).toBeLessThan(2000);
  });

  it("3000 seeded mutated files, skipping damaged records: the report and the recovered file agree, and skipping never keeps fewer messages than stopping", async () => {
    const rnd = seededRandom(20261201);
    let skipped = 0;
    let gained = 0;
    let placeholders = 0;
    let slowest = 0;
    for (let c = 0; c < 3000; c++) {
      const bytes = mutate(bases[c % bases.length], rnd);
      const t0 = performance.now();
      let inspected: number;
      try {
        const report = await inspectRecording(`case ${c}`, memorySource(bytes), memoryReadable(bytes), baseScan);
        inspected = report.messages;
        expect(report.channels.reduce((n, ch) => n + ch.count, 0)).toBe(report.messages);
      } catch (e) {
        if (!(e instanceof RecordingFormatError)) throw new Error(`case ${c}: ${e instanceof Error ? e.stack : String(e)}`);
        continue;
      }
      const out = new MemoryWritable();
      const report = await recoverRecording(new McapScanner(memorySource(bytes), baseScan), new McapWriter({ writable: out, chunkSize: 2048 }), (l) => l);
      expect(report.messages, `case ${c}`).toBe(inspected);
      const { messages } = await readIndexed(out.bytes());
      expect(messages.length, `case ${c}`).toBe(report.messages);
      const stopped = await recoverRecording(new McapScanner(memorySource(bytes), { ...baseScan, skipDamaged: false }), new McapWriter({ writable: new MemoryWritable(), chunkSize: 2048 }), (l) => l);
      expect(report.messages, `case ${c}`).toBeGreaterThanOrEqual(stopped.messages);
      const scanned = report.scan;
      expect(scanned.damaged.length).toBe(Math.min(100, scanned.damagedRecords));
      expect(scanned.damaged.reduce((n, d) => n + d.bytes, 0)).toBeLessThanOrEqual(scanned.damagedBytes);
      if (scanned.damagedRecords > 0) skipped++;
      if (report.messages > stopped.messages) gained++;
      if (scanned.placeholderChannels.length > 0) placeholders++;
      slowest = Math.max(slowest, performance.now() - t0);
    }
    // Damage was skipped often, and it paid: messages after the damage came back.
    expect(skipped).toBeGreaterThan(100);
    expect(gained).toBeGreaterThan(50);
    expect(placeholders).toBeGreaterThan(0);
    expect(slowest).toBeLessThan(2000);
  });
});
