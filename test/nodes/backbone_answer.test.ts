import { describe, expect, it } from "vitest";
import { SpatialAnswerStatus } from "../../src/msgs/generated.js";
import { backboneAnswerToMsg, leadingQuantity } from "../../nodes/messages.js";
import { mulberry32 } from "../../src/random/mulberry32.js";

/** The backbone's text → SpatialAnswer (nodes/messages.ts): what is an answer, and what is read out of it. */
describe("backbone answers as SpatialAnswer", () => {
  it("an untrained model's text never reaches the answer, whatever it says", () => {
    for (const text of ["23 cm", "yes", "The red mug is 40 cm from the bowl."]) {
      const m = backboneAnswerToMsg("how far?", { text, tokens: 4, tokenMs: 1.25, trained: false }, 7n, "cam");
      expect(m.status).toBe(SpatialAnswerStatus.STATUS_UNANSWERABLE);
      expect(m.text).toBe("the backbone model is untrained (seeded random weights); it produced 4 tokens in 1.250 ms/token, not an answer");
      expect(m.value).toBeNaN();
      expect([m.unit, m.boolean_value, m.source, m.question]).toEqual(["", false, "backbone", "how far?"]);
    }
  });

  it("a question the engine's grammar knows is read back as the evaluator reads it: the engine's phrasing, mid-sentence", () => {
    const dist = backboneAnswerToMsg("How far is the cube from the green cup?", { text: "The blue cube is 58 cm from the green cup.", tokens: 9, tokenMs: 0.3, trained: true }, 0n, "");
    expect([dist.status, dist.type, dist.unit, dist.source]).toEqual([SpatialAnswerStatus.STATUS_OK, "distance", "m", "backbone"]);
    expect(dist.value).toBeCloseTo(0.58, 12);
    const yes = backboneAnswerToMsg("Is the cube to the left of the green cup?", { text: "Yes, the blue cube is to the left of the green cup.", tokens: 9, tokenMs: 0.3, trained: true }, 0n, "");
    expect([yes.type, yes.unit, yes.value, yes.boolean_value]).toEqual(["left_of", "bool", 1, true]);
    const which = backboneAnswerToMsg("Which is taller, the cube or the green cup?", { text: "The green cup is taller.", tokens: 5, tokenMs: 0.3, trained: true }, 0n, "");
    expect([which.type, which.unit, which.value, which.choice]).toEqual(["which_taller", "choice", 1, "green cup"]);
    // Known question, text that answers nothing: the text stays (it is what the model said), no value.
    const junk = backboneAnswerToMsg("How far is the cube from the green cup?", { text: "blue blue blue", tokens: 3, tokenMs: 0.3, trained: true }, 0n, "");
    expect([junk.status, junk.type, junk.unit, junk.text]).toEqual([SpatialAnswerStatus.STATUS_OK, "distance", "", "blue blue blue"]);
    expect(junk.value).toBeNaN();
  });

  it("a trained model's leading quantity fills value and unit (lengths in metres)", () => {
    const cases: [string, number, string][] = [
      ["23 cm", 0.23, "m"],
      ["About 1.5 metres apart", 1.5, "m"],
      ["0.4m", 0.4, "m"],
      ["12 inches", 0.3048, "m"],
      ["2 feet", 0.6096, "m"],
      ["35mm", 0.035, "m"],
      ["3 o'clock", 3, "hour"],
      ["Yes, it is.", 1, "bool"],
      ["no", 0, "bool"],
      ["4 apples", 4, ""],
      ["7", 7, ""],
    ];
    for (const [text, value, unit] of cases) {
      const q = leadingQuantity(text);
      expect(q.unit, text).toBe(unit);
      expect(q.value, text).toBeCloseTo(value, 12);
      const m = backboneAnswerToMsg("q", { text, tokens: 2, tokenMs: 1, trained: true }, 0n, "");
      expect([m.status, m.text, m.unit, m.source]).toEqual([SpatialAnswerStatus.STATUS_OK, text, unit, "backbone"]);
      expect(m.boolean_value).toBe(unit === "bool" && value === 1);
    }
    for (const text of ["", "the mug", "none of them", "yesterday 3 cm", "Infinity cm"]) {
      expect(leadingQuantity(text), text).toEqual({ value: NaN, unit: "" });
    }
  });

  it("'in' is inches only where it cannot be a preposition: at the end or before punctuation; 'inch'/'inches' always", () => {
    const inches: [string, number][] = [["12 in", 0.3048], ["12 in.", 0.3048], ["12 in, roughly", 0.3048], ["6in", 0.1524], ["12 IN!", 0.3048],
      ["12 in )", 0.3048], ["3 inch gap", 0.0762], ["5 inches apart", 0.127], ["1 inch", 0.0254]];
    for (const [text, metres] of inches) {
      const q = leadingQuantity(text);
      expect(q.unit, text).toBe("m");
      expect(q.value, text).toBeCloseTo(metres, 12);
    }
    // Was 0.0762 m: "in" here starts a phrase, the number is a count.
    for (const [text, n] of [["3 in a row", 3], ["2 in the bowl", 2], ["4 in2", 4], ["7 inx", 7]] as const) {
      expect(leadingQuantity(text), text).toEqual({ value: n, unit: "" });
    }
    // "how many?" is a count question since the count type exists (issue 11): 3 things, not 3 inches.
    const m = backboneAnswerToMsg("how many?", { text: "3 in a row", tokens: 4, tokenMs: 1, trained: true }, 0n, "");
    expect([m.status, m.value, m.unit]).toEqual([SpatialAnswerStatus.STATUS_OK, 3, "count"]);
  });

  it("a trained model's empty text (EOS first) is STATUS_UNANSWERABLE saying the model produced no answer", () => {
    for (const [text, tokens] of [["", 0], [" \n\t", 3]] as const) {
      const m = backboneAnswerToMsg("how far?", { text, tokens, tokenMs: 1, trained: true }, 7n, "cam");
      expect(m.status).toBe(SpatialAnswerStatus.STATUS_UNANSWERABLE);
      expect(m.text).toMatch(/^the backbone model produced no answer/);
      expect(m.value).toBeNaN();
      expect([m.unit, m.boolean_value, m.source, m.header.frame_id]).toEqual(["", false, "backbone", "cam"]);
    }
  });

  it("fuzz: arbitrary text never throws, gives a finite value or NaN, and a long text is clipped in the answer", () => {
    const rnd = mulberry32(8);
    const alphabet = "0123456789 .-+eE cmftinchesyno'clock\u0000\uffff\n";
    for (let i = 0; i < 5000; i++) {
      const n = Math.floor(rnd() * 40);
      let text = "";
      for (let k = 0; k < n; k++) text += alphabet[Math.floor(rnd() * alphabet.length)];
      const q = leadingQuantity(text);
      expect(Number.isNaN(q.value) || Number.isFinite(q.value)).toBe(true);
      expect(["", "m", "hour", "bool"]).toContain(q.unit);
    }
    const huge = "9".repeat(400) + " cm " + "x".repeat(1_000_000);
    const m = backboneAnswerToMsg("q", { text: huge, tokens: 1, tokenMs: 1, trained: true }, 0n, "");
    expect(m.text.length).toBeLessThan(1100);
    expect(m.value).toBeNaN(); // 1e400 cm is not a finite length
  });
});
