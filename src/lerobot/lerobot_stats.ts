import { InvalidInputError } from "../errors.js";

/**
 * Per-episode feature statistics as LeRobot v2.1 writes them to meta/episodes_stats.jsonl
 * (lerobot/common/datasets/compute_stats.py, compute_episode_stats):
 * - numeric features: min, max, mean, std (population, numpy's default) over the episode's
 *   rows, one value per dimension; a feature of shape [1] keeps its dimension ([x]);
 *   count = [rows];
 * - image and video features: the same over a sample of frames (sample_indices), each frame
 *   downsampled to about 150 pixels on its long side when that side is ≥ 300
 *   (auto_downsample_height_width), per channel over frames and pixels, divided by 255,
 *   shaped [3][1][1]; count = [frames sampled].
 * Bool features give min/max as booleans and mean/std as fractions, as numpy does.
 * Sums are exact here (float64 over float32 values, integers for pixels); LeRobot sums float32
 * features in float32, so its mean and std may differ in the last float32 digit; values of
 * float32 features are rounded to float32 as LeRobot's are.
 */
export interface FeatureStats {
  min: unknown[];
  max: unknown[];
  mean: unknown[];
  std: unknown[];
  count: [number];
}

/** Stats of `values` (rows × dim, row-major); `float32` rounds mean and std as a float32 feature's are. */
export function numericStats(values: ArrayLike<number>, rows: number, dim: number, float32: boolean): FeatureStats {
  if (rows < 1 || values.length !== rows * dim) throw new InvalidInputError("bad_argument", `stats of ${rows} rows × ${dim} need ${rows * dim} values, got ${values.length}`);
  const r = float32 ? Math.fround : (x: number) => x;
  const min: number[] = [], max: number[] = [], mean: number[] = [], std: number[] = [];
  for (let c = 0; c < dim; c++) {
    let lo = Infinity, hi = -Infinity, sum = 0;
    for (let i = 0; i < rows; i++) {
      const v = values[i * dim + c];
      if (v < lo) lo = v;
      if (v > hi) hi = v;
      sum += v;
    }
    const m = sum / rows;
    let ss = 0;
    for (let i = 0; i < rows; i++) ss += (values[i * dim + c] - m) ** 2;
    min.push(lo);
    max.push(hi);
    mean.push(r(m));
    std.push(r(Math.sqrt(ss / rows)));
  }
  return { min, max, mean, std, count: [rows] };
}

/** Stats of a bool feature of shape [1]. */
export function boolStats(values: ArrayLike<number>): FeatureStats {
  const n = values.length;
  if (n < 1) throw new InvalidInputError("bad_argument", "stats of no rows");
  let ones = 0;
  for (let i = 0; i < n; i++) if (values[i]) ones++;
  const m = ones / n;
  return { min: [ones === n], max: [ones > 0], mean: [m], std: [Math.sqrt(m * (1 - m))], count: [n] };
}

/** LeRobot's estimate_num_samples with its defaults (min 100, max 10000, power 0.75). */
export function estimateNumSamples(n: number): number {
  const min = n < 100 ? n : 100;
  return Math.max(min, Math.min(Math.trunc(n ** 0.75), 10_000));
}

/** numpy's round: halves to even. */
function roundHalfEven(x: number): number {
  const f = Math.floor(x);
  const d = x - f;
  if (d < 0.5) return f;
  if (d > 0.5) return f + 1;
  return f % 2 === 0 ? f : f + 1;
}

/** LeRobot's sample_indices: np.round(np.linspace(0, n − 1, k)).astype(int) with k = estimateNumSamples(n). */
export function sampleIndices(n: number): number[] {
  const k = estimateNumSamples(n);
  if (k <= 0) return [];
  if (k === 1) return [0];
  // np.linspace: i * step with step = (stop − start) / (k − 1), the last one exactly stop.
  const step = (n - 1) / (k - 1);
  const out: number[] = [];
  for (let i = 0; i < k; i++) out.push(i === k - 1 ? n - 1 : roundHalfEven(i * step));
  return out;
}

/** The stride auto_downsample_height_width takes (target 150, threshold 300). */
export function downsampleFactor(width: number, height: number): number {
  if (Math.max(width, height) < 300) return 1;
  return Math.trunc(width > height ? width / 150 : height / 150);
}

/**
 * Image statistics accumulated frame by frame (the export streams frames): add() the frames
 * of the episode in order; those sampleIndices picks count, every `downsampleFactor`-th row and
 * column from 0, with exact integer sums per channel.
 */
export class ImageStatsAccumulator {
  private readonly picks: Map<number, number>;
  private readonly factor: number;
  private readonly min = [255, 255, 255];
  private readonly max = [0, 0, 0];
  private readonly sum = [0n, 0n, 0n];
  private readonly sumSq = [0n, 0n, 0n];
  private pixels = 0n;
  private sampled = 0;

  constructor(readonly frames: number, readonly width: number, readonly height: number) {
    this.picks = new Map();
    // A frame picked twice (not possible with LeRobot's rounding for n ≥ k, kept for safety) counts twice, as numpy's fancy indexing would.
    for (const i of sampleIndices(frames)) this.picks.set(i, (this.picks.get(i) ?? 0) + 1);
    this.factor = downsampleFactor(width, height);
  }

  /** Frame `index` of the episode, packed rgb8. */
  add(index: number, rgb: Uint8Array): void {
    const times = this.picks.get(index);
    if (times === undefined) return;
    const { width, height, factor } = this;
    if (rgb.length !== width * height * 3) throw new InvalidInputError("bad_image_size", `image stats: frame ${index} has ${rgb.length} bytes, ${width}x${height} rgb8 needs ${width * height * 3}`);
    const s = [0, 0, 0], q = [0, 0, 0];
    let px = 0;
    for (let v = 0; v < height; v += factor) {
      for (let u = 0; u < width; u += factor) {
        const o = (v * width + u) * 3;
        for (let c = 0; c < 3; c++) {
          const x = rgb[o + c];
          if (x < this.min[c]) this.min[c] = x;
          if (x > this.max[c]) this.max[c] = x;
          s[c] += x;
          q[c] += x * x;
        }
        px++;
      }
    }
    for (let c = 0; c < 3; c++) {
      this.sum[c] += BigInt(s[c]) * BigInt(times);
      this.sumSq[c] += BigInt(q[c]) * BigInt(times);
    }
    this.pixels += BigInt(px) * BigInt(times);
    this.sampled += times;
  }

  /** The feature's stats; every sampled frame must have been added. */
  stats(): FeatureStats {
    const expected = sampleIndices(this.frames).length;
    if (this.sampled !== expected) throw new InvalidInputError("bad_state", `image stats: ${this.sampled} of ${expected} sampled frames were added`);
    const cell = (x: number): number[][] => [[x]];
    const mean: number[][][] = [], std: number[][][] = [], min: number[][][] = [], max: number[][][] = [];
    const n = this.pixels;
    for (let c = 0; c < 3; c++) {
      // var = (n Σx² − (Σx)²) / n², exact in integers before the one division.
      const varNum = n * this.sumSq[c] - this.sum[c] * this.sum[c];
      mean.push(cell(Number(this.sum[c]) / Number(n) / 255));
      std.push(cell(Math.sqrt(Number(varNum) / Number(n * n)) / 255));
      min.push(cell(this.min[c] / 255));
      max.push(cell(this.max[c] / 255));
    }
    return { min, max, mean, std, count: [this.sampled] };
  }
}
