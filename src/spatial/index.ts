export * from "./question_types.js";
export { QUESTION_TEMPLATES, SLOT_MARKERS, fillTemplate } from "./question_templates.js";
export {
  EXAMPLE_QUESTIONS, UnparsedQuestionError, normalizeQuestion, parseQuestion, tryParseQuestion,
  type ParsedQuestion,
} from "./question_parser.js";
export { answerPhrasingCount, formatLength, phraseAnswer } from "./answer_phrasing.js";
export type { SpatialAnswer, SpatialAnswerStatus, SpatialAnswerUnit } from "./spatial_answer.js";
export { answerQuestion, answerStructured, type AnswerOptions } from "./answer_question.js";
export {
  generateQuestions, type GenerateOptions, type GeneratedQuestion, type GeneratedQuestions, type SkipReason,
} from "./question_generator.js";
export { parseObjectPhrase, resolveObject, type ObjectPhrase } from "./object_resolver.js";
