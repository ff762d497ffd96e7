import { InvalidInputError } from "../errors.js";
import type { ImageLike } from "../scene/image.js";
import { backboneSizes, type BackboneConfig } from "./config.js";

/**
 * Camera image → model input (models/README.md, "The forward pass"):
 *
 * - **Stretch, not letterbox or crop.** The whole frame is resized to image_size × image_size.
 *   A tabletop camera is usually 4:3; a centre crop (DINOv2's eval transform) would cut off the
 *   table's sides, where objects a question names may sit, and a letterbox would spend a quarter
 *   of the patches (and visual tokens, and encoder time) on padding. The aspect distortion is
 *   the same on every frame of a camera and the model is trained with this same transform
 *   (SigLIP's own preprocessing also stretches), so it costs nothing the model cannot learn.
 * - **Antialiased bilinear (Pillow's BILINEAR / torchvision `antialias=True`).** When upscaling
 *   or at scale 1 it is plain half-pixel bilinear; when downscaling by s it widens the triangle
 *   filter to s input pixels, i.e. a tent-weighted area average. A 640×480 frame is shrunk ~2.9×
 *   to 224: plain 2-tap bilinear would sample only about half the input pixels and alias fine
 *   texture (a one-pixel checkerboard comes out as stripes), while a box area-average alone is
 *   not what PyTorch training pipelines do. Matching Pillow's coefficients (in float, without
 *   Pillow's 8-bit rounding between passes) keeps a model trained in PyTorch seeing the same pixels.
 * - Normalise (v/255 − mean) / std per channel; mono8 is replicated to three channels.
 * - Patchify into [P, 3p²], each patch channel-major (c, y, x) like a Conv2d weight [w, 3, p, p].
 * - Coarse scale: the model-size image averaged 2×2 (S/2 × S/2) patchified into (G/2)² patches,
 *   so coarse patch (cy, cx) covers exactly fine patches (2cy..2cy+1, 2cx..2cx+1).
 *
 * Buffers are owned by the preprocessor: the outputs are allocated at construction; the
 * resampling tables and a ring of a few horizontally filtered rows depend on the input size and
 * are rebuilt only when a camera's size changes, never per frame. The resize writes straight into
 * the patch layout and the coarse scale is averaged from it, so there is no separate [3, S, S]
 * image or patchify pass per frame (bench/backbone/preprocess_oracle.ts is that simpler
 * form, kept as the reference).
 */

export const PREPROCESS_ENCODINGS = ["rgb8", "bgr8", "rgba8", "bgra8", "mono8"] as const;
export type PreprocessEncoding = (typeof PREPROCESS_ENCODINGS)[number];

/** Largest accepted side: the simulator renders at most 8192; anything past 16384 is a corrupt header. */
export const MAX_IMAGE_SIDE = 16384;

/** Where a pixel's channels sit in an encoding's bytes. */
export interface PixelLayout {
  bpp: number;
  /** Byte offsets of R, G, B within a pixel. */
  r: number;
  g: number;
  b: number;
}

const LAYOUTS: Readonly<Record<PreprocessEncoding, PixelLayout>> = {
  rgb8: { bpp: 3, r: 0, g: 1, b: 2 },
  bgr8: { bpp: 3, r: 2, g: 1, b: 0 },
  rgba8: { bpp: 4, r: 0, g: 1, b: 2 },
  bgra8: { bpp: 4, r: 2, g: 1, b: 0 },
  mono8: { bpp: 1, r: 0, g: 0, b: 0 },
};

function isEncoding(e: unknown): e is PreprocessEncoding {
  return typeof e === "string" && (PREPROCESS_ENCODINGS as readonly string[]).includes(e);
}

/**
 * Checks an image before any buffer is sized from it: encoding, sides within MAX_IMAGE_SIDE,
 * step, and a byte length that holds every row (the last row's padding may be absent).
 */
export function validateCameraImage(img: ImageLike, what = "backbone image"): PixelLayout {
  if (img === null || typeof img !== "object") throw new InvalidInputError("bad_image_size", `${what}: image is missing`);
  const enc: unknown = img.encoding;
  if (!isEncoding(enc)) {
    const shown = typeof enc === "string" ? JSON.stringify(enc.slice(0, 40)) : typeof enc;
    throw new InvalidInputError("bad_encoding", `${what}: encoding ${shown} not supported; expected one of ${PREPROCESS_ENCODINGS.join(", ")}`);
  }
  const be: unknown = img.is_bigendian;
  if (be !== undefined && be !== 0 && be !== 1) {
    throw new InvalidInputError("bad_encoding", `${what}: is_bigendian must be 0 or 1 (got ${typeof be === "number" ? be : typeof be})`);
  }
  const { width, height } = img;
  checkSide(width, "width", what);
  checkSide(height, "height", what);
  const layout = LAYOUTS[enc];
  const step = img.step;
  const rowBytes = width * layout.bpp;
  // No upper bound is needed: a step too large for the buffer fails the length check below.
  if (!Number.isSafeInteger(step) || step < rowBytes) {
    throw new InvalidInputError("bad_image_step", `${what}: step ${String(step)} is not an integer of at least width x ${layout.bpp} bytes = ${rowBytes}`);
  }
  const data: unknown = img.data;
  if (!(data instanceof Uint8Array)) {
    throw new InvalidInputError("bad_image_size", `${what}: data must be a byte array (Uint8Array), got ${data === null ? "null" : typeof data}`);
  }
  const needed = step * (height - 1) + rowBytes;
  if (data.byteLength < needed) {
    throw new InvalidInputError("bad_image_size", `${what}: data has ${data.byteLength} bytes, a ${width}x${height} ${enc} image with step ${step} needs ${needed}`);
  }
  if (data.byteLength > step * height) {
    throw new InvalidInputError("bad_image_size", `${what}: data has ${data.byteLength} bytes, more than step ${step} x height ${height} = ${step * height}: width, height or step is wrong`);
  }
  return layout;
}

function checkSide(v: number, name: string, what: string): void {
  if (!Number.isSafeInteger(v) || v < 1 || v > MAX_IMAGE_SIDE) {
    throw new InvalidInputError("bad_image_size", `${what}: ${name} ${String(v)} is not an integer in [1, ${MAX_IMAGE_SIDE}]`);
  }
}

/**
 * Pillow's separable resampling coefficients for one axis (precompute_coeffs, bilinear filter),
 * as a fixed number of taps per output: output o reads input samples start[o] .. start[o]+taps−1
 * with weights[o·taps ..]. Zero weights at either end of Pillow's window are dropped and every
 * window is then padded with zero weights to the widest one (shifted to stay inside the input):
 * adding 0·v changes no sum, and a trip count that never varies is a loop exit the CPU predicts
 * (windows alternating between 5 and 6 taps mispredicted once per output and cost more than the
 * extra multiply). Scale 1 is one tap.
 */
interface AxisTable {
  inSize: number;
  start: Int32Array;
  weights: Float32Array;
  taps: number;
}

function axisTable(inSize: number, outSize: number): AxisTable {
  const scale = inSize / outSize;
  const filterScale = Math.max(scale, 1);
  const support = filterScale; // triangle filter support 1, widened when downscaling
  const kmax = Math.ceil(support) * 2 + 1;
  const lo0 = new Int32Array(outSize);
  const wide = new Float32Array(outSize * kmax);
  const ss = 1 / filterScale;
  let taps = 1;
  for (let o = 0; o < outSize; o++) {
    const center = (o + 0.5) * scale;
    const lo = Math.max(Math.trunc(center - support + 0.5), 0);
    const hi = Math.min(Math.trunc(center + support + 0.5), inSize);
    const n = hi - lo;
    const raw = wide.subarray(o * kmax, o * kmax + n);
    let total = 0;
    // Stored as float32 before normalising, as the reference implementation does.
    for (let k = 0; k < n; k++) {
      const t = Math.abs((k + lo - center + 0.5) * ss);
      const w = t < 1 ? 1 - t : 0;
      raw[k] = w;
      total += w;
    }
    if (total > 0) for (let k = 0; k < n; k++) raw[k] /= total;
    let a = 0, b = n;
    while (a < b && raw[a] === 0) a++;
    while (b > a && raw[b - 1] === 0) b--;
    lo0[o] = lo + a;
    if (b - a > taps) taps = b - a;
    raw.copyWithin(0, a, b);
    raw.fill(0, b - a);
  }
  const start = new Int32Array(outSize);
  const weights = new Float32Array(outSize * taps);
  for (let o = 0; o < outSize; o++) {
    const first = Math.min(lo0[o], inSize - taps); // taps ≤ inSize: a window's taps are distinct samples
    const shift = lo0[o] - first;
    start[o] = first;
    for (let k = 0; k + shift < taps; k++) weights[o * taps + shift + k] = wide[o * kmax + k];
  }
  return { inSize, start, weights, taps };
}

/** Offset into [(side/p)², 3p²] of row y of the side × side image: patch row and row within the patch, channel 0, x 0. */
function patchRowOffsets(side: number, p: number): Int32Array {
  const g = side / p, dim = 3 * p * p;
  const off = new Int32Array(side);
  for (let y = 0; y < side; y++) off[y] = Math.floor(y / p) * g * dim + (y % p) * p;
  return off;
}

/**
 * A native implementation of ImagePreprocessor's resize (native/src/kernels/image_preprocess.cc,
 * given by nodes/backbone/native_preprocess.ts): the frame's bytes and this preprocessor's axis
 * tables in, the fine (and coarse, when non-empty) patches written, equal to the TypeScript
 * path's bit for bit (test/native/image_preprocess_kernel.test.ts). The TypeScript resize is
 * the reference and the fallback wherever none is given.
 */
export interface PreprocessKernel {
  resizeToPatches(
    data: Uint8Array, width: number, height: number, step: number, bpp: number, r: number, g: number, b: number,
    xStart: Int32Array, xWeights: Float32Array, xTaps: number, yStart: Int32Array, yWeights: Float32Array, yTaps: number,
    size: number, patch: number, scale: Float32Array, shift: Float32Array, patches: Float32Array, coarsePatches: Float32Array,
  ): void;
}

export class ImagePreprocessor {
  readonly config: BackboneConfig;
  /** The native resize in use, or null (the TypeScript one). */
  readonly kernel: PreprocessKernel | null;
  /** [P, 3p²]: the fine patches of the last processed image. */
  readonly patches: Float32Array;
  /** [(G/2)², 3p²]: the coarse patches (empty when the model has no coarse_to_fine). */
  readonly coarsePatches: Float32Array;
  /** [3, S, S], filled from `patches` only when modelImage() is asked for. */
  private readonly image: Float32Array;
  private readonly scale: Float32Array;
  private readonly shift: Float32Array;
  private readonly fineRowOff: Int32Array;
  private readonly coarseRowOff: Int32Array;
  /** [3, S] Float64: one output row's vertical sums before the last pair of taps. */
  private readonly rowAcc: Float64Array;
  /** [3, S]: the last even and odd normalised model-image rows (the coarse scale averages the pair). */
  private readonly rowA: Float32Array;
  private readonly rowB: Float32Array;
  private xTable: AxisTable | null = null;
  private yTable: AxisTable | null = null;
  /** taps(y) + 1 horizontally filtered input rows, each [3, S] planar; slot = input row % (taps + 1). */
  private ring = new Float32Array(0);
  /** Input row held by each ring slot (−1: none), reset every frame. */
  private ringRow = new Int32Array(0);
  /** Ring offsets of the current output row's taps. */
  private tapRows = new Int32Array(0);

  constructor(config: BackboneConfig, kernel: PreprocessKernel | null = null) {
    this.config = config;
    this.kernel = kernel;
    const s = backboneSizes(config);
    const S = config.image_size, p = config.patch_size;
    this.patches = new Float32Array(s.patches * s.patchDim);
    this.coarsePatches = new Float32Array(s.coarsePatches * s.patchDim);
    this.image = new Float32Array(3 * S * S);
    this.rowAcc = new Float64Array(3 * S);
    this.rowA = new Float32Array(3 * S);
    this.rowB = new Float32Array(3 * S);
    // (v/255 − mean)/std = v·scale + shift, folded once.
    this.scale = new Float32Array(config.image_std.map((sd) => 1 / (255 * sd)));
    this.shift = new Float32Array(config.image_mean.map((m, c) => -m / config.image_std[c]));
    this.fineRowOff = patchRowOffsets(S, p);
    this.coarseRowOff = config.coarse_to_fine ? patchRowOffsets(S / 2, p) : new Int32Array(0);
  }

  /** Validates and converts one camera image; fills `patches` (and `coarsePatches` when the model has the coarse scale). */
  process(img: ImageLike): void {
    const layout = validateCameraImage(img);
    this.resize(img, layout);
  }

  /** The normalised model-size image [3, S, S] of the last processed frame (a view, overwritten next call). */
  modelImage(): Float32Array {
    const S = this.config.image_size, p = this.config.patch_size, pp = p * p, dim = 3 * pp;
    const out = this.image, src = this.patches, rowOff = this.fineRowOff;
    for (let c = 0; c < 3; c++) {
      for (let y = 0; y < S; y++) {
        const o = (c * S + y) * S, r = rowOff[y] + c * pp;
        for (let x = 0; x < S; x++) out[o + x] = src[r + Math.floor(x / p) * dim + (x % p)];
      }
    }
    return out;
  }

  private tables(width: number, height: number): void {
    const S = this.config.image_size;
    if (this.xTable?.inSize !== width) this.xTable = axisTable(width, S);
    if (this.yTable?.inSize !== height) {
      this.yTable = axisTable(height, S);
      const R = this.yTable.taps + 1;
      this.ring = new Float32Array(R * 3 * S);
      this.ringRow = new Int32Array(R);
      this.tapRows = new Int32Array(R);
    }
  }

  /**
   * Horizontal pass per input row into a small ring (each row filtered once, then reused by
   * every output row whose window covers it); vertical pass per output row streamed over the
   * ring rows two taps at a time, the last sweep normalising into one model-image row, which is
   * copied into the patch layout p values at a time and, every second row, averaged 2×2 with the
   * row before into the coarse patches.
   */
  private resize(img: ImageLike, layout: PixelLayout): void {
    const { width, height, step, data } = img;
    this.tables(width, height);
    const xt = this.xTable as AxisTable, yt = this.yTable as AxisTable;
    const S = this.config.image_size, p = this.config.patch_size;
    const coarse = this.config.coarse_to_fine !== null;
    if (this.kernel) {
      this.kernel.resizeToPatches(data, width, height, step, layout.bpp, layout.r, layout.g, layout.b, xt.start, xt.weights, xt.taps,
        yt.start, yt.weights, yt.taps, S, p, this.scale, this.shift, this.patches, coarse ? this.coarsePatches : EMPTY_F32);
      return;
    }
    const ring = this.ring, ringRow = this.ringRow, tapRows = this.tapRows, acc = this.rowAcc;
    const T = yt.taps, R = ringRow.length, rowLen = 3 * S;
    ringRow.fill(-1);
    const yw = yt.weights, ystart = yt.start;
    const { bpp, r, g, b } = layout;
    const scale = this.scale, shift = this.shift;
    for (let oy = 0; oy < S; oy++) {
      const y0 = ystart[oy];
      for (let k = 0; k < T; k++) {
        const y = y0 + k, slot = y % R;
        if (ringRow[slot] !== y) {
          if (bpp === 1) {
            horizontalMono(data, y * step, xt, ring, slot * rowLen, S);
          } else if (y + 1 < height) {
            // Row y + 1 is the next one any window needs; its slot holds y − T, outside this window.
            const slot2 = (y + 1) % R;
            horizontalRgbPair(data, y * step, step, bpp, r, g, b, xt, ring, slot * rowLen, slot2 * rowLen, S);
            ringRow[slot2] = y + 1;
          } else {
            horizontalRgb(data, y * step, bpp, r, g, b, xt, ring, slot * rowLen, S);
          }
          ringRow[slot] = y;
        }
        tapRows[k] = slot * rowLen;
      }
      // Odd rows land in rowB so that a coarse row reads rowA (even) and rowB (odd).
      const row = (oy & 1) === 0 ? this.rowA : this.rowB;
      vertical(ring, tapRows, yw, oy * T, T, acc, row, S, scale, shift);
      toPatches(row, S, p, this.patches, this.fineRowOff[oy]);
      if (coarse && (oy & 1) === 1) coarseRow(this.rowA, this.rowB, S, p, this.coarsePatches, this.coarseRowOff[oy >> 1]);
    }
  }
}

const EMPTY_F32 = new Float32Array(0);

/** One input row of a 3- or 4-byte encoding → [3, S] planes of ring at dst (unnormalised). */
function horizontalRgb(data: Uint8Array, base: number, bpp: number, r: number, g: number, b: number, xt: AxisTable, ring: Float32Array, dst: number, S: number): void {
  const start = xt.start, w = xt.weights, T = xt.taps;
  const dg = dst + S, db = dst + 2 * S;
  const br = base + r, bg = base + g, bb = base + b;
  for (let ox = 0, k0 = 0; ox < S; ox++, k0 += T) {
    let i = start[ox] * bpp;
    let vr = 0, vg = 0, vb = 0;
    for (let k = k0, k1 = k0 + T; k < k1; k++, i += bpp) {
      const wk = w[k];
      vr += wk * data[br + i];
      vg += wk * data[bg + i];
      vb += wk * data[bb + i];
    }
    ring[dst + ox] = vr;
    ring[dg + ox] = vg;
    ring[db + ox] = vb;
  }
}

/** Input rows y and y + 1 at once: each weight and tap index serves six sums (~20% faster than two single rows). */
function horizontalRgbPair(data: Uint8Array, base: number, step: number, bpp: number, r: number, g: number, b: number, xt: AxisTable, ring: Float32Array, dst: number, dst2: number, S: number): void {
  const start = xt.start, w = xt.weights, T = xt.taps;
  const br = base + r, bg = base + g, bb = base + b;
  const br2 = br + step, bg2 = bg + step, bb2 = bb + step;
  for (let ox = 0, k0 = 0; ox < S; ox++, k0 += T) {
    let i = start[ox] * bpp;
    let vr = 0, vg = 0, vb = 0, ur = 0, ug = 0, ub = 0;
    for (let k = k0, k1 = k0 + T; k < k1; k++, i += bpp) {
      const wk = w[k];
      vr += wk * data[br + i];
      vg += wk * data[bg + i];
      vb += wk * data[bb + i];
      ur += wk * data[br2 + i];
      ug += wk * data[bg2 + i];
      ub += wk * data[bb2 + i];
    }
    ring[dst + ox] = vr;
    ring[dst + S + ox] = vg;
    ring[dst + 2 * S + ox] = vb;
    ring[dst2 + ox] = ur;
    ring[dst2 + S + ox] = ug;
    ring[dst2 + 2 * S + ox] = ub;
  }
}

/** One mono8 row: filtered once, replicated to the three planes. */
function horizontalMono(data: Uint8Array, base: number, xt: AxisTable, ring: Float32Array, dst: number, S: number): void {
  const start = xt.start, w = xt.weights, T = xt.taps;
  for (let ox = 0, k0 = 0; ox < S; ox++, k0 += T) {
    let i = base + start[ox];
    let v = 0;
    for (let k = k0, k1 = k0 + T; k < k1; k++, i++) v += w[k] * data[i];
    ring[dst + ox] = v;
    ring[dst + S + ox] = v;
    ring[dst + 2 * S + ox] = v;
  }
}

/**
 * One output row: Σ_k w[w0 + k] · ring[rows[k] + j] over the [3, S] row, normalised per channel.
 * Up to eight taps (every downscale up to ~3.5×: 480 rows → 224 is 5, 720 → 224 is 8) it is one
 * sweep with the sum in registers; an accumulator row costs a store and a load per element, as
 * much as four more taps. Wider windows go four taps per sweep through a Float64 accumulator.
 */
function vertical(ring: Float32Array, rows: Int32Array, w: Float32Array, w0: number, T: number, acc: Float64Array, row: Float32Array, S: number, scale: Float32Array, shift: Float32Array): void {
  switch (T) {
    case 1: {
      const wa = w[w0 + 0], ra = rows[0];
      for (let c = 0; c < 3; c++) {
        const sc = scale[c], sh = shift[c];
        for (let j = c * S, e = j + S; j < e; j++) row[j] = (wa * ring[ra + j]) * sc + sh;
      }
      return;
    }
    case 2: {
      const wa = w[w0 + 0], ra = rows[0], wb = w[w0 + 1], rb = rows[1];
      for (let c = 0; c < 3; c++) {
        const sc = scale[c], sh = shift[c];
        for (let j = c * S, e = j + S; j < e; j++) row[j] = (wa * ring[ra + j] + wb * ring[rb + j]) * sc + sh;
      }
      return;
    }
    case 3: {
      const wa = w[w0 + 0], ra = rows[0], wb = w[w0 + 1], rb = rows[1], wc = w[w0 + 2], rc = rows[2];
      for (let c = 0; c < 3; c++) {
        const sc = scale[c], sh = shift[c];
        for (let j = c * S, e = j + S; j < e; j++) row[j] = (wa * ring[ra + j] + wb * ring[rb + j] + wc * ring[rc + j]) * sc + sh;
      }
      return;
    }
    case 4: {
      const wa = w[w0 + 0], ra = rows[0], wb = w[w0 + 1], rb = rows[1], wc = w[w0 + 2], rc = rows[2], wd = w[w0 + 3], rd = rows[3];
      for (let c = 0; c < 3; c++) {
        const sc = scale[c], sh = shift[c];
        for (let j = c * S, e = j + S; j < e; j++) row[j] = (wa * ring[ra + j] + wb * ring[rb + j] + wc * ring[rc + j] + wd * ring[rd + j]) * sc + sh;
      }
      return;
    }
    case 5: {
      const wa = w[w0 + 0], ra = rows[0], wb = w[w0 + 1], rb = rows[1], wc = w[w0 + 2], rc = rows[2], wd = w[w0 + 3], rd = rows[3], we = w[w0 + 4], re = rows[4];
      for (let c = 0; c < 3; c++) {
        const sc = scale[c], sh = shift[c];
        for (let j = c * S, e = j + S; j < e; j++) row[j] = (wa * ring[ra + j] + wb * ring[rb + j] + wc * ring[rc + j] + wd * ring[rd + j] + we * ring[re + j]) * sc + sh;
      }
      return;
    }
    case 6: {
      const wa = w[w0 + 0], ra = rows[0], wb = w[w0 + 1], rb = rows[1], wc = w[w0 + 2], rc = rows[2], wd = w[w0 + 3], rd = rows[3], we = w[w0 + 4], re = rows[4], wf = w[w0 + 5], rf = rows[5];
      for (let c = 0; c < 3; c++) {
        const sc = scale[c], sh = shift[c];
        for (let j = c * S, e = j + S; j < e; j++) row[j] = (wa * ring[ra + j] + wb * ring[rb + j] + wc * ring[rc + j] + wd * ring[rd + j] + we * ring[re + j] + wf * ring[rf + j]) * sc + sh;
      }
      return;
    }
    case 7: {
      const wa = w[w0 + 0], ra = rows[0], wb = w[w0 + 1], rb = rows[1], wc = w[w0 + 2], rc = rows[2], wd = w[w0 + 3], rd = rows[3], we = w[w0 + 4], re = rows[4], wf = w[w0 + 5], rf = rows[5], wg = w[w0 + 6], rg = rows[6];
      for (let c = 0; c < 3; c++) {
        const sc = scale[c], sh = shift[c];
        for (let j = c * S, e = j + S; j < e; j++) row[j] = (wa * ring[ra + j] + wb * ring[rb + j] + wc * ring[rc + j] + wd * ring[rd + j] + we * ring[re + j] + wf * ring[rf + j] + wg * ring[rg + j]) * sc + sh;
      }
      return;
    }
    case 8: {
      const wa = w[w0 + 0], ra = rows[0], wb = w[w0 + 1], rb = rows[1], wc = w[w0 + 2], rc = rows[2], wd = w[w0 + 3], rd = rows[3], we = w[w0 + 4], re = rows[4], wf = w[w0 + 5], rf = rows[5], wg = w[w0 + 6], rg = rows[6], wh = w[w0 + 7], rh = rows[7];
      for (let c = 0; c < 3; c++) {
        const sc = scale[c], sh = shift[c];
        for (let j = c * S, e = j + S; j < e; j++) row[j] = (wa * ring[ra + j] + wb * ring[rb + j] + wc * ring[rc + j] + wd * ring[rd + j] + we * ring[re + j] + wf * ring[rf + j] + wg * ring[rg + j] + wh * ring[rh + j]) * sc + sh;
      }
      return;
    }
  }
  const n = 3 * S;
  const last = ((T - 1) & 3) + 1;
  for (let k = 0; k < T - last; k += 4) {
    const wa = w[w0 + k], wb = w[w0 + k + 1], wc = w[w0 + k + 2], wd = w[w0 + k + 3];
    const ra = rows[k], rb = rows[k + 1], rc = rows[k + 2], rd = rows[k + 3];
    if (k === 0) for (let j = 0; j < n; j++) acc[j] = wa * ring[ra + j] + wb * ring[rb + j] + wc * ring[rc + j] + wd * ring[rd + j];
    else for (let j = 0; j < n; j++) acc[j] += wa * ring[ra + j] + wb * ring[rb + j] + wc * ring[rc + j] + wd * ring[rd + j];
  }
  const k = T - last;
  const wa = w[w0 + k], ra = rows[k];
  for (let c = 0; c < 3; c++) {
    const sc = scale[c], sh = shift[c], e = (c + 1) * S;
    if (last === 1) {
      for (let j = c * S; j < e; j++) row[j] = (acc[j] + wa * ring[ra + j]) * sc + sh;
    } else if (last === 2) {
      const wb = w[w0 + k + 1], rb = rows[k + 1];
      for (let j = c * S; j < e; j++) row[j] = (acc[j] + wa * ring[ra + j] + wb * ring[rb + j]) * sc + sh;
    } else if (last === 3) {
      const wb = w[w0 + k + 1], rb = rows[k + 1], wc = w[w0 + k + 2], rc = rows[k + 2];
      for (let j = c * S; j < e; j++) row[j] = (acc[j] + wa * ring[ra + j] + wb * ring[rb + j] + wc * ring[rc + j]) * sc + sh;
    } else {
      const wb = w[w0 + k + 1], rb = rows[k + 1], wc = w[w0 + k + 2], rc = rows[k + 2], wd = w[w0 + k + 3], rd = rows[k + 3];
      for (let j = c * S; j < e; j++) row[j] = (acc[j] + wa * ring[ra + j] + wb * ring[rb + j] + wc * ring[rc + j] + wd * ring[rd + j]) * sc + sh;
    }
  }
}

/** One [3, S] model-image row → its place in every patch it crosses (p contiguous values per patch and channel). */
function toPatches(row: Float32Array, S: number, p: number, out: Float32Array, rowOff: number): void {
  const g = S / p, pp = p * p, dim = 3 * pp;
  for (let c = 0; c < 3; c++) {
    for (let gx = 0, j = c * S, o = rowOff + c * pp; gx < g; gx++, o += dim) {
      for (let x = 0; x < p; x++, j++) out[o + x] = row[j];
    }
  }
}

/** Rows 2y (a) and 2y + 1 (b) of the model image → row y of the S/2 image averaged 2×2, into its patch layout. */
function coarseRow(a: Float32Array, b: Float32Array, S: number, p: number, out: Float32Array, rowOff: number): void {
  const H = S / 2, g = H / p, pp = p * p, dim = 3 * pp;
  for (let c = 0; c < 3; c++) {
    for (let gx = 0, j = c * S, o = rowOff + c * pp; gx < g; gx++, o += dim) {
      for (let x = 0; x < p; x++, j += 2) out[o + x] = 0.25 * (a[j] + a[j + 1] + b[j] + b[j + 1]);
    }
  }
}

/** [3, side, side] planes → [(side/p)², 3p²], patch-major row by row, each patch (c, y, x). */
export function patchify(planes: Float32Array, side: number, p: number, out: Float32Array): void {
  const g = side / p;
  const dim = 3 * p * p;
  const plane = side * side;
  for (let gy = 0; gy < g; gy++) {
    for (let gx = 0; gx < g; gx++) {
      let o = (gy * g + gx) * dim;
      for (let c = 0; c < 3; c++) {
        for (let y = 0; y < p; y++) {
          const src = c * plane + (gy * p + y) * side + gx * p;
          for (let x = 0; x < p; x++) out[o++] = planes[src + x];
        }
      }
    }
  }
}
