/** builtin_interfaces/Time as it travels on the wire. */
export interface RosTime {
  sec: number;
  nanosec: number;
}

const NS = 1_000_000_000n;

export function toNanoseconds(t: RosTime): bigint {
  return BigInt(t.sec) * NS + BigInt(t.nanosec);
}

export function fromNanoseconds(ns: bigint): RosTime {
  const sec = ns / NS;
  return { sec: Number(sec), nanosec: Number(ns - sec * NS) };
}

export function nanosecondsToMs(ns: bigint): number {
  return Number(ns) / 1e6;
}
