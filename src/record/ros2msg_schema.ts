import { InvalidInputError } from "../errors.js";
import { MSG_DEFINITIONS } from "../msgs/generated.js";
import { ROS2MSG_TEXTS } from "./ros2msg_texts.js";

/**
 * The `ros2msg` schema of a ROS 2 message type, byte for byte as rosbag2's MCAP storage plugin
 * (and foxglove_bridge, which shares its message definition cache) writes it:
 * rosbag2_storage_mcap/src/message_definition_cache.cpp, get_full_text(). That is the type's
 * .msg file text as installed (comments, blank lines and the final newline kept), then for each
 * dependency not yet written, depth first, "\n" + 80 '=' + "\nMSG: <pkg/Type>\n" + its text.
 * A file's dependencies are the first word of each line that is not a primitive type, found
 * with rosbag2's own regular expression and visited in std::set order (sorted), named as the
 * file spells them ("std_msgs/Header"; "Point" inside geometry_msgs is "geometry_msgs/Point").
 */

const DELIMITER = "=".repeat(80);
/** rosbag2's MSG_FIELD_TYPE_REGEX ("foo_msgs/Bar" in "foo_msgs/Bar[] bar"). ECMAScript, as std::regex's default grammar. */
const FIELD_TYPE = /(?:^|\n)\s*([a-zA-Z0-9_/]+)(?:\[[^\]]*\])?\s+/g;
/** rosbag2's PRIMITIVE_TYPES: ROS 2 .msg files spell time as builtin_interfaces/Time, a dependency. */
const PRIMITIVES: ReadonlySet<string> = new Set([
  "bool", "byte", "char", "float32", "float64", "int8", "uint8", "int16", "uint16", "int32", "uint32", "int64", "uint64", "string",
]);
/** rosbag2's MESSAGE_DEFINITION_SOURCE_MAX_RECURSION_DEPTH. */
const MAX_DEPTH = 50;

/** The dependencies of one .msg text of package `pkg`, as rosbag2 finds them, in the order it writes them. */
export function msgDependencies(text: string, pkg: string): string[] {
  const deps = new Set<string>();
  for (const m of text.matchAll(FIELD_TYPE)) {
    const type = m[1];
    if (PRIMITIVES.has(type)) continue;
    deps.add(type.includes("/") ? type : `${pkg}/${type}`);
  }
  // std::set<std::string> orders by char_traits<char>::compare, i.e. byte order; names are ASCII.
  return [...deps].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/** "pkg/msg/Type" or "pkg/Type" → "pkg/msg/Type"; anything else → undefined. */
export function fullTypeName(name: string): string | undefined {
  const m = /^([A-Za-z][A-Za-z0-9_]*)\/(?:msg\/)?([A-Za-z][A-Za-z0-9_]*)$/.exec(name);
  return m ? `${m[1]}/msg/${m[2]}` : undefined;
}

/**
 * The full ros2msg text of `type` from .msg file texts ("pkg/msg/Type" → text), or undefined
 * when a text it needs is missing. Throws on a type name rosbag2 would not understand.
 */
export function ros2msgFullText(type: string, texts: Readonly<Record<string, string>> = ROS2MSG_TEXTS): string | undefined {
  const root = fullTypeName(type);
  if (root === undefined) throw new InvalidInputError("bad_argument", `not a ROS 2 message type name: ${JSON.stringify(type.slice(0, 200))}`);
  const seen = new Set<string>();
  let missing = false;
  const text = (name: string, depth: number): string => {
    if (depth <= 0) throw new InvalidInputError("bad_argument", `reached the maximum depth resolving the definition of ${type}`);
    const full = fullTypeName(name);
    const own = full !== undefined && Object.prototype.hasOwnProperty.call(texts, full) ? texts[full] : undefined;
    if (own === undefined || full === undefined) {
      missing = true;
      return "";
    }
    let out = own;
    for (const dep of msgDependencies(own, full.split("/")[0])) {
      if (seen.has(dep)) continue;
      seen.add(dep);
      out += `\n${DELIMITER}\nMSG: ${dep}\n${text(dep, depth - 1)}`;
    }
    return out;
  };
  const result = text(root, MAX_DEPTH);
  return missing ? undefined : result;
}

/** A schema as MCAP stores it. */
export interface McapSchemaInfo {
  name: string;
  encoding: string;
  data: Uint8Array;
}

export interface Ros2Schema extends McapSchemaInfo {
  /**
   * "installed": the installed .msg texts, as `ros2 bag` writes it; "fields": the generated
   * field-only definition (MSG_DEFINITIONS), equivalent for every reader but without comments,
   * used for a type whose .msg text src/record/ros2msg_texts.ts lacks.
   */
  source: "installed" | "fields";
}

const utf8 = new TextEncoder();

/** The MCAP schema of a ROS 2 message type (name "pkg/msg/Type", encoding ros2msg). */
export function ros2Schema(type: string): Ros2Schema {
  const name = fullTypeName(type);
  if (name === undefined) throw new InvalidInputError("bad_argument", `not a ROS 2 message type name: ${JSON.stringify(type.slice(0, 200))}`);
  const installed = ros2msgFullText(name);
  if (installed !== undefined) return { name, encoding: "ros2msg", data: utf8.encode(installed), source: "installed" };
  const fields = Object.prototype.hasOwnProperty.call(MSG_DEFINITIONS, name) ? (MSG_DEFINITIONS as Record<string, string>)[name] : undefined;
  if (fields === undefined) throw new InvalidInputError("bad_argument", `no message definition for ${name} (msgs/ and src/msgs/generated.ts)`);
  return { name, encoding: "ros2msg", data: utf8.encode(fields), source: "fields" };
}
