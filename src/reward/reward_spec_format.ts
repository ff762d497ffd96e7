import type { RewardSpec } from "./reward_spec.js";

/**
 * The expression form of a spec, unchecked: callers validate first (formatRewardSpec does),
 * which also bounds the recursion here. Numbers print as JavaScript prints them, which reads
 * back to the same double.
 */
export function expressionOf(spec: RewardSpec): string {
  switch (spec.op) {
    case "near":
      return `near(${spec.a}, ${spec.b}, ${spec.threshold})`;
    case "distance":
      return `distance(${spec.a}, ${spec.b}, ${spec.goal}, ${spec.tolerance})`;
    case "relation":
      return `relation(${spec.a}, ${spec.relation}, ${spec.b})`;
    case "lift":
      return `lift(${spec.a}, ${spec.height})`;
    case "all":
    case "any":
      return `${spec.op}(${spec.terms.map(expressionOf).join(", ")})`;
  }
}
