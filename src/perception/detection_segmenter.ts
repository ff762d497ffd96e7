import type { Detection2D } from "./rgbd_frame.js";

/**
 * Segments the object inside each 2D detection box from depth alone, producing an instance
 * label image so box detections and instance masks share one lifting path. Inside a box the
 * object is the connected surface, above the support plane, around the box centre: grown
 * from the above-plane pixel nearest the centre across neighbours whose depth is continuous.
 */
export class DetectionSegmenter {
  private labels = new Uint16Array(0);
  private queue = new Int32Array(0);
  private cleared: number[] = [];
  private width = 0;

  /**
   * `above(i)` tells whether pixel i lies above the support surface (and has valid depth);
   * `depth` is metres per pixel (row-major, width stride). Returns the label image
   * (detection k → label k+1), valid until the next call.
   */
  segment(
    detections: readonly Detection2D[],
    width: number,
    height: number,
    depth: Float32Array,
    above: Uint8Array,
  ): Uint16Array {
    const n = width * height;
    if (this.labels.length !== n || width !== this.width) {
      // A new image shape (480x640 after 640x480 has the same size): the boxes recorded for
      // clearing are in the old shape's coordinates, so start from a fresh label image.
      this.labels = new Uint16Array(n);
      this.queue = new Int32Array(n);
      this.cleared.length = 0;
      this.width = width;
    }
    const labels = this.labels;
    // Clear only what the previous frame wrote.
    const cleared = this.cleared;
    for (let k = 0; k < cleared.length; k += 4) {
      const u0 = cleared[k], v0 = cleared[k + 1], u1 = cleared[k + 2], v1 = cleared[k + 3];
      for (let v = v0; v <= v1; v++) labels.fill(0, v * width + u0, v * width + u1 + 1);
    }
    cleared.length = 0;
    for (let d = 0; d < detections.length; d++) {
      const det = detections[d];
      const u0 = Math.max(0, Math.floor(det.cx - det.width / 2));
      const u1 = Math.min(width - 1, Math.ceil(det.cx + det.width / 2));
      const v0 = Math.max(0, Math.floor(det.cy - det.height / 2));
      const v1 = Math.min(height - 1, Math.ceil(det.cy + det.height / 2));
      if (u1 < u0 || v1 < v0) continue;
      cleared.push(u0, v0, u1, v1);
      const seed = findSeed(det.cx, det.cy, u0, v0, u1, v1, width, above, labels);
      if (seed < 0) continue;
      const label = d + 1;
      let head = 0, tail = 0;
      this.queue[tail++] = seed;
      labels[seed] = label;
      while (head < tail) {
        const i = this.queue[head++];
        const u = i % width, v = (i - u) / width;
        const z = depth[i];
        // Continuity: neighbours on one surface differ by a few mm; a step of 3 cm + 3% is another surface.
        const step = 0.03 + 0.03 * z;
        if (u > u0) tail = visit(i - 1, z, step, label, labels, above, depth, this.queue, tail);
        if (u < u1) tail = visit(i + 1, z, step, label, labels, above, depth, this.queue, tail);
        if (v > v0) tail = visit(i - width, z, step, label, labels, above, depth, this.queue, tail);
        if (v < v1) tail = visit(i + width, z, step, label, labels, above, depth, this.queue, tail);
      }
    }
    return labels;
  }
}

function visit(j: number, z: number, step: number, label: number, labels: Uint16Array, above: Uint8Array, depth: Float32Array, queue: Int32Array, tail: number): number {
  if (labels[j] !== 0 || !above[j]) return tail;
  const dz = depth[j] - z;
  if (dz > step || dz < -step) return tail;
  labels[j] = label;
  queue[tail] = j;
  return tail + 1;
}

/**
 * The seed of a box: the first free above-plane pixel on square rings of growing radius r
 * around the rounded centre (cx, cy), within the box [u0, u1] x [v0, v1]. Each ring is
 * visited in row order (top row left to right, then each middle row's left and right ends,
 * then the bottom row), walking only its perimeter: O(r) per ring, O(box area) in all.
 * Returns the pixel index, or -1 if there is none.
 */
export function findSeed(cx: number, cy: number, u0: number, v0: number, u1: number, v1: number, width: number, above: Uint8Array, labels: Uint16Array): number {
  const cu = Math.round(cx), cv = Math.round(cy);
  const maxR = Math.max(u1 - u0, v1 - v0) / 2;
  for (let r = 0; r <= maxR; r++) {
    const left = cu - r, right = cu + r;
    const ua = Math.max(u0, left), ub = Math.min(u1, right);
    // Top row.
    let v = cv - r;
    if (v >= v0 && v <= v1) {
      for (let u = ua, i = v * width + ua; u <= ub; u++, i++) if (above[i] && labels[i] === 0) return i;
    }
    if (r === 0) continue;
    // Middle rows: only the two ends belong to the ring.
    const va = Math.max(v0, cv - r + 1), vb = Math.min(v1, cv + r - 1);
    const hasLeft = left >= u0 && left <= u1, hasRight = right >= u0 && right <= u1;
    if (hasLeft || hasRight) {
      for (v = va; v <= vb; v++) {
        const row = v * width;
        if (hasLeft && above[row + left] && labels[row + left] === 0) return row + left;
        if (hasRight && above[row + right] && labels[row + right] === 0) return row + right;
      }
    }
    // Bottom row.
    v = cv + r;
    if (v >= v0 && v <= v1) {
      for (let u = ua, i = v * width + ua; u <= ub; u++, i++) if (above[i] && labels[i] === 0) return i;
    }
  }
  return -1;
}
