import { InvalidInputError } from "../errors.js";
import { parseRemapRule } from "../transport/names.js";
import type { ParameterValue } from "../transport/parameters.js";
import { parseLogLevel, type LogLevel } from "../transport/logger.js";

/** What a node's command line says between `--ros-args` and `--` (or the end). */
export interface RosArgs {
  /** Remap rules in order, including `__node:=` and `__ns:=`. */
  remaps: string[];
  /** `-p name:=value` values (YAML-typed: 30 → number, true → boolean, [1, 2] → number[]). */
  parameters: Record<string, ParameterValue>;
  /** `--params-file` paths in order; later files and then `-p` win. */
  paramsFiles: string[];
  /** Arguments that are not ROS arguments (before `--ros-args` or after `--`). */
  rest: string[];
  /** `--log-level LEVEL`: the default level of every logger in the process. */
  logLevel?: LogLevel;
  /** `--log-level name:=LEVEL`: per-logger levels (logger names as rcl forms them, "cam0.perception"). */
  loggerLevels: Record<string, LogLevel>;
  /** `--log-config-file FILE`: the external logging library's configuration (passed on to rcl). */
  logConfigFile?: string;
  /** `--enable|--disable-rosout-logs` (default enabled). */
  rosoutLogs: boolean;
  /** `--enable|--disable-stdout-logs` (default enabled): the console log lines. */
  stdoutLogs: boolean;
  /** `--enable|--disable-external-lib-logs` (default enabled). */
  externalLibLogs: boolean;
  /** `-e` / `--enclave`: the security enclave (used by rcl on ROS hosts only). */
  enclave?: string;
}

/** The ROS arguments rcl accepts, for help texts and errors. */
export const ROS_ARGUMENTS =
  "-r/--remap, -p/--param, --params-file, --log-level, --log-config-file, --enable|--disable-rosout-logs, " +
  "--enable|--disable-stdout-logs, --enable|--disable-external-lib-logs, -e/--enclave, --";

/**
 * Parses the standard ROS 2 command-line arguments (`--ros-args -r from:=to -r __node:=x
 * -r __ns:=/y -p name:=value --params-file f.yaml --`), as rcl does. Parameter values are
 * read as YAML scalars or flow sequences, so `-p rate:=30` is a number and `-p name:=perc` a
 * string. `parseValue` is given the YAML reader so this module stays free of parsing details.
 */
export function parseRosArgs(argv: readonly string[], parseValue: (text: string) => unknown): RosArgs {
  const out: RosArgs = {
    remaps: [], parameters: {}, paramsFiles: [], rest: [], loggerLevels: {}, rosoutLogs: true, stdoutLogs: true, externalLibLogs: true,
  };
  let inRos = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!inRos) {
      if (a === "--ros-args") inRos = true;
      else out.rest.push(a);
      continue;
    }
    if (a === "--") {
      inRos = false;
      continue;
    }
    if (a === "--ros-args") continue;
    const next = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new InvalidInputError("bad_argument", `${a} needs a value`);
      return v;
    };
    if (a === "-r" || a === "--remap") {
      const rule = next();
      parseRemapRule(rule);
      out.remaps.push(rule);
    } else if (a === "-p" || a === "--param") {
      const assignment = next();
      const k = assignment.indexOf(":=");
      if (k <= 0) throw new InvalidInputError("bad_argument", `-p expects name:=value, got "${assignment}"`);
      out.parameters[assignment.slice(0, k)] = toParameterValue(assignment.slice(0, k), parseValue(assignment.slice(k + 2)));
    } else if (a === "--params-file") {
      out.paramsFiles.push(next());
    } else if (a === "--log-level") {
      const v = next();
      const k = v.indexOf(":=");
      if (k < 0) out.logLevel = parseLogLevel(v);
      else if (k === 0) throw new InvalidInputError("bad_argument", `--log-level expects LEVEL or name:=LEVEL, got "${v}"`);
      else out.loggerLevels[v.slice(0, k)] = parseLogLevel(v.slice(k + 2));
    } else if (a === "--log-config-file") {
      out.logConfigFile = next();
    } else if (a === "-e" || a === "--enclave") {
      out.enclave = next();
    } else if (LOG_SWITCHES.has(a)) {
      const [key, on] = LOG_SWITCHES.get(a)!;
      out[key] = on;
    } else {
      throw new InvalidInputError("bad_argument", `unknown ROS argument "${a}" (supported: ${ROS_ARGUMENTS})`);
    }
  }
  return out;
}

const LOG_SWITCHES: ReadonlyMap<string, ["rosoutLogs" | "stdoutLogs" | "externalLibLogs", boolean]> = new Map([
  ["--enable-rosout-logs", ["rosoutLogs", true]],
  ["--disable-rosout-logs", ["rosoutLogs", false]],
  ["--enable-stdout-logs", ["stdoutLogs", true]],
  ["--disable-stdout-logs", ["stdoutLogs", false]],
  ["--enable-external-lib-logs", ["externalLibLogs", true]],
  ["--disable-external-lib-logs", ["externalLibLogs", false]],
]);

/** The level of the logger `name` ("cam0.perception"): its own rule, else the default, else info. */
export function logLevelFor(args: Pick<RosArgs, "logLevel" | "loggerLevels">, name: string): LogLevel {
  return args.loggerLevels[name] ?? args.logLevel ?? "info";
}

/** A YAML value as a ROS 2 parameter value, or a clear error. */
export function toParameterValue(name: string, v: unknown): ParameterValue {
  if (typeof v === "boolean" || typeof v === "number" || typeof v === "string") return v;
  if (v === null || v === undefined) return "";
  if (Array.isArray(v)) {
    if (v.every((x) => typeof x === "number")) return v as number[];
    if (v.every((x) => typeof x === "boolean")) return v as boolean[];
    if (v.every((x) => typeof x === "string")) return v as string[];
  }
  throw new InvalidInputError("bad_argument", `parameter ${name}: unsupported value ${JSON.stringify(v)} (scalars or arrays of one type)`);
}
