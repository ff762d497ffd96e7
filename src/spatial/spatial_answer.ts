import type { QuestionTypeId } from "./question_types.js";

export type SpatialAnswerStatus = "ok" | "unknown_object" | "ambiguous_object" | "unparsed" | "same_object" | "unanswerable";

/**
 * "m" quantitative, "bool" yes/no, "choice" which-one, "hour" clock, "count" how many, "color"
 * an object's colour (value: index in COLOR_NAMES), "object" a superlative (value: the chosen
 * object's objectNameCode, its id in `choice`), "" when there is no answer.
 */
export type SpatialAnswerUnit = "m" | "bool" | "choice" | "hour" | "count" | "color" | "object" | "";

/** One answered (or refused) spatial question, structured for machines and phrased for people. */
export interface SpatialAnswer {
  status: SpatialAnswerStatus;
  /** null when the question could not be parsed. */
  type: QuestionTypeId | null;
  /** The question as asked ("" for structured queries). */
  question: string;
  /**
   * Object ids of slots A, B, C; "" when the type has no such slot or resolution failed. A set
   * slot has no one object: a count's subject is "", a superlative's is the chosen object.
   */
  subject: string;
  object: string;
  reference: string;
  /**
   * The truth-function encoding: metres, 1/0 for yes/no, chosen slot index (0 = subject,
   * 1 = object) for choice, hour 1..12 for clock, the number of objects for count, the colour's
   * index in COLOR_NAMES for color, the chosen object's objectNameCode for a superlative; NaN
   * when there is no answer.
   */
  value: number;
  unit: SpatialAnswerUnit;
  /** Qualitative answers only. */
  boolean?: boolean;
  /** Choice and superlative answers only: id of the chosen object. */
  choice?: string;
  /** The answer sentence, or why there is none (the resolver's message for unknown/ambiguous objects). */
  text: string;
  /** Minimum of the slot objects' confidences; 0 when there is no answer. */
  confidence: number;
}
