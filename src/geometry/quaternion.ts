/** A unit quaternion (x, y, z, w), as geometry_msgs/Quaternion carries it. */
export interface Quaternion {
  x: number;
  y: number;
  z: number;
  w: number;
}

/**
 * The unit quaternion of a row-major 3x3 rotation matrix (Shepperd's method: branch on the
 * largest diagonal term so the square root never sees a small, noisy argument).
 */
export function quaternionFromRotation(m: ArrayLike<number>): Quaternion {
  const m00 = m[0], m01 = m[1], m02 = m[2];
  const m10 = m[3], m11 = m[4], m12 = m[5];
  const m20 = m[6], m21 = m[7], m22 = m[8];
  const trace = m00 + m11 + m22;
  let q: Quaternion;
  if (trace > 0) {
    const s = Math.sqrt(trace + 1) * 2;
    q = { w: 0.25 * s, x: (m21 - m12) / s, y: (m02 - m20) / s, z: (m10 - m01) / s };
  } else if (m00 > m11 && m00 > m22) {
    const s = Math.sqrt(1 + m00 - m11 - m22) * 2;
    q = { w: (m21 - m12) / s, x: 0.25 * s, y: (m01 + m10) / s, z: (m02 + m20) / s };
  } else if (m11 > m22) {
    const s = Math.sqrt(1 + m11 - m00 - m22) * 2;
    q = { w: (m02 - m20) / s, x: (m01 + m10) / s, y: 0.25 * s, z: (m12 + m21) / s };
  } else {
    const s = Math.sqrt(1 + m22 - m00 - m11) * 2;
    q = { w: (m10 - m01) / s, x: (m02 + m20) / s, y: (m12 + m21) / s, z: 0.25 * s };
  }
  // One hemisphere (w ≥ 0) so equal rotations give equal messages.
  const sign = q.w < 0 ? -1 : 1;
  const n = Math.hypot(q.x, q.y, q.z, q.w) * sign;
  return { x: q.x / n, y: q.y / n, z: q.z / n, w: q.w / n };
}

/** Rotates v by q (for tests and consumers checking a transform). */
export function rotateByQuaternion(q: Quaternion, v: { x: number; y: number; z: number }): { x: number; y: number; z: number } {
  // v' = v + 2w (u × v) + 2 u × (u × v), u = (x, y, z).
  const tx = 2 * (q.y * v.z - q.z * v.y), ty = 2 * (q.z * v.x - q.x * v.z), tz = 2 * (q.x * v.y - q.y * v.x);
  return {
    x: v.x + q.w * tx + (q.y * tz - q.z * ty),
    y: v.y + q.w * ty + (q.z * tx - q.x * tz),
    z: v.z + q.w * tz + (q.x * ty - q.y * tx),
  };
}
