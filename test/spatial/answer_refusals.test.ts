import { describe, expect, it } from "vitest";
import {
  answerQuestion, fillTemplate, formatLength, formatLengthIn, MAX_ECHO_LENGTH, MAX_QUESTION_LENGTH, QUESTION_TEMPLATES,
  QUESTION_TYPES, questionType, SAME_OBJECT_STATUS, type LengthUnit,
} from "../../src/spatial/index.js";
import { resting, scene, tabletop } from "./scene_fixtures.js";

/** Unique references into tabletop(): red mug, blue bowl, yellow bottle. */
const UNIQUE = ["the red mug", "the blue bowl", "the yellow bottle"];
/** References matching two objects of tabletop() each. */
const AMBIGUOUS = ["the mug", "the mug", "the mug"];

describe("an object that is not in the scene", () => {
  const s = tabletop();

  it("is answered \"I don't see a green teapot\" by every template, in every slot, whatever the other phrases", () => {
    const wrong: string[] = [];
    let n = 0;
    for (const t of QUESTION_TYPES) {
      for (const template of QUESTION_TEMPLATES[t.id]) {
        for (let slot = 0; slot < t.arity; slot++) {
          for (const others of [UNIQUE, AMBIGUOUS]) {
            const names = others.slice(0, t.arity);
            names[slot] = "the green teapot";
            const q = fillTemplate(template, names);
            const a = answerQuestion(s, q);
            n++;
            const ok = a.status === "unknown_object" && a.text.startsWith("I don't see a green teapot; I see ") &&
              a.text.includes("the red mug") && Number.isNaN(a.value) && a.unit === "" && a.type === t.id;
            if (!ok) wrong.push(`${q} → ${a.status}: ${a.text}`);
          }
        }
      }
    }
    expect(n).toBeGreaterThan(400);
    expect(wrong).toEqual([]);
  });

  it("uses the right article and says so in an empty scene", () => {
    expect(answerQuestion(s, "How tall is the orange teapot?").text).toMatch(/^I don't see an orange teapot; /);
    expect(answerQuestion(scene([]), "How tall is the green teapot?").text).toBe("I don't see a green teapot; I see no objects at all.");
  });
});

describe("the same object twice", () => {
  const s = tabletop();

  it("is refused, never answered as 0 m or a trivial yes/no", () => {
    const cases = [
      "How far is the red mug from the red mug?",
      "Is the red mug to the left of the red mug?",
      "Which is taller, the red mug or the red mug?",
      "Which is closer to the red mug, the red mug or the blue bowl?",
      "What o'clock is the bottle from the yellow bottle?", // two phrases, one object
      "How far is mug#1 from the red mug?",
    ];
    for (const q of cases) {
      const a = answerQuestion(s, q);
      expect({ q, status: a.status }).toEqual({ q, status: SAME_OBJECT_STATUS });
      expect(a.value, q).toBeNaN();
      expect(a.unit, q).toBe("");
      expect(a.boolean, q).toBeUndefined();
      expect(a.choice, q).toBeUndefined();
      expect(a.text, q).toMatch(/both refer to the (red mug|yellow bottle): I need different objects/);
      expect(a.type, q).not.toBeNull();
    }
    expect(answerQuestion(s, cases[0]).text).toContain("the blue bowl"); // says what else there is
  });

  it("still answers questions about two different objects", () => {
    expect(answerQuestion(s, "How far is the red mug from the green mug?").status).toBe("ok");
  });
});

describe("unit requests", () => {
  const s = tabletop();
  const [mug, , bowl] = s.objects;
  const dist = Math.hypot(mug.center.x - bowl.center.x, mug.center.y - bowl.center.y, mug.center.z - bowl.center.z);

  it("phrase the length in the unit asked for; value and unit fields stay in metres", () => {
    const cases: [string, LengthUnit, RegExp][] = [
      ["How far is the red mug from the blue bowl in inches?", "in", / inches/],
      ["How far is the red mug from the blue bowl in feet?", "ft", / feet/],
      ["how far is the red mug from the blue bowl in mm", "mm", / mm/],
      ["How far is the red mug from the blue bowl, in millimetres please?", "mm", / mm/],
      ["How far is the red mug from the blue bowl in millimeters?", "mm", / mm/],
      ["How far is the red mug from the blue bowl in cm?", "cm", / cm/],
      ["How far is the red mug from the blue bowl in metres?", "m", / m\b/],
      ["How far is the red mug from the blue bowl in meters?", "m", / m\b/],
      ["In inches, how far is the red mug from the blue bowl?", "in", / inches/],
      ["How far, in feet, is the red mug from the blue bowl?", "ft", / feet/],
    ];
    for (const [q, unit, re] of cases) {
      const a = answerQuestion(s, q);
      expect({ q, status: a.status, unit: a.unit }).toEqual({ q, status: "ok", unit: "m" });
      expect(a.value, q).toBeCloseTo(dist, 12);
      expect(a.text, q).toContain(formatLengthIn(dist, unit));
      expect(a.text, q).toMatch(re);
    }
    // Without a request, the default phrasing (cm under 1 m).
    expect(answerQuestion(s, "How far is the red mug from the blue bowl?").text).toContain(formatLength(dist));
  });

  it("honours units for every quantitative type", () => {
    for (const t of QUESTION_TYPES.filter((x) => x.category === "quantitative")) {
      const template = QUESTION_TEMPLATES[t.id][0].replace(/\?$/, "");
      const q = `${fillTemplate(template, ["the apple", "the blue bowl"].slice(0, t.arity))} in inches?`;
      const a = answerQuestion(s, q);
      expect({ q, status: a.status }).toEqual({ q, status: "ok" });
      expect(a.type, q).toBe(t.id);
      const v = questionType(t.id).truth([s.objects[4], s.objects[2]].slice(0, t.arity), s.supportZ);
      expect(a.value, q).toBe(v);
      expect(a.text, q).toContain(formatLengthIn(v, "in"));
    }
  });

  it("formats each unit with sensible rounding", () => {
    expect(formatLengthIn(0.234, "cm")).toBe("23 cm");
    expect(formatLengthIn(0.0456, "cm")).toBe("4.6 cm");
    expect(formatLengthIn(1.5, "cm")).toBe("150 cm");
    expect(formatLengthIn(0.234, "mm")).toBe("234 mm");
    expect(formatLengthIn(0.0045, "mm")).toBe("4.5 mm");
    expect(formatLengthIn(0.234, "m")).toBe("0.23 m");
    expect(formatLengthIn(0.046, "m")).toBe("0.046 m");
    expect(formatLengthIn(0.254, "in")).toBe("10.0 inches");
    expect(formatLengthIn(0.3048 * 2.5, "ft")).toBe("2.50 feet");
    expect(formatLengthIn(Number.NaN, "ft")).toBe("unknown");
  });
});

describe("echoed phrases", () => {
  const s = tabletop();
  const long = `${"enormous ".repeat(100)}teapot`;

  it("are capped in every refusal that quotes the user's words", () => {
    const unknown = answerQuestion(s, `How tall is the ${long}?`);
    expect(unknown.status).toBe("unknown_object");
    expect(unknown.text).toContain("…");
    expect(unknown.text.length).toBeLessThan(MAX_ECHO_LENGTH + 200);
    const ambiguous = answerQuestion(s, `How tall is the ${"small ".repeat(150)}mug?`);
    expect(ambiguous.status).toBe("ambiguous_object");
    expect(ambiguous.text.length).toBeLessThan(MAX_ECHO_LENGTH + 200);
    const same = answerQuestion(s, `How far is the ${"red ".repeat(100)}mug from the red mug?`);
    expect(same.status).toBe(SAME_OBJECT_STATUS);
    expect(same.text.length).toBeLessThan(2 * MAX_ECHO_LENGTH + 250);
  });

  it("crowded scenes are summarised, not listed in full", () => {
    const many = scene(Array.from({ length: 200 }, (_, i) => resting(`box#${i}`, "box", "red", 0.5 + i * 0.01, 0, [0.05, 0.05, 0.05])));
    const a = answerQuestion(many, "How tall is the green teapot?");
    expect(a.text).toMatch(/and 191 more\.$/);
    expect(a.text.length).toBeLessThan(300);
    const q = "x".repeat(MAX_QUESTION_LENGTH);
    expect(answerQuestion(many, q).text.length).toBeLessThan(400);
  });
});
