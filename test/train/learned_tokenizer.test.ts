import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { BackboneTokenizer } from "../../src/backbone/tokenizer.js";
import { mulberry32 } from "../../src/random/mulberry32.js";
import { generateQuestions } from "../../src/spatial/question_generator.js";
import { answerQuestion } from "../../src/spatial/answer_question.js";
import { simSample } from "../../nodes/cli/sim_samples.js";

/**
 * train.py learns its tokenizer's merges from the export's texts (models/train/tokenizer.py
 * learn_merges) and the runtime encodes questions with that tokenizer.json through Hugging Face
 * `tokenizers`: both must give the same ids, or the model is asked in ids it never saw.
 */
const root = fileURLToPath(new URL("../..", import.meta.url));
const PYTHON = process.env.SPATIAL_REWARD_TORCH_PYTHON ?? "/usr/bin/python3";
const pythonOk = spawnSync(PYTHON, ["-c", "import numpy"], { encoding: "utf8" }).status === 0;
if (!pythonOk) console.warn(`learned tokenizer test: skipped, ${PYTHON} with numpy is missing`);

function texts(seeds: number[]): string[] {
  const out: string[] = [];
  for (const seed of seeds) {
    const truth = simSample(seed, { noise: "none", masks: "gt", width: 160, height: 120 }).truth;
    for (const q of generateQuestions(truth, mulberry32(seed), { perType: 2 }).questions) {
      out.push(`${q.text}\n`, answerQuestion(truth, q.text).text);
    }
  }
  return out;
}

describe.skipIf(!pythonOk)("a tokenizer learnt by train.py", () => {
  const dir = mkdtempSync(join(tmpdir(), "learned-tok-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("encodes unseen questions and answers with the runtime's ids, with far fewer tokens than bytes", () => {
    writeFileSync(join(dir, "train.json"), JSON.stringify(texts([7000, 7001, 7002])));
    const learn = spawnSync(PYTHON, [join(root, "models/train/tokenizer.py"), "learn", join(dir, "train.json"), "300", join(dir, "tokenizer.json")], { encoding: "utf8" });
    expect(learn.status, learn.stderr).toBe(0);
    const json = JSON.parse(readFileSync(join(dir, "tokenizer.json"), "utf8")) as { model: { merges: string[] } };
    expect(json.model.merges.length).toBeGreaterThan(100);
    // Numbers stay digits: no merge has a digit in it.
    expect(json.model.merges.filter((m) => /\d/.test(m))).toEqual([]);
    const heldOut = [...texts([7100, 7101]), "How far is the teal zebra from 12.5 cm?", "Yes", "red mug", "1.39 m", "7 o'clock", "naïve café ☕"];
    writeFileSync(join(dir, "held_out.json"), JSON.stringify(heldOut));
    const enc = spawnSync(PYTHON, [join(root, "models/train/tokenizer.py"), "encode", join(dir, "tokenizer.json"), join(dir, "held_out.json")], { encoding: "utf8" });
    expect(enc.status, enc.stderr).toBe(0);
    const python = JSON.parse(enc.stdout) as number[][];
    const tok = BackboneTokenizer.fromJson(json);
    const ts = heldOut.map((t) => tok.encode(t));
    expect(python).toEqual(ts);
    for (let i = 0; i < heldOut.length; i++) expect(tok.decode(ts[i]), heldOut[i]).toBe(heldOut[i]);
    const bytes = heldOut.slice(0, -6).reduce((s, t) => s + Buffer.byteLength(t), 0);
    const tokens = ts.slice(0, -6).reduce((s, t) => s + t.length, 0);
    expect(tokens).toBeLessThan(bytes / 2.5);
  }, 60_000);
});
