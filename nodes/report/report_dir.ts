import { accessSync, constants, lstatSync, mkdirSync, readdirSync, readFileSync, renameSync, rmdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { SpatialRewardError } from "../../src/errors.js";
import { UsageError, type ArgParser } from "../cli/cli_args.js";

/**
 * The directory a report is written to. It must be new, empty, or an earlier report (its
 * report.json says so), so that a report never mixes with, or overwrites, files of anything
 * else: `--report ~` is refused rather than dropping index.html into a home directory. The path
 * is resolved once, lexically ("a/../b" is "b", as the shell's `cd -L` and every check here
 * take it), and every file is written under that absolute path, with names of its own only.
 */

export const REPORT_FORMAT = "spatial-reward-report";
/** Every file a report may hold: an earlier report's are replaced, nothing else is touched. */
export const REPORT_FILES = ["index.html", "report.json", "frame.png", "frame_start.png", "reward.png", "accuracy.png"] as const;
export type ReportFile = (typeof REPORT_FILES)[number];
const PARTIAL = ".partial";
/** Longer paths are refused before the file system sees them (PATH_MAX is 4096 on Linux). */
const MAX_PATH = 4096;

function shown(text: string): string {
  return JSON.stringify(text.length > 60 ? `${text.slice(0, 59)}…` : text);
}

function reason(e: unknown): string {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === "ENOENT") return "does not exist";
  if (code === "EACCES" || code === "EPERM") return "is not writable (permission denied)";
  if (code === "EROFS") return "is on a read-only file system";
  if (code === "ENOTDIR") return "has a file where a directory is expected";
  if (code === "ENAMETOOLONG") return "is too long a name";
  return e instanceof Error ? e.message : String(e);
}

/** Whether `dir` holds an earlier report and nothing else. */
function isEarlierReport(dir: string, entries: readonly string[]): boolean {
  const ours = new Set<string>([...REPORT_FILES, ...REPORT_FILES.map((f) => f + PARTIAL)]);
  if (!entries.every((e) => ours.has(e))) return false;
  try {
    const meta = JSON.parse(readFileSync(join(dir, "report.json"), "utf8").slice(0, 1 << 20)) as { format?: unknown };
    return meta.format === REPORT_FORMAT;
  } catch {
    return false;
  }
}

/**
 * The check at the command line (exit 2 before anything runs): a path, not too long, whose
 * directory is new (its nearest existing ancestor a writable directory), empty, or an earlier report.
 */
export function reportDirArg(flag: string): ArgParser<string> {
  return (text) => {
    if (text.trim() === "") throw new UsageError(`${flag} must be a directory path, got ${shown(text)}`);
    if (text.length > MAX_PATH) throw new UsageError(`${flag}: the path is ${text.length} characters long; at most ${MAX_PATH}`);
    const dir = resolve(text);
    let p = dir;
    for (;;) {
      let st;
      try {
        st = statSync(p);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw new UsageError(`${flag}: ${shown(p)} ${reason(e)}`);
        const parent = dirname(p);
        if (parent === p) throw new UsageError(`${flag}: no existing directory above ${shown(dir)}`);
        p = parent;
        continue;
      }
      if (!st.isDirectory()) throw new UsageError(`${flag}: ${shown(p)} exists and is not a directory`);
      try {
        accessSync(p, constants.W_OK | constants.X_OK);
      } catch (e) {
        throw new UsageError(`${flag}: ${shown(p)} ${reason(e)}`);
      }
      if (p === dir) {
        let entries: string[];
        try {
          entries = readdirSync(dir);
        } catch (e) {
          throw new UsageError(`${flag}: ${shown(dir)} ${reason(e)}`);
        }
        if (entries.length > 0 && !isEarlierReport(dir, entries)) {
          throw new UsageError(`${flag}: ${shown(dir)} holds ${entries.length} entries and no earlier report; give a new or empty directory, or an earlier report's`);
        }
      }
      return text;
    }
  };
}

/**
 * An open report directory: created at the start of the run (so a place that cannot be written
 * fails before the work, not after it), files written whole (name.partial, then renamed), the
 * page last. abandon() takes back what this run made when it fails.
 */
export class ReportDir {
  readonly root: string;
  /** Directories this run created, deepest last. */
  private readonly created: string[] = [];
  private readonly written = new Set<ReportFile>();

  private constructor(root: string) {
    this.root = root;
  }

  /** Creates the directory (each missing level; Node's recursive mkdir spins forever under /proc) and proves it writable. */
  static open(text: string, flag = "--report"): ReportDir {
    const dir = new ReportDir(resolve(text));
    const missing: string[] = [];
    for (let p = dir.root; ; p = dirname(p)) {
      let exists = false;
      try {
        exists = lstatSync(p) !== undefined;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw new SpatialRewardError("write_failed", `${flag}: ${shown(p)} ${reason(e)}`);
      }
      if (exists || dirname(p) === p) break;
      missing.unshift(p);
    }
    try {
      for (const p of missing) {
        mkdirSync(p);
        dir.created.push(p);
      }
      if (!statSync(dir.root).isDirectory()) throw new SpatialRewardError("write_failed", `${flag}: ${shown(dir.root)} exists and is not a directory`);
      // Checked again here: the command line's check may be a while ago, and library callers have none.
      const entries = readdirSync(dir.root);
      if (entries.length > 0 && !isEarlierReport(dir.root, entries)) {
        throw new SpatialRewardError("bad_argument", `${flag}: ${shown(dir.root)} holds ${entries.length} entries and no earlier report; give a new or empty directory, or an earlier report's`);
      }
      const probe = join(dir.root, `.probe-${process.pid}${PARTIAL}`);
      writeFileSync(probe, "", { flag: "wx" });
      rmSync(probe);
      // An earlier report is replaced as a whole: none of its figures may end up beside this run's.
      for (const f of REPORT_FILES) {
        rmSync(dir.path(f), { force: true });
        rmSync(dir.path(f) + PARTIAL, { force: true });
      }
    } catch (e) {
      dir.abandon();
      if (e instanceof SpatialRewardError) throw e;
      throw new SpatialRewardError("write_failed", `${flag}: cannot write the report in ${shown(dir.root)}: it ${reason(e)}`);
    }
    return dir;
  }

  /** The page's link to a file of the report. */
  path(name: ReportFile): string {
    return join(this.root, name);
  }

  /** Writes `name` whole: readers (a browser refreshing the page) never see half a file. */
  write(name: ReportFile, data: string | Uint8Array): void {
    const target = this.path(name);
    try {
      writeFileSync(target + PARTIAL, data);
      renameSync(target + PARTIAL, target);
    } catch (e) {
      rmSync(target + PARTIAL, { force: true });
      throw new SpatialRewardError("write_failed", `report: writing ${shown(target)} failed: ${e instanceof Error ? e.message : String(e)}`);
    }
    this.written.add(name);
  }

  /** Removes what this run wrote and the directories it created (never throws: the first error is the one to report). */
  abandon(): void {
    for (const f of this.written) rmSync(this.path(f), { force: true });
    this.written.clear();
    for (const d of [...this.created].reverse()) {
      try {
        rmdirSync(d);
      } catch {
        // Not empty (someone else's file) or gone: left as it is.
      }
    }
  }
}
