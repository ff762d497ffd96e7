import { describe, expect, it } from "vitest";
import { InvalidInputError } from "../../src/errors.js";
import { decodeMocapFrame, encodeMocapFrame } from "../../src/mocap/mocap_codec.js";
import { mocapFrameMessage } from "../../src/mocap/mocap_poses.js";
import { MocapValidator } from "../../src/mocap/mocap_validator.js";
import { bodyPose, rosBodyPose } from "../../src/lerobot/hand_state.js";
import type { spatial_reward_msgs__msg__MocapFrame } from "../../src/msgs/generated.js";
import { codecFor } from "../../src/transport/dds/codec_cache.js";
import { seededRandom } from "../record/mcap_test_helpers.js";
import { makeFrame } from "../mqtt/mqtt_fixtures.js";

/**
 * The state body's pose from the ingest's ROS MocapFrame (what `export lerobot` reads when an
 * episode has no protobuf mocap channel): the same pose bodyPose gives from the frame as sent,
 * each way a body can be unusable, and hostile messages (unequal arrays, mutated CDR bytes)
 * as a status or an InvalidInputError, never anything else.
 */
type MocapFrameMsg = spatial_reward_msgs__msg__MocapFrame;
const codec = codecFor("spatial_reward_msgs/msg/MocapFrame");

function rosFrame(n: bigint): MocapFrameMsg {
  const validator = new MocapValidator({ streamId: "s1" });
  const [v] = validator.push(decodeMocapFrame(encodeMocapFrame(makeFrame("s1", n, 1_000_000_000n))), 2_000_000_000n);
  return structuredClone(mocapFrameMessage(v, 1_500_000_000n));
}

describe("rosBodyPose", () => {
  it("gives the pose bodyPose gives from the frame as the source sent it (y-up mm → REP-103 m)", () => {
    const fromRos = new Float64Array(7), fromSource = new Float64Array(7);
    expect(rosBodyPose(rosFrame(5n), "hand", fromRos)).toBe("ok");
    expect(bodyPose(makeFrame("s1", 5n, 1_000_000_000n), "hand", fromSource)).toBe("ok");
    for (let i = 0; i < 7; i++) expect(fromRos[i]).toBeCloseTo(fromSource[i], 12);
  });

  it("absent, untracked, non-finite and non-unit bodies are named; unequal body arrays are a bad_message", () => {
    const out = new Float64Array(7);
    expect(rosBodyPose(rosFrame(1n), "left_foot", out)).toBe("absent");
    const untracked = rosFrame(1n);
    untracked.body_tracked[0] = false;
    expect(rosBodyPose(untracked, "hand", out)).toBe("untracked");
    const nan = rosFrame(1n);
    nan.body_poses[0].position.y = Number.NaN;
    expect(rosBodyPose(nan, "hand", out)).toBe("non_finite");
    const zero = rosFrame(1n);
    zero.body_poses[0].orientation = { x: 0, y: 0, z: 0, w: 0 };
    expect(rosBodyPose(zero, "hand", out)).toBe("bad_quaternion");
    const short = rosFrame(1n);
    short.body_poses.pop();
    expect(() => rosBodyPose(short, "hand", out)).toThrow(InvalidInputError);
    expect(() => rosBodyPose(short, "hand", out)).toThrow(/2 body_names but 1 body_poses/);
  });

  it("fuzz: 2000 mutated CDR MocapFrames decode to a status or fail with InvalidInputError", () => {
    const rand = seededRandom(20260707);
    const bytes = new Uint8Array(codec.encode(rosFrame(3n)));
    const out = new Float64Array(7);
    const seen = new Set<string>();
    for (let i = 0; i < 2000; i++) {
      const b = bytes.slice(0, i % 4 === 0 ? Math.floor(rand() * bytes.length) : bytes.length);
      for (let k = 0; k < 1 + Math.floor(rand() * 6); k++) if (b.length > 0) b[Math.floor(rand() * b.length)] ^= 1 << Math.floor(rand() * 8);
      let frame: MocapFrameMsg;
      try {
        frame = codec.decode(b) as MocapFrameMsg;
      } catch {
        seen.add("undecodable");
        continue;
      }
      try {
        const status = rosBodyPose(frame, "hand", out);
        seen.add(status);
        if (status === "ok") expect(Math.hypot(out[3], out[4], out[5], out[6])).toBeCloseTo(1, 9);
      } catch (e) {
        expect(e).toBeInstanceOf(InvalidInputError);
        seen.add("bad_message");
      }
    }
    expect(seen.has("ok")).toBe(true);
    expect(seen.size).toBeGreaterThan(2);
  });
});
