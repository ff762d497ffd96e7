import type { PinholeIntrinsics } from "../../src/geometry/intrinsics.js";
import type { Quaternion } from "../../src/geometry/quaternion.js";
import type { Vec3 } from "../../src/geometry/vec3.js";

/**
 * 3D boxes of the scene graph drawn on the camera image. Scene boxes are axis-aligned in the
 * spatial frame (origin at the camera's optical centre, rotated: src/geometry/spatial_frame.ts),
 * so a corner goes to the optical frame by the transpose of the optical → spatial rotation and
 * to pixels by the pinhole intrinsics, as sensor_msgs/CameraInfo's K does.
 */

/** Points closer to the camera plane than this (metres) are cut off: an edge through the camera has no image. */
const NEAR_M = 0.01;

/** A box's image: its 12 edges as segments (clipped at the near plane), its centre and top, or null parts when behind the camera. */
export interface ProjectedBox {
  /** Segments u0, v0, u1, v1 in pixels, one per visible edge part. */
  segments: [number, number, number, number][];
  /** The box centre's pixel, null when the centre is behind the camera. */
  center: { u: number; v: number } | null;
  /** The highest point of the drawn edges in the image (smallest v): where a label goes. */
  top: { u: number; v: number } | null;
}

/** The 12 edges of a box as pairs of corner indices (corner bit 0: x, bit 1: y, bit 2: z). */
const EDGES: readonly (readonly [number, number])[] = [
  [0, 1], [2, 3], [4, 5], [6, 7],
  [0, 2], [1, 3], [4, 6], [5, 7],
  [0, 4], [1, 5], [2, 6], [3, 7],
];

/**
 * Row-major optical → spatial rotation from a /tf transform of the spatial frame in the
 * camera's frame (perception publishes that; its rotation takes spatial vectors to optical ones).
 */
export function rotationFromTf(q: Quaternion): Float64Array {
  const n = Math.hypot(q.x, q.y, q.z, q.w);
  if (!(n > 0) || !Number.isFinite(n)) throw new RangeError("the transform's rotation is not a finite, non-zero quaternion");
  const x = q.x / n, y = q.y / n, z = q.z / n, w = q.w / n;
  // R(q) takes spatial → optical; its transpose is the optical → spatial rotation the scene's frame keeps.
  const r = [
    1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w),
    2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w),
    2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y),
  ];
  return new Float64Array([r[0], r[3], r[6], r[1], r[4], r[7], r[2], r[5], r[8]]);
}

/** A spatial-frame point in the optical frame (x right, y down, z forward). */
export function spatialToOptical(rotation: ArrayLike<number>, p: Vec3): Vec3 {
  const r = rotation;
  return {
    x: r[0] * p.x + r[3] * p.y + r[6] * p.z,
    y: r[1] * p.x + r[4] * p.y + r[7] * p.z,
    z: r[2] * p.x + r[5] * p.y + r[8] * p.z,
  };
}

/** An optical-frame point's pixel (no distortion: the simulator's and rectified images). */
export function opticalToPixel(k: PinholeIntrinsics, p: Vec3): { u: number; v: number } {
  return { u: k.cx + (k.fx * p.x) / p.z, v: k.cy + (k.fy * p.y) / p.z };
}

/**
 * The image of an axis-aligned spatial-frame box. `rotation` is the scene's row-major optical →
 * spatial rotation (SpatialFrame.rotation, or rotationFromTf). Null for a box that is not finite.
 */
export function projectBox(center: Vec3, size: Vec3, rotation: ArrayLike<number>, k: PinholeIntrinsics): ProjectedBox | null {
  const values = [center.x, center.y, center.z, size.x, size.y, size.z];
  if (!values.every(Number.isFinite) || size.x < 0 || size.y < 0 || size.z < 0) return null;
  const corners: Vec3[] = [];
  for (let i = 0; i < 8; i++) {
    corners.push(spatialToOptical(rotation, {
      x: center.x + ((i & 1) ? 0.5 : -0.5) * size.x,
      y: center.y + ((i & 2) ? 0.5 : -0.5) * size.y,
      z: center.z + ((i & 4) ? 0.5 : -0.5) * size.z,
    }));
  }
  const segments: [number, number, number, number][] = [];
  let top: { u: number; v: number } | null = null;
  const consider = (p: { u: number; v: number }) => {
    if (top === null || p.v < top.v) top = p;
  };
  for (const [a, b] of EDGES) {
    let p = corners[a], q = corners[b];
    if (p.z < NEAR_M && q.z < NEAR_M) continue;
    // The part in front of the near plane: move the point behind it along the edge.
    if (p.z < NEAR_M || q.z < NEAR_M) {
      const [front, back] = p.z >= NEAR_M ? [p, q] : [q, p];
      const t = (front.z - NEAR_M) / (front.z - back.z);
      const cut = { x: front.x + t * (back.x - front.x), y: front.y + t * (back.y - front.y), z: NEAR_M };
      p = front;
      q = cut;
    }
    const pu = opticalToPixel(k, p), qu = opticalToPixel(k, q);
    segments.push([pu.u, pu.v, qu.u, qu.v]);
    consider(pu);
    consider(qu);
  }
  const c = spatialToOptical(rotation, center);
  return { segments, center: c.z >= NEAR_M ? opticalToPixel(k, c) : null, top };
}
