import { spawn } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DDS_REQUIRED, LOOPBACK_CONFIG } from "../dds/dds_env.js";
import { runChild, type ChildResult } from "../run_child.js";

/**
 * The package as a user gets it: `npm pack` (which compiles TypeScript through `prepare`), then
 * `npm install <tarball>` into a fresh project, where devDependencies are absent and `prepare`
 * does not run. The dds addon must be built there by the install script, and the CLI, the
 * library entry points and a DDS graph must work from the consumer's node_modules.
 *
 * The package is packed from a copy of the working tree without dist/, so the tarball's dist/
 * can only come from the pack itself, and nothing here rewrites the checkout's dist/ while other
 * test files run it.
 */
const root = fileURLToPath(new URL("../..", import.meta.url));
const version = (JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { version: string }).version;
// Built where Cyclone DDS is installed (as native/build.mjs decides).
const cycloneHeader = process.env.CYCLONEDDS_HOME ? join(process.env.CYCLONEDDS_HOME, "include", "dds", "dds.h") : "/usr/include/dds/dds.h";
const CYCLONE_HERE = existsSync(cycloneHeader);
// The kernels addon needs only a C++ compiler (node-gyp's make and Python come with the host).
const COMPILER_HERE = existsSync("/usr/bin/c++") || existsSync("/usr/bin/g++");
// What a package needs to build and pack; dist/, native/build/ and node_modules/ stay behind.
const SOURCES = ["package.json", "package-lock.json", "tsconfig.json", "tsconfig.build.json", "README.md", "LICENSE", "src", "nodes", "sim", "bench", "launch", "msgs", "models", "docs", "native/binding.gyp", "native/build.mjs", "native/src"];

/** The child's environment without the npm_* variables of an enclosing `npm test` (npm_config_local_prefix would aim npm at this checkout). */
function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^npm_/i.test(k) && k !== "INIT_CWD") env[k] = v;
  return { ...env, ...extra };
}


/** Every child here runs async (runChild): npm install builds two addons, over a minute on a busy host, and a blocked test worker fails the run (see run_child.ts). */
function runAsync(cmd: string, args: string[], cwd: string, timeoutMs: number, extra: Record<string, string> = {}): Promise<ChildResult> {
  return runChild(cmd, args, { cwd, timeoutMs, env: cleanEnv(extra) });
}

interface PackResult { filename: string; files: { path: string }[] }

describe("the npm package, installed as a dependency", () => {
  let work = "";
  let consumer = "";
  let packed: PackResult;
  const installed = () => join(consumer, "node_modules", "spatial-reward");

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), "sr-install-"));
    const src = join(work, "src");
    for (const p of SOURCES) if (existsSync(join(root, p))) cpSync(join(root, p), join(src, p), { recursive: true });
    symlinkSync(join(root, "node_modules"), join(src, "node_modules"), "dir");
    const pack = await runAsync("npm", ["pack", "--json", "--pack-destination", work], src, 120_000);
    if (pack.code !== 0) throw new Error(`npm pack failed:\n${pack.stderr}`);
    packed = (JSON.parse(pack.stdout) as PackResult[])[0];

    consumer = join(work, "consumer");
    mkdirSync(consumer);
    // allowScripts: npm 11 warns about unapproved dependency install scripts and later npm
    // versions skip them; a user approves spatial-reward's (it builds the dds addon) the same way.
    writeFileSync(join(consumer, "package.json"), JSON.stringify({
      name: "sr-consumer", version: "1.0.0", private: true, type: "module", allowScripts: { "spatial-reward": true },
    }, null, 2));
    // As the README tells users: onnxruntime-node's installer must not fetch CUDA libraries (the CPU build is in its package).
    const install = await runAsync("npm", ["install", join(work, packed.filename), "--no-audit", "--no-fund", "--prefer-offline"], consumer, 180_000, { ONNXRUNTIME_NODE_INSTALL: "skip" });
    if (install.code !== 0) throw new Error(`npm install of the tarball failed:\n${install.stdout}\n${install.stderr}`);
  }, 300_000);

  // Removing the consumer's node_modules takes more than the default 10 s hook time on a busy host.
  afterAll(() => {
    if (work) rmSync(work, { recursive: true, force: true });
  }, 120_000);

  it("the tarball holds the compiled app, the addon sources, the ROS packages and the licence, and no tests", () => {
    const files = packed.files.map((f) => f.path);
    for (const f of [
      "package.json", "README.md", "LICENSE",
      "dist/nodes/cli/main.js", "dist/src/index.js", "dist/src/index.d.ts", "dist/sim/index.js",
      "dist/nodes/backbone/index.js", "dist/nodes/backbone/backbone_worker.js", "models/README.md",
      "native/binding.gyp", "native/build.mjs", "native/src/addon.cc",
      "launch/package.xml", "launch/CMakeLists.txt", "launch/spatial_reward.launch.py", "launch/camera_graph.launch.py", "launch/params/tabletop.yaml",
      "msgs/package.xml", "msgs/CMakeLists.txt", "msgs/msg/Reward.msg", "msgs/srv/SpatialQuery.srv",
    ]) expect(files, f).toContain(f);
    expect(files.filter((f) => /^(dist\/)?(test|node_modules|native\/build|types)\//.test(f) || (f.endsWith(".ts") && !f.endsWith(".d.ts")))).toEqual([]);
    expect(readFileSync(join(installed(), "LICENSE"), "utf8")).toContain("Apache License");
  });

  it("only runtime dependencies are installed (no TypeScript, no vitest)", () => {
    expect(existsSync(join(consumer, "node_modules", "rxjs", "package.json"))).toBe(true);
    expect(existsSync(join(consumer, "node_modules", "typescript"))).toBe(false);
    expect(existsSync(join(consumer, "node_modules", "vitest"))).toBe(false);
  });

  it.runIf(CYCLONE_HERE || DDS_REQUIRED)("the install script built the dds addon in the consumer", () => {
    expect(existsSync(join(installed(), "native", "build", "Release", "spatial_reward_dds.node"))).toBe(true);
  });

  it("the spatial-reward command runs from node_modules/.bin", async () => {
    const r = await runAsync(join(consumer, "node_modules", ".bin", "spatial-reward"), ["--version"], consumer, 30_000);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim()).toContain(version);
  });

  it("`spatial-reward` and `spatial-reward/sim` import from an ESM module", async () => {
    writeFileSync(join(consumer, "loop.mjs"), `
import { Perception, RewardTracker, parseRewardSpec } from "spatial-reward";
import { SimEnv } from "spatial-reward/sim";
const env = new SimEnv({ render: true, noise: "none", maxSteps: 5 });
const obs = env.reset(3);
const reward = new RewardTracker(parseRewardSpec(env.task)).update(new Perception().process(obs.frame));
console.log(JSON.stringify({ task: env.task, progress: reward.progress, reward: reward.reward }));
`);
    const r = await runAsync(process.execPath, ["loop.mjs"], consumer, 60_000);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout.trim()) as { task: string; progress: number; reward: number };
    expect(out.task.length).toBeGreaterThan(0);
    expect(Number.isFinite(out.reward)).toBe(true);
  });

  it.runIf(COMPILER_HERE || process.env.SPATIAL_REWARD_REQUIRE_NATIVE === "1")("the install script built the kernels addon, and `spatial-reward/native` runs perception on it with the same scene as TypeScript", async () => {
    expect(existsSync(join(installed(), "native", "build", "Release", "spatial_reward_kernels.node"))).toBe(true);
    writeFileSync(join(consumer, "native.mjs"), `
import { Perception } from "spatial-reward";
import { SimEnv } from "spatial-reward/sim";
import { nativeKernelsStatus, nativePerceptionStatus, perceptionKernels } from "spatial-reward/native";
const env = new SimEnv({ render: true, noise: "realsense", maxSteps: 5 });
const obs = env.reset(7);
const native = new Perception({ kernels: perceptionKernels() }).process(obs.frame);
const ts = new Perception().process(obs.frame);
const boxes = (s) => JSON.stringify(s.objects.map((o) => [o.id, o.center, o.size]));
console.log(JSON.stringify({ loaded: nativeKernelsStatus().loaded, perception: nativePerceptionStatus(), objects: native.objects.length, same: boxes(native) === boxes(ts) }));
`);
    const r = await runAsync(process.execPath, ["native.mjs"], consumer, 60_000);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout.trim()) as { loaded: boolean; perception: { native: boolean }; objects: number; same: boolean };
    expect(out.loaded).toBe(true);
    expect(out.perception.native).toBe(true);
    expect(out.objects).toBeGreaterThan(0);
    expect(out.same).toBe(true);
  });

  it("`spatial-reward/backbone` runs a seeded-random model in its worker thread from the consumer's node_modules", async () => {
    writeFileSync(join(consumer, "backbone.mjs"), `
import { BackboneRuntime, TINY_CONFIG } from "spatial-reward/backbone";
const config = { ...TINY_CONFIG, image_size: 32, patch_size: 8, d_model: 32, n_layer: 2, expand: 2, d_state: 8, dt_rank: 4,
  encoders: [{ name: "dino", width: 16, depth: 1, heads: 2, mlp_ratio: 2 }], projector: { hidden: 32, token_pool: 2 } };
const rt = await BackboneRuntime.open({ model: { seed: 7, config }, maxStreams: 1 });
rt.addStream("cam");
const t = await rt.pushFrame("cam", { width: 8, height: 6, encoding: "rgb8", step: 24, data: new Uint8Array(144).fill(90) });
const a = await rt.ask("cam", "how far?", { maxTokens: 3 });
await rt.close();
console.log(JSON.stringify({ tokens: t.visualTokens, trained: a.trained, answerTokens: a.tokenIds.length }));
`);
    const r = await runAsync(process.execPath, ["backbone.mjs"], consumer, 60_000);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout.trim())).toEqual({ tokens: 4, trained: false, answerTokens: 3 });
  });

  it("installed without optional dependencies (no onnxruntime-node): the engine and simulator run, the backbone says backend_unavailable", async () => {
    const bare = join(work, "consumer-no-optional");
    mkdirSync(bare);
    writeFileSync(join(bare, "package.json"), JSON.stringify({
      name: "sr-consumer-bare", version: "1.0.0", private: true, type: "module", allowScripts: { "spatial-reward": true },
    }, null, 2));
    // The same tarball; the dds addon is not what this test is about (the first consumer builds it).
    const install = await runAsync("npm", ["install", join(work, packed.filename), "--omit=optional", "--no-audit", "--no-fund", "--prefer-offline"], bare, 180_000, { SPATIAL_REWARD_SKIP_NATIVE: "1" });
    expect(install.code, `${install.stdout}\n${install.stderr}`).toBe(0);
    expect(existsSync(join(bare, "node_modules", "spatial-reward", "package.json"))).toBe(true);
    expect(existsSync(join(bare, "node_modules", "onnxruntime-node"))).toBe(false);
    writeFileSync(join(bare, "use.mjs"), `
import { Perception, RewardTracker, parseRewardSpec } from "spatial-reward";
import { SimEnv } from "spatial-reward/sim";
import { BackboneRuntime, TINY_CONFIG } from "spatial-reward/backbone";
const env = new SimEnv({ render: true, noise: "none", maxSteps: 5 });
const obs = env.reset(3);
const reward = new RewardTracker(parseRewardSpec(env.task)).update(new Perception().process(obs.frame));
const backbone = await BackboneRuntime.open({ model: { seed: 7, config: TINY_CONFIG }, maxStreams: 1 }).then(
  () => ({ opened: true }),
  (e) => ({ code: e.code, message: e.message }),
);
console.log(JSON.stringify({ task: env.task, reward: reward.reward, backbone }));
`);
    const r = await runAsync(process.execPath, ["use.mjs"], bare, 60_000);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout.trim()) as { task: string; reward: number; backbone: { code?: string; message?: string } };
    expect(out.task.length).toBeGreaterThan(0);
    expect(Number.isFinite(out.reward)).toBe(true);
    expect(out.backbone.code).toBe("backend_unavailable");
    expect(out.backbone.message).toMatch(/npm install onnxruntime-node/);
    // The command too: one typed line, exit 1 (not a raw ERR_MODULE_NOT_FOUND from the bench modules).
    const bench = await runAsync(join(bare, "node_modules", ".bin", "spatial-reward"), ["backbone", "bench", "--quick", "--json"], bare, 60_000);
    expect(bench.code, bench.stderr).toBe(1);
    expect(bench.stderr).toMatch(/^spatial-reward backbone: the backbone needs onnxruntime-node, which is not installed/m);
    expect(bench.stderr).not.toMatch(/ERR_MODULE_NOT_FOUND/);
  }, 240_000);

  it.runIf(CYCLONE_HERE || DDS_REQUIRED)("the consumer's simulator and node graph talk over DDS (loopback): rewards come back", async () => {
    const bin = join(installed(), "dist", "nodes", "cli", "main.js");
    // A domain of its own, so concurrent DDS tests on loopback do not see these participants.
    const env = cleanEnv({ CYCLONEDDS_URI: `file://${LOOPBACK_CONFIG}`, ROS_DOMAIN_ID: String(100 + (process.pid % 100)) });
    const params = join(installed(), "launch", "params", "camera_graph.yaml");
    const graph = spawn(process.execPath, [bin, "launch", params, "--backend", "dds", "--duration", "6", "--json"], { cwd: consumer, env, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    graph.stdout.on("data", (c: Buffer) => (out += c.toString()));
    graph.stderr.on("data", (c: Buffer) => (err += c.toString()));
    await new Promise((r) => setTimeout(r, 1000));
    const sim = spawn(process.execPath, [bin, "sim", "--backend", "dds", "--rate", "10", "--frames", "40"], { cwd: consumer, env, stdio: ["ignore", "ignore", "pipe"] });
    const graphCode = await new Promise<number | null>((r) => graph.on("exit", r));
    sim.kill("SIGTERM");
    const simCode = await new Promise<number | null>((r) => sim.on("exit", r));
    expect(graphCode, err).toBe(0);
    expect(simCode).toBe(0);
    const summary = JSON.parse(out.trim().split("\n").pop()!) as { backend: string; rewards: number; counters: Record<string, { perception: Record<string, number>; reward: Record<string, number> }> };
    expect(summary.backend).toBe("dds");
    expect(summary.counters["/"].reward.specs_set).toBe(1); // the simulator's task, latched over DDS
    expect(summary.counters["/"].perception.frames_in).toBeGreaterThan(0);
    expect(summary.rewards).toBeGreaterThanOrEqual(3);
  }, 30_000);
});
