import { InvalidInputError } from "../errors.js";

/**
 * Ranks from 1, tied values sharing the mean of the ranks they span (scipy's "average"), so a
 * tie never orders two frames the truth does not order.
 */
function averageRanks(xs: readonly number[]): Float64Array {
  const n = xs.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((i, j) => xs[i] - xs[j]);
  const ranks = new Float64Array(n);
  for (let start = 0; start < n; ) {
    let end = start + 1;
    while (end < n && xs[order[end]] === xs[order[start]]) end++;
    // Positions start..end-1 hold ranks start+1..end; their mean is (start + 1 + end) / 2.
    const rank = (start + 1 + end) / 2;
    for (let k = start; k < end; k++) ranks[order[k]] = rank;
    start = end;
  }
  return ranks;
}

function check(xs: readonly number[], side: string): void {
  if (!Array.isArray(xs)) throw new InvalidInputError("bad_argument", `spearman: ${side} must be an array of numbers`);
  for (let i = 0; i < xs.length; i++) {
    const x: unknown = xs[i];
    if (typeof x !== "number" || !Number.isFinite(x)) {
      throw new InvalidInputError("bad_argument", `spearman: ${side}[${i}] is ${typeof x === "number" ? String(x) : typeof x}, not a finite number`);
    }
  }
}

/**
 * Spearman's rank correlation rho: Pearson's correlation of the two sides' average ranks, so ties
 * are handled as scipy.stats.spearmanr does. 0 when either side is constant (fewer than two
 * values included): no order to agree with, rather than scipy's NaN, which would poison a mean.
 * Throws InvalidInputError("bad_argument") on a length mismatch or a non-finite value.
 */
export function spearman(a: readonly number[], b: readonly number[]): number {
  check(a, "a");
  check(b, "b");
  if (a.length !== b.length) throw new InvalidInputError("bad_argument", `spearman: lengths differ (${a.length} vs ${b.length})`);
  const n = a.length;
  if (n < 2) return 0;
  const ra = averageRanks(a);
  const rb = averageRanks(b);
  // Average ranks always sum to n(n+1)/2, so both means are (n + 1) / 2.
  const m = (n + 1) / 2;
  let sab = 0;
  let saa = 0;
  let sbb = 0;
  for (let i = 0; i < n; i++) {
    const da = ra[i] - m;
    const db = rb[i] - m;
    sab += da * db;
    saa += da * da;
    sbb += db * db;
  }
  if (saa === 0 || sbb === 0) return 0;
  // Rounding can carry |rho| a hair past 1 for identical orders.
  return Math.max(-1, Math.min(1, sab / Math.sqrt(saa * sbb)));
}
