import { QUESTION_TYPES, type QuestionCategory, type QuestionTypeId } from "../../src/spatial/question_types.js";
import { listArg, UsageError, type ArgParser } from "./cli_args.js";

const CATEGORIES: ReadonlySet<string> = new Set<QuestionCategory>(QUESTION_TYPES.map((t) => t.category));

/**
 * `--types LIST`: question type ids and categories (`left_of,choice,count`), as the set of types
 * asked, in the generator's order. A category stands for all its types, so a model trained
 * before a category existed can be scored on the ones it learned
 * (`--types qualitative,choice,quantitative,clock`).
 */
export function questionTypesArg(flag: string): ArgParser<QuestionTypeId[]> {
  const items = listArg(flag, (text) => {
    if (CATEGORIES.has(text) || QUESTION_TYPES.some((t) => t.id === text)) return text;
    throw new UsageError(
      `${flag}: ${JSON.stringify(text.slice(0, 80))} is neither a question type nor a category ` +
      `(categories: ${[...CATEGORIES].join(", ")}; types: ${QUESTION_TYPES.map((t) => t.id).join(", ")})`,
    );
  });
  return (text) => {
    const wanted = new Set(items(text));
    return QUESTION_TYPES.filter((t) => wanted.has(t.id) || wanted.has(t.category)).map((t) => t.id);
  };
}
