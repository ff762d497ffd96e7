import { InvalidInputError } from "../errors.js";

/** Pinhole intrinsics of an undistorted image (sensor_msgs/CameraInfo K, plumb_bob with zero D). */
export interface PinholeIntrinsics {
  width: number;
  height: number;
  fx: number;
  fy: number;
  cx: number;
  cy: number;
}

/** Intrinsics for a camera with the given horizontal field of view and square pixels. */
export function intrinsicsFromFov(width: number, height: number, hfovDeg: number): PinholeIntrinsics {
  const fx = width / 2 / Math.tan((hfovDeg * Math.PI) / 360);
  return { width, height, fx, fy: fx, cx: (width - 1) / 2, cy: (height - 1) / 2 };
}

/** Rejects intrinsics no camera can have, so lifting never divides by zero or produces NaN. */
export function validateIntrinsics(k: PinholeIntrinsics): void {
  const finite = [k.fx, k.fy, k.cx, k.cy].every(Number.isFinite);
  if (!finite || k.fx <= 0 || k.fy <= 0) {
    throw new InvalidInputError("bad_intrinsics", `camera intrinsics must be finite with fx, fy > 0 (got fx=${k.fx}, fy=${k.fy}, cx=${k.cx}, cy=${k.cy})`);
  }
  if (!Number.isInteger(k.width) || !Number.isInteger(k.height) || k.width <= 0 || k.height <= 0) {
    throw new InvalidInputError("bad_intrinsics", `camera size must be positive integers (got ${k.width}x${k.height})`);
  }
}
