import { COLOR_NAMES, COLOR_SYNONYMS } from "../scene/colors.js";
import { KINDS } from "../scene/kinds.js";
import { boundedEditDistance } from "./edit_distance.js";
import { LENGTH_UNIT_WORDS, LENGTH_UNITS, type LengthUnit } from "./length_units.js";

/**
 * The words the meaning parser (meaning_parser.ts) knows, each with what it contributes to a
 * question's meaning. Words are as question_words.ts gives them: lower case, British spellings
 * already read as American ones.
 */

/** Directions and sizes objects are compared by; each question type's measure is one of them. */
export type Dim = "left" | "right" | "up" | "down" | "near" | "far" | "tall" | "short" | "wide" | "thin" | "big" | "small";

/** base "tall", comparative "taller", superlative "tallest". */
export type Degree = "base" | "cmp" | "sup";

/** Quantity and question words: what a metric, count, colour or clock question asks for. */
export type Qty =
  | "distance" | "horizontal" | "vertical" | "lateral" | "frontback" | "gap" | "elevation" | "height" | "width"
  | "depth" | "size" | "difference" | "clock" | "count" | "color" | "long" | "thick" | "apart" | "away" | "offset"
  | "volume" | "longest";

export type Lexeme =
  | { readonly t: "color"; readonly color: string }
  | { readonly t: "kind"; readonly plural: boolean }
  | { readonly t: "wild"; readonly plural: boolean }
  | { readonly t: "camera" }
  | { readonly t: "table" }
  /** A comparison word: "left", "taller", "closest". */
  | { readonly t: "rel"; readonly dim: Dim; readonly degree: Degree }
  /** A relation taking its object after it: "above", "below", "behind", "in front of". */
  | { readonly t: "prep"; readonly dim: Dim }
  | { readonly t: "qty"; readonly qty: Qty }
  | { readonly t: "how" }
  | { readonly t: "wh"; readonly w: "what" | "which" | "where" }
  /** is/are/does/do: a yes/no question when it comes first. */
  | { readonly t: "aux" }
  /** more/most/less/least before a base word: "more to the left", "least tall". */
  | { readonly t: "degree"; readonly more: boolean; readonly sup: boolean }
  /** greater/larger/smaller... with a dimension noun: "a greater height than", "the greatest width". */
  | { readonly t: "magnitude"; readonly more: boolean; readonly sup: boolean }
  | { readonly t: "or" }
  | { readonly t: "and" }
  | { readonly t: "between" }
  /** Words that make the next object phrase the object of a relation: from, than, to, of, relative to. */
  | { readonly t: "gov"; readonly w: string }
  | { readonly t: "in" }
  | { readonly t: "unit"; readonly unit: LengthUnit }
  | { readonly t: "many" }
  | { readonly t: "much" }
  | { readonly t: "article" }
  /** Words that carry nothing the parser needs: please, exactly, located, picture... */
  | { readonly t: "filler" }
  /** not, isn't...: a negated question is refused, never answered as its opposite. */
  | { readonly t: "negation" }
  /** Words of relations no question type answers ("next to", "on top of"): refused by name. */
  | { readonly t: "unsupported"; readonly what: string }
  | { readonly t: "sep" }
  | { readonly t: "dash" };

const rel = (dim: Dim, degree: Degree): Lexeme => ({ t: "rel", dim, degree });
const qty = (q: Qty): Lexeme => ({ t: "qty", qty: q });
const FILLER: Lexeme = { t: "filler" };

function entries(words: string, lexeme: Lexeme): [string, Lexeme][] {
  return words.split(" ").map((w) => [w, lexeme]);
}

/** Comparison words by dimension: base, comparative and superlative forms. */
const RELATIONS: readonly [Dim, string, string, string][] = [
  ["left", "left", "", "leftmost"],
  ["right", "right", "", "rightmost"],
  ["up", "high top up upper", "higher", "highest topmost uppermost"],
  ["down", "low bottom down", "lower", "lowest bottommost lowermost"],
  ["near", "close near front", "closer nearer", "closest nearest frontmost"],
  ["far", "far back distant", "farther", "farthest backmost rearmost"],
  ["tall", "tall", "taller", "tallest"],
  ["short", "short", "shorter", "shortest"],
  ["wide", "wide broad", "wider broader", "widest broadest"],
  ["thin", "thin narrow skinny slim slender", "thinner narrower skinnier slimmer", "thinnest narrowest skinniest slimmest"],
  ["big", "big large huge bulky", "bigger larger bulkier", "biggest largest bulkiest"],
  ["small", "small tiny little", "smaller tinier", "smallest tiniest"],
];

/** The opposite direction or size: "less tall" is shorter. */
export const OPPOSITE: Readonly<Record<Dim, Dim>> = {
  left: "right", right: "left", up: "down", down: "up", near: "far", far: "near",
  tall: "short", short: "tall", wide: "thin", thin: "wide", big: "small", small: "big",
};

const FILLERS =
  "please pls plz thanks thank hey hi hello ok okay so quick question robot tell show give let know just exactly " +
  "roughly approximately approximate approx about around currently current now here there visible see seen view scene " +
  "picture image photo frame shot actually actual really i wonder want wanna need like guess estimate estimated measure " +
  "measured find name identify point out am be was were being it its located positioned placed situated sitting sit sits " +
  "sat standing stand stands lying lie lies lay look looks looking appear appears seem seems kind sort type colored " +
  "painted value answer position positions direction terms term currently overall total straight line direct precisely " +
  "precise roughly approx estimate there respect have has having got get gets can could would will should may might " +
  "on at in by for with within across along we our my your their all each every any some both two pair " +
  "hmm um uh well also still then";

const LEXICON: ReadonlyMap<string, Lexeme> = (() => {
  const m = new Map<string, Lexeme>();
  const put = (list: [string, Lexeme][]): void => {
    for (const [w, l] of list) if (w !== "") m.set(w, l);
  };
  put(entries(FILLERS, FILLER));
  put(entries("the a an this that these those", { t: "article" }));
  for (const [dim, base, cmp, sup] of RELATIONS) {
    put(entries(base, rel(dim, "base")));
    put(entries(cmp, rel(dim, "cmp")));
    put(entries(sup, rel(dim, "sup")));
  }
  put(entries("above", { t: "prep", dim: "up" }));
  put(entries("below beneath underneath", { t: "prep", dim: "down" }));
  put(entries("behind", { t: "prep", dim: "far" }));
  put(entries("more", { t: "degree", more: true, sup: false }));
  put(entries("most", { t: "degree", more: true, sup: true }));
  put(entries("less", { t: "degree", more: false, sup: false }));
  put(entries("least", { t: "degree", more: false, sup: true }));
  put(entries("greater", { t: "magnitude", more: true, sup: false }));
  put(entries("greatest", { t: "magnitude", more: true, sup: true }));
  put(entries("lesser", { t: "magnitude", more: false, sup: false }));
  put(entries("distance distances dist separation separated separates", qty("distance")));
  put(entries("horizontal horizontally", qty("horizontal")));
  put(entries("vertical vertically", qty("vertical")));
  put(entries("sideways sidewise lateral laterally side sides", qty("lateral")));
  put(entries("gap gaps clearance edge edges space room", qty("gap")));
  put(entries("elevation elevated lifted raised hovering", qty("elevation")));
  put(entries("height heights", qty("height")));
  put(entries("width widths breadth", qty("width")));
  put(entries("depth depths deep", qty("depth")));
  put(entries("size sizes dimension dimensions extent", qty("size")));
  put(entries("difference differences differ differs different", qty("difference")));
  put(entries("clock oclock", qty("clock")));
  put(entries("count", qty("count")));
  put(entries("color colors", qty("color")));
  put(entries("long length", qty("long")));
  put(entries("thick thickness", qty("thick")));
  put(entries("longest", qty("longest")));
  put(entries("apart", qty("apart")));
  put(entries("away", qty("away")));
  put(entries("offset offsets", qty("offset")));
  put(entries("volume", qty("volume")));
  put(entries("how", { t: "how" }));
  put(entries("what", { t: "wh", w: "what" }));
  put(entries("which who whom", { t: "wh", w: "which" }));
  put(entries("where", { t: "wh", w: "where" }));
  put(entries("is are does do did", { t: "aux" }));
  put(entries("or", { t: "or" }));
  put(entries("and", { t: "and" }));
  put(entries("between", { t: "between" }));
  put(entries("from than to of off relative compared versus vs", { t: "gov", w: "" }).map(([w]) => [w, { t: "gov", w }]));
  put(entries("in using", { t: "in" }));
  put(entries("many", { t: "many" }));
  put(entries("much", { t: "much" }));
  put(entries("not isnt arent doesnt dont didnt no never nor neither", { t: "negation" }));
  put(entries("camera viewer me you us lens observer", { t: "camera" }));
  put(entries("table surface tabletop floor ground desk", { t: "table" }));
  put(entries("thing object item one", { t: "wild", plural: false }));
  put(entries("things objects items ones", { t: "wild", plural: true }));
  for (const k of KINDS) {
    m.set(k.kind, { t: "kind", plural: false });
    m.set(k.plural, { t: "kind", plural: true });
    // Multi-word synonyms ("coffee mug") are joined by the phrase rules; one-word ones are kinds.
    for (const s of k.synonyms) if (!s.includes(" ")) m.set(s, { t: "kind", plural: false });
    for (const s of k.synonyms) if (!s.includes(" ")) m.set(pluralOf(s), { t: "kind", plural: true });
  }
  for (const c of COLOR_NAMES) m.set(c, { t: "color", color: c });
  for (const [w, c] of Object.entries(COLOR_SYNONYMS)) m.set(w === "grey" ? "gray" : w, { t: "color", color: c });
  for (const u of LENGTH_UNITS) for (const w of LENGTH_UNIT_WORDS[u]) m.set(w, { t: "unit", unit: u });
  // "in" is also inches, but only a unit after a number; here it asks for a unit ("in inches").
  m.set("in", { t: "in" });
  for (const w of ["under", "over", "inside", "touching", "same", "equal", "as", "why", "when", "heavier", "heavy", "weight"]) {
    m.set(w, { t: "unsupported", what: `"${w}"` });
  }
  // British spellings are read as American ones before lookup (question_words.ts); as entries
  // they are only typo-correction targets ("furthst" → furthest).
  for (const [british, american] of [["further", "farther"], ["furthest", "farthest"], ["colour", "color"], ["grey", "gray"]]) {
    m.set(british, m.get(american)!);
  }
  m.set(",", { t: "sep" });
  m.set("-", { t: "dash" });
  return m;
})();

/** A single word's meaning; undefined for a word the parser does not know. */
export function lexeme(word: string): Lexeme | undefined {
  return LEXICON.get(word);
}

/** The multi-word kind synonyms ("coffee mug" → kind words coffee + mug), as word lists. */
export const MULTIWORD_KINDS: readonly (readonly string[])[] = KINDS.flatMap((k) =>
  k.synonyms.filter((s) => s.includes(" ")).flatMap((s) => [s.split(" "), pluralOf(s).split(" ")]),
);

/** English plural of a noun the kinds list does not spell out ("dish" → "dishes"). */
function pluralOf(noun: string): string {
  return /(?:s|x|z|ch|sh)$/.test(noun) ? `${noun}es` : `${noun}s`;
}

/**
 * Phrases read as one token before words are looked up. A replacement token starting with "_"
 * is a phrase-only meaning (PHRASE_LEXICON); others are ordinary words. Longest phrase wins;
 * dashes inside a phrase are skipped ("left-most", "front-to-back").
 */
export const PHRASES: readonly (readonly [readonly string[], readonly string[]])[] = ([
  ["o clock", "oclock"],
  ["left most", "leftmost"], ["right most", "rightmost"], ["top most", "topmost"], ["bottom most", "bottommost"],
  ["left hand side", "left"], ["right hand side", "right"], ["left hand", "left"], ["right hand", "right"],
  ["left side", "left"], ["right side", "right"],
  ["the far left", "the leftmost"], ["the far right", "the rightmost"],
  ["left or right", "_lateral"], ["right or left", "_lateral"], ["left to right", "_lateral"], ["right to left", "_lateral"],
  ["side to side", "_lateral"], ["to the side", "_lateral"],
  // "in front of or behind B": B is the object of the relation, as after "of".
  ["in front of or behind", "_frontback relative"], ["in front or behind", "_frontback relative"], ["front or behind", "_frontback relative"],
  ["front to back", "_frontback"], ["back to front", "_frontback"], ["in depth", "_frontback"],
  ["back or forward", "_frontback"], ["forward or back", "_frontback"], ["backward or forward", "_frontback"],
  ["forward or backward", "_frontback"], ["back or front", "_frontback"], ["front or back", "_frontback"],
  ["higher or lower", "_vertical"], ["lower or higher", "_vertical"], ["above or below", "_vertical relative"],
  ["below or above", "_vertical relative"], ["up or down", "_vertical"],
  ["horizontal plane", "_horizontal"], ["on the horizontal plane", "_horizontal"], ["in the horizontal plane", "_horizontal"],
  ["for me", "please"], ["for us", "please"],
  ["taller or shorter", "_heightdiff"], ["shorter or taller", "_heightdiff"],
  ["in front of", "_infrontof"], ["in back of", "behind"], ["in front", "front"], ["in the back", "back"],
  ["on top of", "_ontop"], ["next to", "_nextto"],
  ["higher up", "higher"], ["lower down", "lower"], ["high up", "_highup"],
  ["further up", "higher"], ["farther up", "higher"], ["further down", "lower"], ["farther down", "lower"],
  ["most distant", "farthest"], ["more distant", "farther"],
  ["which one", "which"], ["which ones", "which"], ["what one", "which"],
  ["number of", "_count"], ["the number of", "_count"],
  ...takeUpPhrases(),
  ["ignoring height", "_horizontal"], ["ignoring the height", "_horizontal"], ["ignore height", "_horizontal"],
  ["ignore the height", "_horizontal"], ["if you ignore height", "_horizontal"],
  ["at its longest", "_longest"], ["longest side", "_longest"], ["longest dimension", "_longest"],
  ["largest dimension", "_longest"], ["biggest dimension", "_longest"], ["longest edge", "_longest"],
  ["largest extent", "_longest"], ["longest extent", "_longest"],
  ["each other", "_eachother"], ["one another", "_eachother"],
  ["right now", "now"], ["at the moment", "now"], ["at the minute", "now"],
  ["tell me", "please"], ["show me", "please"], ["give me", "please"], ["let me know", "please"],
  ["can you", "please"], ["could you", "please"], ["would you", "please"], ["will you", "please"],
  ["do you know", "please"], ["do you see", "see"], ["can you see", "see"], ["can i see", "see"], ["do i see", "see"],
  ["do i have", "see"], ["are you able to", "please"], ["i want to know", "please"], ["i would like to know", "please"],
  ["id like to know", "please"], ["any idea", "please"], ["i wonder", "please"],
  ["relative to", "relative"], ["compared to", "compared"], ["compared with", "compared"], ["with respect to", "relative"],
  ["in relation to", "relative"], ["as seen from", "_unsupported_view"],
  ["in clock terms", "oclock"], ["clock position", "oclock"], ["clock direction", "oclock"], ["oclock direction", "oclock"],
  ["oclock position", "oclock"], ["oclock terms", "oclock"],
  ["the two", "pair"], ["of the two", "pair"],
  ["seen from above", "please"], ["viewed from above", "please"], ["looking down", "please"], ["from above", "please"],
  ["seen from the camera", "please"], ["looking from the camera", "please"], ["from the camera view", "please"],
  ["from my view", "please"], ["from where i am", "please"], ["from my point of view", "please"],
  ["from the cameras point of view", "please"], ["from the cameras view", "please"],
] as const).map(([from, to]) => [from.split(" "), to.split(" ")] as const);

/** "take up more space" → bigger, "takes up the least room" → smallest, ... */
function takeUpPhrases(): [string, string][] {
  const out: [string, string][] = [];
  const amounts: [string, string][] = [["more", "bigger"], ["less", "smaller"], ["the most", "biggest"], ["most", "biggest"],
    ["the least", "smallest"], ["least", "smallest"]];
  for (const verb of ["take up", "takes up", "taking up", "occupy", "occupies", "occupying", "use", "uses"]) {
    for (const [amount, word] of amounts) for (const noun of ["space", "room"]) out.push([`${verb} ${amount} ${noun}`, word]);
  }
  return out;
}

/** Meanings of the "_" tokens the phrase rules make. */
export const PHRASE_LEXICON: ReadonlyMap<string, Lexeme> = new Map<string, Lexeme>([
  ["_lateral", qty("lateral")],
  ["_frontback", qty("frontback")],
  ["_vertical", qty("vertical")],
  ["_heightdiff", qty("difference")],
  ["_horizontal", qty("horizontal")],
  ["_longest", qty("longest")],
  ["_highup", qty("elevation")],
  ["_count", qty("count")],
  ["_infrontof", { t: "prep", dim: "near" }],
  ["_ontop", { t: "unsupported", what: `"on top of"` }],
  ["_nextto", { t: "unsupported", what: `"next to"` }],
  ["_unsupported_view", { t: "unsupported", what: "a point of view other than the camera's" }],
  ["_eachother", FILLER],
]);

/**
 * Words typo correction may turn an unknown word into: content words of 3+ letters and fillers
 * of 5+ (a short filler as a target would silently drop a word: "fork" → "for").
 */
const CORRECTION_TARGETS: readonly string[] = [...LEXICON.entries()]
  .filter(([w, l]) => /^[a-z]+$/.test(w) && w.length >= (l.t === "filler" ? 5 : 3) && l.t !== "article")
  .map(([w]) => w);

/** Words that only occur inside phrases ("hand" in "left hand side"): known, never corrected. */
export const PHRASE_WORDS: ReadonlySet<string> = new Set(
  [...PHRASES.flatMap(([from]) => from), ...MULTIWORD_KINDS.flat()].filter((w) => !LEXICON.has(w)),
);

/** Most unknown words one question may have corrected (each costs a vocabulary scan). */
export const MAX_CORRECTIONS = 8;

/**
 * The known word an unknown one is a typo of, or null: within one edit (two from 8 letters on)
 * of exactly one meaning, the first letter kept (or the first two swapped): typists rarely get
 * the first letter wrong, and this keeps real words that are not typos ("tube", "sink") from
 * becoming kinds or colours ("cube", "pink"). A three-letter word is only completed by one
 * missing letter. Of candidates at the same distance, one keeping the last letter wins; two
 * equally good ones with different meanings: null.
 */
export function correctTypo(word: string): string | null {
  if (word.length < 3 || !/^[a-z]+$/.test(word)) return null;
  const max = word.length >= 8 ? 2 : 1;
  // Ranked by distance, then by keeping the last letter too ("shortr" is "shorter", not "short").
  let best: string | null = null;
  let bestRank = Infinity;
  let tied = false;
  for (const target of CORRECTION_TARGETS) {
    const sameStart = target.charCodeAt(0) === word.charCodeAt(0) ||
      (target.charCodeAt(0) === word.charCodeAt(1) && target.charCodeAt(1) === word.charCodeAt(0));
    if (!sameStart) continue;
    // A three-letter word is only completed by one missing letter ("tal" → "tall", "blu" → "blue").
    if (word.length === 3 && (target.length !== 4 || !isOneInsertion(word, target))) continue;
    const d = boundedEditDistance(word, target, max);
    if (d > max) continue;
    const rank = 2 * d + (target.charCodeAt(target.length - 1) === word.charCodeAt(word.length - 1) ? 0 : 1);
    if (rank < bestRank) {
      best = target;
      bestRank = rank;
      tied = false;
    } else if (rank === bestRank && best !== null && !sameMeaning(LEXICON.get(best)!, LEXICON.get(target)!)) {
      tied = true;
    }
  }
  return tied ? null : best;
}

/** Whether `longer` is `shorter` with one letter inserted. */
function isOneInsertion(shorter: string, longer: string): boolean {
  let i = 0;
  while (i < shorter.length && shorter[i] === longer[i]) i++;
  return shorter.slice(i) === longer.slice(i + 1);
}

function sameMeaning(a: Lexeme, b: Lexeme): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}
