import { ObjectReferenceError } from "../errors.js";
import { COLOR_NAMES, COLOR_SYNONYMS } from "../scene/colors.js";
import { KINDS } from "../scene/kinds.js";
import { displayName, type SceneObject } from "../scene/scene_object.js";
import { ByteBudgetLru } from "./byte_budget_lru.js";
import { capEcho } from "./echoed_text.js";

/** What a noun phrase such as "the red mug" asks for. */
export interface ObjectPhrase {
  kind: string;
  color: string | null;
  /** The phrase as written, for messages. */
  text: string;
  /**
   * The noun is "thing", "object", "item" or "one" (or there is none, as in "the red one" /
   * "the red"): any kind, unless the scene holds objects of that literal kind.
   */
  wildcard: boolean;
}

/** Nouns that stand for any kind ("the red thing", "which object"), singular and plural. */
export const WILDCARD_NOUNS: ReadonlySet<string> = new Set(["thing", "things", "object", "objects", "item", "items", "one", "ones"]);

const ARTICLES = new Set(["the", "a", "an", "this", "that"]);

/** Kind nouns, plurals and synonyms ("mugs", "coffee mug") to their kind ("mug"). */
export const KIND_BY_WORD: ReadonlyMap<string, string> = new Map(
  KINDS.flatMap((k) => [[k.kind, k.kind], [k.plural, k.kind], ...k.synonyms.map((s) => [s, k.kind] as [string, string])]),
);

/** "The Red mug" → {kind: "mug", color: "red"}. Unknown nouns pass through as the kind. */
export function parseObjectPhrase(text: string): ObjectPhrase {
  const words = text.toLowerCase().replace(/[^a-z0-9#\s-]/g, " ").split(/\s+/).filter((w) => w && !ARTICLES.has(w));
  let color: string | null = null;
  const rest: string[] = [];
  for (const w of words) {
    const c = COLOR_SYNONYMS[w] ?? w;
    if (color === null && rest.length === 0 && COLOR_NAMES.includes(c)) color = c;
    else rest.push(w);
  }
  const noun = rest.join(" ");
  const kind = KIND_BY_WORD.get(noun) ?? KIND_BY_WORD.get(rest[rest.length - 1] ?? "") ?? noun;
  const wildcard = (rest.length === 0 && color !== null) || (rest.length === 1 && WILDCARD_NOUNS.has(noun));
  return { kind, color, text: text.trim(), wildcard };
}

/** Most object phrases the phrase cache remembers... */
export const PHRASE_CACHE_ENTRIES = 512;
/** ...and most bytes (estimated) it holds: distinct long phrases evict old ones instead of growing memory. */
export const PHRASE_CACHE_BUDGET_BYTES = 256 * 1024;
/** Map entry and object headers of one cached phrase. */
const PHRASE_ENTRY_OVERHEAD_BYTES = 160;
// Nodes ask about the same objects frame after frame, and parsing a phrase (lower case, a regex
// pass, a split) cost a third of answering a question: repeats are a map lookup. Entries are
// frozen: every resolver call shares them.
const phraseCache = new ByteBudgetLru<string, Readonly<ObjectPhrase>>(PHRASE_CACHE_ENTRIES, PHRASE_CACHE_BUDGET_BYTES);

/** parseObjectPhrase through the phrase cache (a shared, frozen result: for reading only). */
function cachedPhrase(text: string): Readonly<ObjectPhrase> {
  const hit = phraseCache.get(text);
  if (hit !== undefined) return hit;
  const phrase = Object.freeze(parseObjectPhrase(text));
  // Two bytes per UTF-16 unit for the key and for the phrase's strings it keeps alive.
  phraseCache.set(text, phrase, 2 * (text.length + phrase.text.length + phrase.kind.length) + PHRASE_ENTRY_OVERHEAD_BYTES);
  return phrase;
}

/** What the object-phrase cache holds now (for tests and diagnostics). */
export function phraseCacheStats(): { entries: number; bytes: number; budgetBytes: number } {
  return { entries: phraseCache.size, bytes: phraseCache.bytes, budgetBytes: phraseCache.maxBytes };
}

/** Empties the object-phrase cache. */
export function clearPhraseCache(): void {
  phraseCache.clear();
}

/** Objects of the phrase's kind: any kind for a wildcard, unless some object has that literal kind. */
function ofKind(objects: readonly SceneObject[], phrase: Readonly<ObjectPhrase>): SceneObject[] {
  const literal = objects.filter((o) => o.kind === phrase.kind);
  return phrase.wildcard && literal.length === 0 ? objects.slice() : literal;
}

/** "red mug", "red thing", "thing": what a phrase asks for, for messages. */
function askedName(phrase: Readonly<ObjectPhrase>): string {
  const noun = phrase.wildcard && phrase.kind === "" ? "thing" : phrase.kind;
  return capEcho(phrase.color ? `${phrase.color} ${noun}` : noun);
}

function unknownObject(objects: readonly SceneObject[], phrase: Readonly<ObjectPhrase>, sameKind: readonly SceneObject[]): ObjectReferenceError {
  const asked = askedName(phrase);
  const candidates = sameKind.length > 0 ? sameKind : objects;
  const seen = candidates.length === 0 ? "no objects at all" : listNames(candidates);
  return new ObjectReferenceError(
    "unknown_object",
    `I don't see ${/^[aeiou]/.test(asked) ? "an" : "a"} ${asked}; I see ${seen}.`,
    candidates.map(displayName),
  );
}

/**
 * The error for a phrase that names nothing in the scene ("I don't see a green teapot; I see
 * ..."), e.g. a superlative over a set with no member.
 */
export function unknownObjectError(objects: readonly SceneObject[], phraseText: string): ObjectReferenceError {
  const phrase = cachedPhrase(phraseText);
  return unknownObject(objects, phrase, ofKind(objects, phrase));
}

/**
 * Every object a set phrase describes ("cups", "red things", "objects": colour and/or kind, a
 * wildcard noun for any kind), in scene order, without `exclude`. A kind the vocabulary knows
 * (kinds.ts) or the scene holds may have no member (an empty set: "how many balls" is 0); any
 * other noun throws an ObjectReferenceError ("unknown_object") saying what the scene holds, as
 * resolveObject does, because a count of 0 for a word we do not know would be a guess. A track
 * id is the set of that one object.
 */
export function resolveSet(objects: readonly SceneObject[], phraseText: string, exclude?: SceneObject): SceneObject[] {
  // phrase.text is the phrase trimmed: a track id is matched on it.
  const phrase = cachedPhrase(phraseText);
  const byId = objects.find((o) => o.id === phrase.text);
  if (byId) return byId === exclude ? [] : [byId];
  const sameKind = ofKind(objects, phrase);
  const known = phrase.wildcard || KIND_BY_WORD.has(phrase.kind) || sameKind.length > 0;
  if (!known) throw unknownObject(objects, phrase, sameKind);
  const members = phrase.color === null ? sameKind : sameKind.filter((o) => o.color === phrase.color);
  return exclude === undefined ? members : members.filter((o) => o !== exclude);
}

/** Most objects a message names; a crowded scene is summarised ("... and 12 more"). */
const MAX_LISTED = 10;

/** "the red mug, the blue bowl and the green cup". */
export function listNames(objects: readonly SceneObject[]): string {
  const shown = objects.length > MAX_LISTED ? objects.slice(0, MAX_LISTED - 1) : objects;
  const names = shown.map((o) => `the ${displayName(o)}`);
  if (shown.length < objects.length) return `${names.join(", ")} and ${objects.length - shown.length} more`;
  if (names.length <= 1) return names.join("");
  return `${names.slice(0, -1).join(", ")} and ${names[names.length - 1]}`;
}

/**
 * The one object a phrase refers to. Never guesses: a phrase matching nothing or more than
 * one object throws an ObjectReferenceError whose message says what the scene does hold.
 * Track ids ("mug#2") are accepted as exact references.
 */
export function resolveObject(objects: readonly SceneObject[], phraseText: string): SceneObject {
  const phrase = cachedPhrase(phraseText);
  const byId = objects.find((o) => o.id === phrase.text);
  if (byId) return byId;
  const sameKind = ofKind(objects, phrase);
  const matches = phrase.color === null ? sameKind : sameKind.filter((o) => o.color === phrase.color);
  if (matches.length === 1) return matches[0];
  // Both quote the user's words: capped, so a huge phrase cannot make a huge message.
  if (matches.length > 1) {
    throw new ObjectReferenceError(
      "ambiguous_object",
      `"${capEcho(phrase.text)}" is ambiguous: I see ${matches.length} ${askedName(phrase)}s (${listNames(matches)}); say which one, e.g. by colour.`,
      matches.map(displayName),
    );
  }
  throw unknownObject(objects, phrase, sameKind);
}
