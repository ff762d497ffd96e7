/**
 * In-place selection (Hoare's quickselect) over the first `n` entries of a scratch array:
 * O(n) average, no allocation. The array's order is scrambled; pass a copy you own.
 */
export function selectKth(a: Float32Array | Float64Array, n: number, k: number): number {
  let lo = 0;
  let hi = n - 1;
  while (lo < hi) {
    const pivot = a[(lo + hi) >> 1];
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (a[i] < pivot) i++;
      while (a[j] > pivot) j--;
      if (i <= j) {
        const t = a[i];
        a[i] = a[j];
        a[j] = t;
        i++;
        j--;
      }
    }
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else return a[k];
  }
  return a[k];
}

/** The q-quantile (0..1, nearest rank) of the first n entries; scrambles the array. */
export function quantileInPlace(a: Float32Array | Float64Array, n: number, q: number): number {
  if (n <= 0) return NaN;
  const k = Math.min(n - 1, Math.max(0, Math.round(q * (n - 1))));
  return selectKth(a, n, k);
}
