import { InvalidInputError } from "../errors.js";
import type { ParameterValue } from "../transport/parameters.js";
import { toParameterValue } from "./ros_args.js";

/**
 * The parameters a ROS 2 parameter file (`--params-file`, `launch/params/*.yaml`) gives one
 * node. The file maps node names to `ros__parameters`; keys may be the node name, its fully
 * qualified name, or wildcards (`/**` for every node, `/ns/*` for every node in a namespace).
 * Nested mappings flatten to dotted names ("sync.slop_ms"). Later (more specific) entries win:
 * wildcards first, then the plain name, then the fully qualified name.
 */
export function parametersForNode(doc: unknown, nodeName: string, namespace: string): Record<string, ParameterValue> {
  if (doc === null || doc === undefined) return {};
  if (typeof doc !== "object" || Array.isArray(doc)) {
    throw new InvalidInputError("bad_argument", "a parameter file must map node names to { ros__parameters: {...} }");
  }
  const fqn = `${namespace === "/" ? "" : namespace}/${nodeName}`;
  const entries = Object.entries(doc as Record<string, unknown>);
  const rank = (key: string): number => {
    if (key === fqn) return 3;
    if (key === nodeName) return 2;
    if (key === "/**" || key === "**") return 0;
    if (key.endsWith("/*") && key.slice(0, -2) === (namespace === "/" ? "" : namespace)) return 1;
    return -1;
  };
  const out: Record<string, ParameterValue> = {};
  for (const [key, value] of entries.filter(([k]) => rank(k) >= 0).sort(([a], [b]) => rank(a) - rank(b))) {
    const params = (value as Record<string, unknown> | null)?.ros__parameters;
    if (params === undefined) throw new InvalidInputError("bad_argument", `parameter file entry "${key}" has no ros__parameters`);
    flatten(params, "", out);
  }
  return out;
}

function flatten(v: unknown, prefix: string, out: Record<string, ParameterValue>): void {
  if (v !== null && typeof v === "object" && !Array.isArray(v)) {
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) flatten(x, prefix ? `${prefix}.${k}` : k, out);
    return;
  }
  out[prefix] = toParameterValue(prefix, v);
}
