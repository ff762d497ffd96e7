import { RewardSpecError } from "./reward_spec_error.js";

/**
 * Bounds on a reward spec, checked before any recursion over it: the parser, validation,
 * formatting, the residual and the tracker all recurse once per nesting level, so a hostile
 * `all(all(all(…` could otherwise exhaust the stack with an untyped RangeError, and a huge
 * spec would cost every frame.
 */

/** Longest spec text accepted, in UTF-16 code units (longer: `input_too_long`). */
export const MAX_REWARD_SPEC_LENGTH = 4096;
/** Deepest nesting accepted: a leaf alone is depth 1, `all(near(…))` depth 2. */
export const MAX_REWARD_SPEC_DEPTH = 32;
/** Most ops in one spec, leaves and all/any alike. */
export const MAX_REWARD_SPEC_TERMS = 128;

export function checkSpecTextLength(text: string): void {
  if (text.length > MAX_REWARD_SPEC_LENGTH) {
    throw new RewardSpecError(
      `A reward spec may be at most ${MAX_REWARD_SPEC_LENGTH} characters long, got ${text.length}.`,
      "input_too_long",
    );
  }
}

export function tooDeep(where: string): RewardSpecError {
  return new RewardSpecError(`${where}: all/any nested deeper than ${MAX_REWARD_SPEC_DEPTH} levels (or a spec that contains itself).`);
}

export function tooManyTerms(where: string): RewardSpecError {
  return new RewardSpecError(`${where}: more than ${MAX_REWARD_SPEC_TERMS} terms (leaves and all/any together).`);
}
