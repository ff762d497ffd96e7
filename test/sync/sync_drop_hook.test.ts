import { describe, expect, it } from "vitest";
import { StampSynchronizer } from "../../src/sync/stamp_synchronizer.js";

const MS = 1_000_000n;

/** Every `dropped.*.<stream>` counter of one stream, summed. */
function droppedOf(snapshot: Record<string, number>, stream: string): number {
  let n = 0;
  for (const [k, v] of Object.entries(snapshot)) if (k.startsWith("dropped.") && k.endsWith(`.${stream}`)) n += v;
  return n;
}

describe("StampSynchronizer's drop hook", () => {
  it("hands over every message that leaves without a set, once, on every path, and nothing in a set", () => {
    const names = ["rgb", "depth", "seg"];
    // A deterministic mix of what cameras and bags send: matching triples, lost messages,
    // reordered ones, stamps far ahead and far behind, a timeline change, bad stamps, overflow.
    let seed = 12345;
    const rand = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
    for (const slopNs of [0n, 3n * MS]) {
      const inSets: string[] = [];
      const drops: [number, string][] = [];
      const s = new StampSynchronizer<[string, string, string]>(
        names, { slopNs, queueSize: 4, maxJumpNs: 5000n * MS, jumpConfirm: 3 },
        (_t, m) => inSets.push(...m), undefined, (stream, msg) => drops.push([stream, msg]),
      );
      let id = 0;
      let t = 1_000n * MS;
      for (let f = 0; f < 3000; f++) {
        t += 33n * MS;
        if (f === 1500) t += 60_000n * MS; // a bag restarted later: a new timeline
        for (let k = 0; k < 3; k++) {
          const r = rand();
          if (r < 0.05) continue; // lost
          let stamp: bigint = t + (slopNs > 0n ? BigInt(Math.floor(rand() * 3)) * MS : 0n);
          if (r < 0.07) stamp = t + 9000n * MS; // far ahead
          else if (r < 0.09) stamp = t - 9000n * MS; // far behind
          else if (r < 0.12) stamp = t - 40n * MS; // a little late: before the last frame
          const msg = `${names[k]}#${id++}`;
          if (r > 0.995) s.add(k, Number(stamp) as unknown as bigint, msg); // a bad stamp
          else s.add(k, stamp, msg);
        }
      }
      s.add(0, t + 33n * MS, `rgb#${id++}`); // its partners never come: flush() drops it
      const pendingBeforeFlush = s.pending();
      s.flush();
      expect(s.pending()).toBe(0);
      expect(pendingBeforeFlush).toBeGreaterThan(0);
      // Each message went out in exactly one set or was dropped exactly once.
      const all = [...inSets, ...drops.map(([, m]) => m)];
      expect(new Set(all).size).toBe(all.length);
      expect(all.length).toBe(id);
      const c = s.counters.snapshot();
      for (let k = 0; k < 3; k++) {
        const mine = drops.filter(([stream]) => stream === k);
        expect(mine.every(([, m]) => m.startsWith(`${names[k]}#`))).toBe(true);
        expect(mine.length).toBe(droppedOf(c, names[k]));
        expect(c[`sync.in.${names[k]}`]).toBe(c["sync.sets"] + mine.length);
      }
      // Every path was taken (the mix above is meant to reach them all).
      for (const key of ["dropped.unmatched.rgb", "dropped.stamp_jump.ahead.rgb", "dropped.stamp_jump.back.depth", "dropped.bad_stamp.seg", "stamp_jump.adopted.rgb", "sync.reordered.rgb"]) {
        expect(c[key] ?? 0, key).toBeGreaterThan(0);
      }
    }
  });

  it("counts a hook that throws and goes on: the synchroniser's state stays whole", () => {
    const sets: bigint[] = [];
    let calls = 0;
    const s = new StampSynchronizer<[number, number]>(["a", "b"], { slopNs: 0n, queueSize: 2 }, (t) => sets.push(t), undefined, () => {
      calls++;
      throw new Error("release failed");
    });
    s.add(0, 1n, 1);
    s.add(0, 2n, 2);
    s.add(0, 3n, 3); // overflow: 1 dropped
    s.add(1, 3n, 4); // a set at 3; 2 dropped
    expect(sets).toEqual([3n]);
    expect(calls).toBe(2);
    expect(s.counters.get("errors.sync_drop_hook")).toBe(2);
    expect(s.counters.get("dropped.unmatched.a")).toBe(2);
    expect(s.pending()).toBe(0);
    s.add(0, 4n, 5);
    s.add(1, 4n, 6);
    expect(sets).toEqual([3n, 4n]);
  });
});
