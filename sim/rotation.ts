import { quaternionFromRotation, type Quaternion } from "../src/geometry/quaternion.js";
import { cross, dot, normalize, scale, sub, type Vec3 } from "../src/geometry/vec3.js";

/** Hamilton product a ⊗ b: the rotation b, then a (column vectors). */
export function quatMul(a: Quaternion, b: Quaternion): Quaternion {
  return {
    w: a.w * b.w - a.x * b.x - a.y * b.y - a.z * b.z,
    x: a.w * b.x + a.x * b.w + a.y * b.z - a.z * b.y,
    y: a.w * b.y - a.x * b.z + a.y * b.w + a.z * b.x,
    z: a.w * b.z + a.x * b.y - a.y * b.x + a.z * b.w,
  };
}

/** Rotation by `angle` radians about the unit axis (x, y, z). */
export function quatFromAxisAngle(x: number, y: number, z: number, angle: number): Quaternion {
  const s = Math.sin(angle / 2);
  return { x: x * s, y: y * s, z: z * s, w: Math.cos(angle / 2) };
}

/** Rotation about world z (REP-103 up). */
export function quatFromYaw(yaw: number): Quaternion {
  return quatFromAxisAngle(0, 0, 1, yaw);
}

/**
 * The orientation whose x axis points along `along` and whose y axis lies as close to `ref`
 * as x allows (z completes a right-handed frame). When `ref` is nearly parallel to `along`,
 * `fallback` is used instead, so the frame never degenerates.
 */
export function quatFromDirection(along: Vec3, ref: Vec3, fallback: Vec3): Quaternion {
  const x = normalize(along);
  const r = Math.abs(dot(normalize(ref), x)) > 0.9 ? fallback : ref;
  const y = normalize(sub(r, scale(x, dot(r, x))));
  const z = cross(x, y);
  // Row-major matrix with the frame's axes as columns.
  return quaternionFromRotation([x.x, y.x, z.x, x.y, y.y, z.y, x.z, y.z, z.z]);
}
