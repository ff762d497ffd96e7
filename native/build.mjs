// Builds the Cyclone DDS addon when Cyclone DDS is installed; otherwise says so and succeeds,
// so `npm install` works on hosts without it (the inproc and rclnodejs backends need no addon).
// Runs as the package's `install` script: in this checkout (`npm install`) and in every project
// that installs spatial-reward from the registry or a tarball (devDependencies and `prepare`
// are absent there; node-gyp is the one npm ships). SPATIAL_REWARD_REQUIRE_DDS=1 turns a
// missing Cyclone into a failure (CI sets it).
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, sep } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
const required = process.env.SPATIAL_REWARD_REQUIRE_DDS === "1";
// Installed as a dependency (…/node_modules/spatial-reward/native), `npm run build:native` does
// not exist for the user: npm rebuild runs this install script again.
const asDependency = here.split(sep).includes("node_modules");
const rebuild = asDependency ? "`npm rebuild spatial-reward`" : "`npm run build:native`";

if (process.env.SPATIAL_REWARD_SKIP_NATIVE === "1") {
  console.log("spatial-reward: SPATIAL_REWARD_SKIP_NATIVE=1, dds addon not built");
  process.exit(0);
}

const home = process.env.CYCLONEDDS_HOME;
const header = home ? join(home, "include", "dds", "dds.h") : "/usr/include/dds/dds.h";
if (!existsSync(header)) {
  const msg = `spatial-reward: Cyclone DDS not found (${header}); the dds backend is not built ` +
    "(the inproc and rclnodejs backends work without it). To build it, install Cyclone DDS (Debian/Ubuntu: " +
    `apt install cyclonedds-dev; on a ROS 2 host set CYCLONEDDS_HOME=/opt/ros/$ROS_DISTRO) and run ${rebuild}.`;
  console.log(msg);
  process.exit(required ? 1 : 0);
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

const gyp = nodeGyp();
if (!gyp) {
  console.log(`spatial-reward: node-gyp not found; the dds backend is not built (npm ships node-gyp: run ${rebuild})`);
  process.exit(required ? 1 : 0);
}
const args = [gyp, "rebuild", "--directory", here];
// Build against the local Node headers when they exist: nothing may be downloaded.
const nodedir = process.env.npm_config_nodedir ?? join(dirname(process.execPath), "..");
if (existsSync(join(nodedir, "include", "node", "node.h"))) args.push(`--nodedir=${nodedir}`);
const r = spawnSync(process.execPath, args, { stdio: ["ignore", "inherit", "inherit"] });
if (r.status !== 0) {
  console.error(`spatial-reward: building the dds addon failed (see above); the dds backend is unavailable until ${rebuild} succeeds`);
  process.exit(required ? 1 : 0);
}
console.log("spatial-reward: dds addon built (native/build/Release/spatial_reward_dds.node)");
