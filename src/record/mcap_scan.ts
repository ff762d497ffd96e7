import { MCAP_MAGIC, McapRecordBuilder, McapStreamReader, type DecompressHandlers, type TypedMcapRecord } from "@mcap/core";
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
  /**
   * Skip a damaged record and go on reading (default true): a record whose length field frames
   * it but whose content does not parse (a chunk with a wrong CRC, that does not decompress...)
   * is stepped over; after a length that cannot be right, the scan looks for the next record
   * that frames and parses (a Chunk, Metadata or the Footer). Each skip is in `damaged`. With
   * false the scan stops at the first damaged record ("bad_record").
   */
  skipDamaged?: boolean;
}

/** A stretch of the file the scan could not read, and went past. */
export interface DamagedRecord {
  /** Where it starts, and how many bytes were skipped. */
  offset: number;
  bytes: number;
  /** The record's type by its opcode ("Chunk"...), or "unframed" for bytes between records. */
  record: string;
  reason: string;
  /**
   * For a chunk: its messages, as counted by the message indexes that follow it (null when no
   * index follows: then how many messages it held is unknown).
   */
  messages: number | null;
}

/**
 * Candidates that frame and are parsed while looking for the next record after damage, and
 * their bytes, per scan: a real one is nearly always the first (random bytes rarely frame); a hostile file of
 * records that frame but never parse must not cost one parse per byte.
 */
const MAX_RESYNC_PARSES = 64;
const MAX_RESYNC_BYTES = 256 << 20;
/** Listed damaged records at most (the count goes on). */
const MAX_DAMAGED_LISTED = 100;
/** Placeholder topic of a channel whose Channel record was in a damaged chunk. */
export const RECOVERED_CHANNEL_PREFIX = "/recovered/channel_";

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
  /** Why the scan stopped before a footer, or what follows one, or the damage skipped; "" when nothing is wrong. */
  problem: string;
  /** Records (or unframed stretches) skipped as damaged: the first MAX_DAMAGED_LISTED of them. */
  damaged: DamagedRecord[];
  damagedRecords: number;
  damagedBytes: number;
  /**
   * Channels whose Channel record was lost in a damaged chunk while later chunks hold their
   * messages: they are given a placeholder Channel (topic /recovered/channel_<id>, no schema)
   * so those messages are kept.
   */
  placeholderChannels: number[];
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
 * so a damaged chunk yields none of its messages. A damaged record is skipped and the scan goes
 * on (skipDamaged, the default): over a record that frames but does not parse, or, after a
 * length that runs past the end or over the limit, to the next offset where a Chunk, Metadata
 * or Footer record frames and parses (a killed writer's last, cut record has none after it:
 * the scan ends "truncated" there). The stream reader refuses messages of a channel it has not
 * seen, and McapWriter writes a Channel record once, in the first chunk that uses it: when that
 * chunk is the damaged one, the channel gets a placeholder Channel record (yielded before the
 * chunk that needs it) so its later messages are kept. A file that is not MCAP at all (too
 * short, wrong magic, no complete Header record first) throws RecordingFormatError before
 * anything is yielded.
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
    const validateCrcs = this.options.validateCrcs ?? true;
    const skip = this.options.skipDamaged ?? true;
    const channels = new Map<number, Extract<TypedMcapRecord, { type: "Channel" }>>();
    const placeholders = new Set<number>();
    const damaged: DamagedRecord[] = [];
    let damagedRecords = 0;
    let damagedBytes = 0;
    /** The last damaged chunk, while message indexes that follow it may still count its messages. */
    const after: { chunk: DamagedRecord | null } = { chunk: null };
    const newReader = (): McapStreamReader => {
      const r = new McapStreamReader({ includeChunks: true, noMagicPrefix: true, decompressHandlers: handlers, validateCrcs });
      if (channels.size === 0) return r;
      // After an error the stream reader's state is unspecified: a new one is told the channels known so far.
      const b = new McapRecordBuilder();
      for (const c of channels.values()) b.writeChannel({ id: c.id, schemaId: c.schemaId, topic: c.topic, messageEncoding: c.messageEncoding, metadata: c.metadata });
      r.append(b.buffer);
      while (r.nextRecord() !== undefined);
      return r;
    };
    let reader = newReader();
    /** Parses the record of `total` bytes at `at` with `reader`: its records, or the error. */
    const parse = (at: number, total: number): { batch: TypedMcapRecord[] } | { error: string } => {
      const batch: TypedMcapRecord[] = [];
      try {
        reader.append(source.read(at, total));
        for (let r = reader.nextRecord(); r !== undefined; r = reader.nextRecord()) batch.push(r);
        if (reader.bytesRemaining() !== 0) throw new Error(`${reader.bytesRemaining()} bytes of the record were not read`);
        return { batch };
      } catch (e) {
        reader = newReader();
        return { error: e instanceof Error ? e.message : String(e) };
      }
    };
    /**
     * The channels a chunk's messages use that no Channel record before them defines (the
     * chunk that had it was damaged): placeholders for them let the chunk parse. [] when the
     * chunk cannot be read (it is then damaged itself).
     */
    const orphansOf = (at: number, total: number): Extract<TypedMcapRecord, { type: "Channel" }>[] => {
      const c = chunkContent(source.read(at, total), handlers);
      if (c === null) return [];
      const defined = new Set<number>();
      const orphans = new Set<number>();
      const v = new DataView(c.buffer, c.byteOffset, c.byteLength);
      for (let o = 0; o + RECORD_HEADER <= c.byteLength;) {
        const len = v.getBigUint64(o + 1, true);
        if (len > BigInt(c.byteLength - o - RECORD_HEADER)) break;
        if (c[o] === 4 && len >= 2n) defined.add(v.getUint16(o + RECORD_HEADER, true));
        else if (c[o] === 5 && len >= 2n) {
          const id = v.getUint16(o + RECORD_HEADER, true);
          if (!defined.has(id) && !channels.has(id)) orphans.add(id);
        }
        o += RECORD_HEADER + Number(len);
      }
      return [...orphans].sort((a, b) => a - b).map((id) => ({
        type: "Channel", id, schemaId: 0, topic: `${RECOVERED_CHANNEL_PREFIX}${id}`, messageEncoding: "",
        metadata: new Map([["spatial_reward.recovered", "this channel's record was in a damaged chunk: topic, encoding and schema unknown"]]),
      }));
    };
    const noteDamage = (d: DamagedRecord): void => {
      damagedRecords++;
      damagedBytes += d.bytes;
      if (damaged.length < MAX_DAMAGED_LISTED) damaged.push(d);
      after.chunk = d.record === "Chunk" ? d : null;
    };
    /**
     * The first offset at or after `from` where a Chunk, Metadata or Footer record frames and
     * parses, or null. Cheap structural checks first (a real record's fields agree with its
     * length); only a candidate that passes them is parsed.
     */
    const resync = (from: number): number | null => {
      const BLOCK = 1 << 20;
      if (resyncParses >= MAX_RESYNC_PARSES || resyncBytes >= MAX_RESYNC_BYTES) return null;
      for (let base = from; base + RECORD_HEADER <= size; base += BLOCK) {
        const block = source.read(base, Math.min(BLOCK, size - base));
        for (let i = 0; i < block.length; i++) {
          const op = block[i];
          if (op !== 6 && op !== 12 && op !== 2) continue;
          const at = base + i;
          const total = framedLength(source, at, size, maxRecord, maxChunk);
          if (total === null) continue;
          // A file made of records that frame but never parse would make this quadratic: bounded.
          resyncBytes += total;
          if (++resyncParses > MAX_RESYNC_PARSES || resyncBytes > MAX_RESYNC_BYTES) return null;
          const parsed = parse(at, total);
          if ("batch" in parsed) {
            // Parsed for the check only: a new reader reads it again as the next record.
            reader = newReader();
            return at;
          }
        }
      }
      return null;
    };
    let resyncParses = 0;
    let resyncBytes = 0;
    let offset = MAGIC.length;
    let records = 0;
    let chunks = 0;
    const finish = (end: ScanEnd, validBytes: number, problem: string): void => {
      let text = problem;
      if (damagedRecords > 0) {
        const first = damaged[0];
        const note = `${damagedRecords} damaged record(s) skipped (${damagedBytes} bytes), the first at byte ${first.offset}: ${first.record}: ${first.reason}`;
        text = text === "" ? note : `${text}; ${note}`;
      }
      this.result = { end, size, validBytes, records, chunks, problem: text, damaged, damagedRecords, damagedBytes, placeholderChannels: [...placeholders].sort((a, b) => a - b) };
    };
    /** After damage at `at` (`what`), goes on from the next record that parses, or ends the scan. */
    const skipFrom = (at: number, what: string, reason: string, end: ScanEnd): number | null => {
      const next = skip ? resync(at + 1) : null;
      if (next === null) {
        finish(end, at, `the ${what} at byte ${at} ${reason}`);
        return null;
      }
      noteDamage({ offset: at, bytes: next - at, record: "unframed", reason: `${what}: ${reason}`, messages: null });
      return next;
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
        const next = skipFrom(offset, `${opcodeName(opcode)} record`, `${what} runs past the end of the file (${left} bytes left)`, "truncated");
        if (next === null) return;
        offset = next;
        continue;
      }
      if (length > BigInt(maxRecord)) {
        const next = skipFrom(offset, `${opcodeName(opcode)} record`, `is ${length} bytes, over the ${maxRecord}-byte limit`, "bad_record");
        if (next === null) return;
        offset = next;
        continue;
      }
      const total = RECORD_HEADER + Number(length);
      let parsed = parse(offset, total);
      let added: Extract<TypedMcapRecord, { type: "Channel" }>[] = [];
      if ("error" in parsed && records > 0 && skip && opcode === 6) {
        // Messages of a channel whose record was lost with a damaged chunk: placeholders, then once more.
        added = orphansOf(offset, total);
        if (added.length > 0) {
          for (const c of added) channels.set(c.id, c);
          reader = newReader();
          parsed = parse(offset, total);
          if ("error" in parsed) {
            for (const c of added) channels.delete(c.id);
            reader = newReader();
            added = [];
          }
        }
      }
      if ("error" in parsed && records > 0 && skip && opcode === 4 && length >= 2n) {
        // The real Channel record of a placeholder (the summary repeats every channel): it replaces it.
        const idBytes = source.read(offset + RECORD_HEADER, 2);
        const id = idBytes[0] | (idBytes[1] << 8);
        const placeholder = channels.get(id);
        if (placeholders.has(id) && placeholder) {
          channels.delete(id);
          reader = newReader();
          parsed = parse(offset, total);
          if ("error" in parsed) {
            channels.set(id, placeholder);
            reader = newReader();
          }
        }
      }
      if ("error" in parsed) {
        if (records === 0) throw new RecordingFormatError(`the Header record at byte ${offset} does not parse: ${parsed.error}`, offset);
        if (!skip) return finish("bad_record", offset, `the ${opcodeName(opcode)} record at byte ${offset} does not parse: ${parsed.error}`);
        noteDamage({ offset, bytes: total, record: opcodeName(opcode), reason: `does not parse: ${parsed.error}`, messages: null });
        offset += total;
        continue;
      }
      records++;
      offset += total;
      for (const c of added) {
        placeholders.add(c.id);
        yield c;
      }
      for (const r of parsed.batch) {
        if (r.type === "Chunk") chunks++;
        else if (r.type === "Channel") channels.set(r.id, r);
        else if (r.type === "MessageIndex" && after.chunk !== null) after.chunk.messages = (after.chunk.messages ?? 0) + r.records.length;
        yield r;
      }
      if (opcode !== 7) after.chunk = null;
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

const TEXT = new TextDecoder("utf-8", { fatal: false });
const COMPRESSIONS = new Set(["", "zstd", "lz4"]);

/**
 * The total bytes (header included) of the record at `at` if it frames as a Chunk, Metadata or
 * Footer whose fields agree with its length, else null. Used to find where records start again
 * after damage: a random byte rarely passes.
 */
function framedLength(source: ByteSource, at: number, size: number, maxRecord: number, maxChunk: number): number | null {
  if (size - at < RECORD_HEADER) return null;
  const peek = source.read(at, Math.min(64, size - at));
  const v = new DataView(peek.buffer, peek.byteOffset, peek.byteLength);
  const length = v.getBigUint64(1, true);
  if (length > BigInt(size - at - RECORD_HEADER) || length > BigInt(maxRecord)) return null;
  const len = Number(length);
  const op = peek[0];
  if (op === 2) {
    // Footer: 20 bytes, then the closing magic.
    if (len !== 20 || size - at < RECORD_HEADER + 20 + MAGIC.length) return null;
    const m = source.read(at + RECORD_HEADER + 20, MAGIC.length);
    return MAGIC.every((b, i) => m[i] === b) ? RECORD_HEADER + 20 : null;
  }
  if (op === 6) {
    // Chunk: start, end, uncompressed size (u64), crc (u32), compression (string), records (u64-prefixed).
    if (peek.length < RECORD_HEADER + 32) return null;
    const start = v.getBigUint64(9, true);
    const end = v.getBigUint64(17, true);
    const uncompressed = v.getBigUint64(25, true);
    const clen = v.getUint32(37, true);
    if (end < start || uncompressed > BigInt(maxChunk) || clen > 4 || peek.length < RECORD_HEADER + 32 + clen + 8) return null;
    if (!COMPRESSIONS.has(TEXT.decode(peek.subarray(41, 41 + clen)))) return null;
    const records = v.getBigUint64(41 + clen, true);
    return records === BigInt(len - (8 + 8 + 8 + 4 + 4 + clen + 8)) ? RECORD_HEADER + len : null;
  }
  if (op === 12) {
    // Metadata: name (string), then a map whose byte length ends the record.
    if (peek.length < RECORD_HEADER + 4) return null;
    const nameLen = v.getUint32(9, true);
    if (4 + nameLen + 4 > len) return null;
    const mapAt = at + RECORD_HEADER + 4 + nameLen;
    const m = source.read(mapAt, 4);
    const mapLen = new DataView(m.buffer, m.byteOffset, 4).getUint32(0, true);
    return 4 + nameLen + 4 + mapLen === len ? RECORD_HEADER + len : null;
  }
  return null;
}

/** The decompressed records of the Chunk record `bytes` (header included), or null when they cannot be had. */
function chunkContent(bytes: Uint8Array, handlers: DecompressHandlers): Uint8Array | null {
  try {
    const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const uncompressed = v.getBigUint64(25, true);
    const clen = v.getUint32(37, true);
    if (clen > 4) return null;
    const compression = TEXT.decode(bytes.subarray(41, 41 + clen));
    const recordsLen = v.getBigUint64(41 + clen, true);
    const at = 41 + clen + 8;
    if (recordsLen > BigInt(bytes.byteLength - at)) return null;
    const data = bytes.subarray(at, at + Number(recordsLen));
    if (compression === "") return data;
    const fn = handlers[compression];
    return fn ? fn(data, uncompressed) : null;
  } catch {
    return null;
  }
}
