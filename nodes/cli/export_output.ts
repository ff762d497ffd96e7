import { closeSync, mkdirSync, openSync, readdirSync, renameSync, rmSync, statSync, writeFileSync, writeSync } from "node:fs";
import { dirname, join } from "node:path";

/**
 * The output directory of an export from recordings. `--out` is new or empty (export_command.ts
 * checks), so everything in it is the export's own: abandon() removes it all after a failure,
 * and a directory the export created is removed too, leaving nothing half written behind.
 * The file that says the export is complete (meta/info.json, meta.json) is written last, via
 * a rename.
 */
export class ExportDir {
  private readonly created: boolean;

  constructor(readonly root: string) {
    let exists = false;
    try {
      exists = statSync(root).isDirectory();
    } catch {
      exists = false;
    }
    this.created = !exists;
    mkdirSync(root, { recursive: true });
  }

  path(relative: string): string {
    return join(this.root, relative);
  }

  /** Creates the parent directories of `relative` and returns its path. */
  prepare(relative: string): string {
    const p = this.path(relative);
    mkdirSync(dirname(p), { recursive: true });
    return p;
  }

  /** Writes a new file ("wx": an export never overwrites, two files of one name would be a bug). */
  writeNew(relative: string, data: string | Uint8Array): number {
    writeFileSync(this.prepare(relative), data, { flag: "wx" });
    return typeof data === "string" ? Buffer.byteLength(data) : data.byteLength;
  }

  /** Writes `relative` as `relative`.partial and renames it: the file appears whole or not at all. */
  writeLast(relative: string, text: string): void {
    const p = this.prepare(relative);
    writeFileSync(`${p}.partial`, text, { flag: "wx" });
    renameSync(`${p}.partial`, p);
  }

  /** Removes everything the export wrote (never throws: the first error is the one to report). */
  abandon(): void {
    try {
      if (this.created) rmSync(this.root, { recursive: true, force: true });
      else for (const e of readdirSync(this.root)) rmSync(join(this.root, e), { recursive: true, force: true });
    } catch {
      // Best effort.
    }
  }
}

/** An append-only text file of JSON lines, written synchronously in order. */
export class JsonLines {
  private readonly fd: number;
  bytes = 0;

  constructor(path: string) {
    mkdirSync(dirname(path), { recursive: true });
    this.fd = openSync(path, "wx");
  }

  write(value: unknown): void {
    this.bytes += writeSync(this.fd, `${JSON.stringify(value)}\n`);
  }

  close(): void {
    closeSync(this.fd);
  }
}

/**
 * Lets the event loop turn: V8 and zlib release the backing stores of dead buffers in tasks
 * that run there (export.ts measured RSS growing by every frame without it).
 */
export const yieldToEventLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
