import { describe, expect, it } from "vitest";
import { isSpatialRewardError } from "../../src/errors.js";
import { Perception } from "../../src/perception/perception.js";
import type { RgbdFrame } from "../../src/perception/rgbd_frame.js";
import { relayoutImage } from "./image_layout.js";
import { simFrame } from "./sim_frame.js";

function errorTotal(p: Perception): number {
  return Object.entries(p.counters.snapshot()).filter(([k]) => k.startsWith("errors.")).reduce((a, [, v]) => a + v, 0);
}

describe("Perception.process counts each rejected frame exactly once", () => {
  it("an unexpected exception is counted as errors.internal once and rethrown as it was", () => {
    const p = new Perception();
    const good = simFrame(5);
    const boom = new Error("boom");
    const frame = { ...good, get instances(): never { throw boom; } } as unknown as RgbdFrame;
    expect(() => p.process(frame)).toThrow(boom);
    expect(p.counters.get("errors.internal")).toBe(1);
    expect(errorTotal(p)).toBe(1);
    expect(p.process(good).objects.length).toBeGreaterThan(0);
  });

  it("a battery of hostile frames: each throws one typed error and adds exactly one errors.* count, never internal", () => {
    const good = simFrame(5, { segmentation: "both" });
    const { width, height } = good.intrinsics;
    const padded = { padBytes: 8, trimLastRowPadding: true };
    const nanBox = { kind: "mug", score: 1, cx: NaN, cy: NaN, width: NaN, height: NaN };
    const hostile: RgbdFrame[] = [
      // Each of these was a RangeError / TypeError / wrong code on the landed code.
      { ...good, depth: { ...relayoutImage(good.depth, padded), step: good.depth.step + 8, data: relayoutImage(good.depth, padded).data.subarray(0, 100) } },
      { ...good, depth: { ...good.depth, is_bigendian: 7 } },
      { ...good, intrinsics: { ...good.intrinsics, cx: -5 } },
      { ...good, instances: undefined, detections: [nanBox] },
      { ...good, instances: undefined, detections: Array.from({ length: 300 }, () => ({ kind: "a", score: 1, cx: width / 2, cy: height / 2, width, height })) },
      { ...good, stamp: -5n },
      { ...good, depth: { ...good.depth, step: 1e300 } },
      null as unknown as RgbdFrame,
    ];
    const p = new Perception();
    let before = 0;
    for (const [i, frame] of hostile.entries()) {
      let typed = false;
      try {
        p.process(frame);
      } catch (e) {
        typed = isSpatialRewardError(e);
      }
      expect(typed, `frame ${i}`).toBe(true);
      expect(errorTotal(p), `frame ${i}`).toBe(before + 1);
      before++;
    }
    expect(p.counters.get("errors.internal")).toBe(0);
    expect(p.counters.get("frames_in")).toBe(hostile.length);
  });
});
