import { describe, expect, it } from "vitest";
import { generateWorld, placeCamera, truthScene } from "../../sim/index.js";
import { mulberry32 } from "../../src/random/mulberry32.js";
import { COLOR_NAMES } from "../../src/scene/colors.js";
import type { Scene } from "../../src/scene/scene_object.js";
import { parseAnswerText } from "../../src/spatial/answer_text_parser.js";
import {
  answerQuestion, answerStructured, generateQuestions, objectNameCode, phraseShortAnswer, pluralPhrase, QUESTION_TYPES,
  questionType, resolveSet, singularPhrase, tryParseQuestion,
} from "../../src/spatial/index.js";
import { obj, resting, scene, tabletop } from "./scene_fixtures.js";

// tabletop(): red mug (h 0.10, x 0.6, y 0.15), green mug (0.12, 0.75, -0.2), blue bowl (0.07, 0.9, 0.05),
// yellow bottle (0.25, 0.5, -0.05), red apple (0.08, 0.7, 0.3, lifted 15 cm), brown book (0.04, 1.05, -0.35).
const s = tabletop();

/** FNV-1a 32-bit over the characters, written out independently of objectNameCode (in BigInt). */
function fnv1a(text: string): number {
  let h = 2166136261n;
  for (const ch of text) h = ((h ^ BigInt(ch.charCodeAt(0))) * 16777619n) % 2n ** 32n;
  return Number(h);
}

describe("objectNameCode", () => {
  it("is FNV-1a of the lower-case name with single spaces, and tells names apart", () => {
    expect(objectNameCode("red cup")).toBe(fnv1a("red cup"));
    expect(objectNameCode("  Red   CUP ")).toBe(objectNameCode("red cup"));
    const names = COLOR_NAMES.flatMap((c) => ["mug", "cup", "bowl", "bottle", "can", "book", "ball"].map((k) => `${c} ${k}`));
    expect(new Set(names.map(objectNameCode)).size).toBe(names.length);
  });
});

describe("set phrases", () => {
  it("resolve to every object of the colour and/or kind, any kind for thing/object/one, none for a known kind that is absent", () => {
    const ids = (p: string) => resolveSet(s.objects, p).map((o) => o.id);
    expect(ids("mugs")).toEqual(["mug#1", "mug#2"]);
    expect(ids("mug")).toEqual(["mug#1", "mug#2"]);
    expect(ids("red things")).toEqual(["mug#1", "apple#1"]);
    expect(ids("red")).toEqual(["mug#1", "apple#1"]);
    expect(ids("objects")).toHaveLength(6);
    expect(ids("green mugs")).toEqual(["mug#2"]);
    expect(ids("balls")).toEqual([]);
    expect(ids("mug#2")).toEqual(["mug#2"]);
    expect(() => resolveSet(s.objects, "teapots")).toThrow(/I don't see a teapots; I see/);
    // The reference of closest_to is never in its own set.
    expect(resolveSet(s.objects, "mugs", s.objects[0]).map((o) => o.id)).toEqual(["mug#2"]);
  });

  it("have plural and singular forms", () => {
    expect([pluralPhrase("red cube"), pluralPhrase("object"), pluralPhrase("box"), pluralPhrase("red things")]).toEqual(["red cubes", "objects", "boxes", "red things"]);
    expect([singularPhrase("red cubes"), singularPhrase("objects"), singularPhrase("boxes"), singularPhrase("cup")]).toEqual(["red cube", "object", "box", "cup"]);
  });
});

describe("counting", () => {
  it("counts the set, 0 included, and refuses a kind it does not know", () => {
    const cases: [string, number, string][] = [
      ["How many mugs are there?", 2, "There are 2 mugs."],
      ["how many red things", 2, "There are 2 red objects."],
      ["How many balls are there?", 0, "There are 0 balls."],
      ["How many objects are there?", 6, "There are 6 objects."],
      ["how many green mugs are there", 1, "There is 1 green mug."],
    ];
    for (const [q, n, text] of cases) {
      const a = answerQuestion(s, q);
      expect({ q, status: a.status, type: a.type, value: a.value, unit: a.unit, subject: a.subject, text: a.text })
        .toEqual({ q, status: "ok", type: "count", value: n, unit: "count", subject: "", text });
    }
    const unknown = answerQuestion(s, "How many teapots are there?");
    expect([unknown.status, unknown.type]).toEqual(["unknown_object", "count"]);
    expect(unknown.text).toMatch(/^I don't see a teapots; I see the red mug/);
  });
});

describe("colour", () => {
  it("answers the object's colour by name, and says so when it has none", () => {
    const a = answerQuestion(s, "What colour is the bottle?");
    expect([a.status, a.type, a.value, a.unit, a.subject, a.text]).toEqual(["ok", "color", COLOR_NAMES.indexOf("yellow"), "color", "bottle#1", "The bottle is yellow."]);
    expect(answerQuestion(s, "What color is the book?", { seed: 1 }).text).toBe("The colour of the book is brown.");
    const plain = scene([resting("x", "box", "", 0.6, 0, [0.1, 0.1, 0.1])]);
    const none = answerQuestion(plain, "What color is the box?");
    expect([none.status, none.unit, none.text]).toEqual(["unanswerable", "", "I can't tell the colour of the box."]);
    expect(none.value).toBeNaN();
    expect(questionType("color").ambiguity(plain.objects, plain.supportZ)).toBe("no_colour");
  });
});

describe("superlatives", () => {
  it("choose the member with the largest measure; value is its name code, choice and subject its id", () => {
    const cases: [string, string, string][] = [
      ["Which object is the tallest?", "tallest", "bottle#1"],
      ["the tallest object", "tallest", "bottle#1"],
      ["Which mug is the tallest?", "tallest", "mug#2"],
      // The apple (0.08³ = 5.1e-4 m³) is smaller than the book (0.22 x 0.15 x 0.04 = 1.3e-3).
      ["smallest", "smallest", "apple#1"],
      ["leftmost", "leftmost", "apple#1"],
      ["which is furthest from the camera", "farthest", "book#1"],
      ["Which object is closest to the camera?", "closest", "bottle#1"],
      ["Which object is the highest?", "highest", "apple#1"],
      ["Which mug is closest to the book?", "closest_to", "mug#2"],
      ["Which red thing is farthest from the bottle?", "farthest_from", "apple#1"],
    ];
    for (const [q, type, id] of cases) {
      const a = answerQuestion(s, q);
      const chosen = s.objects.find((o) => o.id === id)!;
      expect({ q, status: a.status, type: a.type, choice: a.choice, subject: a.subject, unit: a.unit })
        .toEqual({ q, status: "ok", type, choice: id, subject: id, unit: "object" });
      expect(a.value).toBe(objectNameCode(`${chosen.color} ${chosen.kind}`));
      expect(a.text.startsWith(`The ${chosen.color} ${chosen.kind} is the `), a.text).toBe(true);
    }
    expect(answerQuestion(s, "Which mug is closest to the book?").object).toBe("book#1");
  });

  it("are not asked when the top two are within the comparison margin, or over one object", () => {
    const h = (id: string, z: number, y = 0) => obj(id, "can", "red", [0.5, y, 0], [0.05, 0.05, z]);
    expect(questionType("tallest").ambiguity([h("a", 0.3), h("b", 0.285), h("c", 0.1)], null)).toBe("close_call");
    expect(questionType("tallest").ambiguity([h("a", 0.3), h("b", 0.275), h("c", 0.1)], null)).toBeNull();
    expect(questionType("tallest").ambiguity([h("a", 0.3)], null)).toBe("single_candidate");
    expect(questionType("leftmost").ambiguity([h("a", 0.1, 0.2), h("b", 0.1, 0.185)], null)).toBe("close_call");
    const ref = obj("r", "plate", "white", [0.5, 0, 0], [0.2, 0.2, 0.02]);
    // closest_to: members first, then the reference; 0.30 vs 0.31 m from it: within 2 cm.
    expect(questionType("closest_to").ambiguity([h("a", 0.1, 0.3), h("b", 0.1, -0.31), ref], null)).toBe("close_call");
    expect(questionType("closest_to").ambiguity([h("a", 0.1, 0.3), h("b", 0.1, -0.35), ref], null)).toBeNull();
  });

  it("refuse an empty set, and a set whose only member is the reference itself", () => {
    const none = answerQuestion(s, "Which ball is the tallest?");
    expect([none.status, none.type]).toEqual(["unknown_object", "tallest"]);
    expect(none.text).toMatch(/^I don't see a ball; I see/);
    const same = answerQuestion(s, "Which book is closest to the book?");
    expect(same.status).toBe("same_object");
  });

  it("over an explicit pair are the which-one comparison", () => {
    expect(tryParseQuestion("Which is the tallest, the red mug or the bottle?")).toEqual({ type: "which_taller", slots: ["red mug", "bottle"] });
    expect(tryParseQuestion("which is closest to the book: the red mug or the bottle")).toEqual({ type: "which_closer_to", slots: ["red mug", "bottle", "book"] });
  });
});

describe("answers to the new types go round through their text", () => {
  it("every phrasing and the short answer parse back to the value (answer_text_parser)", () => {
    const questions = [
      "How many mugs are there?", "How many balls are there?", "how many objects", "What colour is the bottle?", "What color is the apple?",
      ...QUESTION_TYPES.filter((t) => t.category === "superlative").map((t) => {
        const q = generateQuestions(s, mulberry32(3), { types: [t.id], perType: 1 }).questions[0];
        return q?.text ?? "";
      }).filter((q) => q !== ""),
    ];
    expect(questions.length).toBeGreaterThan(10);
    for (const q of questions) {
      const parsed = tryParseQuestion(q)!;
      for (let variant = 0; variant < 3; variant++) {
        const a = answerQuestion(s, q, { seed: variant });
        expect(a.status, q).toBe("ok");
        const p = parseAnswerText(a.text, parsed.type, parsed.slots);
        expect({ q, text: a.text, value: p.value, unit: p.unit }).toEqual({ q, text: a.text, value: a.value, unit: a.unit });
      }
      const a = answerQuestion(s, q);
      const chosen = s.objects.find((o) => o.id === a.choice);
      const short = phraseShortAnswer(parsed.type, a.value, chosen && `${chosen.color} ${chosen.kind}`);
      expect(short.length).toBeLessThan(20);
      expect(parseAnswerText(short, parsed.type, parsed.slots).value, `${q} → ${short}`).toBe(a.value);
    }
  });

  it("a superlative's text is read as the first object it names other than the reference", () => {
    const code = (n: string) => objectNameCode(n);
    expect(parseAnswerText("The red cup is the cup closest to the book.", "closest_to", ["cup", "book"]).value).toBe(code("red cup"));
    expect(parseAnswerText("Closest to the brown book is the red cup.", "closest_to", ["cup", "book"]).value).toBe(code("red cup"));
    expect(parseAnswerText("the bottle", "tallest", ["object"]).value).toBe(code("bottle"));
    expect(parseAnswerText("three", "count", ["cups"]).value).toBe(3);
    expect(parseAnswerText("3.5 cups", "count", ["cups"]).status).toBe("unparsed");
    expect(parseAnswerText("It is grey.", "color", ["mug"]).value).toBe(COLOR_NAMES.indexOf("gray"));
    expect(parseAnswerText("no idea", "color", ["mug"]).status).toBe("unparsed");
    expect(parseAnswerText("the tallest one", "tallest", ["object"]).status).toBe("unparsed");
  });
});

describe("answerStructured for a set type", () => {
  it("takes the set's members then the other slots' objects, and checks there are enough", () => {
    const [redMug, greenMug, , , , book] = s.objects;
    const a = answerStructured(s, "closest_to", [redMug, greenMug, book], { set: "mugs" });
    expect([a.status, a.choice, a.object]).toEqual(["ok", "mug#2", "book#1"]);
    expect(answerStructured(s, "count", [redMug, greenMug], { set: "mugs" }).value).toBe(2);
    expect(() => answerStructured(s, "closest_to", [], {})).toThrow(/takes a set and 1 object/);
  });
});

describe("the generator", () => {
  function truthOf(seed: number): Scene {
    const world = generateWorld(seed);
    return truthScene(world, placeCamera(world, seed, { width: 160, height: 120 }).camera, 0n);
  }

  it("asks counts (zeros too), colours of objects named by kind alone, and superlatives over uniquely named sets of two or more", () => {
    let zeros = 0;
    let counts = 0;
    const superlatives = new Set<string>();
    for (let seed = 8700; seed < 8730; seed++) {
      const truth = truthOf(seed);
      const gen = generateQuestions(truth, mulberry32(seed), { perType: 2 });
      for (const q of gen.questions) {
        const t = questionType(q.type);
        const a = answerQuestion(truth, q.text, { seed });
        expect({ q: q.text, status: a.status, value: a.value }).toEqual({ q: q.text, status: "ok", value: q.truthValue });
        if (t.category === "count") {
          counts++;
          if (q.truthValue === 0) zeros++;
          expect(q.objectIds).toEqual([]);
        }
        if (t.category === "color") {
          const o = truth.objects.find((x) => x.id === q.objectIds[0])!;
          expect(q.slots).toEqual([o.kind]);
          expect(truth.objects.filter((x) => x.kind === o.kind)).toHaveLength(1);
        }
        if (t.category === "superlative") {
          superlatives.add(q.type);
          const members = resolveSet(truth.objects, q.slots[0], truth.objects.find((o) => o.id === q.objectIds[1]));
          expect(members.length, q.text).toBeGreaterThanOrEqual(2);
          const names = members.map((m) => `${m.color} ${m.kind}`);
          expect(new Set(names).size, q.text).toBe(names.length);
          expect(q.objectIds[0]).toBe(a.choice);
        }
      }
    }
    expect(counts).toBeGreaterThan(40);
    expect(zeros).toBeGreaterThan(3);
    expect(zeros).toBeLessThan(counts);
    expect(superlatives.size).toBe(14);
  });
});
