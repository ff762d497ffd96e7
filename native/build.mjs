// Builds the native addons (node-gyp, binding.gyp). Runs as the package's `install` script: in
// this checkout (`npm install`) and in every project that installs spatial-reward from the
// registry or a tarball (devDependencies and `prepare` are absent there; node-gyp is the one
// npm ships). Two targets, each built on its own so one failing never takes the other down:
// - spatial_reward_kernels: the per-frame kernels (native/src/kernels/), on every host with a
//   C++17 compiler. Without it everything runs on the TypeScript kernels, with one warning.
// - spatial_reward_dds: the Cyclone DDS binding, only where Cyclone DDS is installed (the
//   inproc and rclnodejs backends need no addon).
// Either missing is said and the install succeeds, unless SPATIAL_REWARD_REQUIRE_NATIVE=1 (the
// kernels) or SPATIAL_REWARD_REQUIRE_DDS=1 (Cyclone and the dds addon) make it a failure (CI
// sets both). SPATIAL_REWARD_SKIP_NATIVE=1 builds nothing. Nothing is downloaded: node-gyp
// builds against the local Node headers when they exist.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, sep } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
const requireDds = process.env.SPATIAL_REWARD_REQUIRE_DDS === "1";
const requireKernels = process.env.SPATIAL_REWARD_REQUIRE_NATIVE === "1";
// Installed as a dependency (…/node_modules/spatial-reward/native), `npm run build:native` does
// not exist for the user: npm rebuild runs this install script again.
const asDependency = here.split(sep).includes("node_modules");
const rebuild = asDependency ? "`npm rebuild spatial-reward`" : "`npm run build:native`";
const KERNELS_MISSING = "the native kernels are not built: everything runs on the TypeScript kernels (slower: the " +
  "simulator's rasteriser and the perception kernels)";

if (process.env.SPATIAL_REWARD_SKIP_NATIVE === "1") {
  console.log("spatial-reward: SPATIAL_REWARD_SKIP_NATIVE=1, no native addon built (dds backend unavailable, TypeScript kernels)");
  process.exit(0);
}

// npm hands its own node-gyp to scripts; outside npm, use the one npm ships.
function nodeGyp() {
  if (process.env.npm_config_node_gyp) return process.env.npm_config_node_gyp;
  for (const candidate of [
    join(dirname(process.execPath), "..", "lib", "node_modules", "npm", "node_modules", "node-gyp", "bin", "node-gyp.js"),
  ]) {
    if (existsSync(candidate)) return candidate;
  }
  try {
    return require.resolve("node-gyp/bin/node-gyp.js");
  } catch {
    return undefined;
  }
}

const home = process.env.CYCLONEDDS_HOME;
const header = home ? join(home, "include", "dds", "dds.h") : "/usr/include/dds/dds.h";
const cyclone = existsSync(header);
const noCyclone = `spatial-reward: Cyclone DDS not found (${header}); the dds backend is not built ` +
  "(the inproc and rclnodejs backends work without it). To build it, install Cyclone DDS (Debian/Ubuntu: " +
  `apt install cyclonedds-dev; on a ROS 2 host set CYCLONEDDS_HOME=/opt/ros/$ROS_DISTRO) and run ${rebuild}.`;

const gyp = nodeGyp();
if (!gyp) {
  console.log(`spatial-reward: node-gyp not found; ${KERNELS_MISSING}, and the dds backend is not built (npm ships node-gyp: run ${rebuild})`);
  process.exit(requireKernels || requireDds ? 1 : 0);
}

// Build against the local Node headers when they exist: nothing may be downloaded.
const nodedir = process.env.npm_config_nodedir ?? join(dirname(process.execPath), "..");
const nodedirArg = existsSync(join(nodedir, "include", "node", "node.h")) ? [`--nodedir=${nodedir}`] : [];

function nodeGypRun(args) {
  return spawnSync(process.execPath, [gyp, ...args, "--directory", here, ...nodedirArg], { stdio: ["ignore", "inherit", "inherit"] }).status === 0;
}

// configure + build per target (not rebuild): a checkout rebuilds only what changed, and a
// target that fails leaves the other's addon in place.
if (!nodeGypRun(["configure"])) {
  console.error(`spatial-reward: node-gyp configure failed (see above; it needs Python 3); ${KERNELS_MISSING}, and the dds backend is not built. Fix it and run ${rebuild}.`);
  process.exit(requireKernels || requireDds ? 1 : 0);
}

const kernels = nodeGypRun(["build", "spatial_reward_kernels"]);
if (kernels) console.log("spatial-reward: native kernels built (native/build/Release/spatial_reward_kernels.node)");
else console.error(`spatial-reward: building the native kernels failed (see above; they need a C++17 compiler and make); ${KERNELS_MISSING} until ${rebuild} succeeds.`);

let dds = false;
if (!cyclone) console.log(noCyclone);
else {
  dds = nodeGypRun(["build", "spatial_reward_dds"]);
  if (dds) console.log("spatial-reward: dds addon built (native/build/Release/spatial_reward_dds.node)");
  else console.error(`spatial-reward: building the dds addon failed (see above); the dds backend is unavailable until ${rebuild} succeeds`);
}

process.exit((requireKernels && !kernels) || (requireDds && !dds) ? 1 : 0);
