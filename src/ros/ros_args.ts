import { InvalidInputError } from "../errors.js";
import { parseRemapRule } from "../transport/names.js";
import type { ParameterValue } from "../transport/parameters.js";

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
}

/**
 * Parses the standard ROS 2 command-line arguments (`--ros-args -r from:=to -r __node:=x
 * -r __ns:=/y -p name:=value --params-file f.yaml --`), as rcl does. Parameter values are
 * read as YAML scalars or flow sequences, so `-p rate:=30` is a number and `-p name:=perc` a
 * string. `parseValue` is given the YAML reader so this module stays free of parsing details.
 */
export function parseRosArgs(argv: readonly string[], parseValue: (text: string) => unknown): RosArgs {
  const out: RosArgs = { remaps: [], parameters: {}, paramsFiles: [], rest: [] };
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
    } else if (a === "--log-level" || a === "--enclave") {
      next(); // accepted for compatibility; logging levels are not configurable yet
    } else {
      throw new InvalidInputError("bad_argument", `unknown ROS argument "${a}" (supported: -r, -p, --params-file, --log-level, --)`);
    }
  }
  return out;
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
