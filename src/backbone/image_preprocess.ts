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
 * Buffers are owned by the preprocessor: the outputs and the model-size image are allocated at
 * construction; the resampling tables and one row accumulator depend on the input size and are
 * rebuilt only when a camera's size changes, never per frame.
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

/** Pillow's separable resampling coefficients for one axis (precompute_coeffs, bilinear filter). */
interface AxisTable {
  inSize: number;
  /** First input index of each output sample. */
  start: Int32Array;
  count: Int32Array;
  /** [out, kmax] normalised weights. */
  weights: Float32Array;
  kmax: number;
}

function axisTable(inSize: number, outSize: number): AxisTable {
  const scale = inSize / outSize;
  const filterScale = Math.max(scale, 1);
  const support = filterScale; // triangle filter support 1, widened when downscaling
  const kmax = Math.ceil(support) * 2 + 1;
  const start = new Int32Array(outSize);
  const count = new Int32Array(outSize);
  const weights = new Float32Array(outSize * kmax);
  const ss = 1 / filterScale;
  for (let o = 0; o < outSize; o++) {
    const center = (o + 0.5) * scale;
    const lo = Math.max(Math.trunc(center - support + 0.5), 0);
    const hi = Math.min(Math.trunc(center + support + 0.5), inSize);
    let total = 0;
    const n = hi - lo;
    for (let k = 0; k < n; k++) {
      const t = Math.abs((k + lo - center + 0.5) * ss);
      const w = t < 1 ? 1 - t : 0;
      weights[o * kmax + k] = w;
      total += w;
    }
    if (total > 0) for (let k = 0; k < n; k++) weights[o * kmax + k] /= total;
    start[o] = lo;
    count[o] = n;
  }
  return { inSize, start, count, weights, kmax };
}

export class ImagePreprocessor {
  readonly config: BackboneConfig;
  /** [P, 3p²]: the fine patches of the last processed image. */
  readonly patches: Float32Array;
  /** [(G/2)², 3p²]: the coarse patches (empty when the model has no coarse_to_fine). */
  readonly coarsePatches: Float32Array;
  /** [3, S, S] normalised model-size image, channel planes. */
  private readonly image: Float32Array;
  private readonly half: Float32Array;
  private readonly scale: Float32Array;
  private readonly shift: Float32Array;
  private xTable: AxisTable | null = null;
  private yTable: AxisTable | null = null;
  private rowAcc = new Float32Array(0);

  constructor(config: BackboneConfig) {
    this.config = config;
    const s = backboneSizes(config);
    const S = config.image_size;
    this.patches = new Float32Array(s.patches * s.patchDim);
    this.coarsePatches = new Float32Array(s.coarsePatches * s.patchDim);
    this.image = new Float32Array(3 * S * S);
    this.half = config.coarse_to_fine ? new Float32Array(3 * (S / 2) * (S / 2)) : new Float32Array(0);
    // (v/255 − mean)/std = v·scale + shift, folded once.
    this.scale = new Float32Array(config.image_std.map((sd) => 1 / (255 * sd)));
    this.shift = new Float32Array(config.image_mean.map((m, c) => -m / config.image_std[c]));
  }

  /** Validates and converts one camera image; fills `patches` (and `coarsePatches` when the model has the coarse scale). */
  process(img: ImageLike): void {
    const layout = validateCameraImage(img);
    this.resize(img, layout);
    const S = this.config.image_size;
    const p = this.config.patch_size;
    patchify(this.image, S, p, this.patches);
    if (this.config.coarse_to_fine) {
      const H = S / 2;
      const img2 = this.image, half = this.half;
      for (let c = 0; c < 3; c++) {
        const src = c * S * S, dst = c * H * H;
        for (let y = 0; y < H; y++) {
          const r0 = src + 2 * y * S, r1 = r0 + S;
          for (let x = 0; x < H; x++) {
            const i = 2 * x;
            half[dst + y * H + x] = 0.25 * (img2[r0 + i] + img2[r0 + i + 1] + img2[r1 + i] + img2[r1 + i + 1]);
          }
        }
      }
      patchify(half, H, p, this.coarsePatches);
    }
  }

  /** The normalised model-size image [3, S, S] of the last processed frame (a view, overwritten next frame). */
  modelImage(): Float32Array {
    return this.image;
  }

  private resize(img: ImageLike, layout: PixelLayout): void {
    const S = this.config.image_size;
    const { width, height, step, data } = img;
    if (this.xTable?.inSize !== width) this.xTable = axisTable(width, S);
    if (this.yTable?.inSize !== height) this.yTable = axisTable(height, S);
    if (this.rowAcc.length < width * 3) this.rowAcc = new Float32Array(width * 3);
    const xt = this.xTable, yt = this.yTable, acc = this.rowAcc;
    const { bpp, r, g, b } = layout;
    const out = this.image;
    const plane = S * S;
    const sc0 = this.scale[0], sc1 = this.scale[1], sc2 = this.scale[2];
    const sh0 = this.shift[0], sh1 = this.shift[1], sh2 = this.shift[2];
    // Vertical pass first, one output row at a time, so the only input-sized buffer is one row.
    for (let oy = 0; oy < S; oy++) {
      acc.fill(0, 0, width * 3);
      const y0 = yt.start[oy], ny = yt.count[oy], wy = oy * yt.kmax;
      for (let k = 0; k < ny; k++) {
        const w = yt.weights[wy + k];
        if (w === 0) continue;
        let src = (y0 + k) * step;
        for (let x = 0, a = 0; x < width; x++, a += 3, src += bpp) {
          acc[a] += w * data[src + r];
          acc[a + 1] += w * data[src + g];
          acc[a + 2] += w * data[src + b];
        }
      }
      const row = oy * S;
      for (let ox = 0; ox < S; ox++) {
        const x0 = xt.start[ox], nx = xt.count[ox], wx = ox * xt.kmax;
        let vr = 0, vg = 0, vb = 0;
        for (let k = 0; k < nx; k++) {
          const w = xt.weights[wx + k];
          const a = (x0 + k) * 3;
          vr += w * acc[a];
          vg += w * acc[a + 1];
          vb += w * acc[a + 2];
        }
        out[row + ox] = vr * sc0 + sh0;
        out[plane + row + ox] = vg * sc1 + sh1;
        out[2 * plane + row + ox] = vb * sc2 + sh2;
      }
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
