import { accessSync, constants, statSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { InvalidInputError } from "../../src/errors.js";

/**
 * The CLI's argument checks, shared by every command. Each returns a parser for one option:
 * it takes the text as typed and returns the typed value or throws a UsageError naming the
 * option, what it must be and what it got, before any command starts its work.
 */

/** A wrong command line: reported as one line on stderr, exit code 2. */
export class UsageError extends InvalidInputError {
  constructor(message: string) {
    super("bad_argument", message);
  }
}

export type ArgParser<T> = (text: string) => T;

/** Quotes what the user typed, shortened: a 1 MB argument makes a one-line error. */
function got(text: string): string {
  const shown = text.length > 60 ? `${text.slice(0, 59)}…` : text;
  return JSON.stringify(shown);
}

const INTEGER = /^[+-]?\d+$/;
const DECIMAL = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

export interface IntRange {
  min?: number;
  max?: number;
}

function rangeText(r: IntRange): string {
  if (r.min !== undefined && r.max !== undefined) return ` from ${r.min} to ${r.max}`;
  if (r.min !== undefined) return r.min === 0 ? " ≥ 0" : ` ≥ ${r.min}`;
  if (r.max !== undefined) return ` ≤ ${r.max}`;
  return "";
}

/** A decimal integer (no "1e3", "0x10" or "2.0") within a range, and a safe integer. */
export function intArg(flag: string, range: IntRange = {}): ArgParser<number> {
  return (text) => {
    const n = Number(text);
    if (!INTEGER.test(text.trim()) || !Number.isSafeInteger(n) || (range.min !== undefined && n < range.min) || (range.max !== undefined && n > range.max)) {
      throw new UsageError(`${flag} must be an integer${rangeText(range)}, got ${got(text)}`);
    }
    return n;
  };
}

/** A seed: a non-negative integer, at most `max` (a safe integer by default). */
export function seedArg(flag = "--seed", max = Number.MAX_SAFE_INTEGER): ArgParser<number> {
  const bound = max === Number.MAX_SAFE_INTEGER ? "" : ` ≤ ${max}`;
  return (text) => {
    const n = Number(text);
    if (!INTEGER.test(text.trim()) || !Number.isSafeInteger(n) || n < 0 || n > max) {
      throw new UsageError(`${flag} must be a non-negative integer${bound}, got ${got(text)}`);
    }
    return n;
  };
}

export interface NumberRange {
  /** Lower bound; exclusive when `minExclusive`. */
  min?: number;
  minExclusive?: boolean;
  max?: number;
  maxExclusive?: boolean;
}

function numberRangeText(r: NumberRange): string {
  if (r.min !== undefined && r.max !== undefined) {
    return ` in ${r.minExclusive ? "(" : "["}${r.min}, ${r.max}${r.maxExclusive ? ")" : "]"}`;
  }
  if (r.min !== undefined) return r.minExclusive ? ` > ${r.min}` : ` ≥ ${r.min}`;
  if (r.max !== undefined) return r.maxExclusive ? ` < ${r.max}` : ` ≤ ${r.max}`;
  return "";
}

/** A finite decimal number within a range ("1e999", "NaN", "Infinity" and "" are refused). */
export function numberArg(flag: string, range: NumberRange = {}): ArgParser<number> {
  return (text) => {
    const n = Number(text);
    const ok = DECIMAL.test(text.trim()) && Number.isFinite(n) &&
      (range.min === undefined || (range.minExclusive ? n > range.min : n >= range.min)) &&
      (range.max === undefined || (range.maxExclusive ? n < range.max : n <= range.max));
    if (!ok) throw new UsageError(`${flag} must be a number${numberRangeText(range)}, got ${got(text)}`);
    return n;
  };
}

/** One of a fixed set of words. */
export function choiceArg<T extends string>(flag: string, choices: readonly T[]): ArgParser<T> {
  return (text) => {
    if (!(choices as readonly string[]).includes(text)) throw new UsageError(`${flag} must be one of ${choices.join(", ")}, got ${got(text)}`);
    return text as T;
  };
}

function describeFsError(e: unknown): string {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === "ENOENT") return "does not exist";
  if (code === "EACCES" || code === "EPERM") return "is not accessible (permission denied)";
  if (code === "ENOTDIR") return "has a file where a directory is expected";
  return e instanceof Error ? e.message : String(e);
}

/** An existing, readable regular file (an input such as a parameter file). */
export function readableFileArg(what: string): ArgParser<string> {
  return (text) => {
    if (text === "") throw new UsageError(`${what} must be a file path, got ""`);
    try {
      if (!statSync(text).isFile()) throw new UsageError(`${what} ${got(text)} is not a file`);
      accessSync(text, constants.R_OK);
    } catch (e) {
      if (e instanceof UsageError) throw e;
      throw new UsageError(`${what} ${got(text)} ${describeFsError(e)}`);
    }
    return text;
  };
}

/**
 * A file the command will create or overwrite: its directory must exist and be writable, and
 * the path itself must not be a directory. Checked up front, so a bad path fails at once
 * rather than after the whole run.
 */
export function writableFileArg(flag: string): ArgParser<string> {
  return (text) => {
    if (text === "") throw new UsageError(`${flag} must be a file path, got ""`);
    const dir = dirname(resolve(text));
    try {
      if (!statSync(dir).isDirectory()) throw new UsageError(`${flag}: ${got(dir)} is not a directory`);
      accessSync(dir, constants.W_OK);
    } catch (e) {
      if (e instanceof UsageError) throw e;
      throw new UsageError(`${flag}: directory ${got(dir)} ${describeFsError(e)}`);
    }
    let isDir = false;
    try {
      isDir = statSync(text).isDirectory();
      accessSync(text, constants.W_OK);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw new UsageError(`${flag}: ${got(text)} ${describeFsError(e)}`);
    }
    if (isDir) throw new UsageError(`${flag}: ${got(text)} is a directory, not a file`);
    return text;
  };
}

/**
 * A directory the command will write into, created if missing (like mkdir -p): it must be a
 * writable directory, or its nearest existing ancestor must be one.
 */
export function creatableDirArg(flag: string): ArgParser<string> {
  return (text) => {
    if (text === "") throw new UsageError(`${flag} must be a directory path, got ""`);
    let p = resolve(text);
    for (;;) {
      try {
        const st = statSync(p);
        if (!st.isDirectory()) throw new UsageError(`${flag}: ${got(p)} exists and is not a directory`);
        accessSync(p, constants.W_OK);
        return text;
      } catch (e) {
        if (e instanceof UsageError) throw e;
        if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw new UsageError(`${flag}: ${got(p)} ${describeFsError(e)}`);
      }
      const parent = dirname(p);
      if (parent === p) throw new UsageError(`${flag}: no existing directory above ${got(text)}`);
      p = parent;
    }
  };
}

/** A comma-separated list, each item checked by `item` (which throws a UsageError). */
export function listArg<T>(flag: string, item: (text: string) => T): ArgParser<T[]> {
  return (text) => {
    const items = text.split(",").map((s) => s.trim()).filter((s) => s.length > 0);
    if (items.length === 0) throw new UsageError(`${flag} must list at least one item, got ${got(text)}`);
    return items.map((s) => {
      try {
        return item(s);
      } catch (e) {
        if (e instanceof UsageError) throw e;
        throw new UsageError(`${flag}: ${e instanceof Error ? e.message : String(e)}`);
      }
    });
  };
}
