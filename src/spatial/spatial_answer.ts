import type { QuestionTypeId } from "./question_types.js";

export type SpatialAnswerStatus = "ok" | "unknown_object" | "ambiguous_object" | "unparsed" | "same_object" | "unanswerable";

/** "m" quantitative, "bool" yes/no, "choice" which-one, "hour" clock, "" when there is no answer. */
export type SpatialAnswerUnit = "m" | "bool" | "choice" | "hour" | "";

/** One answered (or refused) spatial question, structured for machines and phrased for people. */
export interface SpatialAnswer {
  status: SpatialAnswerStatus;
  /** null when the question could not be parsed. */
  type: QuestionTypeId | null;
  /** The question as asked ("" for structured queries). */
  question: string;
  /** Object ids of slots A, B, C; "" when the type has no such slot or resolution failed. */
  subject: string;
  object: string;
  reference: string;
  /**
   * The truth-function encoding: metres, 1/0 for yes/no, chosen slot index (0 = subject,
   * 1 = object) for choice, hour 1..12 for clock; NaN when there is no answer.
   */
  value: number;
  unit: SpatialAnswerUnit;
  /** Qualitative answers only. */
  boolean?: boolean;
  /** Choice answers only: id of the chosen object. */
  choice?: string;
  /** The answer sentence, or why there is none (the resolver's message for unknown/ambiguous objects). */
  text: string;
  /** Minimum of the slot objects' confidences; 0 when there is no answer. */
  confidence: number;
}
