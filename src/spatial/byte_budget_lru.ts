/**
 * A least-recently-used map bounded both by entry count and by an estimate of the bytes its
 * entries hold. A count limit alone is not a memory limit: 512 distinct 16 MB questions are
 * 8 GB of keys. Callers say what an entry costs (`set`'s `bytes`); an entry larger than the
 * whole budget is not stored at all.
 *
 * Recency is tracked the "second chance" (CLOCK) way: a hit only marks its entry, and eviction
 * moves marked entries to the young end instead of dropping them. A hit costs a flag write
 * rather than a Map delete and re-insert (3x the lookup), which matters on the per-frame path.
 */
export class ByteBudgetLru<K, V> {
  // A Map iterates in insertion order: the first entry is the oldest not used since it was (re)queued.
  private readonly entries = new Map<K, { value: V; bytes: number; used: boolean }>();
  private totalBytes = 0;

  constructor(readonly maxEntries: number, readonly maxBytes: number) {
    if (!(Number.isInteger(maxEntries) && maxEntries > 0)) throw new RangeError(`maxEntries must be a positive integer, got ${maxEntries}`);
    if (!(Number.isFinite(maxBytes) && maxBytes > 0)) throw new RangeError(`maxBytes must be positive, got ${maxBytes}`);
  }

  get size(): number {
    return this.entries.size;
  }

  /** The summed `bytes` of the entries held; never above `maxBytes`. */
  get bytes(): number {
    return this.totalBytes;
  }

  get(key: K): V | undefined {
    const e = this.entries.get(key);
    if (e === undefined) return undefined;
    e.used = true;
    return e.value;
  }

  has(key: K): boolean {
    return this.entries.has(key);
  }

  set(key: K, value: V, bytes: number): void {
    this.delete(key);
    if (!(bytes >= 0) || bytes > this.maxBytes) return;
    while (this.entries.size >= this.maxEntries || this.totalBytes + bytes > this.maxBytes) {
      const oldest = this.entries.entries().next();
      if (oldest.done) break;
      const [k, e] = oldest.value;
      this.entries.delete(k);
      if (e.used) {
        // Used since it was queued: a second chance at the young end (each entry at most once per pass).
        e.used = false;
        this.entries.set(k, e);
      } else {
        this.totalBytes -= e.bytes;
      }
    }
    this.entries.set(key, { value, bytes, used: false });
    this.totalBytes += bytes;
  }

  delete(key: K): boolean {
    const e = this.entries.get(key);
    if (e === undefined) return false;
    this.entries.delete(key);
    this.totalBytes -= e.bytes;
    return true;
  }

  clear(): void {
    this.entries.clear();
    this.totalBytes = 0;
  }
}
