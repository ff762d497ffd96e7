/** Collects durations (ms) and reports percentiles; keeps every sample (runs are bounded). */
export class LatencyStats {
  private samples: number[] = [];

  add(ms: number): void {
    this.samples.push(ms);
  }

  get count(): number {
    return this.samples.length;
  }

  /** Nearest-rank percentile, q in 0..100; NaN when empty. */
  percentile(q: number): number {
    if (this.samples.length === 0) return NaN;
    const sorted = [...this.samples].sort((a, b) => a - b);
    const k = Math.min(sorted.length - 1, Math.max(0, Math.ceil((q / 100) * sorted.length) - 1));
    return sorted[k];
  }

  mean(): number {
    if (this.samples.length === 0) return NaN;
    return this.samples.reduce((a, b) => a + b, 0) / this.samples.length;
  }

  summary(): { p50: number; p90: number; p99: number; mean: number; max: number; n: number } {
    const round = (x: number) => Math.round(x * 1000) / 1000;
    return {
      p50: round(this.percentile(50)),
      p90: round(this.percentile(90)),
      p99: round(this.percentile(99)),
      mean: round(this.mean()),
      max: round(this.percentile(100)),
      n: this.samples.length,
    };
  }
}
