import { InvalidInputError } from "../errors.js";

/** builtin_interfaces/Time as it travels on the wire. */
export interface RosTime {
  sec: number;
  nanosec: number;
}

const NS = 1_000_000_000n;
/** builtin_interfaces/Time.sec is an int32; stamps before the epoch are not camera stamps. */
export const MAX_STAMP_SEC = 2_147_483_647;
export const MAX_STAMP_NS = BigInt(MAX_STAMP_SEC) * NS + (NS - 1n);

/**
 * A header stamp off the wire → nanoseconds, validated: `sec` an integer in [0, 2^31 − 1],
 * `nanosec` an integer in [0, 10^9). Anything else throws InvalidInputError("bad_stamp"):
 * a nanosec of 10^9 or more would silently alias another instant, and NaN or fractions
 * cannot be converted at all.
 */
export function stampFromRos(t: RosTime): bigint {
  if (t === null || typeof t !== "object") throw new InvalidInputError("bad_stamp", `stamp must be a builtin_interfaces/Time {sec, nanosec}, got ${describe(t)}`);
  const { sec, nanosec } = t;
  if (typeof sec !== "number" || !Number.isInteger(sec) || sec < 0 || sec > MAX_STAMP_SEC) {
    throw new InvalidInputError("bad_stamp", `stamp sec must be an integer in [0, ${MAX_STAMP_SEC}], got ${describe(sec)}`);
  }
  if (typeof nanosec !== "number" || !Number.isInteger(nanosec) || nanosec < 0 || nanosec >= 1e9) {
    throw new InvalidInputError("bad_stamp", `stamp nanosec must be an integer in [0, 999999999], got ${describe(nanosec)}`);
  }
  return BigInt(sec) * NS + BigInt(nanosec);
}

/** Same as stampFromRos (validating); kept for existing callers. */
export function toNanoseconds(t: RosTime): bigint {
  return stampFromRos(t);
}

/**
 * A core stamp (bigint ns, e.g. RgbdFrame.stamp) that a builtin_interfaces/Time could have
 * carried: a bigint in [0, MAX_STAMP_NS]. Returns it, or throws InvalidInputError("bad_stamp").
 */
export function validateStampNs(ns: unknown): bigint {
  if (typeof ns !== "bigint") throw new InvalidInputError("bad_stamp", `stamp must be integer nanoseconds (bigint), got ${describe(ns)}`);
  if (ns < 0n || ns > MAX_STAMP_NS) throw new InvalidInputError("bad_stamp", `stamp ${ns} ns is outside [0, ${MAX_STAMP_NS}] (int32 seconds since the epoch)`);
  return ns;
}

/** A hostile value in an error message, without calling anything it defines (toString may throw). */
function describe(v: unknown): string {
  if (typeof v === "number" || typeof v === "bigint" || typeof v === "boolean" || v === undefined || v === null) return String(v);
  if (typeof v === "string") return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v);
  return typeof v;
}

export function fromNanoseconds(ns: bigint): RosTime {
  const sec = ns / NS;
  return { sec: Number(sec), nanosec: Number(ns - sec * NS) };
}

export function nanosecondsToMs(ns: bigint): number {
  return Number(ns) / 1e6;
}
