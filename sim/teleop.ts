import { allInFrame } from "./camera_placement.js";
import type { Camera } from "./camera.js";
import type { Rng } from "./rng.js";
import { footprintRadius } from "./scene_generator.js";
import { hasFlatTop, primitiveHeight, supportWorld, type Pose } from "./shapes.js";
import type { SimObject, World } from "./world.js";
import { truthScene } from "./truth.js";
import { Renderer } from "./renderer.js";
import { boxGap } from "../src/spatial/question_types.js";
import { InvalidInputError } from "../src/errors.js";
import { checkInteger } from "./sim_arguments.js";

/** An episode's length bounds: the phases need 20 frames; an hour at 30 Hz is the most held in memory. */
export const MIN_EPISODE_FRAMES = 20;
export const MAX_EPISODE_FRAMES = 108_000;

export type PlaceMode = "next_to" | "on_top_of";

export interface TeleopTask {
  /** Id of the object picked. */
  a: string;
  /** Id of the object it is placed next to or on. */
  b: string;
  mode: PlaceMode;
}

export interface ScriptedEpisode {
  task: TeleopTask;
  /** The task as an operator would say it: "put the red mug next to the blue bowl". */
  instruction: string;
  /** poses[frame][objectIndex], world frame. */
  poses: Pose[][];
  /** Index of the object picked in world.objects. */
  aIndex: number;
  /** Frame at which A is set down (end of the lowering phase). */
  placeFrame: number;
}

const GRASPABLE = new Set(["mug", "cup", "apple", "banana", "lemon", "can", "cube", "ball", "jar", "bottle"]);
const SURFACES = new Set(["plate", "book", "box"]);

/** Minimum-jerk profile: position fraction at normalised time τ ∈ [0, 1]. */
export function minJerk(tau: number): number {
  const t = Math.min(1, Math.max(0, tau));
  return t * t * t * (10 + t * (-15 + 6 * t));
}

/** The shortest name that is unique in the world: "mug" or "red mug". */
export function uniqueName(world: World, o: SimObject): string {
  return world.objects.filter((x) => x.kind === o.kind).length === 1 ? o.kind : `${o.color} ${o.kind}`;
}

/**
 * Picks a pick-and-place task in this world: a graspable A and a B, "on top of" when B is a
 * wide flat surface A fits on (six times in ten), else "next to"; `only` asks for one mode.
 * Returns null if no placement stays on the table, clear of other objects and inside the
 * camera image.
 */
export function chooseTask(world: World, camera: Camera, rng: Rng, only?: PlaceMode): { task: TeleopTask; target: Pose } | null {
  const as = rng.shuffle(world.objects.filter((o) => GRASPABLE.has(o.kind)));
  for (const a of as) {
    const bs = rng.shuffle(world.objects.filter((o) => o !== a));
    for (const b of bs) {
      // B's top must be free: the generator sometimes stacks an object there already.
      const topFree = !world.objects.some((o) => o !== b && o.pose.z > b.pose.z + 0.005 && Math.hypot(o.pose.x - b.pose.x, o.pose.y - b.pose.y) < minHalfWidth(b));
      const fits = SURFACES.has(b.kind) && hasFlatTop(b.primitive) && topFree && footprintRadius(a.primitive) < 0.8 * minHalfWidth(b);
      // Asked for one mode, the coin is not tossed (the draws of the original choice stay as they were without it).
      const onTop = only === undefined ? fits && rng.next() < 0.6 : only === "on_top_of" && fits;
      const mode: PlaceMode = onTop ? "on_top_of" : "next_to";
      if (only !== undefined && mode !== only) continue;
      // A task already (nearly) done teaches nothing: A must start well away from B.
      if (mode === "next_to") {
        const t = truthScene(world, camera, 0n).objects;
        if (boxGap(t[world.objects.indexOf(a)], t[world.objects.indexOf(b)]) < 0.1) continue;
      }
      // Neither A nor B may be part of a stack (A carrying a passenger, B riding on something).
      if (world.objects.some((o) => o !== a && o.pose.z > a.pose.z + 0.005 && Math.hypot(o.pose.x - a.pose.x, o.pose.y - a.pose.y) < footprintRadius(a.primitive))) continue;
      if (b.pose.z > world.tableZ + 0.005 || a.pose.z > world.tableZ + 0.005) continue;
      const target = placementTarget(world, camera, a, b, mode);
      if (target) return { task: { a: a.id, b: b.id, mode }, target };
    }
  }
  return null;
}

function minHalfWidth(b: SimObject): number {
  return Math.min(supportWorld(b.primitive, { ...b.pose, x: 0, y: 0 }, 1, 0, 0), supportWorld(b.primitive, { ...b.pose, x: 0, y: 0 }, 0, 1, 0));
}

/**
 * Where A ends up: on B's top centre, or beside B with a 2.5 cm gap between their boxes in
 * the camera's spatial frame (the gap "next to" is judged by), preferring the sides of B
 * across the view where A stays visible. Clearance to the other objects is checked on the
 * same boxes, which contain the solids, so nothing interpenetrates.
 */
export function placementTarget(world: World, camera: Camera, a: SimObject, b: SimObject, mode: PlaceMode): Pose | null {
  if (mode === "on_top_of") {
    return { x: b.pose.x, y: b.pose.y, z: b.pose.z + primitiveHeight(b.primitive), yaw: a.pose.yaw };
  }
  const ra = footprintRadius(a.primitive), rb = footprintRadius(b.primitive);
  const aIndex = world.objects.indexOf(a), bIndex = world.objects.indexOf(b);
  const heading = Math.atan2(camera.forward.y, camera.forward.x);
  const angles = [Math.PI / 2, -Math.PI / 2, Math.PI / 3, -Math.PI / 3, (2 * Math.PI) / 3, (-2 * Math.PI) / 3, Math.PI, 0];
  for (const d of angles) {
    const t = heading + d;
    const at = (dist: number): Pose => ({ x: b.pose.x + dist * Math.cos(t), y: b.pose.y + dist * Math.sin(t), z: world.tableZ, yaw: a.pose.yaw });
    const boxesAt = (dist: number) => truthScene(worldWith(world, aIndex, at(dist)), camera, 0n).objects;
    // Bisection on the centre distance for a 2.5 cm box gap (the gap grows with distance).
    let lo = 0, hi = ra + rb + 0.1;
    for (let k = 0; k < 30; k++) {
      const mid = (lo + hi) / 2;
      const objs = boxesAt(mid);
      if (boxGap(objs[aIndex], objs[bIndex]) < 0.025) lo = mid;
      else hi = mid;
    }
    const pose = at(hi);
    if (Math.abs(pose.x) > world.tableHalfX - ra || Math.abs(pose.y) > world.tableHalfY - ra) continue;
    const objs = boxesAt(hi);
    const clear = objs.every((o, i) => i === aIndex || i === bIndex || boxGap(objs[aIndex], o) >= 0.015);
    if (!clear) continue;
    if (!allInFrame(worldWith(world, aIndex, pose), camera)) continue;
    // A must stay in plain view where the task is decided: set down, and just above.
    if (visibleFraction(world, camera, aIndex, pose) < 0.9) continue;
    if (visibleFraction(world, camera, aIndex, { ...pose, z: liftHeight(world) }) < 0.9) continue;
    return pose;
  }
  return null;
}

function visibleFraction(world: World, camera: Camera, index: number, pose: Pose): number {
  const r = renderer.render(worldWith(world, index, pose), camera);
  return r.silhouettePixels[index] > 0 ? r.visiblePixels[index] / r.silhouettePixels[index] : 0;
}

const renderer = new Renderer();

/** Height A is carried at: clear of every object by 8 cm, so "near" is reached while lowering, not grazed in transit. */
function liftHeight(world: World): number {
  const tallest = Math.max(...world.objects.map((o) => o.pose.z + primitiveHeight(o.primitive)));
  return Math.max(world.tableZ + 0.12, tallest + 0.08);
}

function worldWith(world: World, index: number, pose: Pose): World {
  return { ...world, objects: world.objects.map((o, i) => (i === index ? { ...o, pose } : o)) };
}

/**
 * A scripted teleop episode: idle (10%), lift A clear of every object (15%), carry it over
 * the target (35%), lower it (15%), release and idle (25%), each phase a minimum-jerk
 * profile. The gripper itself is not rendered: A moves as if carried by an invisible hand,
 * so perception sees the object, not an occluding gripper.
 */
export function scriptedEpisode(world: World, task: TeleopTask, target: Pose, frames: number, instruction?: string): ScriptedEpisode {
  checkInteger(frames, "an episode's frames", MIN_EPISODE_FRAMES, MAX_EPISODE_FRAMES);
  const aIndex = world.objects.findIndex((o) => o.id === task.a);
  const b = world.objects.find((o) => o.id === task.b);
  if (aIndex < 0 || !b) throw new InvalidInputError("bad_argument", `task objects ${task.a}, ${task.b} not in the world`);
  const a = world.objects[aIndex];
  const liftZ = liftHeight(world);
  const start = { ...a.pose };
  const f1 = Math.round(frames * 0.1), f2 = Math.round(frames * 0.25), f3 = Math.round(frames * 0.6), f4 = Math.round(frames * 0.75);
  const poses: Pose[][] = [];
  for (let f = 0; f < frames; f++) {
    let p: Pose;
    if (f < f1) p = { ...start };
    else if (f < f2) p = { ...start, z: start.z + (liftZ - start.z) * minJerk((f - f1) / (f2 - f1)) };
    else if (f < f3) {
      const s = minJerk((f - f2) / (f3 - f2));
      p = { x: start.x + (target.x - start.x) * s, y: start.y + (target.y - start.y) * s, z: liftZ, yaw: start.yaw };
    } else if (f < f4) p = { ...target, z: liftZ + (target.z - liftZ) * minJerk((f - f3) / (f4 - f3)) };
    else p = { ...target };
    poses.push(world.objects.map((o, i) => (i === aIndex ? p : { ...o.pose })));
  }
  const words = task.mode === "on_top_of" ? "on" : "next to";
  return {
    task,
    instruction: instruction ?? `put the ${uniqueName(world, a)} ${words} the ${uniqueName(world, b)}`,
    poses,
    aIndex,
    placeFrame: f4,
  };
}

/** The world with the poses of one episode frame. */
export function worldAt(world: World, poses: readonly Pose[]): World {
  return { ...world, objects: world.objects.map((o, i) => ({ ...o, pose: poses[i] })) };
}
