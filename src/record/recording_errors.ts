import { SpatialRewardError } from "../errors.js";

/** A file that is not an MCAP recording, or is damaged at `offset` (bytes from its start). */
export class RecordingFormatError extends SpatialRewardError {
  constructor(message: string, readonly offset: number) {
    super("bad_recording", message);
  }
}

/**
 * Writing a recording failed. `errno` is the system's code when there is one ("ENOSPC" for a
 * full disk, "EIO", "EBADF"); `lostMessages` counts messages accepted but not on disk (those of
 * the chunk being built when the write failed and any queued behind it).
 */
export class RecordingWriteError extends SpatialRewardError {
  constructor(message: string, readonly errno: string | undefined, readonly lostMessages = 0) {
    super("write_failed", message);
  }
}
