import { InvalidInputError } from "../errors.js";

/**
 * ROS 2 parameter values (rcl_interfaces/ParameterValue without byte arrays). Integers and
 * doubles are both `number`: YAML parameter files and JS cannot tell 30 from 30.0, so the
 * transport does not either.
 */
export type ParameterValue = boolean | number | string | boolean[] | number[] | string[];

/** The declared type of a parameter; "empty_array" until an empty default gets its first value. */
export type ParameterKind = "bool" | "number" | "string" | "bool_array" | "number_array" | "string_array" | "empty_array";

/** A literal default widened to its parameter type: declareParameter("rate", 30) gives number. */
export type WidenParameter<V extends ParameterValue> = V extends boolean
  ? boolean
  : V extends number
    ? number
    : V extends string
      ? string
      : V extends boolean[]
        ? boolean[]
        : V extends number[]
          ? number[]
          : V extends string[]
            ? string[]
            : never;

const NAME = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$/;

export function validateParameterName(name: string): string {
  if (!NAME.test(name)) {
    throw new InvalidInputError("bad_argument", `invalid parameter name "${name}": dot-separated tokens of [A-Za-z_][A-Za-z0-9_]*`);
  }
  return name;
}

/** The kind of a value, or a typed error for values ROS 2 parameters cannot hold. */
export function parameterKind(name: string, value: unknown): ParameterKind {
  const bad = (why: string) => new InvalidInputError("bad_argument", `parameter ${name}: ${why} (${String(value)})`);
  switch (typeof value) {
    case "boolean":
      return "bool";
    case "string":
      return "string";
    case "number":
      if (!Number.isFinite(value)) throw bad("number must be finite");
      return "number";
  }
  if (!Array.isArray(value)) throw bad("must be a boolean, number, string or an array of one of them");
  if (value.length === 0) return "empty_array";
  const element = parameterKind(`${name}[0]`, value[0]);
  if (element !== "bool" && element !== "number" && element !== "string") throw bad("arrays cannot nest");
  for (let i = 1; i < value.length; i++) {
    if (parameterKind(`${name}[${i}]`, value[i]) !== element) throw bad("array elements must all have one type");
  }
  return `${element}_array`;
}

/** Whether a value of kind `actual` may be stored in a parameter declared as `declared`. */
export function kindAccepts(declared: ParameterKind, actual: ParameterKind): boolean {
  if (declared === actual) return true;
  if (declared === "empty_array") return actual.endsWith("_array");
  return actual === "empty_array" && declared.endsWith("_array");
}
