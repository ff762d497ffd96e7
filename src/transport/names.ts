import { InvalidInputError } from "../errors.js";

/**
 * ROS 2 names (design.ros2.org "Topic and Service name mapping"): tokens of letters, digits and
 * underscores that do not start with a digit, separated by single "/". Names are expanded
 * against the node (relative → under its namespace, "~" → under the node itself, "{node}" and
 * "{ns}" substituted), then remapped: the first rule whose expanded `from` equals the expanded
 * name wins.
 */

const TOKEN = /^[A-Za-z_][A-Za-z0-9_]*$/;
const RULE_NODE_PREFIX = /^([A-Za-z_][A-Za-z0-9_]*):(?!=)/;

export interface RemapRule {
  /** Only the node of this name applies the rule ("talker:chatter:=/news"); undefined = every node. */
  nodeName?: string;
  from: string;
  to: string;
}

function invalid(what: string, name: string, why: string): InvalidInputError {
  return new InvalidInputError("bad_argument", `invalid ${what} "${name}": ${why}`);
}

function checkTokens(name: string, what: string): void {
  const body = name.slice(1);
  if (body === "") throw invalid(what, name, "empty name");
  if (body.endsWith("/")) throw invalid(what, name, 'must not end with "/"');
  for (const token of body.split("/")) {
    if (token === "") throw invalid(what, name, 'contains "//"');
    if (!TOKEN.test(token)) throw invalid(what, name, `token "${token}" must match [A-Za-z_][A-Za-z0-9_]*`);
  }
}

export function validateNodeName(name: string): string {
  if (!TOKEN.test(name)) throw invalid("node name", name, "must match [A-Za-z_][A-Za-z0-9_]* (no slashes)");
  return name;
}

/** "" or "/" → "/"; "robot" or "/robot/" → "/robot". */
export function normalizeNamespace(ns: string | undefined): string {
  if (ns === undefined || ns === "" || ns === "/") return "/";
  let n = ns.startsWith("/") ? ns : `/${ns}`;
  if (n.endsWith("/")) n = n.slice(0, -1);
  checkTokens(n, "namespace");
  return n;
}

function fullyQualified(namespace: string, nodeName: string): string {
  return `${namespace === "/" ? "" : namespace}/${nodeName}`;
}

/** The fully qualified name of a topic or service, before remapping. */
export function expandName(name: string, namespace: string, nodeName: string): string {
  if (name === "") throw invalid("topic or service name", name, "empty name");
  const substituted = name.replace(/\{(node|ns|namespace)\}/g, (_, key: string) =>
    key === "node" ? nodeName : namespace === "/" ? "" : namespace.slice(1),
  );
  if (/[{}]/.test(substituted)) throw invalid("topic or service name", name, "unknown {substitution} (known: {node}, {ns})");
  let full: string;
  if (substituted.startsWith("/")) full = substituted;
  else if (substituted === "~") full = fullyQualified(namespace, nodeName);
  else if (substituted.startsWith("~/")) full = `${fullyQualified(namespace, nodeName)}/${substituted.slice(2)}`;
  else if (substituted.includes("~")) throw invalid("topic or service name", name, '"~" is only allowed as the first character, followed by "/"');
  else full = `${namespace === "/" ? "" : namespace}/${substituted}`;
  checkTokens(full, "topic or service name");
  return full;
}

/** Parses "from:=to" or "node:from:=to". "__node:=x" and "__ns:=/x" are node rules (see nodeIdentity). */
export function parseRemapRule(rule: string): RemapRule {
  const i = rule.indexOf(":=");
  if (i <= 0 || i === rule.length - 2) throw invalid("remap rule", rule, "expected from:=to");
  let from = rule.slice(0, i);
  const to = rule.slice(i + 2);
  const prefix = RULE_NODE_PREFIX.exec(from);
  if (prefix && !from.startsWith("__")) {
    from = from.slice(prefix[0].length);
    return { nodeName: prefix[1], from, to };
  }
  return { from, to };
}

function isNodeRule(r: RemapRule): boolean {
  return r.from === "__node" || r.from === "__name" || r.from === "__ns";
}

/** The node's name and namespace after "__node:=" / "__name:=" / "__ns:=" rules. */
export function nodeIdentity(name: string, namespace: string | undefined, remaps: readonly string[] = []): { name: string; namespace: string } {
  let n = validateNodeName(name);
  let ns = normalizeNamespace(namespace);
  for (const r of remaps.map(parseRemapRule)) {
    if (r.nodeName !== undefined && r.nodeName !== name) continue;
    if (r.from === "__node" || r.from === "__name") n = validateNodeName(r.to);
    else if (r.from === "__ns") ns = normalizeNamespace(r.to);
  }
  return { name: n, namespace: ns };
}

/**
 * Expands `name` for node `nodeName` in `namespace` and applies the first matching remap rule.
 * Throws a typed `bad_argument` error on an invalid name or rule.
 */
export function resolveName(name: string, namespace: string, nodeName: string, remaps: readonly (string | RemapRule)[] = []): string {
  const full = expandName(name, namespace, nodeName);
  for (const raw of remaps) {
    const rule = typeof raw === "string" ? parseRemapRule(raw) : raw;
    if (isNodeRule(rule)) continue;
    if (rule.nodeName !== undefined && rule.nodeName !== nodeName) continue;
    if (expandName(rule.from, namespace, nodeName) === full) return expandName(rule.to, namespace, nodeName);
  }
  return full;
}
