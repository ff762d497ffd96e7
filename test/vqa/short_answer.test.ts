import { describe, expect, it } from "vitest";
import { parseAnswerText } from "../../src/spatial/answer_text_parser.js";
import { tryParseQuestion } from "../../src/spatial/question_parser.js";
import { questionType } from "../../src/spatial/question_types.js";
import { sceneVqaRecords } from "../../src/vqa/vqa_records.js";
import { IMAGE_TOKEN } from "../../src/vqa/export_format.js";
import { simSample } from "../../nodes/cli/sim_samples.js";

/**
 * The model is trained to say the short answer of each exported record, and the evaluator reads
 * the model's text with parseAnswerText: so each short answer must parse, with the question's
 * own slots, to the record's structured label (lengths within the printed rounding).
 */
describe("short answers in the VQA export", () => {
  it("parse back to the record's label for every question on 6 sim scenes", () => {
    const seen = new Map<string, Set<string>>();
    let n = 0;
    for (let seed = 5100; seed < 5106; seed++) {
      const truth = simSample(seed, { noise: "none", masks: "gt", width: 160, height: 120 }).truth;
      const { records } = sceneVqaRecords(truth, { seed, split: "train", image: "images/x.png", idPrefix: "x", perType: 2 });
      for (const r of records) {
        const question = r.conversations[0].value.replace(`${IMAGE_TOKEN}\n`, "");
        const q = tryParseQuestion(question);
        expect(q?.type, question).toBe(r.question_type);
        const p = parseAnswerText(r.short_answer, q!.type, q!.slots);
        expect(p.status, `${question} → ${r.short_answer}`).toBe("ok");
        const category = questionType(r.question_type).category;
        if (category === "quantitative") {
          const digits = /\.(\d+)/.exec(r.short_answer)?.[1]?.length ?? 0;
          const per = r.short_answer.endsWith(" m") ? 1 : 0.01;
          expect(Math.abs(p.value - r.answer.value), `${r.short_answer} vs ${r.answer.value}`).toBeLessThanOrEqual(0.5 * 10 ** -digits * per + 1e-9);
        } else {
          expect(p.value, `${question} → ${r.short_answer}`).toBe(r.answer.value);
        }
        if (category === "qualitative") expect(p.status === "ok" && p.boolean).toBe(r.answer.boolean);
        // Short: a decision, a name, a length or an hour, never the sentence.
        expect(r.short_answer.length, r.short_answer).toBeLessThan(Math.min(24, r.conversations[1].value.length));
        const s = seen.get(category) ?? new Set<string>();
        s.add(String(p.value));
        seen.set(category, s);
        n++;
      }
    }
    expect(n).toBeGreaterThan(300);
    // Both answers of yes/no and of which-one occur (a short form that always said one would fail).
    expect([...seen.get("qualitative")!].sort()).toEqual(["0", "1"]);
    expect([...seen.get("choice")!].sort()).toEqual(["0", "1"]);
    expect(seen.get("clock")!.size).toBeGreaterThan(3);
    // Counts, colours and superlatives (whose short answer names the chosen object) go round too, with varied answers.
    expect(seen.get("count")!.size).toBeGreaterThan(2);
    expect(seen.get("color")!.size).toBeGreaterThan(2);
    expect(seen.get("superlative")!.size).toBeGreaterThan(5);
  });

  it("name a superlative's chosen object as the record's choice, and say counts and colours in one word", () => {
    let superlatives = 0;
    for (let seed = 5110; seed < 5114; seed++) {
      const truth = simSample(seed, { noise: "none", masks: "gt", width: 160, height: 120 }).truth;
      const { records } = sceneVqaRecords(truth, { seed, split: "train", image: "images/x.png", idPrefix: "x", perType: 2 });
      for (const r of records) {
        const category = questionType(r.question_type).category;
        if (category === "superlative") {
          const chosen = truth.objects.find((o) => o.id === r.answer.choice)!;
          expect(r.short_answer).toBe(chosen.color ? `${chosen.color} ${chosen.kind}` : chosen.kind);
          superlatives++;
        }
        if (category === "count") expect(r.short_answer).toMatch(/^\d+$/);
        if (category === "color") expect(r.short_answer).toMatch(/^[a-z]+$/);
      }
    }
    expect(superlatives).toBeGreaterThan(20);
  });
});
