import type { SceneObject } from "../scene/scene_object.js";
import type { RestingOn } from "./object_box.js";

/** The supporting top may lie this far above a stacked object's lowest seen point (noise, mask spill), metres. */
const ABOVE_TOLERANCE = 0.01;
/**
 * And this far below it: a stacked object's underside is hidden, and its lowest seen point
 * can be well above the contact (a ball on a box shows nothing lower than r(1 − cos E) above
 * it; a bowl seen from high above, little below its rim).
 */
const BELOW_TOLERANCE = 0.06;
/** A footprint is widened by this much each way when asking whether an object stands on it. */
const FOOTPRINT_MARGIN = 0.01;

/** Widens `s`'s horizontal extent to contain `o`'s. */
function growTo(s: SceneObject, o: SceneObject): void {
  const x0 = Math.min(s.center.x - s.size.x / 2, o.center.x - o.size.x / 2), x1 = Math.max(s.center.x + s.size.x / 2, o.center.x + o.size.x / 2);
  const y0 = Math.min(s.center.y - s.size.y / 2, o.center.y - o.size.y / 2), y1 = Math.max(s.center.y + s.size.y / 2, o.center.y + o.size.y / 2);
  s.center.x = (x0 + x1) / 2; s.size.x = x1 - x0;
  s.center.y = (y0 + y1) / 2; s.size.y = y1 - y0;
}

/**
 * A stacked object's bottom is the top of what it stands on. Its own lowest seen points are
 * not its bottom: the underside is hidden, and so is more of a round object's lower half, the
 * higher the camera. For every object whose contact evidence says it stands on another object,
 * or is unknown and it is not on the support, or whose bottom edge is hidden by a nearer
 * object (then it was put on the support, unless an object is found under it), the highest
 * other object whose top lies just below its lowest seen point (`lowest`) and whose footprint
 * holds its centre is its support; the box is extended down to that top (its own top stays),
 * and the support's footprint widened to hold the object's when the object hides its far part.
 * Objects carried in the air ("nothing") are left alone. Boxes are changed in place; returns
 * how many were settled.
 */
export function settleOnSupports(objects: SceneObject[], restingOn: readonly RestingOn[], onSupport: readonly boolean[], lowest: readonly number[]): number {
  let settled = 0;
  for (let i = 0; i < objects.length; i++) {
    const r = restingOn[i];
    if (!(r === "object" || r === "unknown" || r === "occluded") || (onSupport[i] && r !== "occluded")) continue;
    const o = objects[i];
    const bottom = lowest[i];
    const top = o.center.z + o.size.z / 2;
    let best = -Infinity, support = -1;
    for (let j = 0; j < objects.length; j++) {
      if (j === i) continue;
      const s = objects[j];
      const sTop = s.center.z + s.size.z / 2;
      if (sTop > bottom + ABOVE_TOLERANCE || sTop < bottom - BELOW_TOLERANCE || sTop >= top - 0.005) continue;
      if (Math.abs(o.center.x - s.center.x) > s.size.x / 2 + FOOTPRINT_MARGIN) continue;
      if (Math.abs(o.center.y - s.center.y) > s.size.y / 2 + FOOTPRINT_MARGIN) continue;
      if (sTop > best) { best = sTop; support = j; }
    }
    if (best === -Infinity) continue;
    o.size.z = top - best;
    o.center.z = (top + best) / 2;
    // What stands on a top face is held by it: a support whose far part the stacked object
    // hides (a cube on a cube) is seen short, so its footprint is widened to hold the object's.
    const s = objects[support];
    growTo(s, o);
    settled++;
  }
  return settled;
}
