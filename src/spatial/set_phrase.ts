import { KINDS } from "../scene/kinds.js";
import { parseObjectPhrase, WILDCARD_NOUNS } from "./object_resolver.js";

/**
 * Singular and plural forms of a set phrase ("red cube" / "red cubes", "object" / "objects"):
 * counting questions name their set in the plural, superlatives in the singular, and answers
 * agree with the number.
 */

const PLURAL_OF: ReadonlyMap<string, string> = new Map([
  ...KINDS.map((k) => [k.kind, k.plural] as const),
  ["thing", "things"], ["object", "objects"], ["item", "items"], ["one", "ones"],
]);
const SINGULAR_OF: ReadonlyMap<string, string> = new Map([...PLURAL_OF].map(([s, p]) => [p, s]));

function pluralWord(w: string): string {
  if (SINGULAR_OF.has(w)) return w;
  return PLURAL_OF.get(w) ?? (/(?:s|x|z|ch|sh)$/.test(w) ? `${w}es` : `${w}s`);
}

function mapLastWord(phrase: string, f: (w: string) => string): string {
  const words = phrase.trim().split(/\s+/);
  if (words.length === 0 || words[0] === "") return phrase;
  words[words.length - 1] = f(words[words.length - 1]);
  return words.join(" ");
}

/** "red cube" → "red cubes"; a plural stays as it is. */
export function pluralPhrase(phrase: string): string {
  return mapLastWord(phrase, pluralWord);
}

/** "red cubes" → "red cube"; a singular stays as it is. */
export function singularPhrase(phrase: string): string {
  return mapLastWord(phrase, (w) => SINGULAR_OF.get(w) ?? w);
}

/**
 * How an answer names a set, singular: the colour and the kind as the scene spells them
 * ("gray mug" for "grey mugs"), "object" for any kind ("red object" for "red things").
 */
export function setNoun(phrase: string): string {
  const p = parseObjectPhrase(phrase.replace(/^the\s+/i, ""));
  const noun = p.wildcard || WILDCARD_NOUNS.has(p.kind) ? "object" : singularPhrase(p.kind);
  return p.color ? `${p.color} ${noun}` : noun;
}
