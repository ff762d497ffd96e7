import { spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { UsageError } from "../../nodes/cli/cli_args.js";
import { REPORT_FILES, REPORT_FORMAT, ReportDir, reportDirArg } from "../../nodes/report/report_dir.js";
import { SpatialRewardError } from "../../src/errors.js";

const work = mkdtempSync(join(tmpdir(), "sr-report-dir-"));
afterAll(() => {
  spawnSync("chattr", ["-i", join(work, "immutable")]);
  rmSync(work, { recursive: true, force: true });
});
const check = reportDirArg("--report");

function refused(text: string, mention: string | RegExp): void {
  let error: unknown = null;
  try {
    check(text);
  } catch (e) {
    error = e;
  }
  expect(error, text.slice(0, 80)).toBeInstanceOf(UsageError);
  const message = (error as Error).message;
  expect(message.startsWith("--report"), message).toBe(true);
  expect(message).toMatch(mention);
  expect(message.length).toBeLessThan(300);
}

function earlierReport(dir: string): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "report.json"), JSON.stringify({ format: REPORT_FORMAT, version: 1 }));
  writeFileSync(join(dir, "index.html"), "<p>old</p>");
  writeFileSync(join(dir, "reward.png"), "old");
}

describe("--report DIR on the command line", () => {
  it("takes a new path, an empty directory or an earlier report", () => {
    expect(check(join(work, "new", "deeper"))).toBe(join(work, "new", "deeper"));
    mkdirSync(join(work, "empty"));
    expect(check(join(work, "empty"))).toBe(join(work, "empty"));
    earlierReport(join(work, "earlier"));
    expect(check(join(work, "earlier"))).toBe(join(work, "earlier"));
    // Nothing is created by the check.
    expect(existsSync(join(work, "new"))).toBe(false);
  });

  it("refuses empty, over-long and file paths, and directories holding anything but a report", () => {
    refused("", /must be a directory path/);
    refused("   ", /must be a directory path/);
    refused(join(work, "x".repeat(5000)), /5\d{3} characters long; at most 4096/);
    writeFileSync(join(work, "a-file"), "x");
    refused(join(work, "a-file"), /exists and is not a directory/);
    refused(join(work, "a-file", "sub"), /has a file where a directory is expected/);
    mkdirSync(join(work, "busy"));
    writeFileSync(join(work, "busy", "notes.txt"), "mine");
    refused(join(work, "busy"), /holds 1 entries and no earlier report/);
    // A report.json that is not ours, or an earlier report with someone else's file beside it.
    mkdirSync(join(work, "forged"));
    writeFileSync(join(work, "forged", "report.json"), JSON.stringify({ format: "something-else" }));
    refused(join(work, "forged"), /no earlier report/);
    writeFileSync(join(work, "forged", "report.json"), "{ not json");
    refused(join(work, "forged"), /no earlier report/);
    earlierReport(join(work, "mixed"));
    writeFileSync(join(work, "mixed", "thesis.tex"), "mine");
    refused(join(work, "mixed"), /holds 4 entries and no earlier report/);
  });

  it("refuses a directory it may not write (as a user; root writes anywhere permissions allow)", () => {
    const locked = join(work, "locked");
    mkdirSync(locked);
    chmodSync(locked, 0o555);
    if (process.getuid?.() === 0) expect(check(join(locked, "r"))).toBe(join(locked, "r"));
    else refused(join(locked, "r"), /not writable/);
    chmodSync(locked, 0o755);
  });

  it("resolves '..' lexically, once: the report goes to the resolved directory and nowhere else", () => {
    const text = join(work, "never-made", "..", "dotdot");
    expect(check(text)).toBe(text);
    const dir = ReportDir.open(text);
    expect(dir.root).toBe(resolve(work, "dotdot"));
    dir.write("index.html", "<p>x</p>");
    expect(readFileSync(join(work, "dotdot", "index.html"), "utf8")).toBe("<p>x</p>");
    expect(existsSync(join(work, "never-made"))).toBe(false);
    // The names written are the report's own: none can climb out of it.
    for (const f of REPORT_FILES) expect(resolve(dir.path(f)).startsWith(`${dir.root}/`)).toBe(true);
  });
});

describe("ReportDir", () => {
  it("creates each missing level, writes files whole and takes everything back on abandon()", () => {
    const root = join(work, "levels", "a", "b");
    const dir = ReportDir.open(root);
    expect(readdirSync(root)).toEqual([]);
    dir.write("frame.png", new Uint8Array([1, 2, 3]));
    dir.write("index.html", "page");
    expect(readdirSync(root).sort()).toEqual(["frame.png", "index.html"]);
    dir.abandon();
    expect(existsSync(join(work, "levels"))).toBe(false);
  });

  it("replaces an earlier report as a whole, and leaves a directory it did not create in place", () => {
    const root = join(work, "again");
    earlierReport(root);
    const dir = ReportDir.open(root);
    expect(readdirSync(root)).toEqual([]);
    dir.write("accuracy.png", "new");
    dir.abandon();
    expect(existsSync(root)).toBe(true);
    expect(readdirSync(root)).toEqual([]);
  });

  it("refuses at open what the command line would refuse, when the directory changed since", () => {
    const root = join(work, "changed");
    mkdirSync(root);
    writeFileSync(join(root, "data.csv"), "1,2");
    expect(() => ReportDir.open(root)).toThrow(/holds 1 entries and no earlier report/);
    expect(readFileSync(join(root, "data.csv"), "utf8")).toBe("1,2");
  });

  it("fails with write_failed, in one line, where the system refuses to write", () => {
    const cases = [join(work, "a-file2", "sub")];
    writeFileSync(join(work, "a-file2"), "x");
    // An immutable directory refuses even root (ext4 and most Linux file systems).
    const immutable = join(work, "immutable");
    mkdirSync(immutable);
    if (spawnSync("chattr", ["+i", immutable]).status === 0) cases.push(immutable, join(immutable, "deeper"));
    for (const p of cases) {
      let error: unknown = null;
      try {
        ReportDir.open(p);
      } catch (e) {
        error = e;
      }
      expect(error, p).toBeInstanceOf(SpatialRewardError);
      expect((error as SpatialRewardError).code).toBe("write_failed");
      expect((error as Error).message).not.toContain("\n");
    }
    spawnSync("chattr", ["-i", immutable]);
    expect(readdirSync(immutable)).toEqual([]);
  });

  it("turns a failed write into write_failed and leaves no partial file", () => {
    const root = join(work, "blocked");
    const dir = ReportDir.open(root);
    // A directory where the file should go: the rename fails.
    mkdirSync(join(root, "reward.png"));
    mkdirSync(join(root, "reward.png", "x"));
    let error: unknown = null;
    try {
      dir.write("reward.png", "data");
    } catch (e) {
      error = e;
    }
    expect((error as SpatialRewardError).code).toBe("write_failed");
    expect(readdirSync(root)).toEqual(["reward.png"]);
  });
});
