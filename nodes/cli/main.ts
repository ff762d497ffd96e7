#!/usr/bin/env node
/**
 * The `spatial-reward` command. Each subcommand lives in its own file and is loaded on
 * demand, so `spatial-reward ask` does not pay for the benchmark's imports.
 */
const COMMANDS: Record<string, { summary: string; load: () => Promise<{ run(argv: string[]): Promise<number> }> }> = {
  demo: { summary: "simulator → nodes → answers and rewards over the in-process transport", load: () => import("./demo.js") },
  eval: { summary: "score every question type against simulator ground truth", load: () => import("./eval.js") },
  ask: { summary: "answer a question about a seeded simulator scene", load: () => import("./ask.js") },
  bench: { summary: "per-stage latency and throughput of the pipeline", load: () => import("./bench.js") },
  node: { summary: "start one node with ROS 2 arguments (--ros-args -r/-p/--params-file)", load: () => import("./node.js") },
  sim: { summary: "publish the simulator's camera topics and ground truth on any backend", load: () => import("./sim.js") },
  "sim-dump": { summary: "write simulator frames and ground truth as raw files (for the DDS interop peers)", load: () => import("./sim_dump.js") },
  launch: { summary: "start the node graph of a ROS 2 parameter file in one process (no ROS needed)", load: () => import("./launch.js") },
};

function usage(): string {
  const lines = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(9)} ${c.summary}`);
  return `usage: spatial-reward <command> [options]\n\ncommands:\n${lines.join("\n")}\n\nRun 'spatial-reward <command> --help' for a command's options.`;
}

async function main(): Promise<number> {
  const [command, ...rest] = process.argv.slice(2);
  if (!command || command === "--help" || command === "-h") {
    console.log(usage());
    return command ? 0 : 2;
  }
  const entry = COMMANDS[command];
  if (!entry) {
    console.error(`spatial-reward: unknown command "${command}"\n\n${usage()}`);
    return 2;
  }
  const mod = await entry.load();
  return mod.run(rest);
}

main().then(
  (code) => { process.exitCode = code; },
  (err: unknown) => {
    console.error(`spatial-reward: ${err instanceof Error ? err.message : String(err)}`);
    process.exitCode = 1;
  },
);
