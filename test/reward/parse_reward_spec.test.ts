import { describe, expect, it } from "vitest";
import { InvalidInputError } from "../../src/errors.js";
import {
  EXAMPLE_REWARD_SPECS, RewardSpecError, formatRewardSpec, parseRewardSpec, validateRewardSpec, type RewardSpec,
} from "../../src/reward/index.js";
import { rand as rng } from "./reward_fixtures.js";

function expectBadSpec(text: string, mentions?: RegExp): RewardSpecError {
  let caught: unknown;
  try {
    parseRewardSpec(text);
  } catch (e) {
    caught = e;
  }
  expect(caught, `"${text}" should be rejected`).toBeInstanceOf(RewardSpecError);
  const err = caught as RewardSpecError;
  expect(err).toBeInstanceOf(InvalidInputError);
  expect(err.code).toBe("bad_reward_spec");
  if (mentions) expect(err.message).toMatch(mentions);
  return err;
}

describe("expression form", () => {
  it("parses every leaf op with explicit and default arguments", () => {
    expect(parseRewardSpec("near(red mug, blue bowl, 0.05)")).toEqual({ op: "near", a: "red mug", b: "blue bowl", threshold: 0.05 });
    expect(parseRewardSpec("near(red mug, blue bowl)")).toEqual({ op: "near", a: "red mug", b: "blue bowl", threshold: 0.05 });
    expect(parseRewardSpec("distance(red mug, blue bowl, 0.20, 0.02)")).toEqual({
      op: "distance", a: "red mug", b: "blue bowl", goal: 0.2, tolerance: 0.02,
    });
    expect(parseRewardSpec("distance(mug, bowl, 30cm)")).toEqual({ op: "distance", a: "mug", b: "bowl", goal: 0.3, tolerance: 0.02 });
    expect(parseRewardSpec("relation(red mug, left_of, blue bowl)")).toEqual({
      op: "relation", a: "red mug", relation: "left_of", b: "blue bowl",
    });
    expect(parseRewardSpec("relation(mug, in front of, box)")).toMatchObject({ relation: "in_front_of" });
    expect(parseRewardSpec("lift(apple, 0.10)")).toEqual({ op: "lift", a: "apple", height: 0.1 });
    expect(parseRewardSpec("  LIFT ( apple , 150 mm ) ")).toEqual({ op: "lift", a: "apple", height: 0.15 });
  });

  it("parses nested all/any", () => {
    const s = parseRewardSpec("all(lift(apple, 0.1), any(near(mug#2, bowl, 0.05), relation(mug#2, on_top_of, plate)))");
    expect(s).toEqual({
      op: "all",
      terms: [
        { op: "lift", a: "apple", height: 0.1 },
        {
          op: "any",
          terms: [
            { op: "near", a: "mug#2", b: "bowl", threshold: 0.05 },
            { op: "relation", a: "mug#2", relation: "on_top_of", b: "plate" },
          ],
        },
      ],
    });
  });

  it("round trips: parse(format(s)) equals s, and format is a fixed point", () => {
    const texts = EXAMPLE_REWARD_SPECS.concat([
      "distance(red mug, blue bowl, 0.123456789, 0.001)",
      "any(all(near(a, b, 0), lift(c, 1e-3)), relation(a, behind, c), relation(b, right_of, c))",
    ]);
    for (const t of texts) {
      const s = parseRewardSpec(t);
      const f = formatRewardSpec(s);
      expect(parseRewardSpec(f), f).toEqual(s);
      expect(formatRewardSpec(parseRewardSpec(f))).toBe(f);
    }
  });

  it("round trips randomly generated specs exactly, numbers included", () => {
    const r = rng(7);
    const names = ["red mug", "blue bowl", "apple", "mug#2", "green cup", "plate"];
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)];
    const gen = (depth: number): RewardSpec => {
      const k = Math.floor(r() * (depth > 2 ? 4 : 6));
      const a = pick(names);
      const b = pick(names);
      switch (k) {
        case 0: return { op: "near", a, b, threshold: r() * 0.1 };
        case 1: return { op: "distance", a, b, goal: r(), tolerance: r() * 0.05 };
        case 2: return { op: "relation", a, relation: pick(["left_of", "right_of", "in_front_of", "behind", "on_top_of"] as const), b };
        case 3: return { op: "lift", a, height: 0.01 + r() * 0.3 };
        default: return { op: k === 4 ? "all" : "any", terms: [gen(depth + 1), gen(depth + 1), gen(depth + 1)].slice(0, 1 + Math.floor(r() * 3)) };
      }
    };
    for (let i = 0; i < 200; i++) {
      const s = gen(0);
      expect(parseRewardSpec(formatRewardSpec(s))).toEqual(s);
    }
  });

  it("rejects malformed expressions with bad_reward_spec and says what is wrong", () => {
    expectBadSpec("near(red mug, blue bowl", /missing "\)"/);
    expectBadSpec("nera(red mug, blue bowl)", /unknown op "nera"/);
    expectBadSpec("near(red mug)", /near takes 2 or 3 arguments, got 1/);
    expectBadSpec("near(red mug, blue bowl, 0.05, 1)", /got 4/);
    expectBadSpec("near(red mug, , 0.05)", /argument 2 is empty/);
    expectBadSpec("near(red mug, blue bowl, far)", /threshold must be a length/);
    expectBadSpec("distance(mug, bowl, 5 inches)", /goal must be a length/);
    expectBadSpec("lift(apple, -0.1)", /height must be a finite length > 0/);
    expectBadSpec("lift(apple, 0)", /height/);
    expectBadSpec("relation(mug, above, bowl)", /unknown relation "above".*left_of/);
    expectBadSpec("all()", /at least one term/);
    expectBadSpec("all(near(a, b) lift(c))", /expected "," or "\)"/);
    expectBadSpec("near(a, b) extra", /after the expression/);
    expectBadSpec("near(a, (b))", /unexpected "\("/);
    const e = expectBadSpec("all(near(a, b), nope(c))", /column 17/);
    expect(e.examples.length).toBeGreaterThan(3);
  });

  it("validates specs built in code, and format refuses what it could not round trip", () => {
    expect(() => validateRewardSpec({ op: "near", a: "mug", b: "bowl", threshold: NaN })).toThrow(RewardSpecError);
    expect(() => formatRewardSpec({ op: "near", a: "mug, red", b: "bowl", threshold: 0.05 })).toThrow(/may not contain/);
    expect(() => formatRewardSpec({ op: "any", terms: [] })).toThrow(/at least one term/);
    expect(() => validateRewardSpec({ op: "teleport", a: "mug" } as unknown as RewardSpec)).toThrow(/unknown op/);
  });
});

describe("instruction form", () => {
  const cases: [string, RewardSpec][] = [
    // near
    ["put the red mug next to the blue bowl", { op: "near", a: "red mug", b: "blue bowl", threshold: 0.05 }],
    ["Place the red mug beside the blue bowl.", { op: "near", a: "red mug", b: "blue bowl", threshold: 0.05 }],
    ["could you please move the red mug close to the blue bowl?", { op: "near", a: "red mug", b: "blue bowl", threshold: 0.05 }],
    ["put the mug within 3 cm of the bowl", { op: "near", a: "mug", b: "bowl", threshold: 0.03 }],
    // on top of
    ["place the apple on the plate", { op: "relation", a: "apple", relation: "on_top_of", b: "plate" }],
    ["put the apple on top of the plate", { op: "relation", a: "apple", relation: "on_top_of", b: "plate" }],
    ["stack the red cube onto the blue cube", { op: "relation", a: "red cube", relation: "on_top_of", b: "blue cube" }],
    ["set the mug down on the book", { op: "relation", a: "mug", relation: "on_top_of", b: "book" }],
    // left / right / front / behind
    ["move the can to the left of the box", { op: "relation", a: "can", relation: "left_of", b: "box" }],
    ["put the can on the left side of the box", { op: "relation", a: "can", relation: "left_of", b: "box" }],
    ["slide the can left of the box", { op: "relation", a: "can", relation: "left_of", b: "box" }],
    ["move the can to the right of the box", { op: "relation", a: "can", relation: "right_of", b: "box" }],
    ["push the can in front of the box", { op: "relation", a: "can", relation: "in_front_of", b: "box" }],
    ["put the can behind the box", { op: "relation", a: "can", relation: "behind", b: "box" }],
    ["place the can in back of the box", { op: "relation", a: "can", relation: "behind", b: "box" }],
    // distance
    ["put the mug 20 cm from the bowl", { op: "distance", a: "mug", b: "bowl", goal: 0.2, tolerance: 0.02 }],
    ["place the mug 0.2 m away from the bowl", { op: "distance", a: "mug", b: "bowl", goal: 0.2, tolerance: 0.02 }],
    ["move the mug so it is twenty centimetres from the bowl", { op: "distance", a: "mug", b: "bowl", goal: 0.2, tolerance: 0.02 }],
    ["keep the mug at 150mm from the bowl", { op: "distance", a: "mug", b: "bowl", goal: 0.15, tolerance: 0.02 }],
    // lift
    ["lift the apple 10 cm", { op: "lift", a: "apple", height: 0.1 }],
    ["raise the apple by 15 cm off the table", { op: "lift", a: "apple", height: 0.15 }],
    ["hold the apple 5 cm above the table", { op: "lift", a: "apple", height: 0.05 }],
    ["pick up the banana", { op: "lift", a: "banana", height: 0.1 }],
    ["pick the banana up", { op: "lift", a: "banana", height: 0.1 }],
    ["lift the yellow banana", { op: "lift", a: "yellow banana", height: 0.1 }],
    ["lift the apple 10 cm from the table", { op: "lift", a: "apple", height: 0.1 }],
    // A lift verb with a placement is the placement.
    ["hold the mug next to the bowl", { op: "near", a: "mug", b: "bowl", threshold: 0.05 }],
    ["lift the apple onto the plate", { op: "relation", a: "apple", relation: "on_top_of", b: "plate" }],
  ];
  for (const [text, spec] of cases) {
    it(`"${text}"`, () => {
      const s = parseRewardSpec(text);
      expect(s).toEqual(spec);
      expect(parseRewardSpec(formatRewardSpec(s))).toEqual(s);
    });
  }

  it("joins clauses with and / then / commas into all, with pronouns", () => {
    expect(parseRewardSpec("put the mug next to the bowl and the apple on the plate")).toEqual({
      op: "all",
      terms: [
        { op: "near", a: "mug", b: "bowl", threshold: 0.05 },
        { op: "relation", a: "apple", relation: "on_top_of", b: "plate" },
      ],
    });
    expect(parseRewardSpec("lift the apple 5 cm, then put the mug behind the box")).toEqual({
      op: "all",
      terms: [
        { op: "lift", a: "apple", height: 0.05 },
        { op: "relation", a: "mug", relation: "behind", b: "box" },
      ],
    });
    expect(parseRewardSpec("put the mug on the plate and lift it 10 cm")).toEqual({
      op: "all",
      terms: [
        { op: "relation", a: "mug", relation: "on_top_of", b: "plate" },
        { op: "lift", a: "mug", height: 0.1 },
      ],
    });
  });

  it("drops a height-less pick-up that is only the means of a later placement", () => {
    expect(parseRewardSpec("pick up the apple and put it on the plate")).toEqual({
      op: "relation", a: "apple", relation: "on_top_of", b: "plate",
    });
    // A pick-up of another object, or one with a height, is a goal of its own.
    expect(parseRewardSpec("pick up the apple and put the mug on the plate")).toMatchObject({ op: "all" });
    expect(parseRewardSpec("lift the apple 10 cm and put it next to the bowl")).toMatchObject({ op: "all" });
  });

  it("rejects what it cannot understand, listing examples", () => {
    const e = expectBadSpec("make me a sandwich", /could not understand "make me a sandwich"/);
    expect(e.message).toContain("put the red mug next to the blue bowl");
    expectBadSpec("", /empty/);
    expectBadSpec("put it on the plate", /refers to nothing/);
    expectBadSpec("put the mug between the bowl and the plate", /could not understand/);
    // An offset the grammar cannot express is refused rather than silently dropped.
    expectBadSpec("put the mug 20 cm to the left of the bowl", /length/);
    expectBadSpec("put the mug 20 from the bowl", /could not understand/);
  });
});
