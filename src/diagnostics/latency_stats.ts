import hdr from "hdr-histogram-js";
import { InvalidInputError } from "../errors.js";

export interface LatencyStatsOptions {
  /**
   * Report only the samples of the last `windowMs` milliseconds (what a /diagnostics tick
   * should show: "the last ~10 s"). Omitted: every sample since construction (a bench run).
   */
  windowMs?: number;
  /**
   * The window is a ring of this many histograms, each covering windowMs / slices; the oldest
   * is dropped whole, so a report covers between (slices − 1) / slices of the window and all of
   * it. Default 10 (a 10 s window reports the last 9–10 s).
   */
  slices?: number;
  /** Clock of the window in ms (default performance.now); tests and simulated time inject their own. */
  now?: () => number;
  /**
   * HdrHistogram significant digits, 1..5 (default 3): a percentile is within 10^-digits of
   * the exact nearest-rank sample (3 → 0.1%), and within 1 µs for samples under 1 ms.
   */
  significantDigits?: number;
  /** Largest sample recorded, in ms (default 3,600,000 = 1 h); larger ones are counted in `rejected`. */
  highestTrackableMs?: number;
}

export interface LatencySummary {
  p50: number;
  p90: number;
  p99: number;
  mean: number;
  max: number;
  /** Samples the summary covers: the window's, or every accepted sample without a window. */
  n: number;
}

type Histogram = ReturnType<typeof hdr.build>;

/** Samples are recorded as integer microseconds: HdrHistogram counts integers. */
const US_PER_MS = 1000;

/** One slice of the ring: a histogram plus the exact count, sum, min and max it holds. */
class Slice {
  n = 0;
  sum = 0;
  min = Infinity;
  max = -Infinity;
  constructor(readonly histogram: Histogram) {}

  clear(): void {
    if (this.n > 0) this.histogram.reset();
    this.n = 0;
    this.sum = 0;
    this.min = Infinity;
    this.max = -Infinity;
  }
}

/**
 * Latency statistics in constant memory and constant time per report: HdrHistogram (plain JS,
 * fixed range, no resizing) over integer microseconds. Without `windowMs` it covers every
 * sample; with it, only the recent window (a ring of `slices` histograms rotated by the clock,
 * plus one running sum of the ring that the oldest slice is subtracted from when it expires).
 * Count, sum, min and max are exact, so `mean()` and the reported max are exact; percentiles
 * are within the histogram's precision (see `significantDigits`) and clamped to [min, max].
 * Non-finite, negative and out-of-range samples are counted in `rejected` and never recorded.
 */
export class LatencyStats {
  private readonly slices: Slice[];
  /** The sum of every slice's histogram (the slice itself when there is no window). */
  private readonly window: Histogram;
  private readonly windowMs: number;
  private readonly sliceMs: number;
  private readonly now: () => number;
  private readonly highestUs: number;
  private current = 0;
  private sliceStart: number;
  private accepted = 0;
  private rejectedCount = 0;

  constructor(options: LatencyStatsOptions = {}) {
    const digits = options.significantDigits ?? 3;
    if (!Number.isInteger(digits) || digits < 1 || digits > 5) {
      throw new InvalidInputError("bad_argument", `LatencyStats: significantDigits must be an integer 1..5, got ${digits}`);
    }
    const highestMs = options.highestTrackableMs ?? 3_600_000;
    if (!Number.isFinite(highestMs) || highestMs < 1 || highestMs > 1e9) {
      throw new InvalidInputError("bad_argument", `LatencyStats: highestTrackableMs must be within 1..1e9 ms, got ${highestMs}`);
    }
    const windowed = options.windowMs !== undefined;
    const windowMs = options.windowMs ?? Infinity;
    if (windowed && !(Number.isFinite(windowMs) && windowMs > 0)) {
      throw new InvalidInputError("bad_argument", `LatencyStats: windowMs must be a finite duration > 0 ms, got ${options.windowMs}`);
    }
    const count = windowed ? (options.slices ?? 10) : 1;
    if (!Number.isInteger(count) || count < 1 || count > 100) {
      throw new InvalidInputError("bad_argument", `LatencyStats: slices must be an integer 1..100, got ${options.slices}`);
    }
    this.highestUs = Math.round(highestMs * US_PER_MS);
    // A lifetime histogram may pass 2^32 counts in one bucket; a window's slices never will.
    const make = (bits: 32 | 64): Histogram => hdr.build({
      bitBucketSize: bits,
      autoResize: false,
      lowestDiscernibleValue: 1,
      highestTrackableValue: this.highestUs,
      numberOfSignificantValueDigits: digits as 1 | 2 | 3 | 4 | 5,
      useWebAssembly: false,
    });
    this.slices = Array.from({ length: count }, () => new Slice(make(windowed ? 32 : 64)));
    this.window = windowed ? make(32) : this.slices[0].histogram;
    this.windowMs = windowMs;
    this.sliceMs = windowMs / count;
    this.now = options.now ?? (() => performance.now());
    this.sliceStart = windowed ? this.now() : 0;
  }

  /** Records one duration in ms; a non-finite, negative or out-of-range one is only counted. */
  add(ms: number): void {
    if (typeof ms !== "number" || !(ms >= 0) || ms === Infinity) {
      this.rejectedCount++;
      return;
    }
    const us = Math.round(ms * US_PER_MS);
    if (us > this.highestUs) {
      this.rejectedCount++;
      return;
    }
    this.rotate();
    const s = this.slices[this.current];
    s.histogram.recordValue(us);
    if (this.window !== s.histogram) this.window.recordValue(us);
    s.n++;
    s.sum += ms;
    if (ms < s.min) s.min = ms;
    if (ms > s.max) s.max = ms;
    this.accepted++;
  }

  /** Accepted samples since construction (the window's count is `summary().n`). */
  get count(): number {
    return this.accepted;
  }

  /** Samples refused since construction: non-finite, negative or above highestTrackableMs. */
  get rejected(): number {
    return this.rejectedCount;
  }

  /** The reported window in ms (Infinity: every sample). */
  get windowDurationMs(): number {
    return this.windowMs;
  }

  /** Bytes held by the histograms: fixed at construction, whatever is recorded. */
  get footprintBytes(): number {
    let bytes = this.window === this.slices[0].histogram ? 0 : this.window.estimatedFootprintInBytes;
    for (const s of this.slices) bytes += s.histogram.estimatedFootprintInBytes;
    return bytes;
  }

  /** Nearest-rank percentile of the window, q in 0..100 (clamped); NaN when it is empty. */
  percentile(q: number): number {
    this.rotate();
    const n = this.windowCount();
    if (n === 0 || Number.isNaN(q)) return NaN;
    return this.percentileOf(Math.min(100, Math.max(0, q)));
  }

  /** Exact mean of the window; NaN when it is empty. */
  mean(): number {
    this.rotate();
    let n = 0, sum = 0;
    for (const s of this.slices) {
      n += s.n;
      sum += s.sum;
    }
    return n === 0 ? NaN : sum / n;
  }

  summary(): LatencySummary {
    this.rotate();
    const round = (x: number) => Math.round(x * 1000) / 1000;
    const n = this.windowCount();
    if (n === 0) return { p50: NaN, p90: NaN, p99: NaN, mean: NaN, max: NaN, n: 0 };
    let sum = 0;
    for (const s of this.slices) sum += s.sum;
    return {
      p50: round(this.percentileOf(50)),
      p90: round(this.percentileOf(90)),
      p99: round(this.percentileOf(99)),
      mean: round(sum / n),
      max: round(this.windowMax()),
      n,
    };
  }

  private windowCount(): number {
    let n = 0;
    for (const s of this.slices) n += s.n;
    return n;
  }

  private windowMax(): number {
    let max = -Infinity;
    for (const s of this.slices) if (s.max > max) max = s.max;
    return max;
  }

  private windowMin(): number {
    let min = Infinity;
    for (const s of this.slices) if (s.min < min) min = s.min;
    return min;
  }

  /** The histogram's value reports a bucket's edge; the exact extremes bound it. */
  private percentileOf(q: number): number {
    const v = this.window.getValueAtPercentile(q) / US_PER_MS;
    return Math.min(this.windowMax(), Math.max(this.windowMin(), v));
  }

  /**
   * Moves the ring to the current time: every slice that ended is cleared (its counts leave the
   * window), at most the whole ring however long the clock was idle. A clock that goes back
   * moves nothing.
   */
  private rotate(): void {
    if (this.windowMs === Infinity) return;
    const now = this.now();
    if (!(now - this.sliceStart >= this.sliceMs)) return;
    const elapsed = Math.floor((now - this.sliceStart) / this.sliceMs);
    const steps = Math.min(elapsed, this.slices.length);
    for (let i = 0; i < steps; i++) {
      this.current = (this.current + 1) % this.slices.length;
      const s = this.slices[this.current];
      if (s.n > 0) {
        if (s.histogram !== this.window) this.window.subtract(s.histogram);
        s.clear();
      }
    }
    // Past a whole ring the window is empty: restart the slices at the current time.
    this.sliceStart = elapsed >= this.slices.length ? now : this.sliceStart + elapsed * this.sliceMs;
  }
}
