import { InvalidInputError } from "../errors.js";
import { COLOR_NAMES, COLOR_SYNONYMS } from "../scene/colors.js";
import { KINDS } from "../scene/kinds.js";
import { ByteBudgetLru } from "./byte_budget_lru.js";
import { capEcho } from "./echoed_text.js";
import { LENGTH_UNIT_WORDS, LENGTH_UNITS, lengthUnitForWord, type LengthUnit } from "./length_units.js";
import { parseByMeaning } from "./meaning_parser.js";
import { WILDCARD_NOUNS } from "./object_resolver.js";
import { QUESTION_TEMPLATES, SLOT_MARKERS } from "./question_templates.js";
import { QUESTION_TYPES, type QuestionTypeId } from "./question_types.js";

/** A question's type and its object phrases in the type's slot order (A, B, C). */
export interface ParsedQuestion {
  type: QuestionTypeId;
  slots: string[];
  /** The unit the question asks lengths in ("... in inches?"); absent when it names none. */
  unit?: LengthUnit;
}

/**
 * The longest question accepted, in UTF-16 code units. Real questions are under 200; the bound
 * keeps the cost of parsing (regexes over the text) and of remembering a question small.
 */
export const MAX_QUESTION_LENGTH = 1000;

/**
 * Throws InvalidInputError("input_too_long") for a question longer than MAX_QUESTION_LENGTH.
 * Costs nothing but the length check, so it runs before any work on the text.
 */
export function checkQuestionLength(text: string): void {
  if (typeof text !== "string") throw new InvalidInputError("bad_argument", `a question must be a string, got ${typeof text}`);
  if (text.length > MAX_QUESTION_LENGTH) {
    throw new InvalidInputError(
      "input_too_long",
      `the question is ${text.length} characters long; at most ${MAX_QUESTION_LENGTH} are accepted`,
    );
  }
}

export const EXAMPLE_QUESTIONS: readonly string[] = [
  "How far is the red mug from the blue bowl?",
  "Is the apple to the left of the bowl?",
  "Which is taller, the bottle or the can?",
  "How tall is the green cup?",
  "At what clock position is the mug from the plate?",
];

/** A question that matches none of the known phrasings and that the meaning parser does not understand. */
export class UnparsedQuestionError extends InvalidInputError {
  readonly examples: readonly string[];
  /** What was not understood ("I don't know the word "teapots""), or null. */
  readonly reason: string | null;
  constructor(text: string, reason: string | null = null) {
    super(
      "unparsed_question",
      `I could not understand "${capEcho(text.trim())}"${reason ? ` (${reason})` : ""}. Try questions like: ${EXAMPLE_QUESTIONS.map((q) => `"${q}"`).join(", ")}.`,
    );
    this.examples = EXAMPLE_QUESTIONS;
    this.reason = reason;
  }
}

// Normalisation: every regex here is built once at module load; parsing builds none.
const APOSTROPHES = /['\u2019`]/g;
const O_CLOCK = /\bo clock\b/g;
const SEPARATORS = /[,;:]/g;
const OTHER_PUNCTUATION = /[^a-z0-9#,\s]/g;
const SPACES = /\s+/g;
const LEADING_FILLER =
  /^(?:(?:hey|hi|ok|okay|so|please|pls|plz|quick question|question|robot) ,? ?)*(?:(?:can|could|would) you (?:please |pls )?)?/;
const TELL_ME = /^(?:(?:please|pls|plz) )?(?:tell|show|give) me /;
const UNIT_WORDS = LENGTH_UNITS.flatMap((u) => LENGTH_UNIT_WORDS[u]).sort((a, b) => b.length - a.length).join("|");
// A unit request ("in inches", "in cm please") at the end, at the start or between commas.
// Trailing words are peeled off one at a time (a repeated group would forget its capture).
const TRAILING_WORD = new RegExp(
  `(?: ,)? (?:please|pls|plz|thanks|thank you|roughly|approximately|exactly|(?:in|using) (${UNIT_WORDS}))$`,
);
const LEADING_UNIT = new RegExp(`^(?:in|using) (${UNIT_WORDS})\\b ,? ?`);
const INNER_UNIT = new RegExp(` , (?:in|using) (${UNIT_WORDS}) ,`);
const WORD_REPLACEMENTS: ReadonlyMap<string, string> = new Map([
  ["whats", "what is"],
  ["wheres", "where is"],
  ["hows", "how is"],
  ["which one", "which"],
  ["which object", "which"],
  ["further", "farther"],
]);
const PHRASE_REPLACEMENTS: readonly [RegExp, string][] = [...WORD_REPLACEMENTS].map(
  ([from, to]) => [new RegExp(`\\b${from}\\b`, "g"), to],
);
const THE = /\bthe\b/g;

/**
 * Lower case, punctuation dropped except commas (kept as a " , " token because they separate
 * object phrases in "which is closer to C, A or B"), "the" dropped, filler words dropped.
 */
export function normalizeQuestion(text: string): string {
  return normalize(text).text;
}

/** normalizeQuestion, plus the length unit the question asks for (removed from the text). */
function normalize(text: string): { text: string; unit: LengthUnit | undefined } {
  const found: { unit: LengthUnit | undefined } = { unit: undefined };
  const takeUnit = (_m: string, word: string): string => {
    found.unit = lengthUnitForWord(word) ?? found.unit;
    return "";
  };
  let s = text.toLowerCase().replace(APOSTROPHES, "");
  s = s.replace(SEPARATORS, " , ").replace(OTHER_PUNCTUATION, " ").replace(THE, " ").replace(SPACES, " ").trim();
  // Multi-word replacements need the spaces collapsed first.
  s = s.replace(O_CLOCK, "oclock");
  for (const [re, to] of PHRASE_REPLACEMENTS) s = s.replace(re, to);
  s = s.replace(LEADING_UNIT, takeUnit).replace(INNER_UNIT, (m, w: string) => `${takeUnit(m, w)} ,`);
  s = s.replace(LEADING_FILLER, "").replace(TELL_ME, "");
  let lastUnit: LengthUnit | undefined;
  for (let m = TRAILING_WORD.exec(s); m !== null; m = TRAILING_WORD.exec(s)) {
    // Of several requests the last one said counts, which is the first one peeled off.
    if (m[1] !== undefined) lastUnit ??= lengthUnitForWord(m[1]);
    s = s.slice(0, m.index);
  }
  if (lastUnit !== undefined) found.unit = lastUnit;
  // Commas left at either end carry no meaning.
  while (s.startsWith(",")) s = s.slice(1).trimStart();
  while (s.endsWith(",")) s = s.slice(0, -1).trimEnd();
  return { text: s, unit: found.unit };
}

interface CompiledTemplate {
  type: QuestionTypeId;
  regex: RegExp;
  /** Capture group i holds the text of slot slotOrder[i] (0 = A, 1 = B, 2 = C). */
  slotOrder: number[];
  arity: number;
  /** Literal characters: more literal text means a more specific template, tried first. */
  specificity: number;
  firstWord: string | null;
  literalWords: string[];
  /** The template's longest literal words: a text lacking one cannot match, checked before the regex. */
  requiredWords: string[];
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

function compileTemplate(type: QuestionTypeId, arity: number, template: string): CompiledTemplate {
  // Protect slot markers from normalisation, which would strip their braces.
  const marked = SLOT_MARKERS.reduce((t, m, i) => t.split(m).join(` slot${i}marker `), template);
  const tokens = normalizeQuestion(marked).split(" ").map((t) => t.replace(/^slot(\d)marker$/, "{$1}"));
  let source = "^";
  const slotOrder: number[] = [];
  let specificity = 0;
  const literalWords: string[] = [];
  const isSlot = (t: string | undefined): boolean => t !== undefined && /^\{\d\}$/.test(t);
  let emitted = false;
  let afterRequiredComma = false;
  tokens.forEach((tok, i) => {
    if (tok === ",") {
      // Between two object phrases ("closer to C, A or B") the comma is what separates them,
      // so it is required; anywhere else it is optional, as people often leave it out.
      if (isSlot(tokens[i - 1]) && isSlot(tokens[i + 1])) {
        source += " ,";
        afterRequiredComma = true;
      }
      return;
    }
    if (emitted) source += afterRequiredComma ? " " : " (?:, )?";
    emitted = true;
    afterRequiredComma = false;
    const slot = /^\{(\d)\}$/.exec(tok);
    if (slot) {
      slotOrder.push(Number(slot[1]));
      source += "([^,]+?)";
    } else {
      source += escapeRegExp(tok);
      specificity += tok.length;
      literalWords.push(tok);
    }
  });
  const first = tokens[0];
  return {
    type, arity, slotOrder, specificity, literalWords,
    requiredWords: [...new Set(literalWords)].sort((a, b) => b.length - a.length).slice(0, 3),
    regex: new RegExp(source + "$"),
    firstWord: /^\{\d\}$/.test(first) ? null : first,
  };
}

const COMPILED: readonly CompiledTemplate[] = QUESTION_TYPES.flatMap((t) =>
  QUESTION_TEMPLATES[t.id].map((tpl) => compileTemplate(t.id, t.arity, tpl)),
).sort((a, b) => b.specificity - a.specificity);

/** Templates to try for a first word: those starting with it, plus those starting with a slot. */
const BY_FIRST_WORD: ReadonlyMap<string, readonly CompiledTemplate[]> = (() => {
  const words = new Set(COMPILED.flatMap((c) => (c.firstWord ? [c.firstWord] : [])));
  return new Map([...words].map((w) => [w, COMPILED.filter((c) => c.firstWord === w || c.firstWord === null)]));
})();
const SLOT_FIRST: readonly CompiledTemplate[] = COMPILED.filter((c) => c.firstWord === null);

/**
 * Words of the templates themselves. An object phrase containing one ("red mug to left") is
 * more likely a wrong split of the question than a real object, so such matches are kept only
 * as a fallback when no cleaner template matches. Kind and colour words are never reserved.
 */
const RESERVED_WORDS: ReadonlySet<string> = (() => {
  const objectWords = new Set<string>([...COLOR_NAMES, ...Object.keys(COLOR_SYNONYMS)]);
  for (const k of KINDS) for (const w of [k.kind, k.plural, ...k.synonyms].join(" ").split(" ")) objectWords.add(w);
  const words = new Set<string>(["table", "surface"]);
  for (const c of COMPILED) for (const w of c.literalWords) words.add(w);
  for (const w of objectWords) words.delete(w);
  return words;
})();

/**
 * Words that join or relate phrases. A slot holding one is a wrong split of the question
 * ("mug to left or"), never an object name, so it is rejected outright.
 */
const CONNECTOR_WORDS: ReadonlySet<string> = new Set([
  "or", "and", "than", "to", "from", "between", "is", "are", "which", "what", "how",
  "camera", "viewer", "me", "you", "us",
]);

const CLEAN = 0, RESERVED = 1, CONNECTOR = 2;

/** CLEAN, RESERVED (holds a template word: fallback only) or CONNECTOR (never an object). */
function slotQuality(slot: string): number {
  let quality = CLEAN;
  let start = 0;
  for (let i = 0; i <= slot.length; i++) {
    if (i === slot.length || slot.charCodeAt(i) === 32) {
      if (i > start) {
        const w = slot.slice(start, i);
        if (CONNECTOR_WORDS.has(w)) return CONNECTOR;
        if (RESERVED_WORDS.has(w)) quality = RESERVED;
      }
      start = i + 1;
    }
  }
  return quality;
}

function containsAll(s: string, words: readonly string[]): boolean {
  for (const w of words) if (!s.includes(w)) return false;
  return true;
}

function toParsed(c: CompiledTemplate, m: RegExpExecArray): ParsedQuestion {
  const slots = new Array<string>(c.arity);
  for (let g = 0; g < c.slotOrder.length; g++) slots[c.slotOrder[g]] = m[g + 1];
  return { type: c.type, slots };
}

/** Parses an already-normalised question; null when nothing matches. */
function parseNormalized(s: string): ParsedQuestion | null {
  const space = s.indexOf(" ");
  const first = space < 0 ? s : s.slice(0, space);
  const candidates = BY_FIRST_WORD.get(first) ?? SLOT_FIRST;
  let fallback: ParsedQuestion | null = null;
  for (const c of candidates) {
    if (!containsAll(s, c.requiredWords)) continue;
    const m = c.regex.exec(s);
    if (m === null) continue;
    let quality = CLEAN;
    for (let g = 1; g < m.length; g++) quality = Math.max(quality, slotQuality(m[g]));
    if (quality === CLEAN) return toParsed(c, m);
    if (quality === RESERVED) fallback ??= toParsed(c, m);
  }
  return fallback;
}

/** Words an object's name is made of: colours, kinds (and their synonyms), "thing"/"object"/"one". */
const OBJECT_NAME_WORDS: ReadonlySet<string> = (() => {
  const words = new Set<string>([...COLOR_NAMES, ...Object.keys(COLOR_SYNONYMS), ...WILDCARD_NOUNS, "a", "an"]);
  for (const k of KINDS) for (const w of [k.kind, k.plural, ...k.synonyms].join(" ").split(" ")) words.add(w);
  return words;
})();

/** A slot made only of object-name words, or a track id ("mug#2"). */
function isObjectName(slot: string): boolean {
  if (/^[a-z0-9_]+#[a-z0-9_]+$/.test(slot)) return true;
  let start = 0;
  for (let i = 0; i <= slot.length; i++) {
    if (i === slot.length || slot.charCodeAt(i) === 32) {
      if (i > start && !OBJECT_NAME_WORDS.has(slot.slice(start, i))) return false;
      start = i + 1;
    }
  }
  return true;
}

/** Most questions the parse cache remembers... */
export const QUESTION_CACHE_ENTRIES = 512;
/** ...and most bytes (estimated) it holds: distinct long questions evict old ones instead of growing memory. */
export const QUESTION_CACHE_BUDGET_BYTES = 1024 * 1024;
// Nodes ask the same questions frame after frame; remembering them makes repeats a map lookup.
// A question not understood is remembered with the reason.
const cache = new ByteBudgetLru<string, ParsedQuestion | string>(QUESTION_CACHE_ENTRIES, QUESTION_CACHE_BUDGET_BYTES);
/** Map entry, object and array headers of one cached question. */
const ENTRY_OVERHEAD_BYTES = 160;

/** What the question-parse cache holds now (for tests and diagnostics). */
export function questionCacheStats(): { entries: number; bytes: number; budgetBytes: number } {
  return { entries: cache.size, bytes: cache.bytes, budgetBytes: cache.maxBytes };
}

/** Empties the question-parse cache. */
export function clearQuestionCache(): void {
  cache.clear();
}

function copyParsed(p: SharedParsedQuestion): ParsedQuestion {
  const out: ParsedQuestion = { type: p.type, slots: p.slots.slice() };
  if (p.unit !== undefined) out.unit = p.unit;
  return out;
}

/**
 * The question parsed, or why it was not understood. The templates are tried first, so every
 * phrasing they know parses exactly as before; a question they do not match goes to the
 * meaning parser (meaning_parser.ts: relation and quantity words, object mentions, any word
 * order, fragments, typos). Throws InvalidInputError ("input_too_long") for a question over
 * MAX_QUESTION_LENGTH, before looking at its text.
 */
export function parseQuestionOrReason(text: string): ParsedQuestion | { reason: string } {
  const p = parseQuestionShared(text);
  return "reason" in p ? p : copyParsed(p);
}

/** A parse as the cache holds it: shared by every caller of the same text, for reading only. */
export interface SharedParsedQuestion {
  readonly type: QuestionTypeId;
  readonly slots: readonly string[];
  readonly unit?: LengthUnit;
}

/**
 * parseQuestionOrReason without the copy: the parse cache's own entry, for reading only (the
 * per-frame query path reads it and keeps nothing; a copy per question was two allocations
 * per question per frame).
 */
export function parseQuestionShared(text: string): SharedParsedQuestion | { reason: string } {
  checkQuestionLength(text);
  const hit = cache.get(text);
  if (hit !== undefined) return typeof hit === "string" ? { reason: hit } : hit;
  const normalized = normalize(text);
  let parsed: ParsedQuestion | string | null = parseNormalized(normalized.text);
  if (parsed !== null && normalized.unit !== undefined) parsed = { ...parsed, unit: normalized.unit };
  let kept = normalized.text.length;
  // A template's slot captures any words between its literal ones: "the bowl sideways" in "how
  // far is the mug from the bowl sideways" (no template has "sideways" at the end). A slot
  // holding words that name no object is a sign of that; the meaning parser then decides, and
  // the template's parse stands only where the meaning parser understands nothing better
  // ("how tall is the left shoe": a kind it does not know).
  if (parsed === null || !parsed.slots.every(isObjectName)) {
    const meaning = parseByMeaning(text);
    // A negation or a relation no type answers ("on top of") is refused even where a template
    // matched around it ("is the mug not left of the bowl": slot "mug not").
    if (meaning.ok || parsed === null || meaning.certain === true) {
      parsed = meaning.ok ? meaning.parsed : meaning.reason;
      kept = typeof parsed === "string" ? parsed.length : parsed.slots.reduce((n, x) => n + x.length, 0);
    }
  }
  // Two bytes per UTF-16 unit for the key and for the text the entry keeps alive (normalised text or slots, or the reason).
  cache.set(text, parsed, 2 * (text.length + kept) + ENTRY_OVERHEAD_BYTES);
  return typeof parsed === "string" ? { reason: parsed } : parsed;
}

/**
 * Like parseQuestion, but returns null instead of throwing for a question it does not
 * understand (no exception cost on hot paths). Still throws InvalidInputError
 * ("input_too_long") for a question over MAX_QUESTION_LENGTH, before looking at its text.
 */
export function tryParseQuestion(text: string): ParsedQuestion | null {
  const p = parseQuestionOrReason(text);
  return "reason" in p ? null : p;
}

/**
 * "How far is the red mug from the blue bowl?" → {type: "distance", slots: ["red mug", "blue bowl"]}.
 * Slots are object phrases for resolveObject, in the type's slot order (A, B, C), with "the"
 * removed. Throws UnparsedQuestionError (code "unparsed_question") saying what was not
 * understood and listing example questions, or InvalidInputError ("input_too_long") for a
 * question over MAX_QUESTION_LENGTH.
 */
export function parseQuestion(text: string): ParsedQuestion {
  const parsed = parseQuestionOrReason(text);
  if ("reason" in parsed) throw new UnparsedQuestionError(text, parsed.reason);
  return parsed;
}
