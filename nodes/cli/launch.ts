import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { parse } from "yaml";
import { InprocTransport } from "../../src/transport/inproc_transport.js";
import { QOS_DEFAULT } from "../../src/transport/qos.js";
import type * as M from "../../src/msgs/generated.js";
import { launchGraph } from "../graph_launcher.js";
import { T } from "../messages.js";
import { Progress } from "./progress.js";

const HELP = `usage: spatial-reward launch <params.yaml> [--duration S] [--frames N] [--json]

Starts the nodes named in a ROS 2 parameter file (e.g. launch/params/tabletop.yaml) in one
process over the in-process transport — the graph the ROS 2 launch files start, without ROS.
Runs for --duration seconds (default 10) or until the simulator has published --frames frames.`;

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      duration: { type: "string", default: "10" },
      frames: { type: "string" },
      json: { type: "boolean", default: false },
      help: { type: "boolean", default: false },
    },
  });
  if (values.help || positionals.length !== 1) {
    console.log(HELP);
    return values.help ? 0 : 2;
  }
  const doc: unknown = parse(readFileSync(positionals[0], "utf8"));
  const transport = new InprocTransport();
  const graph = launchGraph(transport, doc);
  const probe = transport.createNode("launch_monitor");
  let rewards = 0;
  let last: M.spatial_reward_msgs__msg__Reward | null = null;
  probe.createSubscription<M.spatial_reward_msgs__msg__Reward>(T.Reward, "reward", QOS_DEFAULT, (r) => {
    rewards++;
    last = r;
  });
  const maxFrames = values.frames === undefined ? Infinity : Number(values.frames);
  const deadline = Date.now() + Number(values.duration) * 1000;
  const progress = new Progress(500, true);
  while (Date.now() < deadline && (graph.sim?.published ?? 0) < maxFrames) {
    await new Promise((r) => setTimeout(r, 20));
    const r = last as M.spatial_reward_msgs__msg__Reward | null;
    progress.update(`frames ${graph.sim?.published ?? 0}  rewards ${rewards}  progress ${r ? r.progress.toFixed(2) : "-"}${r?.success ? "  success" : ""}`);
  }
  progress.done();
  const final = last as M.spatial_reward_msgs__msg__Reward | null;
  const summary = {
    nodes: Object.keys(graph),
    frames: graph.sim?.published ?? 0,
    rewards,
    task: graph.sim?.scenario.episode.instruction ?? null,
    reward_final: final?.reward ?? null,
    success: final?.success ?? false,
    counters: {
      perception: graph.perception?.perception.counters.snapshot() ?? {},
      spatial: graph.spatial?.counters.snapshot() ?? {},
      reward: graph.reward?.counters.snapshot() ?? {},
    },
  };
  await transport.shutdown();
  console.log(values.json ? JSON.stringify(summary) : JSON.stringify(summary, null, 2));
  return 0;
}
