import { COLOR_NAMES, COLOR_SYNONYMS } from "../scene/colors.js";
import { KIND_BY_WORD, parseObjectPhrase, WILDCARD_NOUNS } from "./object_resolver.js";
import { objectNameCode } from "./object_name_code.js";
import { questionType, type QuestionTypeId } from "./question_types.js";
import type { SpatialAnswerUnit } from "./spatial_answer.js";

/**
 * Reads a model's answer text back into the engine's structured answer, the way
 * answer_phrasing.ts says it: lengths in cm/mm/m/inches/feet, yes/no, which-one by naming an
 * object, clock hours. The evaluator scores a text-generating model (the backbone) with the same
 * metrics as the engine only through this parser, so it must recover exactly what the engine's
 * own sentences say (tested as a round trip) and nothing a sentence does not say: no guessing,
 * a text it cannot read is "unparsed" (scored as no answer).
 */
export type ParsedAnswerText =
  | {
    readonly status: "ok";
    /** The truth-function encoding: metres, 1/0, chosen slot index (0 = A, 1 = B), hour 1..12. */
    readonly value: number;
    readonly unit: Exclude<SpatialAnswerUnit, "">;
    /** Yes/no answers only. */
    readonly boolean?: boolean;
    /**
     * Which-one answers only: the chosen slot's object phrase, as given in `slots`; superlatives:
     * the chosen object's name as the text says it ("red cup").
     */
    readonly choice?: string;
  }
  | { readonly status: "unparsed"; readonly value: number; readonly unit: ""; readonly reason: string };

/**
 * Longest text read. Answers are a sentence (the engine's longest is a few hundred characters);
 * a longer text is not an answer the engine phrases, and the bound keeps the scan's cost fixed.
 */
export const MAX_ANSWER_TEXT_LENGTH = 4096;

const METRES_PER_UNIT: ReadonlyMap<string, number> = new Map([
  ...["m", "meter", "meters", "metre", "metres"].map((w) => [w, 1] as const),
  ...["cm", "cms", "centimeter", "centimeters", "centimetre", "centimetres"].map((w) => [w, 0.01] as const),
  ...["mm", "millimeter", "millimeters", "millimetre", "millimetres"].map((w) => [w, 0.001] as const),
  ...["in", "inch", "inches"].map((w) => [w, 0.0254] as const),
  ...["ft", "foot", "feet"].map((w) => [w, 0.3048] as const),
]);
const YES_WORDS: ReadonlySet<string> = new Set(["yes", "correct", "yeah", "yep", "true"]);
const NO_WORDS: ReadonlySet<string> = new Set(["no", "not", "nope", "incorrect", "false"]);

type Token = { readonly kind: "word" | "number" | "punct"; readonly text: string };

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}
function isLetter(c: number): boolean {
  return c >= 97 && c <= 122;
}

/**
 * Lower-cased words ([a-z]+), decimal numbers (digits with at most one point) and single
 * punctuation marks; whitespace and anything else separate tokens. One linear pass, no regex
 * backtracking, whatever the text. "o'clock", "o’clock" and "o clock" become the word "oclock".
 */
function tokenize(text: string): Token[] {
  const s = text.toLowerCase();
  const out: Token[] = [];
  let i = 0;
  while (i < s.length) {
    const c = s.charCodeAt(i);
    if (isLetter(c)) {
      let j = i + 1;
      while (j < s.length && isLetter(s.charCodeAt(j))) j++;
      out.push({ kind: "word", text: s.slice(i, j) });
      i = j;
    } else if (isDigit(c) || (c === 46 && i + 1 < s.length && isDigit(s.charCodeAt(i + 1)))) {
      let j = i;
      let dot = false;
      while (j < s.length) {
        const d = s.charCodeAt(j);
        if (isDigit(d)) j++;
        else if (d === 46 && !dot && j + 1 < s.length && isDigit(s.charCodeAt(j + 1))) {
          dot = true;
          j++;
        } else break;
      }
      out.push({ kind: "number", text: s.slice(i, j) });
      i = j;
    } else {
      if (c === 46 || c === 44 || c === 59 || c === 58 || c === 33 || c === 63 || c === 41) out.push({ kind: "punct", text: s[i] });
      i++;
    }
  }
  // o'clock: the apostrophe is not a token, so "o'clock" and "o clock" are the words o, clock.
  const merged: Token[] = [];
  for (let k = 0; k < out.length; k++) {
    const t = out[k];
    if (t.kind === "word" && t.text === "o" && out[k + 1]?.kind === "word" && out[k + 1].text === "clock") {
      merged.push({ kind: "word", text: "oclock" });
      k++;
    } else merged.push(t);
  }
  return merged;
}

function unparsed(reason: string): ParsedAnswerText {
  return { status: "unparsed", value: NaN, unit: "", reason };
}

/** The first "<number> <length unit>" in the text, in metres; "in" counts only before punctuation or the end. */
function firstLength(tokens: readonly Token[]): number | null {
  for (let k = 0; k + 1 < tokens.length; k++) {
    if (tokens[k].kind !== "number" || tokens[k + 1].kind !== "word") continue;
    const unit = tokens[k + 1].text;
    const per = METRES_PER_UNIT.get(unit);
    if (per === undefined) continue;
    // "3 in a row" is a preposition; "12 in." and "12 in" at the end are inches.
    if (unit === "in" && tokens[k + 2]?.kind === "word") continue;
    const v = Number(tokens[k].text) * per;
    if (Number.isFinite(v)) return v;
  }
  return null;
}

const NUMBER_WORDS: ReadonlyMap<string, number> = new Map(
  ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve"].map((w, i) => [w, i]),
);

/** The first whole number ("3", "three", "no"/"none" → 0) in a count answer. */
function firstCount(tokens: readonly Token[]): number | null {
  for (const t of tokens) {
    if (t.kind === "number") {
      const v = Number(t.text);
      // "3.5 cubes" is no count; the first number decides, so a wrong one is never skipped over.
      return Number.isSafeInteger(v) ? v : null;
    }
    if (t.kind === "word") {
      const w = NUMBER_WORDS.get(t.text) ?? (t.text === "no" || t.text === "none" ? 0 : undefined);
      if (w !== undefined) return w;
    }
  }
  return null;
}

/** The colour a text ends up naming: its last colour word ("the lemon is yellow"), as an index in COLOR_NAMES. */
function lastColor(tokens: readonly Token[]): number | null {
  for (let k = tokens.length - 1; k >= 0; k--) {
    if (tokens[k].kind !== "word") continue;
    const w = tokens[k].text;
    const i = COLOR_NAMES.indexOf(COLOR_SYNONYMS[w] ?? w);
    if (i >= 0) return i;
  }
  return null;
}

/**
 * Object names in a text, in order: [colour] kind ("red cup", "bottle"), or a colour and the
 * word after it ("green teapot"), as canonical "colour kind" strings.
 */
function objectNames(words: readonly string[]): string[] {
  const out: string[] = [];
  for (let k = 0; k < words.length; k++) {
    const w = words[k];
    const color = COLOR_NAMES.includes(COLOR_SYNONYMS[w] ?? w) ? (COLOR_SYNONYMS[w] ?? w) : null;
    const noun = color !== null ? words[k + 1] : w;
    if (noun === undefined) continue;
    const kind = KIND_BY_WORD.get(noun) ?? (color !== null && !WILDCARD_NOUNS.has(noun) && COLOR_NAMES.indexOf(noun) < 0 ? noun : undefined);
    if (kind === undefined) continue;
    out.push(color !== null ? `${color} ${kind}` : kind);
    if (color !== null) k++;
  }
  return out;
}

/** Whether an object phrase ("book", "red book") describes a canonical name ("brown book"). */
function describes(phrase: string, name: string): boolean {
  const p = parseObjectPhrase(phrase);
  const n = parseObjectPhrase(name);
  return p.kind === n.kind && (p.color === null || p.color === n.color);
}

function firstHour(tokens: readonly Token[]): number | null {
  for (let k = 0; k + 1 < tokens.length; k++) {
    if (tokens[k].kind === "number" && tokens[k + 1].kind === "word" && tokens[k + 1].text === "oclock") {
      const h = Number(tokens[k].text);
      return Number.isInteger(h) && h >= 1 && h <= 12 ? h : null;
    }
  }
  return null;
}

/** Word sequences that name a slot's object: its phrase as asked and its canonical "colour kind". */
function slotForms(slot: string): string[][] {
  const words = (s: string): string[] => tokenize(s).filter((t) => t.kind === "word" && t.text !== "the").map((t) => t.text);
  const p = parseObjectPhrase(slot);
  const forms = [words(slot), words(p.color ? `${p.color} ${p.kind}` : p.kind)];
  return forms.filter((f, i) => f.length > 0 && forms.findIndex((g) => g.join(" ") === f.join(" ")) === i);
}

/** Index of the first token where `form` occurs as whole words, or -1. */
function firstOccurrence(words: readonly string[], form: readonly string[]): number {
  outer: for (let k = 0; k + form.length <= words.length; k++) {
    for (let j = 0; j < form.length; j++) if (words[k + j] !== form[j]) continue outer;
    return k;
  }
  return -1;
}

/**
 * The engine's structured answer in a text, for a question of `type` whose object phrases are
 * `slots` (slot order A, B, C, as the question parser gives them for the same question):
 * - quantitative: the first "<number> <unit>" (cm, mm, m, inches, feet and their spellings) in metres;
 * - yes/no: the first word (yes/correct → 1; no/not/"not quite" → 0);
 * - which-one: of slots A and B, the one named first ("The red mug is higher than the bowl."),
 *   by its phrase or its canonical colour + kind;
 * - clock: the first "<hour> o'clock", 1..12;
 * - count: the first whole number ("3", "three"; "no" is 0);
 * - colour: the last colour word, as its index in COLOR_NAMES;
 * - superlative: the first object named (colour + kind) other than slot B's object, as its
 *   objectNameCode (slots: the set phrase, then slot B's phrase if the type has one).
 * Anything else, or a text over MAX_ANSWER_TEXT_LENGTH, is "unparsed" with a reason. Pure; never
 * throws for any string.
 */
export function parseAnswerText(text: string, type: QuestionTypeId, slots: readonly string[]): ParsedAnswerText {
  if (typeof text !== "string") return unparsed("the answer is not text");
  if (text.length > MAX_ANSWER_TEXT_LENGTH) return unparsed(`the answer is ${text.length} characters, more than ${MAX_ANSWER_TEXT_LENGTH}`);
  const tokens = tokenize(text);
  switch (questionType(type).category) {
    case "quantitative": {
      const v = firstLength(tokens);
      return v === null ? unparsed("no length with a unit") : { status: "ok", value: v, unit: "m" };
    }
    case "clock": {
      const h = firstHour(tokens);
      return h === null ? unparsed("no hour from 1 to 12 o'clock") : { status: "ok", value: h, unit: "hour" };
    }
    case "qualitative": {
      const first = tokens.find((t) => t.kind === "word");
      if (first && YES_WORDS.has(first.text)) return { status: "ok", value: 1, unit: "bool", boolean: true };
      if (first && NO_WORDS.has(first.text)) return { status: "ok", value: 0, unit: "bool", boolean: false };
      return unparsed("does not start with yes or no");
    }
    case "choice": {
      const words = tokens.filter((t) => t.kind === "word").map((t) => t.text);
      let best = -1;
      let at = Infinity;
      for (let s = 0; s < Math.min(2, slots.length); s++) {
        for (const form of slotForms(slots[s])) {
          const k = firstOccurrence(words, form);
          if (k >= 0 && k < at) {
            at = k;
            best = s;
          }
        }
      }
      return best < 0 ? unparsed("names neither object") : { status: "ok", value: best, unit: "choice", choice: slots[best] };
    }
    case "count": {
      const n = firstCount(tokens);
      return n === null ? unparsed("no whole number") : { status: "ok", value: n, unit: "count" };
    }
    case "color": {
      const c = lastColor(tokens);
      return c === null ? unparsed("names no colour") : { status: "ok", value: c, unit: "color" };
    }
    case "superlative": {
      const words = tokens.filter((t) => t.kind === "word").map((t) => t.text);
      const reference = slots.length > 1 ? slots[1] : null;
      const chosen = objectNames(words).find((n) => reference === null || !describes(reference, n));
      return chosen === undefined ? unparsed("names no object") : { status: "ok", value: objectNameCode(chosen), unit: "object", choice: chosen };
    }
  }
}
