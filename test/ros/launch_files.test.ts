import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { InprocTransport } from "../../src/transport/inproc_transport.js";
import { QOS_DEFAULT } from "../../src/transport/qos.js";
import { NODE_NAMES, launchGraph } from "../../nodes/graph_launcher.js";
import { T } from "../../nodes/messages.js";

const root = join(dirname(fileURLToPath(import.meta.url)), "../..");
const params = parse(readFileSync(join(root, "launch/params/tabletop.yaml"), "utf8")) as Record<string, unknown>;

describe("launch files", () => {
  it("the parameter file configures exactly the graph's nodes", () => {
    expect(Object.keys(params).filter((k) => k !== "/**").sort()).toEqual([...NODE_NAMES].sort());
  });

  it("the XML launch file starts every node with the parameter file", () => {
    const xml = readFileSync(join(root, "launch/spatial_reward.launch.xml"), "utf8");
    for (const n of NODE_NAMES) {
      expect(xml).toContain(`<executable name="${n}"`);
      expect(xml).toContain(`node ${n} --backend $(var backend) --ros-args -r __node:=${n} --params-file $(var params_file)`);
    }
    expect(xml).toContain("$(dirname)/params/tabletop.yaml");
  });

  it("the Python launch file is valid Python naming the same nodes", () => {
    const src = readFileSync(join(root, "launch/spatial_reward.launch.py"), "utf8");
    execFileSync("python3", ["-c", "import ast,sys; ast.parse(sys.stdin.read())"], { input: src });
    expect(src).toContain(`NODES = [${NODE_NAMES.map((n) => `"${n}"`).join(", ")}]`);
  });

  it("`spatial-reward launch` starts that graph without ROS and it produces rewards", async () => {
    const transport = new InprocTransport();
    const g = launchGraph(transport, params);
    let rewards = 0;
    transport.createNode("probe").createSubscription(T.Reward, "reward", QOS_DEFAULT, () => rewards++);
    for (let i = 0; i < 5; i++) g.sim!.step();
    expect(rewards).toBe(5);
    // The reward node follows the simulator's task when the file leaves reward_spec empty.
    expect(g.reward!.counters.get("specs_set")).toBe(1);
    expect(g.perception!.perception.counters.get("frames_out")).toBe(5);
    await transport.shutdown();
  }, 60_000);
});
