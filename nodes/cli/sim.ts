import { parseArgs } from "node:util";
import type { ParameterValue } from "../../src/transport/parameters.js";
import { runUntilSignal, startNode } from "./node.js";

const HELP = `usage: spatial-reward sim [--backend inproc|dds|rclnodejs] [--rate HZ] [--seed S]
                           [--frames N] [--noise realsense|none] [--ros-args ...]

Publishes the simulator's camera topics (camera/color/image_raw, aligned depth, camera_info,
instance masks, 2D detections) and its ground truth (sim/truth) on any backend: the
sim_camera node with these options as parameters. Runs until SIGINT/SIGTERM.`;

export async function run(argv: string[]): Promise<number> {
  const split = argv.indexOf("--ros-args");
  const own = split >= 0 ? argv.slice(0, split) : argv;
  const rosArgs = split >= 0 ? argv.slice(split) : [];
  const { values } = parseArgs({
    args: own,
    options: {
      backend: { type: "string", default: "inproc" },
      rate: { type: "string" },
      seed: { type: "string" },
      frames: { type: "string" },
      noise: { type: "string" },
      help: { type: "boolean", default: false },
    },
  });
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  const overrides: Record<string, ParameterValue> = {};
  if (values.rate !== undefined) overrides.rate_hz = Number(values.rate);
  if (values.seed !== undefined) overrides.seed = Number(values.seed);
  if (values.frames !== undefined) overrides.frames = Number(values.frames);
  if (values.noise !== undefined) overrides.noise = values.noise;
  const started = await startNode(["sim_camera", "--backend", values.backend, ...rosArgs], overrides);
  if (typeof started === "number") return started;
  await runUntilSignal(started.transport);
  return 0;
}
