import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { PNG } from "pngjs";
import { afterAll, describe, expect, it } from "vitest";
import { runChild } from "../run_child.js";

/**
 * `demo --report DIR` and `eval --report DIR` through the built CLI (`npm run build` first):
 * the files, what they say against the command's own JSON, and hostile report paths.
 */
const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const cli = join(root, "dist", "nodes", "cli", "main.js");
const work = mkdtempSync(join(tmpdir(), "sr-report-cli-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

interface Run { code: number | null; stdout: string; stderr: string; ms: number }

/** The CLI in a child process, waited for without blocking this worker (vitest's RPC needs its event loop). */
async function run(args: string[], timeout = 120_000): Promise<Run> {
  const t0 = Date.now();
  const r = await runChild(process.execPath, [cli, ...args], { cwd: work, env: { ...process.env, SPATIAL_REWARD_DEBUG: "" }, timeoutMs: timeout });
  return { ...r, ms: Date.now() - t0 };
}

const lastJson = (stdout: string) => JSON.parse(stdout.trim().split("\n").pop()!) as Record<string, unknown>;
const pngSize = (file: string) => {
  const p = PNG.sync.read(readFileSync(file));
  return [p.width, p.height];
};

interface ReportJson { format: string; version: number; command: string; files: string[]; summary: Record<string, unknown> }

/** The page links every figure report.json lists, each a PNG of the size the page reserves. */
function checkReport(dir: string, command: string): ReportJson {
  const meta = JSON.parse(readFileSync(join(dir, "report.json"), "utf8")) as ReportJson;
  expect(meta).toMatchObject({ format: "spatial-reward-report", version: 1, command });
  const html = readFileSync(join(dir, "index.html"), "utf8");
  expect(readdirSync(dir).sort()).toEqual(["index.html", "report.json", ...meta.files].sort());
  for (const f of meta.files) {
    const [w, h] = pngSize(join(dir, f));
    expect(html, f).toContain(`<img class="figure" src="${f}" width="${w}" height="${h}"`);
  }
  return meta;
}

describe("demo --report", () => {
  it("writes the frames with their boxes, the reward curve and the page; the demo's JSON is unchanged", async () => {
    const dir = join(work, "demo");
    const r = await run(["demo", "--frames", "60", "--seed", "7", "--noise", "none", "--report", dir, "--json"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(`report: ${join(dir, "index.html")}\n`);
    const j = lastJson(r.stdout);
    expect(j).not.toHaveProperty("report");
    const meta = checkReport(dir, "demo");
    expect(meta.files.sort()).toEqual(["frame.png", "frame_start.png", "reward.png"]);
    expect(pngSize(join(dir, "frame.png"))).toEqual([640, 480 + 26]);
    for (const k of ["success_frame", "true_success_frame", "place_frame", "reward_final", "task"]) expect(meta.summary[k], k).toEqual(j[k]);
    const html = readFileSync(join(dir, "index.html"), "utf8");
    expect(html).toContain(`frame ${j.success_frame as number}`);
    expect(html).toContain(String(j.task));
  }, 180_000);
});

describe("eval --report", () => {
  it("writes accuracy per question type, the first scene's frame and the page, and replaces an earlier report whole", async () => {
    const dir = join(work, "demo-then-eval");
    const first = await run(["demo", "--frames", "30", "--seed", "7", "--noise", "none", "--report", dir, "--json"]);
    expect(first.stderr).toContain("report: ");
    expect(existsSync(join(dir, "reward.png"))).toBe(true);
    const r = await run(["eval", "--scenes", "2", "--seed", "7000000", "--report", dir, "--json"]);
    expect(r.code, r.stderr).toBe(0);
    const j = lastJson(r.stdout);
    expect(j).not.toHaveProperty("report");
    const meta = checkReport(dir, "eval");
    // The demo's reward curve and start frame are gone with the rest of the earlier report.
    expect(meta.files.sort()).toEqual(["accuracy.png", "frame.png"]);
    expect(meta.summary.n_questions).toBe(j.n_questions);
    expect(meta.summary.qualitative_accuracy).toBe(j.qualitative_accuracy);
    const html = readFileSync(join(dir, "index.html"), "utf8");
    for (const type of Object.keys(j.by_type as object)) expect(html).toContain(`<td>${type}</td>`);
  }, 240_000);

  it("prints the text summary as before, with the report's path on stderr", async () => {
    const dir = join(work, "eval-text");
    const r = await run(["eval", "--scenes", "1", "--seed", "7000001", "--report", dir]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^\d+ questions over 1 scenes/);
    expect(r.stderr.split("\n").filter((l) => l.startsWith("report: "))).toEqual([`report: ${join(dir, "index.html")}`]);
  }, 120_000);
});

describe("hostile --report paths", () => {
  const oneLine = (r: Run) => r.stderr.split("\n").filter((l) => l !== "");

  it("refuses a file, a directory of other files, an empty or over-long path: exit 2, one line, nothing run", async () => {
    writeFileSync(join(work, "file"), "mine");
    mkdirSync(join(work, "busy"));
    writeFileSync(join(work, "busy", "keep.txt"), "mine");
    const cases: [string[], RegExp][] = [
      [["demo", "--report", join(work, "file")], /exists and is not a directory/],
      [["eval", "--report", join(work, "file", "sub")], /has a file where a directory is expected/],
      [["eval", "--report", join(work, "busy")], /holds 1 entries and no earlier report/],
      [["demo", "--report", ""], /must be a directory path/],
      [["eval", "--report", "x".repeat(10_000)], /at most 4096/],
      [["eval", "--report"], /argument missing/],
    ];
    for (const [args, mention] of cases) {
      const r = await run(args, 30_000);
      expect({ code: r.code, stdout: r.stdout }, args.join(" ").slice(0, 80)).toEqual({ code: 2, stdout: "" });
      expect(oneLine(r), r.stderr).toHaveLength(1);
      expect(oneLine(r)[0]).toMatch(new RegExp(`^spatial-reward ${args[0]}: `));
      expect(oneLine(r)[0]).toMatch(mention);
    }
    expect(readFileSync(join(work, "busy", "keep.txt"), "utf8")).toBe("mine");
    expect(readdirSync(join(work, "busy"))).toEqual(["keep.txt"]);
  }, 120_000);

  it("fails at once where the system refuses to create it (/proc, /sys): exit 1, one line, before the work", async () => {
    for (const p of [`/proc/sr-report-${process.pid}`, `/proc/sr-report-${process.pid}/deeper`, `/sys/sr-report-${process.pid}`]) {
      const r = await run(["eval", "--scenes", "1000", "--report", p], 30_000);
      expect(r.code, `${p}: ${r.stderr}`).toBe(1);
      expect(r.stdout).toBe("");
      expect(oneLine(r), r.stderr).toHaveLength(1);
      expect(oneLine(r)[0]).toMatch(/^spatial-reward eval: --report: cannot write the report in "\/(proc|sys)\/sr-report/);
      // 1000 scenes would take minutes: it stopped before the first.
      expect(r.ms).toBeLessThan(20_000);
      expect(existsSync(p)).toBe(false);
    }
  }, 120_000);

  it("writes a path with '..' where it resolves to, and nothing on the way", async () => {
    const text = join(work, "no-such-dir", "..", "resolved");
    const r = await run(["eval", "--scenes", "1", "--seed", "7000002", "--report", text, "--json"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(`report: ${join(work, "resolved", "index.html")}`);
    expect(existsSync(join(work, "resolved", "index.html"))).toBe(true);
    expect(existsSync(join(work, "no-such-dir"))).toBe(false);
  }, 120_000);
});
