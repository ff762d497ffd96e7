import { describe, expect, it } from "vitest";
import { answerQuestion } from "../../src/spatial/answer_question.js";
import { MAX_ANSWER_TEXT_LENGTH, parseAnswerText } from "../../src/spatial/answer_text_parser.js";
import { LENGTH_UNITS, type LengthUnit } from "../../src/spatial/length_units.js";
import { generateQuestions } from "../../src/spatial/question_generator.js";
import { tryParseQuestion } from "../../src/spatial/question_parser.js";
import { QUESTION_TYPE_IDS, questionType, type QuestionTypeId } from "../../src/spatial/question_types.js";
import { mulberry32 } from "../../src/random/mulberry32.js";
import { simSample } from "../../nodes/cli/sim_samples.js";

/**
 * The backbone's text is scored through parseAnswerText, so a model that learned the engine's
 * phrasing must be scored like the engine: for many generated questions on simulator scenes,
 * parsing the engine's own answer sentence (every phrasing variant, every length unit) gives back
 * the engine's structured value, within the rounding of the phrasing.
 */

/** Half the last printed digit of the sentence's length, in metres: what phrasing rounding can lose. */
function roundingTolerance(text: string): number {
  const m = /(\d+(?:\.(\d+))?) (cm|mm|m|inches|feet)\b/.exec(text);
  if (!m) throw new Error(`no length in "${text}"`);
  const per = { cm: 0.01, mm: 0.001, m: 1, inches: 0.0254, feet: 0.3048 }[m[3] as "cm" | "mm" | "m" | "inches" | "feet"];
  return 0.5 * 10 ** -(m[2]?.length ?? 0) * per + 1e-9;
}

describe("parseAnswerText round trip on the engine's own answers", () => {
  it("recovers the engine's value for every generated question, phrasing and unit on 6 sim scenes", () => {
    const seen = new Map<QuestionTypeId, number>();
    let n = 0;
    for (let seed = 4200; seed < 4206; seed++) {
      const truth = simSample(seed, { noise: "none", masks: "gt", width: 160, height: 120 }).truth;
      const { questions } = generateQuestions(truth, mulberry32(seed), { perType: 2 });
      for (const q of questions) {
        const parsedQ = tryParseQuestion(q.text);
        expect(parsedQ?.type, q.text).toBe(q.type);
        const units: (LengthUnit | undefined)[] = questionType(q.type).category === "quantitative" ? [undefined, ...LENGTH_UNITS] : [undefined];
        for (let variant = 0; variant < 3; variant++) {
          for (const lengthUnit of units) {
            const a = answerQuestion(truth, q.text, { seed: variant, lengthUnit });
            expect(a.status, `${q.text} → ${a.text}`).toBe("ok");
            const p = parseAnswerText(a.text, parsedQ!.type, parsedQ!.slots);
            expect(p.status, `${q.text} → ${a.text}`).toBe("ok");
            if (a.unit === "m") {
              expect(p.unit).toBe("m");
              expect(Math.abs(p.value - a.value), `${a.text}: ${p.value} vs ${a.value}`).toBeLessThanOrEqual(roundingTolerance(a.text));
            } else {
              expect({ value: p.value, unit: p.unit }, a.text).toEqual({ value: a.value, unit: a.unit });
            }
            if (a.unit === "bool") expect(p.status === "ok" && p.boolean).toBe(a.boolean);
            if (a.unit === "choice") expect(p.status === "ok" && p.choice).toBe(parsedQ!.slots[a.value]);
            n++;
          }
        }
        seen.set(q.type, (seen.get(q.type) ?? 0) + 1);
      }
    }
    expect(n).toBeGreaterThan(1000);
    // Every type but elevation (askable only for stacked objects) went round.
    expect(QUESTION_TYPE_IDS.filter((t) => !seen.has(t) && t !== "elevation")).toEqual([]);
  }, 60_000);

  it("both yes and no, and both slots of which-one, occur and go round (a parser that always said one would fail)", () => {
    const truth = simSample(4300, { noise: "none", masks: "gt", width: 160, height: 120 }).truth;
    const { questions } = generateQuestions(truth, mulberry32(4300), { perType: 3 });
    const values = new Map<string, Set<number>>();
    for (const q of questions) {
      const parsedQ = tryParseQuestion(q.text)!;
      const a = answerQuestion(truth, q.text);
      const p = parseAnswerText(a.text, parsedQ.type, parsedQ.slots);
      const cat = questionType(q.type).category;
      if (cat === "qualitative" || cat === "choice") {
        expect(p.value, a.text).toBe(a.value);
        const s = values.get(cat) ?? new Set<number>();
        s.add(p.value);
        values.set(cat, s);
      }
    }
    expect([...(values.get("qualitative") ?? [])].sort()).toEqual([0, 1]);
    expect([...(values.get("choice") ?? [])].sort()).toEqual([0, 1]);
  });
});

describe("parseAnswerText reads what it should and refuses the rest", () => {
  it("lengths in every unit, the first length counts, 'in' only as an abbreviation", () => {
    const t: QuestionTypeId = "distance";
    const s = ["mug", "bowl"];
    expect(parseAnswerText("The mug is 23 cm from the bowl.", t, s)).toMatchObject({ status: "ok", value: 0.23, unit: "m" });
    expect(parseAnswerText("1.25 m", t, s).value).toBeCloseTo(1.25, 12);
    expect(parseAnswerText("about 4.6cm, maybe 5 cm", t, s).value).toBeCloseTo(0.046, 12);
    expect(parseAnswerText("12 in.", t, s).value).toBeCloseTo(0.3048, 12);
    expect(parseAnswerText("0.77 feet", t, s).value).toBeCloseTo(0.77 * 0.3048, 12);
    expect(parseAnswerText("234 mm", t, s).value).toBeCloseTo(0.234, 12);
    expect(parseAnswerText("3 in a row", t, s).status).toBe("unparsed");
    expect(parseAnswerText("23", t, s).status).toBe("unparsed");
    expect(parseAnswerText("twenty cm", t, s).status).toBe("unparsed");
    expect(parseAnswerText("23 mugs", t, s).status).toBe("unparsed");
  });

  it("yes/no from the first word only; clock hours 1..12 only", () => {
    expect(parseAnswerText("Not quite: the mug is not left of the bowl.", "left_of", ["mug", "bowl"])).toMatchObject({ value: 0, boolean: false });
    expect(parseAnswerText("Correct: the mug is left of the bowl.", "left_of", ["mug", "bowl"])).toMatchObject({ value: 1, boolean: true });
    expect(parseAnswerText("The mug is left of the bowl, yes.", "left_of", ["mug", "bowl"]).status).toBe("unparsed");
    expect(parseAnswerText("From the bowl, the mug is at 11 o’clock.", "clock_direction", ["mug", "bowl"]).value).toBe(11);
    expect(parseAnswerText("3 o clock", "clock_direction", ["mug", "bowl"]).value).toBe(3);
    for (const bad of ["13 o'clock", "0 o'clock", "2.5 o'clock", "three o'clock"]) {
      expect(parseAnswerText(bad, "clock_direction", ["mug", "bowl"]).status, bad).toBe("unparsed");
    }
  });

  it("which-one: the slot named first, by phrase or canonical colour + kind; neither named is unparsed", () => {
    const s = ["red mug", "bowl"];
    expect(parseAnswerText("The red mug is higher than the blue bowl.", "which_higher", s)).toMatchObject({ value: 0, choice: "red mug" });
    expect(parseAnswerText("Of the two, the blue bowl is higher.", "which_higher", s)).toMatchObject({ value: 1, choice: "bowl" });
    expect(parseAnswerText("The bowl is closer to the red mug.", "which_closer_to", ["cube", "bowl", "red mug"])).toMatchObject({ value: 1 });
    // A synonym in the question, the canonical kind in the answer.
    expect(parseAnswerText("The block is taller.", "which_taller", ["apple", "block"]).status).toBe("ok");
    expect(parseAnswerText("The red cube is taller.", "which_taller", ["apple", "red block"])).toMatchObject({ value: 1 });
    expect(parseAnswerText("The green teapot is higher.", "which_higher", s).status).toBe("unparsed");
    // Whole words: "mugs" and "bowling" are not the mug or the bowl.
    expect(parseAnswerText("The bowling red mugs", "which_higher", ["red mug", "bowl"]).status).toBe("unparsed");
  });
});

describe("parseAnswerText on hostile text", () => {
  const TYPES = QUESTION_TYPE_IDS;
  const PIECES = [
    "1e999 m", "NaN m", "-Infinity cm", "Infinity cm", "0x1F cm", "-0 m", "1e-400 m", "99999999999999999999999 m",
    "1.2.3 m", ".5 m", "5. m", "o'clock", "12 o", "o' clock", "yes", "no", "not", "the", "mug", "red mug", "bowl",
    "\u0000", "\u001b[2J", "\r\n", "\u200b", "\u202e", "\ud800", "\udfff", "😀", "ｍ", "İ", "ß", "\uFEFF", "__proto__",
    "constructor", "<script>", "\\", "\"", ",", ".", "(", ")", " ",
  ];

  it("never throws and returns ok or unparsed with a finite value or NaN, for random and adversarial texts", () => {
    const r = mulberry32(99);
    for (let i = 0; i < 5000; i++) {
      const n = Math.floor(r() * 30);
      let text = "";
      for (let k = 0; k < n; k++) text += r() < 0.7 ? PIECES[Math.floor(r() * PIECES.length)] : String.fromCharCode(Math.floor(r() * 0x10000));
      const type = TYPES[Math.floor(r() * TYPES.length)];
      const slots = [PIECES[Math.floor(r() * PIECES.length)], "mug", PIECES[Math.floor(r() * PIECES.length)]];
      const p = parseAnswerText(text, type, slots);
      expect(["ok", "unparsed"]).toContain(p.status);
      if (p.status === "ok") expect(Number.isFinite(p.value), text).toBe(true);
      else expect(Number.isNaN(p.value)).toBe(true);
    }
  });

  it("oversized, digit-heavy and non-string input is unparsed at once, not scanned", () => {
    expect(parseAnswerText("1".repeat(MAX_ANSWER_TEXT_LENGTH + 1) + " m", "distance", ["a", "b"]).status).toBe("unparsed");
    // Just under the cap: one long number then a unit is read (finite) or refused, never a crash.
    const long = parseAnswerText("9".repeat(MAX_ANSWER_TEXT_LENGTH - 2) + " m", "distance", ["a", "b"]);
    expect(long.status === "unparsed" || Number.isFinite(long.value)).toBe(true);
    expect(parseAnswerText("1.".repeat(2000), "distance", ["a", "b"]).status).toBe("unparsed");
    expect(parseAnswerText(null as unknown as string, "distance", ["a", "b"]).status).toBe("unparsed");
    expect(parseAnswerText("the mug", "which_higher", []).status).toBe("unparsed");
  });
});
