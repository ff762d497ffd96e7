import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parse } from "@foxglove/rosmsg";
import { MessageReader } from "@foxglove/rosmsg2-serialization";
import { describe, expect, it } from "vitest";
import { CdrCodec } from "../../src/msgs/cdr_codec.js";
import { MSG_DEFINITIONS, type MessageTypeName } from "../../src/msgs/generated.js";
import { msgDependencies, ros2msgFullText, ros2Schema } from "../../src/record/ros2msg_schema.js";

const root = join(dirname(fileURLToPath(import.meta.url)), "../..");
const SEP = "=".repeat(80);

/**
 * geometry_msgs/msg/PoseStamped as rosbag2's mcap storage plugin and foxglove_bridge (the same
 * message definition cache) write it on Humble: each installed .msg file's text with its final
 * newline, dependencies in sorted order (geometry_msgs/Pose before std_msgs/Header), each
 * after "\n" + 80 '=' + "\nMSG: <pkg/Type>\n". Written out by hand from that algorithm and the
 * Humble files, and identical to a schema a foxglove_bridge on Humble advertises.
 */
const POSE_STAMPED = [
  "# A Pose with reference coordinate frame and timestamp\n\nstd_msgs/Header header\nPose pose\n",
  `${SEP}\nMSG: geometry_msgs/Pose\n# A representation of pose in free space, composed of position and orientation.\n\nPoint position\nQuaternion orientation\n`,
  `${SEP}\nMSG: geometry_msgs/Point\n# This contains the position of a point in free space\nfloat64 x\nfloat64 y\nfloat64 z\n`,
  `${SEP}\nMSG: geometry_msgs/Quaternion\n# This represents an orientation in free space in quaternion form.\n\nfloat64 x 0\nfloat64 y 0\nfloat64 z 0\nfloat64 w 1\n`,
  `${SEP}\nMSG: std_msgs/Header\n# Standard metadata for higher-level stamped data types.\n# This is generally used to communicate timestamped data\n# in a particular coordinate frame.\n\n` +
    "# Two-integer timestamp that is expressed as seconds and nanoseconds.\nbuiltin_interfaces/Time stamp\n\n# Transform frame with which this data is associated.\nstring frame_id\n",
  `${SEP}\nMSG: builtin_interfaces/Time\n# This message communicates ROS Time defined here:\n# https://design.ros2.org/articles/clock_and_time.html\n\n` +
    "# The seconds component, valid over all int32 values.\nint32 sec\n\n# The nanoseconds component, valid in the range [0, 1e9).\nuint32 nanosec\n",
].join("\n");

const HEADER = [
  "# Standard metadata for higher-level stamped data types.\n# This is generally used to communicate timestamped data\n# in a particular coordinate frame.\n\n" +
    "# Two-integer timestamp that is expressed as seconds and nanoseconds.\nbuiltin_interfaces/Time stamp\n\n# Transform frame with which this data is associated.\nstring frame_id\n",
  `${SEP}\nMSG: builtin_interfaces/Time\n# This message communicates ROS Time defined here:\n# https://design.ros2.org/articles/clock_and_time.html\n\n` +
    "# The seconds component, valid over all int32 values.\nint32 sec\n\n# The nanoseconds component, valid in the range [0, 1e9).\nuint32 nanosec\n",
].join("\n");

describe("ros2msg schemas as ros2 bag writes them", () => {
  it("std_msgs/Header and geometry_msgs/PoseStamped are byte-identical to rosbag2's", () => {
    expect(ros2msgFullText("std_msgs/msg/Header")).toBe(HEADER);
    expect(ros2msgFullText("geometry_msgs/msg/PoseStamped")).toBe(POSE_STAMPED);
    const schema = ros2Schema("geometry_msgs/msg/PoseStamped");
    expect(schema).toMatchObject({ name: "geometry_msgs/msg/PoseStamped", encoding: "ros2msg", source: "installed" });
    expect(new TextDecoder().decode(schema.data)).toBe(POSE_STAMPED);
  });

  it("follows rosbag2's own test case (test_message_definition_cache.cpp, can_find_msg_deps)", () => {
    const texts = { "rosbag2_storage_mcap_testdata/msg/ComplexMsg": "rosbag2_storage_mcap_testdata/BasicMsg b\n", "rosbag2_storage_mcap_testdata/msg/BasicMsg": "float32 c\n" };
    expect(ros2msgFullText("rosbag2_storage_mcap_testdata/ComplexMsg", texts)).toBe(
      `rosbag2_storage_mcap_testdata/BasicMsg b\n\n${SEP}\nMSG: rosbag2_storage_mcap_testdata/BasicMsg\nfloat32 c\n`,
    );
  });

  it("sensor_msgs/Image: the installed Image.msg, then Header, then Time, each once", () => {
    const image = readFileSync(join(root, "node_modules/@foxglove/rosmsg-msgs-common/msgdefs/ros2humble/sensor_msgs/msg/Image.msg"), "utf8").split(`\n${SEP}\n`)[0];
    expect(ros2msgFullText("sensor_msgs/msg/Image")).toBe(`${image}\n${SEP}\nMSG: std_msgs/Header\n${HEADER}`);
    expect(image).toContain("uint8[] data          # actual matrix data, size is (step * rows)\n");
  });

  it("our messages: the .msg file as written (comments kept), then its dependencies", () => {
    const reward = readFileSync(join(root, "msgs/msg/Reward.msg"), "utf8");
    expect(ros2msgFullText("spatial_reward_msgs/msg/Reward")).toBe(`${reward}\n${SEP}\nMSG: std_msgs/Header\n${HEADER}`);
    const objects = readFileSync(join(root, "msgs/msg/SceneObjects.msg"), "utf8");
    const text = ros2msgFullText("spatial_reward_msgs/msg/SceneObjects")!;
    expect(text.startsWith(`${objects}\n${SEP}\nMSG: spatial_reward_msgs/SceneObject\n`)).toBe(true);
    // Sorted: spatial_reward_msgs/SceneObject < std_msgs/Header; SceneObject's own deps follow it depth first.
    const sections = text.split("\n").filter((l) => l.startsWith("MSG: ")).map((l) => l.slice(5));
    expect(sections).toEqual(["spatial_reward_msgs/SceneObject", "geometry_msgs/Point", "geometry_msgs/Vector3", "std_msgs/Header", "builtin_interfaces/Time"]);
  });

  it("finds dependencies as rosbag2's regular expression does (comments, arrays, same-package names)", () => {
    const text = "# comment Foo bar\nuint8 X=1\n\n  Point[] points  # trailing\nstd_msgs/Header header\nstring<=8 short\nfloat64[3] v\nbuiltin_interfaces/Time t\n";
    expect(msgDependencies(text, "geometry_msgs")).toEqual(["builtin_interfaces/Time", "geometry_msgs/Point", "std_msgs/Header"]);
  });

  it("every message type's schema parses, resolves every dependency, and decodes what the codec writes", () => {
    for (const type of Object.keys(MSG_DEFINITIONS).filter((n) => n.includes("/msg/")) as MessageTypeName[]) {
      const schema = ros2Schema(type);
      expect(schema.source, type).toBe("installed");
      const text = new TextDecoder().decode(schema.data);
      // Without skipTypeFixup the parser throws if a referenced type has no MSG: section.
      const defs = parse(text, { ros2: true });
      const fields = (t: string) => parse(t, { ros2: true })[0].definitions.filter((f) => !f.isConstant).map((f) => [f.name, f.type.replace("/msg/", "/"), f.isArray === true]);
      expect(fields(text), type).toEqual(fields(MSG_DEFINITIONS[type]));
      expect(defs.length).toBeGreaterThan(0);
    }
    const codec = new CdrCodec("geometry_msgs/msg/PoseStamped");
    const msg = { header: { stamp: { sec: 12, nanosec: 345 }, frame_id: "world" }, pose: { position: { x: 1, y: 2, z: 3 }, orientation: { x: 0, y: 0, z: 0.6, w: 0.8 } } };
    const reader = new MessageReader(parse(POSE_STAMPED, { ros2: true }));
    expect(reader.readMessage(codec.encode(msg))).toEqual(msg);
  });

  it("refuses names that are not message types, and unknown types", () => {
    expect(() => ros2Schema("not a type")).toThrow(/not a ROS 2 message type name/);
    expect(() => ros2Schema("nope_msgs/msg/Nothing")).toThrow(/no message definition/);
    expect(ros2msgFullText("nope_msgs/msg/Nothing")).toBeUndefined();
  });
});
