import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { logLevelFor, parseRosArgs } from "../../src/ros/ros_args.js";
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

describe("rcl's logging and security arguments", () => {
  it("accepts --log-level (default and per logger), --log-config-file, the log switches and -e", () => {
    const a = parseRosArgs(
      ["--ros-args", "--log-level", "WARN", "--log-level", "cam0.perception:=debug", "--log-config-file", "log.cfg",
        "--disable-rosout-logs", "--disable-stdout-logs", "--disable-external-lib-logs", "-e", "/robot/enclave"],
      parse,
    );
    expect(a.logLevel).toBe("warn");
    expect(a.loggerLevels).toEqual({ "cam0.perception": "debug" });
    expect(a.logConfigFile).toBe("log.cfg");
    expect([a.rosoutLogs, a.stdoutLogs, a.externalLibLogs]).toEqual([false, false, false]);
    expect(a.enclave).toBe("/robot/enclave");
    expect(logLevelFor(a, "cam0.perception")).toBe("debug");
    expect(logLevelFor(a, "reward")).toBe("warn");
    expect(logLevelFor(parseRosArgs([], parse), "reward")).toBe("info");
    expect(parseRosArgs(["--ros-args", "--enclave", "/x"], parse).enclave).toBe("/x");
  });

  it("rejects an unknown level or a malformed per-logger rule", () => {
    expect(() => parseRosArgs(["--ros-args", "--log-level", "loud"], parse)).toThrow(/unknown log level "loud"/);
    expect(() => parseRosArgs(["--ros-args", "--log-level", ":=debug"], parse)).toThrow(/LEVEL or name:=LEVEL/);
    expect(() => parseRosArgs(["--ros-args", "--log-level"], parse)).toThrow(/needs a value/);
  });
});
