import { describe, expect, it } from "vitest";
import { MocapBacklog } from "../../nodes/mocap/mocap_backlog.js";

describe("MocapBacklog (collect --sim's camera hold)", () => {
  it("a frame the ingest never releases (rejected, given up) leaves the backlog when a later one comes out", () => {
    const b = new MocapBacklog();
    for (let n = 0n; n < 20n; n++) b.sent(n, 1000n + n);
    expect(b.size).toBe(20);
    expect(b.released(0n)).toBe(1000n);
    expect(b.size).toBe(19);
    // 1..13 were rejected by the validator: 14 comes out next.
    expect(b.released(14n)).toBe(1014n);
    expect(b.size).toBe(5);
    // A number that was never sent (a source dropout) still clears what is before it.
    b.sent(21n, 1021n);
    expect(b.released(20n)).toBeNull();
    expect(b.size).toBe(1);
    expect(b.released(21n)).toBe(1021n);
    expect(b.size).toBe(0);
  });

  it("a late release of an old number clears nothing after it", () => {
    const b = new MocapBacklog();
    for (let n = 100n; n < 110n; n++) b.sent(n, n);
    expect(b.released(5n)).toBeNull();
    expect(b.size).toBe(10);
  });
});
