import { describe, expect, it } from "vitest";
import { cap, phraseAnswer } from "../../src/spatial/answer_phrasing.js";
import { QUESTION_TYPE_IDS } from "../../src/spatial/question_types.js";

/**
 * The answer sentence's capital (answer_phrasing.ts cap, on every answer of the per-frame
 * query path): what `s.charAt(0).toUpperCase() + s.slice(1)` gives, for every first character
 * (ASCII letters swapped directly, capitals returned as they are, anything else through
 * toUpperCase), so no answer text changes.
 */
const reference = (s: string): string => s.charAt(0).toUpperCase() + s.slice(1);

describe("answer capitalisation", () => {
  it("every first code unit 0..0x24F, astral and lone surrogates, one character and empty: the reference's string", () => {
    const starts: string[] = [];
    for (let c = 0; c <= 0x24f; c++) starts.push(String.fromCharCode(c));
    starts.push("\u{1D4B6}", "\uD835", "\uDCB6", "ß", "ǆ", "ŉ", "ΐ", "ﬀ");
    for (const first of starts) {
      for (const rest of ["", "he red mug is left of the blue cup.", " 12 cm"]) {
        const s = first + rest;
        expect(cap(s), JSON.stringify(s)).toBe(reference(s));
      }
    }
    expect(cap("")).toBe("");
  });

  it("sentences built from template pieces (ropes) come out capitalised like the reference, for every question type and phrasing", () => {
    let n = 0;
    for (const type of QUESTION_TYPE_IDS) {
      for (let variant = 0; variant < 4; variant++) {
        for (const value of [0, 1, 0.234, 3]) {
          const names = ["the red mug", "élan vase", "the 3 cups"];
          const s = phraseAnswer(type, names, value, variant, undefined, "cup");
          expect(s.length).toBeGreaterThan(0);
          expect(s, `${type} ${variant} ${value}`).toBe(reference(s));
          n++;
        }
      }
    }
    expect(n).toBe(QUESTION_TYPE_IDS.length * 16);
  });
});
