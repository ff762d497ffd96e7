import { spawn, spawnSync } from "node:child_process";
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readLaunchFile } from "./launch_description.js";
import { runChild, type ChildResult } from "../run_child.js";

/**
 * launch/ is the ament package spatial_reward. Built here with colcon and ament_cmake (Debian
 * has them; rosidl and launch_ros it has not, so spatial_reward_msgs is left out and the
 * launch files are parsed, not run). What a ROS 2 user relies on is checked on the install
 * tree: the ament index entry, the executables `ros2 run` finds, launch files naming only
 * those, the parameter files, an app that no longer needs the checkout, and signals reaching
 * the node process.
 */
const root = fileURLToPath(new URL("../..", import.meta.url));
const EXECUTABLES = ["perception", "spatial", "reward", "sim_camera", "sim", "mocap_ingest", "recorder"];
const LAUNCH_FILES = [
  "spatial_reward.launch.py", "spatial_reward.launch.xml", "camera_graph.launch.py", "camera_graph.launch.xml", "teleop.launch.py", "teleop.launch.xml",
];
const REQUIRED = process.env.SPATIAL_REWARD_REQUIRE_COLCON === "1";

/** ament_cmake runs Python scripts that import ament_package: find an interpreter that has it. */
function amentPython(): string | undefined {
  for (const py of ["python3", "/usr/bin/python3"]) {
    if (spawnSync(py, ["-c", "import ament_package"], { stdio: "ignore" }).status === 0) return py;
  }
  return undefined;
}

function colconMissing(): string {
  if (spawnSync("colcon", ["build", "--help"], { stdio: "ignore" }).status !== 0) return "colcon not found (apt install colcon python3-colcon-ros python3-colcon-cmake)";
  if (spawnSync("colcon", ["list", "--help"], { stdio: "ignore" }).status !== 0) return "colcon list not available (apt install python3-colcon-package-information)";
  if (!amentPython()) return "no python3 with ament_package (apt install ament-cmake)";
  return "";
}

const MISSING = colconMissing();
if (MISSING) console.warn(`ament package spatial_reward: skipped, ${MISSING}`);

/** Async (runChild): a colcon build takes minutes on a busy host, and a blocked test worker fails the run. */
async function run(cmd: string, args: string[], cwd: string, timeout = 30_000, env: NodeJS.ProcessEnv = process.env): Promise<ChildResult> {
  return runChild(cmd, args, { cwd, timeoutMs: timeout, env });
}

function colconBuild(ws: string, extra: string[] = [], cmakeArgs: string[] = []): Promise<ChildResult> {
  mkdirSync(ws, { recursive: true });
  return run("colcon", [
    "build", "--base-paths", join(root, "launch"), "--build-base", join(ws, "build"), "--install-base", join(ws, "install"),
    "--event-handlers", "console_direct+", ...extra, "--cmake-args", `-DPython3_EXECUTABLE=${amentPython()}`, ...cmakeArgs,
  ], ws, 180_000);
}

describe.runIf(REQUIRED && MISSING !== "")("colcon (SPATIAL_REWARD_REQUIRE_COLCON=1)", () => {
  it("is installed (required here)", () => {
    expect(MISSING).toBe("");
  });
});

describe.skipIf(MISSING !== "")(`the ament package spatial_reward${MISSING ? ` (skipped: ${MISSING})` : ""}`, () => {
  let work = "";
  let prefix = "";
  const lib = () => join(prefix, "lib", "spatial_reward");
  const share = () => join(prefix, "share", "spatial_reward");

  beforeAll(async () => {
    if (!existsSync(join(root, "dist", "nodes", "cli", "main.js"))) throw new Error("dist/ is missing: run `npm run build` first");
    work = mkdtempSync(join(tmpdir(), "sr-ament-"));
    const r = await colconBuild(join(work, "ws"));
    if (r.code !== 0) throw new Error(`colcon build failed:\n${r.stdout}\n${r.stderr}`);
    prefix = join(work, "ws", "install", "spatial_reward");
  }, 200_000);

  // The workspace holds colcon's build and install trees: more than the 10 s default hook time on a busy host.
  afterAll(() => {
    if (work) rmSync(work, { recursive: true, force: true });
  }, 120_000);

  it("a workspace holding the checkout sees exactly the two ROS packages (the interop peers' CMake projects are ignored)", async () => {
    const r = await run("colcon", ["list", "--names-only", "--base-paths", root], work);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim().split("\n").sort()).toEqual(["spatial_reward", "spatial_reward_msgs"]);
  });

  it("is registered in the ament index", () => {
    expect(existsSync(join(prefix, "share", "ament_index", "resource_index", "packages", "spatial_reward"))).toBe(true);
    expect(readFileSync(join(share(), "package.xml"), "utf8")).toContain("<name>spatial_reward</name>");
  });

  it("installs the executables ros2 run finds, each printing its usage with --help", async () => {
    for (const exe of EXECUTABLES) {
      const path = join(lib(), exe);
      expect(statSync(path).mode & 0o111, exe).not.toBe(0);
      const r = await run(path, ["--help"], work, 20_000);
      expect(r.code, `${exe} --help: ${r.stderr}`).toBe(0);
      expect(r.stdout, exe).toMatch(/usage/i);
      expect(r.stdout, exe).toContain(exe);
    }
  });

  it("installs the app itself, not a pointer into the checkout: compiled JS, runtime packages only, the dds addon", () => {
    const app = join(lib(), "app");
    expect(lstatSync(app).isSymbolicLink()).toBe(false);
    expect(existsSync(join(app, "dist", "nodes", "cli", "main.js"))).toBe(true);
    expect(JSON.parse(readFileSync(join(app, "package.json"), "utf8")).name).toBe("spatial-reward");
    expect(existsSync(join(app, "node_modules", "rxjs", "package.json"))).toBe(true);
    expect(existsSync(join(app, "node_modules", "typescript"))).toBe(false);
    expect(existsSync(join(app, "node_modules", "vitest"))).toBe(false);
    const addon = join("native", "build", "Release", "spatial_reward_dds.node");
    expect(existsSync(join(app, addon))).toBe(existsSync(join(root, addon)));
  });

  it("installs the launch files, naming only this package's installed executables and parameter files", () => {
    for (const file of LAUNCH_FILES) {
      const d = readLaunchFile(join(share(), "launch", file));
      expect(d.nodes.length, file).toBeGreaterThan(0);
      for (const n of d.nodes) {
        expect(n.package, file).toBe("spatial_reward");
        for (const exe of n.executables) expect(existsSync(join(lib(), exe)), `${file}: ${exe}`).toBe(true);
      }
      const paramsFile = file.endsWith(".py")
        ? join(share(), ...d.defaultStrings!.params_file)
        : join(share(), d.args.params_file!.replace("$(find-pkg-share spatial_reward)/", ""));
      expect(existsSync(paramsFile), `${file}: ${paramsFile}`).toBe(true);
    }
    expect(readdirSync(join(share(), "params")).sort()).toEqual(readdirSync(join(root, "launch", "params")).filter((f) => f.endsWith(".yaml")).sort());
  });

  it("the wrapper execs node: SIGTERM reaches the node process, which exits 0 within a second", async () => {
    const child = spawn(join(lib(), "perception"), ["--backend", "inproc", "--ros-args", "-r", "__node:=p2"], { stdio: ["ignore", "ignore", "pipe"] });
    let err = "";
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`node did not start: ${err}`)), 20_000);
      child.stderr.on("data", (c: Buffer) => {
        err += c.toString();
        if (err.includes("running on inproc")) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
    expect(err).toContain("/p2 running on inproc");
    // The process ros2 launch signals is node itself, not a shell in front of it.
    expect(readFileSync(`/proc/${child.pid}/comm`, "utf8").trim()).toBe("node");
    // nodes/cli prints "running" a moment before it installs its SIGTERM handler (a signal in
    // that window kills node by default), so give it that moment.
    await new Promise((r) => setTimeout(r, 200));
    const sent = Date.now();
    child.kill("SIGTERM");
    const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((r) => child.on("exit", (c, s) => r([c, s])));
    expect({ code, signal }).toEqual({ code: 0, signal: null });
    expect(Date.now() - sent).toBeLessThan(1000);
  }, 30_000);

  it("without --backend the executables use $SPATIAL_REWARD_BACKEND, else rclnodejs (which needs a sourced ROS 2)", async () => {
    const env = { ...process.env };
    delete env.ROS_DISTRO;
    delete env.SPATIAL_REWARD_BACKEND;
    const rcl = await run(join(lib(), "reward"), [], work, 20_000, env);
    expect(rcl.code).not.toBe(0);
    expect(rcl.stderr).toMatch(/rclnodejs/);
    const child = spawn(join(lib(), "reward"), [], { env: { ...env, SPATIAL_REWARD_BACKEND: "inproc" }, stdio: ["ignore", "ignore", "pipe"] });
    let err = "";
    child.stderr.on("data", (c: Buffer) => (err += c.toString()));
    while (!err.includes("running on") && child.exitCode === null) await new Promise((r) => setTimeout(r, 50));
    child.kill("SIGINT");
    await new Promise((r) => child.on("exit", r));
    expect(err).toContain("/reward running on inproc");
  }, 30_000);

  it("--symlink-install links the app to the checkout (npm run build takes effect without rebuilding)", async () => {
    const r = await colconBuild(join(work, "ws-symlink"), ["--symlink-install"]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const symlinked = join(work, "ws-symlink", "install", "spatial_reward", "lib", "spatial_reward");
    expect(lstatSync(join(symlinked, "app")).isSymbolicLink()).toBe(true);
    expect(statSync(join(symlinked, "app", "dist", "nodes", "cli", "main.js")).ino).toBe(statSync(join(root, "dist", "nodes", "cli", "main.js")).ino);
    const help = await run(join(symlinked, "sim"), ["--help"], work);
    expect(help.code, help.stderr).toBe(0);
  });

  it("a checkout without dist/ fails the build with a message naming npm install", async () => {
    const bare = join(work, "bare-app");
    mkdirSync(bare);
    writeFileSync(join(bare, "package.json"), readFileSync(join(root, "package.json")));
    const r = await colconBuild(join(work, "ws-bare"), [], [`-DSPATIAL_REWARD_APP_DIR=${bare}`]);
    expect(r.code).not.toBe(0);
    expect((r.stdout + r.stderr).replace(/\s+/g, " ")).toContain("run `npm install` in " + bare);
  });

  // Last: moves the install tree.
  it("the install tree is relocatable: the executables find the app from their own path", async () => {
    const moved = join(work, "moved-install");
    renameSync(join(work, "ws", "install"), moved);
    prefix = join(moved, "spatial_reward");
    const r = await run(join(lib(), "sim"), ["--help"], work);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/usage: spatial-reward sim/i);
  });
});
