import { describe, expect, it } from "vitest";
import { InvalidInputError } from "../../src/errors.js";
import { cameraToSpatial, frameFromUp, spatialToCamera } from "../../src/geometry/spatial_frame.js";
import { mulberry32 } from "../../src/random/mulberry32.js";

/**
 * frameFromUp: the rotation's rows are forward (the optical axis on the horizontal plane),
 * left (up x forward) and up (the given direction, normalised), in that order; each frame gets
 * its own rotation array; the support's z is minus the offset.
 */
describe("frameFromUp", () => {
  it("rows forward, left, up: orthonormal, right-handed, up as given, forward the optical axis projected, for random camera tilts", () => {
    const rand = mulberry32(9);
    for (let trial = 0; trial < 200; trial++) {
      const up = { x: (rand() - 0.5) * 0.6, y: -0.3 - rand(), z: -0.2 - rand() };
      const scale = 0.1 + rand() * 10;
      const f = frameFromUp({ x: up.x * scale, y: up.y * scale, z: up.z * scale }, 1.25);
      const R = f.rotation;
      expect(R).toBeInstanceOf(Float64Array);
      expect(R.length).toBe(9);
      const row = (i: number) => [R[i * 3], R[i * 3 + 1], R[i * 3 + 2]];
      const [fw, left, u] = [row(0), row(1), row(2)];
      const n = Math.hypot(up.x, up.y, up.z);
      expect(u[0]).toBeCloseTo(up.x / n, 12); expect(u[1]).toBeCloseTo(up.y / n, 12); expect(u[2]).toBeCloseTo(up.z / n, 12);
      // Forward: (0, 0, 1) minus its component along up, normalised.
      const fx = -u[2] * u[0], fy = -u[2] * u[1], fz = 1 - u[2] * u[2], fn = Math.hypot(fx, fy, fz);
      expect(fw[0]).toBeCloseTo(fx / fn, 12); expect(fw[1]).toBeCloseTo(fy / fn, 12); expect(fw[2]).toBeCloseTo(fz / fn, 12);
      // Left = up x forward.
      expect(left[0]).toBeCloseTo(u[1] * fw[2] - u[2] * fw[1], 12);
      expect(left[1]).toBeCloseTo(u[2] * fw[0] - u[0] * fw[2], 12);
      expect(left[2]).toBeCloseTo(u[0] * fw[1] - u[1] * fw[0], 12);
      for (let a = 0; a < 3; a++) for (let b = 0; b < 3; b++) {
        const d = row(a)[0] * row(b)[0] + row(a)[1] * row(b)[1] + row(a)[2] * row(b)[2];
        expect(d).toBeCloseTo(a === b ? 1 : 0, 12);
      }
      expect(f.supportZ).toBe(-1.25);
      // Spatial → camera → spatial is the identity; the optical axis points forward and level.
      const p = { x: rand(), y: rand(), z: rand() };
      const back = cameraToSpatial(f, spatialToCamera(f, p));
      expect(back.x).toBeCloseTo(p.x, 12); expect(back.y).toBeCloseTo(p.y, 12); expect(back.z).toBeCloseTo(p.z, 12);
      const axis = cameraToSpatial(f, { x: 0, y: 0, z: 1 });
      expect(axis.x).toBeGreaterThan(0);
      expect(axis.y).toBeCloseTo(0, 12);
    }
  });

  it("each frame owns its rotation (a caller keeping last frame's is not changed by the next); null offset: no support", () => {
    const a = frameFromUp({ x: 0, y: -0.8, z: -0.6 }, 1);
    const kept = Float64Array.from(a.rotation);
    const b = frameFromUp({ x: 0.1, y: -0.7, z: -0.7 }, null);
    expect(b.rotation).not.toBe(a.rotation);
    expect(Array.from(a.rotation)).toEqual(Array.from(kept));
    expect(b.supportZ).toBeNull();
  });

  it("a zero, non-finite or straight-down-the-axis up is a bad_argument", () => {
    for (const up of [{ x: 0, y: 0, z: 0 }, { x: NaN, y: 1, z: 0 }, { x: 0, y: Infinity, z: 1 }, { x: 0, y: 0, z: -2 }]) {
      expect(() => frameFromUp(up, 1)).toThrow(InvalidInputError);
    }
  });
});
