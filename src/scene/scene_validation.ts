import { InvalidInputError } from "../errors.js";
import type { Scene } from "./scene_object.js";

/** More objects than any tabletop holds: a SceneObjects message beyond this is hostile. */
export const MAX_SCENE_OBJECTS = 1024;
/** Longest id, kind or colour string accepted from the wire. */
export const MAX_SCENE_NAME_CHARS = 256;

/**
 * Checks a scene graph from outside (a SceneObjects message) before anything reasons about it:
 * finite centres and sizes, non-negative sizes, a finite support height, bounded counts and
 * names, unique non-empty ids. Every question and reward assumes these; a NaN centre would
 * otherwise turn into confident nonsense ("unknown" answers marked ok).
 */
export function validateScene(scene: Scene): Scene {
  const bad = (why: string) => new InvalidInputError("bad_scene", `scene graph rejected: ${why}`);
  if (scene.objects.length > MAX_SCENE_OBJECTS) throw bad(`${scene.objects.length} objects (at most ${MAX_SCENE_OBJECTS})`);
  if (scene.supportZ !== null && !Number.isFinite(scene.supportZ)) throw bad(`support height ${scene.supportZ} is not finite`);
  const ids = new Set<string>();
  for (let i = 0; i < scene.objects.length; i++) {
    const o = scene.objects[i];
    // Checked at control rate by the spatial and reward nodes: plain comparisons, no arrays.
        if (o.id.length > MAX_SCENE_NAME_CHARS || o.kind.length > MAX_SCENE_NAME_CHARS || o.color.length > MAX_SCENE_NAME_CHARS) {
      throw bad(`${objectLabel(i, o.id)}: id, kind or colour longer than ${MAX_SCENE_NAME_CHARS} chars`);
    }
    if (o.id === "" || o.kind === "") throw bad(`${objectLabel(i, o.id)}: empty id or kind`);
    if (ids.has(o.id)) throw bad(`${objectLabel(i, o.id)}: duplicate id`);
    ids.add(o.id);
    const c = o.center, s = o.size;
    if (!(Number.isFinite(c.x) && Number.isFinite(c.y) && Number.isFinite(c.z))) throw bad(`${objectLabel(i, o.id)}: centre (${c.x}, ${c.y}, ${c.z}) is not finite`);
    if (!(s.x >= 0 && s.y >= 0 && s.z >= 0 && Number.isFinite(s.x + s.y + s.z))) throw bad(`${objectLabel(i, o.id)}: size (${s.x}, ${s.y}, ${s.z}) must be finite and ≥ 0`);
    if (!(o.confidence >= 0 && o.confidence <= 1)) throw bad(`${objectLabel(i, o.id)}: confidence ${o.confidence} outside 0..1`);
  }
  return scene;
}

function objectLabel(i: number, id: string): string {
  return `object ${i} ("${id.slice(0, 40)}")`;
}
