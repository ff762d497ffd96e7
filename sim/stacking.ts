import { catalogueEntry } from "./catalogue.js";
import type { Rng } from "./rng.js";
import { primitiveHeight, supportLocal, type Pose, type Primitive } from "./shapes.js";
import type { SimObject, World } from "./world.js";

/**
 * What may rest on what. A support's top must be flat and level: a book's or a box's face, a
 * plate's flat top, a cube's. A rider's footprint must lie within that face (checked by
 * `fitOnTop`), so its centre of mass is over the support and nothing overhangs.
 */
export const RIDERS: Readonly<Record<string, readonly string[]>> = {
  book: ["cube", "apple", "lemon", "can", "cup", "mug", "ball", "jar", "banana", "box", "book"],
  box: ["cube", "apple", "lemon", "can", "cup", "mug", "ball", "jar", "box"],
  plate: ["apple", "lemon", "banana", "cube", "cup", "mug", "can", "ball", "bowl", "jar"],
  cube: ["cube"],
};

/** A stack is at most three objects high, the table's object included. */
export const MAX_STACK_HEIGHT = 3;
/** Draws tried for one support before it is left bare (a kind that does not fit, a colour used up). */
const RIDER_ATTEMPTS = 8;

export interface StackingOptions {
  /** Each support carries a rider with this probability; each rider that is itself a support, too. */
  probability: number;
  maxObjects: number;
  sizeJitter: number;
  /** "color kind" names in use (kept unique), and objects per kind (for ids), shared with the table draw. */
  usedNames: Set<string>;
  counts: Map<string, number>;
}

/**
 * Puts objects on top of the world's flat-topped objects, in place: each support in random
 * order, with the given probability, gets a rider whose footprint fits within its top face,
 * at a random yaw and offset; a rider that is a support itself may carry another, up to
 * MAX_STACK_HEIGHT. The scene never exceeds maxObjects.
 */
export function stackObjects(world: World, rng: Rng, o: StackingOptions): void {
  const level = new Map<SimObject, number>();
  const queue = rng.shuffle(world.objects.filter((ob) => RIDERS[ob.kind] !== undefined));
  for (const ob of queue) level.set(ob, 1);
  while (queue.length > 0 && world.objects.length < o.maxObjects) {
    const base = queue.shift()!;
    if (rng.next() >= o.probability || level.get(base)! >= MAX_STACK_HEIGHT) continue;
    const riders = RIDERS[base.kind];
    for (let attempt = 0; attempt < RIDER_ATTEMPTS; attempt++) {
      const entry = catalogueEntry(rng.pick(riders));
      const colors = entry.colors.filter((c) => !o.usedNames.has(`${c} ${entry.kind}`));
      if (colors.length === 0) continue;
      const color = rng.pick(colors);
      const primitive = entry.make(rng, o.sizeJitter);
      const pose = fitOnTop(base, primitive, rng);
      if (!pose) continue;
      const index = (o.counts.get(entry.kind) ?? 0) + 1;
      o.counts.set(entry.kind, index);
      o.usedNames.add(`${color} ${entry.kind}`);
      const rider: SimObject = { id: `${entry.kind}#${index}`, kind: entry.kind, color, primitive, pose };
      world.objects.push(rider);
      if (RIDERS[rider.kind] !== undefined) {
        level.set(rider, level.get(base)! + 1);
        queue.push(rider);
      }
      break;
    }
  }
}

/** Half-extents of the top face in the support's own frame: a rectangle (box), or a disc (cylinder: hx = hy = radius). */
function topFace(p: Primitive): { disc: boolean; hx: number; hy: number } | null {
  if (p.type === "box") return { disc: false, hx: p.sx / 2, hy: p.sy / 2 };
  if (p.type === "cylinder") return { disc: true, hx: p.r, hy: p.r };
  return null;
}

/**
 * A resting pose for `rider` on `base`'s top face, or null if it cannot fit: a random yaw
 * first, then yaws aligned with the support's edges (a cube on a cube, a box on a book fit
 * only aligned); the offset is drawn within the slack left around the footprint.
 */
export function fitOnTop(base: SimObject, rider: Primitive, rng: Rng): Pose | null {
  const face = topFace(base.primitive);
  if (!face) return null;
  const yaws = [rng.uniform(-Math.PI, Math.PI), rng.uniform(-0.08, 0.08), Math.PI / 2 + rng.uniform(-0.08, 0.08)];
  for (const rel of yaws) {
    let ox: number, oy: number;
    if (face.disc) {
      // Within a disc: the footprint's circumscribed circle must stay inside.
      const slack = face.hx - footprintReach(rider);
      if (slack < 0) return null;
      const r = 0.8 * slack * Math.sqrt(rng.next()), a = rng.uniform(-Math.PI, Math.PI);
      ox = r * Math.cos(a);
      oy = r * Math.sin(a);
    } else {
      // Within a rectangle: the footprint's extents along the support's axes (exact for convex footprints).
      const c = Math.cos(rel), s = Math.sin(rel);
      const sx = face.hx - supportLocal(rider, c, -s, 0), sy = face.hy - supportLocal(rider, s, c, 0);
      if (sx < 0 || sy < 0) continue;
      ox = 0.8 * rng.uniform(-sx, sx);
      oy = 0.8 * rng.uniform(-sy, sy);
    }
    const c = Math.cos(base.pose.yaw), s = Math.sin(base.pose.yaw);
    return {
      x: base.pose.x + c * ox - s * oy,
      y: base.pose.y + s * ox + c * oy,
      z: base.pose.z + primitiveHeight(base.primitive),
      yaw: base.pose.yaw + rel,
    };
  }
  return null;
}

/** Largest horizontal extent of the footprint from its centre (support along 64 directions, exact for discs). */
function footprintReach(p: Primitive): number {
  let r = 0;
  for (let k = 0; k < 64; k++) {
    const a = (k / 64) * Math.PI * 2;
    r = Math.max(r, supportLocal(p, Math.cos(a), Math.sin(a), 0));
  }
  // 64 directions miss a box corner by at most 1/cos(π/64) − 1 ≈ 0.12%.
  return r * 1.0013;
}

/** One object resting on another: `top`'s base lies on `base`'s top face. */
export interface SupportPair {
  top: SimObject;
  base: SimObject;
}

/**
 * Who rests on whom, from the geometry alone (for any world, including the original draw's
 * stacks): A rests on B when A's base height equals B's top (within 1 µm) and A's base centre
 * lies within B's top face. Objects on the table are on no object.
 */
export function supportPairs(world: World): SupportPair[] {
  const out: SupportPair[] = [];
  for (const top of world.objects) {
    if (Math.abs(top.pose.z - world.tableZ) <= 1e-6) continue;
    for (const base of world.objects) {
      if (base === top) continue;
      if (Math.abs(top.pose.z - (base.pose.z + primitiveHeight(base.primitive))) > 1e-6) continue;
      const face = topFace(base.primitive);
      if (!face) continue;
      const c = Math.cos(base.pose.yaw), s = Math.sin(base.pose.yaw);
      const dx = top.pose.x - base.pose.x, dy = top.pose.y - base.pose.y;
      const lx = c * dx + s * dy, ly = -s * dx + c * dy;
      const inside = face.disc ? Math.hypot(lx, ly) <= face.hx : Math.abs(lx) <= face.hx && Math.abs(ly) <= face.hy;
      if (inside) {
        out.push({ top, base });
        break;
      }
    }
  }
  return out;
}
