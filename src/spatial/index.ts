export * from "./question_types.js";
export { QUESTION_TEMPLATES, SLOT_MARKERS, fillTemplate } from "./question_templates.js";
export {
  EXAMPLE_QUESTIONS, MAX_QUESTION_LENGTH, QUESTION_CACHE_BUDGET_BYTES, QUESTION_CACHE_ENTRIES, UnparsedQuestionError,
  checkQuestionLength, clearQuestionCache, normalizeQuestion, parseQuestion, parseQuestionOrReason, questionCacheStats, tryParseQuestion,
  type ParsedQuestion,
} from "./question_parser.js";
export { answerPhrasingCount, formatLength, phraseAnswer, phraseShortAnswer } from "./answer_phrasing.js";
export { LENGTH_UNITS, formatLengthIn, lengthUnitForWord, type LengthUnit } from "./length_units.js";
export { MAX_ECHO_LENGTH, capEcho } from "./echoed_text.js";
export type { SpatialAnswer, SpatialAnswerStatus, SpatialAnswerUnit } from "./spatial_answer.js";
export { SAME_OBJECT_STATUS, answerQuestion, answerStructured, type AnswerOptions } from "./answer_question.js";
export {
  generateQuestions, type GenerateOptions, type GeneratedQuestion, type GeneratedQuestions, type SkipReason,
} from "./question_generator.js";
export { clearPhraseCache, parseObjectPhrase, phraseCacheStats, PHRASE_CACHE_BUDGET_BYTES, PHRASE_CACHE_ENTRIES, resolveObject, resolveSet, type ObjectPhrase } from "./object_resolver.js";
export { parseByMeaning, type MeaningParse } from "./meaning_parser.js";
export { objectNameCode } from "./object_name_code.js";
export { pluralPhrase, singularPhrase } from "./set_phrase.js";
