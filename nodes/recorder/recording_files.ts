import { closeSync, fstatSync, openSync, readSync, renameSync, unlinkSync } from "node:fs";
import { resolve } from "node:path";
import { McapIndexedReader, McapWriter, type IReadable } from "@mcap/core";
import { InvalidInputError } from "../../src/errors.js";
import { McapScanner, type ByteSource, type DamagedRecord, type ScanEnd, type ScanOptions } from "../../src/record/mcap_scan.js";
import { recoverRecording, type RecoveryReport } from "../../src/record/recover_recording.js";
import { RecordingInspector, type InspectOptions, type InspectReport } from "../../src/record/recording_inspector.js";
import { RecordingFormatError } from "../../src/record/recording_errors.js";
import { chunkCompressor, decompressHandlers, loadCompression, type Compression } from "./chunk_compression.js";
import { DEFAULT_CHUNK_SIZE } from "./episode_writer.js";
import { SyncFileWritable, writeError } from "./file_writable.js";

/** A file read with positional reads: the scanner holds one record in memory at a time. */
export class FileByteSource implements ByteSource {
  readonly size: number;

  constructor(private readonly fd: number) {
    this.size = fstatSync(fd).size;
  }

  read(offset: number, length: number): Uint8Array {
    const out = Buffer.allocUnsafe(length);
    let done = 0;
    while (done < length) {
      const n = readSync(this.fd, out, done, length - done, offset + done);
      if (n === 0) throw new RecordingFormatError(`the file shrank while being read (${offset + done} of ${this.size} bytes)`, offset + done);
      done += n;
    }
    return out;
  }
}

/** McapIndexedReader's random access over the same file. */
function fileReadable(source: FileByteSource): IReadable {
  return {
    size: async () => BigInt(source.size),
    read: async (offset, size) => {
      if (offset + size > BigInt(source.size)) throw new Error(`read of ${size} bytes at ${offset} is past the end (${source.size} bytes)`);
      return source.read(Number(offset), Number(size));
    },
  };
}

/** A format error with the file's name in front (the CLI prints it as the one line it says). */
function named(path: string, e: unknown): unknown {
  return e instanceof RecordingFormatError && !e.message.startsWith(path) ? new RecordingFormatError(`${path}: ${e.message}`, e.offset) : e;
}

function openForReading(path: string): number {
  try {
    const fd = openSync(path, "r");
    if (!fstatSync(fd).isFile()) {
      closeSync(fd);
      throw new RecordingFormatError(`${path}: not a regular file`, 0);
    }
    return fd;
  } catch (e) {
    if (e instanceof RecordingFormatError) throw e;
    throw new RecordingFormatError(`${path}: cannot be read: ${e instanceof Error ? e.message : String(e)}`, 0);
  }
}

async function scanOptions(): Promise<ScanOptions> {
  await loadCompression();
  return { decompressHandlers: decompressHandlers() };
}

export interface FileInspection extends InspectReport {
  file: string;
  bytes: number;
  /** Finished with a footer and closing magic. */
  complete: boolean;
  /** Its summary (chunk indexes, statistics) reads with McapIndexedReader and agrees with the records. */
  indexed: boolean;
  end: ScanEnd;
  /** Bytes read as whole records. */
  valid_bytes: number;
  /** What is wrong with the file, one line each (empty for a complete, consistent file). */
  problems: string[];
  /** Records skipped as damaged (the read went on after them), their bytes, and the first 100 of them. */
  damaged_records: number;
  damaged_bytes: number;
  damaged: DamagedRecord[];
}

/**
 * Describes a recording (record inspect): every record is read front to back as far as the
 * file is whole, so a file left by a killed recorder is described too; a complete file's
 * summary is also read with @mcap/core's McapIndexedReader and checked against what was read.
 * Throws RecordingFormatError for a file that is not an MCAP recording at all.
 */
export async function inspectFile(path: string, options: InspectOptions = {}): Promise<FileInspection> {
  const fd = openForReading(path);
  try {
    const source = new FileByteSource(fd);
    return await inspectRecording(path, source, fileReadable(source), options);
  } catch (e) {
    throw named(path, e);
  } finally {
    closeSync(fd);
  }
}

/** inspectFile over any bytes: `source` for the front-to-back read, `readable` for the summary. */
export async function inspectRecording(name: string, source: ByteSource, readable: IReadable, options: InspectOptions & Partial<ScanOptions> = {}): Promise<FileInspection> {
  const opts = { ...(await scanOptions()), ...options };
  const scanner = new McapScanner(source, opts);
  const inspector = new RecordingInspector(options);
  for (const r of scanner.records()) inspector.add(r);
  const scan = scanner.summary;
  const report = inspector.report();
  const problems: string[] = [];
  if (scan.problem) problems.push(scan.problem);
  let indexed = false;
  if (scan.end === "footer") {
    try {
      const reader = await McapIndexedReader.Initialize({ readable, decompressHandlers: opts.decompressHandlers });
      const counted = reader.statistics?.messageCount;
      if (reader.chunkIndexes.length !== report.chunks) problems.push(`the summary indexes ${reader.chunkIndexes.length} chunks, the file holds ${report.chunks}`);
      else if (counted !== undefined && counted !== BigInt(report.messages)) problems.push(`the statistics count ${counted} messages, the file holds ${report.messages}`);
      else indexed = true;
    } catch (e) {
      problems.push(`the summary does not read: ${e instanceof Error ? e.message : String(e)}`);
    }
  } else if (scan.end !== "bad_record") {
    problems.push("no summary: `spatial-reward record recover` writes an indexed copy");
  }
  return {
    file: name, bytes: scan.size, complete: scan.end === "footer", indexed, end: scan.end, valid_bytes: scan.validBytes, problems,
    damaged_records: scan.damagedRecords, damaged_bytes: scan.damagedBytes, damaged: scan.damaged, ...report,
  };
}

export interface RecoverOptions {
  compression?: Compression;
  chunkSize?: number;
  /** Names the tool in the new file's header library string. */
  tool?: string;
}

export interface FileRecovery extends RecoveryReport {
  input: string;
  output: string;
  bytes_written: number;
}

/**
 * Writes `output` (record recover): a new indexed MCAP file with everything whole in `input`.
 * It is written as `output`.partial and renamed when finished, so `output` is never a half
 * file. Throws RecordingFormatError when `input` is not an MCAP recording, RecordingWriteError
 * when `output` cannot be written.
 */
export async function recoverFile(input: string, output: string, options: RecoverOptions = {}): Promise<FileRecovery> {
  if (resolve(input) === resolve(output)) throw new InvalidInputError("bad_argument", "the output must be another file than the input");
  const fd = openForReading(input);
  const partial = `${output}.partial`;
  let writable: SyncFileWritable | null = null;
  try {
    const scanner = new McapScanner(new FileByteSource(fd), await scanOptions());
    // A partial file left by an earlier run is replaced; removed first and then created
    // exclusively, so that a symlink or hard link by that name (to the input, say) is never
    // opened for writing: only the name goes.
    try {
      unlinkSync(partial);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw writeError(partial, e, "removing the stale");
    }
    writable = SyncFileWritable.create(partial, "wx");
    const writer = new McapWriter({ writable, chunkSize: options.chunkSize ?? DEFAULT_CHUNK_SIZE, compressChunk: chunkCompressor(options.compression ?? "zstd") });
    const tool = options.tool ?? "spatial-reward record recover";
    const report = await recoverRecording(scanner, writer, (lib) => (lib ? `${lib}; recovered by ${tool}` : tool));
    writable.sync();
    const bytes = Number(writable.position());
    writable.close();
    writable = null;
    try {
      renameSync(partial, output);
    } catch (e) {
      throw writeError(output, e, "renaming the recovered file to");
    }
    return { input, output, bytes_written: bytes, ...report };
  } catch (e) {
    const error = named(input, e);
    if (writable) {
      try {
        writable.close();
      } catch {
        // The first error is the one to report.
      }
    }
    try {
      unlinkSync(partial);
    } catch {
      // Not created, or already gone.
    }
    throw error;
  } finally {
    closeSync(fd);
  }
}
