import { isIP } from "node:net";
import { Option } from "commander";
import { intArg, UsageError } from "../cli/cli_args.js";

/**
 * The `--foxglove [PORT]` and `--foxglove-host <HOST>` options of launch, sim, demo and node.
 * Only commander and the argument checks here: program.ts builds every command's help from
 * this without loading the server (cli_bridge.ts starts it).
 */

/** The port `--foxglove` alone serves on: Foxglove's default for a "Foxglove WebSocket" connection. */
export const FOXGLOVE_DEFAULT_PORT = 8765;

export interface FoxgloveCliOptions {
  /** The port to serve Foxglove on (0 = any free port); undefined = no server. */
  foxglove?: number;
  /** The interface to listen on (default 127.0.0.1). */
  foxgloveHost?: string;
}

const portArg = intArg("--foxglove", { min: 0, max: 65535 });

/** An IP address literal or "localhost": what a server binds to (a host name is for clients). */
function hostArg(text: string): string {
  const host = text.trim();
  if (host !== "localhost" && isIP(host) === 0) {
    const shown = host.length > 60 ? `${host.slice(0, 59)}…` : host;
    throw new UsageError(`--foxglove-host must be an IP address (127.0.0.1, 0.0.0.0, ::1...) or localhost, got ${JSON.stringify(shown)}`);
  }
  return host;
}

export function foxgloveOption(): Option {
  return new Option(
    "--foxglove [PORT]",
    `serve the live topics (images, 3D boxes of the scene, answers, rewards, diagnostics) to Foxglove over WebSocket on PORT (default ${FOXGLOVE_DEFAULT_PORT}; 0 = any free port); the URL is printed on stderr`,
  ).preset(String(FOXGLOVE_DEFAULT_PORT)).argParser(portArg);
}

export function foxgloveHostOption(): Option {
  return new Option("--foxglove-host <HOST>", "the interface the Foxglove server listens on (default 127.0.0.1: this machine only; implies --foxglove)")
    .argParser(hostArg)
    .implies({ foxglove: FOXGLOVE_DEFAULT_PORT });
}
