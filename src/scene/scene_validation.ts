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
    const what = `object ${i} ("${o.id.slice(0, 40)}")`;
    for (const [field, text] of [["id", o.id], ["kind", o.kind], ["color", o.color]] as const) {
      if (text.length > MAX_SCENE_NAME_CHARS) throw bad(`${what}: ${field} is ${text.length} chars (at most ${MAX_SCENE_NAME_CHARS})`);
    }
    if (o.id === "" || o.kind === "") throw bad(`${what}: empty id or kind`);
    if (ids.has(o.id)) throw bad(`${what}: duplicate id`);
    ids.add(o.id);
    const { center: c, size: s } = o;
    if (![c.x, c.y, c.z].every(Number.isFinite)) throw bad(`${what}: centre (${c.x}, ${c.y}, ${c.z}) is not finite`);
    if (![s.x, s.y, s.z].every((v) => Number.isFinite(v) && v >= 0)) throw bad(`${what}: size (${s.x}, ${s.y}, ${s.z}) must be finite and ≥ 0`);
    if (!(o.confidence >= 0 && o.confidence <= 1)) throw bad(`${what}: confidence ${o.confidence} outside 0..1`);
  }
  return scene;
}
