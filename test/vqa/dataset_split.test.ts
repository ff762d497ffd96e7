import { describe, expect, it } from "vitest";
import { maxFirstSeed, planSeeds, splitCounts, splitOfSeed, SPLIT_SEED_SPAN } from "../../src/vqa/dataset_split.js";

describe("dataset split by scene seed", () => {
  it("assigns ranges: train [0, 1e9), val [1e9, 2e9), test [2e9, 2^32)", () => {
    expect([0, SPLIT_SEED_SPAN - 1, SPLIT_SEED_SPAN, 2 * SPLIT_SEED_SPAN - 1, 2 * SPLIT_SEED_SPAN, 2 ** 32 - 1].map(splitOfSeed))
      .toEqual(["train", "train", "val", "val", "test", "test"]);
    for (const bad of [-1, 1.5, NaN, Infinity, 2 ** 32]) expect(() => splitOfSeed(bad)).toThrow(/seed/);
  });

  it("gives a tenth each to val and test, at least one from 3 items on", () => {
    expect(splitCounts(0)).toEqual({ train: 0, val: 0, test: 0 });
    expect(splitCounts(2)).toEqual({ train: 2, val: 0, test: 0 });
    expect(splitCounts(3)).toEqual({ train: 1, val: 1, test: 1 });
    expect(splitCounts(10)).toEqual({ train: 8, val: 1, test: 1 });
    expect(splitCounts(200)).toEqual({ train: 160, val: 20, test: 20 });
    for (let n = 0; n < 500; n++) {
      const c = splitCounts(n);
      expect(c.train + c.val + c.test).toBe(n);
      expect(c.train).toBeGreaterThanOrEqual(0);
    }
  });

  it("plans distinct seeds whose split is their range's, disjoint across splits, the same whatever the export", () => {
    for (const [first, n] of [[0, 200], [7, 3], [maxFirstSeed(1000), 1000], [123, 1]] as const) {
      const plan = planSeeds(first, n);
      expect(plan).toHaveLength(n);
      expect(new Set(plan.map((p) => p.seed)).size).toBe(n);
      for (const p of plan) expect(splitOfSeed(p.seed)).toBe(p.split);
      const bySplit = (s: string) => new Set(plan.filter((p) => p.split === s).map((p) => p.seed));
      const train = bySplit("train"), val = bySplit("val"), test = bySplit("test");
      for (const s of val) expect(train.has(s) || test.has(s)).toBe(false);
      for (const s of test) expect(train.has(s)).toBe(false);
    }
    // Overlapping exports agree on every shared seed.
    const a = new Map(planSeeds(0, 200).map((p) => [p.seed, p.split]));
    for (const p of planSeeds(100, 300)) if (a.has(p.seed)) expect(a.get(p.seed)).toBe(p.split);
  });

  it("refuses a first seed that would run a split past its range", () => {
    expect(() => planSeeds(maxFirstSeed(200) + 1, 200)).toThrow(/first seed/);
    expect(() => planSeeds(-1, 3)).toThrow(/first seed/);
    expect(() => planSeeds(0.5, 3)).toThrow(/first seed/);
    const last = planSeeds(maxFirstSeed(200), 200).filter((p) => p.split === "train").at(-1)!;
    expect(last.seed).toBe(SPLIT_SEED_SPAN - 1);
  });
});
