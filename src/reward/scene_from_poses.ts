import { InvalidInputError } from "../errors.js";
import type { Vec3 } from "../geometry/vec3.js";
import type { Scene, SceneObject } from "../scene/scene_object.js";

/**
 * An object known by pose alone (motion capture, a state-only simulator): its box centre and
 * extents already in a gravity-aligned frame with z up and the viewer looking along +x, which
 * is the spatial frame's convention, so "left of" means +y. A world whose viewer looks
 * elsewhere must be rotated by the caller; axis-aligned boxes do not survive a yaw here.
 */
export interface ObjectPose {
  id: string;
  kind: string;
  /** Colour name from colors.ts, or "" when unknown. */
  color: string;
  position: Vec3;
  /** Extents: x = depth (front to back), y = width, z = height. */
  size: Vec3;
}

function check(p: ObjectPose, i: number): void {
  const v = [p.position.x, p.position.y, p.position.z, p.size.x, p.size.y, p.size.z];
  if (!v.every(Number.isFinite) || p.size.x < 0 || p.size.y < 0 || p.size.z < 0) {
    throw new InvalidInputError(
      "bad_argument",
      `Pose ${i} (${p.id}): position and size must be finite and size ≥ 0, got position ` +
        `(${p.position.x}, ${p.position.y}, ${p.position.z}) size (${p.size.x}, ${p.size.y}, ${p.size.z}).`,
    );
  }
}

/** Ids are how phrases like "mug#2" and the tracker's cache find objects: they must be unique. */
function checkUniqueIds(poses: readonly ObjectPose[]): void {
  // Quadratic, but allocation-free, and pose lists are a handful of objects.
  for (let i = 1; i < poses.length; i++) {
    for (let j = 0; j < i; j++) {
      if (poses[i].id === poses[j].id) {
        throw new InvalidInputError("bad_argument", `Poses ${j} and ${i} share the id "${poses[i].id}"; ids must be unique.`);
      }
    }
  }
}

function checkSupport(supportZ: number | null): void {
  if (supportZ !== null && !Number.isFinite(supportZ)) {
    throw new InvalidInputError("bad_argument", `supportZ must be finite or null, got ${supportZ}.`);
  }
}

/**
 * A keepable Scene from poses. The objects are new, but their centre and size are the poses'
 * own Vec3s (shared, not copied): mutate a pose and the scene follows.
 */
export function sceneFromPoses(poses: readonly ObjectPose[], stamp: bigint, supportZ: number | null = null): Scene {
  checkSupport(supportZ);
  checkUniqueIds(poses);
  const objects: SceneObject[] = new Array<SceneObject>(poses.length);
  for (let i = 0; i < poses.length; i++) {
    const p = poses[i];
    check(p, i);
    objects[i] = { id: p.id, kind: p.kind, color: p.color, center: p.position, size: p.size, confidence: 1, numPoints: 0 };
  }
  return { stamp, objects, supportZ };
}

/**
 * sceneFromPoses for loops at thousands of steps a second: the Scene, its objects array and
 * the SceneObjects are reused from call to call (re-pointed at the new poses' Vec3s), so a
 * steady loop allocates nothing. The returned Scene is only valid until the next build;
 * copy it (or use sceneFromPoses) to keep it.
 */
export class PoseSceneBuilder {
  private readonly objects: SceneObject[] = [];
  private readonly scene: Scene = { stamp: 0n, objects: this.objects, supportZ: null };

  build(poses: readonly ObjectPose[], stamp: bigint, supportZ: number | null = null): Scene {
    checkSupport(supportZ);
    checkUniqueIds(poses);
    const objects = this.objects;
    for (let i = 0; i < poses.length; i++) {
      const p = poses[i];
      check(p, i);
      let o = objects[i];
      if (o === undefined) {
        o = { id: p.id, kind: p.kind, color: p.color, center: p.position, size: p.size, confidence: 1, numPoints: 0 };
        objects.push(o);
      } else {
        o.id = p.id;
        o.kind = p.kind;
        o.color = p.color;
        o.center = p.position;
        o.size = p.size;
      }
    }
    objects.length = poses.length;
    this.scene.stamp = stamp;
    this.scene.supportZ = supportZ;
    return this.scene;
  }
}
