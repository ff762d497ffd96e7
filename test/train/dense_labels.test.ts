import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runChild } from "../run_child.js";
import { PYTHON, torchMissing } from "./torch_python.js";

/**
 * Dense supervision of the tiny Cobra's visual tokens (models/train/dense_labels.py) on a real
 * `export vqa --sim --masks`: every cell target equals a plain per-pixel count of the masks
 * (check_dense_labels.py), and train.py's dense-only stage learns them (its loss falls).
 */
const root = fileURLToPath(new URL("../..", import.meta.url));
const cli = join(root, "dist", "nodes", "cli", "main.js");
const MISSING = torchMissing();

const run = (cmd: string, args: string[], timeoutMs: number) => runChild(cmd, args, { timeoutMs });

describe.skipIf(MISSING !== "")(`dense labels${MISSING ? ` (skipped: ${MISSING})` : ""}`, () => {
  let dir = "";
  beforeAll(async () => {
    expect(existsSync(cli), `${cli} is missing: run npm run build`).toBe(true);
    dir = mkdtempSync(join(tmpdir(), "dense-"));
    const r = await run(process.execPath, [cli, "export", "vqa", "--sim", "--scenes", "12", "--seed", "5", "--episodes", "0", "--masks",
      "--width", "320", "--height", "240", "--per-type", "1", "--out", join(dir, "data"), "--json"], 120_000);
    if (r.code !== 0) throw new Error(`export failed: ${r.stderr}`);
  }, 180_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("cell targets equal a per-pixel count of the exported masks", async () => {
    const r = await run(PYTHON, [join(root, "models/train/check_dense_labels.py"), join(dir, "data")], 120_000);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const out = JSON.parse(r.stdout.trim().split("\n").pop() ?? "{}") as {
      ok: boolean; images: number; cells: number; cells_with_objects: number;
      mirror: { ok: boolean; worst_patch: number; cells: number; same_pairs: number; worst_centre_std: number };
    };
    expect(out.ok).toBe(true);
    // --dense-flip: mirrored patches are the mirrored frame's; mirrored targets the mirrored mask's.
    expect(out.mirror.worst_patch).toBeLessThanOrEqual(1e-4);
    expect(out.mirror.same_pairs).toBeGreaterThanOrEqual(0.97 * out.mirror.cells);
    expect(out.mirror.worst_centre_std).toBeLessThanOrEqual(0.25);
    expect(out.images).toBe(12);
    expect(out.cells).toBe(12 * 49);
    expect(out.cells_with_objects).toBeGreaterThan(40);
  }, 150_000);

  it("scene listings (captions.py) name the seen objects left to right as the masks place them", async () => {
    const code = [
      "import json, sys, numpy as np",
      "from PIL import Image",
      `sys.path.insert(0, ${JSON.stringify(join(root, "models/train"))})`,
      "from captions import caption_records",
      `data = ${JSON.stringify(join(dir, "data"))}`,
      "recs = [r for v in caption_records(data, 100).values() for r in v]",
      "scenes = {s['image']: s for s in map(json.loads, open(data + '/scenes.jsonl'))}",
      "pairs = bad = 0",
      "for r in recs:",
      "    if r['type'] != 'caption_left_to_right': continue",
      "    s = scenes[r['image']]; m = np.asarray(Image.open(data + '/' + s['mask']))",
      "    names = r['answer'].split(', ')",
      "    cols = []",
      "    for o in s['objects']:",
      "        ys, xs = np.nonzero(m == o['mask_value'])",
      "        if len(xs) >= 100: cols.append((o['color'] + ' ' + o['kind'], xs.mean()))",
      "    assert sorted(names) == sorted(n for n, _ in cols), (names, cols)",
      "    if len(set(names)) != len(names): continue",
      "    for a, ca in cols:",
      "        for b, cb in cols:",
      "            if cb - ca > 40:",
      "                pairs += 1; bad += names.index(a) > names.index(b)",
      "print(json.dumps({'listings': len(recs), 'pairs': pairs, 'bad': bad}))",
    ].join("\n");
    const r = await run(PYTHON, ["-c", code], 120_000);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout.trim()) as { listings: number; pairs: number; bad: number };
    expect(out.listings).toBe(24);
    expect(out.pairs).toBeGreaterThan(20);
    expect(out.bad).toBe(0);
  }, 150_000);

  it("locating captions (captions.py caption_locate) give each seen object's token-grid cell as its mask places it", async () => {
    const code = [
      "import json, re, sys, numpy as np",
      "from PIL import Image",
      `sys.path.insert(0, ${JSON.stringify(join(root, "models/train"))})`,
      "from captions import caption_records",
      `data = ${JSON.stringify(join(dir, "data"))}`,
      "recs = [r for v in caption_records(data, 100, kinds=('caption_locate',), grid=7).values() for r in v]",
      "scenes = {s['image']: s for s in map(json.loads, open(data + '/scenes.jsonl'))}",
      "seen = inside = order_pairs = order_bad = 0",
      "by_image = {}",
      "for r in recs:",
      "    assert r['type'] == 'caption_locate', r",
      "    s = scenes[r['image']]; m = np.asarray(Image.open(data + '/' + s['mask']))",
      "    name = re.fullmatch(r'Where is the (\\w+) (\\w+)\\?', r['question']).groups()",
      "    col, row = map(int, re.fullmatch(r'column (\\d), row (\\d)', r['answer']).groups())",
      "    assert 1 <= col <= 7 and 1 <= row <= 7, r",
      "    o = next(o for o in s['objects'] if (o['color'], o['kind']) == name)",
      "    ys, xs = np.nonzero(m == o['mask_value'])",
      "    H, W = m.shape",
      "    inside += bool(((xs * 7 // W == col - 1) & (ys * 7 // H == row - 1)).any())",
      "    by_image.setdefault(r['image'], []).append((xs.mean(), col))",
      "for items in by_image.values():",
      "    for xa, ca in items:",
      "        for xb, cb in items:",
      "            if xb - xa > 640 / 7:",
      "                order_pairs += 1; order_bad += ca >= cb",
      "visible = sum(sum(np.count_nonzero(np.asarray(Image.open(data + '/' + s['mask'])) == o['mask_value']) >= 100 for o in s['objects']) for s in scenes.values() if 'mask' in s)",
      "print(json.dumps({'records': len(recs), 'visible': int(visible), 'inside': inside, 'order_pairs': order_pairs, 'order_bad': order_bad}))",
    ].join("\n");
    const r = await run(PYTHON, ["-c", code], 120_000);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout.trim()) as { records: number; visible: number; inside: number; order_pairs: number; order_bad: number };
    expect(out.records).toBe(out.visible);
    expect(out.records).toBeGreaterThan(12);
    expect(out.inside).toBeGreaterThanOrEqual(Math.floor(0.9 * out.records));
    expect(out.order_pairs, JSON.stringify(out)).toBeGreaterThan(3);
    expect(out.order_bad).toBe(0);
  }, 150_000);

  it("train.py refuses an unknown or empty --caption-kinds before any training", async () => {
    for (const kinds of ["caption_bogus", "caption_locate,nope", ","]) {
      const r = await run(PYTHON, [join(root, "models/train/train.py"), "--data", join(dir, "data"), "--out", join(dir, "badkinds"), "--captions", "mix",
        "--caption-kinds", kinds, "--steps", "1", "--merges", "20", "--threads", "1"], 120_000);
      expect(r.code, kinds).not.toBe(0);
      expect(r.stderr).toMatch(/--caption-kinds: .*each must be one of caption_left_to_right, caption_near_to_far, caption_locate/);
      expect(existsSync(join(dir, "badkinds", "model"))).toBe(false);
    }
  }, 300_000);

  it("train.py --dense-minutes learns them: the dense loss falls", async () => {
    const out = join(dir, "out");
    const r = await run(PYTHON, [join(root, "models/train/train.py"), "--data", join(dir, "data"), "--out", out, "--dense-minutes", "20", "--dense-steps", "150", "--dense-flip", "0.5",
      "--dense-batch", "8", "--minutes", "30", "--steps", "1", "--batch", "4", "--eval-size", "4", "--merges", "20", "--threads", "1"], 240_000);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/dense targets for 12 images/);
    const steps = readFileSync(join(out, "metrics.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l) as { dense_step?: number; dense_loss?: number })
      .filter((m) => m.dense_step !== undefined);
    expect(steps.length).toBeGreaterThan(2);
    expect(steps[steps.length - 1].dense_loss).toBeLessThan(0.5 * (steps[0].dense_loss ?? 0));
    expect(existsSync(join(out, "model", "model.safetensors"))).toBe(true);
    // The dense head is kept beside the model, so the next stage's dense loss goes on from it.
    const next = await run(PYTHON, [join(root, "models/train/train.py"), "--data", join(dir, "data"), "--out", join(dir, "out_next"), "--init", join(out, "model"),
      "--steps", "1", "--batch", "4", "--eval-size", "2", "--threads", "1"], 120_000);
    expect(next.code, next.stderr).toBe(0);
    expect(next.stderr).toMatch(/dense_head: restored from/);
  }, 400_000);

  it("train.py refuses a --dense-flip outside [0, 1] (nan, negative, above 1) before any training", async () => {
    for (const bad of ["nan", "-0.1", "1.5"]) {
      const r = await run(PYTHON, [join(root, "models/train/train.py"), "--data", join(dir, "data"), "--out", join(dir, "badflip"), "--dense-flip", bad], 60_000);
      expect(r.code, `--dense-flip ${bad}`).not.toBe(0);
      expect(r.stderr).toMatch(/--dense-flip must be in \[0, 1\]/);
    }
    expect(existsSync(join(dir, "badflip"))).toBe(false);
  }, 120_000);

  it("train.py --oracle-tokens trains the language model on ground-truth cell tokens (the loss falls) and refuses what needs an encoder", async () => {
    const out = join(dir, "oracle");
    const r = await run(PYTHON, [join(root, "models/train/train.py"), "--data", join(dir, "data"), "--out", out, "--oracle-tokens",
      "--steps", "40", "--batch", "8", "--eval-every", "40", "--eval-size", "6", "--log-every", "5", "--merges", "20", "--threads", "1"], 240_000);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/oracle tokens: \d+ ground-truth features per cell for 12 images/);
    expect(r.stderr).not.toMatch(/preprocessed \d+ images/);
    const steps = readFileSync(join(out, "metrics.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l) as { step?: number; loss?: number; eval?: { val_loss_other_frame?: number } });
    const losses = steps.filter((m) => m.loss !== undefined).map((m) => m.loss ?? 0);
    expect(losses.length).toBeGreaterThan(4);
    expect(losses[losses.length - 1]).toBeLessThan(0.7 * losses[0]);
    expect(steps.some((m) => Number.isFinite(m.eval?.val_loss_other_frame))).toBe(true);
    // The learnt map is saved beside the served weights, not in them, and a later stage goes on from it.
    expect(readFileSync(join(out, "model", "model.safetensors")).subarray(8, 200_000).toString("latin1")).not.toMatch(/oracle\./);
    expect(readFileSync(join(out, "model", "training_heads.safetensors")).subarray(8, 200_000).toString("latin1")).toMatch(/"oracle\.proj\.weight"/);
    const again = await run(PYTHON, [join(root, "models/train/train.py"), "--data", join(dir, "data"), "--out", join(dir, "oracle2"), "--oracle-tokens",
      "--init", join(out, "model"), "--steps", "1", "--batch", "4", "--eval-size", "2", "--threads", "1"], 120_000);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toMatch(/oracle: restored from/);
    // --distill-oracle: the encoder learns to emit the oracle's tokens (its error falls).
    const distill = await run(PYTHON, [join(root, "models/train/train.py"), "--data", join(dir, "data"), "--out", join(dir, "distill"), "--init", join(out, "model"),
      "--distill-oracle", join(out, "model"), "--distill-minutes", "5", "--dense-steps", "100", "--dense-batch", "8", "--steps", "1", "--batch", "4", "--eval-size", "2", "--threads", "1"], 240_000);
    expect(distill.code, distill.stderr).toBe(0);
    expect(distill.stderr).toMatch(/oracle: restored from/);
    const errs = readFileSync(join(dir, "distill", "metrics.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l) as { distill_step?: number; distill_rel_err?: number })
      .filter((m) => m.distill_step !== undefined).map((m) => m.distill_rel_err ?? 0);
    expect(errs.length).toBe(4);
    expect(errs[3]).toBeLessThan(0.7 * errs[0]);
    // --init-encoder joins the distilled encoder to the oracle run's language model.
    const joined = await run(PYTHON, [join(root, "models/train/train.py"), "--data", join(dir, "data"), "--out", join(dir, "joined"), "--init", join(out, "model"),
      "--init-encoder", join(dir, "distill", "model"), "--steps", "0", "--eval-size", "2", "--threads", "1"], 120_000);
    expect(joined.code, joined.stderr).toBe(0);
    const compare = [
      "import json, sys, numpy as np",
      `sys.path.insert(0, ${JSON.stringify(join(root, "models/train"))})`,
      "from model_io import read_safetensors",
      "f = lambda d: read_safetensors(d + '/model.safetensors')[0]",
      `j, enc, lm = f(${JSON.stringify(join(dir, "joined", "model"))}), f(${JSON.stringify(join(dir, "distill", "model"))}), f(${JSON.stringify(join(out, "model"))})`,
      "same = lambda a, b, p: all(np.array_equal(a[k], b[k]) for k in a if k.startswith(p))",
      "print(json.dumps({'vision_from_encoder': same(j, enc, 'vision.') and same(j, enc, 'projector.'), 'vision_differs_from_lm': not same(j, lm, 'vision.'),",
      "  'lm_from_init': same(j, lm, 'backbone.')}))",
    ].join("\n");
    const cmp = await run(PYTHON, ["-c", compare], 60_000);
    expect(cmp.code, cmp.stderr).toBe(0);
    expect(JSON.parse(cmp.stdout.trim())).toEqual({ vision_from_encoder: true, vision_differs_from_lm: true, lm_from_init: true });
    const lone = await run(PYTHON, [join(root, "models/train/train.py"), "--data", join(dir, "data"), "--out", join(dir, "joined_bad"), "--init-encoder", join(dir, "distill", "model")], 60_000);
    expect(lone.code).not.toBe(0);
    expect(lone.stderr).toMatch(/--init-encoder replaces the encoder of the --init model/);
    // An encoder of another shape (a narrower first branch) is refused with the tensors that do not fit.
    const cfg = JSON.parse(readFileSync(join(out, "model", "config.json"), "utf8")) as { encoders: { width: number; heads: number }[] };
    cfg.encoders[0] = { ...cfg.encoders[0], width: 48, heads: 2 };
    writeFileSync(join(dir, "narrow.json"), JSON.stringify(cfg));
    const narrow = await run(PYTHON, [join(root, "models/train/train.py"), "--data", join(dir, "data"), "--out", join(dir, "narrow"), "--config", join(dir, "narrow.json"),
      "--steps", "0", "--merges", "20", "--eval-size", "2", "--threads", "1"], 120_000);
    expect(narrow.code, narrow.stderr).toBe(0);
    const misfit = await run(PYTHON, [join(root, "models/train/train.py"), "--data", join(dir, "data"), "--out", join(dir, "joined_misfit"), "--init", join(out, "model"),
      "--init-encoder", join(dir, "narrow", "model"), "--steps", "0", "--threads", "1"], 120_000);
    expect(misfit.code).not.toBe(0);
    expect(misfit.stderr).toMatch(/--init-encoder .*narrow.*: its encoder does not fit this model \(vision\.dino\./);
    // A folder without an oracle map (no training_heads.safetensors here) is refused, not distilled towards zeros.
    const noMap = await run(PYTHON, [join(root, "models/train/train.py"), "--data", join(dir, "data"), "--out", join(dir, "distill_nomap"), "--init", join(dir, "joined", "model"),
      "--distill-oracle", join(dir, "joined", "model"), "--steps", "0", "--threads", "1"], 120_000);
    expect(noMap.code).not.toBe(0);
    expect(noMap.stderr).toMatch(/--distill-oracle .*: no oracle map to learn from/);
    for (const flags of [["--oracle-tokens"], ["--distill-minutes", "0"]]) {
      const bad = await run(PYTHON, [join(root, "models/train/train.py"), "--data", join(dir, "data"), "--out", join(dir, "distill_bad"), "--distill-oracle", join(out, "model"), ...flags,
        "--steps", "1", "--merges", "20", "--threads", "1"], 120_000);
      expect(bad.code, flags.join(" ")).not.toBe(0);
      expect(bad.stderr).toMatch(/--distill-oracle trains the encoder/);
    }
    // --question-types keeps only those types; an unknown one is refused with the list of known ones.
    const only = await run(PYTHON, [join(root, "models/train/train.py"), "--data", join(dir, "data"), "--out", join(dir, "oracle3"), "--oracle-tokens",
      "--question-types", "left_of,which_right", "--steps", "2", "--batch", "4", "--eval-every", "2", "--eval-size", "8", "--threads", "1"], 120_000);
    expect(only.code, only.stderr).toBe(0);
    expect(only.stderr).toMatch(/question types: 2 kept, \d+ train questions/);
    const typed = readFileSync(join(dir, "oracle3", "metrics.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l) as { eval?: { val_exact_by_type: Record<string, number> } })
      .filter((m) => m.eval !== undefined);
    expect(typed.length).toBeGreaterThan(0);
    for (const e of typed) expect(Object.keys(e.eval?.val_exact_by_type ?? {}).every((t) => t === "left_of" || t === "which_right")).toBe(true);
    const unknown = await run(PYTHON, [join(root, "models/train/train.py"), "--data", join(dir, "data"), "--out", join(dir, "oracle4"), "--question-types", "left_of,nonsense",
      "--steps", "1", "--threads", "1"], 120_000);
    expect(unknown.code).not.toBe(0);
    expect(unknown.stderr).toMatch(/--question-types: nonsense not in/);
    for (const flags of [["--c2f-prob", "0.5"], ["--dense-minutes", "1"], ["--c2f-score-weight", "1"]]) {
      const bad = await run(PYTHON, [join(root, "models/train/train.py"), "--data", join(dir, "data"), "--out", join(dir, "oracle_bad"), "--oracle-tokens", ...flags,
        "--steps", "1", "--merges", "20", "--threads", "1"], 120_000);
      expect(bad.code, flags.join(" ")).not.toBe(0);
      expect(bad.stderr).toMatch(/--oracle-tokens replaces the encoder/);
    }
  }, 400_000);

  it("train.py --captions only trains and validates on the listings, and reports the loss with other frames", async () => {
    const out = join(dir, "captions");
    const r = await run(PYTHON, [join(root, "models/train/train.py"), "--data", join(dir, "data"), "--out", out, "--captions", "only",
      "--steps", "3", "--batch", "4", "--questions-per-image", "2", "--eval-every", "3", "--eval-size", "6", "--merges", "20", "--threads", "1"], 240_000);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/captions \(only\): 20 train listings, 2 val/);
    const evals = readFileSync(join(out, "metrics.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l) as { eval?: { val_exact_by_type: Record<string, number>; val_loss: number; val_loss_other_frame: number } })
      .filter((m) => m.eval !== undefined);
    expect(evals.length).toBeGreaterThan(0);
    for (const e of evals) {
      expect(Object.keys(e.eval?.val_exact_by_type ?? {}).every((t) => t.startsWith("caption_"))).toBe(true);
      expect(Number.isFinite(e.eval?.val_loss_other_frame)).toBe(true);
    }
  }, 300_000);
});
