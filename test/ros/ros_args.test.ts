import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { parseRosArgs } from "../../src/ros/ros_args.js";
import { parametersForNode } from "../../src/ros/param_file.js";

describe("ROS 2 command-line arguments", () => {
  it("parses remaps, typed parameters, parameter files and keeps the rest", () => {
    const a = parseRosArgs(
      ["--backend", "inproc", "--ros-args", "-r", "image:=/cam0/image", "-r", "__node:=perc2", "-r", "__ns:=/robot",
        "-p", "sync_slop_ms:=5", "-p", "segmentation:=detections", "-p", "flags:=[true, false]", "--params-file", "p.yaml", "--", "extra"],
      parse,
    );
    expect(a.remaps).toEqual(["image:=/cam0/image", "__node:=perc2", "__ns:=/robot"]);
    expect(a.parameters).toEqual({ sync_slop_ms: 5, segmentation: "detections", flags: [true, false] });
    expect(a.paramsFiles).toEqual(["p.yaml"]);
    expect(a.rest).toEqual(["--backend", "inproc", "extra"]);
  });

  it("rejects malformed ROS arguments with a clear error", () => {
    expect(() => parseRosArgs(["--ros-args", "-p", "nonsense"], parse)).toThrow(/name:=value/);
    expect(() => parseRosArgs(["--ros-args", "-r"], parse)).toThrow(/needs a value/);
    expect(() => parseRosArgs(["--ros-args", "--frobnicate"], parse)).toThrow(/unknown ROS argument/);
    expect(() => parseRosArgs(["--ros-args", "-p", "x:={a: 1}"], parse)).toThrow(/unsupported value/);
  });
});

describe("ROS 2 parameter files", () => {
  const doc = parse(`
/**:
  ros__parameters:
    frame_id: spatial
    diagnostics_period_ms: 1000
perception:
  ros__parameters:
    segmentation: masks
    sync:
      slop_ms: 0
/robot/perception:
  ros__parameters:
    segmentation: detections
reward:
  ros__parameters:
    reward_spec: put the red mug next to the blue bowl
`);

  it("merges wildcard, name and fully qualified entries, most specific last", () => {
    expect(parametersForNode(doc, "perception", "/")).toEqual({ frame_id: "spatial", diagnostics_period_ms: 1000, segmentation: "masks", "sync.slop_ms": 0 });
    expect(parametersForNode(doc, "perception", "/robot").segmentation).toBe("detections");
    expect(parametersForNode(doc, "reward", "/").reward_spec).toBe("put the red mug next to the blue bowl");
    expect(parametersForNode(doc, "spatial", "/")).toEqual({ frame_id: "spatial", diagnostics_period_ms: 1000 });
  });

  it("rejects entries without ros__parameters", () => {
    expect(() => parametersForNode({ perception: { segmentation: "masks" } }, "perception", "/")).toThrow(/ros__parameters/);
  });
});
