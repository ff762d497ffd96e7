import { InvalidInputError } from "../errors.js";
import { ros2Schema, type McapSchemaInfo } from "./ros2msg_schema.js";

/**
 * What one MCAP channel of an episode will be: its topic, how its messages are encoded and the
 * schema readers decode them with. Three kinds, as Foxglove and the MCAP well-known encodings
 * define them: ROS 2 topics (schema encoding `ros2msg`, message encoding `cdr`, what `ros2 bag`
 * with the mcap storage plugin writes), protobuf (schema encoding `protobuf`: the schema data is
 * a binary google.protobuf.FileDescriptorSet holding the message's file and its imports, the
 * schema name the message's fully qualified name; message encoding `protobuf`), and JSON
 * (schema encoding `jsonschema`, message encoding `json`).
 */
export type MessageEncoding = "cdr" | "protobuf" | "json";

export interface ChannelPlan {
  readonly topic: string;
  readonly messageEncoding: MessageEncoding;
  readonly schema: McapSchemaInfo;
  /** Channel metadata (string → string), e.g. a ROS type's offered QoS. */
  readonly metadata: ReadonlyMap<string, string>;
}

/** Longest topic or schema name accepted (ROS 2 limits fully qualified topic names to 255 chars minus prefixes). */
export const MAX_NAME_LENGTH = 1024;
/** Largest schema accepted: a FileDescriptorSet or ros2msg text of a few kB is usual; 16 MiB is hostile. */
export const MAX_SCHEMA_BYTES = 16 << 20;

function checkName(what: string, name: unknown): string {
  if (typeof name !== "string" || name.length === 0) throw new InvalidInputError("bad_argument", `${what} must be a non-empty string`);
  if (name.length > MAX_NAME_LENGTH) throw new InvalidInputError("input_too_long", `${what} is ${name.length} characters long; at most ${MAX_NAME_LENGTH} are accepted`);
  // A control character in a topic shows up garbled in every tool and breaks line-based logs.
  if (/[\u0000-\u001f\u007f]/.test(name)) throw new InvalidInputError("bad_argument", `${what} ${JSON.stringify(name.slice(0, 80))} contains a control character`);
  return name;
}

function metadataMap(metadata: Readonly<Record<string, string>> | undefined): ReadonlyMap<string, string> {
  const out = new Map<string, string>();
  for (const [k, v] of Object.entries(metadata ?? {})) {
    if (typeof v !== "string") throw new InvalidInputError("bad_argument", `channel metadata ${JSON.stringify(k)} must be a string`);
    out.set(k, v);
  }
  return out;
}

/** A ROS 2 topic of message type `type` ("sensor_msgs/msg/Image"), recorded as CDR. */
export function rosChannel(topic: string, type: string, metadata?: Readonly<Record<string, string>>): ChannelPlan {
  const { name, encoding, data } = ros2Schema(type);
  return { topic: checkName("topic", topic), messageEncoding: "cdr", schema: { name, encoding, data }, metadata: metadataMap(metadata) };
}

/**
 * A protobuf channel: `schemaName` is the message's fully qualified name
 * ("spatial_reward.mocap.MocapFrame"), `fileDescriptorSet` the serialized FileDescriptorSet that
 * defines it (the mocap proto module builds it). Only the name's form and the size are checked
 * here; test/record reads a descriptor built from msgs/proto/mocap.proto back through MCAP.
 */
export function protobufChannel(topic: string, schemaName: string, fileDescriptorSet: Uint8Array, metadata?: Readonly<Record<string, string>>): ChannelPlan {
  checkName("protobuf schema name", schemaName);
  if (!/^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$/.test(schemaName)) {
    throw new InvalidInputError("bad_argument", `protobuf schema name must be a fully qualified message name like "pkg.Message", got ${JSON.stringify(schemaName.slice(0, 80))}`);
  }
  checkSchemaBytes(fileDescriptorSet, `protobuf schema ${schemaName}`);
  return {
    topic: checkName("topic", topic), messageEncoding: "protobuf",
    schema: { name: schemaName, encoding: "protobuf", data: fileDescriptorSet }, metadata: metadataMap(metadata),
  };
}

const utf8 = new TextEncoder();

/** A JSON channel with a JSON Schema (an object, serialized here, or its text). */
export function jsonChannel(topic: string, schemaName: string, jsonSchema: object | string, metadata?: Readonly<Record<string, string>>): ChannelPlan {
  checkName("JSON schema name", schemaName);
  const text = typeof jsonSchema === "string" ? jsonSchema : JSON.stringify(jsonSchema);
  try {
    JSON.parse(text);
  } catch {
    throw new InvalidInputError("bad_argument", `the JSON schema of ${schemaName} is not valid JSON`);
  }
  const data = utf8.encode(text);
  checkSchemaBytes(data, `JSON schema ${schemaName}`);
  return { topic: checkName("topic", topic), messageEncoding: "json", schema: { name: schemaName, encoding: "jsonschema", data }, metadata: metadataMap(metadata) };
}

function checkSchemaBytes(data: Uint8Array, what: string): void {
  if (!(data instanceof Uint8Array) || data.byteLength === 0) throw new InvalidInputError("bad_argument", `${what}: schema data must be non-empty bytes`);
  if (data.byteLength > MAX_SCHEMA_BYTES) throw new InvalidInputError("input_too_long", `${what} is ${data.byteLength} bytes; at most ${MAX_SCHEMA_BYTES} are accepted`);
}

/**
 * Checks an episode's channels as a whole: each topic once (two channels on one topic would
 * split its messages between them), and one schema per name (readers key schemas by name).
 */
export function checkChannelPlans(plans: readonly ChannelPlan[]): void {
  const topics = new Set<string>();
  const schemas = new Map<string, McapSchemaInfo>();
  for (const p of plans) {
    if (topics.has(p.topic)) throw new InvalidInputError("bad_argument", `topic ${p.topic} is planned twice`);
    topics.add(p.topic);
    const other = schemas.get(p.schema.name);
    if (other && (other.encoding !== p.schema.encoding || !sameBytes(other.data, p.schema.data))) {
      throw new InvalidInputError("bad_argument", `schema ${p.schema.name} is planned with two different definitions`);
    }
    schemas.set(p.schema.name, p.schema);
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false;
  for (let i = 0; i < a.byteLength; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** MCAP's header profile for these channels: "ros2" when every channel is a ROS 2 topic, else none. */
export function profileFor(plans: readonly ChannelPlan[]): string {
  return plans.length > 0 && plans.every((p) => p.messageEncoding === "cdr" && p.schema.encoding === "ros2msg") ? "ros2" : "";
}
