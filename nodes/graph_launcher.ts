import type { Transport } from "../src/transport/port.js";
import { parametersForNode } from "../src/ros/param_file.js";
import { PerceptionNode } from "./perception_node.js";
import { SpatialNode } from "./spatial_node.js";
import { RewardNode } from "./reward_node.js";
import { SimDriver } from "./sim_driver.js";
import { BackboneNode } from "./backbone_node.js";

export const NODE_NAMES = ["sim_camera", "perception", "spatial", "reward", "backbone"] as const;
export type NodeName = (typeof NODE_NAMES)[number];

export interface LaunchedGraph {
  sim?: SimDriver;
  perception?: PerceptionNode;
  spatial?: SpatialNode;
  reward?: RewardNode;
  backbone?: BackboneNode;
}

/**
 * Starts the nodes a parameter file names (its keys matching known node names), each with
 * the parameters the file gives it — the same file the ROS 2 launch files pass with
 * --params-file. Without an explicit reward_spec, the reward node follows reward/spec.
 */
export function launchGraph(transport: Transport, doc: unknown, namespace = "/"): LaunchedGraph {
  const keys = doc && typeof doc === "object" ? Object.keys(doc as object) : [];
  const wanted = NODE_NAMES.filter((n) => keys.includes(n) || keys.includes(`${namespace === "/" ? "" : namespace}/${n}`));
  if (wanted.length === 0) throw new Error(`the parameter file names none of the nodes ${NODE_NAMES.join(", ")}`);
  const make = (name: NodeName) => transport.createNode(name, { namespace, parameterOverrides: parametersForNode(doc, name, namespace) });
  const g: LaunchedGraph = {};
  if (wanted.includes("sim_camera")) g.sim = new SimDriver(make("sim_camera"));
  if (wanted.includes("perception")) g.perception = new PerceptionNode(make("perception"));
  if (wanted.includes("spatial")) g.spatial = new SpatialNode(make("spatial"));
  // Without a reward_spec parameter the reward node follows reward/spec, which the simulator latches.
  if (wanted.includes("reward")) g.reward = new RewardNode(make("reward"));
  // With model_path "" (the parameter files' default) the backbone idles and costs nothing.
  if (wanted.includes("backbone")) g.backbone = new BackboneNode(make("backbone"));
  return g;
}
