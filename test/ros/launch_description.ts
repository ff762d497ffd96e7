import { execFileSync } from "node:child_process";

/**
 * What a ROS 2 launch file starts, read without ROS: launch_ros is not on this machine, so the
 * .launch.py is parsed with Python's `ast` (never imported) and the .launch.xml with an XML
 * parser. Module-level literals (NODES = [...]) are evaluated, so a Node(executable=name) inside
 * `for name in NODES` resolves to every name of the list.
 */
export interface LaunchNode {
  package: string | null;
  /** The executables this Node(...) starts (several when it sits in a loop over a list). */
  executables: string[];
  /** Keyword arguments (.py) or attributes (.xml) given. */
  keys: string[];
  /** .xml only: attribute values, <param from>/<param name> and <remap> children. */
  attrs?: Record<string, string>;
  params?: { from?: string; name?: string; value?: string }[];
  remaps?: { from: string; to: string }[];
}

export interface LaunchDescriptionInfo {
  nodes: LaunchNode[];
  /** Declared launch arguments and their default (source text for .py expressions). */
  args: Record<string, string | null>;
  /** .py only: module-level literal constants. */
  constants?: Record<string, unknown>;
  /** .py only: string literals inside each argument's default_value (e.g. params path parts). */
  defaultStrings?: Record<string, string[]>;
  /** .py only: "module.name" of every `from module import name`. */
  imports?: string[];
}

const PY = String.raw`
import ast, json, sys
path = sys.argv[1]
tree = ast.parse(open(path).read(), path)
consts, imports = {}, []
for st in tree.body:
    if isinstance(st, ast.Assign) and len(st.targets) == 1 and isinstance(st.targets[0], ast.Name):
        try:
            consts[st.targets[0].id] = ast.literal_eval(st.value)
        except ValueError:
            pass
    if isinstance(st, ast.ImportFrom):
        imports += [st.module + "." + a.name for a in st.names]

def strings(node, loops):
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.Name):
        if node.id in loops:
            return loops[node.id]
        v = consts.get(node.id)
        if isinstance(v, str):
            return [v]
    return None

nodes, args, defaults = [], {}, {}
def walk(node, loops):
    if isinstance(node, ast.For) and isinstance(node.target, ast.Name) and isinstance(node.iter, ast.Name):
        v = consts.get(node.iter.id)
        if isinstance(v, (list, tuple)) and all(isinstance(x, str) for x in v):
            loops = dict(loops, **{node.target.id: list(v)})
    if isinstance(node, ast.Call):
        fn = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", None)
        kw = {k.arg: k.value for k in node.keywords}
        if fn == "Node":
            pkg = strings(kw["package"], loops) if "package" in kw else None
            exe = strings(kw["executable"], loops) if "executable" in kw else None
            nodes.append({"package": pkg[0] if pkg else None, "executables": exe or [], "keys": sorted(kw)})
        if fn == "DeclareLaunchArgument" and node.args and isinstance(node.args[0], ast.Constant):
            d = kw.get("default_value")
            args[node.args[0].value] = None if d is None else ast.unparse(d)
            defaults[node.args[0].value] = [] if d is None else [n.value for n in ast.walk(d) if isinstance(n, ast.Constant) and isinstance(n.value, str)]
    for child in ast.iter_child_nodes(node):
        walk(child, loops)
walk(tree, {})
json.dump({"nodes": nodes, "args": args, "constants": consts, "defaultStrings": defaults, "imports": imports}, sys.stdout)
`;

const XML = String.raw`
import json, sys
import xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
assert root.tag == "launch", root.tag
nodes = [{
    "package": n.get("pkg"), "executables": [n.get("exec")] if n.get("exec") else [],
    "keys": sorted(n.attrib), "attrs": dict(n.attrib),
    "params": [dict(p.attrib) for p in n.findall("param")],
    "remaps": [{"from": r.get("from"), "to": r.get("to")} for r in n.findall("remap")],
} for n in root.iter("node")]
args = {a.get("name"): a.get("default") for a in root.iter("arg")}
json.dump({"nodes": nodes, "args": args}, sys.stdout)
`;

/** Parses a .launch.py or .launch.xml (python3 needed; nothing of ROS). */
export function readLaunchFile(path: string): LaunchDescriptionInfo {
  const script = path.endsWith(".xml") ? XML : PY;
  return JSON.parse(execFileSync("python3", ["-c", script, path], { encoding: "utf8" })) as LaunchDescriptionInfo;
}
