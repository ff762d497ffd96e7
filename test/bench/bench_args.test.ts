import { describe, expect, it } from "vitest";
import { fileURLToPath } from "node:url";
import { runChild } from "../run_child.js";

/**
 * The benchmarks' command lines (bench/bench_args.ts): an unknown option or a malformed number
 * is one line naming it and the usage, exit code 2, never Node's stack trace; --help prints the
 * usage. Nothing is measured: every case stops before the benchmark starts.
 */
const dist = (f: string) => fileURLToPath(new URL(`../../dist/bench/${f}.js`, import.meta.url));
const BENCHES = ["dds_bench", "dds_echo_node", "fuzz_bench", "kernels_ab", "record_bench", "soak_bench", "render_bench", "foxglove_bench"];
const run = (f: string, args: string[]) => runChild(process.execPath, [dist(f), ...args], { timeoutMs: 60_000 });

describe("benchmark command lines", () => {
  it.each(BENCHES)("%s: an unknown option is refused in one line with the usage (exit 2); --help prints the usage (exit 0)", async (f) => {
    const bad = await run(f, ["--no-such-option"]);
    expect(bad.code, bad.stderr).toBe(2);
    expect(bad.stderr).toMatch(/^[\w:]+: Unknown option '--no-such-option'/);
    expect(bad.stderr).toMatch(/\nusage: /);
    expect(bad.stderr).not.toMatch(/node:internal|\n\s+at /);
    expect(bad.stdout).toBe("");
    const help = await run(f, ["--help"]);
    expect(help.code, help.stderr).toBe(0);
    expect(help.stdout).toMatch(/^usage: /);
  });

  it.each([["--seconds", "abc"], ["--seconds", "0"], ["--seconds", "1e9"], ["--cameras", "-1"], ["--cameras", "2.5"], ["--soak-minutes", ""], ["--cameras", "NaN"]])(
    "bench:dds %s %j: refused before anything runs (exit 2)",
    async (option, value) => {
      const r = await run("dds_bench", [`${option}=${value}`]);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toContain(`bench:dds: ${option} must be an integer in`);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    },
  );

  it.each([["--transport", "iceoryx"], ["--transport", ""], ["--layout", "threads"], ["--camera-fragments", "huge"]])("bench:dds %s %j: refused before anything runs (exit 2)", async (option, value) => {
    const r = await run("dds_bench", [`${option}=${value}`]);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toContain(`bench:dds: ${option} must be one of`);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(r.stdout).toBe("");
  });

  it.each([["--encoding", "8UC3"], ["--encoding", ""], ["--noise", "gaussian"]])("kernels_ab %s %j: refused before anything runs (exit 2)", async (option, value) => {
    const r = await run("kernels_ab", ["ts", `${option}=${value}`]);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toContain(`kernels_ab: ${option} must be one of`);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(r.stdout).toBe("");
  });
});
