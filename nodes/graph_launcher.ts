import type { Transport } from "../src/transport/port.js";
import { parametersForNode } from "../src/ros/param_file.js";
import { PerceptionNode } from "./perception_node.js";
import { SpatialNode } from "./spatial_node.js";
import { RewardNode } from "./reward_node.js";
import { SimDriver } from "./sim_driver.js";
import { BackboneNode } from "./backbone_node.js";
import { MocapIngestNode } from "./mocap_ingest_node.js";
import { RecorderNode } from "./recorder_node.js";
import { mocapRecorderOptions, recordMocapFrame } from "./mocap_recording.js";

export const NODE_NAMES = ["sim_camera", "perception", "spatial", "reward", "backbone", "mocap_ingest", "recorder"] as const;
export type NodeName = (typeof NODE_NAMES)[number];

export interface LaunchedGraph {
  sim?: SimDriver;
  perception?: PerceptionNode;
  spatial?: SpatialNode;
  reward?: RewardNode;
  backbone?: BackboneNode;
  mocapIngest?: MocapIngestNode;
  recorder?: RecorderNode;
}

/**
 * Starts the nodes a parameter file names (its keys matching known node names), each with
 * the parameters the file gives it — the same file the ROS 2 launch files pass with
 * --params-file. Without an explicit reward_spec, the reward node follows reward/spec.
 * mocap_ingest connects in the background (a broker that cannot start is logged and shown on
 * its /diagnostics); a recorder in the same graph also records its frames as they arrived
 * (mocap/frames, protobuf). Nodes holding files, sockets or threads are released by closeGraph().
 */
export function launchGraph(transport: Transport, doc: unknown, namespace = "/"): LaunchedGraph {
  const keys = doc && typeof doc === "object" ? Object.keys(doc as object) : [];
  const wanted = NODE_NAMES.filter((n) => keys.includes(n) || keys.includes(`${namespace === "/" ? "" : namespace}/${n}`));
  if (wanted.length === 0) throw new Error(`the parameter file names none of the nodes ${NODE_NAMES.join(", ")}`);
  const make = (name: NodeName) => transport.createNode(name, { namespace, parameterOverrides: parametersForNode(doc, name, namespace) });
  const g: LaunchedGraph = {};
  try {
    // The recorder first: it subscribes before anything publishes, so a latched task is kept.
    // With an ingest beside it, it also records the mocap frames as they arrived (protobuf).
    const withIngest = wanted.includes("mocap_ingest");
    if (wanted.includes("recorder")) g.recorder = new RecorderNode(make("recorder"), withIngest ? mocapRecorderOptions(() => g.mocapIngest ?? null) : {});
    if (withIngest) {
      const recorder = g.recorder;
      g.mocapIngest = new MocapIngestNode(make("mocap_ingest"), recorder ? { onFrame: (f) => void recordMocapFrame(recorder, f) } : {});
    }
    if (wanted.includes("sim_camera")) g.sim = new SimDriver(make("sim_camera"));
    if (wanted.includes("perception")) g.perception = new PerceptionNode(make("perception"));
    if (wanted.includes("spatial")) g.spatial = new SpatialNode(make("spatial"));
    // Without a reward_spec parameter the reward node follows reward/spec, which the simulator latches.
    if (wanted.includes("reward")) g.reward = new RewardNode(make("reward"));
    // With model_path "" (the parameter files' default) the backbone idles and costs nothing.
    if (wanted.includes("backbone")) g.backbone = new BackboneNode(make("backbone"));
  } catch (e) {
    // A node that refused its parameters: the ones already made must not keep a broker or file open.
    void closeGraph(g);
    throw e;
  }
  const ingest = g.mocapIngest;
  if (ingest) ingest.start().catch((e: unknown) => ingest.node.logger.error(`mocap_ingest did not start: ${e instanceof Error ? e.message : String(e)}`));
  return g;
}

/**
 * Releases what the graph's nodes hold, before the transport shuts down: the recorder
 * finishes its episode file (summary and footer), mocap_ingest disconnects and stops its
 * embedded broker, the backbone closes its worker thread. Never rejects; failures are logged.
 */
export async function closeGraph(g: LaunchedGraph): Promise<void> {
  const closing: { node: { logger: { error(m: string): void } }; close: () => Promise<unknown> }[] = [];
  if (g.mocapIngest) closing.push({ node: g.mocapIngest.node, close: () => g.mocapIngest!.close() });
  if (g.recorder) closing.push({ node: g.recorder.node, close: () => g.recorder!.shutdown() });
  if (g.backbone) closing.push({ node: g.backbone.node, close: () => g.backbone!.close() });
  // The ingest first: it flushes its reorder window into topics the recorder still records.
  for (const c of closing) {
    try {
      await c.close();
    } catch (e) {
      c.node.logger.error(`closing: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
}
