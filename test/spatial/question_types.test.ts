import { describe, expect, it } from "vitest";
import { QUESTION_TYPE_IDS, QUESTION_TYPES, questionType, type QuestionTypeId } from "../../src/spatial/index.js";
import type { SceneObject } from "../../src/scene/scene_object.js";
import { obj, resting } from "./scene_fixtures.js";

const truth = (id: QuestionTypeId, objects: SceneObject[], supportZ: number | null = -0.4) =>
  questionType(id).truth(objects, supportZ);
const ambiguity = (id: QuestionTypeId, objects: SceneObject[], supportZ: number | null = -0.4) =>
  questionType(id).ambiguity(objects, supportZ);

describe("question type registry", () => {
  it("holds every listed type once, with the listed categories and arities", () => {
    // The brief lists 12 yes/no, 13 choice, 13 metric and 1 clock type (39, one more than SpatialVLM's 38).
    expect(QUESTION_TYPES.map((t) => t.id)).toEqual([...QUESTION_TYPE_IDS]);
    const count = (c: string) => QUESTION_TYPES.filter((t) => t.category === c).length;
    expect([count("qualitative"), count("choice"), count("quantitative"), count("clock")]).toEqual([12, 13, 13, 1]);
    expect(questionType("which_closer_to").arity).toBe(3);
    // Issue 11 added counting, colour and 14 superlatives (12 over a set, 2 over a set and an object).
    expect([count("count"), count("color"), count("superlative")]).toEqual([1, 1, 14]);
    expect(QUESTION_TYPES.filter((t) => t.arity === 1).map((t) => t.id).sort()).toEqual([
      "biggest", "closest", "color", "count", "depth", "distance_from_camera", "elevation", "farthest", "height", "highest",
      "leftmost", "lowest", "rightmost", "shortest", "size", "smallest", "tallest", "thinnest", "widest", "width",
    ]);
    // Only slot A of counts and superlatives names a set; every other slot is one object.
    for (const t of QUESTION_TYPES) {
      expect(t.slotRoles.length, t.id).toBe(t.arity);
      const sets = t.category === "count" || t.category === "superlative";
      expect(t.slotRoles, t.id).toEqual(t.slotRoles.map((_, i) => (i === 0 && sets ? "set" : "object")));
    }
  });
});

describe("truth functions", () => {
  const left = obj("a", "mug", "red", [0.6, 0.2, -0.3], [0.08, 0.1, 0.12]);
  const right = obj("b", "bowl", "blue", [0.8, -0.1, -0.35], [0.16, 0.18, 0.06]);

  it("left/right follow y (left = larger y), in front/behind follow x (front = smaller x)", () => {
    expect(truth("left_of", [left, right])).toBe(1);
    expect(truth("left_of", [right, left])).toBe(0);
    expect(truth("right_of", [right, left])).toBe(1);
    expect(truth("which_left", [left, right])).toBe(0);
    expect(truth("which_left", [right, left])).toBe(1);
    expect(truth("which_right", [left, right])).toBe(1);
    expect(truth("in_front_of", [left, right])).toBe(1);
    expect(truth("behind", [left, right])).toBe(0);
    expect(truth("which_closer", [right, left])).toBe(1);
    expect(truth("which_farther", [right, left])).toBe(0);
  });

  it("above/below and heights go along z; sizes use the documented axes", () => {
    expect(truth("above", [left, right])).toBe(1);
    expect(truth("below", [left, right])).toBe(0);
    expect(truth("which_lower", [left, right])).toBe(1);
    expect(truth("taller", [left, right])).toBe(1);
    expect(truth("wider", [left, right])).toBe(0);
    expect(truth("thinner", [left, right])).toBe(1);
    expect(truth("which_wider", [left, right])).toBe(1);
    // volumes: 0.08*0.1*0.12 = 9.6e-4 < 0.16*0.18*0.06 = 1.728e-3
    expect(truth("bigger", [left, right])).toBe(0);
    expect(truth("which_smaller", [left, right])).toBe(0);
    expect(truth("width", [left])).toBeCloseTo(0.1, 12);
    expect(truth("height", [left])).toBeCloseTo(0.12, 12);
    expect(truth("depth", [left])).toBeCloseTo(0.08, 12);
    expect(truth("size", [right])).toBeCloseTo(0.18, 12);
    expect(truth("height_difference", [left, right])).toBeCloseTo(0.06, 12);
  });

  it("distances: centres, horizontal, vertical, offsets and from the camera", () => {
    expect(truth("distance", [left, right])).toBeCloseTo(Math.hypot(0.2, 0.3, 0.05), 12);
    expect(truth("horizontal_distance", [left, right])).toBeCloseTo(Math.hypot(0.2, 0.3), 12);
    expect(truth("vertical_distance", [left, right])).toBeCloseTo(0.05, 12);
    expect(truth("lateral_offset", [left, right])).toBeCloseTo(0.3, 12);
    expect(truth("depth_offset", [right, left])).toBeCloseTo(0.2, 12);
    expect(truth("distance_from_camera", [left])).toBeCloseTo(Math.hypot(0.6, 0.2, 0.3), 12);
  });

  it("gap is 0 for overlapping boxes and the closest-point distance otherwise", () => {
    const a = obj("a", "box", "", [0, 0, 0], [0.2, 0.2, 0.2]);
    const overlapping = obj("b", "box", "", [0.15, 0.05, 0], [0.2, 0.2, 0.2]);
    const sideBySide = obj("c", "box", "", [0.5, 0, 0], [0.2, 0.2, 0.2]);
    const diagonal = obj("d", "box", "", [0.5, 0.6, 0.1], [0.2, 0.2, 0.2]);
    expect(truth("gap", [a, overlapping])).toBe(0);
    expect(truth("gap", [a, sideBySide])).toBeCloseTo(0.3, 12);
    expect(truth("gap", [a, diagonal])).toBeCloseTo(Math.hypot(0.3, 0.4, 0), 12);
    expect(truth("distance", [a, sideBySide])).toBeCloseTo(0.5, 12);
  });

  it("elevation is the box bottom above the support surface, NaN without one", () => {
    const onTable = resting("m", "mug", "red", 0.6, 0, [0.08, 0.08, 0.1]);
    const lifted = resting("n", "mug", "blue", 0.6, 0.2, [0.08, 0.08, 0.1], 0.12);
    expect(truth("elevation", [onTable])).toBeCloseTo(0, 12);
    expect(truth("elevation", [lifted])).toBeCloseTo(0.12, 12);
    expect(truth("elevation", [lifted], null)).toBeNaN();
    expect(ambiguity("elevation", [onTable])).toBe("too_small");
    expect(ambiguity("elevation", [lifted])).toBeNull();
    expect(ambiguity("elevation", [lifted], null)).toBe("no_support_surface");
  });

  it("clock: 12 away from the viewer, 3 to the right, 6 towards, 9 to the left", () => {
    const b = obj("b", "bowl", "blue", [0.8, 0, -0.35], [0.1, 0.1, 0.1]);
    const at = (dx: number, dy: number) => obj("a", "mug", "red", [0.8 + dx, dy, -0.3], [0.1, 0.1, 0.1]);
    expect(truth("clock_direction", [at(0.3, 0), b])).toBe(12);
    expect(truth("clock_direction", [at(0, -0.3), b])).toBe(3);
    expect(truth("clock_direction", [at(-0.3, 0), b])).toBe(6);
    expect(truth("clock_direction", [at(0, 0.3), b])).toBe(9);
    const a1 = Math.PI / 6;
    expect(truth("clock_direction", [at(0.3 * Math.cos(a1), -0.3 * Math.sin(a1)), b])).toBe(1);
    expect(truth("clock_direction", [at(0.3 * Math.cos(-a1), -0.3 * Math.sin(-a1)), b])).toBe(11);
  });

  it("which_closer_to compares straight-line centre distances to C", () => {
    const c = obj("c", "plate", "white", [0.8, 0, -0.4], [0.2, 0.2, 0.02]);
    const near = obj("a", "mug", "red", [0.8, 0.15, -0.35], [0.08, 0.08, 0.1]);
    const far = obj("b", "mug", "blue", [0.5, -0.2, -0.35], [0.08, 0.08, 0.1]);
    expect(truth("which_closer_to", [near, far, c])).toBe(0);
    expect(truth("which_closer_to", [far, near, c])).toBe(1);
  });
});

describe("ambiguity rules", () => {
  const base = obj("b", "bowl", "blue", [0.8, 0, -0.35], [0.1, 0.1, 0.1]);
  const shifted = (dx: number, dy: number, dz: number) => obj("a", "mug", "red", [0.8 + dx, dy, -0.35 + dz], [0.1, 0.1, 0.1]);

  it("positional comparisons skip differences under 2 cm", () => {
    expect(ambiguity("left_of", [shifted(0.3, 0.015, 0), base])).toBe("close_call");
    expect(ambiguity("left_of", [shifted(0.3, 0.025, 0), base])).toBeNull();
    expect(ambiguity("which_higher", [shifted(0, 0.3, 0.019), base])).toBe("close_call");
    expect(ambiguity("behind", [shifted(-0.021, 0.3, 0), base])).toBeNull();
    expect(ambiguity("which_closer", [shifted(0.01, 0.3, 0), base])).toBe("close_call");
  });

  it("size comparisons skip under min(2 cm, 10% of the larger)", () => {
    const h = (z: number) => obj("x", "can", "red", [0.5, 0, 0], [0.05, 0.05, z]);
    // 0.30 vs 0.285: 1.5 cm < min(2 cm, 3 cm) → skipped
    expect(ambiguity("taller", [h(0.3), h(0.285)])).toBe("close_call");
    // 0.30 vs 0.275: 2.5 cm > 2 cm → asked
    expect(ambiguity("taller", [h(0.3), h(0.275)])).toBeNull();
    // small objects: 0.05 vs 0.04 differ by 1 cm, which is 20% of the larger → asked
    expect(ambiguity("which_shorter", [h(0.05), h(0.04)])).toBeNull();
    // 0.05 vs 0.047: 3 mm < 10% of 5 cm → skipped
    expect(ambiguity("shorter", [h(0.05), h(0.047)])).toBe("close_call");
  });

  it("volume comparisons skip under 10% of the larger volume", () => {
    const v = (s: number) => obj("x", "box", "red", [0.5, 0, 0], [s, 0.1, 0.1]);
    expect(ambiguity("bigger", [v(0.1), v(0.095)])).toBe("close_call");
    expect(ambiguity("which_smaller", [v(0.1), v(0.085)])).toBeNull();
  });

  it("quantitative questions skip true values under 2 cm", () => {
    expect(ambiguity("lateral_offset", [shifted(0.3, 0.01, 0), base])).toBe("too_small");
    expect(ambiguity("lateral_offset", [shifted(0.3, 0.05, 0), base])).toBeNull();
    expect(ambiguity("gap", [shifted(0.05, 0, 0), base])).toBe("too_small");
  });

  it("which_closer_to skips when the two distances differ by under 2 cm", () => {
    const c = obj("c", "plate", "white", [0.8, 0, -0.4], [0.2, 0.2, 0.02]);
    const a = obj("a", "mug", "red", [0.8, 0.2, -0.4], [0.08, 0.08, 0.1]);
    const b1 = obj("b", "mug", "blue", [0.8, -0.21, -0.4], [0.08, 0.08, 0.1]);
    const b2 = obj("b", "mug", "blue", [0.8, -0.25, -0.4], [0.08, 0.08, 0.1]);
    expect(ambiguity("which_closer_to", [a, b1, c])).toBe("close_call");
    expect(ambiguity("which_closer_to", [a, b2, c])).toBeNull();
  });

  it("clock skips near hour borders (2 cm of arc) and when horizontally under 4 cm apart", () => {
    const at = (r: number, deg: number) => {
      const t = (deg * Math.PI) / 180;
      return obj("a", "mug", "red", [0.8 + r * Math.cos(t), -r * Math.sin(t), -0.3], [0.1, 0.1, 0.1]);
    };
    expect(ambiguity("clock_direction", [at(0.03, 90), base])).toBe("clock_too_close");
    expect(ambiguity("clock_direction", [at(0.3, 90), base])).toBeNull();
    // 15° is the 12/1 o'clock border; at 30 cm, 2 cm of arc is 3.8°.
    expect(ambiguity("clock_direction", [at(0.3, 17), base])).toBe("clock_boundary");
    expect(ambiguity("clock_direction", [at(0.3, 20), base])).toBeNull();
    // the same angle is fine far away but not close by
    expect(ambiguity("clock_direction", [at(1.0, 18), base])).toBeNull();
    expect(ambiguity("clock_direction", [at(0.1, 25), base])).toBe("clock_boundary");
  });
});
