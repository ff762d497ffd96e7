import { describe, expect, it } from "vitest";
import { generateWorld, placeCamera, truthScene } from "../../sim/index.js";
import { mulberry32 } from "../../src/random/mulberry32.js";
import type { Scene } from "../../src/scene/scene_object.js";
import { answerQuestion } from "../../src/spatial/answer_question.js";
import { generateQuestions } from "../../src/spatial/question_generator.js";
import { questionType, QUESTION_TYPE_IDS } from "../../src/spatial/question_types.js";
import { sceneVqaRecords } from "../../src/vqa/vqa_records.js";

function truthOf(seed: number): Scene {
  const world = generateWorld(seed);
  return truthScene(world, placeCamera(world, seed, { width: 160, height: 120 }).camera, 0n);
}

describe("VQA records of a ground-truth scene", () => {
  it("are the engine's answers on the truth scene, one per generated question, in the LLaVA shape", () => {
    const seen = new Set<string>();
    for (let seed = 0; seed < 40 && seen.size < QUESTION_TYPE_IDS.length; seed++) {
      const truth = truthOf(seed);
      const out = sceneVqaRecords(truth, { seed, split: "val", image: "images/x.png", idPrefix: `s${seed}`, perType: 2 });
      // The same questions eval asks for this seed (same generator, same stream).
      const generated = generateQuestions(truth, mulberry32(seed ^ 0x5eed), { perType: 2 });
      expect(out.records.map((r) => r.conversations[0].value)).toEqual(generated.questions.map((q) => `<image>\n${q.text}`));
      expect(out.unanswered).toEqual({});
      expect(out.skipped).toEqual(generated.skipped);
      expect(new Set(out.records.map((r) => r.id)).size).toBe(out.records.length);
      for (const r of out.records) {
        seen.add(r.question_type);
        expect(Object.keys(r)).toEqual(["id", "image", "conversations", "question_type", "answer", "short_answer", "scene_seed", "split"]);
        expect([r.image, r.scene_seed, r.split]).toEqual(["images/x.png", seed, "val"]);
        const question = r.conversations[0].value.slice("<image>\n".length);
        const a = answerQuestion(truth, question, { seed });
        expect(r.conversations[1]).toEqual({ from: "gpt", value: a.text });
        expect(r.answer).toEqual({ status: "ok", value: a.value, unit: a.unit, boolean: a.boolean ?? null, choice: a.choice ?? null });
        const category = questionType(r.question_type).category;
        expect(r.answer.boolean === null).toBe(category !== "qualitative");
        // A superlative's answer names one object too (its id in choice).
        expect(r.answer.choice === null).toBe(category !== "choice" && category !== "superlative");
        if (category === "choice" || category === "superlative") expect(truth.objects.some((o) => o.id === r.answer.choice)).toBe(true);
      }
    }
    // Over some scenes every type of the engine shows up (elevation needs a stacked object).
    expect([...seen].sort()).toEqual([...QUESTION_TYPE_IDS].sort());
  });
});
