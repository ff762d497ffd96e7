import { describe, expect, it } from "vitest";
import { Perception } from "../../src/perception/perception.js";
import type { RgbdFrame } from "../../src/perception/rgbd_frame.js";
import { simFrame } from "./sim_frame.js";

/**
 * Perception.reserve(width, height): the camera-sized buffers made (and their pages written)
 * before the first frame, which the perception node does while it warms up. It must change no
 * result: the scenes equal those of an instance that allocated on its first frame, through
 * a change of intrinsics at the same size (the buffers are kept: what they held must not matter)
 * and a change of size.
 */
const stamped = (f: RgbdFrame, i: number): RgbdFrame => ({ ...f, stamp: 1_000_000_000n + BigInt(i) * 33_333_333n });

const json = (x: unknown) => JSON.stringify(x, (_, v: unknown) => (typeof v === "bigint" ? v.toString() : v));

function scenes(p: Perception, frames: RgbdFrame[]): string[] {
  return frames.map((f, i) => json(p.process(stamped(f, i))));
}

describe("Perception.reserve", () => {
  for (const segmentation of ["masks", "detections"] as const) {
    it(`leaves every scene as it was (${segmentation}; two cameras of one size, then another size)`, () => {
      const a = simFrame(21, { segmentation });
      const b = simFrame(22, { segmentation });
      // Same size, other intrinsics: the buffers are kept, holding the last frame's values.
      const other = { ...b, intrinsics: { ...b.intrinsics, fx: b.intrinsics.fx * 1.1, cx: b.intrinsics.cx + 3 } };
      const big = simFrame(23, { segmentation, width: 200, height: 150 });
      const frames = [a, a, other, b, big, a];
      const lazy = scenes(new Perception(), frames);
      expect(new Set(lazy).size).toBeGreaterThan(2);
      const reserved = new Perception();
      reserved.reserve(a.intrinsics.width, a.intrinsics.height);
      expect(scenes(reserved, frames)).toEqual(lazy);
      const wrongSize = new Perception();
      wrongSize.reserve(640, 480);
      expect(scenes(wrongSize, frames)).toEqual(lazy);
    });
  }

  it("refuses a size that is not two positive integers, and the instance still works", () => {
    const p = new Perception();
    for (const [w, h] of [[0, 480], [640, -1], [NaN, 480], [640, Infinity], [1.5, 2], [640, 2 ** 0.5]]) {
      expect(() => p.reserve(w, h), `${w}x${h}`).toThrow(/positive integers/);
    }
    const f = simFrame(24);
    expect(json(p.process(f))).toEqual(json(new Perception().process(f)));
  });
});
