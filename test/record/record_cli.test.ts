import { spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EpisodeWriter } from "../../nodes/recorder/episode_writer.js";
import { rosChannel } from "../../src/record/channel_plan.js";
import { readIndexed, seededRandom } from "./mcap_test_helpers.js";

/**
 * `spatial-reward record inspect|recover` as users run them: the built CLI (`npm run build`
 * first). Outputs, exit codes (0 done, 1 not a recording or not writable, 2 a wrong command
 * line) and one-line errors on hostile files; every run is bounded in time, so a hang fails.
 */
const root = join(dirname(fileURLToPath(import.meta.url)), "../..");
const cli = join(root, "dist", "nodes", "cli", "main.js");
const work = mkdtempSync(join(tmpdir(), "record-cli-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

interface Run { code: number | null; stdout: string; stderr: string }
function run(args: string[]): Run {
  const r = spawnSync(process.execPath, [cli, ...args], { encoding: "utf8", timeout: 30_000, cwd: work, env: { ...process.env, SPATIAL_REWARD_DEBUG: "" } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}
/** Exit `code`, nothing on stdout, one stderr line starting with the command that names `mention`. */
function expectOneLineError(r: Run, code: number, mention: string | RegExp): void {
  expect({ code: r.code, stdout: r.stdout }).toEqual({ code, stdout: "" });
  const lines = r.stderr.split("\n").filter((l) => l !== "");
  expect(lines, r.stderr).toHaveLength(1);
  expect(lines[0].startsWith("spatial-reward record: "), lines[0]).toBe(true);
  expect(lines[0]).toMatch(mention);
}

const T0 = 1_700_000_000_000_000_123n;
const episode = join(work, "episode.mcap");
const truncated = join(work, "killed.mcap");

beforeAll(async () => {
  const w = await EpisodeWriter.create(episode, [rosChannel("/camera/color/image_raw", "sensor_msgs/msg/Image"), rosChannel("/reward", "spatial_reward_msgs/msg/Reward")], {
    task: "stack the cubes", operator: "ana", seed: 11n, calibration: "cal-3", clockOffsetNs: 42n, clockDriftPpm: null,
    startWallTimeNs: T0, softwareVersion: "test", extra: {},
  }, { chunkSize: 2048 });
  for (let i = 0; i < 90; i++) {
    if (i === 40) continue; // one camera frame lost: a 66 ms period in a 30 Hz stream
    w.write(0, T0 + BigInt(i) * 33_333_333n, new Uint8Array(300).fill(i));
    w.write(1, T0 + BigInt(i) * 33_333_333n + 1000n, new Uint8Array(40).fill(i));
    await w.idle();
  }
  await w.close();
  // What a killed recorder leaves: the file cut inside a chunk, no summary.
  const bytes = readFileSync(episode);
  writeFileSync(truncated, bytes.subarray(0, Math.floor(bytes.length * 0.6)));
});

describe("spatial-reward record", () => {
  it("is built", () => {
    expect(existsSync(cli), `${cli} is missing: run npm run build`).toBe(true);
  });

  it("inspect --json: channels with topic, schema, encoding, count and rate; exact start_ns/end_ns; metadata; gaps", () => {
    const r = run(["record", "inspect", episode, "--json"]);
    expect([r.code, r.stderr]).toEqual([0, ""]);
    const line = r.stdout.trim().split("\n").pop()!;
    // Nanosecond times are exact integers in the JSON text (JSON.parse would round them).
    expect(line).toContain(`"start_ns":${T0}`);
    expect(line).toContain(`"end_ns":${T0 + 89n * 33_333_333n + 1000n}`);
    const j = JSON.parse(line) as Record<string, unknown> & { channels: Record<string, unknown>[]; metadata: { name: string; entries: Record<string, string> }[]; gaps: Record<string, unknown>[] };
    expect(j).toMatchObject({ complete: true, indexed: true, problems: [], messages: 178, duration_s: expect.closeTo(89 * 0.033333333, 5) });
    expect(j.channels.map((c) => [c.topic, c.schema, c.encoding, c.count])).toEqual([
      ["/camera/color/image_raw", "sensor_msgs/msg/Image", "cdr", 89],
      ["/reward", "spatial_reward_msgs/msg/Reward", "cdr", 89],
    ]);
    expect(j.channels[0].rate_hz).toBeCloseTo(88 / (89 * 0.033333333), 3);
    // Written without publish times (publish = log time): gaps are measured on arrival, and the JSON says so.
    expect(j.channels.map((c) => c.gap_time)).toEqual(["log_time", "log_time"]);
    expect(j.metadata).toEqual([{ name: "episode", entries: expect.objectContaining({ task: "stack the cubes", operator: "ana", seed: "11", calibration: "cal-3", clock_offset_ns: "42" }) }]);
    expect(j.gaps).toEqual([
      { topic: "/camera/color/image_raw", kind: "log_time", after_ns: expect.any(Number), before_ns: expect.any(Number), duration_ms: expect.closeTo(66.67, 1), missing: 1 },
      { topic: "/reward", kind: "log_time", after_ns: expect.any(Number), before_ns: expect.any(Number), duration_ms: expect.closeTo(66.67, 1), missing: 1 },
    ]);
  });

  it("inspect (text) describes the file, and a killed recorder's file as unfinished", () => {
    const r = run(["record", "inspect", episode]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/complete, indexed/);
    expect(r.stdout).toMatch(/\[0\] \/camera\/color\/image_raw {2}sensor_msgs\/msg\/Image \(ros2msg\/cdr\) {2}count 89/);
    expect(r.stdout).toMatch(/task: stack the cubes/);
    const t = run(["record", "inspect", truncated, "--json"]);
    expect(t.code).toBe(0);
    const j = JSON.parse(t.stdout) as { complete: boolean; indexed: boolean; end: string; messages: number; problems: string[] };
    expect(j).toMatchObject({ complete: false, indexed: false });
    expect(["truncated", "end_of_data"]).toContain(j.end);
    expect(j.messages).toBeGreaterThan(0);
    expect(j.problems.join(" ")).toMatch(/record recover/);
  });

  it("recover writes a valid indexed file with every message of the complete chunks, default --out beside it", async () => {
    const r = run(["record", "recover", truncated, "--json"]);
    expect([r.code, r.stderr]).toEqual([0, ""]);
    const j = JSON.parse(r.stdout.trim().split("\n").pop()!) as { output: string; messages: number; chunks_read: number; scan: { end: string } };
    expect(j.output).toBe(truncated.replace(/\.mcap$/, ".recovered.mcap"));
    const inspected = JSON.parse(run(["record", "inspect", truncated, "--json"]).stdout) as { messages: number };
    expect(j.messages).toBe(inspected.messages);
    const { messages, reader } = await readIndexed(j.output);
    expect(messages.length).toBe(j.messages);
    expect(reader.chunkIndexes.length).toBeGreaterThan(0);
    const again = JSON.parse(run(["record", "inspect", j.output, "--json"]).stdout) as { complete: boolean; indexed: boolean; metadata: unknown[] };
    expect(again).toMatchObject({ complete: true, indexed: true, metadata: [{ name: "episode" }] });
    // Text form, to a chosen --out, lz4.
    const out = join(work, "chosen.mcap");
    const t = run(["record", "recover", truncated, "--out", out, "--compression", "lz4"]);
    expect(t.code).toBe(0);
    expect(t.stdout).toMatch(new RegExp(`^recovered ${j.messages} messages on 2 channels .* into ${out.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")}`));
    expect((await readIndexed(out)).reader.chunkIndexes.every((c) => c.compression === "lz4")).toBe(true);
  });

  it("recover skips a damaged chunk in the middle, says so, and keeps every message after it; inspect reports it", async () => {
    const bytes = Uint8Array.from(readFileSync(episode));
    const view = new DataView(bytes.buffer);
    const chunkStarts: number[] = [];
    for (let o = 8; o + 9 <= bytes.length && bytes[o] !== 2;) {
      if (bytes[o] === 6) chunkStarts.push(o);
      o += 9 + Number(view.getBigUint64(o + 1, true));
    }
    expect(chunkStarts.length).toBeGreaterThan(4);
    const at = chunkStarts[2];
    bytes[at + 9 + 24] ^= 0xff; // that chunk's CRC
    const damaged = join(work, "damaged.mcap");
    writeFileSync(damaged, bytes);
    const total = (await readIndexed(episode)).messages.length;
    const r = run(["record", "recover", damaged, "--json"]);
    expect([r.code, r.stderr]).toEqual([0, ""]);
    const j = JSON.parse(r.stdout.trim().split("\n").pop()!) as { output: string; messages: number; scan: { end: string; damagedRecords: number; damaged: { offset: number; record: string; messages: number }[] } };
    expect(j.scan.end).toBe("footer");
    expect(j.scan.damagedRecords).toBe(1);
    expect(j.scan.damaged[0]).toMatchObject({ offset: at, record: "Chunk" });
    const lost = j.scan.damaged[0].messages;
    expect(lost).toBeGreaterThan(0);
    expect(j.messages).toBe(total - lost);
    const { messages } = await readIndexed(j.output);
    expect(messages.length).toBe(total - lost);
    // The last message of the episode (after the damage) is there.
    expect(Math.max(...messages.map((m) => Number(m.logTime - T0)))).toBe(89 * 33_333_333 + 1000);
    const t = run(["record", "recover", damaged, "--out", join(work, "damaged.text.mcap")]);
    expect(t.code).toBe(0);
    expect(t.stdout).toMatch(new RegExp(`skipped 1 damaged record\\(s\\), \\d+ bytes, and read on after them:\n  byte ${at}: Chunk, \\d+ bytes, ${lost} message\\(s\\) lost \\(its index\\): does not parse: Incorrect chunk CRC`));
    const i = JSON.parse(run(["record", "inspect", damaged, "--json"]).stdout) as { damaged_records: number; messages: number; indexed: boolean; problems: string[] };
    expect(i).toMatchObject({ damaged_records: 1, messages: total - lost, indexed: false });
    expect(i.problems.join("\n")).toMatch(/1 damaged record\(s\) skipped/);
    expect(run(["record", "inspect", damaged]).stdout).toMatch(/complete, summary not usable, 1 damaged record\(s\) skipped/);
  });

  it("hostile files: a clear one-line error, exit 1, no output file left, never a hang", () => {
    const rnd = seededRandom(7);
    const magic = [0x89, 0x4d, 0x43, 0x41, 0x50, 0x30, 0x0d, 0x0a];
    const cases: [string, Uint8Array, RegExp][] = [
      ["zero.mcap", new Uint8Array(0), /zero\.mcap: the file is empty \(0 bytes\)/],
      ["text.mcap", new TextEncoder().encode("just some text, not a recording\n"), /not an MCAP recording: it starts with 6a 75 73 74/],
      ["magic4.mcap", Uint8Array.from(magic.slice(0, 4)), /4 bytes long: too short/],
      ["garbage.mcap", Uint8Array.from([...magic, ...Array.from({ length: 4000 }, () => Math.floor(rnd() * 256))]), /record at byte 8|Header/],
      ["huge.mcap", Uint8Array.from([...magic, 1, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f, 0, 0, 0]), /claims 9223372036854775807 bytes/],
    ];
    mkdirSync(join(work, "hostile"));
    for (const [name, bytes, why] of cases) {
      const file = join(work, "hostile", name);
      writeFileSync(file, bytes);
      expectOneLineError(run(["record", "inspect", file]), 1, why);
      expectOneLineError(run(["record", "recover", file]), 1, why);
    }
    expect(readdirSync(join(work, "hostile")).filter((f) => f.includes("recovered"))).toEqual([]);
  });

  it("refuses wrong command lines with exit 2 before reading anything", () => {
    copyFileSync(episode, join(work, "taken.mcap"));
    const usage = (args: string[], mention: RegExp) => expectOneLineError(run(["record", ...args]), 2, mention);
    usage(["inspect", join(work, "missing.mcap")], /does not exist/);
    usage(["inspect", work], /is not a file/);
    usage(["inspect", episode, "--gap-factor", "1"], /--gap-factor must be a number in \(1, 1000\]/);
    usage(["inspect", episode, "--gap-factor", "abc"], /--gap-factor/);
    usage(["inspect", episode, "--max-gaps", "-1"], /--max-gaps must be an integer/);
    usage(["recover", episode, "--compression", "gzip"], /--compression must be one of zstd, lz4, none/);
    usage(["recover", episode, "--chunk-size", "10"], /--chunk-size must be an integer from 1024/);
    usage(["recover", episode, "--out", join(work, "taken.mcap")], /exists: recover never overwrites/);
    usage(["recover", episode, "--out", episode], /another file than the recording/);
    usage(["recover", episode, "--out", join(work, "no-such-dir", "x.mcap")], /--out: directory .* does not exist/);
    usage(["inspect"], /missing required argument/);
  });
});
