import { describe, expect, it } from "vitest";
import { runRenderBench } from "../../bench/render_bench.js";
import { NATIVE_TESTS } from "./native_env.js";

describe("bench/render_bench.ts (what the pipeline bench calls for render_ms per path)", () => {
  it.runIf(NATIVE_TESTS)("both paths, every frame compared, the speed-up from the same run", () => {
    const r = runRenderBench({ frames: 20, width: 64, height: 48, objects: 4 });
    expect(r.frames_measured).toBe(16);
    expect(r.native).not.toBeNull();
    expect(r.identical_frames).toBe(r.frames_measured);
    expect(r.render_ms.ts.n).toBe(16);
    expect(r.render_ms.native?.n).toBe(16);
    expect(r.speedup_p50).toBeCloseTo(r.render_ms.ts.p50 / r.render_ms.native!.p50, 1);
    expect(JSON.parse(JSON.stringify(r))).toEqual(r);
  });

  it("without native kernels: the TS figures, and why there is no native one", () => {
    const saved = process.env.SPATIAL_REWARD_NATIVE;
    process.env.SPATIAL_REWARD_NATIVE = "0";
    try {
      const r = runRenderBench({ frames: 20, width: 32, height: 24, objects: 2 });
      expect(r.native).toBeNull();
      expect(r.render_ms.native).toBeNull();
      expect(r.native_unavailable).toBe("SPATIAL_REWARD_NATIVE=0");
      expect(r.render_ms.ts.n).toBe(16);
    } finally {
      if (saved === undefined) delete process.env.SPATIAL_REWARD_NATIVE;
      else process.env.SPATIAL_REWARD_NATIVE = saved;
    }
  });
});
