import { InvalidInputError, ObjectReferenceError } from "../errors.js";
import { displayName, type Scene, type SceneObject } from "../scene/scene_object.js";
import { phraseAnswer } from "./answer_phrasing.js";
import { resolveObject } from "./object_resolver.js";
import { EXAMPLE_QUESTIONS, tryParseQuestion } from "./question_parser.js";
import { questionType, type QuestionTypeId } from "./question_types.js";
import type { SpatialAnswer, SpatialAnswerUnit } from "./spatial_answer.js";

export interface AnswerOptions {
  /** Picks the answer phrasing deterministically; the same seed gives the same sentence. */
  seed?: number;
}

const UNIT_BY_CATEGORY = { qualitative: "bool", choice: "choice", quantitative: "m", clock: "hour" } as const;

const UNPARSED_TEXT =
  `Sorry, I didn't understand that question. I can answer questions like ${EXAMPLE_QUESTIONS.map((q) => `"${q}"`).join(", ")}.`;

function refusal(
  status: "unknown_object" | "ambiguous_object" | "unparsed",
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
 * applies to ground truth. Never guesses an object: a reference that matches nothing or more
 * than one object yields status "unknown_object"/"ambiguous_object" with the resolver's
 * message saying what the scene does hold.
 */
export function answerQuestion(scene: Scene, text: string, options?: AnswerOptions): SpatialAnswer {
  const parsed = tryParseQuestion(text);
  if (parsed === null) return refusal("unparsed", null, text, UNPARSED_TEXT);
  const objects: SceneObject[] = [];
  for (const slot of parsed.slots) {
    try {
      objects.push(resolveObject(scene.objects, slot));
    } catch (e) {
      if (e instanceof ObjectReferenceError) {
        return refusal(e.code === "ambiguous_object" ? "ambiguous_object" : "unknown_object", parsed.type, text, e.message);
      }
      throw e;
    }
  }
  return answerStructured(scene, parsed.type, objects, { ...options, question: text });
}

/** For callers that resolved the slot objects themselves (A, B, C in the type's slot order). */
export function answerStructured(
  scene: Scene,
  type: QuestionTypeId,
  slotObjects: readonly SceneObject[],
  options?: AnswerOptions & { question?: string },
): SpatialAnswer {
  const t = questionType(type);
  if (slotObjects.length !== t.arity) {
    throw new InvalidInputError("bad_argument", `question type ${type} takes ${t.arity} object(s), got ${slotObjects.length}`);
  }
  const value = t.truth(slotObjects, scene.supportZ);
  let confidence = 1;
  const names: string[] = [];
  for (const o of slotObjects) {
    confidence = Math.min(confidence, o.confidence);
    names.push(`the ${displayName(o)}`);
  }
  const answer: SpatialAnswer = {
    status: "ok",
    type,
    question: options?.question ?? "",
    subject: slotObjects[0].id,
    object: slotObjects[1]?.id ?? "",
    reference: slotObjects[2]?.id ?? "",
    value,
    unit: Number.isNaN(value) ? "" : UNIT_BY_CATEGORY[t.category],
    text: phraseAnswer(type, names, value, options?.seed ?? 0),
    confidence,
  };
  if (t.category === "qualitative") answer.boolean = value === 1;
  if (t.category === "choice") answer.choice = slotObjects[value].id;
  return answer;
}
