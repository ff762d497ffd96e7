import { InvalidInputError } from "../errors.js";
import { Handedness, LengthUnit, UpAxis, type AxisConvention, type Quaternion, type Vector3 } from "../msgs/mocap_proto.js";

/**
 * A mocap stream's declared axes and unit → REP-103 (x forward, y left, z up, right-handed)
 * and metres.
 *
 * The mapping is a signed axis permutation C (REP axis i = sign[i] · source axis perm[i]) and
 * a scale. The conventions, as msgs/proto/mocap.proto declares them:
 *
 * | declared              | source axes                                   | REP-103 (x, y, z) from source |
 * |-----------------------|-----------------------------------------------|-------------------------------|
 * | Y_UP, RIGHT_HANDED    | x right, y up, z towards the viewer (NatNet)  | (−z, −x, y)                   |
 * | Y_UP, LEFT_HANDED     | x right, y up, z away from the viewer (Unity) | ( z, −x, y)                   |
 * | Z_UP, RIGHT_HANDED    | x forward, y left, z up (Vicon = REP-103)     | ( x,  y, z)                   |
 * | Z_UP, LEFT_HANDED     | x forward, y right, z up (Unreal)             | ( x, −y, z)                   |
 *
 * Y_UP right-handed is Motive/NatNet's frame (Motive 1.7+ is right-handed y-up; the
 * calibration square's long arm is +z and its short arm +x). The proto fixes "x right when
 * facing the volume's front, z towards the viewer": the viewer looks along −z, so REP-103
 * forward is −z and left is −x. With an OptiTrack CS-200/CS-400 square that puts REP-103's x
 * along the long arm pointing back towards the corner, and y opposite the short arm. A
 * left-handed variant is its right-handed sibling with the horizontal axis that is not x
 * mirrored, which is how Unity (y-up) and Unreal (z-up) differ from NatNet and Vicon.
 *
 * Orientations: a rotation R in source coordinates is C R Cᵀ in REP-103. For a proper C
 * (det +1) the quaternion's vector part is mapped like a position, q' = (C v, w); for a
 * mirror (det −1) C R Cᵀ is still a rotation but the sense flips: q' = (−C v, w). So a
 * rotation of +θ about the source's up axis is +θ about REP-103 z for right-handed sources
 * and −θ for left-handed ones (the same physical turn, which a left-handed frame calls
 * positive). The same C applies to positions and rotations given relative to a parent joint
 * (C(R_p⁻¹(p − p_p)) = R'_p⁻¹(p' − p'_p)), so local and world skeleton poses convert alike.
 */
export interface AxisMapping {
  /** Source component feeding each REP-103 axis (0 = x, 1 = y, 2 = z). */
  readonly perm: readonly [number, number, number];
  /** Sign applied to that component. */
  readonly sign: readonly [number, number, number];
  /** det(C): −1 when the source is left-handed. */
  readonly det: 1 | -1;
  /** Metres per source unit. */
  readonly scale: number;
}

/** The convention frames have after conversion: REP-103 axes, metres. */
export const REP103_AXES: Readonly<AxisConvention> = Object.freeze({
  up_axis: UpAxis.Z_UP,
  handedness: Handedness.RIGHT_HANDED,
  unit: LengthUnit.METERS,
});

const SCALE: Readonly<Record<number, number>> = {
  [LengthUnit.METERS]: 1,
  [LengthUnit.CENTIMETERS]: 0.01,
  [LengthUnit.MILLIMETERS]: 0.001,
};

type Perm = readonly [number, number, number];
const AXES: Readonly<Record<string, { perm: Perm; sign: Perm }>> = {
  [`${UpAxis.Y_UP}/${Handedness.RIGHT_HANDED}`]: { perm: [2, 0, 1], sign: [-1, -1, 1] },
  [`${UpAxis.Y_UP}/${Handedness.LEFT_HANDED}`]: { perm: [2, 0, 1], sign: [1, -1, 1] },
  [`${UpAxis.Z_UP}/${Handedness.RIGHT_HANDED}`]: { perm: [0, 1, 2], sign: [1, 1, 1] },
  [`${UpAxis.Z_UP}/${Handedness.LEFT_HANDED}`]: { perm: [0, 1, 2], sign: [1, -1, 1] },
};

function determinant(perm: Perm, sign: Perm): 1 | -1 {
  // det of a signed permutation = product of signs × parity of the permutation.
  let parity = 1;
  for (let i = 0; i < 3; i++) for (let j = i + 1; j < 3; j++) if (perm[i] > perm[j]) parity = -parity;
  return (sign[0] * sign[1] * sign[2] * parity) as 1 | -1;
}

/** Every valid declaration, built once, so a frame's conversion allocates nothing. */
const MAPPINGS = new Map<string, AxisMapping>();
for (const [axes, { perm, sign }] of Object.entries(AXES)) {
  for (const [unit, scale] of Object.entries(SCALE)) {
    MAPPINGS.set(`${axes}/${unit}`, Object.freeze({ perm, sign, det: determinant(perm, sign), scale }));
  }
}

function nameOf(values: Readonly<Record<string, number>>, v: unknown): string {
  const hit = Object.entries(values).find(([, n]) => n === v);
  return hit ? hit[0] : `unknown value ${String(v)}`;
}

/**
 * The mapping for a declared convention. An unspecified or unknown up axis, handedness or unit
 * throws InvalidInputError("bad_axes"): a stream must say what its numbers mean; guessing would
 * put bodies in the wrong place without anyone noticing.
 */
export function axisMapping(axes: AxisConvention): AxisMapping {
  const m = axes ? MAPPINGS.get(`${axes.up_axis}/${axes.handedness}/${axes.unit}`) : undefined;
  if (m !== undefined) return m;
  if (!axes || typeof axes !== "object") throw new InvalidInputError("bad_axes", "the stream declares no axis convention");
  throw new InvalidInputError(
    "bad_axes",
    `the stream must declare its axes and unit: up_axis ${nameOf(UpAxis, axes.up_axis)}, handedness ${nameOf(Handedness, axes.handedness)}, ` +
      `unit ${nameOf(LengthUnit, axes.unit)} (need Y_UP or Z_UP, RIGHT_HANDED or LEFT_HANDED, METERS, CENTIMETERS or MILLIMETERS)`,
  );
}

/** A position (or any displacement) in REP-103 metres, written into `out` (may be `p`). */
export function convertPosition(m: AxisMapping, p: Vector3, out: Vector3 = p): Vector3 {
  const s0 = p.x, s1 = p.y, s2 = p.z;
  const x = m.perm[0] === 0 ? s0 : m.perm[0] === 1 ? s1 : s2;
  const y = m.perm[1] === 0 ? s0 : m.perm[1] === 1 ? s1 : s2;
  const z = m.perm[2] === 0 ? s0 : m.perm[2] === 1 ? s1 : s2;
  out.x = m.sign[0] * m.scale * x;
  out.y = m.sign[1] * m.scale * y;
  out.z = m.sign[2] * m.scale * z;
  return out;
}

/** An orientation as the REP-103 rotation C R Cᵀ, written into `out` (may be `q`). Norm is unchanged. */
export function convertOrientation(m: AxisMapping, q: Quaternion, out: Quaternion = q): Quaternion {
  const s0 = q.x, s1 = q.y, s2 = q.z;
  const x = m.perm[0] === 0 ? s0 : m.perm[0] === 1 ? s1 : s2;
  const y = m.perm[1] === 0 ? s0 : m.perm[1] === 1 ? s1 : s2;
  const z = m.perm[2] === 0 ? s0 : m.perm[2] === 1 ? s1 : s2;
  out.x = m.det * m.sign[0] * x;
  out.y = m.det * m.sign[1] * y;
  out.z = m.det * m.sign[2] * z;
  out.w = q.w;
  return out;
}

/** A length (error, residual) in metres. */
export function convertLength(m: AxisMapping, v: number): number {
  return v * m.scale;
}
