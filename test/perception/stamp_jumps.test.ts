import { describe, expect, it } from "vitest";
import { isSpatialRewardError } from "../../src/errors.js";
import { Perception } from "../../src/perception/perception.js";
import type { RgbdFrame } from "../../src/perception/rgbd_frame.js";
import { syntheticFrame } from "./synthetic_frame.js";

const S = 1_000_000_000n;
const PERIOD = 33_333_333n;
const base = syntheticFrame();

/** Processes frames with these stamps; returns "ok" or the error code per frame. */
function run(p: Perception, stamps: bigint[]): string[] {
  return stamps.map((stamp) => {
    try {
      expect(p.process({ ...base, stamp }).objects).toHaveLength(1);
      return "ok";
    } catch (e) {
      if (!isSpatialRewardError(e)) throw e;
      return e.code;
    }
  });
}

const seq = (t0: bigint, n: number) => Array.from({ length: n }, (_, i) => t0 + BigInt(i) * PERIOD);

describe("Perception: stamp jumps cost a bounded, counted number of frames", () => {
  it("one frame stamped an hour ahead costs exactly that frame", () => {
    const p = new Perception();
    const s = seq(1000n * S, 10);
    expect(run(p, [...s.slice(0, 5), s[4] + 3600n * S, ...s.slice(5)])).toEqual([...Array(5).fill("ok"), "out_of_order_stamp", ...Array(5).fill("ok")]);
    expect(p.counters.get("stamp_jump.ahead")).toBe(1);
    expect(p.counters.get("errors.out_of_order_stamp")).toBe(1);
    expect(p.counters.get("stamp_jump.adopted")).toBe(0);
    expect(p.lastTimelineJump).toBeNull();
  });

  it("one frame stamped an hour back costs exactly that frame", () => {
    const p = new Perception();
    const s = seq(5000n * S, 10);
    expect(run(p, [...s.slice(0, 5), s[4] - 3600n * S, ...s.slice(5)])).toEqual([...Array(5).fill("ok"), "out_of_order_stamp", ...Array(5).fill("ok")]);
    expect(p.counters.get("stamp_jump.back")).toBe(1);
  });

  it("a bag restart (permanent jump back) is adopted on the 3rd frame, tracker reset, jump exposed", () => {
    const p = new Perception();
    const before = seq(2000n * S, 6), after = seq(1990n * S - 60n * S, 6);
    const r = run(p, [...before, ...after]);
    expect(r).toEqual([...Array(6).fill("ok"), "out_of_order_stamp", "out_of_order_stamp", ...Array(4).fill("ok")]);
    expect(p.counters.get("stamp_jump.back")).toBe(2);
    expect(p.counters.get("stamp_jump.adopted")).toBe(1);
    expect(p.lastTimelineJump).toEqual({ from: before[5], to: after[2], direction: "back" });
    expect(p.timelineJumps).toBe(1);
  });

  it("a permanent jump ahead is adopted on the 3rd frame", () => {
    const p = new Perception();
    const before = seq(10n * S, 3), after = seq(7200n * S, 5);
    expect(run(p, [...before, ...after])).toEqual(["ok", "ok", "ok", "out_of_order_stamp", "out_of_order_stamp", "ok", "ok", "ok"]);
    expect(p.counters.get("stamp_jump.ahead")).toBe(2);
    expect(p.lastTimelineJump?.direction).toBe("ahead");
  });

  it("a step back shorter than the jump limit is an out-of-order frame (not a jump)", () => {
    const p = new Perception();
    expect(run(p, [100n * S, 99n * S, 100n * S + PERIOD])).toEqual(["ok", "out_of_order_stamp", "ok"]);
    expect(p.counters.get("stamp_jump.back")).toBe(0);
  });

  it("the jump limit is an option", () => {
    const p = new Perception({ maxStampJumpMs: 120_000 });
    expect(run(p, [100n * S, 160n * S, 161n * S])).toEqual(["ok", "ok", "ok"]);
    const q = new Perception({ maxStampJumpMs: 1000, stampJumpConfirmFrames: 2 });
    expect(run(q, [100n * S, 102n * S, 102n * S + PERIOD, 102n * S + 2n * PERIOD])).toEqual(["ok", "out_of_order_stamp", "ok", "ok"]);
  });

  const invalid: [string, unknown][] = [["negative", -1n], ["beyond int32 seconds", 2n ** 70n], ["a NaN number", NaN], ["a number", 5], ["missing", undefined]];
  for (const [name, stamp] of invalid) {
    it(`a ${name} stamp is bad_stamp and leaves the timeline alone`, () => {
      const p = new Perception();
      expect(run(p, [10n * S])).toEqual(["ok"]);
      let code = "";
      try {
        p.process({ ...base, stamp: stamp as bigint } as RgbdFrame);
      } catch (e) {
        code = isSpatialRewardError(e) ? e.code : "not typed";
      }
      expect(code).toBe("bad_stamp");
      expect(p.counters.get("errors.bad_stamp")).toBe(1);
      expect(run(p, [10n * S + PERIOD])).toEqual(["ok"]);
    });
  }
});
