import { describe, expect, it } from "vitest";
import { InvalidInputError } from "../../src/errors.js";
import { fromNanoseconds, MAX_STAMP_NS, stampFromRos, toNanoseconds, validateStampNs, type RosTime } from "../../src/time/ros_time.js";

function badStamp(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(InvalidInputError);
    expect((e as InvalidInputError).code).toBe("bad_stamp");
    return (e as Error).message;
  }
  throw new Error("expected bad_stamp");
}

describe("stampFromRos: builtin_interfaces/Time → ns, validated", () => {
  it("converts valid stamps exactly and round-trips", () => {
    expect(stampFromRos({ sec: 0, nanosec: 0 })).toBe(0n);
    expect(stampFromRos({ sec: 1, nanosec: 999_999_999 })).toBe(1_999_999_999n);
    expect(stampFromRos({ sec: 2_147_483_647, nanosec: 999_999_999 })).toBe(MAX_STAMP_NS);
    const t: RosTime = { sec: 1_700_000_000, nanosec: 123_456_789 };
    expect(fromNanoseconds(stampFromRos(t))).toEqual(t);
  });

  const bad: [string, RosTime][] = [
    ["nanosec = 1e9", { sec: 1, nanosec: 1_000_000_000 }],
    ["nanosec = 4294967295", { sec: 1, nanosec: 4_294_967_295 }],
    ["nanosec negative", { sec: 1, nanosec: -1 }],
    ["negative sec", { sec: -1, nanosec: 0 }],
    ["sec beyond int32", { sec: 2 ** 31, nanosec: 0 }],
    ["NaN sec", { sec: NaN, nanosec: 0 }],
    ["NaN nanosec", { sec: 0, nanosec: NaN }],
    ["Infinity sec", { sec: Infinity, nanosec: 0 }],
    ["non-integer sec", { sec: 1.5, nanosec: 0 }],
    ["non-integer nanosec", { sec: 1, nanosec: 0.25 }],
    ["sec as a string", { sec: "5" as unknown as number, nanosec: 0 }],
    ["missing nanosec", { sec: 5 } as RosTime],
  ];
  for (const [name, t] of bad) {
    it(`${name} → bad_stamp`, () => {
      expect(badStamp(() => stampFromRos(t))).toMatch(/stamp/);
      // toNanoseconds is the same validated conversion (kept for existing callers).
      badStamp(() => toNanoseconds(t));
    });
  }
  it("a missing stamp → bad_stamp", () => {
    badStamp(() => stampFromRos(undefined as unknown as RosTime));
    badStamp(() => stampFromRos(null as unknown as RosTime));
  });
});

describe("validateStampNs: a core stamp (bigint ns) a message could have carried", () => {
  it("accepts 0 .. MAX_STAMP_NS", () => {
    expect(validateStampNs(0n)).toBe(0n);
    expect(validateStampNs(MAX_STAMP_NS)).toBe(MAX_STAMP_NS);
  });
  it("rejects negative, too large and non-bigint stamps", () => {
    for (const s of [-1n, MAX_STAMP_NS + 1n, 2n ** 70n, NaN, 5, "5", undefined]) badStamp(() => validateStampNs(s));
  });
});
