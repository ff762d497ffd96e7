import { describe, expect, it } from "vitest";
import { isSpatialRewardError } from "../../src/errors.js";
import {
  EXAMPLE_REWARD_SPECS, MAX_REWARD_SPEC_LENGTH, RewardTracker, formatRewardSpec, parseRewardSpec, specResidual, type RewardSpec,
} from "../../src/reward/index.js";
import { onTable, rand, sceneOf } from "./reward_fixtures.js";

const SEEDS: readonly string[] = [
  ...EXAMPLE_REWARD_SPECS,
  "any(all(near(a, b, 0), lift(c, 1e-3)), relation(a, behind, c), relation(b, right_of, c))",
  "distance(red mug, blue bowl, 30cm, 5 mm)",
  "relation(mug#2, in front of, box)",
  "put the mug 20 cm from the bowl, then lift the apple 5 cm",
  "pick up the banana and put it on the plate",
  "please move the can to the right of the box thanks",
  "keep the cup within 3 cm of the plate",
];

/** Pieces a hostile or clumsy writer might splice in. */
const PIECES: readonly string[] = [
  "(", ")", ",", " ", "all(", "any(", "near(", "lift(", "))", "((", "1e999", "-1e999", "NaN", "Infinity", "-0", "-1", "0x10",
  "1e-400", "5e-324", "1.7976931348623157e308", ".", "..", "e", "cm", "mm", " m", "#", "and", "then", ", and then ", "it",
  "\u00e9", "\u4e2d", "\ud83d\ude00", "\ud800", "\u0000", "\u2028", "\u00a0", "\ufeff", "\t\n", "left_of", "on top of",
  "\"", "\\", "'", "`", "%s", "$", "__proto__", "constructor", "toString",
];

function mutate(text: string, r: () => number): string {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)];
  const at = () => Math.floor(r() * (text.length + 1));
  switch (Math.floor(r() * 10)) {
    case 0: {
      const i = at();
      return text.slice(0, i) + pick(PIECES) + text.slice(i);
    }
    case 1: {
      const i = at(), j = Math.min(text.length, i + 1 + Math.floor(r() * 8));
      return text.slice(0, i) + text.slice(j);
    }
    case 2: {
      const i = at(), j = Math.min(text.length, i + 1 + Math.floor(r() * 30));
      return text.slice(0, j) + text.slice(i, j).repeat(1 + Math.floor(r() * 200)) + text.slice(j);
    }
    case 3: {
      const k = 1 + Math.floor(r() * (r() < 0.2 ? 2000 : 40));
      return `${pick(["all(", "any("])}`.repeat(k) + text + ")".repeat(r() < 0.7 ? k : Math.floor(r() * k));
    }
    case 4:
      return text.replace(/\d+(\.\d+)?/, pick(["1e999", "NaN", "-1", "Infinity", "-0", "1e-400", "9".repeat(400), "0.07", "1e21"]));
    case 5:
      return text.slice(0, at());
    case 6: {
      const i = at();
      const c = String.fromCharCode(Math.floor(r() * 0x10000));
      return text.slice(0, i) + c + text.slice(i);
    }
    case 7:
      return `${text}, ${pick(SEEDS)}`;
    case 8:
      return text.toUpperCase();
    default:
      return text.replace(/[a-z]+/, pick(["", "nera", "ALL", "relation", "x".repeat(3000)]));
  }
}

const SCENE = sceneOf([
  onTable("1", "mug", "red", 0.5, 0, [0.08, 0.08, 0.1]),
  onTable("2", "bowl", "blue", 0.5, 0.3, [0.15, 0.15, 0.07]),
  onTable("3", "apple", "red", 0.3, -0.2, [0.07, 0.07, 0.07]),
]);

describe("reward spec fuzz", () => {
  it("4000 random and mutated texts: only SpatialRewardErrors, never another exception; valid ones round-trip exactly", () => {
    const r = rand(20240611);
    let valid = 0, rejected = 0, tooLong = 0;
    const codes = new Set<string>();
    for (let n = 0; n < 4000; n++) {
      let text = SEEDS[Math.floor(r() * SEEDS.length)];
      const rounds = 1 + Math.floor(r() * 4);
      for (let k = 0; k < rounds; k++) text = mutate(text, r);
      let spec: RewardSpec;
      try {
        spec = parseRewardSpec(text);
      } catch (e) {
        if (!isSpatialRewardError(e)) throw new Error(`parseRewardSpec(${JSON.stringify(text.slice(0, 200))}) threw ${String(e)}`);
        codes.add(e.code);
        if (e.code === "input_too_long") tooLong++;
        rejected++;
        continue;
      }
      valid++;
      const f = formatRewardSpec(spec);
      expect(f.length).toBeLessThanOrEqual(MAX_REWARD_SPEC_LENGTH);
      expect(parseRewardSpec(f), f).toEqual(spec);
      expect(formatRewardSpec(parseRewardSpec(f))).toBe(f);
      // Whatever parsed can be used: the tracker and the residual fail only with typed errors
      // (here mostly: a phrase the scene does not hold).
      for (const use of [() => new RewardTracker(spec).update(SCENE), () => specResidual(spec, SCENE)]) {
        try {
          use();
        } catch (e) {
          if (!isSpatialRewardError(e)) throw new Error(`using ${f} threw ${String(e)}`);
        }
      }
    }
    // The fuzz reached both sides and the limits.
    expect(valid).toBeGreaterThan(300);
    expect(rejected).toBeGreaterThan(1000);
    expect(tooLong).toBeGreaterThan(10);
    expect([...codes].sort()).toEqual(["bad_reward_spec", "input_too_long"]);
  });

  it("random strings over the grammar's alphabet: typed errors only", () => {
    const r = rand(99);
    const alphabet = "allnyiftdsrcmbo(),. -+e0123456789_#\u00e9\u4e2d";
    for (let n = 0; n < 3000; n++) {
      const len = Math.floor(r() * (r() < 0.05 ? 6000 : 80));
      let text = "";
      for (let i = 0; i < len; i++) text += alphabet[Math.floor(r() * alphabet.length)];
      if (r() < 0.5) text = `${["near(", "all(", "any(", "lift(", "distance(", "relation("][Math.floor(r() * 6)]}${text}`;
      try {
        const spec = parseRewardSpec(text);
        expect(parseRewardSpec(formatRewardSpec(spec))).toEqual(spec);
      } catch (e) {
        if (!isSpatialRewardError(e)) throw new Error(`parseRewardSpec(${JSON.stringify(text.slice(0, 200))}) threw ${String(e)}`);
      }
    }
  });
});
