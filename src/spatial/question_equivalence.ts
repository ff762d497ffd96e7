import { parseObjectPhrase } from "./object_resolver.js";
import type { ParsedQuestion } from "./question_parser.js";
import type { QuestionTypeId } from "./question_types.js";

/**
 * Whether two parsed questions ask the same thing: the same type and length unit, and slots that
 * name the same objects: the same colour and kind once synonyms, plurals and spellings are read
 * ("grey mugs" = "gray mug", "red thing" = "red object"), track ids as written. For types whose
 * value does not depend on the slot order (distances, offsets, height differences) the two slots
 * may come in either order.
 */
export function sameQuestion(a: ParsedQuestion, b: ParsedQuestion): boolean {
  if (a.type !== b.type || a.unit !== b.unit || a.slots.length !== b.slots.length) return false;
  const ka = a.slots.map(slotKey);
  const kb = b.slots.map(slotKey);
  if (ka.every((k, i) => k === kb[i])) return true;
  return SYMMETRIC.has(a.type) && ka.length === 2 && ka[0] === kb[1] && ka[1] === kb[0];
}

/** Types whose truth is the same for (A, B) and (B, A). */
export const SYMMETRIC: ReadonlySet<QuestionTypeId> = new Set<QuestionTypeId>([
  "distance", "horizontal_distance", "vertical_distance", "gap", "lateral_offset", "depth_offset", "height_difference",
]);

/** "colour|kind" of an object or set phrase ("*" for any kind); a track id as written. */
export function slotKey(slot: string): string {
  const t = slot.trim();
  if (/^[a-z0-9_]+#[a-z0-9_]+$/i.test(t)) return t;
  const p = parseObjectPhrase(t);
  return `${p.color ?? ""}|${p.wildcard ? "*" : p.kind}`;
}
