import { capEcho } from "./echoed_text.js";
import type { LengthUnit } from "./length_units.js";
import {
  correctTypo, lexeme, MAX_CORRECTIONS, MULTIWORD_KINDS, OPPOSITE, PHRASE_LEXICON, PHRASE_WORDS, PHRASES,
  type Degree, type Dim, type Lexeme, type Qty,
} from "./question_lexicon.js";
import type { QuestionTypeId } from "./question_types.js";
import { questionWords } from "./question_words.js";

/**
 * Parsing a question by meaning rather than by whole-sentence template: the words are
 * normalised (question_words.ts), typos corrected against the vocabulary, phrases joined
 * (question_lexicon.ts); object mentions are found (colour + kind, "thing"/"object"/"one" for
 * any kind, plurals, track ids, the camera, the table); then the relation or quantity words
 * decide the type, in any word order and in fragments ("gray mug to yellow bowl distance?").
 *
 * It never guesses: a word it does not know outside an object's name, a negation, two
 * relations, a missing or extra object, a phrase two types could mean ("how long is the
 * book?"): each is a failure with a reason saying what was not understood.
 */

/** What the meaning parser understood: the same shape as the template parser's ParsedQuestion. */
export interface MeaningParsed {
  type: QuestionTypeId;
  slots: string[];
  unit?: LengthUnit;
}

export type MeaningParse =
  | { readonly ok: true; readonly parsed: MeaningParsed }
  /** `certain`: the question says something no type answers (a negation, "on top of"), whatever else it says. */
  | { readonly ok: false; readonly reason: string; readonly certain?: boolean };

/**
 * Most words read. Real questions have under 30; a longer text is not one question, and the
 * bound keeps the cost of a hostile text (a word repeated 300 times) small.
 */
export const MAX_MEANING_WORDS = 60;
/** Most characters read (question_parser.ts refuses longer questions before they get here). */
export const MAX_MEANING_TEXT = 2000;

interface Token {
  /** The word (or joined phrase) as read, after spelling and typo correction. */
  readonly text: string;
  readonly lex: Lexeme | undefined;
  /** Index into the original word list, for messages. */
  readonly at: number;
}

interface Mention {
  readonly kind: "object" | "camera" | "table";
  /** Slot text: the mention's words ("red mug", "cubes", "mug#2"). */
  readonly text: string;
  readonly plural: boolean;
  readonly id: boolean;
  /** No kind noun: "red thing", "red one", "red". */
  readonly wildcard: boolean;
  /** First and one-past-last token index. */
  readonly start: number;
  readonly end: number;
}

/** Longest reason given: it quotes the user's words, so it is bounded whatever they typed. */
export const MAX_REASON_LENGTH = 200;

function fail(reason: string, certain = false): MeaningParse {
  return certain ? { ok: false, reason: capEcho(reason, MAX_REASON_LENGTH), certain } : { ok: false, reason: capEcho(reason, MAX_REASON_LENGTH) };
}

/** Reasons analyse() gives for what no type answers, whatever the rest of the question says. */
class CertainRefusal {
  constructor(readonly reason: string) {}
}

/** A user's word or phrase as a reason quotes it: in quotes, at most 24 characters. */
function quote(text: string): string {
  return `"${capEcho(text, 24)}"`;
}

/** Words not in the vocabulary are corrected (typos) when they are one edit from one meaning. */
function correctWords(words: readonly string[]): string[] | string {
  const out: string[] = [];
  let corrections = 0;
  for (const w of words) {
    if (lexeme(w) !== undefined || PHRASE_WORDS.has(w) || w.includes("#") || /^\d+$/.test(w)) {
      out.push(w);
      continue;
    }
    if (corrections >= MAX_CORRECTIONS) return `it has more than ${MAX_CORRECTIONS} words I don't know`;
    corrections++;
    out.push(correctTypo(w) ?? w);
  }
  return out;
}

const PHRASES_BY_FIRST: ReadonlyMap<string, readonly (readonly [readonly string[], readonly string[]])[]> = (() => {
  const m = new Map<string, (readonly [readonly string[], readonly string[]])[]>();
  const all = [...PHRASES, ...MULTIWORD_KINDS.map((k) => [k, [k.join(" ")]] as const)];
  for (const p of all) {
    const list = m.get(p[0][0]) ?? [];
    list.push(p);
    m.set(p[0][0], list);
  }
  for (const list of m.values()) list.sort((a, b) => b[0].length - a[0].length);
  return m;
})();

const MULTIWORD_KIND_TEXTS: ReadonlySet<string> = new Set(MULTIWORD_KINDS.map((k) => k.join(" ")));

/** Joins phrases into single tokens (dashes inside a phrase are skipped) and looks every token up. */
function tokenize(words: readonly string[]): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < words.length) {
    let matched = false;
    for (const [from, to] of PHRASES_BY_FIRST.get(words[i]) ?? []) {
      let j = i;
      let k = 0;
      while (k < from.length && j < words.length) {
        if (words[j] === "-" && k > 0) {
          j++;
          continue;
        }
        if (words[j] !== from[k]) break;
        j++;
        k++;
      }
      if (k < from.length) continue;
      for (const t of to) {
        const kindText = MULTIWORD_KIND_TEXTS.has(t);
        const lex: Lexeme | undefined = kindText
          ? { t: "kind", plural: t.endsWith("s") }
          : PHRASE_LEXICON.get(t) ?? lexeme(t);
        out.push({ text: t, lex, at: i });
      }
      i = j;
      matched = true;
      break;
    }
    if (!matched) {
      out.push({ text: words[i], lex: lexeme(words[i]), at: i });
      i++;
    }
  }
  return out;
}

/** Tokens that carry no meaning for roles and adjacency. */
function isQuiet(t: Token): boolean {
  return t.lex?.t === "article" || t.lex?.t === "filler";
}

/**
 * Object mentions, in order. A mention is [colour] (kind | thing/object/item | colour + "one")
 * or a colour alone, a track id, the camera (camera, me, you...), the table, or an article
 * followed by words the vocabulary does not know ("the teapot": the resolver will say whether
 * the scene has one). Tokens used by mentions are marked in `used`.
 */
function findMentions(tokens: readonly Token[], used: boolean[]): Mention[] {
  const out: Mention[] = [];
  let i = 0;
  while (i < tokens.length) {
    const t = tokens[i];
    const lex = t.lex;
    if (t.text.includes("#") && /^[a-z0-9_]+#[a-z0-9_]+$/.test(t.text)) {
      out.push({ kind: "object", text: t.text, plural: false, id: true, wildcard: false, start: i, end: i + 1 });
      used[i] = true;
      i++;
      continue;
    }
    if (lex?.t === "camera" || lex?.t === "table") {
      out.push({ kind: lex.t, text: t.text, plural: false, id: false, wildcard: false, start: i, end: i + 1 });
      used[i] = true;
      i++;
      continue;
    }
    if (lex?.t === "color") {
      let j = i + 1;
      const words = [lex.color];
      let plural = false;
      let wildcard = true;
      const next = tokens[j];
      if (next?.lex?.t === "kind" || next?.lex?.t === "wild") {
        words.push(next.text);
        plural = next.lex.plural;
        wildcard = next.lex.t === "wild";
        j++;
      } else if (next !== undefined && next.lex === undefined && !next.text.includes("#")) {
        // "green teapot": a colour and a noun we do not know; the resolver says what is there.
        while (j < tokens.length && tokens[j].lex === undefined && j - i <= 3) words.push(tokens[j++].text);
        wildcard = false;
      }
      out.push({ kind: "object", text: words.join(" "), plural, id: false, wildcard, start: i, end: j });
      for (let k = i; k < j; k++) used[k] = true;
      i = j;
      continue;
    }
    if (lex?.t === "kind" || (lex?.t === "wild" && t.text !== "one" && t.text !== "ones")) {
      out.push({ kind: "object", text: t.text, plural: lex.plural, id: false, wildcard: lex.t === "wild", start: i, end: i + 1 });
      used[i] = true;
      i++;
      continue;
    }
    if (lex?.t === "article" && tokens[i + 1] !== undefined && tokens[i + 1].lex === undefined && !tokens[i + 1].text.includes("#")) {
      let j = i + 1;
      const words: string[] = [];
      while (j < tokens.length && tokens[j].lex === undefined && words.length < 3) words.push(tokens[j++].text);
      out.push({ kind: "object", text: words.join(" "), plural: false, id: false, wildcard: false, start: i + 1, end: j });
      for (let k = i + 1; k < j; k++) used[k] = true;
      i = j;
      continue;
    }
    i++;
  }
  return out;
}

/** The closest meaningful token before index `i` (articles and fillers skipped), or null. */
function previousToken(tokens: readonly Token[], i: number): Token | null {
  for (let k = i - 1; k >= 0; k--) if (!isQuiet(tokens[k])) return tokens[k];
  return null;
}

/** The word that makes a mention the object of a relation ("from", "than", "of", "above"...), or null. */
function governor(tokens: readonly Token[], m: Mention): string | null {
  const p = previousToken(tokens, m.start);
  if (p === null) return null;
  if (p.lex?.t === "gov") return p.lex.w;
  if (p.lex?.t === "prep") return "prep";
  return null;
}

/** A relation word after degree words are applied ("more to the left" → left, comparative). */
interface Relation {
  dim: Dim;
  degree: Degree;
  /** Token index of the (last) word. */
  at: number;
  prep: boolean;
}

interface Analysis {
  tokens: Token[];
  mentions: Mention[];
  objects: Mention[];
  camera: Mention | null;
  table: Mention | null;
  relations: Relation[];
  qtys: Set<Qty>;
  form: "how" | "which" | "what" | "where" | "yesno" | "fragment";
  /** The quantity "how <word>" asks: far, tall, much, many... */
  how: string | null;
  unit: LengthUnit | undefined;
  /** "how many centimetres": a length without saying which. */
  lengthAsked: boolean;
}

const SKIPPABLE_BEFORE_BASE = new Set(["to", "the", "in", "on", "of"]);

/**
 * Relations with degree words applied: more/most/less/least + base ("more to the left", "least
 * tall"), farther/farthest + a direction ("furthest left" is leftmost, not farthest), and
 * greater/smaller/more + a dimension noun ("a greater height than" is taller). Consumed tokens
 * are marked in `consumed`.
 */
function relations(tokens: readonly Token[], consumed: boolean[]): Relation[] | string {
  const out: Relation[] = [];
  const dimNoun = (q: Qty): [Dim, Dim] | null =>
    q === "height" ? ["tall", "short"] : q === "width" ? ["wide", "thin"] : q === "volume" || q === "size" ? ["big", "small"] : null;
  for (let i = 0; i < tokens.length; i++) {
    if (consumed[i]) continue;
    const lex = tokens[i].lex;
    if (lex === undefined) continue;
    // more/less/most/least (and greater/lesser) + base word or dimension noun.
    const isMagnitudeWord = lex.t === "magnitude" || lex.t === "degree" ||
      (lex.t === "rel" && (lex.dim === "big" || lex.dim === "small") && lex.degree !== "base");
    if (isMagnitudeWord) {
      const more = lex.t === "rel" ? lex.dim === "big" : lex.more;
      const sup = lex.t === "rel" ? lex.degree === "sup" : lex.sup;
      // A dimension noun ("a greater height than", "is the height of A greater than ..."); after
      // "bigger"/"smaller" only a noun that follows it ("larger in size"), so "the height of the
      // biggest cup" stays a height question with a superlative in it (refused, never a superlative).
      const nouns = tokens
        .map((t, k) => ({ k, d: t.lex?.t === "qty" ? dimNoun(t.lex.qty) : null }))
        .filter((x) => x.d !== null && !consumed[x.k] && (lex.t !== "rel" || x.k > i));
      const kinds = new Set(nouns.map((x) => x.d![0]));
      if (kinds.size === 1) {
        const [up, down] = nouns[0].d!;
        out.push({ dim: more ? up : down, degree: sup ? "sup" : "cmp", at: i, prep: false });
        consumed[i] = true;
        for (const x of nouns) consumed[x.k] = true;
        continue;
      }
      if (lex.t === "degree") {
        let j = i + 1;
        while (j < tokens.length && (isQuiet(tokens[j]) || SKIPPABLE_BEFORE_BASE.has(tokens[j].text))) j++;
        const next = tokens[j]?.lex;
        if (next?.t === "rel" && next.degree === "base") {
          out.push({ dim: lex.more ? next.dim : OPPOSITE[next.dim], degree: lex.sup ? "sup" : "cmp", at: j, prep: false });
          consumed[i] = true;
          consumed[j] = true;
          i = j;
          continue;
        }
        return `I don't know what ${quote(tokens[i].text)} compares here`;
      }
      if (lex.t === "magnitude") return `I don't know what ${quote(tokens[i].text)} compares here`;
    }
    if (lex.t === "rel") {
      // farther/farthest + left/right/up/down: the direction, not the distance from the camera.
      if (lex.dim === "far" && lex.degree !== "base") {
        let j = i + 1;
        while (j < tokens.length && (isQuiet(tokens[j]) || SKIPPABLE_BEFORE_BASE.has(tokens[j].text))) j++;
        const next = tokens[j]?.lex;
        if (next?.t === "rel" && next.degree === "base" && ["left", "right", "up", "down"].includes(next.dim)) {
          out.push({ dim: next.dim, degree: lex.degree, at: j, prep: false });
          consumed[i] = true;
          consumed[j] = true;
          i = j;
          continue;
        }
        if (next?.t === "qty" && next.qty === "away") consumed[j] = true;
      }
      out.push({ dim: lex.dim, degree: lex.degree, at: i, prep: false });
      consumed[i] = true;
      // "taller in height", "wider in width": the noun repeats the comparison's own dimension.
      const noun = tokens[i + 2]?.lex;
      if (tokens[i + 1]?.lex?.t === "in" && noun?.t === "qty" && dimNoun(noun.qty)?.includes(lex.dim)) {
        consumed[i + 1] = true;
        consumed[i + 2] = true;
      }
      continue;
    }
    if (lex.t === "prep") {
      out.push({ dim: lex.dim, degree: "cmp", at: i, prep: true });
      consumed[i] = true;
    }
  }
  return out;
}

/** Words that end a statement as a question: "..., right?", "..., correct?". */
const TAG_WORDS = new Set(["right", "correct", "yes", "true", "ok", "okay", "yeah"]);

/**
 * Constructions read before anything else: a tag at the end ("the mug is left of the bowl,
 * right?") is dropped; "not as tall as" is "shorter than" (the opposite comparative), so its
 * negation is no reason to refuse.
 */
function rewriteConstructions(tokens: Token[]): void {
  const last = tokens.length - 1;
  if (last >= 1 && tokens[last - 1].lex?.t === "sep" && TAG_WORDS.has(tokens[last].text)) tokens.splice(last - 1, 2);
  for (let i = 0; i + 3 < tokens.length; i++) {
    const base = tokens[i + 2].lex;
    if (tokens[i].lex?.t === "negation" && tokens[i + 1].text === "as" && base?.t === "rel" && base.degree === "base" && tokens[i + 3].text === "as") {
      tokens.splice(i, 4, { text: `not as ${tokens[i + 2].text} as`, lex: { t: "rel", dim: OPPOSITE[base.dim], degree: "cmp" }, at: tokens[i].at }, {
        text: "than", lex: { t: "gov", w: "than" }, at: tokens[i + 3].at,
      });
    }
  }
}

function analyse(text: string): Analysis | string | CertainRefusal {
  const raw = questionWords(text);
  if (raw.length === 0) return "it is empty";
  if (raw.length > MAX_MEANING_WORDS) return `it has ${raw.length} words; I read questions of at most ${MAX_MEANING_WORDS}`;
  const corrected = correctWords(raw);
  if (typeof corrected === "string") return corrected;
  const all = tokenize(corrected);
  // Unit requests: "in inches", "using cm", a bare unit word, "how many centimetres".
  let unit: LengthUnit | undefined;
  let lengthAsked = false;
  const tokens: Token[] = [];
  for (let i = 0; i < all.length; i++) {
    const lex = all[i].lex;
    if (lex?.t === "unit") {
      unit = lex.unit;
      const prev = tokens[tokens.length - 1];
      if (prev?.lex?.t === "in") tokens.pop();
      else if (prev?.lex?.t === "many" || prev?.lex?.t === "much") {
        tokens.pop();
        lengthAsked = true;
      }
      continue;
    }
    tokens.push(all[i]);
  }
  rewriteConstructions(tokens);
  for (const t of tokens) {
    if (t.lex?.t === "negation") return new CertainRefusal(`it is negated (${quote(t.text)}); ask without the negation`);
    if (t.lex?.t === "unsupported") return new CertainRefusal(`no question type answers ${t.lex.what}`);
  }
  const used = new Array<boolean>(tokens.length).fill(false);
  const mentions = findMentions(tokens, used);
  const unknown = tokens.filter((t, i) => !used[i] && t.lex === undefined).map((t) => quote(t.text));
  if (unknown.length > 0) return `I don't know the word${unknown.length > 1 ? "s" : ""} ${[...new Set(unknown)].slice(0, 3).join(", ")}`;
  // Two object names with nothing between them: where one ends and the next begins is a guess.
  for (let k = 1; k < mentions.length; k++) {
    const between = tokens.slice(mentions[k - 1].end, mentions[k].start);
    if (between.every((t) => t.lex?.t === "article")) {
      return `I can't tell where ${quote(mentions[k - 1].text)} ends and ${quote(mentions[k].text)} begins`;
    }
  }
  const consumed = used.slice();
  // The word after "how" ("how far", "how tall") names the quantity, not a comparison.
  let form: Analysis["form"] = "fragment";
  let how: string | null = null;
  const first = tokens.findIndex((t) => !isQuiet(t) && t.lex?.t !== "sep" && t.lex?.t !== "dash");
  const whAt = tokens.findIndex((t) => t.lex?.t === "how" || t.lex?.t === "wh");
  if (whAt >= 0) {
    const lex = tokens[whAt].lex!;
    form = lex.t === "how" ? "how" : lex.t === "wh" ? lex.w : "fragment";
    if (lex.t === "how") {
      let k = whAt + 1;
      while (k < tokens.length && isQuiet(tokens[k])) k++;
      if (k < tokens.length) {
        how = tokens[k].text;
        if (tokens[k].lex?.t === "rel") consumed[k] = true;
      }
    }
  } else if (first >= 0 && tokens[first].lex?.t === "aux") {
    form = "yesno";
  }
  const rels = relations(tokens, consumed);
  if (typeof rels === "string") return rels;
  const qtys = new Set<Qty>();
  for (let i = 0; i < tokens.length; i++) {
    const lex = tokens[i].lex;
    if (!consumed[i] && lex?.t === "qty") qtys.add(lex.qty);
  }
  const camera = mentions.find((m) => m.kind === "camera") ?? null;
  const table = mentions.find((m) => m.kind === "table") ?? null;
  if (mentions.filter((m) => m.kind !== "object").length > (camera && table ? 2 : camera || table ? 1 : 0)) {
    return "it names the camera or the table more than once";
  }
  return {
    tokens, mentions, objects: mentions.filter((m) => m.kind === "object"), camera, table, relations: rels, qtys, form, how, unit,
    lengthAsked: lengthAsked || how === "many" && unit !== undefined,
  };
}

/** The two objects of a relation in slot order: the one no relation word governs is A. */
function subjectFirst(a: Analysis, pair: readonly Mention[]): Mention[] {
  // Listed together ("of A and B", "between A and B") they are in the order written.
  if (joined(a, pair[0], pair[1]) !== null) return [pair[0], pair[1]];
  const governed = pair.map((m) => governor(a.tokens, m) !== null);
  if (governed[0] && !governed[1]) return [pair[1], pair[0]];
  return [pair[0], pair[1]];
}

/** Whether two mentions are listed as alternatives or a pair: "A or B", "A and B", "A, B". */
function joined(a: Analysis, x: Mention, y: Mention): "or" | "and" | null {
  const between = a.tokens.slice(x.end, y.start).filter((t) => !isQuiet(t));
  if (between.length === 0) return null;
  if (between.every((t) => t.lex?.t === "or" || t.lex?.t === "sep" || t.lex?.t === "dash") && between.some((t) => t.lex?.t === "or")) return "or";
  if (between.every((t) => t.lex?.t === "and" || t.lex?.t === "sep") && between.some((t) => t.lex?.t === "and")) return "and";
  return null;
}

/**
 * The mention a near/far relation measures from: the first one after it governed by "to" or
 * "from" ("closer to X", "farthest from X"); failing that, one right after it and an article
 * ("nearest the X"; "nearest cup" names the set instead).
 */
function relationReference(a: Analysis, r: Relation): Mention | null {
  if (r.prep) return null;
  for (const m of a.mentions) {
    if (m.start <= r.at) continue;
    const g = governor(a.tokens, m);
    if (g === "to" || g === "from") return m;
  }
  let sawArticle = false;
  for (let k = r.at + 1; k < a.tokens.length; k++) {
    const t = a.tokens[k];
    const m = a.mentions.find((x) => x.start === k);
    if (m) return sawArticle ? m : null;
    if (t.lex?.t === "article") sawArticle = true;
    else if (t.lex?.t === "qty" && t.lex.qty === "away") continue;
    else if (!isQuiet(t)) return null;
  }
  return null;
}

function ok(type: QuestionTypeId, slots: readonly Mention[] | readonly string[], unit: LengthUnit | undefined): MeaningParse {
  const parsed: MeaningParsed = { type, slots: slots.map((s) => (typeof s === "string" ? s : s.text)) };
  if (unit !== undefined) parsed.unit = unit;
  return { ok: true, parsed };
}

const COMPARATIVE_YES_NO: Readonly<Record<Dim, QuestionTypeId>> = {
  left: "left_of", right: "right_of", up: "above", down: "below", near: "in_front_of", far: "behind",
  tall: "taller", short: "shorter", wide: "wider", thin: "thinner", big: "bigger", small: "smaller",
};
const COMPARATIVE_WHICH: Readonly<Record<Dim, QuestionTypeId>> = {
  left: "which_left", right: "which_right", up: "which_higher", down: "which_lower", near: "which_closer",
  far: "which_farther", tall: "which_taller", short: "which_shorter", wide: "which_wider", thin: "which_thinner",
  big: "which_bigger", small: "which_smaller",
};
const SUPERLATIVE: Readonly<Record<Dim, QuestionTypeId>> = {
  left: "leftmost", right: "rightmost", up: "highest", down: "lowest", near: "closest", far: "farthest",
  tall: "tallest", short: "shortest", wide: "widest", thin: "thinnest", big: "biggest", small: "smallest",
};

/** A mention that names a set (a kind, colour, wildcard or plural), for count and superlative slots. */
function setMention(m: Mention): string | null {
  return m.id ? `a set of objects is named by colour or kind, not by a track id (${quote(m.text)})` : null;
}

function countQuestion(a: Analysis): MeaningParse {
  if (a.relations.length > 0) return fail("I count objects by colour and kind only, not by where they are or how big they are");
  const others = [...a.qtys].filter((q) => q !== "count");
  if (others.length > 0) return fail(`a count and a ${others[0]} at once`);
  if (a.camera) return fail("I count objects by colour and kind only, not by their place relative to the camera");
  if (a.objects.length > 1) return fail(`it names ${a.objects.length} sets of objects; I count one`);
  const m = a.objects[0];
  if (m === undefined) return ok("count", ["objects"], a.unit);
  const bad = setMention(m);
  return bad ? fail(bad) : ok("count", [m], a.unit);
}

function colorQuestion(a: Analysis): MeaningParse {
  if (a.relations.length > 0 || [...a.qtys].some((q) => q !== "color")) return fail("it asks for a colour and something else");
  if (a.objects.length !== 1) return fail(a.objects.length === 0 ? "it names no object" : "it names more than one object");
  if (a.objects[0].plural) return fail(`${quote(a.objects[0].text)} names several objects; ask about one`);
  return ok("color", [a.objects[0]], a.unit);
}

function clockQuestion(a: Analysis): MeaningParse {
  if (a.objects.length !== 2) return fail(`a clock direction needs two objects; it names ${a.objects.length}`);
  if (a.relations.length > 0) return fail("it asks for a clock direction and a comparison");
  return ok("clock_direction", subjectFirst(a, a.objects), a.unit);
}

/**
 * One dimension among the relation words (several words of one dimension are one relation:
 * "further to the left"); null with a reason when there are none or two different ones.
 */
function singleDimension(rels: readonly Relation[]): { dim: Dim; degree: Degree; prep: boolean } | string {
  const dims = new Set(rels.map((r) => r.dim));
  if (dims.size !== 1) return `it compares by ${[...dims].join(" and ")} at once`;
  const degree: Degree = rels.some((r) => r.degree === "sup") ? "sup" : rels.some((r) => r.degree === "cmp") ? "cmp" : "base";
  return { dim: rels[0].dim, degree, prep: rels.some((r) => r.prep) };
}

function comparisonQuestion(a: Analysis): MeaningParse {
  // "from the camera" as a point of view does not change left/right/up/down or sizes.
  const rel = singleDimension(a.relations);
  if (typeof rel === "string") return fail(rel);
  if (a.table) return fail("no question type compares an object with the table");
  const measured = rel.dim === "near" || rel.dim === "far";
  // The reference of closer/farther/closest: an object ("closer to the plate") or the camera.
  let reference: Mention | null = null;
  if (measured) {
    for (const r of a.relations) {
      const m = relationReference(a, r);
      if (m !== null) reference ??= m;
    }
    if (reference === null) {
      reference = a.objects.find((m) => {
        const g = governor(a.tokens, m);
        return (g === "to" || g === "from") && !a.relations.some((r) => r.prep);
      }) ?? null;
    }
  }
  const aboutObject = reference !== null && reference.kind === "object";
  if (reference?.kind === "table") return fail("no question type measures closeness to the table");
  const candidates = a.objects.filter((m) => m !== reference);
  const chooses = a.form === "which" || a.form === "what" ||
    (candidates.length === 2 && joined(a, candidates[0], candidates[1]) === "or");
  // "Which cup is taller?" / "which mug is on the left?" over a set is its superlative; "which is
  // taller than the mug" is not (it asks for every object taller than it): refused below.
  const hasThan = a.tokens.some((t) => t.lex?.t === "gov" && t.lex.w === "than");
  const placeWord = rel.degree === "base" && (rel.dim === "left" || rel.dim === "right" || rel.dim === "near" || rel.dim === "far");
  if (hasThan && candidates.length < 2) return fail(`a comparison needs two objects; it names ${candidates.length}`);
  if (rel.degree === "sup" || (chooses && candidates.length <= 1 && (rel.degree === "cmp" || (placeWord && candidates.length === 1)))) {
    // A superlative: over an explicit pair it is the comparison ("which is tallest, A or B").
    if (candidates.length === 2) {
      if (joined(a, candidates[0], candidates[1]) === null) return fail("it names two objects but not as alternatives (\"A or B\")");
      if (aboutObject) return rel.dim === "near" ? ok("which_closer_to", [candidates[0], candidates[1], reference!], a.unit)
        : fail("no question type asks which of two objects is farther from a third");
      return ok(COMPARATIVE_WHICH[rel.dim], candidates, a.unit);
    }
    if (candidates.length > 2) return fail(`it names ${candidates.length} objects to choose from; name a kind or colour, or two objects`);
    if (a.form === "yesno") return fail("it asks whether an object is the most of something; ask which one is");
    const set = candidates[0];
    if (set !== undefined) {
      const bad = setMention(set);
      if (bad) return fail(bad);
    }
    const slot = set ?? "object";
    if (aboutObject) return ok(rel.dim === "near" ? "closest_to" : "farthest_from", [slot, reference!], a.unit);
    return ok(SUPERLATIVE[rel.dim], [slot], a.unit);
  }
  if (candidates.length !== 2) {
    return fail(candidates.length < 2 ? `a comparison needs two objects; it names ${candidates.length}` : `it names ${candidates.length} objects; I compare two`);
  }
  const pairing = joined(a, candidates[0], candidates[1]);
  if (chooses) {
    if (aboutObject) {
      return rel.dim === "near" ? ok("which_closer_to", [candidates[0], candidates[1], reference!], a.unit)
        : fail("no question type asks which of two objects is farther from a third");
    }
    return ok(COMPARATIVE_WHICH[rel.dim], candidates, a.unit);
  }
  if (aboutObject) return fail(`"closer to" ${quote(reference!.text)} needs a choice between two objects ("which is closer to C, A or B?")`);
  if (pairing === "and") return fail("it lists two objects but asks no question about them");
  // Yes/no: a comparative or a relation with its object ("left of", "above", "in front of").
  const second = subjectFirst(a, candidates)[1];
  const ofSecond = governor(a.tokens, second);
  const leftRight = rel.dim === "left" || rel.dim === "right";
  if (rel.degree === "base" && !(leftRight && ofSecond === "of")) {
    return fail(`${quote(a.tokens[a.relations[0].at].text)} is not a comparison; say e.g. "taller than" or "left of"`);
  }
  return ok(COMPARATIVE_YES_NO[rel.dim], subjectFirst(a, candidates), a.unit);
}

/** Metric questions: "how far", "distance", "height of", "gap between", "how much taller"... */
function quantityQuestion(a: Analysis): MeaningParse {
  const q = a.qtys;
  const n = a.objects.length;
  const two = (type: QuestionTypeId): MeaningParse =>
    n === 2 ? ok(type, subjectFirst(a, a.objects), a.unit) : fail(`${type.replace(/_/g, " ")} needs two objects; it names ${n}`);
  const one = (type: QuestionTypeId): MeaningParse =>
    n === 1 ? (a.objects[0].plural ? fail(`${quote(a.objects[0].text)} names several objects; ask about one`) : ok(type, a.objects, a.unit))
      : fail(`${type.replace(/_/g, " ")} is of one object; it names ${n}`);
  const rels = a.relations;
  const relDims = new Set(rels.map((r) => r.dim));
  const only = (...dims: Dim[]): boolean => relDims.size > 0 && [...relDims].every((d) => dims.includes(d));
  const tableRelation = a.table !== null;
  const howFar = a.how === "far" || a.how === "close" || a.how === "near";
  // Elevation: "elevation", "lifted", "high up", or above/off/over the table.
  if (q.has("elevation") || (tableRelation && (only("up") || governor(a.tokens, a.table!) === "off"))) {
    if (tableRelation && !(only("up") || relDims.size === 0 || governor(a.tokens, a.table!) === "off")) return fail("it relates an object to the table in a way I can't measure");
    return one("elevation");
  }
  if (tableRelation) return fail("no question type measures from the table except its height above it (\"how high above the table\")");
  if (q.has("difference") || (a.how === "much" && only("tall", "short"))) {
    if (q.has("difference") && !q.has("height") && !only("tall", "short") && !(rels.length === 0 && a.tokens.some((t) => t.text === "_heightdiff"))) {
      return fail("a difference of what? I measure height differences");
    }
    return two("height_difference");
  }
  if (q.has("frontback")) return n === 2 ? two("depth_offset") : one("depth");
  if (q.has("lateral")) {
    if (n === 2) return two("lateral_offset");
    return q.has("width") || a.how === "wide" || a.how === "broad" ? one("width") : fail("sideways from what? name two objects");
  }
  if (q.has("vertical") || (a.how === "much" && only("up", "down")) || (howFar && only("up", "down") && n === 2)) return two("vertical_distance");
  if (q.has("gap")) return two("gap");
  if (q.has("horizontal")) return two("horizontal_distance");
  if (howFar && only("left", "right") && n === 2) return two("lateral_offset");
  if (howFar && only("near", "far") && n === 2 && rels.some((r) => r.prep)) return two("depth_offset");
  if (rels.length > 0) return fail("it asks for a measure and a comparison at once");
  if (q.has("depth") && q.has("offset")) return two("depth_offset");
  if (q.has("depth") && n === 2 && q.has("distance")) return two("depth_offset");
  if (q.has("distance") || q.has("apart") || q.has("away") || howFar || (a.lengthAsked && n === 2)) {
    if (a.camera && n === 2) return fail("it names two objects and the camera");
    return n === 1 ? one("distance_from_camera") : two("distance");
  }
  // One object's extents: nouns first, then "how <adjective>".
  const nouns = (["height", "width", "depth", "size"] as const).filter((x) => q.has(x));
  if (q.has("longest")) return one("size");
  if (nouns.length > 1) return fail(`it asks for ${nouns.join(" and ")} at once`);
  if (nouns.length === 1) return one(nouns[0] === "size" ? "size" : nouns[0]);
  switch (a.how) {
    case "tall":
    case "high":
      return one("height");
    case "wide":
    case "broad":
      return one("width");
    case "big":
    case "large":
      return one("size");
    case "depth":
    case "deep":
      return one("depth");
    case "long":
    case "thick":
      return fail(`"how ${a.how}" could be the depth (front to back) or the longest side; say "from front to back" or "at its longest"`);
  }
  if (q.has("long") || q.has("thick")) return fail(`"${q.has("long") ? "long" : "thick"}" could be the depth (front to back) or the longest side`);
  if (q.has("offset")) return fail("an offset in which direction? say sideways or front to back");
  if (q.has("volume")) return fail("no question type measures volume; ask which is bigger");
  return fail("it asks for no measure, relation, count or colour I know");
}

/**
 * The question's type and object phrases by meaning, or why it was not understood. Slots hold
 * the mentions' words as read (typos corrected, "the" dropped), so a question the templates
 * phrase parses to what the template parser gives; an implied set is "object" (superlatives)
 * or "objects" (counts).
 */
export function parseByMeaning(text: string): MeaningParse {
  if (typeof text !== "string") return fail("it is not text");
  // Callers bound questions first (MAX_QUESTION_LENGTH); this keeps a direct call cheap too.
  if (text.length > MAX_MEANING_TEXT) return fail(`it is ${text.length} characters long; I read at most ${MAX_MEANING_TEXT}`);
  const a = analyse(text);
  if (typeof a === "string") return fail(a);
  if (a instanceof CertainRefusal) return fail(a.reason, true);
  const q = a.qtys;
  if ((a.how === "many" && !a.lengthAsked) || q.has("count")) return countQuestion(a);
  if (q.has("color")) return colorQuestion(a);
  if (q.has("clock")) return clockQuestion(a);
  const quantity = a.how !== null && a.how !== "many"
    ? true
    : [...q].some((x) => x !== "away" && x !== "lateral") || a.lengthAsked;
  // "How much taller", "how far to the left": a measure; "which is wider from side to side": a comparison.
  if (quantity) return quantityQuestion(a);
  if (a.relations.length > 0) return comparisonQuestion(a);
  if (a.objects.length === 0) return fail("it names no object and asks nothing I know");
  return fail("it asks for no measure, relation, count or colour I know");
}
