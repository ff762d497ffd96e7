import { describe, expect, it } from "vitest";
import { isSpatialRewardError } from "../../src/errors.js";
import {
  normalizeQuestion, parseQuestion, QUESTION_TEMPLATES, QUESTION_TYPES, tryParseQuestion, UnparsedQuestionError,
  fillTemplate,
} from "../../src/spatial/index.js";

const NAMES = [
  ["the red mug", "red mug"],
  ["the blue bowl", "blue bowl"],
  ["the yellow soda can", "yellow soda can"],
] as const;

describe("question templates", () => {
  it("every type has at least 5 distinct phrasings", () => {
    for (const t of QUESTION_TYPES) {
      const normalized = new Set(QUESTION_TEMPLATES[t.id].map((q) => normalizeQuestion(q.replace(/\{[ABC]\}/g, "X"))));
      expect(normalized.size, t.id).toBeGreaterThanOrEqual(5);
    }
  });

  it("no phrasing is shared between two types", () => {
    const owner = new Map<string, string>();
    for (const t of QUESTION_TYPES) {
      for (const q of QUESTION_TEMPLATES[t.id]) {
        const key = normalizeQuestion(q.replace(/\{[ABC]\}/g, "X"));
        if (owner.has(key) && owner.get(key) !== t.id) throw new Error(`"${q}" used by ${owner.get(key)} and ${t.id}`);
        owner.set(key, t.id);
      }
    }
  });

  it("uses exactly the slots of the type's arity", () => {
    for (const t of QUESTION_TYPES) {
      for (const q of QUESTION_TEMPLATES[t.id]) {
        const slots = [...q.matchAll(/\{([ABC])\}/g)].map((m) => m[1]).sort();
        expect(slots, q).toEqual(["A", "B", "C"].slice(0, t.arity));
      }
    }
  });
});

describe("parseQuestion", () => {
  it("parses every phrasing of every type back to its type and slots", () => {
    for (const t of QUESTION_TYPES) {
      for (const q of QUESTION_TEMPLATES[t.id]) {
        const text = fillTemplate(q, NAMES.slice(0, t.arity).map((n) => n[0]));
        const parsed = parseQuestion(text);
        expect({ q: text, ...parsed }).toEqual({ q: text, type: t.id, slots: NAMES.slice(0, t.arity).map((n) => n[1]) });
      }
    }
  });

  it("accepts what people type: no question mark, no 'the', caps, fillers, units", () => {
    const cases: [string, string, string[], string?][] = [
      ["how far is red mug from blue bowl", "distance", ["red mug", "blue bowl"]],
      ["HOW FAR IS THE RED MUG FROM THE BLUE BOWL???", "distance", ["red mug", "blue bowl"]],
      ["  how   far apart are the mug and  the bowl pls", "distance", ["mug", "bowl"]],
      ["Please, what's the distance between the mug and the bowl in centimeters?", "distance", ["mug", "bowl"], "cm"],
      ["Can you tell me how tall is the bottle?", "height", ["bottle"]],
      ["the distance between the mug and the bowl?", "distance", ["mug", "bowl"]],
      ["Which one is taller: the mug or the bowl", "which_taller", ["mug", "bowl"]],
      ["Which is closer, the mug or the bowl?", "which_closer", ["mug", "bowl"]],
      ["Which is closer to the plate, the mug or the bowl?", "which_closer_to", ["mug", "bowl", "plate"]],
      ["Which is closer to the camera, the mug or the bowl?", "which_closer", ["mug", "bowl"]],
      ["How far is the mug from the camera?", "distance_from_camera", ["mug"]],
      ["How far is the mug from the bowl horizontally?", "horizontal_distance", ["mug", "bowl"]],
      ["Where is the mug relative to the bowl in o clock terms", "clock_direction", ["mug", "bowl"]],
      ["is mug#2 left of bowl#1", "left_of", ["mug#2", "bowl#1"]],
      ["How far is the grey mug from the violet bowl?", "distance", ["grey mug", "violet bowl"]],
      ["Which one is bigger - the mug or the bowl?", "which_bigger", ["mug", "bowl"]],
      ["which   one is  bigger the mug or the bowl", "which_bigger", ["mug", "bowl"]],
      ["At which o   clock is the mug relative to the bowl", "clock_direction", ["mug", "bowl"]],
      ["Could you please tell me the distance between the mug and the bowl?", "distance", ["mug", "bowl"]],
      ["Hey, how tall is the bottle?", "height", ["bottle"]],
      ["how far is the mug away from the bowl", "distance", ["mug", "bowl"]],
      ["Is the mug or the bowl closer to the plate", "which_closer_to", ["mug", "bowl", "plate"]],
    ];
    for (const [text, type, slots, unit] of cases) {
      expect({ text, ...parseQuestion(text) }).toStrictEqual({ text, type, slots, ...(unit ? { unit } : {}) });
    }
  });

  it("keeps a kind containing a template word when nothing cleaner matches", () => {
    expect(parseQuestion("How tall is the left shoe?")).toEqual({ type: "height", slots: ["left shoe"] });
  });

  it("refuses rather than mis-splits questions it has no type for", () => {
    // "left or right?" is no yes/no type; a left_of parse with slot "mug to left or" would be wrong.
    expect(tryParseQuestion("is the mug to the left or right of the bowl?")).toBeNull();
    // Without the comma, C and A of "closer to C, A or B" cannot be told apart.
    expect(tryParseQuestion("which is closer to the plate the mug or the bowl")).toBeNull();
  });

  it("rejects nonsense with a typed error listing example questions", () => {
    expect(tryParseQuestion("what is the meaning of life, the universe and everything")).toBeNull();
    let err: unknown;
    try {
      parseQuestion("sing me a song");
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(UnparsedQuestionError);
    expect(isSpatialRewardError(err) && err.code).toBe("unparsed_question");
    expect((err as UnparsedQuestionError).examples.length).toBeGreaterThanOrEqual(3);
    expect((err as Error).message).toContain("How far is the red mug from the blue bowl?");
  });

  it("returns fresh slot arrays even for cached questions", () => {
    const a = parseQuestion("How tall is the mug?");
    a.slots[0] = "changed";
    expect(parseQuestion("How tall is the mug?").slots).toEqual(["mug"]);
  });
});
