import { spawn, spawnSync } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { PNG } from "pngjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

/**
 * The report page as a person opens it: Debian's Chromium, headless, over file:// only (no
 * server, no network), must load every figure. Where Chromium is missing these tests skip,
 * saying so; SPATIAL_REWARD_REQUIRE_CHROMIUM=1 (CI) makes its absence a failure.
 */
const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const cli = join(root, "dist", "nodes", "cli", "main.js");
const REQUIRED = process.env.SPATIAL_REWARD_REQUIRE_CHROMIUM === "1";
const CHROMIUM = ["chromium", "chromium-browser", "google-chrome"].find((c) => spawnSync(c, ["--version"], { encoding: "utf8" }).status === 0) ?? "";
const MISSING = CHROMIUM === "" ? "no chromium on PATH (Debian: apt install chromium)" : "";
if (MISSING) console.warn(`report page in Chromium: skipped, ${MISSING}`);

describe.runIf(REQUIRED && MISSING !== "")("Chromium (SPATIAL_REWARD_REQUIRE_CHROMIUM=1)", () => {
  it("is installed", () => {
    expect(MISSING).toBe("");
  });
});

interface Run { code: number | null; stdout: string; stderr: string }

/** A child process waited for without blocking this worker. */
function run(cmd: string, args: string[], timeout: number): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, SPATIAL_REWARD_DEBUG: "" } });
    let stdout = "", stderr = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
    child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill("SIGKILL"), timeout);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

const work = mkdtempSync(join(tmpdir(), "sr-report-chromium-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/**
 * Headless Chromium on a file:// page, with the background services that would reach for the
 * network switched off and a fresh profile each time.
 */
function chromium(page: string, extra: string[]): Promise<Run> {
  const profile = mkdtempSync(join(work, "profile-"));
  return run(CHROMIUM, [
    "--headless", "--disable-gpu", "--no-sandbox", "--no-first-run", "--disable-quic", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--disable-default-apps", "--disable-extensions", "--hide-scrollbars",
    `--user-data-dir=${profile}`, "--virtual-time-budget=10000", ...extra, pathToFileURL(page).href,
  ], 90_000);
}

/** The attributes the page's own load check writes into the DOM. */
function loadResults(dom: string): { figures: string | null; images: { src: string; loaded: string }[] } {
  const figures = /<body[^>]*data-figures-loaded="([^"]*)"/.exec(dom)?.[1] ?? null;
  const images = [...dom.matchAll(/<img [^>]*>/g)].map((m) => ({
    src: /src="([^"]*)"/.exec(m[0])?.[1] ?? "",
    loaded: /data-loaded="([^"]*)"/.exec(m[0])?.[1] ?? "",
  }));
  return { figures, images };
}

describe.skipIf(MISSING !== "")(`the report page in headless Chromium${MISSING ? ` (skipped: ${MISSING})` : ""}`, () => {
  const demo = join(work, "demo");
  const evalDir = join(work, "eval");

  beforeAll(async () => {
    const d = await run(process.execPath, [cli, "demo", "--frames", "45", "--seed", "7", "--noise", "none", "--report", demo, "--json"], 150_000);
    if (!d.stderr.includes("report: ")) throw new Error(`demo --report failed:\n${d.stderr}`);
    const e = await run(process.execPath, [cli, "eval", "--scenes", "1", "--seed", "7000000", "--report", evalDir, "--json"], 150_000);
    if (e.code !== 0) throw new Error(`eval --report failed:\n${e.stderr}`);
  }, 300_000);

  it("loads every figure of the demo's and eval's pages at the size of its PNG", async () => {
    for (const dir of [demo, evalDir]) {
      const files = (JSON.parse(readFileSync(join(dir, "report.json"), "utf8")) as { files: string[] }).files;
      const r = await chromium(join(dir, "index.html"), ["--dump-dom"]);
      expect(r.code, r.stderr.slice(-2000)).toBe(0);
      const { figures, images } = loadResults(r.stdout);
      expect(figures, dir).toBe(`${files.length}/${files.length}`);
      expect(images.map((i) => i.src).sort()).toEqual([...files].sort());
      for (const img of images) {
        const png = PNG.sync.read(readFileSync(join(dir, img.src)));
        expect(img.loaded, img.src).toBe(`${png.width}x${png.height}`);
      }
      expect(r.stdout).not.toContain(`<p class="missing">`);
    }
  }, 200_000);

  it("shows the figures on screen: the screenshot holds the frame's and the charts' colours", async () => {
    const shot = join(work, "shot.png");
    const r = await chromium(join(evalDir, "index.html"), [`--screenshot=${shot}`, "--window-size=1000,2600"]);
    expect(r.code, r.stderr.slice(-2000)).toBe(0);
    const p = PNG.sync.read(readFileSync(shot));
    let blue = 0, nonWhite = 0;
    for (let i = 0; i < p.data.length; i += 4) {
      const [red, green, b] = [p.data[i], p.data[i + 1], p.data[i + 2]];
      if (red < 235 || green < 235 || b < 235) nonWhite++;
      // The accuracy bars' #1f77b4.
      if (Math.abs(red - 0x1f) < 12 && Math.abs(green - 0x77) < 12 && Math.abs(b - 0xb4) < 12) blue++;
    }
    expect(nonWhite / (p.width * p.height)).toBeGreaterThan(0.15);
    expect(blue).toBeGreaterThan(5000);
  }, 120_000);

  it("says so when the figures are not beside the page (the check can fail)", async () => {
    const alone = join(work, "alone");
    mkdirSync(alone);
    copyFileSync(join(demo, "index.html"), join(alone, "index.html"));
    const r = await chromium(join(alone, "index.html"), ["--dump-dom"]);
    expect(r.code, r.stderr.slice(-2000)).toBe(0);
    const { figures, images } = loadResults(r.stdout);
    expect(figures).toBe(`0/${images.length}`);
    expect(images.every((i) => i.loaded === "missing")).toBe(true);
    expect(r.stdout).toContain(`<p class="missing">figure missing: frame.png`);
  }, 120_000);
});
