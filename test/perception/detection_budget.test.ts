import { describe, expect, it } from "vitest";
import { findSeed } from "../../src/perception/detection_segmenter.js";
import { DEFAULT_PERCEPTION_OPTIONS, Perception } from "../../src/perception/perception.js";
import type { Detection2D } from "../../src/perception/rgbd_frame.js";
import { mulberry32 } from "../../src/random/mulberry32.js";
import { simFrame } from "./sim_frame.js";
import { rejectionCode } from "./rejection_code.js";



const good = simFrame(21, { segmentation: "detections" });
const { width, height } = good.intrinsics;
const fullFrame = (k: number): Detection2D[] =>
  Array.from({ length: k }, () => ({ kind: "box", score: 0.9, cx: width / 2, cy: height / 2, width, height }));

describe("per-frame detection budget", () => {
  it("defaults: 256 detections, total clipped box area 4x the image", () => {
    expect(DEFAULT_PERCEPTION_OPTIONS.maxDetections).toBe(256);
    expect(DEFAULT_PERCEPTION_OPTIONS.maxDetectionArea).toBe(4);
  });

  it("200 full-frame boxes are rejected as detection_budget (the stall in the issue), then the next frame is processed", () => {
    const p = new Perception();
    const expected = new Perception().process(good).objects.length;
    expect(rejectionCode(p, { ...good, detections: fullFrame(200) })).toBe("detection_budget");
    expect(p.counters.get("errors.detection_budget")).toBe(1);
    expect(p.process(good).objects).toHaveLength(expected);
  });

  it("more than maxDetections small boxes are rejected", () => {
    const tiny = Array.from({ length: 257 }, (_, i) => ({ kind: "dot", score: 1, cx: (i * 7) % width, cy: (i * 13) % height, width: 2, height: 2 }));
    expect(rejectionCode(new Perception(), { ...good, detections: tiny })).toBe("detection_budget");
    expect(rejectionCode(new Perception(), { ...good, detections: tiny.slice(0, 256) })).not.toBe("detection_budget");
  });

  it("area is counted after clipping to the image: huge boxes mostly off-image are cheap and allowed", () => {
    const offside = Array.from({ length: 3 }, () => ({ kind: "box", score: 1, cx: -1e6, cy: height / 2, width: 2e6 + 20, height: 10 }));
    expect(rejectionCode(new Perception(), { ...good, detections: [...good.detections!, ...offside] })).not.toBe("detection_budget");
  });

  it("the budget is an option", () => {
    const p = new Perception({ maxDetectionArea: 10 });
    expect(rejectionCode(p, { ...good, detections: fullFrame(5) })).not.toBe("detection_budget");
    expect(rejectionCode(new Perception({ maxDetections: 2 }), good)).toBe("detection_budget");
  });

  it("instance masks have the same budget (labelled instances)", () => {
    const f = simFrame(21, { segmentation: "masks" });
    const n = f.instances!.labels.size;
    expect(n).toBeGreaterThan(2);
    expect(rejectionCode(new Perception({ maxDetections: n - 1 }), f)).toBe("detection_budget");
    expect(rejectionCode(new Perception({ maxDetections: n }), f)).toBe("accepted");
  });
});

describe("malformed detections are dropped one by one, counted", () => {
  const expected = new Perception().process(good).objects;
  const bad: [string, Detection2D][] = [
    ["NaN centre", { kind: "mug", score: 1, cx: NaN, cy: 10, width: 10, height: 10 }],
    ["infinite size", { kind: "mug", score: 1, cx: 10, cy: 10, width: Infinity, height: 10 }],
    ["negative size", { kind: "mug", score: 1, cx: 50, cy: 50, width: -20, height: 10 }],
    ["zero size", { kind: "mug", score: 1, cx: 50, cy: 50, width: 0, height: 0 }],
    ["entirely off the image", { kind: "mug", score: 1, cx: -500, cy: -500, width: 10, height: 10 }],
    ["off the image's far corner", { kind: "mug", score: 1, cx: width + 50, cy: height + 50, width: 10, height: 10 }],
    ["no class", { kind: "", score: 1, cx: 50, cy: 50, width: 10, height: 10 }],
    ["a class that is not a string", { kind: 7 as unknown as string, score: 1, cx: 50, cy: 50, width: 10, height: 10 }],
  ];
  for (const [name, det] of bad) {
    it(`${name}: the rest of the frame is processed as without it`, () => {
      for (const at of [0, good.detections!.length]) {
        const dets = [...good.detections!];
        dets.splice(at, 0, det);
        const p = new Perception();
        expect(p.process({ ...good, detections: dets }).objects).toEqual(expected);
        expect(p.counters.get("dropped.bad_detection")).toBe(1);
      }
    });
  }

  it("a frame whose every detection is malformed is a typed error (empty_mask), counted once", () => {
    const p = new Perception();
    expect(rejectionCode(p, { ...good, detections: bad.map(([, d]) => d) })).toBe("empty_mask");
    expect(p.counters.get("dropped.bad_detection")).toBe(bad.length);
    expect(p.counters.get("errors.empty_mask")).toBe(1);
    expect(p.process(good).objects).toEqual(expected);
  });
});

/** The original quadratic-per-ring search, as the reference for the order of visits. */
function findSeedReference(cx: number, cy: number, u0: number, v0: number, u1: number, v1: number, width: number, above: Uint8Array, labels: Uint16Array): number {
  const cu = Math.round(cx), cv = Math.round(cy);
  const maxR = Math.max(u1 - u0, v1 - v0) / 2;
  for (let r = 0; r <= maxR; r++) {
    for (let dv = -r; dv <= r; dv++) {
      for (let du = -r; du <= r; du++) {
        if (Math.max(Math.abs(du), Math.abs(dv)) !== r) continue;
        const u = cu + du, v = cv + dv;
        if (u < u0 || u > u1 || v < v0 || v > v1) continue;
        const i = v * width + u;
        if (above[i] && labels[i] === 0) return i;
      }
    }
  }
  return -1;
}

describe("findSeed walks each ring's perimeter in the original order", () => {
  it("matches the reference on random boxes and sparse masks", () => {
    const rand = mulberry32(99);
    const w = 64, h = 48;
    for (let trial = 0; trial < 3000; trial++) {
      const above = new Uint8Array(w * h), labels = new Uint16Array(w * h);
      const density = rand() * 0.05;
      for (let i = 0; i < above.length; i++) {
        above[i] = rand() < density ? 1 : 0;
        labels[i] = rand() < 0.3 ? 1 : 0;
      }
      const cx = rand() * (w + 20) - 10, cy = rand() * (h + 20) - 10;
      const bw = rand() * w * 1.5, bh = rand() * h * 1.5;
      const u0 = Math.max(0, Math.floor(cx - bw / 2)), u1 = Math.min(w - 1, Math.ceil(cx + bw / 2));
      const v0 = Math.max(0, Math.floor(cy - bh / 2)), v1 = Math.min(h - 1, Math.ceil(cy + bh / 2));
      if (u1 < u0 || v1 < v0) continue;
      expect(findSeed(cx, cy, u0, v0, u1, v1, w, above, labels)).toBe(findSeedReference(cx, cy, u0, v0, u1, v1, w, above, labels));
    }
  });
});
