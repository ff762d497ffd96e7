import { describe, expect, it } from "vitest";
import { InvalidInputError } from "../../src/errors.js";
import { matchBoxes } from "../../src/eval/box_accuracy.js";
import { Perception } from "../../src/perception/perception.js";
import { generateWorld, placeCamera, RgbdSensor } from "../../sim/index.js";
import { copyFrame } from "./sim_frame.js";

/** A seeded sim frame (masks, exact depth) and its truth, buffers owned by the caller. */
function scene(seed: number) {
  const world = generateWorld(seed);
  const { camera } = placeCamera(world, seed, { width: 320, height: 240 });
  const cap = new RgbdSensor({ noise: "none", seed }).capture(world, camera, BigInt(seed) * 1_000_000_000n);
  const frame = copyFrame(cap.frame);
  delete frame.detections;
  return { frame, truth: cap.truth };
}

/** Erodes every instance by `k` pixels (a segmenter falling short of the edges). */
function erode(mask: Uint8Array, w: number, h: number, k: number): void {
  for (let step = 0; step < k; step++) {
    const src = Uint8Array.from(mask);
    for (let v = 0; v < h; v++) for (let u = 0; u < w; u++) {
      const i = v * w + u, id = src[i];
      if (id === 0) continue;
      if (u === 0 || v === 0 || u === w - 1 || v === h - 1 || src[i - 1] !== id || src[i + 1] !== id || src[i - w] !== id || src[i + w] !== id) mask[i] = 0;
    }
  }
}

function widthError(seeds: number[], repair: number, k: number): number {
  const errs: number[] = [];
  for (const seed of seeds) {
    const { frame, truth } = scene(seed);
    erode(frame.instances!.image.data, 320, 240, k);
    const s = new Perception({ maskRepairPixels: repair }).process(frame);
    for (const p of matchBoxes(truth.objects, s.objects).pairs) errs.push((p.est.size.y - p.truth.size.y) / p.truth.size.y);
  }
  return errs.sort((a, b) => a - b)[errs.length >> 1];
}

describe("instance masks repaired by depth", () => {
  it("masks eroded by 2 px: repaired, widths come back (median error under 3%); unrepaired they lose ~10%", () => {
    const seeds = [7_500_001, 7_500_002, 7_500_003, 7_500_004];
    const repaired = widthError(seeds, 2, 2), raw = widthError(seeds, 0, 2);
    expect(Math.abs(repaired)).toBeLessThan(0.03);
    expect(raw).toBeLessThan(-0.06);
  });

  it("exact masks: the repair changes nothing that matters (widths within 3% either way)", () => {
    expect(Math.abs(widthError([7_500_005, 7_500_006], 2, 0))).toBeLessThan(0.03);
  });

  it("a neighbour's pixels in an instance's mask are dropped and counted", () => {
    const { frame, truth } = scene(7_500_007);
    const mask = frame.instances!.image.data;
    // Label a scattered few pixels of instance 2 as instance 1 (ragged mask boundaries).
    let moved = 0;
    for (let i = 0; i < mask.length && moved < 12; i += 7) if (mask[i] === 2 && mask[i - 1] === 2 && mask[i + 1] === 2) { mask[i] = 1; moved++; }
    expect(moved).toBe(12);
    const p = new Perception();
    const s = p.process(frame);
    expect(p.counters.get("dropped.mask_island_pixels")).toBeGreaterThanOrEqual(10);
    // Instance 1's box is not stretched towards instance 2.
    const one = matchBoxes(truth.objects.slice(0, 1), s.objects).pairs[0];
    expect(Math.abs(one.est.size.y - one.truth.size.y) / one.truth.size.y).toBeLessThan(0.05);
  });

  it("maskRepairPixels must be an integer in [0, 8]", () => {
    for (const bad of [-1, 9, 1.5, Number.NaN, Infinity]) {
      expect(() => new Perception({ maskRepairPixels: bad })).toThrow(InvalidInputError);
    }
    expect(() => new Perception({ maskRepairPixels: 0 })).not.toThrow();
  });
});
