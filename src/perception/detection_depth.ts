/**
 * Layout of the `metricDepthAbove` kernel's parameters (a Float64Array): image size, the depth
 * image's row stride and scale, the support's floor height (-Infinity: none), the depth range
 * and the spatial rotation's third row (camera optical → height).
 */
export const DEPTH_ABOVE_PARAMS = {
  width: 0, height: 1, depthStride: 2, depthScale: 3, floorZ: 4, minDepth: 5, maxDepth: 6, r6: 7, r7: 8, r8: 9,
  length: 10,
} as const;

/**
 * What the detection segmenter reads: the whole depth image in metres (`depthM`, row-major,
 * width stride) and, inside each box (`boxes`: cx, cy, width, height per box, clipped to the
 * image), whether each pixel has valid depth and lies above the support's floor (`above`, 1/0).
 * Outside the boxes `above` keeps what it held: the segmenter reads it only inside its boxes.
 * The TypeScript reference of the `metricDepthAbove` kernel.
 */
export function metricDepthAboveTs(
  p: Float64Array, depth: Float32Array | Uint16Array, boxes: Float64Array, nBoxes: number,
  rayX: Float64Array, rayY: Float64Array, depthM: Float32Array, above: Uint8Array,
): void {
  const P = DEPTH_ABOVE_PARAMS;
  const width = p[P.width], height = p[P.height], ds = p[P.depthStride], dscale = p[P.depthScale];
  const floorZ = p[P.floorZ], minZ = p[P.minDepth], maxZ = p[P.maxDepth], r6 = p[P.r6], r7 = p[P.r7], r8 = p[P.r8];
  if (depth instanceof Float32Array && dscale === 1 && ds === width && depth.length === width * height && depthM.length >= depth.length) {
    // Metres already, rows packed: a copy (each value as the loop below would store it).
    depthM.set(depth);
  } else {
    for (let v = 0; v < height; v++) {
      for (let u = 0; u < width; u++) depthM[v * width + u] = depth[v * ds + u] * dscale;
    }
  }
  for (let k = 0; k < nBoxes; k++) {
    const cx = boxes[k * 4], cy = boxes[k * 4 + 1], bw = boxes[k * 4 + 2], bh = boxes[k * 4 + 3];
    const u0 = Math.max(0, Math.floor(cx - bw / 2)), u1 = Math.min(width - 1, Math.ceil(cx + bw / 2));
    const v0 = Math.max(0, Math.floor(cy - bh / 2)), v1 = Math.min(height - 1, Math.ceil(cy + bh / 2));
    for (let v = v0; v <= v1; v++) {
      const ry = rayY[v];
      for (let u = u0; u <= u1; u++) {
        const i = v * width + u;
        const z = depthM[i];
        above[i] = z > minZ && z < maxZ && r6 * rayX[u] * z + r7 * ry * z + r8 * z > floorZ ? 1 : 0;
      }
    }
  }
}
