import { parseRemapRule } from "../../src/transport/names.js";
import type { Transport } from "../../src/transport/port.js";
import type { FoxgloveCliOptions } from "./cli_options.js";
import { DEFAULT_FOXGLOVE_HOST, FoxgloveBridge, isLoopbackHost } from "./foxglove_bridge.js";

/**
 * What `--foxglove` does in launch, sim, demo and node: start the bridge on the command's
 * transport and say where it listens (stderr, so `--json` output stays one line on stdout).
 * Null when the option was not given. The caller closes it before the transport shuts down.
 */
export async function startFoxglove(
  transport: Transport, options: FoxgloveCliOptions, graph: { namespaces?: readonly string[]; remaps?: readonly string[]; node?: string } = {},
): Promise<FoxgloveBridge | null> {
  if (options.foxglove === undefined) return null;
  const bridge = await FoxgloveBridge.start(transport, {
    port: options.foxglove, host: options.foxgloveHost ?? DEFAULT_FOXGLOVE_HOST, namespaces: graph.namespaces, remaps: bridgeRemaps(graph.remaps ?? [], graph.node),
  });
  process.stderr.write(`foxglove: listening on ${bridge.url} (in Foxglove: Open connection → Foxglove WebSocket → ${bridge.url})\n`);
  if (!isLoopbackHost(bridge.host)) {
    process.stderr.write(`foxglove: ${bridge.host} is reachable from the network; the server has no authentication (read-only: it streams topics, accepts no commands)\n`);
  }
  return bridge;
}

/**
 * The remap rules of the command's node as they apply to the bridge beside it: its
 * node-specific rules ("sim_camera:from:=to") become plain ones, so the bridge shows the topics
 * under the names that node uses; other nodes' rules are dropped.
 */
function bridgeRemaps(remaps: readonly string[], node: string | undefined): string[] {
  const out: string[] = [];
  for (const rule of remaps) {
    const r = parseRemapRule(rule);
    if (r.nodeName === undefined) out.push(rule);
    else if (r.nodeName === node) out.push(`${r.from}:=${r.to}`);
  }
  return out;
}

/**
 * Paces a loop that would otherwise run flat out (the demo) at `hz`, so that a Foxglove viewer
 * sees the episode at camera speed and the event loop turns between frames (the server only
 * sends and accepts connections then).
 */
export function realTimePacer(hz: number): () => Promise<void> {
  const periodMs = 1000 / hz;
  let next = performance.now();
  return async () => {
    next += periodMs;
    const wait = next - performance.now();
    // Behind by more than a frame: start over from now rather than rush to catch up.
    if (wait < -periodMs) next = performance.now();
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, wait)));
  };
}
