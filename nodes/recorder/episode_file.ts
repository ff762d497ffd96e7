import { closeSync, openSync, readSync, statSync } from "node:fs";
import type { IReadable } from "@mcap/core";
import { EpisodeReader } from "../../src/record/episode_reader.js";
import { RecordingFormatError } from "../../src/record/recording_errors.js";
import { decompressHandlers, loadCompression } from "./chunk_compression.js";

/** An episode file open for reading; close() releases its descriptor. */
export interface OpenEpisode {
  readonly path: string;
  readonly reader: EpisodeReader;
  close(): void;
}

/** Positional reads of an open file, as McapIndexedReader asks for them. */
function fdReadable(fd: number, size: number): IReadable {
  return {
    size: async () => BigInt(size),
    read: async (offset, length) => {
      if (offset < 0n || length < 0n || offset + length > BigInt(size)) throw new Error(`read of ${length} bytes at ${offset} is outside the file (${size} bytes)`);
      const out = Buffer.allocUnsafe(Number(length));
      let done = 0;
      while (done < out.byteLength) {
        const n = readSync(fd, out, done, out.byteLength - done, Number(offset) + done);
        if (n === 0) throw new Error(`the file shrank while being read (${Number(offset) + done} of ${size} bytes)`);
        done += n;
      }
      return out;
    },
  };
}

/** Opens one episode file (RecordingFormatError when it cannot be read or is not a complete MCAP recording). */
export async function openEpisode(path: string): Promise<OpenEpisode> {
  let fd: number;
  let size: number;
  try {
    fd = openSync(path, "r");
  } catch (e) {
    throw new RecordingFormatError(`${path}: cannot be read: ${e instanceof Error ? e.message : String(e)}`, 0);
  }
  try {
    const st = statSync(path);
    if (!st.isFile()) throw new RecordingFormatError(`${path}: not a regular file`, 0);
    size = st.size;
    await loadCompression();
    const reader = await EpisodeReader.open(path, fdReadable(fd, size), decompressHandlers());
    const handle = fd;
    let open = true;
    return {
      path, reader,
      close: () => {
        if (open) closeSync(handle);
        open = false;
      },
    };
  } catch (e) {
    closeSync(fd);
    throw e;
  }
}
