import { mulberry32 } from "../../src/random/mulberry32.js";
import type { Scene, SceneObject } from "../../src/scene/scene_object.js";

export function obj(
  id: string, kind: string, color: string,
  center: [number, number, number], size: [number, number, number], confidence = 1,
): SceneObject {
  return {
    id, kind, color, confidence, numPoints: 0,
    center: { x: center[0], y: center[1], z: center[2] },
    size: { x: size[0], y: size[1], z: size[2] },
  };
}

/** Objects resting on a table at z = -0.4 (camera 40 cm above it), unless lifted. */
export function resting(
  id: string, kind: string, color: string, x: number, y: number, size: [number, number, number], lift = 0,
  confidence = 1,
): SceneObject {
  return obj(id, kind, color, [x, y, -0.4 + lift + size[2] / 2], size, confidence);
}

export function scene(objects: SceneObject[], supportZ: number | null = -0.4): Scene {
  return { stamp: 1n, objects, supportZ };
}

/** A small tabletop with two mugs of different colours and varied sizes. */
export function tabletop(): Scene {
  return scene([
    resting("mug#1", "mug", "red", 0.6, 0.15, [0.08, 0.1, 0.1], 0, 0.9),
    resting("mug#2", "mug", "green", 0.75, -0.2, [0.09, 0.11, 0.12], 0, 0.8),
    resting("bowl#1", "bowl", "blue", 0.9, 0.05, [0.16, 0.16, 0.07], 0, 0.95),
    resting("bottle#1", "bottle", "yellow", 0.5, -0.05, [0.07, 0.07, 0.25], 0, 0.7),
    resting("apple#1", "apple", "red", 0.7, 0.3, [0.08, 0.08, 0.08], 0.15, 0.85),
    resting("book#1", "book", "brown", 1.05, -0.35, [0.22, 0.15, 0.04], 0, 0.6),
  ]);
}

/** Deterministic uniform [0, 1) generator. */
export const rng = mulberry32;
