import { selectKth } from "../../src/geometry/quantile.js";

/**
 * What the backbone benchmarks share: the median they report and how they read `--name value`
 * arguments. (A percentile other than the median is `quantileInPlace` in src/geometry/quantile.ts.)
 */

/** The median of `xs` (the mean of the two middle values for an even count; NaN for none). */
export function median(xs: readonly number[]): number {
  const n = xs.length;
  if (n === 0) return NaN;
  const a = Float64Array.from(xs);
  const m = n >> 1;
  // selectKth finds the k-th smallest in any order, so the second call may reuse the scrambled copy.
  return n % 2 ? selectKth(a, n, m) : (selectKth(a, n, m - 1) + selectKth(a, n, m)) / 2;
}

/** The value after `--name` on the command line, if there is one. */
export function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : undefined;
}
