import { readFileSync } from "node:fs";
import { parse } from "yaml";
import { InprocTransport } from "../../src/transport/inproc_transport.js";
import { nodeIdentity } from "../../src/transport/names.js";
import { parseRosArgs } from "../../src/ros/ros_args.js";
import { parametersForNode } from "../../src/ros/param_file.js";
import type { ParameterValue } from "../../src/transport/parameters.js";
import { NODE_NAMES, type NodeName } from "../graph_launcher.js";
import { PerceptionNode } from "../perception_node.js";
import { SpatialNode } from "../spatial_node.js";
import { RewardNode } from "../reward_node.js";
import { SimDriver } from "../sim_driver.js";

const HELP = `usage: spatial-reward node <${NODE_NAMES.join("|")}> [--backend inproc|dds|rclnodejs] [--ros-args ...]

Starts one node with the standard ROS 2 arguments: -r from:=to, -r __node:=name,
-r __ns:=/ns, -p name:=value, --params-file file.yaml. Runs until interrupted.
Backends: inproc (this process only — useful with 'launch', or for trying arguments);
dds and rclnodejs are not available in this version.`;

export async function run(argv: string[]): Promise<number> {
  const args = parseRosArgs(argv, parse);
  const [name, ...rest] = args.rest;
  if (!name || name === "--help" || !(NODE_NAMES as readonly string[]).includes(name)) {
    console.log(HELP);
    return name === "--help" ? 0 : 2;
  }
  const backendAt = rest.indexOf("--backend");
  const backend = backendAt >= 0 ? rest[backendAt + 1] : "inproc";
  if (backend !== "inproc") {
    console.error(`spatial-reward node: backend "${backend}" is not available in this version (only inproc)`);
    return 2;
  }
  const id = nodeIdentity(name, "/", args.remaps);
  const overrides: Record<string, ParameterValue> = {};
  for (const file of args.paramsFiles) Object.assign(overrides, parametersForNode(parse(readFileSync(file, "utf8")), id.name, id.namespace));
  Object.assign(overrides, args.parameters);
  const transport = new InprocTransport();
  const node = transport.createNode(name, { remaps: args.remaps, parameterOverrides: overrides });
  const make: Record<NodeName, () => unknown> = {
    sim_camera: () => new SimDriver(node),
    perception: () => new PerceptionNode(node),
    spatial: () => new SpatialNode(node),
    reward: () => new RewardNode(node),
  };
  make[name as NodeName]();
  console.error(`${node.fullyQualifiedName} running on ${backend} (Ctrl-C to stop)`);
  await new Promise<void>((resolve) => process.once("SIGINT", () => resolve()));
  await transport.shutdown();
  return 0;
}
