import { readFileSync, readdirSync, writeFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { ros2humble } from "@foxglove/rosmsg-msgs-common";
import { describe, expect, it } from "vitest";
import {
  fromCommon, fullDefinition, generateTypes, parseMsg, parseSrv, type MessageSpec,
} from "../../msgs/codegen/generate_types.js";
import { parse } from "@foxglove/rosmsg";

const root = join(dirname(fileURLToPath(import.meta.url)), "../..");
const generatedPath = join(root, "src/msgs/generated.ts");

/** Every definition we know: standard (Humble), vendored vision_msgs, and ours. */
function loadAll(): { all: Map<string, MessageSpec>; ours: string[] } {
  const all = new Map<string, MessageSpec>();
  for (const def of Object.values(ros2humble)) {
    const s = fromCommon(def);
    all.set(s.name, s);
  }
  const add = (s: MessageSpec) => all.set(s.name, s);
  const visionDir = join(root, "msgs/deps/vision_msgs/msg");
  for (const f of readdirSync(visionDir).filter((f) => f.endsWith(".msg"))) {
    add(parseMsg("vision_msgs", basename(f, ".msg"), readFileSync(join(visionDir, f), "utf8")));
  }
  const ours: string[] = [];
  for (const f of readdirSync(join(root, "msgs/msg")).filter((f) => f.endsWith(".msg"))) {
    const s = parseMsg("spatial_reward_msgs", basename(f, ".msg"), readFileSync(join(root, "msgs/msg", f), "utf8"));
    add(s);
    ours.push(s.name);
  }
  for (const f of readdirSync(join(root, "msgs/srv")).filter((f) => f.endsWith(".srv"))) {
    for (const s of parseSrv("spatial_reward_msgs", basename(f, ".srv"), readFileSync(join(root, "msgs/srv", f), "utf8"))) {
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
];

describe("ROS 2 message types", () => {
  it("src/msgs/generated.ts is exactly what msgs/ generates", () => {
    const { all, ours } = loadAll();
    const text = generateTypes([...ours, ...USED_STANDARD], all);
    if (process.env.UPDATE_MSGS === "1") writeFileSync(generatedPath, text);
    expect(readFileSync(generatedPath, "utf8")).toBe(text);
  });

  it("every full definition parses back with @foxglove/rosmsg (what MCAP readers and CDR codecs use)", () => {
    const { all, ours } = loadAll();
    for (const name of [...ours, ...USED_STANDARD]) {
      const defs = parse(fullDefinition(name, all), { ros2: true });
      const own = all.get(name)!.fields.filter((f) => !f.isConstant).map((f) => f.name);
      expect(defs[0].definitions.filter((f) => !f.isConstant).map((f) => f.name)).toEqual(own);
    }
  });

  it("our package declares every interface in CMakeLists.txt", () => {
    const cmake = readFileSync(join(root, "msgs/CMakeLists.txt"), "utf8");
    for (const f of readdirSync(join(root, "msgs/msg"))) expect(cmake).toContain(`"msg/${f}"`);
    for (const f of readdirSync(join(root, "msgs/srv"))) expect(cmake).toContain(`"srv/${f}"`);
  });
});
