import type { RewardSpec } from "./reward_spec.js";
import { looksLikeExpression, parseRewardExpression } from "./reward_expression.js";
import { parseRewardInstruction } from "./reward_instruction.js";
import { RewardSpecError, examplesHint } from "./reward_spec_error.js";
import { checkSpecTextLength } from "./spec_limits.js";

export { formatRewardSpec } from "./reward_expression.js";

/**
 * Either form: an expression (`near(red mug, blue bowl, 0.05)`) or an instruction ("put the
 * red mug next to the blue bowl"). Throws RewardSpecError (code `bad_reward_spec`) with
 * examples when neither reading works, or `input_too_long` past MAX_REWARD_SPEC_LENGTH characters.
 */
export function parseRewardSpec(text: string): RewardSpec {
  if (typeof text !== "string") throw new RewardSpecError(`A reward spec must be text, got ${typeof text}. ${examplesHint()}`);
  checkSpecTextLength(text);
  return looksLikeExpression(text) ? parseRewardExpression(text) : parseRewardInstruction(text);
}
