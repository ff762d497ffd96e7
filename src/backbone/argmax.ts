/** Index of the largest of x[offset .. offset + n): the first one on ties, as ONNX ArgMax (select_last_index 0). */
export function argmax(x: ArrayLike<number>, n: number, offset = 0): number {
  let best = 0;
  let v = x[offset];
  for (let i = 1; i < n; i++) {
    if (x[offset + i] > v) {
      v = x[offset + i];
      best = i;
    }
  }
  return best;
}

/** `argmax` of each row of `logits` [B, V]. */
export function argmaxRows(logits: Float32Array, B: number, V: number): BigInt64Array {
  const out = new BigInt64Array(B);
  for (let b = 0; b < B; b++) out[b] = BigInt(argmax(logits, V, b * V));
  return out;
}
