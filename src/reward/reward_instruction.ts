import type { Relation, RewardSpec } from "./reward_spec.js";
import { RewardSpecError, examplesHint, quoted } from "./reward_spec_error.js";
import { DEFAULT_DISTANCE_TOLERANCE, DEFAULT_LIFT_HEIGHT, DEFAULT_NEAR_THRESHOLD } from "./reward_expression.js";
import { validateRewardSpec } from "./reward_spec_validation.js";
import { MAX_REWARD_SPEC_TERMS, checkSpecTextLength } from "./spec_limits.js";

// Every regex is built once at module load; parsing builds none.

const NUMBER_WORDS: ReadonlyMap<string, string> = new Map([
  ["one", "1"], ["two", "2"], ["three", "3"], ["four", "4"], ["five", "5"], ["six", "6"], ["seven", "7"],
  ["eight", "8"], ["nine", "9"], ["ten", "10"], ["fifteen", "15"], ["twenty", "20"], ["thirty", "30"],
  ["forty", "40"], ["fifty", "50"],
]);
const UNIT = String.raw`(?:mm|cm|m|millimet(?:er|re)s?|centimet(?:er|re)s?|met(?:er|re)s?)`;
/** A length with its unit; a bare number in a sentence is too ambiguous to guess a unit for. */
const LEN = String.raw`(\d+(?:\.\d+)?|\.\d+)\s*(${UNIT})`;
const NUMBER_WORD = new RegExp(String.raw`\b(${[...NUMBER_WORDS.keys()].join("|")})\s+(?=${UNIT}\b)`, "g");
const HAS_LENGTH = new RegExp(String.raw`\b${LEN}\b`);

const VERB = String.raw`(?:put|place|set|move|bring|push|slide|stack|position|drop|lay|get|leave|keep|arrange|lift|raise|hold|pick\s+up)`;
/** A lift's object is a bare noun phrase; one holding these words is a placement ("hold the mug next to the bowl"). */
const PLACEMENT_WORDS =
  /\b(?:next to|beside|besides|near|close to|by|alongside|adjacent to|on|onto|upon|atop|left|right|front|behind|back of|within|from|away)\b/;
const OPT_VERB = String.raw`^(?:${VERB}\s+)?`;

const APOSTROPHES = /['\u2019`]/g;
/** Sentence punctuation, but not the decimal point of "0.2 m" nor the "#" of a track id ("mug#2"). */
const PUNCTUATION = /[^a-z0-9#.,;\s]|\.(?!\d)/g;
const SPACES = /\s+/g;
const LEADING_FILLER = /^(?:(?:please|ok|okay|now|robot|hey|so)\s+)*(?:(?:can|could|would|will)\s+you\s+(?:please\s+)?)?/;
const TRAILING_FILLER = /(?:\s+(?:please|thanks|thank you|now))+$/;
const CLAUSE_SEPARATOR = /\s*(?:[,;]\s*(?:and\s+)?(?:then\s+)?|\s+and\s+then\s+|\s+and\s+|\s+then\s+|\s+after\s+that\s+)\s*/;
const PHRASE_LEADING = /^(?:(?:the|a|an|my|your|that|this)\s+)+/;
const PHRASE_TRAILING = /(?:\s+(?:down|back|over|there|here))+$/;
const PRONOUNS = new Set(["it", "them", "that", "this one", "that one"]);

interface ClausePattern {
  regex: RegExp;
  build(m: RegExpExecArray): Clause;
}

/** A parsed clause before pronouns are resolved; `implicitLift` marks "pick up X" without a height. */
interface Clause {
  spec: RewardSpec;
  implicitLift: boolean;
}

function metres(value: string, unit: string): number {
  const u = unit.startsWith("mm") || unit.startsWith("milli") ? 1000 : unit.startsWith("c") ? 100 : 1;
  return Number(value) / u;
}

function relation(rel: Relation, prepositions: string): ClausePattern {
  return {
    regex: new RegExp(String.raw`${OPT_VERB}(.+?)\s+(?:${prepositions})\s+(.+)$`),
    build: (m) => ({ spec: { op: "relation", a: m[1], relation: rel, b: m[2] }, implicitLift: false }),
  };
}

const LIFT_TAIL = String.raw`(?:\s+(?:up\s+)?(?:by\s+|to\s+)?(?:at\s+least\s+)?${LEN})?` +
  String.raw`(?:\s+(?:up|high|higher|above|off|over|from|into|in)(?:\s+(?:the\s+)?(?:table|ground|floor|surface|support|counter|air))?)?(?:\s+up)?$`;

function lift(head: string): ClausePattern {
  return {
    regex: new RegExp(String.raw`^${head}\s+(.+?)${LIFT_TAIL}`),
    build: (m) => ({
      spec: { op: "lift", a: m[1], height: m[2] ? metres(m[2], m[3]) : DEFAULT_LIFT_HEIGHT },
      implicitLift: m[2] === undefined,
    }),
  };
}

/** Most specific first: "on the left of" must win over "on", "within 3 cm of" over "near". */
const PATTERNS: readonly ClausePattern[] = [
  lift(String.raw`(?:lift|raise|elevate|hold)(?:\s+up)?`),
  lift(String.raw`pick\s+up`),
  {
    regex: new RegExp(String.raw`^pick\s+(.+?)\s+up${LIFT_TAIL}`),
    build: (m) => ({
      spec: { op: "lift", a: m[1], height: m[2] ? metres(m[2], m[3]) : DEFAULT_LIFT_HEIGHT },
      implicitLift: m[2] === undefined,
    }),
  },
  {
    regex: new RegExp(
      String.raw`${OPT_VERB}(.+?)\s+(?:so\s+(?:that\s+)?(?:it|they)\s+(?:is|are|sits?|stands?)\s+)?` +
        String.raw`(?:at\s+(?:a\s+distance\s+of\s+)?)?(?:about\s+|exactly\s+|roughly\s+)?${LEN}\s+(?:away\s+)?from\s+(.+)$`,
    ),
    build: (m) => ({
      spec: { op: "distance", a: m[1], b: m[4], goal: metres(m[2], m[3]), tolerance: DEFAULT_DISTANCE_TOLERANCE },
      implicitLift: false,
    }),
  },
  {
    regex: new RegExp(String.raw`${OPT_VERB}(.+?)\s+within\s+${LEN}\s+of\s+(.+)$`),
    build: (m) => ({ spec: { op: "near", a: m[1], b: m[4], threshold: metres(m[2], m[3]) }, implicitLift: false }),
  },
  relation("left_of", String.raw`(?:to|on|at)\s+the\s+left\s+(?:side\s+)?of|left\s+of`),
  relation("right_of", String.raw`(?:to|on|at)\s+the\s+right\s+(?:side\s+)?of|right\s+of`),
  relation("in_front_of", String.raw`in\s+front\s+of`),
  relation("behind", String.raw`behind|in\s+back\s+of|at\s+the\s+back\s+of`),
  relation("on_top_of", String.raw`on\s+(?:the\s+)?top\s+of|onto|on\s+to|on|upon|atop`),
  {
    regex: new RegExp(
      String.raw`${OPT_VERB}(.+?)\s+(?:next\s+to|beside|besides|near(?:\s+to)?|close\s+to|by|alongside|adjacent\s+to|by\s+the\s+side\s+of)\s+(.+)$`,
    ),
    build: (m) => ({ spec: { op: "near", a: m[1], b: m[2], threshold: DEFAULT_NEAR_THRESHOLD }, implicitLift: false }),
  },
];

function normalize(text: string): string {
  let s = text.toLowerCase().replace(APOSTROPHES, "").replace(PUNCTUATION, " ").replace(SPACES, " ").trim();
  s = s.replace(NUMBER_WORD, (_, w: string) => `${NUMBER_WORDS.get(w)} `);
  return s.replace(LEADING_FILLER, "").replace(TRAILING_FILLER, "").trim();
}

/** "the red mug" → "red mug"; "it" → the previous clause's object; lengths in a phrase are refused. */
function cleanPhrase(raw: string, previous: string | null, clause: string): string {
  const p = raw.replace(PHRASE_LEADING, "").replace(PHRASE_TRAILING, "").trim();
  if (PRONOUNS.has(p)) {
    if (previous === null) throw new RewardSpecError(`${quoted(raw)} in ${quoted(clause)} refers to nothing said before it. ${examplesHint()}`);
    return previous;
  }
  if (p === "") throw new RewardSpecError(`${quoted(clause)} names no object. ${examplesHint()}`);
  if (HAS_LENGTH.test(p)) {
    throw new RewardSpecError(
      `I could not use the length in ${quoted(clause)}: only "put A 20 cm from B", "within 3 cm of B" and "lift A 10 cm" take lengths. ${examplesHint()}`,
    );
  }
  return p;
}

function parseClause(clause: string, previous: string | null): Clause {
  for (const pattern of PATTERNS) {
    const m = pattern.regex.exec(clause);
    if (!m) continue;
    const c = pattern.build(m);
    const s = c.spec;
    if (s.op === "lift" && PLACEMENT_WORDS.test(s.a)) continue;
    if (s.op === "all" || s.op === "any") return c;
    s.a = cleanPhrase(s.a, previous, clause);
    if ("b" in s) s.b = cleanPhrase(s.b, previous, clause);
    return c;
  }
  throw new RewardSpecError(`I could not understand ${quoted(clause)}. ${examplesHint()}`);
}

/**
 * A spoken instruction → spec. Clauses joined by "and"/"then"/commas become `all` (the final
 * state must satisfy every clause). "pick up X" with no height, followed by a clause about X,
 * is the means, not the goal ("pick up the apple and put it on the plate" ends with the apple
 * on the plate, not in the air), so it is dropped.
 */
export function parseRewardInstruction(text: string): RewardSpec {
  if (typeof text !== "string") throw new RewardSpecError(`A reward instruction must be text, got ${typeof text}. ${examplesHint()}`);
  checkSpecTextLength(text);
  const s = normalize(text);
  if (s === "") throw new RewardSpecError(`The reward instruction is empty. ${examplesHint()}`);
  const clauses: Clause[] = [];
  let previous: string | null = null;
  for (const part of s.split(CLAUSE_SEPARATOR)) {
    if (part === "") continue;
    // Checked here, not only by validation: the pick-up pass below is quadratic in clauses.
    if (clauses.length >= MAX_REWARD_SPEC_TERMS - 1) {
      throw new RewardSpecError(`The reward instruction has more than ${MAX_REWARD_SPEC_TERMS - 1} clauses. ${examplesHint()}`);
    }
    const c = parseClause(part, previous);
    clauses.push(c);
    if (c.spec.op !== "all" && c.spec.op !== "any") previous = c.spec.a;
  }
  const kept = clauses.filter((c, i) => {
    if (!c.implicitLift || c.spec.op !== "lift") return true;
    const a = c.spec.a;
    return !clauses.slice(i + 1).some((later) => "a" in later.spec && (later.spec.a === a || ("b" in later.spec && later.spec.b === a)));
  });
  const spec: RewardSpec = kept.length === 1 ? kept[0].spec : { op: "all", terms: kept.map((c) => c.spec) };
  validateRewardSpec(spec);
  return spec;
}
