import { describe, expect, it } from "vitest";
import { isSpatialRewardError } from "../../src/errors.js";
import {
  answerQuestion, fillTemplate, MAX_QUESTION_LENGTH, QUESTION_TEMPLATES, QUESTION_TYPES, type SpatialAnswer,
} from "../../src/spatial/index.js";
import { rng, tabletop } from "./scene_fixtures.js";

/** Longest answer sentence the fixture scene may produce for any question. */
const MAX_ANSWER_TEXT = 600;

const NAMES = ["the red mug", "the blue bowl", "the yellow bottle", "the apple", "the mug", "the green teapot", "mug#2", "the brown book"];
const PIECES = [
  "1e999 m", "NaN", "-Infinity", "Infinity cm", "0x1F", "-0", "1e-400", "in inches", "in feet", "in mm", "in", "please",
  ",", ", ,", "((((((((((", "))))))))", "[[{{", "the", "the the the", "or", "and", "from", "which", "is", "?", "o'clock",
  "\u0000", "\u0007", "\u001b[2J", "\r\n", "\t", "\u200b", "\u202e", "\ud800", "\udfff", "😀", "ｍｕｇ", "İ", "ß", "\uFEFF",
  "%s%n", "${x}", "__proto__", "constructor", "<script>", "'; DROP TABLE", "\\", "\"", "mug#", "#", " ",
];

function pick<T>(r: () => number, xs: readonly T[]): T {
  return xs[Math.floor(r() * xs.length)];
}

function randomUnicode(r: () => number, n: number): string {
  let s = "";
  for (let i = 0; i < n; i++) {
    const band = r();
    const cp = band < 0.5 ? 32 + Math.floor(r() * 95) : band < 0.6 ? Math.floor(r() * 32) : band < 0.8 ? Math.floor(r() * 0xd800)
      : band < 0.85 ? 0xd800 + Math.floor(r() * 0x800) /* lone surrogates */ : Math.floor(r() * 0x110000);
    s += cp >= 0xd800 && cp <= 0xdfff ? String.fromCharCode(cp) : String.fromCodePoint(cp);
  }
  return s;
}

function validQuestion(r: () => number): string {
  const t = pick(r, QUESTION_TYPES);
  const names = Array.from({ length: t.arity }, () => pick(r, NAMES));
  return fillTemplate(pick(r, QUESTION_TEMPLATES[t.id]), names);
}

function mutate(r: () => number, q: string): string {
  let s = q;
  const edits = 1 + Math.floor(r() * 4);
  for (let e = 0; e < edits; e++) {
    const at = Math.floor(r() * (s.length + 1));
    const op = r();
    if (op < 0.3) s = s.slice(0, at) + pick(r, PIECES) + s.slice(at);
    else if (op < 0.45) s = s.slice(0, at) + s.slice(at + 1 + Math.floor(r() * 5));
    else if (op < 0.6) s = s.slice(0, at) + randomUnicode(r, 1 + Math.floor(r() * 6)) + s.slice(at);
    else if (op < 0.7) s = s.slice(0, at) + s.slice(at, at + 8).repeat(1 + Math.floor(r() * 150)) + s.slice(at + 8);
    else if (op < 0.8) s = s.toUpperCase();
    else if (op < 0.9) s = `${s} ${pick(r, ["in inches", "in feet", "in mm", "in cm", "in metres", "1e999 m", "NaN m"])}`;
    else s = s.replace(/ /g, pick(r, ["  ", "\t", " , ", "\u00a0", ""]));
  }
  return s;
}

function hostile(r: () => number): string {
  switch (Math.floor(r() * 10)) {
    case 0: return "";
    case 1: return " \t\r\n".repeat(Math.floor(r() * 300));
    case 2: return `How far is ${"(".repeat(Math.floor(r() * 500))}the mug${")".repeat(Math.floor(r() * 500))} from the bowl?`;
    case 3: return `How far is the ${"red ".repeat(Math.floor(r() * 300))}mug from the bowl?`;
    case 4: return `Which is closer to ${"the mug , ".repeat(Math.floor(r() * 120))}the mug or the bowl?`;
    case 5: return `Is ${"the mug or ".repeat(Math.floor(r() * 120))}the bowl closer to the book?`;
    case 6: return `How far is the mug from the bowl${" please".repeat(Math.floor(r() * 160))}`;
    case 7: return "how far is ".repeat(Math.floor(r() * 120)) + "the mug";
    case 8: return randomUnicode(r, Math.floor(r() * 1100));
    default: return `how tall is the ${pick(r, PIECES)} ${pick(r, PIECES)} ${pick(r, PIECES)}`;
  }
}

function check(q: string, a: SpatialAnswer): void {
  if (typeof a.text !== "string" || a.text.length === 0 || a.text.length > MAX_ANSWER_TEXT) {
    throw new Error(`answer text of ${a.text.length} characters for ${JSON.stringify(q.slice(0, 200))}`);
  }
  if (a.status === "ok" && !Number.isFinite(a.value)) throw new Error(`status ok with value ${a.value} for ${JSON.stringify(q)}`);
  if (a.status !== "ok" && !Number.isNaN(a.value)) throw new Error(`refusal with value ${a.value} for ${JSON.stringify(q)}`);
  if (a.question !== q) throw new Error("the answer does not carry the question asked");
}

describe("answerQuestion under hostile questions (fuzz)", () => {
  it("answers thousands of random, mutated and pathological questions: bounded, finite, only typed errors", () => {
    const s = tabletop();
    const r = rng(20240607);
    const statuses: Record<string, number> = {};
    let tooLong = 0;
    const asked: string[] = [];
    for (let i = 0; i < 4000; i++) {
      const kind = i % 4;
      const q = kind === 0 ? randomUnicode(r, Math.floor(r() * 200)) : kind === 1 ? mutate(r, validQuestion(r)) : kind === 2 ? hostile(r)
        : i % 8 === 3 ? validQuestion(r) : pick(r, asked.length > 0 ? asked : [""]); // repeats go through the cache
      asked.push(q);
      let a: SpatialAnswer;
      try {
        a = answerQuestion(s, q, { seed: i });
      } catch (e) {
        if (!isSpatialRewardError(e)) throw new Error(`non-typed ${String(e)} for ${JSON.stringify(q.slice(0, 200))}`);
        // The only rejection of a string is its length, and only beyond the bound.
        expect({ code: e.code, long: q.length > MAX_QUESTION_LENGTH }).toEqual({ code: "input_too_long", long: true });
        tooLong++;
        continue;
      }
      expect(q.length).toBeLessThanOrEqual(MAX_QUESTION_LENGTH);
      check(q, a);
      statuses[a.status] = (statuses[a.status] ?? 0) + 1;
    }
    // The fuzz reached every outcome, so the checks above were exercised on each.
    expect(Object.keys(statuses).sort()).toEqual(["ambiguous_object", "ok", "same_object", "unknown_object", "unparsed"]);
    expect(statuses.ok).toBeGreaterThan(300);
    expect(tooLong).toBeGreaterThan(10);
  });

  it("answers the worst repetitive questions at the length bound", () => {
    const s = tabletop();
    const fill = (unit: string, prefix: string, suffix: string) =>
      prefix + unit.repeat(Math.floor((MAX_QUESTION_LENGTH - prefix.length - suffix.length) / unit.length)) + suffix;
    const worst = [
      fill("the mug or ", "Is ", "the bowl closer to the book?"),
      fill("the mug , ", "Which is closer to ", "the mug or the bowl?"),
      fill(" and", "Between the mug", " the bowl, which is nearer to the book?"),
      fill(" please", "How far is the mug from the bowl", ""),
      fill(" in inches", "How far is the mug from the bowl", ""),
      fill(",", "how far is the mug", " from the bowl"),
      fill("how far is ", "", "the mug"),
      fill("is ", "", "the mug left of the bowl"),
      fill("a ", "How far is ", "from b"),
    ];
    for (const q of worst) {
      expect(q.length).toBeLessThanOrEqual(MAX_QUESTION_LENGTH);
      check(q, answerQuestion(s, q));
    }
  });
});
