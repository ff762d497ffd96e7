import type { Quaternion } from "../src/geometry/quaternion.js";
import { rotateByQuaternion } from "../src/geometry/quaternion.js";
import { add, dot, norm, normalize, scale, sub, type Vec3 } from "../src/geometry/vec3.js";
import { quatFromDirection } from "./rotation.js";
import type { RigidPose } from "./teleop_motion.js";

/** One joint of the operator skeleton: its name and its parent's index (−1 for the root). */
export interface SkeletonJointDef {
  readonly name: string;
  readonly parent: number;
}

/**
 * The operator: 25 joints, parents before children (the order a mocap skeleton streams).
 * Left and right are the operator's own.
 */
export const OPERATOR_JOINTS: readonly SkeletonJointDef[] = Object.freeze([
  { name: "pelvis", parent: -1 },
  { name: "spine", parent: 0 },
  { name: "chest", parent: 1 },
  { name: "neck", parent: 2 },
  { name: "head", parent: 3 },
  { name: "left_clavicle", parent: 2 },
  { name: "left_shoulder", parent: 5 },
  { name: "left_elbow", parent: 6 },
  { name: "left_wrist", parent: 7 },
  { name: "left_hand", parent: 8 },
  { name: "right_clavicle", parent: 2 },
  { name: "right_shoulder", parent: 10 },
  { name: "right_elbow", parent: 11 },
  { name: "right_wrist", parent: 12 },
  { name: "right_hand", parent: 13 },
  { name: "left_hip", parent: 0 },
  { name: "left_knee", parent: 15 },
  { name: "left_ankle", parent: 16 },
  { name: "left_foot", parent: 17 },
  { name: "left_toe", parent: 18 },
  { name: "right_hip", parent: 0 },
  { name: "right_knee", parent: 20 },
  { name: "right_ankle", parent: 21 },
  { name: "right_foot", parent: 22 },
  { name: "right_toe", parent: 23 },
]);

const J = Object.fromEntries(OPERATOR_JOINTS.map((j, i) => [j.name, i])) as Record<string, number>;

/** Upper arm and forearm (shoulder → elbow → wrist), and wrist → the hand's tracked point (m). */
export const UPPER_ARM_M = 0.3;
export const FOREARM_M = 0.26;
export const HAND_M = 0.08;
/** The wrist is kept within this fraction of the arm's full length: a straight arm is a singular IK pose. */
const REACH_FRACTION = 0.95;
const PELVIS_Z = 0.95;
/** Most the torso leans forward (rad) before the operator steps towards the hand. */
const MAX_LEAN = 0.9;
/** Where the operator stands relative to the right wrist when it can: behind it (−x) and to its left (+y). */
const STANCE_BACK_M = 0.35;
const STANCE_LEFT_M = 0.2;
/** The operator stays behind the near table edge (−x side) by this much unless the hand draws them in. */
const EDGE_CLEARANCE_M = 0.22;

// The operator faces +x (across the table from its −x side): body forward, left, up = world x, y, z.
const FORWARD: Vec3 = { x: 1, y: 0, z: 0 };
const LEFT: Vec3 = { x: 0, y: 1, z: 0 };
const UP: Vec3 = { x: 0, y: 0, z: 1 };

/** Torso points in body coordinates (forward, left, up) from the pelvis, before leaning. */
const SPINE = { f: 0, l: 0, u: 0.12 };
const CHEST = { f: 0, l: 0, u: 0.32 };
const NECK = { f: 0, l: 0, u: 0.54 };
const HEAD = { f: 0.02, l: 0, u: 0.66 };
const CLAVICLE = { f: 0, l: 0.03, u: 0.48 };
const SHOULDER = { f: -0.01, l: 0.18, u: 0.5 };

export interface OperatorPose {
  /** World positions (REP-103, m), indexed like OPERATOR_JOINTS. */
  positions: Vec3[];
  /** World orientations: x along the bone to the joint's child, y towards the operator's left where the bone allows. */
  orientations: Quaternion[];
  /** Forward lean of the torso (rad). */
  leanRad: number;
}

/** A torso point (body coordinates, side −1 mirrors it to the right) leaned forward by `lean` about the pelvis. */
function torso(pelvis: Vec3, p: { f: number; l: number; u: number }, side: number, lean: number): Vec3 {
  const c = Math.cos(lean), s = Math.sin(lean);
  const f = p.f * c + p.u * s;
  const u = p.u * c - p.f * s;
  return { x: pelvis.x + f, y: pelvis.y + side * p.l, z: pelvis.z + u };
}

/** The body frame leaned by `lean`: a vector given in (forward, left, up) → world. */
function leaned(v: { f: number; l: number; u: number }, lean: number): Vec3 {
  const c = Math.cos(lean), s = Math.sin(lean);
  return { x: v.f * c + v.u * s, y: v.l, z: v.u * c - v.f * s };
}

/**
 * Two-bone inverse kinematics: the elbow for a shoulder S and wrist W, bent towards `pole`.
 * The distance is clamped into the reachable range, so the result is always a valid triangle.
 */
export function elbowPosition(s: Vec3, w: Vec3, pole: Vec3, upper = UPPER_ARM_M, fore = FOREARM_M): Vec3 {
  const axis = sub(w, s);
  const d0 = norm(axis);
  const u = d0 > 0 ? scale(axis, 1 / d0) : FORWARD;
  const d = Math.min(Math.max(d0, Math.abs(upper - fore) + 1e-9), upper + fore - 1e-9);
  const a = (upper * upper - fore * fore + d * d) / (2 * d);
  const h = Math.sqrt(Math.max(0, upper * upper - a * a));
  let n = sub(pole, scale(u, dot(pole, u)));
  if (norm(n) < 1e-9) n = sub(FORWARD, scale(u, dot(FORWARD, u)));
  n = normalize(n);
  return add(add(s, scale(u, a)), scale(n, h));
}

/**
 * A standing operator whose right hand holds the teleop hand pose: the right hand joint is
 * exactly `hand.position`, the right wrist HAND_M behind it along the fingers (the hand's x
 * axis), the elbow from two-bone IK (bent down and out). The operator stands behind the near
 * (−x) table edge facing +x, level with the hand; when the wrist is out of reach the torso
 * leans forward (up to MAX_LEAN), and beyond that the operator steps towards it, so the right
 * arm always reaches. The left arm hangs relaxed, the legs stand under the hips. Pure
 * function of the hand pose and the table edge: deterministic and continuous in the hand.
 */
export function operatorPose(hand: RigidPose, tableHalfX: number): OperatorPose {
  const fingers = rotateByQuaternion(hand.orientation, FORWARD);
  const wrist = sub(hand.position, scale(fingers, HAND_M));
  const reach = REACH_FRACTION * (UPPER_ARM_M + FOREARM_M);
  const pelvis: Vec3 = { x: Math.min(-tableHalfX - EDGE_CLEARANCE_M, wrist.x - STANCE_BACK_M), y: wrist.y + STANCE_LEFT_M, z: PELVIS_Z };
  const gap = (lean: number) => norm(sub(wrist, torso(pelvis, SHOULDER, -1, lean)));
  let lean = 0;
  if (gap(0) > reach) {
    if (gap(MAX_LEAN) <= reach) {
      // The smallest lean that brings the shoulder within reach.
      let lo = 0, hi = MAX_LEAN;
      for (let i = 0; i < 40; i++) {
        const mid = (lo + hi) / 2;
        if (gap(mid) > reach) lo = mid;
        else hi = mid;
      }
      lean = hi;
    } else {
      // Step horizontally towards the wrist until it is within reach (or as close as the height allows).
      lean = MAX_LEAN;
      const d = sub(wrist, torso(pelvis, SHOULDER, -1, lean));
      const horizontal = Math.hypot(d.x, d.y);
      if (horizontal > 0) {
        const dir = { x: d.x / horizontal, y: d.y / horizontal };
        const disc = horizontal * horizontal - (d.x * d.x + d.y * d.y + d.z * d.z) + reach * reach;
        const step = disc >= 0 ? horizontal - Math.sqrt(disc) : horizontal;
        pelvis.x += dir.x * step;
        pelvis.y += dir.y * step;
      }
    }
  }
  const p: Vec3[] = new Array<Vec3>(OPERATOR_JOINTS.length);
  p[J.pelvis] = pelvis;
  p[J.spine] = torso(pelvis, SPINE, 1, lean);
  p[J.chest] = torso(pelvis, CHEST, 1, lean);
  p[J.neck] = torso(pelvis, NECK, 1, lean);
  p[J.head] = torso(pelvis, HEAD, 1, lean);
  for (const [side, prefix] of [[1, "left"], [-1, "right"]] as const) {
    p[J[`${prefix}_clavicle`]] = torso(pelvis, CLAVICLE, side, lean);
    p[J[`${prefix}_shoulder`]] = torso(pelvis, SHOULDER, side, lean);
    const hip = { x: pelvis.x, y: pelvis.y + side * 0.09, z: pelvis.z - 0.06 };
    p[J[`${prefix}_hip`]] = hip;
    const knee = { x: hip.x + 0.03, y: hip.y, z: hip.z - 0.4 };
    p[J[`${prefix}_knee`]] = knee;
    const ankle = { x: knee.x - 0.03, y: knee.y, z: knee.z - 0.41 };
    p[J[`${prefix}_ankle`]] = ankle;
    p[J[`${prefix}_foot`]] = { x: ankle.x + 0.12, y: ankle.y, z: ankle.z - 0.05 };
    p[J[`${prefix}_toe`]] = { x: ankle.x + 0.18, y: ankle.y, z: ankle.z - 0.06 };
  }
  const ls = p[J.left_shoulder];
  p[J.left_elbow] = add(ls, leaned({ f: 0.04, l: 0.02, u: -0.297 }, lean));
  p[J.left_wrist] = add(p[J.left_elbow], leaned({ f: 0.18, l: -0.02, u: -0.186 }, lean));
  p[J.left_hand] = add(p[J.left_wrist], leaned({ f: 0.06, l: 0, u: -0.053 }, lean));
  const rs = p[J.right_shoulder];
  // Elbow down and out to the right, as a person reaching over a table holds it.
  const pole = add(scale(UP, -1), scale(LEFT, -0.6));
  p[J.right_elbow] = elbowPosition(rs, wrist, pole);
  p[J.right_wrist] = wrist;
  p[J.right_hand] = { ...hand.position };

  const q: Quaternion[] = new Array<Quaternion>(OPERATOR_JOINTS.length);
  const up = leaned({ f: 0, l: 0, u: 1 }, lean);
  const fwd = leaned({ f: 1, l: 0, u: 0 }, lean);
  // The pelvis carries the body's heading: x forward, y left, z up.
  q[J.pelvis] = { x: 0, y: 0, z: 0, w: 1 };
  const child = new Map<number, number>();
  for (const [name, c] of [
    ["spine", "chest"], ["chest", "neck"], ["neck", "head"],
    ["left_clavicle", "left_shoulder"], ["left_shoulder", "left_elbow"], ["left_elbow", "left_wrist"], ["left_wrist", "left_hand"],
    ["right_clavicle", "right_shoulder"], ["right_shoulder", "right_elbow"], ["right_elbow", "right_wrist"],
    ["left_hip", "left_knee"], ["left_knee", "left_ankle"], ["left_ankle", "left_foot"], ["left_foot", "left_toe"],
    ["right_hip", "right_knee"], ["right_knee", "right_ankle"], ["right_ankle", "right_foot"], ["right_foot", "right_toe"],
  ] as const) child.set(J[name], J[c]);
  for (const [j, c] of child) {
    const along = sub(p[c], p[j]);
    // Bones across the body (clavicles, shoulders) take forward as their second axis; the rest take left.
    q[j] = quatFromDirection(along, Math.abs(dot(normalize(along), LEFT)) > 0.7 ? fwd : LEFT, up);
  }
  q[J.head] = q[J.neck];
  q[J.left_hand] = q[J.left_wrist];
  // The wrist → hand bone runs along the fingers, the hand's x axis: the wrist frame is the hand's.
  q[J.right_wrist] = { ...hand.orientation };
  q[J.right_hand] = { ...hand.orientation };
  q[J.left_toe] = q[J.left_foot];
  q[J.right_toe] = q[J.right_foot];
  return { positions: p, orientations: q, leanRad: lean };
}
