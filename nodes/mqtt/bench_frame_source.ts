import { InvalidInputError } from "../../src/errors.js";
import { Handedness, LengthUnit, UpAxis, type MocapFrame } from "../../src/msgs/mocap_proto.js";
import type { MocapFrameSource } from "./mocap_publisher.js";

/**
 * The load of `mocap bench`: one stream of frames with `bodies` tracked rigid bodies
 * (rb_00, rb_01...) circling slowly (0.2 m/s, well inside the validator's jump limit) and one
 * skeleton of `joints` joints in a chain, in REP-103 metres, no markers. Frame numbers count from
 * 0; the device timestamp is the tick's device time. One frame object is reused (the publisher
 * encodes it before the next tick), so a tick allocates nothing here.
 */
export class BenchFrameSource implements MocapFrameSource {
  private readonly frame: MocapFrame;
  private n = 0n;

  constructor(readonly streamId: string, readonly bodies: number, readonly joints: number) {
    if (!Number.isInteger(bodies) || bodies < 0 || bodies > 1024) throw new InvalidInputError("bad_argument", `bench bodies must be an integer from 0 to 1024, got ${bodies}`);
    if (!Number.isInteger(joints) || joints < 0 || joints > 8192) throw new InvalidInputError("bad_argument", `bench joints must be an integer from 0 to 8192, got ${joints}`);
    this.frame = {
      stream_id: streamId,
      frame_number: 0n,
      device_timestamp_ns: 0n,
      system_latency_ms: 0,
      axes: { up_axis: UpAxis.Z_UP, handedness: Handedness.RIGHT_HANDED, unit: LengthUnit.METERS },
      rigid_bodies: Array.from({ length: bodies }, (_, i) => ({
        id: i + 1, name: `rb_${String(i).padStart(2, "0")}`, position: { x: 0, y: 0, z: 1 }, orientation: { x: 0, y: 0, z: 0, w: 1 },
        mean_marker_error: 0.0004, tracked: true,
      })),
      markers: [],
      skeletons: joints === 0 ? [] : [{
        id: 1, name: "operator",
        joints: Array.from({ length: joints }, (_, j) => ({
          name: `joint_${String(j).padStart(2, "0")}`, parent: j - 1, position: { x: 0, y: 0, z: 0.03 }, orientation: { x: 0, y: 0, z: 0, w: 1 }, tracked: true,
        })),
      }],
    };
  }

  next(deviceNs: bigint): MocapFrame {
    const f = this.frame;
    f.frame_number = this.n++;
    f.device_timestamp_ns = deviceNs;
    // 0.2 m/s on a 0.1 m circle per body, phase-shifted: plausible motion for the validator.
    const t = Number(deviceNs % 1_000_000_000_000n) / 1e9;
    for (let i = 0; i < f.rigid_bodies.length; i++) {
      const b = f.rigid_bodies[i];
      const a = 2 * t + i;
      b.position.x = 0.1 * (i % 10) + 0.1 * Math.cos(a);
      b.position.y = 0.1 * Math.floor(i / 10) + 0.1 * Math.sin(a);
      b.position.z = 1;
      b.orientation.z = Math.sin(a / 2);
      b.orientation.w = Math.cos(a / 2);
    }
    return f;
  }
}
