import { describe, expect, it } from "vitest";
import { Perception } from "../../src/perception/perception.js";
import type { RgbdFrame } from "../../src/perception/rgbd_frame.js";
import { copyFrame, simFrame } from "./sim_frame.js";

/** The frame with instance `label` removed from the mask and its depth moved by `dz` (negative: an occluder in front). */
function without(f: RgbdFrame, label: number, dz: number, stamp: bigint): RgbdFrame {
  const g = copyFrame(f);
  g.stamp = stamp;
  const mask = g.instances!.image, depth = g.depth;
  const dv = new DataView(depth.data.buffer, depth.data.byteOffset, depth.data.byteLength);
  for (let v = 0; v < mask.height; v++) for (let u = 0; u < mask.width; u++) {
    if (mask.data[v * mask.step + u] !== label) continue;
    mask.data[v * mask.step + u] = 0;
    const at = v * depth.step + u * 4;
    dv.setFloat32(at, dv.getFloat32(at, true) + dz, true);
  }
  return g;
}

describe("objects hidden for a few frames stay in the scene", () => {
  const base = simFrame(7_600_001, { width: 320, height: 240 });
  const at = (k: number) => ({ ...copyFrame(base), stamp: BigInt(k) * 33_333_333n });

  it("hidden behind something nearer: held for holdFrames frames with its id and box, then dropped", () => {
    const p = new Perception();
    let scene = p.process(at(0));
    for (let k = 1; k < 4; k++) scene = p.process(at(k));
    const n = scene.objects.length;
    const target = scene.objects[0];
    // Which instance label is it? The one whose removal drops it.
    let label = 0;
    for (let l = 1; l <= 30 && label === 0; l++) {
      const trial = new Perception().process(without(base, l, -0.1, 0n));
      if (trial.objects.length === n - 1 && !trial.objects.some((o) => Math.hypot(o.center.x - target.center.x, o.center.y - target.center.y) < 0.02)) label = l;
    }
    expect(label).toBeGreaterThan(0);
    for (let k = 4; k < 4 + 5; k++) {
      const s = p.process(without(base, label, -0.1, BigInt(k) * 33_333_333n));
      const held = s.objects.find((o) => o.id === target.id);
      expect(held, `frame ${k}`).toBeDefined();
      expect(held!.center.x).toBeCloseTo(target.center.x, 3);
      expect(held!.confidence).toBeLessThan(target.confidence);
    }
    const after = p.process(without(base, label, -0.1, 9n * 33_333_333n));
    expect(after.objects.some((o) => o.id === target.id)).toBe(false);
  });

  it("gone (the table seen where it was): not held", () => {
    const p = new Perception();
    let scene = p.process(at(0));
    for (let k = 1; k < 4; k++) scene = p.process(at(k));
    const target = scene.objects[0];
    let label = 0;
    for (let l = 1; l <= 30 && label === 0; l++) {
      const trial = new Perception().process(without(base, l, 0.3, 0n));
      if (trial.objects.length === scene.objects.length - 1 && !trial.objects.some((o) => Math.hypot(o.center.x - target.center.x, o.center.y - target.center.y) < 0.02)) label = l;
    }
    expect(label).toBeGreaterThan(0);
    const s = p.process(without(base, label, 0.3, 4n * 33_333_333n));
    expect(s.objects.some((o) => o.id === target.id)).toBe(false);
  });
});
