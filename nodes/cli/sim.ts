import type { RosArgs } from "../../src/ros/ros_args.js";
import type { ParameterValue } from "../../src/transport/parameters.js";
import { runUntilSignal, shutdownRequested, startNode } from "./node.js";
import type { SimOptions } from "./program.js";
import { startFoxglove } from "../foxglove/cli_bridge.js";

/**
 * `spatial-reward sim`: the sim_camera node with the options as parameters (-p and
 * --params-file after --ros-args override them). Runs until SIGINT/SIGTERM.
 */
export async function run(values: SimOptions, rosArgs: RosArgs): Promise<number> {
  const overrides: Record<string, ParameterValue> = {};
  if (values.rate !== undefined) overrides.rate_hz = values.rate;
  if (values.seed !== undefined) overrides.seed = values.seed;
  if (values.frames !== undefined) overrides.frames = values.frames;
  if (values.noise !== undefined) overrides.noise = values.noise;
  const stop = shutdownRequested();
  const started = await startNode("sim_camera", values.backend, rosArgs, overrides);
  const foxglove = await startFoxglove(started.transport, values, { namespaces: [started.node.namespace], remaps: rosArgs.remaps, node: "sim_camera" }).catch(async (e: unknown) => {
    await started.transport.shutdown();
    throw e;
  });
  await runUntilSignal(started.transport, stop, foxglove ? [foxglove] : []);
  return 0;
}
