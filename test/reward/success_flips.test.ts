import { describe, expect, it } from "vitest";
import { runFlips } from "../../bench/success_flips_bench.js";
import { flipAgreement, successFlips } from "../../src/reward/success_flips.js";

/**
 * "Put A on B" success on scripted teleop episodes (perceived through the engine) against the
 * truth, with A's top hidden for two frames just before it lands, as a hand over it would
 * hide it. Before the tracked boxes were filtered, A's bottom dropped with its hidden top and
 * success came 1–3 frames early in 5 of these 6 episodes (and flickered back off).
 */
describe("on-top-of success against the truth", () => {
  it("clean, top hidden 3 and 2 frames before the landing, with hysteresis: every flip within one frame, none spurious", () => {
    for (const seed of [8012, 8016, 8028, 8042, 8052, 8006]) {
      const r = runFlips({ seed, frames: 120, noise: "none", tracker: { hysteresis: true }, occludeTopAt: [-3, -2] });
      const a = flipAgreement(r.perceived, r.truth);
      expect(a.trueFlips, `${seed} ${r.instruction}`).toBe(1);
      expect(a.withinOneFrame, `${seed} ${r.instruction}`).toBe(1);
      expect(a.spurious, `${seed} ${r.instruction}`).toBe(0);
      expect(r.errors).toEqual({});
    }
  }, 300_000);

  it("RealSense, top hidden 3 and 2 frames before the landing, without hysteresis: every flip within one frame, none spurious", () => {
    // Before (HEAD aa1bd3f): 8006 three frames late (a stale seen-height reference re-anchored
    // the lemon 2-3 cm high), 8012 and 8034 early or flickering (the book's or plate's top read
    // high with the other object's pixels in its mask, and the filter took it for lifted).
    for (const seed of [8006, 8012, 8034, 8051]) {
      const r = runFlips({ seed, frames: 120, noise: "realsense", occludeTopAt: [-3, -2] });
      const a = flipAgreement(r.perceived, r.truth);
      expect(a.trueFlips, `${seed} ${r.instruction}`).toBe(1);
      expect(a.withinOneFrame, `${seed} ${r.instruction}`).toBe(1);
      expect(a.spurious, `${seed} ${r.instruction}`).toBe(0);
    }
  }, 300_000);

  it("flipAgreement counts flips both ways, lag and refused frames", () => {
    const T = true, F = false;
    expect(flipAgreement([F, F, T, T, F, F], [F, T, T, F, F, F])).toEqual({ trueFlips: 2, withinOneFrame: 2, spurious: 0, maxLag: 1 });
    expect(flipAgreement([F, T, F, T, T], [F, F, F, T, T])).toEqual({ trueFlips: 1, withinOneFrame: 1, spurious: 2, maxLag: 0 });
    // A refused frame (null) holds the last success.
    expect(flipAgreement([F, null, T, null, T], [F, F, T, T, T])).toEqual({ trueFlips: 1, withinOneFrame: 1, spurious: 0, maxLag: 0 });
    expect(flipAgreement([F, F, F, F, T], [F, T, T, T, T])).toEqual({ trueFlips: 1, withinOneFrame: 0, spurious: 1, maxLag: 0 });
  });

  it("successFlips lists every change, success off before the first frame, refused frames holding the last", () => {
    const T = true, F = false;
    expect(successFlips([])).toEqual([]);
    expect(successFlips([T, T, F, null, T, null, null, F])).toEqual([
      { frame: 0, success: true }, { frame: 2, success: false }, { frame: 4, success: true }, { frame: 7, success: false },
    ]);
    expect(successFlips([null, F, null, F])).toEqual([]);
  });
});
