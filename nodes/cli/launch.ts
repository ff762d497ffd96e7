import { readFileSync } from "node:fs";
import { parse } from "yaml";
import { createTransport } from "../transport_factory.js";
import { QOS_DEFAULT } from "../../src/transport/qos.js";
import type * as M from "../../src/msgs/generated.js";
import { closeGraph, launchGraph, type LaunchedGraph } from "../graph_launcher.js";
import { T } from "../messages.js";
import { Progress } from "./progress.js";
import type { LaunchOptions } from "./program.js";
import { startFoxglove } from "../foxglove/cli_bridge.js";

/** Starts the graph of a ROS 2 parameter file in this process (options checked by program.ts). */
export async function run(file: string, values: LaunchOptions): Promise<number> {
  let doc: unknown;
  try {
    doc = parse(readFileSync(file, "utf8"));
  } catch (e) {
    throw new Error(`${file}: ${e instanceof Error ? e.message.split("\n")[0] : String(e)}`);
  }
  // Signals are caught before anything starts: one during start-up must stop the graph cleanly.
  let stop = false;
  const onSignal = () => {
    stop = true;
  };
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  const transport = await createTransport(values.backend);
  transport.onError = (e, context) => console.error(`[${context}] ${e instanceof Error ? e.message : String(e)}`);
  const namespaces = values.namespaces;
  const graphs: LaunchedGraph[] = [];
  let foxglove: Awaited<ReturnType<typeof startFoxglove>> = null;
  try {
    foxglove = await startFoxglove(transport, values, { namespaces });
    for (const ns of namespaces) graphs.push(launchGraph(transport, doc, ns));
  } catch (e) {
    await foxglove?.close();
    for (const g of graphs) await closeGraph(g);
    await transport.shutdown();
    throw e;
  }
  const graph = graphs[0];
  let rewards = 0;
  let last: M.spatial_reward_msgs__msg__Reward | null = null;
  for (const ns of namespaces) {
    const probe = transport.createNode("launch_monitor", { namespace: ns });
    // Keep-all: the monitor counts every reward; keep-last 10 dropped some in bursts (a loaded
    // interop run counted 83 rewards for 91 frames while the node had published all 91).
    probe.createSubscription<M.spatial_reward_msgs__msg__Reward>(T.Reward, "reward", { ...QOS_DEFAULT, history: "keep_all" }, (r) => {
      rewards++;
      last = r;
    });
  }
  const maxFrames = values.frames ?? Infinity;
  const duration = values.duration;
  const deadline = duration > 0 ? Date.now() + duration * 1000 : Infinity;
  const progress = new Progress(500, true);
  // With --frames the loop must stop near that frame (20 ms is under one 30 Hz frame); without
  // it, waking 50 times a second only redraws a line and cost an idle graph 1.1% of a core.
  const pollMs = Number.isFinite(maxFrames) ? 20 : 250;
  while (!stop && Date.now() < deadline && (graph.sim?.published ?? 0) < maxFrames) {
    await new Promise((r) => setTimeout(r, pollMs));
    const r = last as M.spatial_reward_msgs__msg__Reward | null;
    progress.update(`frames ${graph.sim?.published ?? 0}  rewards ${rewards}  progress ${r ? r.progress.toFixed(2) : "-"}${r?.success ? "  success" : ""}`);
  }
  progress.done();
  const final = last as M.spatial_reward_msgs__msg__Reward | null;
  const summary = {
    backend: values.backend,
    namespaces,
    nodes: Object.keys(graph),
    frames: graph.sim?.published ?? 0,
    rewards,
    task: graph.sim?.scenario.episode.instruction ?? null,
    reward_final: final?.reward ?? null,
    success: final?.success ?? false,
    counters: Object.fromEntries(graphs.map((g, i) => [namespaces[i], {
      perception: g.perception?.perception.counters.snapshot() ?? {},
      spatial: g.spatial?.counters.snapshot() ?? {},
      reward: g.reward?.counters.snapshot() ?? {},
      ...(g.mocapIngest ? { mocap_ingest: g.mocapIngest.counters.snapshot() } : {}),
      ...(g.recorder ? { recorder: g.recorder.counters.snapshot() } : {}),
      // What each node's transport received, dropped or could not decode, per topic.
      transport: Object.fromEntries(
        (["perception", "spatial", "reward"] as const).flatMap((k) => {
          const n = g[k]?.node;
          return n ? [[k, n.counters().snapshot()]] : [];
        }),
      ),
    }])),
  };
  // Files, broker connections and worker threads are released before the transport goes.
  await foxglove?.close();
  for (const g of graphs) await closeGraph(g);
  await transport.shutdown();
  console.log(values.json ? JSON.stringify(summary) : JSON.stringify(summary, null, 2));
  return 0;
}
