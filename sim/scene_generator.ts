import { CATALOGUE, type CatalogueEntry } from "./catalogue.js";
import { Rng } from "./rng.js";
import { primitiveHeight, supportLocal, type Primitive } from "./shapes.js";
import { stackObjects } from "./stacking.js";
import type { SimObject, World } from "./world.js";
import { InvalidInputError } from "../src/errors.js";
import { checkFinite, checkInteger, checkSeed } from "./sim_arguments.js";

export interface SceneOptions {
  minObjects: number;
  maxObjects: number;
  /** Size jitter, fraction of nominal (±). */
  sizeJitter: number;
  /** Minimum clearance between footprints, metres. */
  clearance: number;
  /**
   * Stacked scenes: each flat-topped object (book, box, plate, cube) carries another with this
   * probability, stacks up to three high (sim/stacking.ts). Undefined keeps the original draw,
   * where a small object stands on a book or box in about a third of the scenes: the scenes
   * existing seeds produce (trained models and recorded figures depend on them).
   */
  stacking?: number;
  /**
   * Cluttered scenes: 12–20 objects (unless minObjects/maxObjects are given) over most of the
   * table, footprints nearly touching (clearance 2 mm unless given). Pair with
   * placeClutterCamera, which lets objects hide each other and leave the image.
   */
  clutter?: boolean;
}

export const DEFAULT_SCENE_OPTIONS: SceneOptions = { minObjects: 3, maxObjects: 10, sizeJitter: 0.1, clearance: 0.015 };
/** What clutter changes when not given explicitly. */
export const CLUTTER_SCENE_DEFAULTS = { minObjects: 12, maxObjects: 20, clearance: 0.002 } as const;

/** Radius of the smallest vertical cylinder about the base centre containing the footprint. */
export function footprintRadius(p: Primitive): number {
  let r = 0;
  for (let k = 0; k < 16; k++) {
    const a = (k / 16) * Math.PI * 2;
    r = Math.max(r, supportLocal(p, Math.cos(a), Math.sin(a), 0));
  }
  // Support along 16 directions underestimates corners by at most 1/cos(π/16) − 1 ≈ 2%.
  return r * 1.02;
}

/** At most this many objects in a scene (the table area holds about a dozen). */
const MAX_OBJECTS = 24;
const WORLD_ATTEMPTS = 100;

/**
 * A seeded tabletop scene: 3–10 objects resting on a table, footprints apart, every
 * (kind, colour) pair unique so each object has a name ("red mug"), and in most scenes at
 * least one kind repeated in different colours so names need their colour.
 */
export function generateWorld(seed: number, options: Partial<SceneOptions> = {}): World {
  checkSeed(seed, "generateWorld");
  const given = Object.fromEntries(Object.entries(options ?? {}).filter(([, v]) => v !== undefined));
  if (given.clutter !== undefined && typeof given.clutter !== "boolean") {
    throw new InvalidInputError("bad_argument", `scene clutter must be true or false, got ${typeof given.clutter}`);
  }
  const o: SceneOptions = { ...DEFAULT_SCENE_OPTIONS, ...(given.clutter === true ? CLUTTER_SCENE_DEFAULTS : {}), ...given };
  checkInteger(o.minObjects, "scene minObjects", 1, MAX_OBJECTS);
  checkInteger(o.maxObjects, `scene maxObjects (≥ minObjects ${o.minObjects})`, o.minObjects, MAX_OBJECTS);
  checkFinite(o.sizeJitter, "scene sizeJitter", 0, 0.5);
  checkFinite(o.clearance, "scene clearance", 0, 0.5);
  if (o.stacking !== undefined) checkFinite(o.stacking, "scene stacking (a probability)", 0, 1);
  // Crowded draws can leave fewer than asked; never fewer than the minimum: the next seeds are
  // tried (a loop, not recursion: a minimum the table cannot hold must end in an error).
  for (let k = 0; k < WORLD_ATTEMPTS; k++) {
    const world = drawWorld((seed + k * 7919) >>> 0, o);
    if (world.objects.length >= o.minObjects) return world;
  }
  throw new InvalidInputError("bad_argument", `generateWorld: no draw near seed ${seed} holds minObjects ${o.minObjects} objects; ask for fewer`);
}

/** Kinds whose flat top can carry another object (sim/stacking.ts decides what fits). */
const SUPPORT_KINDS = ["book", "box", "plate", "cube"];

function drawWorld(seed: number, o: SceneOptions): World {
  const rng = new Rng(seed);
  const world: World = { tableZ: rng.uniform(0.7, 0.8), tableHalfX: 0.6, tableHalfY: 0.9, objects: [] };
  const stacking = o.stacking;
  // Stacked scenes keep room for at least one object on top.
  const n = rng.int(o.minObjects, stacking !== undefined && o.maxObjects > o.minObjects ? o.maxObjects - 1 : o.maxObjects);

  const picks: CatalogueEntry[] = [];
  // A stacked scene needs something to stack on: with the stacking probability, one support first.
  if (stacking !== undefined && rng.next() < stacking) picks.push(rng.pick(CATALOGUE.filter((c) => SUPPORT_KINDS.includes(c.kind))));
  if (rng.next() < 0.8 && n >= 2) {
    const rep = rng.pick(CATALOGUE.filter((c) => c.colors.length >= 3));
    const copies = Math.min(n - picks.length, rng.int(2, 3));
    for (let i = 0; i < copies; i++) picks.push(rep);
  }
  while (picks.length < n) picks.push(rng.pick(CATALOGUE));

  const usedNames = new Set<string>();
  const counts = new Map<string, number>();
  // Objects go inside a central area the camera can frame whole (clutter: most of the table).
  const areaX = o.clutter ? 0.34 : 0.32, areaY = o.clutter ? 0.5 : 0.42;
  for (const entry of picks) {
    const colors = entry.colors.filter((c) => !usedNames.has(`${c} ${entry.kind}`));
    if (colors.length === 0) continue;
    const color = rng.pick(colors);
    const primitive = entry.make(rng, o.sizeJitter);
    const radius = footprintRadius(primitive);
    let placed = false;
    for (let attempt = 0; attempt < 60 && !placed; attempt++) {
      const x = rng.uniform(-areaX, areaX), y = rng.uniform(-areaY, areaY);
      const clear = world.objects.every((other) => {
        const d = Math.hypot(other.pose.x - x, other.pose.y - y);
        return d >= radius + footprintRadius(other.primitive) + o.clearance;
      });
      if (!clear) continue;
      const index = (counts.get(entry.kind) ?? 0) + 1;
      counts.set(entry.kind, index);
      usedNames.add(`${color} ${entry.kind}`);
      const obj: SimObject = {
        id: `${entry.kind}#${index}`,
        kind: entry.kind,
        color,
        primitive,
        pose: { x, y, z: world.tableZ, yaw: rng.uniform(-Math.PI, Math.PI) },
      };
      world.objects.push(obj);
      placed = true;
    }
  }
  if (stacking !== undefined) {
    stackObjects(world, rng, { probability: stacking, maxObjects: o.maxObjects, sizeJitter: o.sizeJitter, usedNames, counts });
    return world;
  }
  // Now and then a small object stands on a book or box (stacking makes "above", "below"
  // and elevation questions non-trivial).
  const surfaces = world.objects.filter((ob) => ob.kind === "book" || ob.kind === "box");
  if (surfaces.length > 0 && world.objects.length < o.maxObjects && rng.next() < 0.35) {
    const base = rng.pick(surfaces);
    const small = CATALOGUE.filter((c) => ["cube", "apple", "lemon", "can", "cup", "mug", "ball"].includes(c.kind));
    const entry = rng.pick(small);
    const colors = entry.colors.filter((c) => !usedNames.has(`${c} ${entry.kind}`));
    if (colors.length > 0) {
      const color = rng.pick(colors);
      const primitive = entry.make(rng, o.sizeJitter);
      const baseReach = Math.min(supportLocal(base.primitive, 1, 0, 0), supportLocal(base.primitive, 0, 1, 0));
      if (footprintRadius(primitive) < 0.9 * baseReach) {
        const index = (counts.get(entry.kind) ?? 0) + 1;
        counts.set(entry.kind, index);
        usedNames.add(`${color} ${entry.kind}`);
        world.objects.push({
          id: `${entry.kind}#${index}`,
          kind: entry.kind,
          color,
          primitive,
          pose: { x: base.pose.x, y: base.pose.y, z: base.pose.z + primitiveHeight(base.primitive), yaw: rng.uniform(-Math.PI, Math.PI) },
        });
      }
    }
  }
  return world;
}
