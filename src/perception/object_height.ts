import { selectKth } from "../geometry/quantile.js";

/**
 * Layout of the `medianObjectHeight` kernel's parameters (a Float64Array): the plane
 * (n·p + d, camera frame), the depth image's row stride and scale, the label image's row stride
 * (0: detection mode, the boxes say where objects are), the region and the depth range.
 */
export const HEIGHT_PARAMS = {
  nx: 0, ny: 1, nz: 2, d: 3, depthStride: 4, depthScale: 5, labelStride: 6, u0: 7, u1: 8, v0: 9, v1: 10, minDepth: 11, maxDepth: 12,
  length: 13,
} as const;

/** Scratch cells the grid of medianObjectHeight can need for a width x height image (its step is at least 2). */
export function objectHeightCells(width: number, height: number): number {
  return ((width >> 1) + 1) * ((height >> 1) + 1);
}

/**
 * Median height above the plane of a grid of object pixels over the region: labelled pixels,
 * or (detection mode) the inner half of the boxes (`boxes`: cx, cy, width, height per box).
 * Boxes mark the grid points inside them first, so the cost is grid + boxes, not grid x boxes.
 * 0 when no grid point is an object with valid depth. `heights` and `mark` hold
 * objectHeightCells(width, height) values. The TypeScript reference of the `medianObjectHeight` kernel.
 */
export function medianObjectHeightTs(
  p: Float64Array, depth: Float32Array | Uint16Array, labels: Uint8Array | Uint16Array, boxes: Float64Array, nBoxes: number,
  rayX: Float64Array, rayY: Float64Array, heights: Float64Array, mark: Uint8Array,
): number {
  const P = HEIGHT_PARAMS;
  const nx = p[P.nx], ny = p[P.ny], nz = p[P.nz], pd = p[P.d];
  const ds = p[P.depthStride], dscale = p[P.depthScale], ls = p[P.labelStride];
  const u0 = p[P.u0], u1 = p[P.u1], v0 = p[P.v0], v1 = p[P.v1], minZ = p[P.minDepth], maxZ = p[P.maxDepth];
  const instanceMode = ls > 0;
  const step = Math.max(2, Math.round(Math.sqrt(((u1 - u0 + 1) * (v1 - v0 + 1)) / 2000)));
  const nu = Math.floor((u1 - u0) / step) + 1, nv = Math.floor((v1 - v0) / step) + 1;
  if (!instanceMode) {
    mark.fill(0, 0, nu * nv);
    for (let k = 0; k < nBoxes; k++) {
      const bcx = boxes[k * 4], bcy = boxes[k * 4 + 1];
      const hw = boxes[k * 4 + 2] / 4, hh = boxes[k * 4 + 3] / 4;
      // Candidate grid columns and rows, one wider each way; the exact test decides.
      const i0 = Math.max(0, Math.floor((bcx - hw - u0) / step) - 1), i1 = Math.min(nu - 1, Math.ceil((bcx + hw - u0) / step) + 1);
      const j0 = Math.max(0, Math.floor((bcy - hh - v0) / step) - 1), j1 = Math.min(nv - 1, Math.ceil((bcy + hh - v0) / step) + 1);
      for (let j = j0; j <= j1; j++) {
        if (!(Math.abs(v0 + j * step - bcy) <= hh)) continue;
        for (let i = i0; i <= i1; i++) if (Math.abs(u0 + i * step - bcx) <= hw) mark[j * nu + i] = 1;
      }
    }
  }
  let n = 0;
  for (let j = 0, v = v0; v <= v1; j++, v += step) {
    for (let i = 0, u = u0; u <= u1; i++, u += step) {
      const inside = instanceMode ? labels[v * ls + u] !== 0 : mark[j * nu + i] === 1;
      if (!inside) continue;
      const z = depth[v * ds + u] * dscale;
      if (!(z > minZ && z < maxZ)) continue;
      heights[n++] = nx * rayX[u] * z + ny * rayY[v] * z + nz * z + pd;
    }
  }
  if (n === 0) return 0;
  // Only the median is read (against a threshold): the middle order statistic, selected in place.
  return selectKth(heights, n, n >> 1);
}
