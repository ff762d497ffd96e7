import { afterEach, describe, expect, it, vi } from "vitest";
import { InvalidInputError, isSpatialRewardError } from "../../src/errors.js";
import { ByteBudgetLru } from "../../src/spatial/byte_budget_lru.js";
import {
  answerQuestion, clearQuestionCache, MAX_QUESTION_LENGTH, parseQuestion, QUESTION_CACHE_BUDGET_BYTES,
  QUESTION_CACHE_ENTRIES, questionCacheStats, tryParseQuestion,
} from "../../src/spatial/index.js";
import { tabletop } from "./scene_fixtures.js";

function thrown(f: () => unknown): unknown {
  try {
    f();
  } catch (e) {
    return e;
  }
  return undefined;
}

describe("question length bound", () => {
  afterEach(() => vi.restoreAllMocks());

  it("accepts a question of exactly MAX_QUESTION_LENGTH and refuses one character more", () => {
    const base = "How tall is the bottle?";
    const atLimit = base.slice(0, -1) + " ".repeat(MAX_QUESTION_LENGTH - base.length) + "?";
    expect(atLimit.length).toBe(MAX_QUESTION_LENGTH);
    expect(answerQuestion(tabletop(), atLimit).status).toBe("ok");
    const e = thrown(() => answerQuestion(tabletop(), atLimit + " "));
    expect(e).toBeInstanceOf(InvalidInputError);
    expect(isSpatialRewardError(e) && e.code).toBe("input_too_long");
    expect((e as Error).message).toContain(String(MAX_QUESTION_LENGTH));
    for (const f of [() => parseQuestion(atLimit + " "), () => tryParseQuestion(atLimit + " ")]) {
      expect(isSpatialRewardError(thrown(f)) && (thrown(f) as InvalidInputError).code).toBe("input_too_long");
    }
  });

  it("refuses a 16 MB question before any normalisation and never caches it", () => {
    clearQuestionCache();
    const before = questionCacheStats();
    const lower = vi.spyOn(String.prototype, "toLowerCase");
    const huge = "how far is the red mug from the blue bowl ".repeat(400_000);
    const e = thrown(() => answerQuestion(tabletop(), huge));
    const calls = lower.mock.calls.length;
    vi.restoreAllMocks();
    expect(isSpatialRewardError(e) && e.code).toBe("input_too_long");
    expect(calls).toBe(0);
    expect(questionCacheStats()).toEqual(before);
    // The same question within the bound is cached: the check above could see a cache change.
    answerQuestion(tabletop(), huge.slice(0, MAX_QUESTION_LENGTH));
    expect(questionCacheStats().entries).toBe(before.entries + 1);
  });
});

describe("question-parse cache", () => {
  it("stays within its byte budget over thousands of distinct long questions", () => {
    clearQuestionCache();
    let maxBytes = 0;
    for (let i = 0; i < 3000; i++) {
      const q = `How tall is the ${"very ".repeat(190)}red mug number ${i}?`.slice(0, MAX_QUESTION_LENGTH);
      expect(q.length).toBeGreaterThan(950);
      tryParseQuestion(q);
      maxBytes = Math.max(maxBytes, questionCacheStats().bytes);
    }
    const s = questionCacheStats();
    expect(s.budgetBytes).toBe(QUESTION_CACHE_BUDGET_BYTES);
    expect(maxBytes).toBeLessThanOrEqual(QUESTION_CACHE_BUDGET_BYTES);
    // The byte budget, not the entry count, is what bounded it; and the cache is in use.
    expect(s.entries).toBeLessThan(QUESTION_CACHE_ENTRIES);
    expect(s.bytes).toBeGreaterThan(QUESTION_CACHE_BUDGET_BYTES / 2);
  });

  it("keeps recently used questions (LRU), so a hot question survives a stream of new ones", () => {
    clearQuestionCache();
    const hot = "How far is the red mug from the blue bowl?";
    tryParseQuestion(hot);
    for (let i = 0; i < 5 * QUESTION_CACHE_ENTRIES; i++) {
      tryParseQuestion(`How tall is the mug ${i}?`);
      if (i % 50 === 0) tryParseQuestion(hot);
    }
    const lower = vi.spyOn(String.prototype, "toLowerCase");
    expect(tryParseQuestion(hot)).toEqual({ type: "distance", slots: ["red mug", "blue bowl"] });
    const calls = lower.mock.calls.length;
    vi.restoreAllMocks();
    expect(calls).toBe(0); // answered from the cache: not normalised again
    expect(questionCacheStats().entries).toBeLessThanOrEqual(QUESTION_CACHE_ENTRIES);
  });
});

describe("ByteBudgetLru", () => {
  it("evicts least recently used entries to stay within both bounds", () => {
    const lru = new ByteBudgetLru<string, number>(3, 100);
    lru.set("a", 1, 40);
    lru.set("b", 2, 40);
    expect(lru.get("a")).toBe(1); // a is now the most recent
    lru.set("c", 3, 40); // 120 > 100: evicts b, the least recent
    expect([lru.has("a"), lru.has("b"), lru.has("c")]).toEqual([true, false, true]);
    expect(lru.bytes).toBe(80);
    lru.set("d", 4, 1);
    lru.set("e", 5, 1); // 4 entries > 3: evicts a
    expect([...["a", "c", "d", "e"].map((k) => lru.has(k))]).toEqual([false, true, true, true]);
    expect(lru.size).toBe(3);
    expect(lru.bytes).toBe(42);
  });

  it("does not store an entry larger than the whole budget, and replaces in place", () => {
    const lru = new ByteBudgetLru<string, string>(10, 100);
    lru.set("x", "small", 10);
    lru.set("big", "huge", 101);
    expect(lru.has("big")).toBe(false);
    expect(lru.has("x")).toBe(true);
    lru.set("x", "again", 30);
    expect([lru.size, lru.bytes, lru.get("x")]).toEqual([1, 30, "again"]);
    lru.set("x", "too big now", 1000);
    expect([lru.size, lru.bytes, lru.has("x")]).toEqual([0, 0, false]);
  });

  it("never exceeds its budget under random sizes", () => {
    const lru = new ByteBudgetLru<number, number>(64, 1000);
    let seed = 1;
    const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    for (let i = 0; i < 5000; i++) {
      lru.set(Math.floor(rand() * 200), i, Math.floor(rand() * 300));
      if (rand() < 0.3) lru.get(Math.floor(rand() * 200));
      expect(lru.bytes).toBeLessThanOrEqual(1000);
      expect(lru.size).toBeLessThanOrEqual(64);
    }
  });

  it("rejects nonsensical bounds", () => {
    expect(() => new ByteBudgetLru(0, 10)).toThrow(RangeError);
    expect(() => new ByteBudgetLru(10, Number.NaN)).toThrow(RangeError);
  });
});
