import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { isSpatialRewardError } from "../../src/errors.js";
import {
  choiceArg, creatableDirArg, intArg, listArg, numberArg, readableFileArg, seedArg, UsageError, writableFileArg, type ArgParser,
} from "../../nodes/cli/cli_args.js";
import { packageVersion } from "../../nodes/cli/package_version.js";

const work = mkdtempSync(join(tmpdir(), "sr-cli-args-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const file = join(work, "file.txt");
writeFileSync(file, "x");
mkdirSync(join(work, "dir"));

/** [parser, input, expected value or the UsageError message] */
type Case = [string, ArgParser<unknown>, string, unknown | { error: string }];

const seed = seedArg();
const seed32 = seedArg("--seed", 2 ** 32 - 1);
const frames = intArg("--frames", { min: 1 });
const width = intArg("--width", { min: 16, max: 8192 });
const rate = numberArg("--rate", { min: 0, minExclusive: true });
const duration = numberArg("--duration", { min: 0 });
const hfov = numberArg("--hfov-deg", { min: 0, minExclusive: true, max: 180, maxExclusive: true });
const noise = choiceArg("--noise", ["none", "realsense"] as const);

const CASES: Case[] = [
  ["seed", seed, "0", 0],
  ["seed", seed, "42", 42],
  ["seed", seed, "+7", 7],
  ["seed", seed, String(Number.MAX_SAFE_INTEGER), Number.MAX_SAFE_INTEGER],
  ["seed", seed, "abc", { error: '--seed must be a non-negative integer, got "abc"' }],
  ["seed", seed, "-1", { error: '--seed must be a non-negative integer, got "-1"' }],
  ["seed", seed, "1.5", { error: '--seed must be a non-negative integer, got "1.5"' }],
  ["seed", seed, "1e3", { error: '--seed must be a non-negative integer, got "1e3"' }],
  ["seed", seed, "0x10", { error: '--seed must be a non-negative integer, got "0x10"' }],
  ["seed", seed, "", { error: '--seed must be a non-negative integer, got ""' }],
  ["seed", seed, "9007199254740993", { error: '--seed must be a non-negative integer, got "9007199254740993"' }],
  ["seed32", seed32, "4294967295", 4294967295],
  ["seed32", seed32, "4294967296", { error: '--seed must be a non-negative integer ≤ 4294967295, got "4294967296"' }],
  ["frames", frames, "1", 1],
  ["frames", frames, "0", { error: '--frames must be an integer ≥ 1, got "0"' }],
  ["frames", frames, " 3 ", 3],
  ["width", width, "16", 16],
  ["width", width, "8192", 8192],
  ["width", width, "8193", { error: '--width must be an integer from 16 to 8192, got "8193"' }],
  ["rate", rate, "30", 30],
  ["rate", rate, "0.5", 0.5],
  ["rate", rate, ".5", 0.5],
  ["rate", rate, "1e2", 100],
  ["rate", rate, "0", { error: '--rate must be a number > 0, got "0"' }],
  ["rate", rate, "1e999", { error: '--rate must be a number > 0, got "1e999"' }],
  ["rate", rate, "Infinity", { error: '--rate must be a number > 0, got "Infinity"' }],
  ["rate", rate, "NaN", { error: '--rate must be a number > 0, got "NaN"' }],
  ["rate", rate, "0x1F", { error: '--rate must be a number > 0, got "0x1F"' }],
  ["rate", rate, "", { error: '--rate must be a number > 0, got ""' }],
  ["duration", duration, "0", 0],
  ["duration", duration, "2.5", 2.5],
  ["duration", duration, "-0.1", { error: '--duration must be a number ≥ 0, got "-0.1"' }],
  ["hfov", hfov, "69", 69],
  ["hfov", hfov, "179.9", 179.9],
  ["hfov", hfov, "0", { error: '--hfov-deg must be a number in (0, 180), got "0"' }],
  ["hfov", hfov, "180", { error: '--hfov-deg must be a number in (0, 180), got "180"' }],
  ["noise", noise, "none", "none"],
  ["noise", noise, "realsense", "realsense"],
  ["noise", noise, "RealSense", { error: '--noise must be one of none, realsense, got "RealSense"' }],
  ["noise", noise, "x".repeat(10_000), { error: `--noise must be one of none, realsense, got "${"x".repeat(59)}…"` }],
  ["list", listArg("--namespaces", (s) => s.toUpperCase()), "/a, /b,,", ["/A", "/B"]],
  ["list", listArg("--namespaces", (s) => s), " , ", { error: '--namespaces must list at least one item, got " , "' }],
  ["list", listArg("--namespaces", () => { throw new Error("bad item"); }), "a", { error: "--namespaces: bad item" }],
  ["readable", readableFileArg("the parameter file"), file, file],
  ["readable", readableFileArg("the parameter file"), join(work, "nope"), { error: `the parameter file "${join(work, "nope")}" does not exist` }],
  ["readable", readableFileArg("the parameter file"), join(work, "dir"), { error: `the parameter file "${join(work, "dir")}" is not a file` }],
  ["writable", writableFileArg("--log"), join(work, "new.jsonl"), join(work, "new.jsonl")],
  ["writable", writableFileArg("--log"), file, file],
  ["writable", writableFileArg("--log"), join(work, "missing", "x.jsonl"), { error: `--log: directory "${join(work, "missing")}" does not exist` }],
  ["writable", writableFileArg("--log"), join(work, "dir"), { error: `--log: "${join(work, "dir")}" is a directory, not a file` }],
  ["writable", writableFileArg("--log"), join(file, "x.jsonl"), { error: `--log: "${file}" is not a directory` }],
  ["creatable", creatableDirArg("--out"), join(work, "dir"), join(work, "dir")],
  ["creatable", creatableDirArg("--out"), join(work, "a", "b", "c"), join(work, "a", "b", "c")],
  ["creatable", creatableDirArg("--out"), file, { error: `--out: "${file}" exists and is not a directory` }],
  ["creatable", creatableDirArg("--out"), join(file, "sub"), { error: `--out: "${join(file, "sub")}" has a file where a directory is expected` }],
  ["creatable", creatableDirArg("--out"), "", { error: '--out must be a directory path, got ""' }],
];

describe("CLI argument validators", () => {
  it.each(CASES)("%s %j", (_name, parse, input, expected) => {
    if (expected !== null && typeof expected === "object" && "error" in expected) {
      let err: unknown;
      try {
        parse(input);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(UsageError);
      expect(isSpatialRewardError(err) && err.code).toBe("bad_argument");
      expect((err as Error).message).toBe((expected as { error: string }).error);
      expect((err as Error).message).not.toContain("\n");
    } else {
      expect(parse(input)).toEqual(expected);
    }
  });

  it("refuses a directory it may not write into (when not root, who may write anywhere)", () => {
    const locked = join(work, "locked");
    mkdirSync(locked);
    chmodSync(locked, 0o500);
    const isRoot = process.getuid?.() === 0;
    const attempt = () => writableFileArg("--log")(join(locked, "x.jsonl"));
    if (isRoot) expect(attempt()).toBe(join(locked, "x.jsonl"));
    else expect(attempt).toThrow(/not accessible/);
    chmodSync(locked, 0o700);
  });
});

describe("packageVersion", () => {
  it("reads this package's version from its own package.json", () => {
    const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
    const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { version: string };
    expect(packageVersion()).toBe(pkg.version);
  });

  it("finds its own package.json when installed as a dependency, not the project's", () => {
    const project = join(work, "project");
    const installed = join(project, "node_modules", "spatial-reward", "dist", "nodes", "cli");
    mkdirSync(installed, { recursive: true });
    writeFileSync(join(project, "package.json"), JSON.stringify({ name: "my-robot", version: "9.9.9" }));
    writeFileSync(join(project, "node_modules", "spatial-reward", "package.json"), JSON.stringify({ name: "spatial-reward", version: "3.1.4" }));
    // A stray package.json between the file and the package root (e.g. a "type" marker) is skipped.
    writeFileSync(join(project, "node_modules", "spatial-reward", "dist", "package.json"), JSON.stringify({ type: "module" }));
    expect(packageVersion(join(installed, "main.js"))).toBe("3.1.4");
    expect(() => packageVersion(join(work, "main.js"))).toThrow(/cannot find the spatial-reward package.json/);
  });
});
