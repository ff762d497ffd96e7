import { describe, expect, it } from "vitest";
import {
  ON_TOP_CONTACT_TOLERANCE, distanceResidual, liftResidual, nearResidual, parseRewardSpec, relationResidual, specResidual,
  type Relation,
} from "../../src/reward/index.js";
import { boxGap } from "../../src/spatial/question_types.js";
import { TABLE_Z, box, onTable, rand, sceneOf } from "./reward_fixtures.js";

const S: [number, number, number] = [0.1, 0.1, 0.1];

describe("near", () => {
  it("touching boxes have gap 0 and satisfy near with threshold 0", () => {
    const a = onTable("a", "mug", "red", 0.5, 0.1, S);
    const b = onTable("b", "bowl", "blue", 0.5, 0.0, S);
    expect(boxGap(a, b)).toBe(0);
    expect(nearResidual(a, b, 0)).toBe(0);
  });
  it("measures the gap between closest points, not centres", () => {
    const a = onTable("a", "mug", "red", 0.5, 0.3, S);
    const b = onTable("b", "bowl", "blue", 0.5, 0.0, [0.1, 0.2, 0.1]);
    // b spans y ≤ 0.1, a spans y ≥ 0.25: gap 0.15.
    expect(nearResidual(a, b, 0)).toBeCloseTo(0.15, 12);
    expect(nearResidual(a, b, 0.05)).toBeCloseTo(0.1, 12);
    expect(nearResidual(a, b, 0.15 + 1e-9)).toBe(0);
    // Diagonal: 3 cm apart in x, 4 cm in y → 5 cm.
    const c = onTable("c", "can", "red", 0.5 + 0.13, 0.0 + 0.14, S);
    expect(nearResidual(c, onTable("d", "box", "", 0.5, 0, S), 0)).toBeCloseTo(0.05, 12);
  });
});

describe("distance", () => {
  it("is the excess of |d − goal| over the tolerance", () => {
    const a = onTable("a", "mug", "red", 0.5, 0.3, S);
    const b = onTable("b", "bowl", "blue", 0.5, 0.0, S);
    expect(distanceResidual(a, b, 0.2, 0.02)).toBeCloseTo(0.08, 12);
    expect(distanceResidual(a, b, 0.4, 0.02)).toBeCloseTo(0.08, 12);
    expect(distanceResidual(a, b, 0.31, 0.02)).toBe(0);
  });
});

describe("relations", () => {
  const b = onTable("b", "box", "brown", 0.6, 0.0, S);
  it("left_of needs A entirely on B's left", () => {
    expect(relationResidual(onTable("a", "can", "red", 0.6, 0.2, S), "left_of", b)).toBe(0);
    expect(relationResidual(onTable("a", "can", "red", 0.6, 0.1, S), "left_of", b)).toBe(0); // touching
    expect(relationResidual(onTable("a", "can", "red", 0.6, 0.08, S), "left_of", b)).toBeCloseTo(0.02, 12);
    // Centre on the left but still overlapping: not yet paid in full.
    expect(relationResidual(onTable("a", "can", "red", 0.6, 0.01, S), "left_of", b)).toBeCloseTo(0.09, 12);
    expect(relationResidual(onTable("a", "can", "red", 0.6, -0.3, S), "left_of", b)).toBeCloseTo(0.4, 12);
  });
  it("in_front_of is nearer the viewer (smaller x)", () => {
    expect(relationResidual(onTable("a", "can", "red", 0.4, 0, S), "in_front_of", b)).toBe(0);
    expect(relationResidual(onTable("a", "can", "red", 0.8, 0, S), "in_front_of", b)).toBeCloseTo(0.3, 12);
    expect(relationResidual(onTable("a", "can", "red", 0.8, 0, S), "behind", b)).toBe(0);
  });
  it("mirrored relations agree on random boxes", () => {
    const r = rand(3);
    const rb = (id: string) => box(id, "cube", "", [r(), r() - 0.5, r() - 0.5], [0.02 + r() * 0.2, 0.02 + r() * 0.2, 0.02 + r() * 0.2]);
    const mirror: [Relation, Relation][] = [["left_of", "right_of"], ["in_front_of", "behind"]];
    for (let i = 0; i < 500; i++) {
      const p = rb("p");
      const q = rb("q");
      for (const [rel, inv] of mirror) {
        const x = relationResidual(p, rel, q);
        expect(x).toBeGreaterThanOrEqual(0);
        expect(x).toBeCloseTo(relationResidual(q, inv, p), 12);
        // Satisfied both ways at once only when they touch exactly, which random boxes never do.
        expect(x === 0 && relationResidual(q, rel, p) === 0).toBe(false);
      }
    }
  });
  it("on_top_of: resting on B is 0, hovering or off the footprint is the distance still to go", () => {
    const plate = onTable("plate", "plate", "white", 0.6, 0.0, [0.2, 0.2, 0.02]);
    const top = TABLE_Z + 0.02;
    const apple = (x: number, y: number, bottom: number) => box("apple", "apple", "red", [x, y, bottom + 0.04], [0.08, 0.08, 0.08]);
    expect(relationResidual(apple(0.6, 0, top), "on_top_of", plate)).toBe(0);
    expect(relationResidual(apple(0.68, -0.09, top + 0.01), "on_top_of", plate)).toBe(0); // centre inside, within contact tolerance
    expect(relationResidual(apple(0.6, 0, top + 0.05), "on_top_of", plate)).toBeCloseTo(0.05 - ON_TOP_CONTACT_TOLERANCE, 12);
    // On the table beside the plate: 0.1 outside the footprint in y, bottom 2 cm below its top (within tolerance).
    expect(relationResidual(apple(0.6, 0.2, TABLE_Z), "on_top_of", plate)).toBeCloseTo(0.1, 12);
    // Under it (A's bottom far below B's top) is not on top, even inside the footprint.
    expect(relationResidual(apple(0.6, 0, TABLE_Z - 0.1), "on_top_of", plate)).toBeCloseTo(0.12 - ON_TOP_CONTACT_TOLERANCE, 12);
  });
});

describe("lift", () => {
  it("measures from supportZ, or from the lowest bottom when there is none", () => {
    const apple = onTable("apple", "apple", "red", 0.5, 0, [0.08, 0.08, 0.08], 0.05);
    expect(liftResidual(apple, 0.1, TABLE_Z)).toBeCloseTo(0.05, 12);
    // Exactly at the goal height: float rounding of the bottom must not leave a residual.
    expect(liftResidual(apple, 0.05, TABLE_Z)).toBe(0);
    expect(liftResidual(apple, 0.05 + 1e-6, TABLE_Z)).toBeCloseTo(1e-6, 12);
    const mug = onTable("mug", "mug", "red", 0.7, 0, S);
    const lift = parseRewardSpec("lift(apple, 0.1)");
    expect(specResidual(lift, sceneOf([apple, mug], TABLE_Z + 0.03))).toBeCloseTo(0.08, 12);
    expect(specResidual(lift, sceneOf([apple, mug], null))).toBeCloseTo(0.05, 12);
    // Alone and without a support plane there is no reference: the apple is its own floor.
    expect(specResidual(lift, sceneOf([apple], null))).toBeCloseTo(0.1, 12);
  });
});

describe("composition", () => {
  it("all sums, any takes the minimum", () => {
    const scene = sceneOf([
      onTable("mug#1", "mug", "red", 0.5, 0.3, S),
      onTable("bowl#1", "bowl", "blue", 0.5, 0.0, S),
      onTable("apple#1", "apple", "red", 0.8, -0.2, [0.08, 0.08, 0.08], 0.02),
    ]);
    const near = specResidual(parseRewardSpec("near(red mug, blue bowl, 0.05)"), scene);
    const lift = specResidual(parseRewardSpec("lift(apple, 0.1)"), scene);
    const left = specResidual(parseRewardSpec("relation(bowl, left_of, mug)"), scene);
    expect(near).toBeCloseTo(0.15, 12);
    expect(lift).toBeCloseTo(0.08, 12);
    expect(left).toBeCloseTo(0.4, 12); // bowl yMin −0.05 vs mug yMax 0.35
    expect(specResidual(parseRewardSpec("all(near(red mug, blue bowl, 0.05), lift(apple, 0.1), relation(bowl, left_of, mug))"), scene))
      .toBeCloseTo(near + lift + left, 12);
    expect(specResidual(parseRewardSpec("any(near(red mug, blue bowl, 0.05), lift(apple, 0.1), relation(bowl, left_of, mug))"), scene))
      .toBe(Math.min(near, lift, left));
    expect(specResidual(parseRewardSpec("any(relation(mug, left_of, bowl), lift(apple))"), scene)).toBe(0);
  });
});
