import { describe, expect, it } from "vitest";
import { StampSynchronizer } from "../../src/sync/stamp_synchronizer.js";

const S = 1_000_000_000n;
const PERIOD = 33_333_333n;

function pair(slopNs = 0n) {
  const sets: bigint[] = [];
  const s = new StampSynchronizer<[string, string]>(["rgb", "depth"], { slopNs, queueSize: 10 }, (t) => sets.push(t));
  const both = (t: bigint) => {
    s.add(0, t, `rgb@${t}`);
    s.add(1, t, `depth@${t}`);
  };
  return { s, sets, both };
}

/** Every message in is in a set, still pending, or counted as dropped for one reason. */
function expectAccounted(s: StampSynchronizer<[string, string]>): void {
  const c = s.counters.snapshot();
  for (const name of ["rgb", "depth"]) {
    const dropped = Object.entries(c).filter(([k]) => k.startsWith("dropped.") && k.endsWith(`.${name}`)).reduce((a, [, v]) => a + v, 0);
    expect(c[`sync.in.${name}`]).toBe((c["sync.sets"] ?? 0) + dropped + s.pendingOf(name === "rgb" ? 0 : 1));
  }
}

const seq = (t0: bigint, n: number) => Array.from({ length: n }, (_, i) => t0 + BigInt(i) * PERIOD);

describe("StampSynchronizer: stamp jumps", () => {
  for (const slop of [0n, 5_000_000n]) {
    it(`one stray far-future message on one stream costs that message only (slop ${slop} ns)`, () => {
      const { s, sets, both } = pair(slop);
      const t = seq(100n * S, 10);
      t.slice(0, 3).forEach(both);
      s.add(0, 3700n * S, "stray");
      t.slice(3).forEach(both);
      expect(sets).toEqual(t);
      expect(s.counters.get("dropped.stamp_jump.ahead.rgb")).toBe(1);
      expectAccounted(s);
    });

    it(`one stray message an hour back costs that message only (slop ${slop} ns)`, () => {
      const { s, sets, both } = pair(slop);
      const t = seq(4000n * S, 10);
      t.slice(0, 3).forEach(both);
      s.add(1, 400n * S, "stray");
      t.slice(3).forEach(both);
      expect(sets).toEqual(t);
      // Nothing newer was waiting, so it was queued (it could have been a bag restarting)
      // and then evicted by its partner's next message.
      expect(s.counters.get("stamp_jump.back.depth")).toBe(1);
      expect(s.counters.get("dropped.unmatched.depth")).toBe(1);
      expect(s.counters.get("stamp_jump.adopted.depth")).toBe(0);
      expectAccounted(s);
    });

    it(`a stray message an hour back behind a queued one is dropped at once (slop ${slop} ns)`, () => {
      const { s, sets, both } = pair(slop);
      const t = seq(4000n * S, 6);
      t.slice(0, 3).forEach(both);
      s.add(0, t[3], "rgb waiting for its depth");
      s.add(0, 400n * S, "stray");
      s.add(1, t[3], "depth");
      t.slice(4).forEach(both);
      expect(sets).toEqual(t);
      expect(s.counters.get("dropped.stamp_jump.back.rgb")).toBe(1);
      expectAccounted(s);
    });
  }

  it("all streams jump back (bag restart): no set is lost, the new timeline is adopted on the 3rd message", () => {
    const { s, sets, both } = pair();
    const before = seq(500n * S, 5), after = seq(20n * S, 6);
    before.forEach(both);
    after.forEach(both);
    expect(sets).toEqual([...before, ...after]);
    expect(s.counters.get("stamp_jump.adopted.rgb")).toBe(1);
    expect(s.counters.get("stamp_jump.adopted.depth")).toBe(1);
    expect(s.lastTimelineJump).toEqual({ stream: "depth", from: before[4], to: after[2], direction: "back" });
    expectAccounted(s);
  });

  it("all streams jump ahead: sets resume from the 3rd message", () => {
    const { s, sets, both } = pair(2_000_000n);
    const before = seq(5n * S, 4), after = seq(86_400n * S, 5);
    before.forEach(both);
    after.forEach(both);
    expect(sets).toEqual([...before, ...after.slice(2)]);
    expectAccounted(s);
  });

  it("a stream that jumps back while its partner lags behind: stale queued messages are flushed and counted", () => {
    const { s, sets } = pair();
    const before = seq(500n * S, 4), after = seq(20n * S, 5);
    before.forEach((t) => s.add(0, t, "rgb")); // depth never delivered these
    after.forEach((t) => s.add(0, t, "rgb"));
    after.forEach((t) => s.add(1, t, "depth"));
    // rgb's first two new messages were older than its queue (dropped), its 3rd adopted the
    // new timeline and flushed the old queue; depth has no old timeline, so from there on
    // every message pairs.
    expect(sets).toEqual(after.slice(2));
    expect(s.counters.get("dropped.stamp_jump.back.rgb")).toBe(2);
    expect(s.counters.get("dropped.unmatched.rgb")).toBe(4);
    expectAccounted(s);
  });
});
