import { readFileSync } from "node:fs";
import { McapIndexedReader, type IReadable, type TypedMcapRecords } from "@mcap/core";
import { decompressHandlers, loadCompression } from "../../nodes/recorder/chunk_compression.js";
import type { RecordingWritable } from "../../nodes/recorder/file_writable.js";

/** Random access over bytes in memory, as McapIndexedReader reads. */
export function memoryReadable(bytes: Uint8Array): IReadable {
  return {
    size: async () => BigInt(bytes.byteLength),
    read: async (offset, size) => {
      if (offset + size > BigInt(bytes.byteLength)) throw new Error("read past the end");
      return bytes.subarray(Number(offset), Number(offset + size));
    },
  };
}

export interface ReadBack {
  reader: McapIndexedReader;
  messages: TypedMcapRecords["Message"][];
}

/** Every message of an indexed MCAP (file path or bytes), through the official indexed reader, in log-time order. */
export async function readIndexed(file: string | Uint8Array): Promise<ReadBack> {
  await loadCompression();
  const bytes = typeof file === "string" ? new Uint8Array(readFileSync(file)) : file;
  const reader = await McapIndexedReader.Initialize({ readable: memoryReadable(bytes), decompressHandlers: decompressHandlers() });
  const messages: TypedMcapRecords["Message"][] = [];
  for await (const m of reader.readMessages()) messages.push(m);
  return { reader, messages };
}

export function errnoError(code: string): Error {
  return Object.assign(new Error(`${code}: simulated`), { code });
}

/**
 * A writable in memory that fails like a full disk: once `failAfter` bytes are written, the
 * write that crosses it writes what fits (as write(2) does) and throws ENOSPC (or `errno`).
 * `delayMs` makes each write resolve later, as an asynchronous file would.
 */
export class MemoryWritable implements RecordingWritable {
  private readonly parts: Uint8Array[] = [];
  private length = 0;
  closed = false;
  syncs = 0;

  constructor(private readonly options: { failAfter?: number; errno?: string; delayMs?: number } = {}) {}

  position(): bigint {
    return BigInt(this.length);
  }

  write(buffer: Uint8Array): Promise<void> {
    const limit = this.options.failAfter ?? Infinity;
    if (this.length + buffer.byteLength > limit) {
      const fits = Math.max(0, limit - this.length);
      this.parts.push(new Uint8Array(buffer.subarray(0, fits)));
      this.length += fits;
      return Promise.reject(errnoError(this.options.errno ?? "ENOSPC"));
    }
    this.parts.push(new Uint8Array(buffer));
    this.length += buffer.byteLength;
    const delay = this.options.delayMs;
    return delay === undefined ? Promise.resolve() : new Promise((r) => setTimeout(r, delay));
  }

  sync(): void {
    this.syncs++;
  }

  close(): void {
    this.closed = true;
  }

  bytes(): Uint8Array {
    const out = new Uint8Array(this.length);
    let o = 0;
    for (const p of this.parts) {
      out.set(p, o);
      o += p.byteLength;
    }
    return out;
  }
}

/** The project's seeded generator (src/random/mulberry32.ts), under the name these tests use. */
export { mulberry32 as seededRandom } from "../../src/random/mulberry32.js";
