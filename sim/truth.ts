import { frameFromUp, type SpatialFrame } from "../src/geometry/spatial_frame.js";
import type { Scene, SceneObject } from "../src/scene/scene_object.js";
import { upInOptical, type Camera } from "./camera.js";
import { supportWorld } from "./shapes.js";
import type { SimObject, World } from "./world.js";

/** The spatial frame the camera would find with a perfect support-plane fit. */
export function trueSpatialFrame(world: World, cam: Camera): SpatialFrame {
  return frameFromUp(upInOptical(cam), cam.position.z - world.tableZ);
}

/** Spatial-frame axes as world vectors (rows of the optical→spatial rotation, mapped to world). */
function spatialAxesInWorld(frame: SpatialFrame, cam: Camera): [number[], number[], number[]] {
  const r = frame.rotation;
  const axis = (i: number) => {
    const a = r[i * 3], b = r[i * 3 + 1], c = r[i * 3 + 2];
    return [
      a * cam.right.x + b * cam.down.x + c * cam.forward.x,
      a * cam.right.y + b * cam.down.y + c * cam.forward.y,
      a * cam.right.z + b * cam.down.z + c * cam.forward.z,
    ];
  };
  return [axis(0), axis(1), axis(2)];
}

/**
 * Ground truth: every object's amodal axis-aligned box in the spatial frame, from the exact
 * support functions of its solid along ±x, ±y, ±z of that frame.
 */
export function truthScene(world: World, cam: Camera, stamp: bigint, objects: readonly SimObject[] = world.objects): Scene {
  const frame = trueSpatialFrame(world, cam);
  const axes = spatialAxesInWorld(frame, cam);
  const c = cam.position;
  const out: SceneObject[] = objects.map((o) => {
    const lo = [0, 0, 0], hi = [0, 0, 0];
    for (let i = 0; i < 3; i++) {
      const [ax, ay, az] = axes[i];
      const offset = ax * c.x + ay * c.y + az * c.z;
      hi[i] = supportWorld(o.primitive, o.pose, ax, ay, az) - offset;
      lo[i] = -supportWorld(o.primitive, o.pose, -ax, -ay, -az) - offset;
    }
    return {
      id: o.id,
      kind: o.kind,
      color: o.color,
      center: { x: (lo[0] + hi[0]) / 2, y: (lo[1] + hi[1]) / 2, z: (lo[2] + hi[2]) / 2 },
      size: { x: hi[0] - lo[0], y: hi[1] - lo[1], z: hi[2] - lo[2] },
      confidence: 1,
      numPoints: 0,
    };
  });
  return { stamp, objects: out, supportZ: frame.supportZ };
}
