import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { runCli } from "../../nodes/cli/run_cli.js";
import { BvhFrameBuilder, parseBvh } from "../../src/mocap/bvh.js";
import { decodeMocapFrame, encodeMocapFrame, MOCAP_FRAME_TYPE } from "../../src/mocap/mocap_codec.js";
import { LengthUnit, UpAxis } from "../../src/msgs/mocap_proto.js";
import { generateBvh } from "../mocap/bvh_fixtures.js";
import { readIndexed } from "../record/mcap_test_helpers.js";

/**
 * `spatial-reward mocap import FILE.bvh`, run in-process through the CLI's entry point
 * (runCli: the same parsing, checks and exit codes as the built binary): the MCAP it writes
 * read back with @mcap/core's indexed reader, and every wrong command line or file refused.
 */
const work = mkdtempSync(join(tmpdir(), "sr-mocap-import-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

interface Run { code: number; stdout: string; stderr: string }
let stdout = "", stderr = "";
beforeEach(() => {
  stdout = "";
  stderr = "";
  vi.spyOn(process.stdout, "write").mockImplementation((chunk: string | Uint8Array) => {
    stdout += String(chunk);
    return true;
  });
  vi.spyOn(process.stderr, "write").mockImplementation((chunk: string | Uint8Array) => {
    stderr += String(chunk);
    return true;
  });
});
afterEach(() => vi.restoreAllMocks());

async function run(...args: string[]): Promise<Run> {
  stdout = "";
  stderr = "";
  const code = await runCli(["mocap", "import", ...args]);
  return { code, stdout, stderr };
}

/** Exit 2, nothing on stdout, one stderr line naming `mention`. */
function expectUsage(r: Run, mention: string): void {
  expect({ code: r.code, stdout: r.stdout }).toEqual({ code: 2, stdout: "" });
  const lines = r.stderr.split("\n").filter((l) => l !== "");
  expect(lines, r.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(/^spatial-reward mocap: /);
  expect(lines[0]).toContain(mention);
}

/** Exit 1, one stderr line naming `mention`, no output file or partial left behind. */
function expectFailure(r: Run, mention: string, dir: string): void {
  expect(r.code).toBe(1);
  const lines = r.stderr.split("\n").filter((l) => l !== "");
  expect(lines, r.stderr).toHaveLength(1);
  expect(lines[0]).toContain(mention);
  expect(readdirSync(dir).filter((f) => f.endsWith(".mcap") || f.endsWith(".partial"))).toEqual([]);
}

function fresh(name: string): string {
  const dir = join(work, name);
  mkdirSync(dir);
  return dir;
}

describe("spatial-reward mocap import", () => {
  const gen = generateBvh(77, 25, 30);

  it("writes every frame as a MocapFrame on a protobuf channel, with the summary and the JSON line", async () => {
    const dir = fresh("ok");
    const file = join(dir, "walk.bvh");
    writeFileSync(file, gen.text);
    const out = join(dir, "walk-out.mcap");
    const r = await run(file, "--out", out, "--json", "--stream", "suit_1");
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe("");
    const lines = r.stdout.trim().split("\n");
    expect(lines).toHaveLength(2);
    expect(lines[0]).toContain("30 frames");
    expect(lines[0]).toContain("25 joints");
    const json = JSON.parse(lines[1]) as Record<string, unknown>;
    expect(json).toMatchObject({ frames: 30, joints: 25, out, unit: "cm", up: "y", stream: "suit_1", topic: "mocap/frames" });
    expect(json.duration_s).toBeCloseTo(30 * gen.frameTime, 12);
    expect(readdirSync(dir).sort()).toEqual(["walk-out.mcap", "walk.bvh"]);

    const { reader, messages } = await readIndexed(out);
    const channels = [...reader.channelsById.values()];
    expect(channels.map((c) => [c.topic, c.messageEncoding])).toEqual([["mocap/frames", "protobuf"]]);
    const schema = reader.schemasById.get(channels[0].schemaId)!;
    expect([schema.name, schema.encoding]).toEqual([MOCAP_FRAME_TYPE, "protobuf"]);
    expect(messages).toHaveLength(30);
    const builder = new BvhFrameBuilder(parseBvh(gen.text), { streamId: "suit_1", skeletonName: "walk" });
    messages.forEach((m, i) => {
      const frame = decodeMocapFrame(m.data);
      expect(frame).toEqual(decodeMocapFrame(encodeMocapFrame(builder.frame(i))));
      expect(frame.stream_id).toBe("suit_1");
      expect(frame.axes).toEqual({ up_axis: UpAxis.Y_UP, handedness: 1, unit: LengthUnit.CENTIMETERS });
      expect(m.logTime).toBe(frame.device_timestamp_ns);
      expect(m.sequence).toBe(i);
    });
    const meta: { metadata: Map<string, string> }[] = [];
    for await (const m of reader.readMetadata({ name: "episode" })) meta.push(m);
    expect(meta).toHaveLength(1);
    expect(Object.fromEntries(meta[0].metadata)).toMatchObject({ source: "bvh", bvh_file: "walk.bvh", bvh_unit: "cm", bvh_frames: "30", bvh_joints: "25" });
  });

  it("defaults --out to FILE.mcap and --stream to the file's name; --unit and --up are declared in the frames", async () => {
    const dir = fresh("defaults");
    const file = join(dir, "jump.BVH");
    writeFileSync(file, gen.text);
    const r = await run(file, "--unit", "m", "--up", "z");
    expect(r.code, r.stderr).toBe(0);
    const { messages } = await readIndexed(join(dir, "jump.mcap"));
    const frame = decodeMocapFrame(messages[0].data);
    expect(frame.stream_id).toBe("jump");
    expect(frame.axes).toEqual({ up_axis: UpAxis.Z_UP, handedness: 1, unit: LengthUnit.METERS });
    // Never overwrites.
    expectUsage(await run(file, "--unit", "m"), "exists");
  });

  it("refuses wrong command lines before reading anything (exit 2, one line)", async () => {
    const dir = fresh("usage");
    const file = join(dir, "a.bvh");
    writeFileSync(file, gen.text);
    expectUsage(await run(file, "--unit", "inch"), "--unit");
    expectUsage(await run(file, "--unit", ""), "--unit");
    expectUsage(await run(file, "--up", "x"), "--up");
    expectUsage(await run(join(dir, "missing.bvh")), "does not exist");
    expectUsage(await run(dir), "is not a file");
    expectUsage(await run(file, "--stream", ""), "--stream");
    expectUsage(await run(file, "--stream", "a\tb"), "--stream");
    expectUsage(await run(file, "--out", dir), "is a directory");
    expectUsage(await run(file, "--out", join(dir, "no", "such", "dir.mcap")), "--out");
    expectUsage(await run(file, "--out", file), "--out");
    expectUsage(await run(), "missing required argument");
    expect(readdirSync(dir)).toEqual(["a.bvh"]);
  });

  it("fails cleanly on files that are not BVH (exit 1, the line named, nothing written)", async () => {
    const dir = fresh("bad");
    const cases: [string, string, string][] = [
      ["empty.bvh", "", "empty"],
      ["blank.bvh", "\n\n  \n", "empty"],
      ["notbvh.bvh", "MOTION\n", "line 1"],
      ["cut.bvh", gen.text.slice(0, Math.floor(gen.text.length * 0.97)), "BVH line"],
      ["nan.bvh", gen.text.replace(/\nFrame Time: [^\n]*\n([^ \n]+)/, "\nFrame Time: 0.0083333\nnan"), "not a finite number"],
      ["noframes.bvh", gen.text.replace(/Frames: \d+[\s\S]*$/, "Frames: 0\nFrame Time: 0.01\n"), "no motion frames"],
    ];
    for (const [name, text, mention] of cases) {
      const file = join(dir, name);
      writeFileSync(file, text);
      const r = await run(file);
      expectFailure(r, mention, dir);
    }
    expect(existsSync(join(dir, "empty.mcap"))).toBe(false);
  });
});
