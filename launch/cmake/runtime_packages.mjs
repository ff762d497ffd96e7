// Lists the npm packages the spatial-reward app needs at run time, for CMake to install them
// beside the compiled app: the dependency closure of package.json's `dependencies` (and the
// optional and peer ones that are installed), resolved the way Node resolves them, plus
// rclnodejs when it was installed (the optional ROS backend; `npm install rclnodejs` on a ROS
// host). devDependencies (typescript, vitest, ...) are left out.
//
// usage: node runtime_packages.mjs <app root>
// Prints one line per package: "<source dir>|<path under the installed app>", e.g.
// "/ws/src/spatial-reward/node_modules/yaml|node_modules/yaml". Exits 1 naming a dependency
// that is not installed (npm install was not run or did not finish).
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";

const root = resolve(process.argv[2] ?? ".");
const OPTIONAL_BACKENDS = ["rclnodejs"];

function manifest(dir) {
  return JSON.parse(readFileSync(join(dir, "package.json"), "utf8"));
}

// Node's lookup: <dir>/node_modules/<name>, then each ancestor's node_modules.
function locate(name, from) {
  for (let dir = from; ; dir = dirname(dir)) {
    const candidate = join(dir, "node_modules", name);
    if (existsSync(join(candidate, "package.json"))) return candidate;
    if (dirname(dir) === dir) return undefined;
  }
}

// Where a package goes under the installed app. A package nested in another's node_modules keeps
// its nesting; one hoisted to the app's node_modules, or to an ancestor's (the app itself being
// installed from npm as a dependency), goes to the app's top node_modules.
function target(dir) {
  const rel = relative(root, dir);
  if (!rel.startsWith("..")) return rel.split(sep).join("/");
  for (let base = dirname(root); ; base = dirname(base)) {
    if (dir.startsWith(join(base, "node_modules") + sep)) return relative(base, dir).split(sep).join("/");
    if (dirname(base) === base) {
      console.error(`runtime_packages: ${dir} is outside every node_modules above ${root}`);
      process.exit(1);
    }
  }
}

const seen = new Map(); // source dir -> target
const byTarget = new Map();
const missing = [];
function visit(fromDir, deps, optional) {
  for (const name of deps) {
    const dir = locate(name, fromDir);
    if (!dir) {
      if (!optional.has(name)) missing.push(`${name} (needed by ${relative(root, fromDir) || "spatial-reward"})`);
      continue;
    }
    if (seen.has(dir)) continue;
    const to = target(dir);
    const clash = byTarget.get(to);
    if (clash && clash !== dir) {
      console.error(`runtime_packages: ${dir} and ${clash} would both install to ${to}`);
      process.exit(1);
    }
    seen.set(dir, to);
    byTarget.set(to, dir);
    const m = manifest(dir);
    const opt = new Set([...Object.keys(m.optionalDependencies ?? {}), ...Object.keys(m.peerDependencies ?? {})]);
    visit(dir, [...Object.keys(m.dependencies ?? {}), ...opt], opt);
  }
}

const app = manifest(root);
const optional = new Set([
  ...Object.keys(app.optionalDependencies ?? {}),
  ...Object.keys(app.peerDependencies ?? {}),
  ...OPTIONAL_BACKENDS,
]);
visit(root, [...Object.keys(app.dependencies ?? {}), ...optional], optional);
if (missing.length > 0) {
  console.error(`runtime_packages: not installed: ${missing.join(", ")}. Run \`npm install\` in ${root}.`);
  process.exit(1);
}
for (const [dir, to] of [...seen].sort((a, b) => a[1].localeCompare(b[1]))) console.log(`${dir}|${to}`);
