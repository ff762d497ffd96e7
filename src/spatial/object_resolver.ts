import { ObjectReferenceError } from "../errors.js";
import { COLOR_NAMES, COLOR_SYNONYMS } from "../scene/colors.js";
import { KINDS } from "../scene/kinds.js";
import { displayName, type SceneObject } from "../scene/scene_object.js";
import { capEcho } from "./echoed_text.js";

/** What a noun phrase such as "the red mug" asks for. */
export interface ObjectPhrase {
  kind: string;
  color: string | null;
  /** The phrase as written, for messages. */
  text: string;
}

const ARTICLES = new Set(["the", "a", "an", "this", "that"]);

const KIND_BY_WORD: ReadonlyMap<string, string> = new Map(
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
  return { kind, color, text: text.trim() };
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
  const byId = objects.find((o) => o.id === phraseText.trim());
  if (byId) return byId;
  const phrase = parseObjectPhrase(phraseText);
  const sameKind = objects.filter((o) => o.kind === phrase.kind);
  const matches = phrase.color === null ? sameKind : sameKind.filter((o) => o.color === phrase.color);
  if (matches.length === 1) return matches[0];
  // Both quote the user's words: capped, so a huge phrase cannot make a huge message.
  const asked = capEcho(phrase.color ? `${phrase.color} ${phrase.kind}` : phrase.kind);
  if (matches.length > 1) {
    throw new ObjectReferenceError(
      "ambiguous_object",
      `"${capEcho(phrase.text)}" is ambiguous: I see ${matches.length} ${asked}s (${listNames(matches)}); say which one, e.g. by colour.`,
      matches.map(displayName),
    );
  }
  const candidates = sameKind.length > 0 ? sameKind : objects;
  const seen = candidates.length === 0 ? "no objects at all" : listNames(candidates);
  throw new ObjectReferenceError(
    "unknown_object",
    `I don't see ${/^[aeiou]/.test(asked) ? "an" : "a"} ${asked}; I see ${seen}.`,
    candidates.map(displayName),
  );
}
