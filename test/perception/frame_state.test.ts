import { describe, expect, it } from "vitest";
import { Perception } from "../../src/perception/perception.js";
import type { RgbdFrame } from "../../src/perception/rgbd_frame.js";
import { simFrame } from "./sim_frame.js";
import { rejectionCode } from "./rejection_code.js";
import { syntheticFrame } from "./synthetic_frame.js";



/** The same frame with every depth reading replaced by `z`: a wall seen head-on. */
function constantDepth(f: RgbdFrame, z: number): RgbdFrame {
  const d = new Float32Array(f.depth.width * f.depth.height).fill(z);
  return { ...f, depth: { ...f.depth, encoding: "32FC1", step: f.depth.width * 4, data: new Uint8Array(d.buffer) } };
}

describe("a rejected frame leaves no per-frame state behind", () => {
  it("a constant-depth frame (a wall seen head-on) is no_support_plane, and the next frames are processed", () => {
    const p = new Perception();
    const good = syntheticFrame();
    expect(rejectionCode(p, { ...constantDepth(good, 1.2), stamp: 1_000_000_000n })).toBe("no_support_plane");
    expect(p.counters.get("errors.no_support_plane")).toBe(1);
    for (let i = 1; i <= 3; i++) {
      expect(p.process({ ...good, stamp: 1_000_000_000n + BigInt(i) * 33_000_000n }).objects).toHaveLength(1);
    }
  });

  it("the same wall with detections instead of masks: no_support_plane, then the next frame is processed", () => {
    const p = new Perception();
    const good = simFrame(7, { segmentation: "detections" });
    const expected = new Perception().process(good).objects.length;
    expect(expected).toBeGreaterThan(0);
    expect(rejectionCode(p, constantDepth(good, 0.9))).toBe("no_support_plane");
    expect(p.process(good).objects).toHaveLength(expected);
  });

  it("every error raised after the masks were read still leaves the next frame its objects", () => {
    const good = simFrame(11, { segmentation: "masks" });
    const expected = new Perception().process(good).objects.length;
    expect(expected).toBeGreaterThanOrEqual(2);
    const bad: [string, RgbdFrame][] = [
      ["wall", constantDepth(good, 1.5)],
      ["no depth", constantDepth(good, 0)],
      ["NaN up vector", { ...good, upInCamera: { x: NaN, y: -1, z: 0 } }],
      ["infinite up vector", { ...good, upInCamera: { x: 0, y: -Infinity, z: 0 } }],
      ["up along the optical axis", { ...good, upInCamera: { x: 0, y: 0, z: -1 } }],
    ];
    const p = new Perception();
    for (const [name, frame] of bad) {
      const code = rejectionCode(p, frame);
      expect(code, name).not.toBe("accepted");
      const scene = p.process(good);
      expect(scene.objects.map((o) => o.kind).sort(), `after ${name}`).toEqual(new Perception().process(good).objects.map((o) => o.kind).sort());
    }
    expect(p.counters.get("errors.internal")).toBe(0);
  });

  it("a rejected frame changes nothing: the next frame's scene equals that of a twin that never saw it", () => {
    const good = simFrame(12, { segmentation: "masks" });
    const seen = new Perception(), twin = new Perception();
    seen.process(good);
    twin.process(good);
    expect(rejectionCode(seen, constantDepth(good, 1.1))).toBe("no_support_plane");
    expect(seen.lastFrame).toEqual(twin.lastFrame);
    expect(seen.process(good)).toEqual(twin.process(good));
  });

  it("reset() forgets stamps and tracks", () => {
    const p = new Perception();
    const f = syntheticFrame();
    p.process({ ...f, stamp: 100_000_000_000n });
    p.reset();
    expect(p.lastFrame).toBeNull();
    // An older stamp is fine after a reset (new session), and ids start again.
    const scene = p.process({ ...f, stamp: 1_000_000_000n });
    expect(scene.objects[0].id).toBe("cube#1");
    expect(p.counters.get("errors.out_of_order_stamp")).toBe(0);
  });
});
