import { describe, expect, it } from "vitest";
import { PayloadPool } from "../../nodes/foxglove/payload_pool.js";

describe("PayloadPool", () => {
  it("reuses a buffer once its writes completed, never while one is in flight", () => {
    const pool = new PayloadPool(2);
    const a = pool.acquire(1000)!;
    const releaseA = pool.retain(new Uint8Array(a.buffer, 0, 10))!;
    // a is pinned: the next acquire gets another buffer.
    const b = pool.acquire(1000)!;
    expect(b.buffer).not.toBe(a.buffer);
    const releaseB1 = pool.retain(new Uint8Array(b.buffer))!;
    const releaseB2 = pool.retain(new Uint8Array(b.buffer))!;
    // Both pinned and the limit reached: no buffer.
    expect(pool.acquire(10)).toBeNull();
    releaseA();
    releaseA(); // a second call does nothing
    expect(pool.acquire(10)!.buffer).toBe(a.buffer);
    releaseB1();
    expect(pool.pinned()).toBe(1);
    releaseB2();
    expect(pool.pinned()).toBe(0);
    expect(pool.size).toBe(2);
  });

  it("steady frames of one size allocate nothing; a larger frame grows a free buffer; an encoder's own buffer is adopted", () => {
    const pool = new PayloadPool(4);
    const first = pool.acquire(921_600)!.buffer;
    for (let i = 0; i < 100; i++) {
      const lease = pool.acquire(921_600)!;
      expect(lease.buffer).toBe(first);
      const release = pool.retain(new Uint8Array(lease.buffer, 0, 921_600))!;
      release();
    }
    expect(pool.size).toBe(1);
    const bigger = pool.acquire(2_000_000)!;
    expect(bigger.buffer.byteLength).toBeGreaterThanOrEqual(2_000_000);
    const grown = new ArrayBuffer(3_000_000);
    bigger.adopt(grown);
    expect(pool.retain(new Uint8Array(grown))).not.toBeNull();
    expect(pool.retain(new Uint8Array(first))).toBeNull();
    expect(pool.retain(new Uint8Array(8))).toBeNull();
    expect(pool.bytes).toBe(3_000_000);
  });
});
