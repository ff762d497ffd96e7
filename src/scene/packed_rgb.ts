import { InvalidInputError } from "../errors.js";
import type { ImageLike } from "./image.js";
import { validateImage } from "../perception/image_views.js";

/** Largest image side accepted (16k: beyond any camera, and the packed copy stays under 1 GB). */
const MAX_SIDE = 16384;

/**
 * An rgb8 or bgr8 image (any row step) as packed rgb8, width × height × 3 bytes, into `out`
 * (reused when it has the right size). Other encodings are an InvalidInputError
 * (bad_encoding); a size or step that does not fit its data is bad_image_size / bad_image_step.
 */
export function packedRgb(img: ImageLike, out?: Uint8Array): Uint8Array {
  if (img === null || typeof img !== "object") throw new InvalidInputError("bad_argument", "image is missing");
  if (img.encoding !== "rgb8" && img.encoding !== "bgr8") {
    throw new InvalidInputError("bad_encoding", `the camera image is ${JSON.stringify(String(img.encoding).slice(0, 40))}; rgb8 or bgr8 is needed`);
  }
  if (!Number.isSafeInteger(img.width) || !Number.isSafeInteger(img.height) || img.width < 1 || img.height < 1 || img.width > MAX_SIDE || img.height > MAX_SIDE) {
    throw new InvalidInputError("bad_image_size", `the camera image is ${img.width}x${img.height}; each side must be 1 to ${MAX_SIDE} pixels`);
  }
  validateImage(img, "camera image", img.width, img.height, ["rgb8", "bgr8"]);
  const { width, height, step, data } = img;
  const n = width * height * 3;
  const dst = out && out.length === n ? out : new Uint8Array(n);
  const bgr = img.encoding === "bgr8";
  for (let v = 0; v < height; v++) {
    const src = v * step;
    const row = v * width * 3;
    if (!bgr) {
      dst.set(data.subarray(src, src + width * 3), row);
      continue;
    }
    for (let u = 0; u < width * 3; u += 3) {
      dst[row + u] = data[src + u + 2];
      dst[row + u + 1] = data[src + u + 1];
      dst[row + u + 2] = data[src + u];
    }
  }
  return dst;
}
