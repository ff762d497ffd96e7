import type { PinholeIntrinsics } from "../src/geometry/intrinsics.js";
import type { Vec3 } from "../src/geometry/vec3.js";

/**
 * A pinhole camera in the world: optical centre and the optical frame's axes (REP-103
 * camera optical convention: x right, y down, z forward) as world vectors.
 */
export interface Camera {
  intrinsics: PinholeIntrinsics;
  position: Vec3;
  right: Vec3;
  down: Vec3;
  forward: Vec3;
}

/**
 * Camera at `position` looking along heading `yaw` (about world z), pitched down by `pitch`,
 * rolled by `roll` about its optical axis.
 */
export function orientedCamera(intrinsics: PinholeIntrinsics, position: Vec3, yaw: number, pitch: number, roll: number): Camera {
  const cp = Math.cos(pitch), sp = Math.sin(pitch), cy = Math.cos(yaw), sy = Math.sin(yaw);
  const forward = { x: cp * cy, y: cp * sy, z: -sp };
  const right0 = { x: sy, y: -cy, z: 0 };
  // down = forward × right (optical frame: z × x = y).
  const down0 = {
    x: forward.y * right0.z - forward.z * right0.y,
    y: forward.z * right0.x - forward.x * right0.z,
    z: forward.x * right0.y - forward.y * right0.x,
  };
  const cr = Math.cos(roll), sr = Math.sin(roll);
  const right = { x: cr * right0.x + sr * down0.x, y: cr * right0.y + sr * down0.y, z: cr * right0.z + sr * down0.z };
  const down = { x: -sr * right0.x + cr * down0.x, y: -sr * right0.y + cr * down0.y, z: -sr * right0.z + cr * down0.z };
  return { intrinsics, position, right, down, forward };
}

/** World point → optical-frame coordinates. */
export function toOptical(cam: Camera, p: Vec3): Vec3 {
  const dx = p.x - cam.position.x, dy = p.y - cam.position.y, dz = p.z - cam.position.z;
  return {
    x: dx * cam.right.x + dy * cam.right.y + dz * cam.right.z,
    y: dx * cam.down.x + dy * cam.down.y + dz * cam.down.z,
    z: dx * cam.forward.x + dy * cam.forward.y + dz * cam.forward.z,
  };
}

/** World point → pixel (u, v) and optical depth; depth ≤ 0 means behind the camera. */
export function project(cam: Camera, p: Vec3): { u: number; v: number; depth: number } {
  const o = toOptical(cam, p);
  const k = cam.intrinsics;
  return { u: k.cx + (k.fx * o.x) / o.z, v: k.cy + (k.fy * o.y) / o.z, depth: o.z };
}

/** World up (0,0,1) in the optical frame: what a gravity sensor on the camera would report. */
export function upInOptical(cam: Camera): Vec3 {
  return { x: cam.right.z, y: cam.down.z, z: cam.forward.z };
}

/** Pitch below the horizon, radians. */
export function cameraPitch(cam: Camera): number {
  return Math.asin(-cam.forward.z);
}
