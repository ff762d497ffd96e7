import { parse } from "@foxglove/rosmsg";
import type { MessageDefinition, MessageDefinitionField } from "@foxglove/message-definition";

/**
 * Generates src/msgs/generated.ts — TypeScript shapes of ROS 2 messages — from .msg/.srv
 * definitions, so message types never drift from msgs/. Shapes follow what
 * @foxglove/rosmsg2-serialization produces when deserializing CDR: int64/uint64 as bigint,
 * uint8[] as Uint8Array, other numeric arrays as typed arrays (plain arrays are accepted
 * when writing), time as {sec, nanosec}.
 */

/** One message type: full name "pkg/msg/Name" and its fields (constants included). */
export interface MessageSpec {
  name: string;
  fields: readonly MessageDefinitionField[];
}

/** Reads the text of a .msg file of package `pkg`. */
export function parseMsg(pkg: string, typeName: string, text: string, kind: "msg" | "srv" = "msg"): MessageSpec {
  const [def] = parse(text, { ros2: true, skipTypeFixup: true });
  return { name: `${pkg}/${kind}/${typeName}`, fields: def.definitions.map((f) => qualify(pkg, f)) };
}

/** A .srv file → its Request and Response messages. */
export function parseSrv(pkg: string, name: string, text: string): [MessageSpec, MessageSpec] {
  const parts = text.split(/^---\s*$/m);
  if (parts.length !== 2) throw new Error(`${pkg}/srv/${name}: expected one "---" separator`);
  return [parseMsg(pkg, `${name}_Request`, parts[0], "srv"), parseMsg(pkg, `${name}_Response`, parts[1], "srv")];
}

/** Definitions as @foxglove/rosmsg-msgs-common stores them ("std_msgs/Header"). */
export function fromCommon(def: MessageDefinition): MessageSpec {
  const name = def.name ?? "";
  const [pkg, type] = name.split("/");
  return { name: `${pkg}/msg/${type}`, fields: def.definitions.map((f) => qualify(pkg, f)) };
}

function qualify(pkg: string, f: MessageDefinitionField): MessageDefinitionField {
  if (!f.isComplex) return f;
  const parts = f.type.split("/");
  const type = parts.length === 1 ? `${pkg}/msg/${parts[0]}` : parts.length === 2 ? `${parts[0]}/msg/${parts[1]}` : f.type;
  return { ...f, type };
}

export function identifier(fullName: string): string {
  return fullName.replace(/\//g, "__");
}

const PRIMITIVE: Readonly<Record<string, string>> = {
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

function fieldType(f: MessageDefinitionField): string {
  const base = f.isComplex ? identifier(f.type) : PRIMITIVE[f.type];
  if (base === undefined) throw new Error(`unknown field type ${f.type} (${f.name})`);
  if (!f.isArray) return base;
  const typed = f.isComplex ? undefined : TYPED_ARRAY[f.type];
  if (typed === "Uint8Array") return typed;
  return typed ? `${typed} | ${base}[]` : `${base}[]`;
}

/** The definition text of one type in ros2msg form (fields and constants, one per line). */
export function definitionText(spec: MessageSpec): string {
  return spec.fields
    .map((f) => {
      const t = f.isComplex ? f.type.replace("/msg/", "/") : f.type === "time" ? "builtin_interfaces/Time" : f.type === "duration" ? "builtin_interfaces/Duration" : f.type;
      const arr = f.isArray ? (f.arrayLength !== undefined ? `[${f.arrayLength}]` : f.arrayUpperBound !== undefined ? `[<=${f.arrayUpperBound}]` : "[]") : "";
      if (f.isConstant) return `${t} ${f.name}=${f.valueText ?? String(f.value)}`;
      return `${t}${arr} ${f.name}`;
    })
    .join("\n");
}

/** The types `roots` need, dependencies after their users, each once. */
export function closure(roots: readonly string[], all: ReadonlyMap<string, MessageSpec>): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  const visit = (name: string) => {
    if (seen.has(name)) return;
    const spec = all.get(name);
    if (!spec) throw new Error(`no definition for ${name}`);
    seen.add(name);
    out.push(name);
    for (const f of spec.fields) if (f.isComplex) visit(f.type);
  };
  roots.forEach(visit);
  return out;
}

/**
 * Full definition with dependencies, as MCAP's ros2msg schema encoding concatenates them
 * (main type, then "MSG: pkg/Type" sections separated by lines of '=').
 */
export function fullDefinition(name: string, all: ReadonlyMap<string, MessageSpec>): string {
  const names = closure([name], all);
  const sep = "=".repeat(80);
  return names
    .map((n, i) => (i === 0 ? definitionText(all.get(n)!) : `${sep}\nMSG: ${n.replace("/msg/", "/")}\n${definitionText(all.get(n)!)}`))
    .join("\n");
}

export function generateTypes(roots: readonly string[], all: ReadonlyMap<string, MessageSpec>): string {
  const names = closure(roots, all).sort();
  const lines: string[] = [
    "// Generated by msgs/codegen/generate_types.ts from msgs/ and the standard ROS 2 definitions.",
    "// Do not edit: run `UPDATE_MSGS=1 npx vitest run test/msgs` after changing a .msg or .srv.",
    "/* eslint-disable */",
    "",
    "export interface RosTime {",
    "  sec: number;",
    "  nanosec: number;",
    "}",
    "",
    "export type RosDuration = RosTime;",
    "",
  ];
  for (const n of names) {
    const spec = all.get(n)!;
    const fields = spec.fields.filter((f) => !f.isConstant);
    const consts = spec.fields.filter((f) => f.isConstant);
    lines.push(`/** ${n} */`);
    lines.push(`export interface ${identifier(n)} {`);
    for (const f of fields) lines.push(`  ${f.name}: ${fieldType(f)};`);
    lines.push("}", "");
    if (consts.length > 0) {
      lines.push(`export const ${identifier(n)}__constants = {`);
      for (const c of consts) lines.push(`  ${c.name}: ${typeof c.value === "string" ? JSON.stringify(c.value) : String(c.value)},`);
      lines.push("} as const;", "");
    }
  }
  lines.push("/** Full ROS 2 type name → message shape, for typed publishers and subscriptions. */");
  lines.push("export interface MessageTypes {");
  for (const n of names) lines.push(`  "${n}": ${identifier(n)};`);
  lines.push("}", "");
  lines.push("/** Full ROS 2 type name → ros2msg definition with dependencies (for CDR and MCAP). */");
  lines.push("export const MSG_DEFINITIONS: Readonly<Record<string, string>> = {");
  for (const n of names) lines.push(`  "${n}": ${JSON.stringify(fullDefinition(n, all))},`);
  lines.push("};", "");
  return lines.join("\n");
}
