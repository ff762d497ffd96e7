import { describe, expect, it } from "vitest";
import { scoreAnswer, summarize } from "../../src/eval/spatial_scoring.js";
import { objectNameCode } from "../../src/spatial/object_name_code.js";

describe("scoring counts, colours and superlatives", () => {
  it("is exact: the same number, the same colour, the same object (by name code)", () => {
    expect(scoreAnswer("count", "count", 3, 3).correct).toBe(true);
    expect(scoreAnswer("count", "count", 3, 4).correct).toBe(false);
    expect(scoreAnswer("count", "count", 0, 0).correct).toBe(true);
    expect(scoreAnswer("color", "color", 2, 2).correct).toBe(true);
    expect(scoreAnswer("color", "color", 2, 3).correct).toBe(false);
    expect(scoreAnswer("tallest", "superlative", objectNameCode("red cup"), objectNameCode("red cup")).correct).toBe(true);
    expect(scoreAnswer("tallest", "superlative", objectNameCode("red cup"), objectNameCode("blue cup")).correct).toBe(false);
    // No answer (a refusal) is wrong, never right by accident.
    expect(scoreAnswer("count", "count", 0, NaN).correct).toBe(false);
  });

  it("keeps them out of the qualitative figure (yes/no, which-one, clock, as before) and reports them by category and type", () => {
    const scored = [
      scoreAnswer("left_of", "qualitative", 1, 1),
      scoreAnswer("which_left", "choice", 0, 1),
      scoreAnswer("clock_direction", "clock", 3, 3),
      scoreAnswer("count", "count", 2, 5),
      scoreAnswer("color", "color", 1, 1),
      scoreAnswer("tallest", "superlative", 7, 8),
      scoreAnswer("height", "quantitative", 0.1, 0.105),
    ];
    const s = summarize(scored);
    expect([s.n_questions, s.n_qualitative, s.n_quantitative]).toEqual([7, 3, 1]);
    expect(s.qualitative_accuracy).toBeCloseTo(2 / 3, 4);
    expect(s.by_category.count).toEqual({ n: 1, accuracy: 0 });
    expect(s.by_category.color).toEqual({ n: 1, accuracy: 1 });
    expect(s.by_category.superlative).toEqual({ n: 1, accuracy: 0 });
    expect(s.by_type.tallest).toMatchObject({ n: 1, category: "superlative", accuracy: 0, median_relative_error: null });
  });
});
