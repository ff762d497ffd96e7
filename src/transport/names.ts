import { InvalidInputError } from "../errors.js";

const TOKEN = /^[A-Za-z_][A-Za-z0-9_]*$/;

function check(name: string, what: string): void {
  const body = name.startsWith("/") ? name.slice(1) : name;
  if (body === "" && name === "/") return;
  const tokens = body.split("/");
  if (!tokens.every((t) => TOKEN.test(t))) {
    throw new InvalidInputError("bad_argument", `invalid ${what} name "${name}": tokens must match [A-Za-z_][A-Za-z0-9_]* separated by "/"`);
  }
}

export function normalizeNamespace(ns: string | undefined): string {
  if (!ns || ns === "/") return "/";
  const n = ns.startsWith("/") ? ns : `/${ns}`;
  const trimmed = n.endsWith("/") ? n.slice(0, -1) : n;
  check(trimmed, "namespace");
  return trimmed;
}

/**
 * ROS 2 name expansion: absolute names stay, "~" names go under the node's fully qualified
 * name, relative names under its namespace; then the first matching remap rule applies.
 */
export function resolveName(name: string, namespace: string, nodeName: string, remaps: readonly string[] = []): string {
  let full: string;
  if (name.startsWith("/")) full = name;
  else if (name === "~") full = `${namespace === "/" ? "" : namespace}/${nodeName}`;
  else if (name.startsWith("~/")) full = `${namespace === "/" ? "" : namespace}/${nodeName}/${name.slice(2)}`;
  else full = `${namespace === "/" ? "" : namespace}/${name}`;
  check(full, "topic or service");
  for (const rule of remaps) {
    const i = rule.indexOf(":=");
    if (i <= 0) throw new InvalidInputError("bad_argument", `invalid remap rule "${rule}" (expected from:=to)`);
    const from = rule.slice(0, i), to = rule.slice(i + 2);
    if (from.startsWith("__")) continue; // __node / __ns are node-level rules
    if (resolveName(from, namespace, nodeName) === full) return resolveName(to, namespace, nodeName);
  }
  return full;
}
