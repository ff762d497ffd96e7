export type { Relation, RewardResult, RewardSpec } from "./reward_spec.js";
export { parseRewardSpec, formatRewardSpec } from "./parse_reward_spec.js";
export {
  parseRewardExpression, DEFAULT_DISTANCE_TOLERANCE, DEFAULT_LIFT_HEIGHT, DEFAULT_NEAR_THRESHOLD, REWARD_OPS,
} from "./reward_expression.js";
export { parseRewardInstruction } from "./reward_instruction.js";
export { RewardSpecError, EXAMPLE_REWARD_SPECS } from "./reward_spec_error.js";
export { RELATIONS, validateRewardSpec } from "./reward_spec_validation.js";
export { MAX_REWARD_SPEC_DEPTH, MAX_REWARD_SPEC_LENGTH, MAX_REWARD_SPEC_TERMS } from "./spec_limits.js";
export {
  ON_TOP_CONTACT_TOLERANCE, RESIDUAL_EPSILON, centerDistance, distanceResidual, leafResidual, liftResidual, lowestBottom,
  nearResidual, onTopResidual, outsideFootprint, relationResidual, type LeafSpec,
} from "./spec_geometry.js";
export { specResidual } from "./spec_residual.js";
export { RewardTracker, type RewardTrackerOptions } from "./reward_tracker.js";
export { PoseSceneBuilder, sceneFromPoses, type ObjectPose } from "./scene_from_poses.js";
