import { afterEach, describe, expect, it, vi } from "vitest";
import { ObjectReferenceError } from "../../src/errors.js";
import {
  answerQuestion, clearPhraseCache, clearQuestionCache, parseObjectPhrase, PHRASE_CACHE_BUDGET_BYTES, PHRASE_CACHE_ENTRIES,
  phraseCacheStats, resolveObject, resolveSet,
} from "../../src/spatial/index.js";
import { tabletop } from "./scene_fixtures.js";

afterEach(() => vi.restoreAllMocks());

describe("object-phrase cache", () => {
  it("parses a repeated phrase once: a second resolve does no string work", () => {
    clearPhraseCache();
    const s = tabletop();
    const lower = vi.spyOn(String.prototype, "toLowerCase");
    expect(resolveObject(s.objects, "the Green mug").id).toBe("mug#2");
    const first = lower.mock.calls.length;
    expect(resolveObject(s.objects, "the Green mug").id).toBe("mug#2");
    expect(resolveSet(s.objects, "the Green mug").map((o) => o.id)).toEqual(["mug#2"]);
    expect(first).toBeGreaterThan(0);
    expect(lower.mock.calls.length).toBe(first);
    expect(phraseCacheStats().entries).toBe(1);
  });

  it("answers every question as without it, frame after frame", () => {
    const s = tabletop();
    const questions = [
      "How far is the red mug from the blue bowl?", "Is the green mug left of the bowl?", "Which is taller, the bottle or the book?",
      "How many mugs are there?", "Which mug is closest to the bowl?", "What colour is the apple?", "Is the teapot left of the bowl?",
      "How tall is the mug?", "How far is mug#1 from  bowl#1 ?",
    ];
    const fresh = questions.map((q) => {
      clearPhraseCache();
      clearQuestionCache();
      return answerQuestion(s, q);
    });
    for (let frame = 0; frame < 3; frame++) expect(questions.map((q) => answerQuestion(s, q))).toEqual(fresh);
    expect(fresh.map((a) => a.status)).toEqual(["ok", "ok", "ok", "ok", "ok", "ok", "unknown_object", "ambiguous_object", "ok"]);
  });

  it("shares frozen entries, while parseObjectPhrase still hands out objects of the caller's own", () => {
    clearPhraseCache();
    const s = tabletop();
    resolveObject(s.objects, "red apple");
    const mine = parseObjectPhrase("red apple");
    mine.kind = "mug";
    expect(resolveObject(s.objects, "red apple").id).toBe("apple#1");
    expect(() => resolveObject(s.objects, "red")).toThrow(ObjectReferenceError);
    expect(() => resolveObject(s.objects, "red")).toThrow(/ambiguous/);
  });

  it("matches track ids on the trimmed phrase, as before", () => {
    clearPhraseCache();
    const s = tabletop();
    expect(resolveObject(s.objects, "  bowl#1 ").id).toBe("bowl#1");
    expect(resolveSet(s.objects, " mug#2", s.objects[1])).toEqual([]);
    expect(resolveSet(s.objects, "mug#2 ").map((o) => o.id)).toEqual(["mug#2"]);
  });

  it("stays within its entry count and byte budget over thousands of distinct phrases", () => {
    clearPhraseCache();
    const s = tabletop();
    let maxBytes = 0, maxEntries = 0;
    for (let i = 0; i < 3000; i++) {
      const phrase = i % 2 === 0 ? `red mug number ${i}` : `${"very ".repeat(180)}red mug ${i}`;
      expect(() => resolveObject(s.objects, phrase)).toThrow(ObjectReferenceError);
      maxBytes = Math.max(maxBytes, phraseCacheStats().bytes);
      maxEntries = Math.max(maxEntries, phraseCacheStats().entries);
    }
    expect(maxBytes).toBeLessThanOrEqual(PHRASE_CACHE_BUDGET_BYTES);
    expect(maxEntries).toBeLessThanOrEqual(PHRASE_CACHE_ENTRIES);
    expect(phraseCacheStats().bytes).toBeGreaterThan(PHRASE_CACHE_BUDGET_BYTES / 2);
    // A phrase larger than the whole budget is answered but not kept.
    const before = phraseCacheStats();
    const huge = "big ".repeat(PHRASE_CACHE_BUDGET_BYTES) + "mug";
    expect(() => resolveObject(s.objects, huge)).toThrow(ObjectReferenceError);
    expect(phraseCacheStats()).toEqual(before);
  });
});
