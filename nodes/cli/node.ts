import { readFileSync } from "node:fs";
import { parse } from "yaml";
import { nodeIdentity } from "../../src/transport/names.js";
import { logLevelFor, type RosArgs } from "../../src/ros/ros_args.js";
import { loggerName, stderrSink } from "../../src/transport/logger.js";
import { parametersForNode } from "../../src/ros/param_file.js";
import type { ParameterValue } from "../../src/transport/parameters.js";
import type { Transport, TransportNode } from "../../src/transport/port.js";
import type { NodeName } from "../graph_launcher.js";
import { PerceptionNode } from "../perception_node.js";
import { SpatialNode } from "../spatial_node.js";
import { RewardNode } from "../reward_node.js";
import { SimDriver } from "../sim_driver.js";
import { BackboneNode } from "../backbone_node.js";
import { MocapIngestNode } from "../mocap_ingest_node.js";
import { RecorderNode } from "../recorder_node.js";
import { createTransport, type Backend } from "../transport_factory.js";
import { readableFileArg } from "./cli_args.js";
import type { NodeOptions } from "./program.js";
import { startFoxglove } from "../foxglove/cli_bridge.js";

/** A started node; `close` releases what it holds (files, sockets, threads) before the transport shuts down. */
export interface StartedNode {
  close?: () => Promise<unknown>;
}

const MAKERS: Record<NodeName, (node: TransportNode) => StartedNode> = {
  sim_camera: (node) => {
    new SimDriver(node);
    return {};
  },
  perception: (node) => {
    new PerceptionNode(node);
    return {};
  },
  spatial: (node) => {
    new SpatialNode(node);
    return {};
  },
  reward: (node) => {
    new RewardNode(node);
    return {};
  },
  backbone: (node) => {
    const b = new BackboneNode(node);
    return { close: () => b.close() };
  },
  mocap_ingest: (node) => {
    const ingest = new MocapIngestNode(node);
    // An embedded broker that cannot listen is logged (and ERROR on /diagnostics); the node stays up.
    ingest.start().catch((e: unknown) => node.logger.error(`did not start: ${e instanceof Error ? e.message : String(e)}`));
    return { close: () => ingest.close() };
  },
  // shutdown() finishes an episode being recorded: the file gets its summary and footer.
  recorder: (node) => {
    const recorder = new RecorderNode(node);
    return { close: () => recorder.shutdown() };
  },
};

/**
 * Starts node `name` on `backend` with its ROS arguments. Parameter precedence, lowest first:
 * `extraOverrides` (a command's own options), --params-file files in order, then -p.
 */
export async function startNode(
  name: NodeName, backend: Backend, args: RosArgs, extraOverrides: Record<string, ParameterValue> = {},
): Promise<{ transport: Transport; node: TransportNode; started: StartedNode }> {
  // A missing parameter file is a wrong command line (exit 2), found before anything starts.
  for (const file of args.paramsFiles) readableFileArg("--params-file")(file);
  const id = nodeIdentity(name, "/", args.remaps);
  const overrides: Record<string, ParameterValue> = { ...extraOverrides };
  for (const file of args.paramsFiles) Object.assign(overrides, parametersForNode(parse(readFileSync(file, "utf8")), id.name, id.namespace));
  Object.assign(overrides, args.parameters);
  const transport = await createTransport(backend, args);
  if (!args.stdoutLogs) transport.logSinks = transport.logSinks.filter((s) => s !== stderrSink);
  const logLevel = logLevelFor(args, loggerName(`${id.namespace === "/" ? "" : id.namespace}/${id.name}`));
  const node = transport.createNode(name, { remaps: args.remaps, parameterOverrides: overrides, logLevel });
  // What the transport reports outside any node callback (discovery, peers) goes to the node's log.
  transport.onError = (e, context) => node.logger.error(`${context}: ${e instanceof Error ? e.message : String(e)}`);
  let started: StartedNode;
  try {
    started = MAKERS[name](node);
  } catch (e) {
    // A node that refused its parameters: nothing may keep the process alive after the error.
    await transport.shutdown();
    throw e;
  }
  node.logger.info(`${node.fullyQualifiedName} running on ${backend} (Ctrl-C to stop)`);
  return { transport, node, started };
}

/**
 * Resolves on the first SIGINT or SIGTERM. Call it before starting anything: a signal that
 * arrives while the node starts must stop it cleanly, not kill the process by default.
 */
export function shutdownRequested(): Promise<void> {
  return new Promise<void>((resolve) => {
    process.once("SIGINT", () => resolve());
    process.once("SIGTERM", () => resolve());
  });
}

/**
 * Keeps the process alive until `stop` (shutdownRequested()), then closes the started nodes
 * (the recorder's episode file, the ingest's broker connection) and shuts the transport down
 * cleanly.
 */
export async function runUntilSignal(transport: Transport, stop: Promise<void>, nodes: readonly StartedNode[] = [], logError: (m: string) => void = (m) => process.stderr.write(`${m}\n`)): Promise<void> {
  // Subscriptions and timers do not hold the event loop (simulator loops must exit); a node does.
  const keepAlive = setInterval(() => {}, 1 << 30);
  await stop;
  clearInterval(keepAlive);
  for (const n of nodes) {
    try {
      await n.close?.();
    } catch (e) {
      logError(`closing the node: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  await transport.shutdown();
}

/** `spatial-reward node <name>`: one node until SIGINT/SIGTERM (options checked by program.ts). */
export async function run(name: NodeName, values: NodeOptions, rosArgs: RosArgs): Promise<number> {
  const stop = shutdownRequested();
  const started = await startNode(name, values.backend, rosArgs);
  const foxglove = await startFoxglove(started.transport, values, { namespaces: [started.node.namespace], remaps: rosArgs.remaps, node: name }).catch(async (e: unknown) => {
    await started.started.close?.();
    await started.transport.shutdown();
    throw e;
  });
  // The bridge first: it reads topics the node's close may still publish on.
  await runUntilSignal(started.transport, stop, [...(foxglove ? [foxglove] : []), started.started], (m) => started.node.logger.error(m));
  return 0;
}
