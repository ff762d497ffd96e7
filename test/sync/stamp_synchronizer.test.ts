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
    s.add(0, 4n, "rgb4"); // depth3 waits: a late rgb3 may still come
    expect(sets).toEqual([[2n, ["rgb2", "depth2"]]]);
    expect(s.counters.get("dropped.unmatched.rgb")).toBe(1);
    expect(s.counters.get("dropped.unmatched.depth")).toBe(0);
    s.add(1, 5n, "depth5");
    s.add(0, 5n, "rgb5"); // a later set passes depth3 and rgb4: they can never match now
    expect(sets.map(([t]) => t)).toEqual([2n, 5n]);
    expect(s.counters.get("dropped.unmatched.depth")).toBe(1);
    expect(s.counters.get("dropped.unmatched.rgb")).toBe(2);
    s.add(0, 6n, "rgb6");
    s.flush();
    expect(s.counters.get("dropped.unmatched.rgb")).toBe(3);
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
    s.add(1, 210n, 4); // 10 ns apart: no match
    expect(sets).toEqual([103n]);
    s.add(0, 211n, 5); // matches b's 210; a's 200 is passed and can never match now
    expect(sets).toEqual([103n, 211n]);
    expect(s.counters.get("dropped.unmatched.a")).toBe(1);
  });

  it("puts a late message in stamp order and counts queue overflow", () => {
    const s = new StampSynchronizer<[number, number]>(["a", "b"], { slopNs: 0n, queueSize: 2 }, () => {});
    s.add(0, 5n, 1);
    s.add(0, 4n, 2);
    expect(s.counters.get("sync.reordered.a")).toBe(1);
    expect(s.pending()).toBe(2);
    s.add(0, 6n, 3);
    s.add(0, 7n, 4);
    expect(s.counters.get("dropped.unmatched.a")).toBe(2);
    expect(s.pending()).toBe(2);
  });

  it("a stray message stamped a little ahead does not hold its stream: the partners decide", () => {
    const sets: bigint[] = [];
    const s = new StampSynchronizer<[string, string]>(["rgb", "seg"], { slopNs: 0n, queueSize: 10 }, (t) => sets.push(t));
    const ms = 1_000_000n;
    // seg's message for t=100 ms came stamped 300 ms (a peer's bug); rgb's for 100 ms is then unmatched.
    s.add(0, 100n * ms, "rgb100");
    s.add(1, 300n * ms, "seg-stray");
    // The next frames arrive as usual and match, although seg has a newer message queued.
    for (const t of [133n, 166n, 200n]) {
      s.add(0, t * ms, `rgb${t}`);
      s.add(1, t * ms, `seg${t}`);
    }
    expect(sets).toEqual([133n * ms, 166n * ms, 200n * ms]);
    expect(s.counters.get("sync.reordered.seg")).toBe(3);
    expect(s.counters.get("dropped.unmatched.rgb")).toBe(1);
    // The stray one leaves as unmatched once the stream has moved past it.
    s.add(0, 333n * ms, "rgb333");
    s.add(1, 333n * ms, "seg333");
    expect(sets.at(-1)).toBe(333n * ms);
    expect(s.counters.get("dropped.unmatched.seg")).toBe(1);
  });
});
