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

/** A reward spec (text or object) that cannot be used as given; the message says why and what would work. */
export class RewardSpecError extends InvalidInputError {
  readonly examples: readonly string[];
  constructor(message: string) {
    super("bad_reward_spec", message);
    this.examples = EXAMPLE_REWARD_SPECS;
  }
}

export function examplesHint(): string {
  return `Try e.g. ${EXAMPLE_REWARD_SPECS.map((e) => `"${e}"`).join(", ")}.`;
}
