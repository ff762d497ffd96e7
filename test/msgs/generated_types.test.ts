import { readFileSync, readdirSync, writeFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parse } from "@foxglove/rosmsg";
import { ros2humble } from "@foxglove/rosmsg-msgs-common";
import { describe, expect, it } from "vitest";
import {
  closure, constantsName, fieldType, fromCommon, fullDefinition, generateTypes, parseMsg, parseSrv, type MessageSpec,
} from "../../msgs/codegen/generate_types.js";
import { MSG_DEFINITIONS, SpatialAnswerStatus } from "../../src/msgs/generated.js";

const root = join(dirname(fileURLToPath(import.meta.url)), "../..");
const generatedPath = join(root, "src/msgs/generated.ts");

function readDir(dir: string, ext: string): [string, string][] {
  return readdirSync(join(root, dir))
    .filter((f) => f.endsWith(ext))
    .sort()
    .map((f) => [basename(f, ext), readFileSync(join(root, dir, f), "utf8")]);
}

/** Every definition we know: standard (Humble), vendored vision_msgs, and ours. */
function loadAll(): { all: Map<string, MessageSpec>; ours: string[] } {
  const all = new Map<string, MessageSpec>();
  const add = (s: MessageSpec) => {
    if (all.has(s.name)) throw new Error(`${s.name} defined twice`);
    all.set(s.name, s);
  };
  for (const def of Object.values(ros2humble)) add(fromCommon(def));
  for (const [name, text] of readDir("msgs/deps/vision_msgs/msg", ".msg")) add(parseMsg("vision_msgs", name, text));
  const ours: string[] = [];
  for (const [name, text] of readDir("msgs/msg", ".msg")) {
    const s = parseMsg("spatial_reward_msgs", name, text);
    add(s);
    ours.push(s.name);
  }
  for (const [name, text] of readDir("msgs/srv", ".srv")) {
    for (const s of parseSrv("spatial_reward_msgs", name, text)) {
      add(s);
      ours.push(s.name);
    }
  }
  return { all, ours };
}

/** Standard types the nodes publish or subscribe besides those our messages reference. */
const USED_STANDARD = [
  "sensor_msgs/msg/Image",
  "sensor_msgs/msg/CameraInfo",
  "std_msgs/msg/String",
  "diagnostic_msgs/msg/DiagnosticArray",
  "vision_msgs/msg/Detection2DArray",
  "vision_msgs/msg/Detection3DArray",
  "geometry_msgs/msg/PoseStamped",
  "geometry_msgs/msg/TransformStamped",
  "tf2_msgs/msg/TFMessage",
  "rosgraph_msgs/msg/Clock",
  "rcl_interfaces/msg/Log",
];

const { all, ours } = loadAll();
const roots = [...ours, ...USED_STANDARD];

describe("generated message types", () => {
  it("src/msgs/generated.ts is exactly what msgs/ generates (UPDATE_MSGS=1 rewrites it)", () => {
    const text = generateTypes(roots, all);
    if (process.env.UPDATE_MSGS === "1") writeFileSync(generatedPath, text);
    expect(readFileSync(generatedPath, "utf8")).toBe(text);
  });

  it("covers every interface of ours and every vendored vision_msgs type", () => {
    const names = Object.keys(MSG_DEFINITIONS);
    for (const n of ours) expect(names).toContain(n);
    for (const [n] of readDir("msgs/deps/vision_msgs/msg", ".msg")) expect(names).toContain(`vision_msgs/msg/${n}`);
    expect(names).toContain("builtin_interfaces/msg/Time");
  });

  it("every full definition parses back with @foxglove/rosmsg into the same fields, all dependencies resolved", () => {
    for (const name of roots) {
      const text = fullDefinition(name, all);
      // Without skipTypeFixup the parser throws if a referenced type has no MSG: section.
      const defs = parse(text, { ros2: true });
      const want = all.get(name)!.fields.map((f) => [f.name, f.isConstant === true, f.isArray === true]);
      expect(defs[0].definitions.map((f) => [f.name, f.isConstant === true, f.isArray === true])).toEqual(want);
      const sections = text.split("\n").filter((l) => l.startsWith("MSG: ")).map((l) => l.slice(5));
      expect(new Set(sections).size).toBe(sections.length);
      expect(sections.length).toBe(closure([name], all).length - 1);
    }
  });

  it("a header-stamped type carries builtin_interfaces/Time after std_msgs/Header, like rosbag2 writes it", () => {
    const text = MSG_DEFINITIONS["sensor_msgs/msg/Image"];
    const sep = "=".repeat(80);
    expect(text.startsWith("std_msgs/Header header\n")).toBe(true);
    expect(text).toContain(`${sep}\nMSG: std_msgs/Header\nbuiltin_interfaces/Time stamp\nstring frame_id\n${sep}\nMSG: builtin_interfaces/Time\nint32 sec\nuint32 nanosec`);
  });

  it("constants follow the .msg file", () => {
    const text = readFileSync(join(root, "msgs/msg/SpatialAnswer.msg"), "utf8");
    const fromFile = Object.fromEntries(parseMsg("x", "SpatialAnswer", text).fields.filter((f) => f.isConstant).map((f) => [f.name, f.value]));
    expect(SpatialAnswerStatus).toEqual(fromFile);
    expect(Object.keys(fromFile)).toEqual(["STATUS_OK", "STATUS_UNKNOWN_OBJECT", "STATUS_AMBIGUOUS_OBJECT", "STATUS_UNPARSED", "STATUS_NO_SCENE", "STATUS_ERROR", "STATUS_SAME_OBJECT", "STATUS_UNANSWERABLE"]);
  });
});

describe("generator", () => {
  const spec = parseMsg("demo_msgs", "Sample", [
    "# comment",
    "uint8 MODE_A=1",
    "uint8 MODE_B=2",
    "string NAME=\"x y\"",
    "int64 big",
    "uint8[] bytes",
    "float32[4] quad",
    "bool[] flags",
    "string[<=3] names",
    "string<=8 short",
    "builtin_interfaces/Time stamp",
    "Other other",
    "geometry_msgs/Point[] points",
  ].join("\n"));

  it("maps field types to what the CDR reader produces", () => {
    const types = Object.fromEntries(spec.fields.filter((f) => !f.isConstant).map((f) => [f.name, fieldType(f)]));
    expect(types).toEqual({
      big: "bigint",
      bytes: "Uint8Array",
      quad: "Float32Array | number[]",
      flags: "boolean[]",
      names: "string[]",
      short: "string",
      stamp: "RosTime",
      other: "demo_msgs__msg__Other",
      points: "geometry_msgs__msg__Point[]",
    });
  });

  it("names constants by their shared prefix, else <Type>Constants", () => {
    expect(constantsName({ name: "p/msg/T", fields: spec.fields.filter((f) => f.name.startsWith("MODE")) })).toBe("TMode");
    expect(constantsName(spec)).toBe("SampleConstants");
  });

  it("round-trips bounds, fixed sizes and constants through definition text", () => {
    const other: MessageSpec = { name: "demo_msgs/msg/Other", fields: [] };
    const table = new Map<string, MessageSpec>([...all, [spec.name, spec], [other.name, other]]);
    const again = parseMsg("demo_msgs", "Sample", fullDefinition(spec.name, table).split("\n=")[0]);
    expect(again.fields).toEqual(spec.fields);
  });

  it("reports a missing dependency with the type that needs it", () => {
    const table = new Map<string, MessageSpec>([...all, [spec.name, spec]]);
    expect(() => closure([spec.name], table)).toThrow(/no definition for demo_msgs\/msg\/Other \(needed by demo_msgs\/msg\/Sample\)/);
  });
});

describe("ROS 2 package", () => {
  const cmake = readFileSync(join(root, "msgs/CMakeLists.txt"), "utf8");
  const pkg = readFileSync(join(root, "msgs/package.xml"), "utf8");

  it("declares every interface in CMakeLists.txt", () => {
    for (const [f] of readDir("msgs/msg", ".msg")) expect(cmake).toContain(`"msg/${f}.msg"`);
    for (const [f] of readDir("msgs/srv", ".srv")) expect(cmake).toContain(`"srv/${f}.srv"`);
  });

  it("depends, in package.xml and CMake, on every package its interfaces use", () => {
    const used = new Set<string>();
    for (const n of ours) {
      for (const dep of closure([n], all)) {
        const p = dep.split("/")[0];
        if (p !== "spatial_reward_msgs") used.add(p);
      }
    }
    const direct = new Set(ours.flatMap((n) => all.get(n)!.fields.filter((f) => f.isComplex).map((f) => f.type.split("/")[0])));
    direct.delete("spatial_reward_msgs");
    for (const p of direct) {
      expect(pkg).toContain(`<depend>${p}</depend>`);
      expect(cmake).toContain(`find_package(${p} REQUIRED)`);
      expect(cmake).toMatch(new RegExp(`DEPENDENCIES[^)]*\\b${p}\\b`));
    }
    expect(used.has("builtin_interfaces")).toBe(true);
    expect(cmake).toMatch(/DEPENDENCIES[^)]*\bbuiltin_interfaces\b/);
    expect(pkg).toContain("<member_of_group>rosidl_interface_packages</member_of_group>");
    expect(pkg).toContain("<buildtool_depend>rosidl_default_generators</buildtool_depend>");
    expect(pkg).toContain('<package format="3">');
  });
});

describe("rclnodejs type shim", () => {
  it("is generated from the current message and service types (UPDATE_MSGS=1 regenerates it)", async () => {
    const { generateRclnodejsShim } = await import("../../msgs/codegen/generate_rclnodejs_shim.js");
    const names = Object.keys(MSG_DEFINITIONS);
    // Every generated type, service halves included (rclnodejs lists those as messages too).
    const messages = names;
    const services = names.filter((t) => t.endsWith("_Request")).map((t) => t.slice(0, -"_Request".length));
    const text = generateRclnodejsShim(messages, services);
    const path = join(root, "types/rclnodejs/interfaces.d.ts");
    if (process.env.UPDATE_MSGS === "1") writeFileSync(path, text);
    expect(readFileSync(path, "utf8")).toBe(text);
    // Every service the nodes offer is in it, with both halves.
    expect(text).toContain("'spatial_reward_msgs/srv/SpatialQuery': { Request: new () =>");
  });
});
