import { backboneSizes, type BackboneConfig } from "../../src/backbone/config.js";
import { validateCameraImage, type PixelLayout } from "../../src/backbone/image_preprocess.js";
import type { ImageLike } from "../../src/scene/image.js";

/**
 * The straightforward preprocessor, kept verbatim from before the fast path (commit e10e34c's
 * src/backbone/image_preprocess.ts) as the oracle for it: vertical-then-horizontal Pillow
 * BILINEAR resampling into [3, S, S] planes, then a separate patchify pass, then the coarse
 * 2×2 average into its own planes and a second patchify. Slow but obviously right; the tests
 * compare the fast path against it and the benchmark times both.
 */

interface AxisTable {
  inSize: number;
  start: Int32Array;
  count: Int32Array;
  weights: Float32Array;
  kmax: number;
}

function axisTable(inSize: number, outSize: number): AxisTable {
  const scale = inSize / outSize;
  const filterScale = Math.max(scale, 1);
  const support = filterScale;
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

export class OraclePreprocessor {
  readonly config: BackboneConfig;
  readonly patches: Float32Array;
  readonly coarsePatches: Float32Array;
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
    this.scale = new Float32Array(config.image_std.map((sd) => 1 / (255 * sd)));
    this.shift = new Float32Array(config.image_mean.map((m, c) => -m / config.image_std[c]));
  }

  process(img: ImageLike): void {
    const layout = validateCameraImage(img);
    this.resize(img, layout);
    const S = this.config.image_size;
    const p = this.config.patch_size;
    oraclePatchify(this.image, S, p, this.patches);
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
      oraclePatchify(half, H, p, this.coarsePatches);
    }
  }

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

function oraclePatchify(planes: Float32Array, side: number, p: number, out: Float32Array): void {
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
