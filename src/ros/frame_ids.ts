import { InvalidInputError } from "../errors.js";

/**
 * The TF frame id a node in `namespace` publishes for its configured `frameId`. Several cameras
 * each have their own spatial frame, so a relative id is prefixed with the node's namespace
 * ("spatial" in /cam0 → "cam0/spatial"), the way multi-robot setups prefix frames; a leading
 * "/" pins an id as given ("/spatial" → "spatial"). tf2 ids carry no leading slash.
 */
export function namespacedFrameId(frameId: string, namespace: string): string {
  const id = frameId.trim();
  if (id === "" || id === "/") throw new InvalidInputError("bad_argument", "frame_id must not be empty");
  if (/\s/.test(id)) throw new InvalidInputError("bad_argument", `frame_id "${id}" must not contain spaces`);
  if (id.startsWith("/")) return id.replace(/^\/+/, "");
  const ns = namespace.replace(/^\/+|\/+$/g, "");
  return ns === "" ? id : `${ns}/${id}`;
}
