import { describe, expect, it } from "vitest";
import { runPipelineBench } from "../../bench/pipeline_bench.js";
import { NATIVE_TESTS } from "../native/native_env.js";
import { nativeHelperThread } from "../../nodes/perception/native_perception_kernels.js";

type Turn = ["typescript" | "native" | "native_2t", number];
const small = { frames: 20, width: 96, height: 72, objects: 3, queries: 4 } as const;

/** The path and frame of each processed frame, in the order the bench ran them. */
function turns(schedule: "blocks" | "interleaved", blockFrames = 6) {
  const order: Turn[] = [];
  const r = runPipelineBench({ ...small, schedule, blockFrames, nativeTwoThreads: false, onPathFrame: (p, f) => order.push([p, f]) });
  return { r, order };
}

describe("bench/pipeline_bench.ts schedules", () => {
  it.runIf(NATIVE_TESTS)("blocks: a block of frames on one path, the same frames on the other, the first path alternating", () => {
    const { r, order } = turns("blocks");
    expect(r.schedule).toBe("blocks");
    expect(r.block_frames).toBe(6);
    expect(order).toHaveLength(40);
    // Blocks 0-5, 6-11, 12-17, 18-19: each path runs a block's frames in order, then the other path does.
    const blocks = [[0, 6], [6, 12], [12, 18], [18, 20]];
    let i = 0;
    blocks.forEach(([b0, b1], block) => {
      const firstPath = order[i][0];
      expect(firstPath).toBe(block % 2 === 0 ? "typescript" : "native");
      for (const path of [firstPath, firstPath === "typescript" ? "native" : "typescript"]) {
        for (let f = b0; f < b1; f++) expect(order[i++]).toEqual([path, f]);
      }
    });
    // Each path rendered its own frames: still the same frames, so the same scenes.
    expect(r.scenes_compared).toBe(20);
    expect(r.scenes_identical).toBe(20);
    expect(r.pipeline_ms_ts!.n).toBe(16);
    expect(r.pipeline_ms_native!.n).toBe(16);
    expect(r.native_speedup_p50).toBeCloseTo(r.pipeline_ms_ts!.p50 / r.pipeline_ms_native!.p50, 1);
    expect(r.stages.render_ms.n).toBe(16);
  });

  it.runIf(NATIVE_TESTS)("interleaved: each frame on both paths before the next, the first path alternating", () => {
    const { r, order } = turns("interleaved");
    expect(r.schedule).toBe("interleaved");
    expect(r.block_frames).toBeNull();
    expect(order).toHaveLength(40);
    for (let f = 0; f < 20; f++) {
      const a = order[2 * f], b = order[2 * f + 1];
      expect([a[1], b[1]]).toEqual([f, f]);
      expect(a[0]).toBe(f % 2 === 0 ? "typescript" : "native");
      expect(b[0]).not.toBe(a[0]);
    }
    expect(r.scenes_compared).toBe(20);
    expect(r.scenes_identical).toBe(20);
  });

  it.runIf(NATIVE_TESTS)("the native kernels with the helper thread run beside the default one-thread path, on the same frames, with the same scenes", () => {
    const order: Turn[] = [];
    const r = runPipelineBench({ ...small, schedule: "blocks", blockFrames: 6, onPathFrame: (p, f) => order.push([p, f]) });
    expect(r.native_threads!.threads).toBe(1);
    if (!nativeHelperThread()?.available) {
      // One CPU allowed: no helper can run, so there is no second native path to measure.
      expect(r.pipeline_ms_native_2t).toBeNull();
      return;
    }
    expect(order.filter(([p]) => p === "native_2t")).toHaveLength(20);
    expect(r.pipeline_ms_native_2t!.n).toBe(16);
    expect(r.paths.native_2t!.cpu_ms_per_frame).toBeGreaterThan(0);
    expect(r.native_threads!.helper!.calls).toBeGreaterThanOrEqual(20);
    expect(r.scenes_identical).toBe(20);
  });

  it("the same figures from both schedules on one path (the frames do not depend on the schedule)", () => {
    const a = runPipelineBench({ ...small, paths: "ts", schedule: "blocks", blockFrames: 7 });
    const b = runPipelineBench({ ...small, paths: "ts", schedule: "interleaved" });
    expect(a.pipeline_ms_ts!.n).toBe(16);
    expect(b.pipeline_ms_ts!.n).toBe(16);
    expect(a.answers_ok_fraction).toBe(b.answers_ok_fraction);
    expect(a.scenes_compared).toBe(0);
  });

  it("refuses a schedule or block size it does not know", () => {
    expect(() => runPipelineBench({ ...small, paths: "ts", schedule: "random" as "blocks" })).toThrow(/schedule/);
    expect(() => runPipelineBench({ ...small, paths: "ts", blockFrames: 0 })).toThrow(/blockFrames/);
    expect(() => runPipelineBench({ ...small, paths: "ts", blockFrames: 2.5 })).toThrow(/blockFrames/);
  });
});
