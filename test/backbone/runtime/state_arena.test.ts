import { describe, expect, it } from "vitest";
import { StateArena, consecutiveRuns } from "../../../src/backbone/state_arena.js";
import { SpatialRewardError } from "../../../src/errors.js";
import { backboneSizes, TINY_CONFIG } from "../../../src/backbone/config.js";

const opts = { maxStreams: 4, scratchSlots: 2, convFloats: 6, ssmFloats: 10 };

function fillSlot(a: StateArena, slot: number, base: number): void {
  const c = a.convView(slot);
  const s = a.ssmView(slot);
  for (let i = 0; i < c.length; i++) c[i] = base + i;
  for (let i = 0; i < s.length; i++) s[i] = base + 100 + i;
}

function code(f: () => unknown): string | undefined {
  try {
    f();
  } catch (e) {
    return e instanceof SpatialRewardError ? e.code : `untyped: ${String(e)}`;
  }
  return undefined;
}

describe("StateArena", () => {
  it("lays slots out batch-major so consecutive slots are one view of each tensor", () => {
    const a = new StateArena(opts);
    expect(a.conv.buffer).toBe(a.buffer);
    expect(a.ssm.buffer).toBe(a.buffer);
    expect(a.buffer.byteLength).toBe(4 * 6 * (6 + 10));
    fillSlot(a, 1, 10);
    fillSlot(a, 2, 20);
    const c = a.convView(1, 2);
    const s = a.ssmView(1, 2);
    expect(c.buffer).toBe(a.buffer); // a view, not a copy
    expect(Array.from(c)).toEqual([10, 11, 12, 13, 14, 15, 20, 21, 22, 23, 24, 25]);
    expect(s[0]).toBe(110);
    expect(s[10]).toBe(120);
    expect(a.stateBytes).toBe(64);
  });

  it("adding and removing streams never changes another slot's bytes", () => {
    const a = new StateArena(opts);
    const x = a.acquire("x");
    const y = a.acquire("y");
    const z = a.acquire("z");
    expect([x, y, z]).toEqual([0, 1, 2]);
    fillSlot(a, x, 1);
    fillSlot(a, y, 2);
    fillSlot(a, z, 3);
    const before = new Uint8Array(a.buffer).slice();
    a.release(y);
    const after = new Uint8Array(a.buffer);
    const slotOfByte = (i: number): number => (i < 4 * 6 * 6 ? Math.floor(i / 24) : Math.floor((i - 4 * 6 * 6) / 40));
    for (let i = 0; i < after.length; i++) {
      if (slotOfByte(i) !== y) expect(after[i], `byte ${i}`).toBe(before[i]);
    }
    expect(Array.from(a.convView(y)).every((v) => v === 0)).toBe(true);
    expect(Array.from(a.ssmView(y)).every((v) => v === 0)).toBe(true);
    // The freed slot is reused, from zeros, and the others still hold their bytes.
    const w = a.acquire("w");
    expect(w).toBe(y);
    expect(Array.from(a.convView(w)).every((v) => v === 0)).toBe(true);
    expect(a.convView(x)[0]).toBe(1);
    expect(a.ssmView(z)[0]).toBe(103);
    expect(a.slotOf("w")).toBe(1);
    expect(a.has("y")).toBe(false);
  });

  it("fork copies exactly one state into a scratch slot", () => {
    const a = new StateArena(opts);
    a.acquire("x");
    const y = a.acquire("y");
    fillSlot(a, 0, 1);
    fillSlot(a, y, 7);
    const before = new Uint8Array(a.buffer).slice();
    const f = a.fork(y);
    expect(f).toBe(opts.maxStreams);
    expect(Array.from(a.convView(f))).toEqual(Array.from(a.convView(y)));
    expect(Array.from(a.ssmView(f))).toEqual(Array.from(a.ssmView(y)));
    // Writing the fork leaves its source alone.
    a.ssmView(f).fill(-1);
    expect(a.ssmView(y)[0]).toBe(107);
    // Only the fork's bytes changed.
    const after = new Uint8Array(a.buffer);
    let changed = 0;
    for (let i = 0; i < after.length; i++) if (after[i] !== before[i]) changed++;
    expect(changed).toBeGreaterThan(0);
    expect(changed).toBeLessThanOrEqual(a.stateBytes);
    a.release(f);
    expect(Array.from(a.ssmView(f)).every((v) => v === 0)).toBe(true);
  });

  it("refuses with typed errors: full arena, no scratch, duplicate or unknown names, bad slots", () => {
    const a = new StateArena(opts);
    for (let i = 0; i < 4; i++) a.acquire(`s${i}`);
    expect(code(() => a.acquire("one-too-many"))).toBe("bad_state");
    expect(code(() => a.acquire("s1"))).toBe("bad_argument");
    expect(code(() => a.slotOf("nope"))).toBe("bad_state");
    a.fork(0);
    a.fork(1);
    expect(code(() => a.fork(2))).toBe("bad_state");
    expect(code(() => a.release(4 + 2))).toBe("bad_argument");
    expect(code(() => a.release(-1))).toBe("bad_argument");
    expect(code(() => a.convView(5, 2))).toBe("bad_argument");
    a.release(3);
    expect(code(() => a.release(3))).toBe("bad_state");
    expect(code(() => new StateArena({ ...opts, maxStreams: 0 }))).toBe("bad_argument");
    expect(code(() => new StateArena({ ...opts, convFloats: 1.5 }))).toBe("bad_argument");
    expect(a.streamCount).toBe(3);
  });

  it("reserves the tiny default's 163,840 bytes per stream", () => {
    const s = backboneSizes(TINY_CONFIG);
    const a = new StateArena({ maxStreams: 16, scratchSlots: 2, convFloats: s.convStateFloats, ssmFloats: s.ssmStateFloats });
    expect(a.stateBytes).toBe(163_840);
    expect(a.buffer.byteLength).toBe(18 * 163_840);
  });

  it("hands out consecutive scratch runs (one view for a batch of forks) and skips runs with a used slot", () => {
    const a = new StateArena({ maxStreams: 2, scratchSlots: 5, convFloats: 3, ssmFloats: 2 });
    const r1 = a.acquireScratchRun(2);
    expect(r1).toBe(2);
    const single = a.acquireScratch(); // slot 4
    expect(single).toBe(4);
    // Slots 5, 6 are the only two consecutive free ones left.
    expect(a.acquireScratchRun(2)).toBe(5);
    expect(code(() => a.acquireScratchRun(1))).toBe("bad_state");
    a.release(single);
    expect(code(() => a.acquireScratchRun(2))).toBe("bad_state");
    expect(a.acquireScratchRun(1)).toBe(4);
    expect(code(() => a.acquireScratchRun(0))).toBe("bad_argument");
    // A run is one view of its slots' states.
    a.convView(r1, 2).fill(7);
    expect(Array.from(a.convView(r1 + 1))).toEqual([7, 7, 7]);
    a.release(r1);
    expect(Array.from(a.convView(r1))).toEqual([0, 0, 0]);
    expect(a.acquireScratchRun(1)).toBe(r1);
  });

  it("splits slot lists into consecutive runs", () => {
    expect(consecutiveRuns([0, 1, 2, 5, 6, 9])).toEqual([
      { first: 0, count: 3 },
      { first: 5, count: 2 },
      { first: 9, count: 1 },
    ]);
    expect(consecutiveRuns([])).toEqual([]);
  });
});
