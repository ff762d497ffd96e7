import { describe, expect, it } from "vitest";
import { answerQuestion } from "../../src/spatial/answer_question.js";
import { clearQuestionCache, parseQuestionOrReason, parseQuestionShared } from "../../src/spatial/question_parser.js";
import type { Scene, SceneObject } from "../../src/scene/scene_object.js";

/**
 * The per-frame query path reads the parse cache's own entry (parseQuestionShared: no copy per
 * question per frame); everyone else still gets a copy of their own (parseQuestionOrReason), so
 * nothing a caller does to its parse reaches the cache, and answering never changes it.
 */
function object(id: string, kind: string, color: string, x: number, y: number): SceneObject {
  return { id, kind, color, center: { x, y, z: 0.05 }, size: { x: 0.08, y: 0.08, z: 0.1 }, confidence: 1, numPoints: 500 };
}

describe("shared question parses", () => {
  it("a repeated question is the same cached entry (no copy), and its reason when not understood", () => {
    clearQuestionCache();
    const q = "Is the red mug to the left of the blue bowl?";
    const a = parseQuestionShared(q), b = parseQuestionShared(q);
    expect(a).toBe(b);
    expect(a).toEqual({ type: "left_of", slots: ["red mug", "blue bowl"] });
    const r = parseQuestionShared("what is the meaning of life");
    expect("reason" in r).toBe(true);
  });

  it("parseQuestionOrReason's copy is the caller's: changing it changes neither the cache nor later answers", () => {
    clearQuestionCache();
    const q = "Is the red mug to the left of the blue bowl?";
    const scene: Scene = { stamp: 0n, supportZ: 0, objects: [object("mug#1", "mug", "red", 1, 0.3), object("bowl#1", "bowl", "blue", 1, -0.2)] };
    const before = answerQuestion(scene, q);
    const copy = parseQuestionOrReason(q);
    if ("reason" in copy) throw new Error("not parsed");
    expect(copy).not.toBe(parseQuestionShared(q));
    copy.slots[0] = "green cup";
    copy.type = "right_of";
    expect(parseQuestionShared(q)).toEqual({ type: "left_of", slots: ["red mug", "blue bowl"] });
    for (let i = 0; i < 3; i++) expect(answerQuestion(scene, q)).toEqual(before);
    expect(before.status).toBe("ok");
    expect(before.boolean).toBe(true);
  });

  it("answering every kind of question (sets, superlatives, units, refusals) leaves the cached parses as they were", () => {
    clearQuestionCache();
    const scene: Scene = {
      stamp: 0n, supportZ: 0,
      objects: [object("mug#1", "mug", "red", 1, 0.3), object("mug#2", "mug", "blue", 1.2, 0), object("bowl#1", "bowl", "blue", 1, -0.2)],
    };
    const questions = [
      "How far is the red mug from the blue bowl in inches?", "How many mugs are there?", "Which mug is closest to the blue bowl?",
      "Which mug is the tallest?", "Is the mug left of the bowl?", "Is the red mug left of the red mug?", "Is the green cup left of the bowl?",
      "What color is the bowl?",
    ];
    const snapshot = questions.map((q) => JSON.stringify(parseQuestionShared(q)));
    const first = questions.map((q) => answerQuestion(scene, q));
    for (let rep = 0; rep < 2; rep++) {
      expect(questions.map((q) => answerQuestion(scene, q))).toEqual(first);
      expect(questions.map((q) => JSON.stringify(parseQuestionShared(q)))).toEqual(snapshot);
    }
  });
});
