import { describe, expect, it } from "vitest";
import { mocapFrameMessage, mocapPoses, MOCAP_FRAME_ID } from "../../src/mocap/mocap_poses.js";
import { MocapValidator, type ValidatedMocapFrame } from "../../src/mocap/mocap_validator.js";
import { CdrCodec } from "../../src/msgs/cdr_codec.js";
import { Handedness, LengthUnit, UpAxis } from "../../src/msgs/mocap_proto.js";
import { body, frame } from "./mocap_fixtures.js";

const STAMP = 1_700_000_000_123_456_789n;

function released(): ValidatedMocapFrame {
  const f = frame(42, { axes: { up_axis: UpAxis.Y_UP, handedness: Handedness.RIGHT_HANDED, unit: LengthUnit.MILLIMETERS } });
  f.rigid_bodies = [body(1, "hand", 0, 1000, -500), body(2, "mug", 0, 0, 0, { x: 0, y: 0, z: 0, w: 0 }, false), body(3, "bowl", 200, 0, 0)];
  const [v] = new MocapValidator().push(f, STAMP + 7_000_000n);
  return v;
}

describe("mocap poses", () => {
  it("gives a PoseStamped and a transform per tracked rigid body, in frame 'mocap', stamped with the host stamp", () => {
    const v = released();
    const { poses, tf } = mocapPoses(v, STAMP);
    expect(poses.map((p) => [p.id, p.name])).toEqual([[1, "hand"], [3, "bowl"]]);
    expect(poses[0].pose.header).toEqual({ stamp: { sec: 1_700_000_000, nanosec: 123_456_789 }, frame_id: MOCAP_FRAME_ID });
    expect(poses[0].pose.pose.position.x).toBeCloseTo(0.5, 12);
    expect(poses[0].pose.pose.position.z).toBeCloseTo(1, 12);
    expect(poses[1].pose.pose.position.y).toBeCloseTo(-0.2, 12);
    expect(tf.transforms.map((t) => [t.header.frame_id, t.child_frame_id])).toEqual([["mocap", "hand"], ["mocap", "bowl"]]);
    expect(tf.transforms[0].transform.translation).toEqual(poses[0].pose.pose.position);
    expect(tf.transforms[0].transform.rotation).toEqual(poses[0].pose.pose.orientation);
  });

  it("messages do not alias the frame", () => {
    const v = released();
    const { poses } = mocapPoses(v, STAMP);
    v.frame.rigid_bodies[0].position.x = 99;
    expect(poses[0].pose.pose.position.x).toBeCloseTo(0.5, 12);
  });

  it("refuses an unconverted frame, a bad stamp and an unusable frame id", () => {
    const raw = { frame: frame(1, { axes: { up_axis: UpAxis.Y_UP, handedness: Handedness.RIGHT_HANDED, unit: LengthUnit.METERS } }), receiveNs: 0n };
    expect(() => mocapPoses(raw, STAMP)).toThrow(/not in REP-103 metres/);
    expect(() => mocapPoses(released(), -1n)).toThrow(/outside/);
    expect(() => mocapPoses(released(), STAMP, "")).toThrow(/frame id/);
    expect(() => mocapFrameMessage(raw, STAMP)).toThrow(/not in REP-103 metres/);
  });

  it("builds spatial_reward_msgs/MocapFrame with parallel arrays that CDR-encode and decode back", () => {
    const v = released();
    const msg = mocapFrameMessage(v, STAMP);
    expect(msg.header.frame_id).toBe("mocap");
    expect(msg.frame_number).toBe(42n);
    expect(msg.device_stamp_ns).toBe(v.frame.device_timestamp_ns);
    expect(msg.receive_stamp).toEqual({ sec: 1_700_000_000, nanosec: 130_456_789 });
    expect(msg.latency).toBeCloseTo(0.007, 12);
    expect(msg.source_latency).toBeCloseTo(0.0025, 12);
    expect(msg.body_names).toEqual(["hand", "mug", "bowl"]);
    expect(msg.body_tracked).toEqual([true, false, true]);
    expect(Array.from(msg.body_ids)).toEqual([1, 2, 3]);
    expect(Array.from(msg.skeleton_joint_counts)).toEqual([2]);
    expect(msg.joint_names).toEqual(["hips", "spine"]);
    expect(Array.from(msg.joint_parents)).toEqual([-1, 0]);
    const codec = new CdrCodec("spatial_reward_msgs/msg/MocapFrame");
    const back = codec.decode(codec.encode(msg));
    expect(back.frame_number).toBe(42n);
    expect(back.body_names).toEqual(msg.body_names);
    expect(back.body_poses[0].position.x).toBeCloseTo(msg.body_poses[0].position.x, 12);
    expect(Array.from(back.marker_residuals)).toEqual(Array.from(msg.marker_residuals));
    expect(back.joint_tracked).toEqual([true, true]);
  });
});
