import { mulberry32 } from "../../../src/random/mulberry32.js";
import type { CameraImage } from "../../../nodes/backbone/backbone_runtime.js";

export { RUNTIME_SMALL } from "../fixtures.js";

/** A seeded rgb8 image with row padding, so step matters. */
export function randomImage(seed: number, width = 48, height = 40): CameraImage {
  const step = width * 3 + 4;
  const r = mulberry32(seed);
  const data = new Uint8Array(step * height);
  for (let i = 0; i < data.length; i++) data[i] = Math.floor(r() * 256);
  return { width, height, encoding: "rgb8", step, data };
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    if (!(d <= m)) m = Number.isNaN(d) ? Infinity : d;
  }
  return m;
}
