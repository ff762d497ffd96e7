import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { runChild } from "../run_child.js";

/**
 * Long jobs through the built CLI: a progress bar on a terminal (a pseudo-terminal from
 * util-linux's `script`), plain status lines when stderr is a pipe.
 */
const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const cli = join(root, "dist", "nodes", "cli", "main.js");
const work = mkdtempSync(join(tmpdir(), "sr-progress-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const SCRIPT_MISSING = spawnSync("script", ["--version"], { encoding: "utf8" }).status === 0 ? "" : "no `script` (util-linux) to give the CLI a terminal";

interface Run { code: number | null; stdout: string; stderr: string }

function run(cmd: string, args: string[], timeout = 120_000): Promise<Run> {
  return runChild(cmd, args, { cwd: work, env: { ...process.env, SPATIAL_REWARD_DEBUG: "", COLUMNS: "120", LINES: "40" }, timeoutMs: timeout });
}

/** What a terminal shows of each line: escape sequences out, a carriage return rewriting the line. */
function screenLines(raw: string): string[] {
  return raw.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, "\r").split(/\r?\n/).map((l) => {
    const parts = l.split("\r").filter((p) => p !== "");
    return parts[parts.length - 1] ?? "";
  });
}

/** The command with stdout and stderr on a terminal: everything it wrote, as the terminal got it. */
function onTerminal(args: string[]): Promise<Run> {
  const quoted = [process.execPath, cli, ...args].map((a) => `'${a.replace(/'/g, "'\\''")}'`).join(" ");
  return run("script", ["-qefc", `stty cols 120 rows 40; ${quoted}`, "/dev/null"]);
}

describe("progress of long jobs", () => {
  it("eval: plain 'scene k/n' lines on a pipe, no bar and no escape sequence", async () => {
    const r = await run(process.execPath, [cli, "eval", "--scenes", "3", "--seed", "7000000", "--json"]);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stderr.split("\n").filter((l) => l !== "");
    expect(lines.length).toBeGreaterThanOrEqual(1);
    for (const l of lines) expect(l).toMatch(/^scene [123]\/3  \d+ questions  \d+ ms\/scene$/);
    expect(r.stderr).not.toMatch(/[█░\x1b]/);
  }, 120_000);

  it.skipIf(SCRIPT_MISSING !== "")(`eval and demo: a bar that reaches 100% on a terminal${SCRIPT_MISSING ? ` (skipped: ${SCRIPT_MISSING})` : ""}`, async () => {
    const e = await onTerminal(["eval", "--scenes", "3", "--seed", "7000000"]);
    expect(e.code, e.stdout.slice(-2000)).toBe(0);
    expect(e.stdout).toMatch(/█{24} 100% \S+ \| scene 3\/3  \d+ questions/);
    expect(e.stdout).toContain("░");
    // The summary follows on its own line.
    expect(e.stdout).toMatch(/\n\d+ questions over 3 scenes/);
    const d = await onTerminal(["demo", "--frames", "30", "--seed", "7", "--noise", "none"]);
    const screen = screenLines(d.stdout);
    const bar = screen.findIndex((l) => /100% \S+ \| frame 30\/30 /.test(l));
    expect(bar, d.stdout.slice(-2000)).toBeGreaterThan(0);
    // The question asked during the episode stays on screen, above the bar.
    const question = screen.findIndex((l) => /^ {2}Q: How far is the .*\?  A: /.test(l));
    expect(question).toBeGreaterThanOrEqual(0);
    expect(question).toBeLessThan(bar);
  }, 180_000);
});
