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

/**
 * The largest camera perception accepts: buffers are sized from the intrinsics (about 21
 * bytes per pixel), so these caps bound what one hostile CameraInfo can make it allocate.
 */
export const MAX_IMAGE_SIDE = 16384;
export const MAX_IMAGE_PIXELS = 64 * 1024 * 1024;

/** Intrinsics for a camera with the given horizontal field of view and square pixels. */
export function intrinsicsFromFov(width: number, height: number, hfovDeg: number): PinholeIntrinsics {
  const fx = width / 2 / Math.tan((hfovDeg * Math.PI) / 360);
  return { width, height, fx, fy: fx, cx: (width - 1) / 2, cy: (height - 1) / 2 };
}

/**
 * Rejects intrinsics no camera can have, so lifting never divides by zero, produces NaN or
 * allocates for an absurd size: width and height integers in [1, MAX_IMAGE_SIDE] with at most
 * MAX_IMAGE_PIXELS pixels, fx and fy finite and positive, and the principal point strictly
 * inside the image (CameraInfo's K is for the full image; a zero K is an uncalibrated camera).
 */
export function validateIntrinsics(k: PinholeIntrinsics): void {
  if (k === null || typeof k !== "object") throw new InvalidInputError("bad_intrinsics", "camera intrinsics are missing");
  const { width, height, fx, fy, cx, cy } = k;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width <= 0 || height <= 0) {
    throw new InvalidInputError("bad_intrinsics", `camera size must be positive integers (got ${width}x${height})`);
  }
  if (width > MAX_IMAGE_SIDE || height > MAX_IMAGE_SIDE || width * height > MAX_IMAGE_PIXELS) {
    throw new InvalidInputError(
      "bad_intrinsics",
      `camera size ${width}x${height} is over the limit (each side ≤ ${MAX_IMAGE_SIDE}, ≤ ${MAX_IMAGE_PIXELS} pixels)`,
    );
  }
  if (!inOpenRange(fx, 0, Infinity) || !inOpenRange(fy, 0, Infinity)) {
    throw new InvalidInputError("bad_intrinsics", `camera focal lengths must be finite and positive (got fx=${fx}, fy=${fy})`);
  }
  if (!inOpenRange(cx, 0, width) || !inOpenRange(cy, 0, height)) {
    throw new InvalidInputError("bad_intrinsics", `camera principal point must lie inside the ${width}x${height} image (got cx=${cx}, cy=${cy})`);
  }
}

/** lo < x < hi for a number x; false for NaN and for anything that is not a number. */
function inOpenRange(x: unknown, lo: number, hi: number): boolean {
  return typeof x === "number" && x > lo && x < hi;
}
