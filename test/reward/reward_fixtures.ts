import { mulberry32 } from "../../src/random/mulberry32.js";
import type { Scene, SceneObject } from "../../src/scene/scene_object.js";

export const TABLE_Z = -0.4;

/** A box by centre and size (x depth, y width, z height), ground-truth confidence. */
export function box(id: string, kind: string, color: string, c: [number, number, number], s: [number, number, number]): SceneObject {
  return {
    id, kind, color, confidence: 1, numPoints: 0,
    center: { x: c[0], y: c[1], z: c[2] },
    size: { x: s[0], y: s[1], z: s[2] },
  };
}

/** A box standing on the table, its bottom `lift` above it. */
export function onTable(id: string, kind: string, color: string, x: number, y: number, s: [number, number, number], lift = 0): SceneObject {
  return box(id, kind, color, [x, y, TABLE_Z + lift + s[2] / 2], s);
}

export function sceneOf(objects: SceneObject[], supportZ: number | null = TABLE_Z, stamp = 1n): Scene {
  return { stamp, objects, supportZ };
}

/** Deterministic uniform [0, 1) generator. */
export const rand = mulberry32;
