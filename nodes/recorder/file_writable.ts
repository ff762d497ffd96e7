import { closeSync, fdatasyncSync, fsyncSync, openSync, writeSync } from "node:fs";
import type { IWritable } from "@mcap/core";
import { RecordingWriteError } from "../../src/record/recording_errors.js";

/** Where an episode's bytes go: McapWriter's IWritable plus what crash safety needs. */
export interface RecordingWritable extends IWritable {
  /** Makes what was written durable (fdatasync): survives power loss, not just a crash. */
  sync(): void;
  close(): void;
}

/**
 * A file written with synchronous write(2) calls. Each MCAP chunk reaches the file as one
 * write, in full, before McapWriter goes on, so once written it is in the kernel's page cache:
 * a SIGKILL or crash of this process afterwards loses nothing of it (only a power loss can,
 * until sync()). A failed write (ENOSPC on a full disk, EIO, EFBIG) rejects with a
 * RecordingWriteError carrying the errno; the file then ends with at most one partial record,
 * which `record recover` stops before.
 */
export class SyncFileWritable implements RecordingWritable {
  private pos = 0n;
  private fd: number | null;

  private constructor(fd: number, readonly path: string) {
    this.fd = fd;
  }

  /** Creates `path`; an existing file is an error (an episode never overwrites another) unless `flags` says otherwise. */
  static create(path: string, flags = "wx"): SyncFileWritable {
    try {
      return new SyncFileWritable(openSync(path, flags, 0o644), path);
    } catch (e) {
      throw writeError(path, e, "creating");
    }
  }

  position(): bigint {
    return this.pos;
  }

  write(buffer: Uint8Array): Promise<void> {
    try {
      if (this.fd === null) throw Object.assign(new Error("the file is closed"), { code: "EBADF" });
      let done = 0;
      while (done < buffer.byteLength) {
        const n = writeSync(this.fd, buffer, done, buffer.byteLength - done);
        // write(2) to a regular file returns short only at a limit; 0 means no progress at all.
        if (n <= 0) throw Object.assign(new Error("write made no progress"), { code: "EIO" });
        done += n;
        this.pos += BigInt(n);
      }
    } catch (e) {
      return Promise.reject(writeError(this.path, e, "writing"));
    }
    return Promise.resolve();
  }

  sync(): void {
    if (this.fd === null) return;
    try {
      fdatasyncSync(this.fd);
    } catch (e) {
      // Some file systems (and /dev/full) refuse fdatasync but take fsync.
      if ((e as NodeJS.ErrnoException).code !== "EINVAL") throw writeError(this.path, e, "syncing");
      try {
        fsyncSync(this.fd);
      } catch (e2) {
        if ((e2 as NodeJS.ErrnoException).code !== "EINVAL") throw writeError(this.path, e2, "syncing");
      }
    }
  }

  close(): void {
    if (this.fd === null) return;
    const fd = this.fd;
    this.fd = null;
    try {
      closeSync(fd);
    } catch (e) {
      throw writeError(this.path, e, "closing");
    }
  }
}

/** A system error while doing `what` to `path`, as a RecordingWriteError with its errno. */
export function writeError(path: string, e: unknown, what: string): RecordingWriteError {
  if (e instanceof RecordingWriteError) return e;
  const errno = (e as NodeJS.ErrnoException | null)?.code;
  const reason = errno === "ENOSPC" ? "no space left on the device (ENOSPC)" : e instanceof Error ? e.message : String(e);
  return new RecordingWriteError(`${what} ${path} failed: ${reason}`, typeof errno === "string" ? errno : undefined);
}
