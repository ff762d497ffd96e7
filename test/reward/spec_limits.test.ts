import { describe, expect, it } from "vitest";
import { SpatialRewardError } from "../../src/errors.js";
import {
  MAX_REWARD_SPEC_DEPTH, MAX_REWARD_SPEC_LENGTH, MAX_REWARD_SPEC_TERMS, RewardSpecError, RewardTracker, formatRewardSpec,
  parseRewardExpression, parseRewardInstruction, parseRewardSpec, specResidual, validateRewardSpec, type RewardSpec,
} from "../../src/reward/index.js";
import { onTable, sceneOf } from "./reward_fixtures.js";

/** The error `f` throws, which must be a RewardSpecError with `code`. */
function rejection(f: () => unknown, code: "bad_reward_spec" | "input_too_long", mentions?: RegExp): RewardSpecError {
  let caught: unknown;
  try {
    f();
  } catch (e) {
    caught = e;
  }
  expect(caught, "should throw a RewardSpecError").toBeInstanceOf(RewardSpecError);
  const err = caught as RewardSpecError;
  expect(err.code).toBe(code);
  if (mentions) expect(err.message).toMatch(mentions);
  // A message a person reads: hostile input is quoted back cut short.
  expect(err.message.length).toBeLessThan(1500);
  return err;
}

/** `all(` nested `depth` levels deep around one leaf, as text. */
function nestedText(depth: number, op = "all"): string {
  return `${op}(`.repeat(depth - 1) + "near(mug, bowl)" + ")".repeat(depth - 1);
}

/** The same as an object, built without recursion. */
function nestedSpec(depth: number): RewardSpec {
  let s: RewardSpec = { op: "near", a: "mug", b: "bowl", threshold: 0.05 };
  for (let i = 1; i < depth; i++) s = { op: i % 2 ? "all" : "any", terms: [s] };
  return s;
}

const SCENE = sceneOf([onTable("1", "mug", "red", 0.5, 0, [0.08, 0.08, 0.1]), onTable("2", "bowl", "blue", 0.5, 0.3, [0.15, 0.15, 0.07])]);

describe("reward spec limits: nesting", () => {
  it(`accepts ${MAX_REWARD_SPEC_DEPTH} levels and refuses one more with bad_reward_spec, in text and in code`, () => {
    const ok = parseRewardSpec(nestedText(MAX_REWARD_SPEC_DEPTH));
    expect(parseRewardSpec(formatRewardSpec(ok))).toEqual(ok);
    expect(new RewardTracker(ok).update(SCENE).residual).toBeCloseTo(specResidual(ok, SCENE), 12);
    rejection(() => parseRewardSpec(nestedText(MAX_REWARD_SPEC_DEPTH + 1)), "bad_reward_spec", /nested deeper than 32/);
    rejection(() => parseRewardSpec(nestedText(MAX_REWARD_SPEC_DEPTH + 1, "any")), "bad_reward_spec", /nested deeper/);
    validateRewardSpec(nestedSpec(MAX_REWARD_SPEC_DEPTH));
    rejection(() => validateRewardSpec(nestedSpec(MAX_REWARD_SPEC_DEPTH + 1)), "bad_reward_spec", /nested deeper/);
  });

  it("all( nested 5000 deep is a typed error, never a RangeError (text too long, and as an object)", () => {
    rejection(() => parseRewardSpec(nestedText(5000)), "input_too_long", /at most 4096 characters/);
    rejection(() => parseRewardExpression(nestedText(5000)), "input_too_long");
    // Within the length limit, 800 levels: refused by depth before the parser recurses.
    rejection(() => parseRewardSpec(nestedText(800)), "bad_reward_spec", /nested deeper/);
    // Unbalanced: only openings.
    rejection(() => parseRewardSpec("all(".repeat(1000)), "bad_reward_spec");
    rejection(() => parseRewardSpec("all(".repeat(5000)), "input_too_long");
    // Every recursive function over specs is bounded by the same check.
    const deep = nestedSpec(100_000);
    rejection(() => validateRewardSpec(deep), "bad_reward_spec", /nested deeper/);
    rejection(() => formatRewardSpec(deep), "bad_reward_spec", /nested deeper/);
    rejection(() => new RewardTracker(deep), "bad_reward_spec", /nested deeper/);
    rejection(() => specResidual(deep, SCENE), "bad_reward_spec", /nested deeper/);
  });

  it("a spec object that contains itself is refused, not followed forever", () => {
    const cyclic = { op: "all", terms: [] as RewardSpec[] } as { op: "all"; terms: RewardSpec[] };
    cyclic.terms.push({ op: "lift", a: "mug", height: 0.1 }, cyclic);
    rejection(() => validateRewardSpec(cyclic), "bad_reward_spec", /contains itself/);
    rejection(() => formatRewardSpec(cyclic), "bad_reward_spec");
    rejection(() => new RewardTracker(cyclic), "bad_reward_spec");
    rejection(() => specResidual(cyclic, SCENE), "bad_reward_spec");
  });
});

describe("reward spec limits: size", () => {
  it(`bounds the text at ${MAX_REWARD_SPEC_LENGTH} characters with input_too_long, for both forms`, () => {
    const padded = "near(red mug, blue bowl, 0.05)".padEnd(MAX_REWARD_SPEC_LENGTH, " ");
    expect(parseRewardSpec(padded)).toEqual({ op: "near", a: "red mug", b: "blue bowl", threshold: 0.05 });
    rejection(() => parseRewardSpec(`${padded} `), "input_too_long", /at most 4096 characters long, got 4097/);
    const sentence = "put the red mug next to the blue bowl".padEnd(MAX_REWARD_SPEC_LENGTH + 1, " ");
    rejection(() => parseRewardSpec(sentence), "input_too_long");
    rejection(() => parseRewardInstruction(sentence), "input_too_long");
    rejection(() => parseRewardSpec("x".repeat(1_000_000)), "input_too_long");
  });

  it(`bounds the number of terms at ${MAX_REWARD_SPEC_TERMS}`, () => {
    const leaves = (n: number) => Array.from({ length: n }, (_, i) => `lift(m${i})`).join(",");
    const ok = parseRewardSpec(`all(${leaves(MAX_REWARD_SPEC_TERMS - 1)})`);
    expect(ok).toMatchObject({ op: "all" });
    rejection(() => parseRewardSpec(`all(${leaves(MAX_REWARD_SPEC_TERMS)})`), "bad_reward_spec", /more than 128 terms/);
    const many = { op: "any", terms: Array.from({ length: 100_000 }, () => ({ op: "lift", a: "m", height: 0.1 })) } as RewardSpec;
    rejection(() => validateRewardSpec(many), "bad_reward_spec", /more than 128 terms/);
    rejection(() => new RewardTracker(many), "bad_reward_spec");
    // Clauses of an instruction count too.
    rejection(() => parseRewardSpec("put a on b and ".repeat(200)), "bad_reward_spec", /clauses/);
    expect(parseRewardSpec("put a on b and ".repeat(20) + "lift c")).toMatchObject({ op: "all" });
  });

  it("a valid spec's expression form always fits the text limit, so it always reads back", () => {
    // Defaults written out make the form longer than the text: "near(a,b)" → "near(a, b, 0.05)".
    const short = Array.from({ length: 127 }, () => "near(aaaaaaaaaa,bbbbbbbbbb)").join(",");
    const text = `all(${short})`;
    expect(text.length).toBeLessThanOrEqual(MAX_REWARD_SPEC_LENGTH);
    rejection(() => parseRewardSpec(text), "input_too_long", /expression form would be \d+ characters/);
    const phrase = "m".repeat(5000);
    rejection(() => validateRewardSpec({ op: "lift", a: phrase, height: 0.1 }), "input_too_long");
  });
});

describe("reward spec limits: hostile values", () => {
  it("numbers that are not lengths are bad_reward_spec; -0 reads as 0", () => {
    rejection(() => parseRewardSpec("near(a, b, 1e999)"), "bad_reward_spec", /threshold must be a finite length/);
    rejection(() => parseRewardSpec("distance(a, b, NaN)"), "bad_reward_spec", /goal must be a length/);
    rejection(() => parseRewardSpec("distance(a, b, Infinity)"), "bad_reward_spec");
    rejection(() => parseRewardSpec("near(a, b, -0.01)"), "bad_reward_spec", /≥ 0/);
    rejection(() => parseRewardSpec("lift(a, 1e-400)"), "bad_reward_spec", /> 0/);
    rejection(() => parseRewardSpec("near(a, b, 0x10)"), "bad_reward_spec");
    const zero = parseRewardSpec("near(a, b, -0)");
    expect(Object.is((zero as { threshold: number }).threshold, 0)).toBe(true);
    expect(parseRewardSpec(formatRewardSpec(zero))).toEqual(zero);
    rejection(() => parseRewardSpec(`put the mug ${"9".repeat(400)} m from the bowl`), "bad_reward_spec");
  });

  it("values of any type in a spec object are bad_reward_spec, never a TypeError", () => {
    const hostile: unknown[] = [
      { op: "near", a: 1n, b: "bowl", threshold: 0.1 },
      { op: "near", a: Symbol("mug"), b: "bowl", threshold: 0.1 },
      { op: "near", a: "mug", b: "bowl", threshold: 10n },
      { op: "near", a: "mug", b: "bowl", threshold: Symbol("x") },
      { op: "relation", a: "mug", b: "bowl", relation: 5n },
      { op: 7n },
      { op: Symbol("all") },
      { op: "all", terms: [, { op: "lift", a: "mug", height: 0.1 }] },
      { op: "all", terms: [null] },
      { op: "any", terms: "near(a, b)" },
      { op: "all", terms: { length: 1, 0: { op: "lift", a: "mug", height: 0.1 } } },
      10n,
      Symbol("spec"),
      null,
      undefined,
      [],
      () => 0,
    ];
    for (const h of hostile) {
      for (const f of [() => validateRewardSpec(h as RewardSpec), () => formatRewardSpec(h as RewardSpec), () => new RewardTracker(h as RewardSpec), () => specResidual(h as RewardSpec, SCENE)]) {
        rejection(f, "bad_reward_spec");
      }
    }
    for (const h of [42, null, undefined, { text: "near(a, b)" }, 7n] as unknown[]) {
      rejection(() => parseRewardSpec(h as string), "bad_reward_spec", /must be text/);
      rejection(() => parseRewardExpression(h as string), "bad_reward_spec", /must be text/);
      rejection(() => parseRewardInstruction(h as string), "bad_reward_spec", /must be text/);
    }
  });

  it("errors quote hostile text cut short", () => {
    const e = rejection(() => parseRewardSpec(`near(${"x".repeat(4000)}`), "bad_reward_spec", /missing "\)"/);
    expect(e).toBeInstanceOf(SpatialRewardError);
    rejection(() => parseRewardSpec(`${"q".repeat(4000)}(a)`), "bad_reward_spec", /unknown op/);
    rejection(() => parseRewardSpec(`put the ${"very ".repeat(700)}red mug`), "bad_reward_spec", /could not understand/);
  });
});
