import { InvalidInputError } from "../errors.js";
import type { Vec3 } from "./vec3.js";

/**
 * The gravity-aligned frame every spatial answer is given in (SpatialVLM's canonical frame):
 * origin at the camera's optical centre, z up (normal of the support plane, or gravity from a
 * given transform), x the camera's optical axis projected on the horizontal plane (forward,
 * away from the viewer), y = z × x (left in the camera's view). REP-103 axes with the
 * viewer's heading, so "left of" means larger y and "in front of" means smaller x.
 */
export interface SpatialFrame {
  /** Row-major 3x3 rotation taking camera-optical-frame vectors to spatial-frame vectors. */
  readonly rotation: Float64Array;
  /** z of the support surface (table, floor) in this frame, null when unknown. */
  readonly supportZ: number | null;
}

/**
 * Builds the spatial frame from an up direction given in the camera optical frame
 * (x right, y down, z forward). `supportOffset` is the plane's d in n·p + d = 0 with n = up,
 * i.e. the camera's height above the support surface.
 */
export function frameFromUp(upInCamera: Vec3, supportOffset: number | null): SpatialFrame {
  const n = Math.hypot(upInCamera.x, upInCamera.y, upInCamera.z);
  if (!(n > 0) || !Number.isFinite(n)) {
    throw new InvalidInputError("bad_argument", "up direction must be a finite non-zero vector");
  }
  const zx = upInCamera.x / n, zy = upInCamera.y / n, zz = upInCamera.z / n;
  // Forward: optical axis (0,0,1) minus its component along up.
  let fx = -zz * zx, fy = -zz * zy, fz = 1 - zz * zz;
  const fn = Math.hypot(fx, fy, fz);
  if (fn < 1e-6) {
    throw new InvalidInputError("bad_argument", "camera looks straight along gravity: forward is undefined");
  }
  fx /= fn; fy /= fn; fz /= fn;
  // Left = up × forward.
  const lx = zy * fz - zz * fy, ly = zz * fx - zx * fz, lz = zx * fy - zy * fx;
  // Stored element by element: a Float64Array made from an array literal goes through the
  // iterable path (a frame's rotation is made once per frame).
  const rotation = new Float64Array(9);
  rotation[0] = fx; rotation[1] = fy; rotation[2] = fz;
  rotation[3] = lx; rotation[4] = ly; rotation[5] = lz;
  rotation[6] = zx; rotation[7] = zy; rotation[8] = zz;
  return { rotation, supportZ: supportOffset === null ? null : -supportOffset };
}

export function cameraToSpatial(frame: SpatialFrame, p: Vec3): Vec3 {
  const r = frame.rotation;
  return {
    x: r[0] * p.x + r[1] * p.y + r[2] * p.z,
    y: r[3] * p.x + r[4] * p.y + r[5] * p.z,
    z: r[6] * p.x + r[7] * p.y + r[8] * p.z,
  };
}

export function spatialToCamera(frame: SpatialFrame, p: Vec3): Vec3 {
  const r = frame.rotation;
  return {
    x: r[0] * p.x + r[3] * p.y + r[6] * p.z,
    y: r[1] * p.x + r[4] * p.y + r[7] * p.z,
    z: r[2] * p.x + r[5] * p.y + r[8] * p.z,
  };
}
