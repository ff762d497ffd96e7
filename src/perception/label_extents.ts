/** Label ids are 16-bit (mono16 / 16UC1 masks; the detection segmenter's labels). */
export const MAX_LABEL = 65536;

/**
 * Per label id of one frame's label image: its pixel count and pixel bounding box, and the ids
 * present in ascending order (`present[0 .. size)`). Sized for every 16-bit id once, so a frame
 * allocates nothing; only the entries of present ids are ever non-zero in `count`, and clear()
 * resets exactly those (however the frame ended).
 */
export class LabelExtents {
  readonly count = new Int32Array(MAX_LABEL);
  readonly u0 = new Int32Array(MAX_LABEL);
  readonly u1 = new Int32Array(MAX_LABEL);
  readonly v0 = new Int32Array(MAX_LABEL);
  readonly v1 = new Int32Array(MAX_LABEL);
  readonly present = new Int32Array(MAX_LABEL);
  size = 0;

  clear(): void {
    const count = this.count, present = this.present;
    for (let i = 0; i < this.size; i++) count[present[i]] = 0;
    this.size = 0;
  }
}

/**
 * One pass over a label image (ids per pixel, `stride` elements per row; 0 = background) into
 * `ext`, whose counts must be clear: returns how many ids are present. The TypeScript
 * reference of the `labelExtents` kernel.
 */
export function labelExtentsTs(labels: Uint8Array | Uint16Array, stride: number, width: number, height: number, ext: LabelExtents): number {
  const count = ext.count, U0 = ext.u0, U1 = ext.u1, V0 = ext.v0, V1 = ext.v1, present = ext.present;
  let size = 0;
  // Most of a mask is background: read mono8 masks four pixels at a time and skip zero words.
  // The word view ends at the last whole word of the last row's pixels (its padding may be absent).
  const wordsPerRow = width >> 2;
  const words = labels instanceof Uint8Array && labels.byteOffset % 4 === 0 && stride % 4 === 0
    ? new Uint32Array(labels.buffer, labels.byteOffset, (stride * (height - 1) + (wordsPerRow << 2)) >> 2)
    : null;
  for (let v = 0; v < height; v++) {
    const row = v * stride;
    let u = 0;
    if (words) {
      const wrow = row >> 2;
      for (let w = 0; w < wordsPerRow; w++) {
        if (words[wrow + w] === 0) continue;
        const w0 = w << 2;
        for (let k = 0; k < 4; k++) {
          const id = labels[row + w0 + k];
          if (id === 0) continue;
          const uu = w0 + k;
          if (count[id] === 0) {
            present[size++] = id;
            U0[id] = uu; U1[id] = uu; V0[id] = v; V1[id] = v;
          } else {
            if (uu < U0[id]) U0[id] = uu;
            if (uu > U1[id]) U1[id] = uu;
            V1[id] = v;
          }
          count[id]++;
        }
      }
      u = wordsPerRow << 2;
    }
    for (; u < width; u++) {
      const id = labels[row + u];
      if (id === 0) continue;
      if (count[id] === 0) {
        present[size++] = id;
        U0[id] = u; U1[id] = u; V0[id] = v; V1[id] = v;
      } else {
        if (u < U0[id]) U0[id] = u;
        if (u > U1[id]) U1[id] = u;
        V1[id] = v;
      }
      count[id]++;
    }
  }
  ext.size = size;
  sortPresent(ext);
  return size;
}

/**
 * Sorts present ids ascending without allocating: insertion sort for the usual handful, else
 * the ids read back in order from the counts (a hostile mask of thousands of ids costs one
 * pass over the id range, never a quadratic sort).
 */
export function sortPresent(ext: LabelExtents): void {
  const present = ext.present, size = ext.size;
  if (size <= 64) {
    for (let i = 1; i < size; i++) {
      const id = present[i];
      let j = i - 1;
      while (j >= 0 && present[j] > id) { present[j + 1] = present[j]; j--; }
      present[j + 1] = id;
    }
    return;
  }
  const count = ext.count;
  let k = 0;
  for (let id = 1; id < MAX_LABEL && k < size; id++) if (count[id] !== 0) present[k++] = id;
}
