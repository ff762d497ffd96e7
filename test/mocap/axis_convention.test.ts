import { describe, expect, it } from "vitest";
import { rotateByQuaternion } from "../../src/geometry/quaternion.js";
import { axisMapping, convertLength, convertOrientation, convertPosition, REP103_AXES } from "../../src/mocap/axis_convention.js";
import { SpatialRewardError } from "../../src/errors.js";
import { Handedness, LengthUnit, UpAxis, type AxisConvention, type Quaternion } from "../../src/msgs/mocap_proto.js";
import { mulberry32 } from "../../src/random/mulberry32.js";

const conv = (up_axis: UpAxis, handedness: Handedness, unit: LengthUnit = LengthUnit.METERS): AxisConvention => ({ up_axis, handedness, unit });
const NATNET = conv(UpAxis.Y_UP, Handedness.RIGHT_HANDED);
const UNITY = conv(UpAxis.Y_UP, Handedness.LEFT_HANDED);
const VICON = conv(UpAxis.Z_UP, Handedness.RIGHT_HANDED);
const UNREAL = conv(UpAxis.Z_UP, Handedness.LEFT_HANDED);
const ALL = { NATNET, UNITY, VICON, UNREAL };

const pos = (a: AxisConvention, x: number, y: number, z: number) => ({ ...convertPosition(axisMapping(a), { x, y, z }, { x: 0, y: 0, z: 0 }) });
/** Rotation of `deg` about the unit axis (ax, ay, az). */
const aboutAxis = (ax: number, ay: number, az: number, deg: number): Quaternion => {
  const h = (deg * Math.PI) / 360;
  return { x: ax * Math.sin(h), y: ay * Math.sin(h), z: az * Math.sin(h), w: Math.cos(h) };
};
const close = (a: { x: number; y: number; z: number }, b: { x: number; y: number; z: number }) => {
  expect(a.x).toBeCloseTo(b.x, 12);
  expect(a.y).toBeCloseTo(b.y, 12);
  expect(a.z).toBeCloseTo(b.z, 12);
};

describe("axis conventions → REP-103 metres", () => {
  it("NatNet y-up (x right, z towards the viewer): away from the viewer is forward, right is −y, up is z", () => {
    close(pos(NATNET, 0, 0, -1), { x: 1, y: 0, z: 0 });
    close(pos(NATNET, 1, 0, 0), { x: 0, y: -1, z: 0 });
    close(pos(NATNET, 0, 1, 0), { x: 0, y: 0, z: 1 });
  });

  it("Vicon z-up right-handed is REP-103 already; the left-handed variants mirror exactly one axis", () => {
    close(pos(VICON, 1, 2, 3), { x: 1, y: 2, z: 3 });
    close(pos(UNREAL, 1, 2, 3), { x: 1, y: -2, z: 3 }); // y right → −y left
    close(pos(UNITY, 1, 2, 3), { x: 3, y: -1, z: 2 }); // z away from the viewer is forward
    close(pos(NATNET, 1, 2, 3), { x: -3, y: -1, z: 2 });
    expect(axisMapping(UNITY).det).toBe(-1);
    expect(axisMapping(UNREAL).det).toBe(-1);
    expect(axisMapping(NATNET).det).toBe(1);
  });

  it("scales centimetres and millimetres to metres (positions and lengths)", () => {
    close(pos(conv(UpAxis.Z_UP, Handedness.RIGHT_HANDED, LengthUnit.MILLIMETERS), 1000, -250, 3), { x: 1, y: -0.25, z: 0.003 });
    close(pos(conv(UpAxis.Y_UP, Handedness.RIGHT_HANDED, LengthUnit.CENTIMETERS), 0, 150, -200), { x: 2, y: 0, z: 1.5 });
    expect(convertLength(axisMapping(conv(UpAxis.Y_UP, Handedness.RIGHT_HANDED, LengthUnit.MILLIMETERS)), 2)).toBeCloseTo(0.002, 15);
  });

  it("90° about the source's up axis is +90° about REP-103 z for right-handed sources, −90° for left-handed ones", () => {
    const up = { NATNET: [0, 1, 0], UNITY: [0, 1, 0], VICON: [0, 0, 1], UNREAL: [0, 0, 1] } as const;
    for (const [name, a] of Object.entries(ALL)) {
      const [ux, uy, uz] = up[name as keyof typeof up];
      const q = convertOrientation(axisMapping(a), aboutAxis(ux, uy, uz, 90), { x: 0, y: 0, z: 0, w: 0 });
      const want = aboutAxis(0, 0, 1, axisMapping(a).det === 1 ? 90 : -90);
      expect([q.x, q.y, q.z, q.w].map((v) => Number(v.toFixed(12)))).toEqual([want.x, want.y, want.z, want.w].map((v) => Number(v.toFixed(12))));
    }
  });

  it("Unreal's +90° about z (forward turns to its +y, the right) turns REP-103 forward to −y (the right)", () => {
    // Unreal (x forward, y right): the matrix of +90° about z maps x → y, i.e. forward → right.
    const q = convertOrientation(axisMapping(UNREAL), aboutAxis(0, 0, 1, 90), { x: 0, y: 0, z: 0, w: 0 });
    close(rotateByQuaternion(q, { x: 1, y: 0, z: 0 }), { x: 0, y: -1, z: 0 });
  });

  it("conversion commutes with rotation for every convention: C(R p) = R' (C p), norms kept (random poses)", () => {
    const rand = mulberry32(11);
    for (const a of Object.values(ALL)) {
      const m = axisMapping(a);
      for (let i = 0; i < 200; i++) {
        const raw = { x: rand() - 0.5, y: rand() - 0.5, z: rand() - 0.5, w: rand() - 0.5 };
        const n = Math.hypot(raw.x, raw.y, raw.z, raw.w);
        const q = { x: raw.x / n, y: raw.y / n, z: raw.z / n, w: raw.w / n };
        const p = { x: rand() * 4 - 2, y: rand() * 4 - 2, z: rand() * 4 - 2 };
        const lhs = convertPosition(m, rotateByQuaternion(q, p), { x: 0, y: 0, z: 0 });
        const q2 = convertOrientation(m, q, { x: 0, y: 0, z: 0, w: 0 });
        const rhs = rotateByQuaternion(q2, convertPosition(m, p, { x: 0, y: 0, z: 0 }));
        close(lhs, rhs);
        expect(Math.hypot(q2.x, q2.y, q2.z, q2.w)).toBeCloseTo(1, 14);
      }
    }
  });

  it("converts in place when out is omitted", () => {
    const p = { x: 0, y: 1, z: 0 };
    expect(convertPosition(axisMapping(NATNET), p)).toBe(p);
    expect(p).toEqual({ x: -0, y: -0, z: 1 });
  });

  it("an unspecified or unknown up axis, handedness or unit is rejected with bad_axes naming what is missing", () => {
    const cases: [AxisConvention, RegExp][] = [
      [conv(UpAxis.UP_AXIS_UNSPECIFIED, Handedness.RIGHT_HANDED), /up_axis UP_AXIS_UNSPECIFIED/],
      [conv(UpAxis.Y_UP, Handedness.HANDEDNESS_UNSPECIFIED), /handedness HANDEDNESS_UNSPECIFIED/],
      [conv(UpAxis.Y_UP, Handedness.RIGHT_HANDED, LengthUnit.LENGTH_UNIT_UNSPECIFIED), /unit LENGTH_UNIT_UNSPECIFIED/],
      [{ up_axis: 9, handedness: 1, unit: 1 } as unknown as AxisConvention, /up_axis unknown value 9/],
      [null as unknown as AxisConvention, /declares no axis convention/],
    ];
    for (const [a, re] of cases) {
      let err: unknown;
      try {
        axisMapping(a);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(SpatialRewardError);
      expect((err as SpatialRewardError).code).toBe("bad_axes");
      expect((err as Error).message).toMatch(re);
    }
  });

  it("REP103_AXES is Z_UP, right-handed, metres (frames carry it after conversion)", () => {
    expect(REP103_AXES).toEqual(VICON);
    expect(axisMapping(REP103_AXES)).toMatchObject({ perm: [0, 1, 2], sign: [1, 1, 1], det: 1, scale: 1 });
  });
});
