import { InvalidInputError, ObjectReferenceError } from "../errors.js";
import { displayName, type Scene, type SceneObject } from "../scene/scene_object.js";
import { phraseAnswer } from "./answer_phrasing.js";
import { capEcho } from "./echoed_text.js";
import type { LengthUnit } from "./length_units.js";
import { listNames, resolveObject, resolveSet, unknownObjectError } from "./object_resolver.js";
import { EXAMPLE_QUESTIONS, parseQuestionShared } from "./question_parser.js";
import { questionType, splitSetArguments, superlativeChoice, type QuestionTypeId } from "./question_types.js";
import type { SpatialAnswer, SpatialAnswerUnit } from "./spatial_answer.js";

export interface AnswerOptions {
  /** Picks the answer phrasing deterministically; the same seed gives the same sentence. */
  seed?: number;
  /** The unit lengths are said in; a unit the question names ("... in inches?") wins over this. */
  lengthUnit?: LengthUnit;
}

/** The status of a question naming one object in two slots ("how far is the red mug from the red mug?"). */
export const SAME_OBJECT_STATUS = "same_object" as const;

const UNIT_BY_CATEGORY = {
  qualitative: "bool", choice: "choice", quantitative: "m", clock: "hour", count: "count", color: "color", superlative: "object",
} as const;

const EXAMPLES_TEXT = `I can answer questions like ${EXAMPLE_QUESTIONS.map((q) => `"${q}"`).join(", ")}.`;

function unparsedText(reason: string | null): string {
  return `Sorry, I didn't understand that question${reason ? ` (${reason})` : ""}. ${EXAMPLES_TEXT}`;
}

function refusal(
  status: Exclude<SpatialAnswer["status"], "ok">,
  type: QuestionTypeId | null,
  question: string,
  text: string,
): SpatialAnswer {
  return {
    status, type, question, subject: "", object: "", reference: "",
    value: NaN, unit: "" as SpatialAnswerUnit, text, confidence: 0,
  };
}

/**
 * Answers a question about one frame's scene using the same truth functions the evaluator
 * applies to ground truth. Never guesses an object. Refusals (status, value NaN, unit ""):
 * - "unparsed": neither a known phrasing nor the meaning parser understands it (the text says
 *   what was not understood);
 * - "unknown_object": a phrase matches nothing in the scene ("I don't see a green teapot; I see
 *   ..."), whatever the question and whatever the other phrases are;
 * - "same_object": two phrases name the same object (SAME_OBJECT_STATUS);
 * - "unanswerable": the scene lacks what the answer needs (elevation without a support surface);
 * - "ambiguous_object": a phrase matches several objects (and none is unknown).
 * A set phrase (counts, superlatives: "cups", "red things") is every object it describes; a
 * superlative over a set with no member is "unknown_object" (or "same_object" when its only
 * member is slot B's object: "which book is closest to the book").
 * Lengths are phrased in the unit the question asks for ("in inches"); `value` stays in metres.
 * Throws InvalidInputError("input_too_long") for a question over MAX_QUESTION_LENGTH, before
 * any work on its text; nothing else is thrown for any string.
 */
export function answerQuestion(scene: Scene, text: string, options?: AnswerOptions): SpatialAnswer {
  // The cache's own parse (read here, never kept or changed): no copy per question per frame.
  const outcome = parseQuestionShared(text);
  if ("reason" in outcome) return refusal("unparsed", null, text, unparsedText(outcome.reason));
  const parsed = outcome;
  const roles = questionType(parsed.type).slotRoles;
  const objects: SceneObject[] = [];
  // Every phrase is resolved before answering, so an object that is not there is reported as
  // such even when another phrase of the question is ambiguous.
  let ambiguous: ObjectReferenceError | null = null;
  for (let i = 0; i < parsed.slots.length; i++) {
    if (roles[i] === "set") continue;
    try {
      objects.push(resolveObject(scene.objects, parsed.slots[i]));
    } catch (e) {
      if (!(e instanceof ObjectReferenceError)) throw e;
      if (e.code === "unknown_object") return refusal("unknown_object", parsed.type, text, e.message);
      ambiguous ??= e;
    }
  }
  let members: SceneObject[] | null = null;
  if (roles[0] === "set") {
    try {
      // Slot B's object (closest_to, farthest_from) is not one of the set it is measured from.
      members = resolveSet(scene.objects, parsed.slots[0], ambiguous === null ? objects[0] : undefined);
    } catch (e) {
      if (!(e instanceof ObjectReferenceError)) throw e;
      return refusal("unknown_object", parsed.type, text, e.message);
    }
  }
  if (ambiguous !== null) return refusal("ambiguous_object", parsed.type, text, ambiguous.message);
  const repeated = repeatedObject(objects);
  if (repeated >= 0) return refusal(SAME_OBJECT_STATUS, parsed.type, text, sameObjectText(scene, objects[repeated], parsed.slots, objects));
  const opts = { ...options, lengthUnit: parsed.unit ?? options?.lengthUnit, question: text };
  if (members === null) return answerStructured(scene, parsed.type, objects, opts);
  if (members.length === 0 && questionType(parsed.type).category === "superlative") {
    const withReference = objects.length > 0 ? resolveSet(scene.objects, parsed.slots[0]) : [];
    if (withReference.length > 0) {
      return refusal(SAME_OBJECT_STATUS, parsed.type, text, sameObjectText(scene, objects[0], [parsed.slots[0], parsed.slots[1]], [objects[0], objects[0]]));
    }
    return refusal("unknown_object", parsed.type, text, unknownObjectError(scene.objects, parsed.slots[0]).message);
  }
  return answerStructured(scene, parsed.type, [...members, ...objects], { ...opts, set: parsed.slots[0] });
}

/** Index of the first object that fills an earlier slot too, or -1. */
function repeatedObject(objects: readonly SceneObject[]): number {
  for (let i = 1; i < objects.length; i++) for (let j = 0; j < i; j++) if (objects[i] === objects[j]) return i;
  return -1;
}

function sameObjectText(scene: Scene, o: SceneObject, slots: readonly string[], objects: readonly SceneObject[]): string {
  const phrases = slots.filter((_, i) => objects[i] === o).map((p) => `"${capEcho(p)}"`);
  const others = scene.objects.filter((x) => x !== o);
  const seen = others.length === 0 ? "nothing else" : listNames(others);
  return `${phrases.join(" and ")} both refer to the ${displayName(o)}: I need different objects to compare. Besides it I see ${seen}.`;
}

/**
 * For callers that resolved the slot objects themselves (A, B, C in the type's slot order). For
 * a type whose slot A is a set (count, superlatives), `slotObjects` are the set's members
 * followed by the other slots' objects, as the truth functions take them, and `options.set` is
 * the set phrase the answer names ("red cubes"; default "objects").
 */
export function answerStructured(
  scene: Scene,
  type: QuestionTypeId,
  slotObjects: readonly SceneObject[],
  options?: AnswerOptions & { question?: string; set?: string },
): SpatialAnswer {
  const t = questionType(type);
  if (t.slotRoles[0] === "set") return answerAboutSet(scene, type, slotObjects, options);
  if (slotObjects.length !== t.arity) {
    throw new InvalidInputError("bad_argument", `question type ${type} takes ${t.arity} object(s), got ${slotObjects.length}`);
  }
  const value = t.truth(slotObjects, scene.supportZ);
  let confidence = 1;
  const names: string[] = [];
  for (const o of slotObjects) {
    confidence = Math.min(confidence, o.confidence);
    // A colour answer names the object by its kind: "the lemon is yellow", not "the yellow lemon is yellow".
    names.push(t.category === "color" ? `the ${o.kind}` : `the ${displayName(o)}`);
  }
  const answer: SpatialAnswer = {
    // A number that does not exist (elevation with no support surface) is no answer: said in
    // words, never status ok with a NaN value.
    status: Number.isNaN(value) ? "unanswerable" : "ok",
    type,
    question: options?.question ?? "",
    subject: slotObjects[0].id,
    object: slotObjects[1]?.id ?? "",
    reference: slotObjects[2]?.id ?? "",
    value,
    unit: Number.isNaN(value) ? "" : UNIT_BY_CATEGORY[t.category],
    text: phraseAnswer(type, names, value, options?.seed ?? 0, options?.lengthUnit),
    confidence,
  };
  if (t.category === "qualitative") answer.boolean = value === 1;
  if (t.category === "choice") answer.choice = slotObjects[value].id;
  return answer;
}

/** Count and superlative answers: slot A is a set (members first, then the other slots' objects). */
function answerAboutSet(
  scene: Scene,
  type: QuestionTypeId,
  slotObjects: readonly SceneObject[],
  options?: AnswerOptions & { question?: string; set?: string },
): SpatialAnswer {
  const t = questionType(type);
  if (slotObjects.length < t.arity - 1) {
    throw new InvalidInputError("bad_argument", `question type ${type} takes a set and ${t.arity - 1} object(s), got ${slotObjects.length} object(s)`);
  }
  const { members, others } = splitSetArguments(t.arity, slotObjects);
  const value = t.truth(slotObjects, scene.supportZ);
  let confidence = 1;
  for (const o of slotObjects) confidence = Math.min(confidence, o.confidence);
  const set = options?.set ?? "objects";
  const seed = options?.seed ?? 0;
  const base = { type, question: options?.question ?? "", confidence };
  if (t.category === "count") {
    return {
      ...base, status: "ok", subject: "", object: "", reference: "", value, unit: "count",
      text: phraseAnswer(type, [set], value, seed),
    };
  }
  const chosen = members[superlativeChoice(type, slotObjects)];
  if (chosen === undefined || Number.isNaN(value)) {
    return {
      ...base, status: "unanswerable", subject: "", object: others[0]?.id ?? "", reference: "", value: NaN, unit: "",
      text: phraseAnswer(type, ["", ...others.map((o) => `the ${displayName(o)}`)], NaN, seed, undefined, set), confidence: 0,
    };
  }
  return {
    ...base, status: "ok", subject: chosen.id, object: others[0]?.id ?? "", reference: "", value, unit: "object",
    text: phraseAnswer(type, [`the ${displayName(chosen)}`, ...others.map((o) => `the ${displayName(o)}`)], value, seed, undefined, set),
    choice: chosen.id,
  };
}
