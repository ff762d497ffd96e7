import { readFileSync } from "node:fs";
import { parse } from "yaml";
import { nodeIdentity } from "../../src/transport/names.js";
import { logLevelFor, parseRosArgs } from "../../src/ros/ros_args.js";
import { loggerName, stderrSink } from "../../src/transport/logger.js";
import { parametersForNode } from "../../src/ros/param_file.js";
import type { ParameterValue } from "../../src/transport/parameters.js";
import type { Transport, TransportNode } from "../../src/transport/port.js";
import { NODE_NAMES, type NodeName } from "../graph_launcher.js";
import { PerceptionNode } from "../perception_node.js";
import { SpatialNode } from "../spatial_node.js";
import { RewardNode } from "../reward_node.js";
import { SimDriver } from "../sim_driver.js";
import { BACKENDS, createTransport, isBackend } from "../transport_factory.js";

const HELP = `usage: spatial-reward node <${NODE_NAMES.join("|")}> [--backend ${BACKENDS.join("|")}] [--ros-args ...]

Starts one node with the standard ROS 2 arguments: -r from:=to, -r __node:=name,
-r __ns:=/ns, -p name:=value, --params-file file.yaml. Runs until SIGINT/SIGTERM.
Backends: dds (Cyclone DDS, speaks ROS 2 on the wire; network settings from CYCLONEDDS_URI,
domain from ROS_DOMAIN_ID), rclnodejs (a sourced ROS 2 host), inproc (this process only).`;

const MAKERS: Record<NodeName, (node: TransportNode) => unknown> = {
  sim_camera: (node) => new SimDriver(node),
  perception: (node) => new PerceptionNode(node),
  spatial: (node) => new SpatialNode(node),
  reward: (node) => new RewardNode(node),
};

/** Parses the node command line; `extraOverrides` come before -p so the command line wins. */
export async function startNode(argv: string[], extraOverrides: Record<string, ParameterValue> = {}): Promise<{ transport: Transport; node: TransportNode } | number> {
  const args = parseRosArgs(argv, parse);
  const [name, ...rest] = args.rest;
  if (!name || name === "--help" || !(NODE_NAMES as readonly string[]).includes(name)) {
    console.log(HELP);
    return name === "--help" ? 0 : 2;
  }
  const backendAt = rest.indexOf("--backend");
  const backend = backendAt >= 0 ? rest[backendAt + 1] ?? "" : "inproc";
  if (!isBackend(backend)) {
    console.error(`spatial-reward node: unknown backend "${backend}" (one of ${BACKENDS.join(", ")})`);
    return 2;
  }
  const id = nodeIdentity(name, "/", args.remaps);
  const overrides: Record<string, ParameterValue> = { ...extraOverrides };
  for (const file of args.paramsFiles) Object.assign(overrides, parametersForNode(parse(readFileSync(file, "utf8")), id.name, id.namespace));
  Object.assign(overrides, args.parameters);
  const transport = await createTransport(backend);
  transport.onError = (e, context) => console.error(`[${context}] ${e instanceof Error ? e.message : String(e)}`);
  if (!args.stdoutLogs) transport.logSinks = transport.logSinks.filter((s) => s !== stderrSink);
  const logLevel = logLevelFor(args, loggerName(`${id.namespace === "/" ? "" : id.namespace}/${id.name}`));
  const node = transport.createNode(name, { remaps: args.remaps, parameterOverrides: overrides, logLevel });
  MAKERS[name as NodeName](node);
  console.error(`${node.fullyQualifiedName} running on ${backend} (Ctrl-C to stop)`);
  return { transport, node };
}

/** Keeps the process alive until SIGINT or SIGTERM, then shuts the transport down cleanly. */
export async function runUntilSignal(transport: Transport): Promise<void> {
  // Subscriptions and timers do not hold the event loop (simulator loops must exit); a node does.
  const keepAlive = setInterval(() => {}, 1 << 30);
  await new Promise<void>((resolve) => {
    process.once("SIGINT", () => resolve());
    process.once("SIGTERM", () => resolve());
  });
  clearInterval(keepAlive);
  await transport.shutdown();
}

export async function run(argv: string[]): Promise<number> {
  const started = await startNode(argv);
  if (typeof started === "number") return started;
  await runUntilSignal(started.transport);
  return 0;
}
