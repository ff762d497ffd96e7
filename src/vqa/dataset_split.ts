import { InvalidInputError } from "../errors.js";

export type Split = "train" | "val" | "test";
export const SPLITS: readonly Split[] = ["train", "val", "test"];

/**
 * The split of a scene is a function of its seed alone, by range: train [0, 1e9), val
 * [1e9, 2e9), test [2e9, 2^32). So two exports never disagree about a seed, and an evaluation
 * run from a seed ≥ 2,000,000,000 (e.g. `eval --seed 2000000000`) sees only scenes that no
 * export ever labelled train or val.
 */
export const SPLIT_SEED_SPAN = 1_000_000_000;
export const SPLIT_SEED_BASE: Readonly<Record<Split, number>> = { train: 0, val: SPLIT_SEED_SPAN, test: 2 * SPLIT_SEED_SPAN };
const SEED_LIMIT = 2 ** 32;

export const SPLIT_RULE =
  "by scene seed: train [0, 1e9), val [1e9, 2e9), test [2e9, 2^32); an export of N scenes from --seed S " +
  "takes k = N ≥ 3 ? max(1, round(N/10)) : 0 scenes each for val and test and N − 2k for train, " +
  "with seeds base(split) + S + i";

export function splitOfSeed(seed: number): Split {
  if (!Number.isInteger(seed) || seed < 0 || seed >= SEED_LIMIT) {
    throw new InvalidInputError("bad_argument", `a scene seed must be an integer in [0, 2^32), got ${seed}`);
  }
  return seed < SPLIT_SEED_BASE.val ? "train" : seed < SPLIT_SEED_BASE.test ? "val" : "test";
}

/** How many of `n` items go to each split: a tenth each to val and test (at least one from 3 items on). */
export function splitCounts(n: number): Record<Split, number> {
  if (!Number.isSafeInteger(n) || n < 0) throw new InvalidInputError("bad_argument", `a count must be a non-negative integer, got ${n}`);
  const k = n >= 3 ? Math.max(1, Math.round(n / 10)) : 0;
  return { train: n - 2 * k, val: k, test: k };
}

export interface PlannedSeed {
  seed: number;
  split: Split;
}

/** The largest first seed for `n` items: every split's seeds must stay inside its range. */
export function maxFirstSeed(n: number): number {
  return SPLIT_SEED_SPAN - Math.max(1, splitCounts(n).train);
}

/** The seeds of `n` items from `first`: train first, then val, then test, each split from its own range. */
export function planSeeds(first: number, n: number): PlannedSeed[] {
  const counts = splitCounts(n);
  if (!Number.isSafeInteger(first) || first < 0 || first > maxFirstSeed(n)) {
    throw new InvalidInputError("bad_argument", `the first seed must be an integer in [0, ${maxFirstSeed(n)}] for ${n} items, got ${first}`);
  }
  const out: PlannedSeed[] = [];
  for (const split of SPLITS) for (let i = 0; i < counts[split]; i++) out.push({ seed: SPLIT_SEED_BASE[split] + first + i, split });
  return out;
}
