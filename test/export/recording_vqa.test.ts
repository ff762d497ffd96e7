import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { decodeRgbPng } from "../../nodes/cli/png_image.js";
import { Perception } from "../../src/perception/perception.js";
import type { Scene } from "../../src/scene/scene_object.js";
import { answerQuestion } from "../../src/spatial/answer_question.js";
import { parseAnswerText } from "../../src/spatial/answer_text_parser.js";
import { tryParseQuestion } from "../../src/spatial/question_parser.js";
import { questionType } from "../../src/spatial/question_types.js";
import { IMAGE_TOKEN } from "../../src/vqa/export_format.js";
import type { RecordingVqaRecord } from "../../src/vqa/recording_vqa.js";
import { cli, writeEpisode, type FixtureEpisode } from "./export_fixtures.js";

/**
 * `spatial-reward export vqa EPISODES…` on recorded teleop episodes: one with instance masks
 * (the engine perceives the recorded RGB-D), one with only the recorded scene graph. Each
 * record is checked against the engine's answer recomputed here on the same scene (a fresh
 * Perception over the fixture's frames in order, or the scene the fixture recorded), its short
 * answer parsed back with parseAnswerText, its image against the camera frame, its reward against
 * the frame's, and the split against its episode's.
 */
const work = mkdtempSync(join(tmpdir(), "sr-recvqa-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const W = 160, H = 120, STRIDE = 4;
let masked: FixtureEpisode;
let sceneOnly: FixtureEpisode;
let out = "";
let records: RecordingVqaRecord[] = [];
let meta: { format: string; version: number; source: string; episodes: { file: string; episode: string; split: string; segmentation: string; labelled_frames: number; camera_frames: number; questions: number }[]; counts: { vqa: { total: number } } };

const jsonl = <T>(file: string): T[] => readFileSync(file, "utf8").split("\n").filter((l) => l !== "").map((l) => JSON.parse(l) as T);

describe("export vqa from recordings", () => {
  beforeAll(async () => {
    masked = await writeEpisode(join(work, "masked.mcap"), { seed: 21, frames: 24, width: W, height: H, startWallTimeNs: 1_700_000_000_000_000_000n });
    sceneOnly = await writeEpisode(join(work, "scene.mcap"), { seed: 22, frames: 20, width: W, height: H, masks: false, startWallTimeNs: 1_700_000_100_000_000_000n });
    out = join(work, "vqa");
    const r = await cli(["export", "vqa", masked.path, sceneOnly.path, "--out", out, "--stride", String(STRIDE), "--json"]);
    expect(r.code, r.stderr).toBe(0);
    records = jsonl<RecordingVqaRecord>(join(out, "vqa.jsonl"));
    meta = JSON.parse(readFileSync(join(out, "meta.json"), "utf8"));
  }, 120_000);

  it("labels every stride-th frame of each episode, from masks or from the recorded scene graph", () => {
    expect(meta).toMatchObject({ format: "spatial-reward-vqa", version: 1, source: "recording" });
    expect(meta.episodes.map((e) => [e.file, e.segmentation, e.camera_frames])).toEqual([
      [masked.path, "masks", 24], [sceneOnly.path, "scene_objects", 20],
    ]);
    for (const [i, ep] of [masked, sceneOnly].entries()) {
      const id = meta.episodes[i].episode;
      const mine = records.filter((r) => r.episode === id);
      const frames = [...new Set(mine.map((r) => r.frame))].sort((a, b) => a - b);
      expect(frames.length).toBe(meta.episodes[i].labelled_frames);
      // Every labelled frame is a stride-th one; a frame is skipped only if its scene could not be made.
      expect(frames.every((f) => f % STRIDE === 0)).toBe(true);
      expect(frames.length).toBeGreaterThanOrEqual(Math.ceil(ep.camera.length / STRIDE) - 1);
      // One split per episode, the one meta.json gives it.
      expect(new Set(mine.map((r) => r.split))).toEqual(new Set([meta.episodes[i].split]));
      expect(mine.length).toBe(meta.episodes[i].questions);
    }
    expect(records.length).toBe(meta.counts.vqa.total);
    expect(records.length).toBeGreaterThan(30);
  });

  it("records have the sim export's shape, and each short answer parses back to the engine's answer", () => {
    const types = new Set<string>();
    for (const r of records) {
      expect(Object.keys(r).slice(0, 8)).toEqual(["id", "image", "conversations", "question_type", "answer", "short_answer", "scene_seed", "split"]);
      expect(r.conversations[0].from).toBe("human");
      expect(r.conversations[0].value.startsWith(`${IMAGE_TOKEN}\n`)).toBe(true);
      expect(r.conversations[1].from).toBe("gpt");
      const question = r.conversations[0].value.slice(IMAGE_TOKEN.length + 1);
      const q = tryParseQuestion(question)!;
      expect(q.type, question).toBe(r.question_type);
      const p = parseAnswerText(r.short_answer, q.type, q.slots);
      expect(p.status, `${question} → ${r.short_answer}`).toBe("ok");
      if (questionType(r.question_type).category === "quantitative") {
        const digits = /\.(\d+)/.exec(r.short_answer)?.[1]?.length ?? 0;
        const per = r.short_answer.endsWith(" m") ? 1 : 0.01;
        expect(Math.abs(p.value - r.answer.value)).toBeLessThanOrEqual(0.5 * 10 ** -digits * per + 1e-9);
      } else {
        expect(p.value, `${question} → ${r.short_answer}`).toBe(r.answer.value);
      }
      types.add(r.question_type);
    }
    expect(types.size).toBeGreaterThan(5);
  });

  it("answers are the engine's on the frame's scene: perception of the recorded RGB-D + masks, or the recorded scene graph", () => {
    // The scenes the engine saw, rebuilt here: a fresh Perception over the masked episode's frames in order.
    const perceived = new Map<bigint, Scene>();
    const perception = new Perception();
    for (const c of masked.camera) {
      try {
        perceived.set(c.stamp, perception.process(c.rgbd));
      } catch {
        // Frames perception rejects are not labelled.
      }
    }
    let checked = 0;
    for (const [i, ep] of [masked, sceneOnly].entries()) {
      const id = meta.episodes[i].episode;
      for (const r of records.filter((x) => x.episode === id)) {
        const cam = ep.camera[r.frame];
        expect(r.stamp_ns).toBe(cam.stamp.toString());
        const scene = i === 0 ? perceived.get(cam.stamp)! : ep.scenes.get(cam.stamp)!;
        expect(scene, `scene of frame ${r.frame}`).toBeDefined();
        const a = answerQuestion(scene, r.conversations[0].value.slice(IMAGE_TOKEN.length + 1), { seed: r.scene_seed });
        expect(a.status).toBe("ok");
        expect(r.answer).toEqual({ status: "ok", value: a.value, unit: a.unit, boolean: a.boolean ?? null, choice: a.choice ?? null });
        expect(r.conversations[1].value).toBe(a.text);
        expect(r.segmentation).toBe(i === 0 ? "masks" : "scene_objects");
        const reward = ep.rewards.get(cam.stamp)!;
        // + 0: JSON has no −0.
        expect(r.reward).toMatchObject({ reward: reward.reward + 0, progress: reward.progress, success: reward.success });
        checked++;
      }
    }
    expect(checked).toBe(records.length);
  });

  it("writes each labelled frame as a PNG of the camera image and a progress line from its reward", () => {
    const images = new Set(records.map((r) => r.image));
    expect(readdirSync(join(out, "images")).map((f) => `images/${f}`).sort()).toEqual([...images].sort());
    const progress = jsonl<{ image: string; episode: string; frame: number; progress: number; task: string; split: string }>(join(out, "progress.jsonl"));
    expect(progress.map((p) => p.image).sort()).toEqual([...images].sort());
    for (const p of progress) {
      const i = meta.episodes.findIndex((e) => e.episode === p.episode);
      const ep = [masked, sceneOnly][i];
      const cam = ep.camera[p.frame];
      expect(p.progress).toBe(ep.rewards.get(cam.stamp)!.progress);
      expect(p.task).toBe(ep.task);
      expect(p.split).toBe(meta.episodes[i].split);
      const png = decodeRgbPng(readFileSync(join(out, p.image)));
      const img = cam.rgbd.rgb;
      const want = new Uint8Array(W * H * 3);
      for (let v = 0; v < H; v++) want.set(img.data.subarray(v * img.step, v * img.step + W * 3), v * W * 3);
      expect(Buffer.from(png.data).equals(Buffer.from(want))).toBe(true);
    }
  });

  it("--split forces a split; the same episode exported again gets the same identity and questions", async () => {
    const again = join(work, "again");
    const r = await cli(["export", "vqa", masked.path, "--out", again, "--stride", String(STRIDE), "--split", "test"]);
    expect(r.code, r.stderr).toBe(0);
    const second = jsonl<RecordingVqaRecord>(join(again, "vqa.jsonl"));
    const first = records.filter((x) => x.episode === meta.episodes[0].episode);
    expect(second.map((x) => ({ ...x, split: "?" }))).toEqual(first.map((x) => ({ ...x, split: "?" })));
    expect(new Set(second.map((x) => x.split))).toEqual(new Set(["test"]));
  }, 60_000);

  describe("hostile input", () => {
    const expectFailure = (r: { code: number; stderr: string }, code: number, pattern: RegExp) => {
      expect(r.code, r.stderr).toBe(code);
      const lines = r.stderr.split("\n").filter((l) => l !== "");
      expect(lines, r.stderr).toHaveLength(1);
      expect(lines[0]).toMatch(pattern);
    };

    it("refuses what cannot be labelled, and mixed sources, with nothing left in --out", async () => {
      const dest = join(work, "never");
      const noCamera = await writeEpisode(join(work, "no_camera.mcap"), { seed: 23, frames: 20, width: 64, height: 48, camera: false, masks: false, scene: false });
      expectFailure(await cli(["export", "vqa", noCamera.path, "--out", dest]), 1, /no camera topic camera\/color\/image_raw/);
      const bare = await writeEpisode(join(work, "bare.mcap"), { seed: 23, frames: 20, width: 64, height: 48, masks: false, scene: false });
      expectFailure(await cli(["export", "vqa", bare.path, "--out", dest]), 1, /nothing to label its frames with/);
      expectFailure(await cli(["export", "vqa", sceneOnly.path, "--out", dest, "--segmentation", "masks"]), 1, /--segmentation masks: no camera\/instances topic/);
      const text = join(work, "text.mcap");
      writeFileSync(text, "{}");
      expectFailure(await cli(["export", "vqa", text, "--out", dest]), 1, /not an MCAP recording/);
      const cut = join(work, "cut.mcap");
      writeFileSync(cut, readFileSync(masked.path).subarray(0, 5000));
      expectFailure(await cli(["export", "vqa", cut, "--out", dest]), 1, /record recover/);
      expectFailure(await cli(["export", "vqa", join(work, "missing.mcap"), "--out", dest]), 2, /does not exist/);
      expectFailure(await cli(["export", "vqa", masked.path, "--sim", "--out", dest]), 2, /--sim or EPISODES .*not both/);
      expectFailure(await cli(["export", "vqa", masked.path, "--scenes", "3", "--out", dest]), 2, /--scenes applies to --sim only/);
      expectFailure(await cli(["export", "vqa", "--sim", "--stride", "3", "--out", dest]), 2, /--stride applies to recordings only/);
      expectFailure(await cli(["export", "vqa", masked.path, "--stride", "0", "--out", dest]), 2, /--stride/);
      expectFailure(await cli(["export", "vqa", masked.path, "--segmentation", "sam", "--out", dest]), 2, /--segmentation must be one of/);
      expectFailure(await cli(["export", "vqa", "--out", dest]), 2, /--sim or EPISODES is required/);
      expect(existsSync(dest)).toBe(false);
      const full = join(work, "full");
      mkdirSync(full);
      writeFileSync(join(full, "keep.txt"), "mine");
      expectFailure(await cli(["export", "vqa", masked.path, "--out", full]), 2, /not empty/);
      expect(readdirSync(full)).toEqual(["keep.txt"]);
    }, 60_000);
  });
});
