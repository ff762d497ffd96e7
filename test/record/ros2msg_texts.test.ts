import { existsSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parse } from "@foxglove/rosmsg";
import { describe, expect, it } from "vitest";
import { generateRos2msgTexts, rootTextOfGendeps } from "../../msgs/codegen/generate_ros2msg_texts.js";
import { MSG_DEFINITIONS } from "../../src/msgs/generated.js";

const root = join(dirname(fileURLToPath(import.meta.url)), "../..");
const generatedPath = join(root, "src/record/ros2msg_texts.ts");
const humble = join(root, "node_modules/@foxglove/rosmsg-msgs-common/msgdefs/ros2humble");

function msgFiles(dir: string): [string, string][] {
  return readdirSync(dir).filter((f) => f.endsWith(".msg")).sort().map((f) => [basename(f, ".msg"), readFileSync(join(dir, f), "utf8")]);
}

/**
 * Every message type of MSG_DEFINITIONS (services' halves aside) with its .msg text: ours and
 * the vendored vision_msgs from msgs/, the standard ones from the Humble .msg files that
 * @foxglove/rosmsg-msgs-common ships (as gendeps2 output: the root file's text comes first).
 */
function loadTexts(): Map<string, string> {
  const wanted = Object.keys(MSG_DEFINITIONS).filter((n) => n.includes("/msg/"));
  const out = new Map<string, string>();
  for (const name of wanted) {
    const [pkg, , type] = name.split("/");
    if (pkg === "spatial_reward_msgs") out.set(name, readFileSync(join(root, "msgs/msg", `${type}.msg`), "utf8"));
    else if (pkg === "vision_msgs") out.set(name, readFileSync(join(root, "msgs/deps/vision_msgs/msg", `${type}.msg`), "utf8"));
    else {
      const file = join(humble, pkg, "msg", `${type}.msg`);
      if (existsSync(file)) out.set(name, rootTextOfGendeps(readFileSync(file, "utf8")));
    }
  }
  return out;
}

describe("ros2msg texts", () => {
  const texts = loadTexts();

  it("src/record/ros2msg_texts.ts is exactly what the .msg files generate (UPDATE_MSGS=1 rewrites it)", () => {
    const source = generateRos2msgTexts(texts);
    if (process.env.UPDATE_MSGS === "1") writeFileSync(generatedPath, source);
    expect(readFileSync(generatedPath, "utf8")).toBe(source);
  });

  it("has a text for every message type the nodes use, and each parses to the generated fields", () => {
    const missing = Object.keys(MSG_DEFINITIONS).filter((n) => n.includes("/msg/") && !texts.has(n));
    expect(missing).toEqual([]);
    for (const [name, text] of texts) {
      const fields = parse(text, { ros2: true, skipTypeFixup: true })[0].definitions.map((f) => `${f.isConstant ? "const " : ""}${f.name}`);
      const want = parse(MSG_DEFINITIONS[name as keyof typeof MSG_DEFINITIONS], { ros2: true, skipTypeFixup: true })[0].definitions
        .map((f) => `${f.isConstant ? "const " : ""}${f.name}`);
      expect(fields, name).toEqual(want);
    }
  });

  it("keeps our .msg files as written, comments and final newline included", () => {
    for (const [type, text] of msgFiles(join(root, "msgs/msg"))) expect(texts.get(`spatial_reward_msgs/msg/${type}`)).toBe(text);
  });

  it("takes a gendeps2 output's root text: before the first delimiter, or all but console.log's newline", () => {
    const sep = "=".repeat(80);
    expect(rootTextOfGendeps(`a/B b\n\n${sep}\nMSG: a/B\nint8 x\n\n`)).toBe("a/B b\n");
    expect(rootTextOfGendeps("int8 x\n\n")).toBe("int8 x\n");
    expect(rootTextOfGendeps("int8 x\n")).toBe("int8 x");
    expect(() => rootTextOfGendeps("int8 x")).toThrow(/newline/);
  });
});
