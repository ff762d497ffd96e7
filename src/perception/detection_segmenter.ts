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
    if (this.labels.length !== n) {
      this.labels = new Uint16Array(n);
      this.queue = new Int32Array(n);
      this.cleared = [];
    }
    const labels = this.labels;
    // Clear only what the previous frame wrote.
    for (let k = 0; k < this.cleared.length; k += 4) {
      const [u0, v0, u1, v1] = [this.cleared[k], this.cleared[k + 1], this.cleared[k + 2], this.cleared[k + 3]];
      for (let v = v0; v <= v1; v++) labels.fill(0, v * width + u0, v * width + u1 + 1);
    }
    this.cleared = [];
    for (let d = 0; d < detections.length; d++) {
      const det = detections[d];
      const u0 = Math.max(0, Math.floor(det.cx - det.width / 2));
      const u1 = Math.min(width - 1, Math.ceil(det.cx + det.width / 2));
      const v0 = Math.max(0, Math.floor(det.cy - det.height / 2));
      const v1 = Math.min(height - 1, Math.ceil(det.cy + det.height / 2));
      if (u1 < u0 || v1 < v0) continue;
      this.cleared.push(u0, v0, u1, v1);
      const seed = findSeed(det, u0, v0, u1, v1, width, above, labels);
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

function findSeed(det: Detection2D, u0: number, v0: number, u1: number, v1: number, width: number, above: Uint8Array, labels: Uint16Array): number {
  const cu = Math.round(det.cx), cv = Math.round(det.cy);
  const maxR = Math.max(u1 - u0, v1 - v0) / 2;
  // Rings around the centre: the first free above-plane pixel is the seed.
  for (let r = 0; r <= maxR; r++) {
    for (let dv = -r; dv <= r; dv++) {
      for (let du = -r; du <= r; du++) {
        if (Math.max(Math.abs(du), Math.abs(dv)) !== r) continue;
        const u = cu + du, v = cv + dv;
        if (u < u0 || u > u1 || v < v0 || v > v1) continue;
        const i = v * width + u;
        if (above[i] && labels[i] === 0) return i;
      }
    }
  }
  return -1;
}
