import protobuf from "protobufjs";

/**
 * Generates src/msgs/mocap_proto.ts — TypeScript shapes of the protobuf messages in a .proto
 * file — with protobufjs's own parser and reflection, so the types the core uses are the ones
 * the wire carries. Pure: proto text in, TS source out.
 *
 * Shapes are what src/mocap/mocap_codec.ts decodes to: every field present (proto3 defaults
 * filled in, a missing sub-message is its all-default value), names exactly as in the .proto
 * (snake_case, the parser runs with keepCase), 64-bit integers as bigint (exact beyond 2^53),
 * other numbers as number, `bytes` as Uint8Array, enums as numeric const objects plus a union
 * type of their values. Nested types are named Outer_Inner. The proto text itself is embedded
 * as a string so src/ can build its protobufjs Root without reading files.
 */

export interface ProtoTypesOptions {
  /** Where the text came from, for the header comment ("msgs/proto/mocap.proto"). */
  source: string;
  /** Name of the exported constant holding the proto text. */
  textConstant: string;
}

const SCALAR_TS: Readonly<Record<string, string>> = {
  double: "number",
  float: "number",
  int32: "number",
  uint32: "number",
  sint32: "number",
  fixed32: "number",
  sfixed32: "number",
  int64: "bigint",
  uint64: "bigint",
  sint64: "bigint",
  fixed64: "bigint",
  sfixed64: "bigint",
  bool: "boolean",
  string: "string",
  bytes: "Uint8Array",
};

/** Parses proto text the way the codec does (keepCase; comments kept for the docs). */
export function parseProto(text: string): protobuf.Root {
  return protobuf.parse(text, { keepCase: true, alternateCommentMode: true }).root;
}

/** Every message and enum under `ns`, in declaration order, nested ones right after their parent. */
export function protoDeclarations(ns: protobuf.NamespaceBase): (protobuf.Type | protobuf.Enum)[] {
  const out: (protobuf.Type | protobuf.Enum)[] = [];
  for (const n of ns.nestedArray) {
    if (n instanceof protobuf.Type) {
      out.push(n);
      out.push(...protoDeclarations(n));
    } else if (n instanceof protobuf.Enum) {
      out.push(n);
    } else if (n instanceof protobuf.Service) {
      throw new Error(`${n.fullName}: services are not supported`);
    } else if (n instanceof protobuf.Namespace) {
      out.push(...protoDeclarations(n));
    }
  }
  return out;
}

/** The package of a declaration: the full name of its nearest enclosing namespace that is not a message. */
function packageOf(d: protobuf.ReflectionObject): string {
  let p = d.parent;
  while (p && p instanceof protobuf.Type) p = p.parent;
  return p ? p.fullName.replace(/^\./, "") : "";
}

/** ".spatial_reward.mocap.RecorderControl.Command" → "RecorderControl_Command". */
export function tsName(d: protobuf.ReflectionObject): string {
  const full = d.fullName.replace(/^\./, "");
  const pkg = packageOf(d);
  const local = pkg === "" ? full : full.slice(pkg.length + 1);
  return local.replace(/\./g, "_");
}

/** The TS type of one field (after resolveAll). */
export function protoFieldType(f: protobuf.Field): string {
  if (f.map) throw new Error(`${f.fullName}: map fields are not supported`);
  const resolved = f.resolvedType;
  const base = resolved ? tsName(resolved) : SCALAR_TS[f.type];
  if (base === undefined) throw new Error(`${f.fullName}: unknown field type ${f.type}`);
  return f.repeated ? `${base}[]` : base;
}

/** A comment as JSDoc lines at `indent`, or nothing. "*\/" inside is broken so it cannot end the block. */
function jsdoc(comment: string | null | undefined, indent: string): string[] {
  if (!comment) return [];
  const lines = comment.replace(/\*\//g, "*\\/").split("\n").map((l) => l.trimEnd());
  if (lines.length === 1) return [`${indent}/** ${lines[0]} */`];
  return [`${indent}/**`, ...lines.map((l) => (l === "" ? `${indent} *` : `${indent} * ${l}`)), `${indent} */`];
}

function emitEnum(e: protobuf.Enum): string[] {
  const name = tsName(e);
  const full = e.fullName.replace(/^\./, "");
  const lines = jsdoc(e.comment ? `${full}: ${e.comment}` : full, "");
  lines.push(`export const ${name} = {`);
  for (const [k, v] of Object.entries(e.values)) {
    lines.push(...jsdoc(e.comments[k] ?? undefined, "  "));
    lines.push(`  ${k}: ${v},`);
  }
  lines.push("} as const;");
  lines.push(`export type ${name} = (typeof ${name})[keyof typeof ${name}];`, "");
  return lines;
}

function emitType(t: protobuf.Type): string[] {
  const name = tsName(t);
  const full = t.fullName.replace(/^\./, "");
  const lines = jsdoc(t.comment ? `${full}: ${t.comment}` : full, "");
  if (t.oneofsArray.some((o) => !o.fieldsArray.every((f) => f.options?.proto3_optional === true))) {
    throw new Error(`${full}: oneofs are not supported`);
  }
  lines.push(`export interface ${name} {`);
  for (const f of t.fieldsArray) {
    lines.push(...jsdoc(f.comment ?? undefined, "  "));
    lines.push(`  ${f.name}: ${protoFieldType(f)};`);
  }
  lines.push("}", "");
  return lines;
}

/** The source of a TS module with the types of every message and enum in `protoText`. */
export function generateProtoTypes(protoText: string, options: ProtoTypesOptions): string {
  const root = parseProto(protoText);
  root.resolveAll();
  const decls = protoDeclarations(root);
  const names = new Map<string, string>();
  for (const d of decls) {
    const n = tsName(d);
    const clash = names.get(n);
    if (clash !== undefined) throw new Error(`${d.fullName} and ${clash} would both be named ${n}`);
    names.set(n, d.fullName);
  }
  const lines: string[] = [
    `// Generated by msgs/codegen/generate_proto_types.ts from ${options.source}.`,
    "// Do not edit: run `UPDATE_MSGS=1 npx vitest run test/msgs` after changing the .proto.",
    "/* eslint-disable */",
    "",
  ];
  for (const d of decls) lines.push(...(d instanceof protobuf.Enum ? emitEnum(d) : emitType(d)));
  const types = decls.filter((d): d is protobuf.Type => d instanceof protobuf.Type);
  lines.push("/** Full protobuf message name → its TS shape. */");
  lines.push("export interface ProtoMessageTypes {");
  for (const t of types) lines.push(`  "${t.fullName.replace(/^\./, "")}": ${tsName(t)};`);
  lines.push("}", "");
  lines.push("export type ProtoMessageName = keyof ProtoMessageTypes;", "");
  lines.push(`/** The text of ${options.source}, verbatim: the codec builds its protobufjs Root from it. */`);
  lines.push(`export const ${options.textConstant} = ${JSON.stringify(protoText)};`, "");
  return lines.join("\n");
}
