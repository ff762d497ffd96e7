import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { PNG } from "pngjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generateWorld, placeCamera, Renderer, teleopScenario, truthScene, worldAt } from "../../sim/index.js";
import { parseRewardSpec } from "../../src/reward/parse_reward_spec.js";
import { RewardTracker } from "../../src/reward/reward_tracker.js";
import { answerQuestion } from "../../src/spatial/answer_question.js";
import { mulberry32 } from "../../src/random/mulberry32.js";
import { generateQuestions } from "../../src/spatial/question_generator.js";
import { QUESTION_TYPE_IDS, questionType } from "../../src/spatial/question_types.js";
import { runChild } from "../run_child.js";

/**
 * `spatial-reward export vqa` as users run it (`npm run build` first): a small export checked
 * against the contract in the issue-9 notes (meta.json, images/<id>.png, vqa.jsonl,
 * progress.jsonl), labels recomputed here from the simulator, determinism, and hostile flags.
 */
const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const cli = join(root, "dist", "nodes", "cli", "main.js");
const work = mkdtempSync(join(tmpdir(), "sr-export-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

interface Run { code: number | null; stdout: string; stderr: string }
/** Async (runChild): a test runs the CLI many times, and a worker blocked for 60 s fails the whole run. */
async function run(args: string[]): Promise<Run> {
  return runChild(process.execPath, [cli, ...args], { timeoutMs: 120_000, cwd: work, env: { ...process.env, SPATIAL_REWARD_DEBUG: "" } });
}

const W = 160, H = 120, SEED = 7;
const small = (out: string) => [
  "export", "vqa", "--sim", "--scenes", "3", "--seed", String(SEED), "--episodes", "1", "--episode-frames", "24", "--episode-stride", "4",
  "--width", String(W), "--height", String(H), "--out", out, "--json",
];

interface VqaLine {
  id: string; image: string; conversations: { from: string; value: string }[]; question_type: string;
  answer: { status: string; value: number; unit: string; boolean: boolean | null; choice: string | null };
  scene_seed: number; split: string;
}
interface ProgressLine { image: string; episode: string; frame: number; progress: number; task: string; split: string }
interface SceneLine { id: string; image: string; scene_seed: number; split: string; hfov_deg: number; noise: string }

const jsonl = <T>(file: string): T[] => readFileSync(file, "utf8").split("\n").filter((l) => l !== "").map((l) => JSON.parse(l) as T);

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name).slice(dir.length + 1)).sort();
}

describe("spatial-reward export vqa", () => {
  const outA = join(work, "a");
  const outB = join(work, "b");
  let first: Run;
  beforeAll(async () => {
    expect(existsSync(cli), `${cli} is missing: run npm run build`).toBe(true);
    first = await run(small(outA));
  });

  it("exits 0 with a JSON summary as the last stdout line and writes the contract's files", () => {
    expect(first.code, first.stderr).toBe(0);
    const lines = first.stdout.trim().split("\n");
    const summary = JSON.parse(lines[lines.length - 1]) as { scenes: { total: number }; images: number; questions: { total: number } };
    expect(summary.scenes.total).toBe(3);
    for (const f of ["meta.json", "vqa.jsonl", "progress.jsonl", "scenes.jsonl", "images"]) expect(existsSync(join(outA, f)), f).toBe(true);
    const meta = JSON.parse(readFileSync(join(outA, "meta.json"), "utf8"));
    expect([meta.format, meta.version]).toEqual(["spatial-reward-vqa", 1]);
    expect(meta.counts.scenes).toEqual({ train: 1, val: 1, test: 1, total: 3 });
    expect(meta.counts.vqa.total).toBe(summary.questions.total);
    expect(meta.counts.images.total).toBe(summary.images);
    expect(meta.camera).toMatchObject({ width: W, height: H, hfov_deg: [55, 80] });
    expect(typeof meta.generator.version).toBe("string");
    expect(readdirSync(join(outA, "images"))).toHaveLength(summary.images);
  });

  it("every vqa line matches the contract; images exist and decode at the camera size; splits disjoint by seed; counts agree with meta", () => {
    const lines = jsonl<VqaLine>(join(outA, "vqa.jsonl"));
    const meta = JSON.parse(readFileSync(join(outA, "meta.json"), "utf8"));
    expect(lines.length).toBe(meta.counts.vqa.total);
    const ids = new Set<string>();
    const splitOf = new Map<number, string>();
    const decoded = new Map<string, PNG>();
    for (const l of lines) {
      expect(Object.keys(l).sort()).toEqual(["answer", "conversations", "id", "image", "question_type", "scene_seed", "short_answer", "split"]);
      expect(ids.has(l.id)).toBe(false);
      ids.add(l.id);
      expect(l.image).toMatch(/^images\/[A-Za-z0-9_]+\.png$/);
      expect(l.conversations).toHaveLength(2);
      expect(l.conversations[0].from).toBe("human");
      expect(l.conversations[0].value.startsWith("<image>\n")).toBe(true);
      expect(l.conversations[0].value.length).toBeGreaterThan("<image>\n".length + 5);
      expect(l.conversations[1].from).toBe("gpt");
      expect(l.conversations[1].value.length).toBeGreaterThan(1);
      expect(QUESTION_TYPE_IDS).toContain(l.question_type);
      expect(Object.keys(l.answer).sort()).toEqual(["boolean", "choice", "status", "unit", "value"]);
      expect(l.answer.status).toBe("ok");
      expect(Number.isFinite(l.answer.value)).toBe(true);
      const cat = questionType(l.question_type as (typeof QUESTION_TYPE_IDS)[number]).category;
      expect(l.answer.unit).toBe({ qualitative: "bool", choice: "choice", quantitative: "m", clock: "hour", count: "count", color: "color", superlative: "object" }[cat]);
      expect(typeof l.answer.boolean === "boolean").toBe(cat === "qualitative");
      expect(typeof l.answer.choice === "string").toBe(cat === "choice" || cat === "superlative");
      expect(["train", "val", "test"]).toContain(l.split);
      expect(Number.isInteger(l.scene_seed)).toBe(true);
      // One split per scene seed, and the seed lies in that split's documented range.
      if (splitOf.has(l.scene_seed)) expect(splitOf.get(l.scene_seed)).toBe(l.split);
      splitOf.set(l.scene_seed, l.split);
      expect(l.split).toBe(l.scene_seed < 1e9 ? "train" : l.scene_seed < 2e9 ? "val" : "test");
      if (!decoded.has(l.image)) {
        const png = PNG.sync.read(readFileSync(join(outA, l.image)));
        expect([png.width, png.height]).toEqual([W, H]);
        decoded.set(l.image, png);
      }
    }
    expect([...splitOf.values()].sort()).toEqual(["test", "train", "val"]);
    expect([...splitOf.keys()].sort((a, b) => a - b)).toEqual([SEED, 1e9 + SEED, 2e9 + SEED]);
    // Per-type counts in meta are what the lines hold.
    for (const t of QUESTION_TYPE_IDS) expect(meta.counts.vqa_by_type[t].total).toBe(lines.filter((l) => l.question_type === t).length);
  });

  it("question types cover what the generator produces; answers equal the engine's on the ground-truth scene (recomputed here)", () => {
    const lines = jsonl<VqaLine>(join(outA, "vqa.jsonl"));
    const scenes = jsonl<SceneLine>(join(outA, "scenes.jsonl"));
    expect(scenes.map((s) => s.scene_seed)).toEqual([SEED, 1e9 + SEED, 2e9 + SEED]);
    for (const s of scenes) {
      expect(s.hfov_deg).toBeGreaterThanOrEqual(55);
      expect(s.hfov_deg).toBeLessThanOrEqual(80);
      const world = generateWorld(s.scene_seed);
      const { camera } = placeCamera(world, s.scene_seed, { width: W, height: H, hfovDeg: s.hfov_deg });
      const truth = truthScene(world, camera, 0n);
      const mine = lines.filter((l) => l.scene_seed === s.scene_seed);
      // The generator's questions for this seed, drawn as eval draws them: same types, same texts.
      const generated = generateQuestions(truth, mulberry32(s.scene_seed ^ 0x5eed), { perType: 2 });
      expect(mine.map((l) => l.question_type)).toEqual(generated.questions.map((q) => q.type));
      expect(new Set(mine.map((l) => l.question_type)).size).toBeGreaterThan(25);
      // Every 5th line: the engine's answer recomputed on the true scene.
      mine.filter((_, i) => i % 5 === 0).forEach((l) => {
        const a = answerQuestion(truth, l.conversations[0].value.slice("<image>\n".length), { seed: s.scene_seed });
        expect(a.type).toBe(l.question_type);
        expect(l.conversations[1].value).toBe(a.text);
        expect(l.answer).toEqual({ status: a.status, value: a.value, unit: a.unit, boolean: a.boolean ?? null, choice: a.choice ?? null });
        const q = generated.questions.find((g) => `<image>\n${g.text}` === l.conversations[0].value)!;
        expect(l.answer.value).toBe(q.truthValue);
      });
      // The image is this scene, jittered: close to the plain render, not identical to it.
      const png = PNG.sync.read(readFileSync(join(outA, s.image)));
      const plain = new Renderer().render(world, camera).rgb.data;
      let diff = 0;
      for (let i = 0, k = 0; i < plain.length; i += 3, k += 4) for (let c = 0; c < 3; c++) diff += Math.abs(png.data[k + c] - plain[i + c]);
      const mad = diff / plain.length;
      expect(mad).toBeGreaterThan(0.5);
      expect(mad).toBeLessThan(30);
    }
  });

  it("progress lines match the contract and the tracker's ground-truth progress (recomputed here)", () => {
    const lines = jsonl<ProgressLine>(join(outA, "progress.jsonl"));
    const meta = JSON.parse(readFileSync(join(outA, "meta.json"), "utf8"));
    expect(lines.map((l) => l.frame)).toEqual([0, 4, 8, 12, 16, 20]);
    const ep = meta.seeds.episodes[0] as { seed: number; hfov_deg: number; task: string; split: string };
    expect(ep.hfov_deg).toBeGreaterThanOrEqual(55);
    expect(ep.hfov_deg).toBeLessThanOrEqual(80);
    const sc = teleopScenario(ep.seed, 24, { width: W, height: H, hfovDeg: ep.hfov_deg });
    const tracker = new RewardTracker(parseRewardSpec(sc.episode.instruction));
    const truth = sc.episode.poses.map((p) => tracker.update(truthScene(worldAt(sc.world, p), sc.camera, 0n)).progress);
    for (const l of lines) {
      expect(Object.keys(l).sort()).toEqual(["episode", "frame", "image", "progress", "split", "task"]);
      expect(l.task).toBe(sc.episode.instruction);
      expect(l.episode).toBe(`episode_${ep.seed}`);
      expect(l.split).toBe(ep.split);
      expect(l.progress).toBe(truth[l.frame]);
      const png = PNG.sync.read(readFileSync(join(outA, l.image)));
      expect([png.width, png.height]).toEqual([W, H]);
    }
    expect(lines[0].progress).toBe(0);
    expect(lines[lines.length - 1].progress).toBe(1);
  });

  it("is deterministic: the same flags write the same bytes", async () => {
    const second = await run(small(outB));
    expect(second.code, second.stderr).toBe(0);
    const files = filesUnder(outA);
    expect(filesUnder(outB)).toEqual(files);
    for (const f of files) expect(readFileSync(join(outB, f)).equals(readFileSync(join(outA, f))), f).toBe(true);
  });

  const expectUsage = async (args: string[], mention: string | RegExp) => {
    const r = await run(["export", "vqa", ...args]);
    expect({ code: r.code, stdout: r.stdout }, r.stderr).toEqual({ code: 2, stdout: "" });
    const lines = r.stderr.split("\n").filter((l) => l !== "");
    expect(lines, r.stderr).toHaveLength(1);
    expect(lines[0].startsWith("spatial-reward export: ") || lines[0].startsWith("spatial-reward export vqa: ") || lines[0].startsWith("spatial-reward: "), lines[0]).toBe(true);
    expect(lines[0]).toMatch(mention);
  };

  it("refuses hostile flags with exit 2 and one line, before writing anything", async () => {
    const fresh = join(work, "never");
    const ok = ["--sim", "--out", fresh];
    await expectUsage([...ok, "--scenes", "0"], /--scenes/);
    await expectUsage([...ok, "--scenes", "-3"], /--scenes/);
    await expectUsage([...ok, "--scenes", "1e3"], /--scenes/);
    await expectUsage([...ok, "--scenes", "99999999999999999999"], /--scenes/);
    await expectUsage([...ok, "--scenes", "100001"], /--scenes/);
    await expectUsage([...ok, "--seed", "-1"], /--seed/);
    await expectUsage([...ok, "--seed", "abc"], /--seed/);
    await expectUsage([...ok, "--seed", "4294967296"], /--seed/);
    await expectUsage([...ok, "--seed", "999999990", "--scenes", "200"], /--seed/);
    await expectUsage([...ok, "--width", "100000"], /--width/);
    await expectUsage([...ok, "--height", "NaN"], /--height/);
    await expectUsage([...ok, "--per-type", "0"], /--per-type/);
    await expectUsage([...ok, "--episodes", "1000000"], /--episodes/);
    await expectUsage([...ok, "--episode-frames", "5"], /--episode-frames/);
    await expectUsage([...ok, "--episode-stride", "0"], /--episode-stride/);
    await expectUsage([...ok, "--episode-frames", "20", "--episode-stride", "21"], /--episode-stride/);
    await expectUsage([...ok, "--hfov-range", "80,55"], /--hfov-range/);
    await expectUsage([...ok, "--hfov-range", "0,10"], /--hfov-range/);
    await expectUsage([...ok, "--hfov-range", "60"], /--hfov-range/);
    await expectUsage([...ok, "--bogus"], /--bogus/);
    await expectUsage(["--out", fresh], /--sim/);
    // Recordings are the other source: not with --sim, and a missing one is named.
    await expectUsage([...ok, "--from-recording", join(work, "none.mcap")], /--sim or EPISODES \(recordings\), not both/);
    await expectUsage(["--from-recording", join(work, "none.mcap"), "--out", fresh], /does not exist/);
    await expectUsage([...ok, "--stride", "3"], /--stride applies to recordings only/);
    await expectUsage(["--from-recording", join(work, "none.mcap"), "--masks", "--out", fresh], /--masks applies to --sim only/);
    await expectUsage(["--sim"], /--out/);
    expect(existsSync(fresh)).toBe(false);
    // An --out that exists and is not empty, or is a file.
    const full = join(work, "full");
    mkdirSync(full);
    writeFileSync(join(full, "keep.txt"), "mine");
    await expectUsage(["--sim", "--out", full], /not empty/);
    expect(readdirSync(full)).toEqual(["keep.txt"]);
    await expectUsage(["--sim", "--out", join(full, "keep.txt")], /not a directory/);
    await expectUsage(["--sim", "--out", outA], /not empty/);
  });

  it("--masks writes each scene's instance mask: mono8, values index the scene's objects, placed where the truth puts them", async () => {
    const out = join(work, "masks");
    const r = await run(["export", "vqa", "--sim", "--scenes", "3", "--seed", "11", "--episodes", "0", "--masks", "--out", out, "--json"]);
    expect(r.code, r.stderr).toBe(0);
    expect(existsSync(join(outA, "masks")), "no masks without --masks").toBe(false);
    interface MaskScene { id: string; mask: string; width: number; height: number; objects: { id: string; mask_value: number; center: number[]; size: number[] }[] }
    const scenes = jsonl<MaskScene>(join(out, "scenes.jsonl"));
    expect(scenes).toHaveLength(3);
    let pairs = 0;
    for (const s of scenes) {
      expect(s.mask).toBe(`masks/${s.id}.png`);
      const png = PNG.sync.read(readFileSync(join(out, s.mask)));
      expect([png.width, png.height]).toEqual([s.width, s.height]);
      const values = new Uint8Array(png.width * png.height);
      for (let i = 0; i < values.length; i++) values[i] = png.data[i * 4];
      expect(values.reduce((m, v) => Math.max(m, v), 0)).toBeLessThanOrEqual(s.objects.length);
      expect(values.filter((v) => v === 0).length / values.length).toBeGreaterThan(0.5); // mostly table
      // Each seen object's mean column orders as its bearing in the spatial frame (x away, y left):
      // an index off by one, a flipped image or masks of another seed break this.
      const seen = s.objects.map((o) => {
        let sum = 0, n = 0;
        for (let i = 0; i < values.length; i++) if (values[i] === o.mask_value) { sum += i % png.width; n++; }
        return { bearing: Math.atan2(o.center[1], o.center[0]), column: n > 0 ? sum / n : NaN, n };
      }).filter((o) => o.n > 50);
      expect(seen.length).toBeGreaterThan(2);
      for (const a of seen) for (const b of seen) {
        if (a.bearing - b.bearing > 0.12) { pairs++; expect(a.column, "more to the left is a smaller column").toBeLessThan(b.column); }
      }
    }
    expect(pairs).toBeGreaterThan(5);
  });

  it("says in --help how recordings are labelled (test/export runs that path)", async () => {
    const r = await run(["export", "vqa", "--help"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/\[EPISODES\.\.\.\]/);
    expect(r.stdout).toMatch(/--from-recording/);
    expect(r.stdout.replace(/\s+/g, " ")).not.toMatch(/not available yet/);
    expect(r.stdout.replace(/\s+/g, " ")).toMatch(/answered by the spatial engine on the frame's scene/);
  });
});
