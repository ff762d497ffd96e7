import { describe, expect, it } from "vitest";
import { DetectionSegmenter } from "../../src/perception/detection_segmenter.js";

describe("DetectionSegmenter across image shapes", () => {
  it("a transposed image of the same size (480x640 after 640x480) starts from a clean label image", () => {
    const seg = new DetectionSegmenter();
    const fill = (w: number, h: number) => {
      const depth = new Float32Array(w * h).fill(1);
      const above = new Uint8Array(w * h).fill(1);
      return { depth, above };
    };
    const a = fill(640, 480);
    const first = seg.segment([{ kind: "mug", score: 1, cx: 600, cy: 100, width: 60, height: 60 }], 640, 480, a.depth, a.above);
    expect(first.some((l) => l !== 0)).toBe(true);
    const b = fill(480, 640);
    const second = seg.segment([], 480, 640, b.depth, b.above);
    expect(second.every((l) => l === 0)).toBe(true);
  });
});
