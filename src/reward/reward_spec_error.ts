import { InvalidInputError } from "../errors.js";

/** What the parser understands, quoted back to whoever wrote something it does not. */
export const EXAMPLE_REWARD_SPECS: readonly string[] = [
  "put the red mug next to the blue bowl",
  "place the apple on the plate",
  "move the can to the left of the box",
  "put the mug 20 cm from the bowl",
  "lift the apple 10 cm",
  "pick up the banana and put it on the plate",
  "near(red mug, blue bowl, 0.05)",
  "distance(red mug, blue bowl, 0.20, 0.02)",
  "relation(red mug, left_of, blue bowl)",
  "all(lift(apple, 0.10), any(near(mug, bowl, 0.05), relation(mug, on_top_of, plate)))",
];

/**
 * A reward spec (text or object) that cannot be used as given; the message says why and what
 * would work. Code `bad_reward_spec`, or `input_too_long` for a text over the length limit.
 */
export class RewardSpecError extends InvalidInputError {
  readonly examples: readonly string[];
  constructor(message: string, code: "bad_reward_spec" | "input_too_long" = "bad_reward_spec") {
    super(code, message);
    this.examples = EXAMPLE_REWARD_SPECS;
  }
}

/** Text quoted back in a message, cut to `max` characters: a 4 KB spec must not make a 4 KB message. */
export function quoted(text: string, max = 80): string {
  return JSON.stringify(text.length > max ? `${text.slice(0, max)}…` : text);
}

/** Any value, for a message, without throwing (JSON.stringify throws on BigInt, String on nothing here). */
export function describeValue(value: unknown): string {
  if (typeof value === "string") return quoted(value);
  if (value === null || value === undefined || typeof value === "number" || typeof value === "boolean" || typeof value === "bigint") {
    return String(value);
  }
  if (typeof value === "symbol") return value.toString();
  if (Array.isArray(value)) return `an array of ${value.length}`;
  return typeof value === "function" ? "a function" : "an object";
}

export function examplesHint(): string {
  return `Try e.g. ${EXAMPLE_REWARD_SPECS.map((e) => `"${e}"`).join(", ")}.`;
}
