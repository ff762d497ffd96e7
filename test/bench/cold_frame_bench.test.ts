import { describe, expect, it } from "vitest";
import { runColdFrameBench } from "../../bench/cold_frame_bench.js";
import { NATIVE_TESTS } from "../native/native_env.js";

describe("bench/cold_frame_bench.ts", () => {
  it("times every frame on every path, warm and cold, and the runs' scenes agree", () => {
    const r = runColdFrameBench({ frames: 30, width: 96, height: 72, objects: 3 });
    expect(r.encoding).toBe("16UC1");
    expect(r.frames_measured).toBe(10);
    expect(r.scenes_compared).toBe(30);
    expect(r.scenes_identical).toBe(30);
    const paths = NATIVE_TESTS ? [r.paths.typescript, r.paths.native!] : [r.paths.typescript];
    if (NATIVE_TESTS) expect(r.paths.native).not.toBeNull();
    for (const p of paths) {
      // Frames 20..29, each taken warm by one Perception and cold by another.
      expect(p.warm_ms.n).toBe(10);
      expect(p.cold_ms.n).toBe(10);
      expect(p.cold_ms.p50).toBeGreaterThan(0);
      expect(p.cold_over_warm_p50).toBeCloseTo(p.cold_ms.p50 / p.warm_ms.p50, 1);
    }
  });

  it("refuses too few frames", () => {
    expect(() => runColdFrameBench({ frames: 20 })).toThrow(/frames must be an integer above 20/);
  });
});
