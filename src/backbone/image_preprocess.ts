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
 * image or patchify pass per frame (test/backbone/vision/preprocess_oracle.ts is that simpler
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
 * packed: output o reads input samples start[o] .. start[o] + (off[o+1] − off[o]) − 1 with
 * weights[off[o] ..]. Zero weights at either end of a window are dropped (adding 0·v changes
 * nothing), so scale 1 is one tap per output instead of two.
 */
interface AxisTable {
  inSize: number;
  start: Int32Array;
  /** [out + 1]: where each output's weights begin in `weights`. */
  off: Int32Array;
  weights: Float32Array;
  /** Most taps of any output: the ring of horizontally filtered rows holds this many. */
  maxTaps: number;
}

function axisTable(inSize: number, outSize: number): AxisTable {
  const scale = inSize / outSize;
  const filterScale = Math.max(scale, 1);
  const support = filterScale; // triangle filter support 1, widened when downscaling
  const kmax = Math.ceil(support) * 2 + 1;
  const start = new Int32Array(outSize);
  const off = new Int32Array(outSize + 1);
  const weights = new Float32Array(outSize * kmax);
  const raw = new Float32Array(kmax);
  const ss = 1 / filterScale;
  let used = 0, maxTaps = 1;
  for (let o = 0; o < outSize; o++) {
    const center = (o + 0.5) * scale;
    const lo = Math.max(Math.trunc(center - support + 0.5), 0);
    const hi = Math.min(Math.trunc(center + support + 0.5), inSize);
    let total = 0;
    const n = hi - lo;
    // Rounded to float32 before normalising, as the reference implementation stores them.
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
    start[o] = lo + a;
    off[o] = used;
    for (let k = a; k < b; k++) weights[used++] = raw[k];
    if (b - a > maxTaps) maxTaps = b - a;
  }
  off[outSize] = used;
  return { inSize, start, off, weights, maxTaps };
}

/** Offsets into [P, 3p²] of model-image row y (without x) and column x (without y), channel 0. */
function patchOffsets(side: number, p: number): { row: Int32Array; col: Int32Array } {
  const g = side / p, dim = 3 * p * p;
  const row = new Int32Array(side), col = new Int32Array(side);
  for (let i = 0; i < side; i++) {
    row[i] = Math.floor(i / p) * g * dim + (i % p) * p;
    col[i] = Math.floor(i / p) * dim + (i % p);
  }
  return { row, col };
}

export class ImagePreprocessor {
  readonly config: BackboneConfig;
  /** [P, 3p²]: the fine patches of the last processed image. */
  readonly patches: Float32Array;
  /** [(G/2)², 3p²]: the coarse patches (empty when the model has no coarse_to_fine). */
  readonly coarsePatches: Float32Array;
  /** [3, S, S], filled from `patches` only when modelImage() is asked for. */
  private readonly image: Float32Array;
  private readonly scale: Float32Array;
  private readonly shift: Float32Array;
  private readonly fineRow: Int32Array;
  private readonly fineCol: Int32Array;
  private readonly coarseRow: Int32Array;
  private readonly coarseCol: Int32Array;
  private xTable: AxisTable | null = null;
  private yTable: AxisTable | null = null;
  /** maxTaps(y) horizontally filtered input rows, each [3, S] planar; slot = input row % maxTaps. */
  private ring = new Float32Array(0);
  /** Input row held by each ring slot (−1: none), reset every frame. */
  private ringRow = new Int32Array(0);
  /** Ring offsets of the current output row's taps. */
  private tapRows = new Int32Array(0);

  constructor(config: BackboneConfig) {
    this.config = config;
    const s = backboneSizes(config);
    const S = config.image_size, p = config.patch_size;
    this.patches = new Float32Array(s.patches * s.patchDim);
    this.coarsePatches = new Float32Array(s.coarsePatches * s.patchDim);
    this.image = new Float32Array(3 * S * S);
    // (v/255 − mean)/std = v·scale + shift, folded once.
    this.scale = new Float32Array(config.image_std.map((sd) => 1 / (255 * sd)));
    this.shift = new Float32Array(config.image_mean.map((m, c) => -m / config.image_std[c]));
    const fine = patchOffsets(S, p);
    this.fineRow = fine.row;
    this.fineCol = fine.col;
    const coarse = config.coarse_to_fine ? patchOffsets(S / 2, p) : { row: new Int32Array(0), col: new Int32Array(0) };
    this.coarseRow = coarse.row;
    this.coarseCol = coarse.col;
  }

  /** Validates and converts one camera image; fills `patches` (and `coarsePatches` when the model has the coarse scale). */
  process(img: ImageLike): void {
    const layout = validateCameraImage(img);
    this.resize(img, layout);
    if (this.config.coarse_to_fine) this.coarse();
  }

  /** The normalised model-size image [3, S, S] of the last processed frame (a view, overwritten next call). */
  modelImage(): Float32Array {
    const S = this.config.image_size, pp = this.config.patch_size ** 2;
    const out = this.image, src = this.patches, rowOff = this.fineRow, colOff = this.fineCol;
    for (let c = 0; c < 3; c++) {
      for (let y = 0; y < S; y++) {
        const o = (c * S + y) * S, r = rowOff[y] + c * pp;
        for (let x = 0; x < S; x++) out[o + x] = src[r + colOff[x]];
      }
    }
    return out;
  }

  private tables(width: number, height: number): void {
    const S = this.config.image_size;
    if (this.xTable?.inSize !== width) this.xTable = axisTable(width, S);
    if (this.yTable?.inSize !== height) {
      this.yTable = axisTable(height, S);
      const R = this.yTable.maxTaps;
      this.ring = new Float32Array(R * 3 * S);
      this.ringRow = new Int32Array(R);
      this.tapRows = new Int32Array(R);
    }
  }

  /**
   * Horizontal pass per input row into a small ring (each row filtered once, then reused by
   * every output row whose window covers it), vertical pass per output row written straight
   * into the patch layout with the normalisation applied there.
   */
  private resize(img: ImageLike, layout: PixelLayout): void {
    const { width, height, step, data } = img;
    this.tables(width, height);
    const xt = this.xTable as AxisTable, yt = this.yTable as AxisTable;
    const S = this.config.image_size, pp = this.config.patch_size ** 2;
    const ring = this.ring, ringRow = this.ringRow, tapRows = this.tapRows;
    const R = ringRow.length, rowLen = 3 * S;
    ringRow.fill(-1);
    const yw = yt.weights, yoff = yt.off, ystart = yt.start;
    const out = this.patches, fineRow = this.fineRow, fineCol = this.fineCol;
    const mono = layout.bpp === 1;
    for (let oy = 0; oy < S; oy++) {
      const y0 = ystart[oy], w0 = yoff[oy], ny = yoff[oy + 1] - w0;
      for (let k = 0; k < ny; k++) {
        const y = y0 + k, slot = y % R, dst = slot * rowLen;
        if (ringRow[slot] !== y) {
          if (mono) horizontalMono(data, y * step, xt, ring, dst, S);
          else horizontalRgb(data, y * step, layout.bpp, layout.r, layout.g, layout.b, xt, ring, dst, S);
          ringRow[slot] = y;
        }
        tapRows[k] = dst;
      }
      const rowBase = fineRow[oy];
      for (let c = 0; c < 3; c++) {
        vertical(ring, tapRows, yw, w0, ny, c * S, S, this.scale[c], this.shift[c], out, rowBase + c * pp, fineCol);
      }
    }
  }

  /** 2×2 average of the model-size image, read from and written to patch layouts. */
  private coarse(): void {
    const H = this.config.image_size / 2, pp = this.config.patch_size ** 2;
    const src = this.patches, out = this.coarsePatches;
    const fineRow = this.fineRow, fineCol = this.fineCol, coarseRow = this.coarseRow, coarseCol = this.coarseCol;
    for (let c = 0; c < 3; c++) {
      const cOff = c * pp;
      for (let y = 0; y < H; y++) {
        const r0 = fineRow[2 * y] + cOff, r1 = fineRow[2 * y + 1] + cOff, d = coarseRow[y] + cOff;
        for (let x = 0; x < H; x++) {
          const a = fineCol[2 * x], b = fineCol[2 * x + 1];
          out[d + coarseCol[x]] = 0.25 * (src[r0 + a] + src[r0 + b] + src[r1 + a] + src[r1 + b]);
        }
      }
    }
  }
}

/** One input row of a 3- or 4-byte encoding → [3, S] planes of ring at dst (unnormalised). */
function horizontalRgb(data: Uint8Array, base: number, bpp: number, r: number, g: number, b: number, xt: AxisTable, ring: Float32Array, dst: number, S: number): void {
  const start = xt.start, off = xt.off, w = xt.weights;
  const dg = dst + S, db = dst + 2 * S;
  const br = base + r, bg = base + g, bb = base + b;
  for (let ox = 0; ox < S; ox++) {
    const k0 = off[ox], k1 = off[ox + 1];
    let i = start[ox] * bpp;
    let vr = 0, vg = 0, vb = 0;
    for (let k = k0; k < k1; k++, i += bpp) {
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

/** One mono8 row: filtered once, replicated to the three planes. */
function horizontalMono(data: Uint8Array, base: number, xt: AxisTable, ring: Float32Array, dst: number, S: number): void {
  const start = xt.start, off = xt.off, w = xt.weights;
  for (let ox = 0; ox < S; ox++) {
    const k0 = off[ox], k1 = off[ox + 1];
    let i = base + start[ox];
    let v = 0;
    for (let k = k0; k < k1; k++, i++) v += w[k] * data[i];
    ring[dst + ox] = v;
    ring[dst + S + ox] = v;
    ring[dst + 2 * S + ox] = v;
  }
}

/** One output row of one channel: taps over ring rows, normalised, into the patch layout. */
function vertical(ring: Float32Array, tapRows: Int32Array, w: Float32Array, w0: number, ny: number, plane: number, S: number, scale: number, shift: number, out: Float32Array, outBase: number, col: Int32Array): void {
  for (let ox = 0; ox < S; ox++) {
    const j = plane + ox;
    let v = 0;
    for (let k = 0; k < ny; k++) v += w[w0 + k] * ring[tapRows[k] + j];
    out[outBase + col[ox]] = v * scale + shift;
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
