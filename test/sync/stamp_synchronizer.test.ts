import { describe, expect, it } from "vitest";
import { StampSynchronizer } from "../../src/sync/stamp_synchronizer.js";

describe("StampSynchronizer", () => {
  it("pairs exact stamps and counts the unmatched", () => {
    const sets: [bigint, string[]][] = [];
    const s = new StampSynchronizer<[string, string]>(["rgb", "depth"], { slopNs: 0n, queueSize: 5 }, (t, m) => sets.push([t, [...m]]));
    s.add(0, 1n, "rgb1");
    s.add(0, 2n, "rgb2");
    s.add(1, 2n, "depth2"); // rgb1 can never match now
    s.add(1, 3n, "depth3");
    s.add(0, 4n, "rgb4"); // depth3 can never match now
    expect(sets).toEqual([[2n, ["rgb2", "depth2"]]]);
    expect(s.counters.get("dropped.unmatched.rgb")).toBe(1);
    expect(s.counters.get("dropped.unmatched.depth")).toBe(1);
    s.flush();
    expect(s.counters.get("dropped.unmatched.rgb")).toBe(2);
    // Every message in is either in a set or counted as dropped.
    const c = s.counters.snapshot();
    expect(c["sync.in.rgb"]).toBe(c["sync.sets"] + c["dropped.unmatched.rgb"]);
    expect(c["sync.in.depth"]).toBe(c["sync.sets"] + c["dropped.unmatched.depth"]);
  });

  it("matches within the slop in approximate mode", () => {
    const sets: bigint[] = [];
    const s = new StampSynchronizer<[number, number]>(["a", "b"], { slopNs: 5n, queueSize: 5 }, (t) => sets.push(t));
    s.add(0, 100n, 1);
    s.add(1, 103n, 2);
    s.add(0, 200n, 3);
    s.add(1, 210n, 4); // 10 ns apart: no match, the older is evicted
    expect(sets).toEqual([103n]);
    expect(s.counters.get("dropped.unmatched.a")).toBe(1);
  });

  it("counts out-of-order messages and queue overflow", () => {
    const s = new StampSynchronizer<[number, number]>(["a", "b"], { slopNs: 0n, queueSize: 2 }, () => {});
    s.add(0, 5n, 1);
    s.add(0, 4n, 2);
    expect(s.counters.get("dropped.out_of_order.a")).toBe(1);
    s.add(0, 6n, 3);
    s.add(0, 7n, 4);
    expect(s.counters.get("dropped.unmatched.a")).toBe(1);
    expect(s.pending()).toBe(2);
  });
});
