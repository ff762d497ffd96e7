import { CommanderError } from "commander";
import { parse as parseYaml } from "yaml";
import { parseRosArgs, type RosArgs } from "../../src/ros/ros_args.js";
import { UsageError } from "./cli_args.js";
import { buildProgram } from "./program.js";

/**
 * The `spatial-reward` command. Exit codes: 0 success (and --help, --version), 1 a runtime
 * failure (one line on stderr; the stack too with SPATIAL_REWARD_DEBUG=1), 2 a wrong command
 * line (one line on stderr naming the argument, before anything has started).
 */

/** Commands that take ROS 2 arguments: everything from --ros-args on is rcl's, not commander's. */
const ROS_COMMANDS: ReadonlySet<string> = new Set(["node", "sim"]);

const debug = (): boolean => process.env.SPATIAL_REWARD_DEBUG === "1";

function oneLine(text: string): string {
  return text.replace(/^error: /, "").replace(/\s*\n\s*/g, " ").trim();
}

/** Writes an error as one line (plus its stack with SPATIAL_REWARD_DEBUG=1). */
export function report(prefix: string, e: unknown): void {
  const message = e instanceof Error ? e.message : String(e);
  process.stderr.write(`${prefix}: ${oneLine(message)}\n`);
  if (debug() && e instanceof Error && e.stack) process.stderr.write(`${e.stack}\n`);
}

/** Runs the command line `argv` (without "node main.js") and returns the exit code. */
export async function runCli(argv: readonly string[]): Promise<number> {
  const name = argv[0];
  let prefix = "spatial-reward";
  let exitCode = 0;
  try {
    let rosArgs: RosArgs = parseRosArgs([], parseYaml);
    let own = argv.slice(1);
    if (name !== undefined && ROS_COMMANDS.has(name)) {
      prefix = `spatial-reward ${name}`;
      try {
        rosArgs = parseRosArgs(own, parseYaml);
      } catch (e) {
        throw new UsageError(e instanceof Error ? e.message : String(e));
      }
      own = rosArgs.rest;
    }
    const program = buildProgram({ rosArgs }, (code) => {
      exitCode = code;
    });
    const known = (n: string | undefined) => program.commands.some((c) => c.name() === n);
    if (known(name) && name !== "help") prefix = `spatial-reward ${name}`;
    // commander answers `help <unknown>` with the whole help on stderr; one line says more.
    if (name === "help" && own.length > 0 && !known(own[0])) throw new UsageError(`unknown command '${own[0]}'`);
    await program.parseAsync(name === undefined ? [] : [name, ...own], { from: "user" });
    return exitCode;
  } catch (e) {
    if (e instanceof CommanderError) {
      // Help and the version were printed by commander (stdout, or stderr for a bare
      // `spatial-reward`); anything else is a usage error to say in one line.
      if (e.code === "commander.helpDisplayed" || e.code === "commander.version" || e.code === "commander.help") {
        return e.exitCode === 0 ? 0 : 2;
      }
      report(prefix, e);
      return 2;
    }
    if (e instanceof UsageError) {
      report(prefix, e);
      return 2;
    }
    report(prefix, e);
    return 1;
  }
}

