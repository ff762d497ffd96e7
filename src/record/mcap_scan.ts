import { MCAP_MAGIC, McapStreamReader, type DecompressHandlers, type TypedMcapRecord } from "@mcap/core";
import { RecordingFormatError } from "./recording_errors.js";

/** Random access to a recording's bytes (a file, or memory in tests). */
export interface ByteSource {
  readonly size: number;
  /** `length` bytes from `offset`; the caller never asks past `size`. */
  read(offset: number, length: number): Uint8Array;
}

export function memorySource(bytes: Uint8Array): ByteSource {
  return { size: bytes.byteLength, read: (offset, length) => bytes.subarray(offset, offset + length) };
}

export interface ScanOptions {
  /** Decompression by chunk compression name ("zstd", "lz4"); the scanner bounds their sizes first. */
  decompressHandlers: DecompressHandlers;
  /** Largest record read into memory (default 1 GiB): a length field past it is damage, not data. */
  maxRecordBytes?: number;
  /** Largest chunk, compressed or not, handed to a decompressor (default 256 MiB; the recorder writes 4 MiB). */
  maxChunkBytes?: number;
  /** Check chunk CRCs (default true). */
  validateCrcs?: boolean;
}

/**
 * How a scan ended. "footer": a complete file (footer and closing magic). "end_of_data": the
 * bytes end between two records without a footer (a writer stopped between writes).
 * "truncated": the bytes end inside a record (a writer killed mid-write). "bad_record": a record
 * that does not parse (damage); nothing after it is read.
 */
export type ScanEnd = "footer" | "end_of_data" | "truncated" | "bad_record";

export interface ScanSummary {
  end: ScanEnd;
  /** File size in bytes. */
  size: number;
  /** Bytes from the start to the end of the last record accepted (with the closing magic after a footer). */
  validBytes: number;
  /** Top-level records accepted, and the chunks among them (each complete, its CRC checked). */
  records: number;
  chunks: number;
  /** Why the scan stopped before a footer, or what follows one; "" when nothing is wrong. */
  problem: string;
}

const OPCODE_NAMES: Readonly<Record<number, string>> = {
  1: "Header", 2: "Footer", 3: "Schema", 4: "Channel", 5: "Message", 6: "Chunk", 7: "MessageIndex", 8: "ChunkIndex",
  9: "Attachment", 10: "AttachmentIndex", 11: "Statistics", 12: "Metadata", 13: "MetadataIndex", 14: "SummaryOffset", 15: "DataEnd",
};
const opcodeName = (op: number): string => OPCODE_NAMES[op] ?? `opcode 0x${op.toString(16).padStart(2, "0")}`;
const RECORD_HEADER = 9;
const MAGIC = Uint8Array.from(MCAP_MAGIC);

function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join(" ");
}

/**
 * Reads an MCAP file record by record, front to back, as far as it is whole: the way to read a
 * recording whose writer was killed (no summary, maybe a record cut short) or that is damaged.
 * Each top-level record is framed here from its length field and checked against the bytes
 * left before anything is read, then parsed by @mcap/core's McapStreamReader; a chunk's
 * records are yielded only once the whole chunk has decompressed, passed its CRC and parsed,
 * so a damaged chunk yields none of its messages. The scan stops at the first record that is
 * cut short or does not parse. A file that is not MCAP at all (too short, wrong magic, no
 * complete Header record first) throws RecordingFormatError before anything is yielded.
 *
 * Memory: one record at a time (the stream reader keeps schemas and channels only).
 */
export class McapScanner {
  private result: ScanSummary | null = null;

  constructor(private readonly source: ByteSource, private readonly options: ScanOptions) {}

  /** How the scan ended; available once records() is exhausted. */
  get summary(): ScanSummary {
    if (!this.result) throw new RecordingFormatError("the scan has not finished", 0);
    return this.result;
  }

  *records(): Generator<TypedMcapRecord, void, void> {
    const { source } = this;
    const size = source.size;
    const maxRecord = this.options.maxRecordBytes ?? 1 << 30;
    const maxChunk = this.options.maxChunkBytes ?? 256 << 20;
    if (size < MAGIC.length) {
      throw new RecordingFormatError(size === 0 ? "the file is empty (0 bytes): not an MCAP recording" : `the file is ${size} bytes long: too short to be an MCAP recording`, 0);
    }
    const magic = source.read(0, MAGIC.length);
    if (!MAGIC.every((b, i) => magic[i] === b)) {
      throw new RecordingFormatError(`not an MCAP recording: it starts with ${hex(magic)}, not the MCAP magic ${hex(MAGIC)}`, 0);
    }
    const handlers: DecompressHandlers = {};
    for (const [name, fn] of Object.entries(this.options.decompressHandlers)) {
      handlers[name] = (buffer, decompressedSize) => {
        if (buffer.byteLength > maxChunk || decompressedSize > BigInt(maxChunk)) {
          throw new Error(`${name} chunk of ${buffer.byteLength} bytes claims ${decompressedSize} bytes uncompressed: over the ${maxChunk}-byte limit`);
        }
        return fn(buffer, decompressedSize);
      };
    }
    const reader = new McapStreamReader({ includeChunks: true, noMagicPrefix: true, decompressHandlers: handlers, validateCrcs: this.options.validateCrcs ?? true });
    let offset = MAGIC.length;
    let records = 0;
    let chunks = 0;
    const finish = (end: ScanEnd, validBytes: number, problem: string): void => {
      this.result = { end, size, validBytes, records, chunks, problem };
    };
    for (;;) {
      if (offset === size) {
        if (records === 0) throw new RecordingFormatError("the file holds the MCAP magic and nothing else: no Header record", offset);
        return finish("end_of_data", offset, "the file ends without a footer (its writer did not finish it)");
      }
      if (size - offset < RECORD_HEADER) {
        if (records === 0) throw new RecordingFormatError(`the file ends inside its first record, at byte ${size}: no complete Header record`, offset);
        return finish("truncated", offset, `the file ends inside a record header at byte ${offset} (${size - offset} of ${RECORD_HEADER} bytes)`);
      }
      const head = source.read(offset, RECORD_HEADER);
      const opcode = head[0];
      const length = new DataView(head.buffer, head.byteOffset, RECORD_HEADER).getBigUint64(1, true);
      if (records === 0 && opcode !== 1) {
        throw new RecordingFormatError(`the first record at byte ${offset} is ${opcodeName(opcode)}, not an MCAP Header`, offset);
      }
      const left = BigInt(size - offset - RECORD_HEADER);
      if (length > left) {
        if (records === 0) throw new RecordingFormatError(`the Header record at byte ${offset} claims ${length} bytes but the file has ${left} more: no complete Header record`, offset);
        // A length past the end is what a killed writer leaves (the record was being written);
        // past the size limit too, it is more likely damage: say which.
        const what = length > BigInt(maxRecord) ? `claims ${length} bytes (damaged length?)` : `of ${length} bytes`;
        return finish("truncated", offset, `the ${opcodeName(opcode)} record at byte ${offset} ${what} runs past the end of the file (${left} bytes left)`);
      }
      if (length > BigInt(maxRecord)) {
        return finish("bad_record", offset, `the ${opcodeName(opcode)} record at byte ${offset} is ${length} bytes, over the ${maxRecord}-byte limit`);
      }
      const total = RECORD_HEADER + Number(length);
      const batch: TypedMcapRecord[] = [];
      try {
        reader.append(source.read(offset, total));
        for (let r = reader.nextRecord(); r !== undefined; r = reader.nextRecord()) batch.push(r);
        if (reader.bytesRemaining() !== 0) throw new Error(`${reader.bytesRemaining()} bytes of the record were not read`);
      } catch (e) {
        if (records === 0) throw new RecordingFormatError(`the Header record at byte ${offset} does not parse: ${e instanceof Error ? e.message : String(e)}`, offset);
        return finish("bad_record", offset, `the ${opcodeName(opcode)} record at byte ${offset} does not parse: ${e instanceof Error ? e.message : String(e)}`);
      }
      records++;
      offset += total;
      for (const r of batch) {
        if (r.type === "Chunk") chunks++;
        yield r;
      }
      if (opcode === 2) {
        const tail = Math.min(MAGIC.length, size - offset);
        const closing = source.read(offset, tail);
        if (tail < MAGIC.length || !MAGIC.every((b, i) => closing[i] === b)) {
          return finish("truncated", offset, `the footer is not followed by the closing MCAP magic (found ${hex(closing)})`);
        }
        offset += MAGIC.length;
        return finish("footer", offset, offset === size ? "" : `${size - offset} bytes follow the closing magic`);
      }
    }
  }
}
