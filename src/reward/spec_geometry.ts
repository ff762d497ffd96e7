import type { SceneObject } from "../scene/scene_object.js";
// The same gap the spatial "gap" question answers, so a reward and an answer never disagree.
import { boxGap } from "../spatial/question_types.js";
import type { Relation, RewardSpec } from "./reward_spec.js";

/** A spec term that names objects (everything but all/any). */
export type LeafSpec = Exclude<RewardSpec, { op: "all" } | { op: "any" }>;

/**
 * Per-term geometric error in metres: ≥ 0, and 0 exactly when the term is satisfied. All
 * boxes are the amodal axis-aligned boxes of SceneObject in the spatial frame (x forward,
 * y left, z up). Definitions and their reasons: REWARDS.md.
 */

/**
 * Residuals below this (1 nm) are float rounding of an exactly satisfied term (e.g. a box
 * placed exactly at the goal height, whose bottom is recomputed from centre and size), and
 * count as 0 so that success is decided by geometry, not by the last bit of a double.
 */
export const RESIDUAL_EPSILON = 1e-9;

function excess(x: number): number {
  // NaN passes through: a broken box must surface as an error, never as "satisfied".
  return x > RESIDUAL_EPSILON || Number.isNaN(x) ? x : 0;
}

/** How far A's bottom may sit from B's top and still count as resting on it (box estimates are noisy). */
export const ON_TOP_CONTACT_TOLERANCE = 0.02;

export function centerDistance(a: SceneObject, b: SceneObject): number {
  const dx = a.center.x - b.center.x;
  const dy = a.center.y - b.center.y;
  const dz = a.center.z - b.center.z;
  return Math.sqrt(dx * dx + dy * dy + dz * dz);
}

/** near: the boxes' gap is at most `threshold`. */
export function nearResidual(a: SceneObject, b: SceneObject, threshold: number): number {
  return excess(boxGap(a, b) - threshold);
}

/** distance: the centre distance is within `tolerance` of `goal`. */
export function distanceResidual(a: SceneObject, b: SceneObject, goal: number, tolerance: number): number {
  return excess(Math.abs(centerDistance(a, b) - goal) - tolerance);
}

/** How far A's centre lies outside B's footprint (the xy extent of B's box); 0 when inside. */
export function outsideFootprint(a: SceneObject, b: SceneObject): number {
  const ox = Math.max(0, Math.abs(a.center.x - b.center.x) - b.size.x / 2);
  const oy = Math.max(0, Math.abs(a.center.y - b.center.y) - b.size.y / 2);
  return Math.sqrt(ox * ox + oy * oy);
}

/** on_top_of: A's centre over B's footprint and A's bottom within the contact tolerance of B's top. */
export function onTopResidual(a: SceneObject, b: SceneObject): number {
  const aBottom = a.center.z - a.size.z / 2;
  const bTop = b.center.z + b.size.z / 2;
  return excess(outsideFootprint(a, b) + Math.max(0, Math.abs(aBottom - bTop) - ON_TOP_CONTACT_TOLERANCE));
}

/**
 * Directional relations demand full separation along their axis (A entirely on B's left, ...),
 * stricter than the centre comparison spatial questions use: a reward should not be paid
 * while the boxes still overlap in that direction.
 */
export function relationResidual(a: SceneObject, relation: Relation, b: SceneObject): number {
  switch (relation) {
    case "left_of": // A.yMin ≥ B.yMax
      return excess(b.center.y + b.size.y / 2 - (a.center.y - a.size.y / 2));
    case "right_of": // A.yMax ≤ B.yMin
      return excess(a.center.y + a.size.y / 2 - (b.center.y - b.size.y / 2));
    case "in_front_of": // A.xMax ≤ B.xMin (nearer the viewer)
      return excess(a.center.x + a.size.x / 2 - (b.center.x - b.size.x / 2));
    case "behind": // A.xMin ≥ B.xMax
      return excess(b.center.x + b.size.x / 2 - (a.center.x - a.size.x / 2));
    case "on_top_of":
      return onTopResidual(a, b);
  }
}

/** lift: A's bottom at least `height` above the support height `supportZ`. */
export function liftResidual(a: SceneObject, height: number, supportZ: number): number {
  return excess(height - (a.center.z - a.size.z / 2 - supportZ));
}

/**
 * Stand-in support height when the scene has no support plane: the lowest box bottom in the
 * scene (the lifted object included, so a scene of one lifted object never counts as lifted).
 */
export function lowestBottom(objects: readonly SceneObject[]): number {
  let z = Infinity;
  for (let i = 0; i < objects.length; i++) {
    const o = objects[i];
    const bottom = o.center.z - o.size.z / 2;
    if (bottom < z) z = bottom;
  }
  return z;
}

/**
 * One leaf term's residual. `b` is ignored by lift (pass any object); `supportZ` is ignored by
 * every term but lift.
 */
export function leafResidual(spec: LeafSpec, a: SceneObject, b: SceneObject, supportZ: number): number {
  switch (spec.op) {
    case "near":
      return nearResidual(a, b, spec.threshold);
    case "distance":
      return distanceResidual(a, b, spec.goal, spec.tolerance);
    case "relation":
      return relationResidual(a, spec.relation, b);
    case "lift":
      return liftResidual(a, spec.height, supportZ);
  }
}
