import { readdirSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { InvalidInputError } from "../../src/errors.js";

/**
 * The episode files named on a command line: a file as given, a directory as the `.mcap`
 * files directly in it (sorted by name, the recorder's names sort by start time). A path that
 * does not exist, an empty directory or a file named twice is an InvalidInputError.
 */
export function episodePaths(args: readonly string[]): string[] {
  const out: string[] = [];
  for (const a of args) {
    let st;
    try {
      st = statSync(a);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      throw new InvalidInputError("bad_argument", `episode ${JSON.stringify(a)} ${code === "ENOENT" ? "does not exist" : `cannot be read: ${e instanceof Error ? e.message : String(e)}`}`);
    }
    if (st.isDirectory()) {
      const files = readdirSync(a).filter((f) => f.endsWith(".mcap")).sort().map((f) => join(a, f)).filter((f) => statSync(f).isFile());
      if (files.length === 0) throw new InvalidInputError("bad_argument", `directory ${JSON.stringify(a)} holds no .mcap episode`);
      out.push(...files);
    } else {
      out.push(a);
    }
  }
  const seen = new Set<string>();
  for (const p of out) {
    const key = resolve(p);
    if (seen.has(key)) throw new InvalidInputError("bad_argument", `episode ${JSON.stringify(p)} is given twice`);
    seen.add(key);
  }
  return out;
}
