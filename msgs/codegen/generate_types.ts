import { parse } from "@foxglove/rosmsg";
import type { MessageDefinition, MessageDefinitionField } from "@foxglove/message-definition";

/**
 * Generates src/msgs/generated.ts — TypeScript shapes of ROS 2 messages — from .msg/.srv
 * definitions, so message types never drift from msgs/. Pure: definition texts in, source out.
 *
 * Shapes follow what @foxglove/rosmsg2-serialization's MessageReader produces when it
 * deserializes CDR, so a DDS backend can hand deserialized messages straight to nodes:
 * int64/uint64 → bigint, uint8[] → Uint8Array, other numeric arrays → the matching typed
 * array (plain number arrays are also allowed because its MessageWriter accepts them and
 * they are convenient to build), bool[] → boolean[], time/duration → {sec, nanosec}.
 */

/** One message type: full name "pkg/msg/Name" (or "pkg/srv/Name_Request") and its fields, constants included. */
export interface MessageSpec {
  name: string;
  fields: readonly MessageDefinitionField[];
}

/** The builtin time types: @foxglove/rosmsg turns fields of these types into primitives "time"/"duration". */
const BUILTIN_TIME: Readonly<Record<string, string>> = {
  time: "builtin_interfaces/msg/Time",
  duration: "builtin_interfaces/msg/Duration",
};

/** Parses the text of a .msg file of package `pkg` (comments allowed). */
export function parseMsg(pkg: string, typeName: string, text: string, kind: "msg" | "srv" = "msg"): MessageSpec {
  const defs = parse(text, { ros2: true, skipTypeFixup: true });
  if (defs.length !== 1) throw new Error(`${pkg}/${kind}/${typeName}: expected one definition, found ${defs.length}`);
  return { name: `${pkg}/${kind}/${typeName}`, fields: defs[0].definitions.map((f) => qualify(pkg, f)) };
}

/** A .srv file → its Request and Response messages ("pkg/srv/Name_Request", "pkg/srv/Name_Response"). */
export function parseSrv(pkg: string, name: string, text: string): [MessageSpec, MessageSpec] {
  const parts = text.split(/^---\s*$/m);
  if (parts.length !== 2) throw new Error(`${pkg}/srv/${name}: expected one "---" separator`);
  return [parseMsg(pkg, `${name}_Request`, parts[0], "srv"), parseMsg(pkg, `${name}_Response`, parts[1], "srv")];
}

/** A definition as @foxglove/rosmsg-msgs-common stores it (named "std_msgs/Header", already parsed). */
export function fromCommon(def: MessageDefinition): MessageSpec {
  const name = def.name ?? "";
  const [pkg, type] = name.split("/");
  if (!pkg || !type) throw new Error(`unexpected standard definition name "${name}"`);
  return { name: `${pkg}/msg/${type}`, fields: def.definitions.map((f) => qualify(pkg, f)) };
}

/** Complex field types as full names: "Point" in pkg → "pkg/msg/Point", "geometry_msgs/Point" → "geometry_msgs/msg/Point". */
function qualify(pkg: string, f: MessageDefinitionField): MessageDefinitionField {
  if (!f.isComplex) return f;
  const parts = f.type.split("/");
  const type = parts.length === 1 ? `${pkg}/msg/${parts[0]}` : parts.length === 2 ? `${parts[0]}/msg/${parts[1]}` : f.type;
  return { ...f, type };
}

/** "sensor_msgs/msg/Image" → "sensor_msgs__msg__Image" (the rosidl C naming, unique across packages). */
export function identifier(fullName: string): string {
  return fullName.replace(/\//g, "__");
}

/** Full names of the message types a field needs a definition of (nested messages and builtin time). */
function dependencyOf(f: MessageDefinitionField): string | undefined {
  if (f.isConstant) return undefined;
  if (f.isComplex) return f.type;
  return BUILTIN_TIME[f.type];
}

const SCALAR: Readonly<Record<string, string>> = {
  bool: "boolean",
  byte: "number",
  char: "number",
  int8: "number",
  uint8: "number",
  int16: "number",
  uint16: "number",
  int32: "number",
  uint32: "number",
  int64: "bigint",
  uint64: "bigint",
  float32: "number",
  float64: "number",
  string: "string",
  wstring: "string",
  time: "RosTime",
  duration: "RosDuration",
};

/** The array MessageReader returns per element type (see its typedArrayDeserializers). */
const TYPED_ARRAY: Readonly<Record<string, string>> = {
  uint8: "Uint8Array",
  byte: "Uint8Array",
  char: "Uint8Array",
  int8: "Int8Array",
  int16: "Int16Array",
  uint16: "Uint16Array",
  int32: "Int32Array",
  uint32: "Uint32Array",
  float32: "Float32Array",
  float64: "Float64Array",
  int64: "BigInt64Array",
  uint64: "BigUint64Array",
};

export function fieldType(f: MessageDefinitionField): string {
  const base = f.isComplex ? identifier(f.type) : SCALAR[f.type];
  if (base === undefined) throw new Error(`unknown field type ${f.type} (${f.name})`);
  if (!f.isArray) return base;
  const typed = f.isComplex ? undefined : TYPED_ARRAY[f.type];
  // Byte buffers (images) are always typed arrays: a number[] image would be a performance bug.
  if (typed === "Uint8Array") return typed;
  return typed ? `${typed} | ${base}[]` : `${base}[]`;
}

/** "pkg/msg/Type" → "pkg/Type", the way .msg files and ros2msg schemas spell field types. */
function shortName(fullName: string): string {
  return fullName.replace("/msg/", "/");
}

/** The definition text of one type in .msg form (fields and constants, one per line, no comments). */
export function definitionText(spec: MessageSpec): string {
  return spec.fields
    .map((f) => {
      if (f.isConstant) return `${f.type} ${f.name}=${f.valueText ?? String(f.value)}`;
      const time = BUILTIN_TIME[f.type];
      const bounded = f.upperBound !== undefined ? `${f.type}<=${f.upperBound}` : f.type;
      const t = f.isComplex ? shortName(f.type) : time !== undefined ? shortName(time) : bounded;
      const arr = !f.isArray ? "" : f.arrayLength !== undefined ? `[${f.arrayLength}]` : f.arrayUpperBound !== undefined ? `[<=${f.arrayUpperBound}]` : "[]";
      return `${t}${arr} ${f.name}`;
    })
    .join("\n");
}

/** The types `roots` need, depth first, each type before its dependencies, each once. */
export function closure(roots: readonly string[], all: ReadonlyMap<string, MessageSpec>): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  const visit = (name: string, from: string): void => {
    if (seen.has(name)) return;
    const spec = all.get(name);
    if (!spec) throw new Error(`no definition for ${name}${from ? ` (needed by ${from})` : ""}`);
    seen.add(name);
    out.push(name);
    for (const f of spec.fields) {
      const dep = dependencyOf(f);
      if (dep !== undefined) visit(dep, name);
    }
  };
  for (const r of roots) visit(r, "");
  return out;
}

const SEPARATOR = "=".repeat(80);

/**
 * Full definition with dependencies in the ros2msg form rosbag2 writes into MCAP schemas: the
 * main type first, then each dependency once after a line of 80 '=' and "MSG: pkg/Type".
 */
export function fullDefinition(name: string, all: ReadonlyMap<string, MessageSpec>): string {
  return closure([name], all)
    .map((n, i) => {
      const text = definitionText(all.get(n)!);
      return i === 0 ? text : `${SEPARATOR}\nMSG: ${shortName(n)}\n${text}`;
    })
    .join("\n");
}

/**
 * A readable name for a type's constants: the shared prefix of the constant names if there is
 * one ("STATUS_OK", "STATUS_NO_SCENE" on SpatialAnswer → "SpatialAnswerStatus"), else
 * "<Type>Constants".
 */
export function constantsName(spec: MessageSpec): string {
  const type = spec.name.split("/").pop()!;
  const consts = spec.fields.filter((f) => f.isConstant);
  const prefixes = new Set(consts.map((c) => (c.name.includes("_") ? c.name.slice(0, c.name.indexOf("_")) : "")));
  const [prefix] = [...prefixes];
  if (prefixes.size === 1 && prefix !== "" && consts.length > 1) {
    return `${type}${prefix.charAt(0)}${prefix.slice(1).toLowerCase()}`;
  }
  return `${type}Constants`;
}

function constantValue(c: MessageDefinitionField): string {
  if (typeof c.value === "string") return JSON.stringify(c.value);
  if (typeof c.value === "bigint") return `${c.value}n`;
  return String(c.value);
}

/** Services among `names`: "pkg/srv/Name" for every Name_Request with a matching Name_Response. */
function services(names: readonly string[]): string[] {
  const set = new Set(names);
  return names
    .filter((n) => n.includes("/srv/") && n.endsWith("_Request") && set.has(n.replace(/_Request$/, "_Response")))
    .map((n) => n.replace(/_Request$/, ""));
}

/** The source of src/msgs/generated.ts for `roots` and everything they depend on. */
export function generateTypes(roots: readonly string[], all: ReadonlyMap<string, MessageSpec>): string {
  const names = closure(roots, all).sort();
  const lines: string[] = [
    "// Generated by msgs/codegen/generate_types.ts from msgs/ and the standard ROS 2 definitions.",
    "// Do not edit: run `UPDATE_MSGS=1 npx vitest run test/msgs` after changing a .msg or .srv.",
    "/* eslint-disable */",
    "",
    "/** builtin_interfaces/msg/Time as fields carry it (the `time` primitive). */",
    "export interface RosTime {",
    "  sec: number;",
    "  nanosec: number;",
    "}",
    "",
    "/** builtin_interfaces/msg/Duration as fields carry it (the `duration` primitive). */",
    "export type RosDuration = RosTime;",
    "",
  ];
  const constantNames = new Map<string, string>();
  for (const n of names) {
    const spec = all.get(n)!;
    const fields = spec.fields.filter((f) => !f.isConstant);
    const consts = spec.fields.filter((f) => f.isConstant);
    lines.push(`/** ${n} */`);
    lines.push(`export interface ${identifier(n)} {`);
    for (const f of fields) lines.push(`  ${f.name}: ${fieldType(f)};`);
    lines.push("}", "");
    if (consts.length > 0) {
      const friendly = constantsName(spec);
      const clash = constantNames.get(friendly);
      if (clash !== undefined) throw new Error(`constants of ${n} and ${clash} would both be named ${friendly}`);
      constantNames.set(friendly, n);
      lines.push(`/** Constants of ${n}. */`);
      lines.push(`export const ${friendly} = {`);
      for (const c of consts) lines.push(`  ${c.name}: ${constantValue(c)},`);
      lines.push("} as const;", "");
      lines.push(`export const ${identifier(n)}__constants = ${friendly};`, "");
    }
  }
  lines.push("/** Full ROS 2 type name → message shape, for typed publishers and subscriptions. */");
  lines.push("export interface MessageTypes {");
  for (const n of names) lines.push(`  "${n}": ${identifier(n)};`);
  lines.push("}", "");
  lines.push("/** Full ROS 2 service name → request and response shapes, for typed services and clients. */");
  lines.push("export interface ServiceTypes {");
  for (const s of services(names)) {
    lines.push(`  "${s}": { request: ${identifier(`${s}_Request`)}; response: ${identifier(`${s}_Response`)} };`);
  }
  lines.push("}", "");
  lines.push("export type MessageTypeName = keyof MessageTypes;");
  lines.push("export type ServiceTypeName = keyof ServiceTypes;", "");
  lines.push("/** Full ROS 2 type name → ros2msg definition with dependencies (MCAP schema, CDR codecs). */");
  lines.push("export const MSG_DEFINITIONS: Readonly<Record<MessageTypeName, string>> = {");
  for (const n of names) lines.push(`  "${n}": ${JSON.stringify(fullDefinition(n, all))},`);
  lines.push("};", "");
  return lines.join("\n");
}
