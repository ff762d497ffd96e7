import { Handedness, LengthUnit, UpAxis, type AxisConvention, type MocapFrame, type RigidBody } from "../../src/msgs/mocap_proto.js";

export const REP103: AxisConvention = { up_axis: UpAxis.Z_UP, handedness: Handedness.RIGHT_HANDED, unit: LengthUnit.METERS };

export function body(id: number, name: string, x = 0, y = 0, z = 0, q = { x: 0, y: 0, z: 0, w: 1 }, tracked = true): RigidBody {
  return { id, name, position: { x, y, z }, orientation: { ...q }, mean_marker_error: 2 ** -10, tracked };
}

/** A frame at 240 Hz of device time: frame n is at n × 1/240 s. */
export function frame(n: number | bigint, opts: Partial<MocapFrame> = {}): MocapFrame {
  const num = BigInt(n);
  return {
    stream_id: "s1",
    frame_number: num,
    device_timestamp_ns: 1_000_000_000n + (num * 1_000_000_000n) / 240n,
    system_latency_ms: 2.5,
    axes: { ...REP103 },
    rigid_bodies: [body(1, "hand", 0.1, 0.2, 0.3), body(2, "mug", 0.5, 0, 0.8)],
    markers: [{ id: 7, position: { x: 0.1, y: 0.2, z: 0.35 }, residual: 2 ** -12, occluded: false }],
    skeletons: [
      {
        id: 1,
        name: "operator",
        joints: [
          { name: "hips", parent: -1, position: { x: 0, y: 0, z: 1 }, orientation: { x: 0, y: 0, z: 0, w: 1 }, tracked: true },
          { name: "spine", parent: 0, position: { x: 0, y: 0, z: 0.2 }, orientation: { x: 0, y: 0, z: 0, w: 1 }, tracked: true },
        ],
      },
    ],
    ...opts,
  };
}

/** Protobuf varint of a non-negative bigint, written independently of protobufjs. */
export function varint(v: bigint): number[] {
  const out: number[] = [];
  do {
    let b = Number(v & 0x7fn);
    v >>= 7n;
    if (v > 0n) b |= 0x80;
    out.push(b);
  } while (v > 0n);
  return out;
}

/** A length-delimited field: tag, length, bytes. */
export function lenField(field: number, bytes: number[]): number[] {
  return [...varint(BigInt((field << 3) | 2)), ...varint(BigInt(bytes.length)), ...bytes];
}

/** `depth` length-delimited fields numbered `field`, each inside the previous, built in linear time. */
export function nested(field: number, depth: number): Uint8Array {
  const headers: number[][] = [];
  let len = 0;
  for (let i = 0; i < depth; i++) {
    const h = [...varint(BigInt((field << 3) | 2)), ...varint(BigInt(len))];
    headers.push(h);
    len += h.length;
  }
  const out = new Uint8Array(len);
  let pos = 0;
  for (let i = headers.length - 1; i >= 0; i--) {
    out.set(headers[i], pos);
    pos += headers[i].length;
  }
  return out;
}
