import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { runChild } from "../run_child.js";

/**
 * The built CLI as users run it (`npm run build` first): help, version, and every kind of
 * wrong command line refused in one stderr line with exit code 2 before anything runs.
 */
const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const cli = join(root, "dist", "nodes", "cli", "main.js");
const version = (JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { version: string }).version;
const work = mkdtempSync(join(tmpdir(), "sr-cli-"));
const params = join(root, "launch", "params", "tabletop.yaml");
afterAll(() => rmSync(work, { recursive: true, force: true }));

interface Run { code: number | null; stdout: string; stderr: string }

/** Async (runChild): a test runs the CLI many times, and a worker blocked for 60 s fails the whole run. */
async function run(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Run> {
  return runChild(process.execPath, [cli, ...args], { timeoutMs: 60_000, cwd: work, env: { ...process.env, SPATIAL_REWARD_DEBUG: "", ...env } });
}

/** Exit 2, nothing on stdout, exactly one line on stderr that names `mention`. */
function expectUsageError(r: Run, command: string, mention: string): void {
  expect({ code: r.code, stdout: r.stdout }).toEqual({ code: 2, stdout: "" });
  const lines = r.stderr.split("\n").filter((l) => l !== "");
  expect(lines, r.stderr).toHaveLength(1);
  expect(lines[0].startsWith(`spatial-reward ${command}: `), lines[0]).toBe(true);
  expect(lines[0]).toContain(mention);
}

const COMMANDS = ["demo", "eval", "ask", "bench", "launch", "node", "sim", "sim-dump", "collect"] as const;
/** The positional arguments a command needs before its options can be judged. */
const NEEDS: Record<(typeof COMMANDS)[number], string[]> = {
  demo: [], eval: [], ask: ["how far is the mug from the bowl?"], bench: [], launch: [params], node: ["perception"], sim: [],
  "sim-dump": ["--out", join(work, "never")], collect: [],
};

describe("spatial-reward CLI", () => {
  it("is built", () => {
    expect(existsSync(cli), `${cli} is missing: run npm run build`).toBe(true);
  });

  it("prints its help and version, and help for a command, on stdout with exit 0", async () => {
    const help = await run(["--help"]);
    expect([help.code, help.stderr]).toEqual([0, ""]);
    expect(help.stdout).toMatch(/^Usage: spatial-reward \[options\] \[command\]/);
    for (const c of COMMANDS) expect(help.stdout).toContain(`  ${c} `);
    expect((await run(["-h"])).stdout).toBe(help.stdout);
    expect(await run(["--version"])).toEqual({ code: 0, stdout: `${version}\n`, stderr: "" });
    expect((await run(["-V"])).stdout).toBe(`${version}\n`);
    const viaHelp = await run(["help", "eval"]);
    expect(viaHelp).toEqual({ ...(await run(["eval", "--help"])), code: 0 });
    expect(viaHelp.stdout).toContain("--hfov-deg");
  });

  it("refuses a bare call, an unknown command and help for one", async () => {
    const bare = await run([]);
    expect(bare.code).toBe(2);
    expect(bare.stdout).toBe("");
    expect(bare.stderr).toContain("Usage: spatial-reward");
    const unknown = await run(["evl"]);
    expect({ code: unknown.code, stderr: unknown.stderr }).toEqual({ code: 2, stderr: "spatial-reward: unknown command 'evl' (Did you mean eval?)\n" });
    expect(await run(["help", "evaluate"])).toEqual({ code: 2, stdout: "", stderr: "spatial-reward: unknown command 'evaluate'\n" });
  });

  for (const c of COMMANDS) {
    it(`${c}: --help and --version exit 0 without starting anything`, async () => {
      const h = await run([c, ...NEEDS[c], "--help"]);
      expect([h.code, h.stderr]).toEqual([0, ""]);
      expect(h.stdout).toMatch(new RegExp(`^Usage: spatial-reward ${c} `));
      expect(h.stdout).toContain("--version");
      expect((await run([c, "-h"])).stdout).toBe(h.stdout);
      expect(await run([c, "--version"])).toEqual({ code: 0, stdout: `${version}\n`, stderr: "" });
    });

    it(`${c}: an unknown flag is a one-line usage error`, async () => {
      expectUsageError(await run([c, ...NEEDS[c], "--bogus-flag"]), c, "--bogus-flag");
    });
  }

  it("refuses unexpected positionals", async () => {
    expectUsageError(await run(["demo", "now"]), "demo", "too many arguments");
    expectUsageError(await run(["node", "perception", "extra"]), "node", "too many arguments");
    expectUsageError(await run(["launch", params, params]), "launch", "too many arguments");
    expectUsageError(await run(["node"]), "node", "missing required argument 'name'");
    expectUsageError(await run(["launch"]), "launch", "missing required argument");
  });

  it("validates numbers: integers, ranges, finite", async () => {
    const cases: [string[], string, string][] = [
      [["demo", "--frames", "abc"], "demo", '--frames must be an integer from 30 to 108000, got "abc"'],
      [["demo", "--seed", "abc"], "demo", '--seed must be a non-negative integer ≤ 4294967295, got "abc"'],
      [["eval", "--seed", "-1"], "eval", 'got "-1"'],
      [["eval", "--seed", "4294967296"], "eval", "--seed must be a non-negative integer ≤ 4294967295"],
      [["eval", "--seed", "4294967290", "--scenes", "7"], "eval", "runs past the largest seed"],
      [["eval", "--seed", "1.5"], "eval", "--seed must be a non-negative integer"],
      [["eval", "--seed", "9007199254740993"], "eval", "--seed must be a non-negative integer"],
      [["eval", "--scenes", "0"], "eval", "--scenes must be an integer"],
      [["eval", "--width", "1e3"], "eval", '--width must be an integer from 16 to 8192, got "1e3"'],
      [["eval", "--height", "100000"], "eval", "--height must be an integer from 16 to 8192"],
      [["eval", "--hfov-deg", "171"], "eval", '--hfov-deg must be a number in [1, 170], got "171"'],
      [["eval", "--hfov-deg", "NaN"], "eval", "--hfov-deg must be a number"],
      [["eval", "--per-type", ""], "eval", "--per-type must be an integer"],
      [["ask", "--seed", "x", "how tall is the mug"], "ask", "--seed must be a non-negative integer"],
      [["bench", "--frames", "0"], "bench", "--frames must be an integer from 20"],
      [["bench", "--queries", "2.5"], "bench", "--queries must be an integer"],
      [["launch", params, "--duration", "abc"], "launch", '--duration must be a number ≥ 0, got "abc"'],
      [["launch", params, "--duration", "-1"], "launch", "--duration must be a number ≥ 0"],
      [["launch", params, "--frames", "0"], "launch", "--frames must be an integer ≥ 1"],
      [["sim", "--rate", "0"], "sim", '--rate must be a number in (0, 1000], got "0"'],
      [["sim", "--rate", "1e999"], "sim", "--rate must be a number"],
      [["sim", "--frames", "5"], "sim", "--frames must be an integer from 20"],
      [["sim-dump", "--out", join(work, "never"), "--frames", "abc"], "sim-dump", "--frames must be an integer"],
    ];
    for (const [args, c, message] of cases) expectUsageError(await run(args), c, message);
  });

  it("validates enum flags, listing the choices", async () => {
    const cases: [string[], string, string][] = [
      [["demo", "--noise", "gaussian"], "demo", '--noise must be one of none, realsense, got "gaussian"'],
      [["eval", "--masks", "sam"], "eval", '--masks must be one of gt, detections, got "sam"'],
      [["ask", "--masks", "sam", "how tall is the mug"], "ask", "--masks must be one of gt, detections"],
      [["bench", "--noise", "x"], "bench", "--noise must be one of none, realsense"],
      [["bench", "--schedule", "alternate"], "bench", '--schedule must be one of blocks, interleaved, got "alternate"'],
      [["launch", params, "--backend", "pigeon"], "launch", '--backend must be one of inproc, dds, rclnodejs, got "pigeon"'],
      [["node", "perception", "--backend", "pigeon"], "node", "--backend must be one of inproc, dds, rclnodejs"],
      [["node", "planner"], "node", 'the node name must be one of sim_camera, perception, spatial, reward, backbone, mocap_ingest, recorder, got "planner"'],
      [["sim", "--noise", "x"], "sim", "--noise must be one of none, realsense"],
      [["sim-dump", "--out", join(work, "never"), "--noise", "x"], "sim-dump", "--noise must be one of none, realsense"],
    ];
    for (const [args, c, message] of cases) expectUsageError(await run(args), c, message);
  });

  it("checks output and input paths before any work, creating nothing", async () => {
    const log = join(work, "missing", "dir", "x.jsonl");
    expectUsageError(await run(["eval", "--log", log]), "eval", "--log");
    expect(existsSync(join(work, "missing"))).toBe(false);
    expectUsageError(await run(["eval", "--log", work]), "eval", "is a directory");
    const file = join(work, "a-file");
    writeFileSync(file, "x");
    expectUsageError(await run(["sim-dump", "--out", join(file, "sub")]), "sim-dump", "--out");
    expectUsageError(await run(["sim-dump", "--out", file]), "sim-dump", "not a directory");
    expectUsageError(await run(["sim-dump"]), "sim-dump", "--out");
    expectUsageError(await run(["launch", join(work, "nope.yaml")]), "launch", "does not exist");
    expectUsageError(await run(["node", "perception", "--ros-args", "--params-file", join(work, "nope.yaml")]), "node", "--params-file");
    expect(existsSync(join(work, "never"))).toBe(false);
  });

  it("gives everything from --ros-args to the ROS argument parser, whose errors are usage errors", async () => {
    // commander never sees -p/-r/--params-file: help still works with them present.
    const h = await run(["node", "perception", "--help", "--ros-args", "-r", "__node:=x", "-p", "a:=1", "--params-file", "/nope"]);
    expect([h.code, h.stderr]).toEqual([0, ""]);
    expect(h.stdout).toMatch(/^Usage: spatial-reward node /);
    expectUsageError(await run(["node", "perception", "--ros-args", "-p"]), "node", "-p needs a value");
    expectUsageError(await run(["node", "perception", "--ros-args", "--bogus"]), "node", 'unknown ROS argument "--bogus"');
    expectUsageError(await run(["node", "perception", "--ros-args", "-r", "no-arrow"]), "node", "no-arrow");
    expectUsageError(await run(["sim", "--ros-args", "--log-level", "loud"]), "sim", "loud");
    expectUsageError(await run(["sim", "--ros-args", "-p", "seed"]), "sim", "-p expects name:=value");
  });

  it("refuses a question over the length bound as a usage error", async () => {
    expectUsageError(await run(["ask", "x".repeat(1001)]), "ask", "at most 1000");
    expectUsageError(await run(["ask", " "]), "ask", "the question is empty");
  });

  it("reports a runtime failure in one line with exit 1 (the stack only with SPATIAL_REWARD_DEBUG=1)", async () => {
    const bad = join(work, "bad.yaml");
    writeFileSync(bad, "perception: [unclosed\n");
    const r = await run(["launch", bad, "--duration", "1"]);
    expect({ code: r.code, stdout: r.stdout }).toEqual({ code: 1, stdout: "" });
    expect(r.stderr.split("\n").filter((l) => l)).toHaveLength(1);
    expect(r.stderr).toMatch(/^spatial-reward launch: .*bad\.yaml/);
    const debug = await run(["launch", bad, "--duration", "1"], { SPATIAL_REWARD_DEBUG: "1" });
    expect(debug.code).toBe(1);
    expect(debug.stderr).toMatch(/\n\s+at /);
    // The rclnodejs backend without ROS 2 sourced is a runtime failure, said in one line.
    const ros = await run(["node", "perception", "--backend", "rclnodejs"], { ROS_DISTRO: "" });
    expect(ros.code).toBe(1);
    expect(ros.stderr.split("\n").filter((l) => l), ros.stderr).toHaveLength(1);
  });

  it("answers a question in the unit asked for", async () => {
    const r = await run(["ask", "--seed", "14", "how far is the mug from the bowl in inches?"]);
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: "" });
    expect(r.stdout).toMatch(/^The gray mug is [\d.]+ inches from the yellow bowl\.\n$/);
  });

  it("starts a node with its ROS arguments applied and stops it on SIGINT", async () => {
    const child = spawn(process.execPath, [cli, "node", "perception", "--backend", "inproc", "--ros-args", "-r", "__node:=cli_probe", "-p", "sync_slop_ms:=5"], { cwd: work });
    let stderr = "";
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
    const deadline = Date.now() + 30_000;
    while (!stderr.includes("running on") && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    child.kill("SIGINT");
    expect(await exited).toBe(0);
    expect(stderr).toContain("/cli_probe running on inproc");
  });
});
