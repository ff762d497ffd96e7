/**
 * Rearrangement task specifications. Objects are referred to by phrase ("red mug") and
 * resolved against the scene each frame with spatial/object_resolver.ts.
 */
export type Relation = "left_of" | "right_of" | "in_front_of" | "behind" | "on_top_of";

export type RewardSpec =
  /** The gap between A's and B's boxes (closest points) at most `threshold` m; see REWARDS.md. */
  | { op: "near"; a: string; b: string; threshold: number }
  /** A's box centre at `goal` m from B's, within `tolerance` m. */
  | { op: "distance"; a: string; b: string; goal: number; tolerance: number }
  /** A stands in `relation` to B (spatial frame, see DEFINITIONS.md). */
  | { op: "relation"; a: string; relation: Relation; b: string }
  /** A's bottom at least `height` m above the support surface. */
  | { op: "lift"; a: string; height: number }
  | { op: "all"; terms: readonly RewardSpec[] }
  | { op: "any"; terms: readonly RewardSpec[] };

/** One frame's reward, stamped with the frame it was computed from. */
export interface RewardResult {
  stamp: bigint;
  /** Dense shaped reward: minus the remaining geometric error in metres (0 when satisfied). */
  reward: number;
  /** 0 at the episode's first frame, 1 when the spec is satisfied; monotone in the error. */
  progress: number;
  success: boolean;
  /** Remaining geometric error in metres (≥ 0). */
  residual: number;
  /**
   * Residual of each leaf term (near/distance/relation/lift) in the spec's depth-first order,
   * e.g. RewardTracker.termLabels; every term of an `any` is included.
   */
  terms?: Float64Array;
}
