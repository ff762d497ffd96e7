import { McapWriter, type IWritable } from "@mcap/core";
import { Counters } from "../../src/diagnostics/counters.js";
import { InvalidInputError } from "../../src/errors.js";
import { checkChannelPlans, profileFor, type ChannelPlan } from "../../src/record/channel_plan.js";
import { EPISODE_METADATA_NAME, episodeMetadataEntries, type EpisodeMetadata } from "../../src/record/episode_metadata.js";
import { RecordingWriteError } from "../../src/record/recording_errors.js";
import { chunkCompressor, DEFAULT_ZSTD_LEVEL, loadCompression, type ChunkCompressor, type Compression } from "./chunk_compression.js";
import { SyncFileWritable, writeError, type RecordingWritable } from "./file_writable.js";

/**
 * When written data is made durable. Every chunk reaches the file with write(2) as soon as it
 * is complete, whatever the policy, so a crash or SIGKILL of this process never loses a
 * complete chunk. fsync matters only for power loss or a kernel crash:
 * "close" (default): fdatasync once, when the episode ends;
 * "chunk": fdatasync after every chunk as well (costs a few ms per chunk);
 * "none": leave it to the kernel.
 */
export const SYNC_POLICIES = ["close", "chunk", "none"] as const;
export type SyncPolicy = (typeof SYNC_POLICIES)[number];

/** MCAP opcode of a Chunk record. */
const CHUNK_OPCODE = 0x06;

export const DEFAULT_CHUNK_SIZE = 4 << 20;
export const MIN_CHUNK_SIZE = 1024;
export const MAX_CHUNK_SIZE = 256 << 20;

export interface EpisodeWriterOptions {
  /** Uncompressed bytes per chunk (default 4 MiB): what a crash can lose at most, and the unit of reading. */
  chunkSize?: number;
  compression?: Compression;
  /** zstd level (default 1: DEFAULT_ZSTD_LEVEL says why). */
  zstdLevel?: number;
  sync?: SyncPolicy;
  /**
   * Bytes of messages that may wait while a chunk is being written (default 256 MiB). Past it a
   * message is dropped and counted (`dropped.queue_full`), never buffered without bound.
   */
  maxQueuedBytes?: number;
  /** The header's library string (default "spatial-reward"). */
  library?: string;
  /** Opens the file (default: SyncFileWritable.create, which refuses an existing file). Tests inject failing writers here. */
  openWritable?: (path: string) => RecordingWritable;
}

/** An episode as it ended. */
export interface EpisodeResult {
  path: string;
  /** True when the file was finished with its summary and footer, false after a write error. */
  ok: boolean;
  error: RecordingWriteError | null;
  /** Messages in the file: all of them when ok, else those of the chunks written before the error. */
  messages: number;
  /** Messages accepted but not in the file (a write error), and refused (queue full, after an error or close). */
  lost: number;
  dropped: number;
  /** Messages per topic handed to the writer. */
  topics: Record<string, number>;
  chunks: number;
  /** File size in bytes. */
  bytes: number;
  /** Bytes of message data handed to the writer (uncompressed). */
  dataBytes: number;
}

interface Pending {
  channelId: number;
  sequence: number;
  logTime: bigint;
  publishTime: bigint;
  data: Uint8Array;
}

/**
 * One episode file: an MCAP written with @mcap/core's McapWriter, chunked (chunkSize),
 * compressed (zstd, lz4 or none), indexed (message indexes after each chunk, chunk and
 * metadata indexes and statistics in the summary at close), with the episode's metadata as a
 * Metadata record right after the header (so it survives a crash).
 *
 * write() is synchronous and never blocks on I/O: the message is copied into the open chunk
 * at once when the writer is idle, or copied into a bounded queue while a chunk is being
 * compressed and written. A write error (ENOSPC, EIO) ends the episode: it is counted
 * (errors.write_failed), reported through onError, the messages it costs are counted as lost,
 * and every later write() is refused and counted; the file keeps every chunk written before it.
 */
export class EpisodeWriter {
  readonly counters = new Counters();
  /** Called once, with the error that ended the episode. */
  onError: ((e: RecordingWriteError) => void) | null = null;
  private readonly topics: string[] = [];
  private readonly nextSequence: number[] = [];
  private readonly queue: Pending[] = [];
  private queuedBytes = 0;
  private busy = false;
  private idleWaiters: (() => void)[] = [];
  private failure: RecordingWriteError | null = null;
  private closing: Promise<EpisodeResult> | null = null;
  /** Messages handed to McapWriter, and how many of them are in chunks already written. */
  private accepted = 0;
  private durable = 0;
  private dropped = 0;
  private dataBytes = 0;
  private readonly perTopic: Record<string, number> = {};

  private readonly mcap: McapWriter;

  private constructor(
    readonly path: string,
    private readonly writable: RecordingWritable,
    options: { chunkSize: number; compressChunk: ChunkCompressor | undefined },
    private readonly sync: SyncPolicy,
    private readonly maxQueuedBytes: number,
  ) {
    // McapWriter writes each chunk record with one write() of its own (then the chunk's message
    // indexes with another): once that write succeeds, every message accepted so far is on disk.
    const chunkAware: IWritable = {
      position: () => writable.position(),
      write: (buffer) => writable.write(buffer).then(() => {
        if (buffer[0] === CHUNK_OPCODE) this.chunkWritten();
      }),
    };
    this.mcap = new McapWriter({ writable: chunkAware, chunkSize: options.chunkSize, compressChunk: options.compressChunk });
  }

  /**
   * Creates the file, writes the header, the episode metadata and registers `channels` (their
   * ids are the indices into `channels`). Throws InvalidInputError for bad options or plans and
   * RecordingWriteError when the file cannot be created or written.
   */
  static async create(path: string, channels: readonly ChannelPlan[], meta: EpisodeMetadata | null, options: EpisodeWriterOptions = {}): Promise<EpisodeWriter> {
    const chunkSize = options.chunkSize ?? DEFAULT_CHUNK_SIZE;
    if (!Number.isInteger(chunkSize) || chunkSize < MIN_CHUNK_SIZE || chunkSize > MAX_CHUNK_SIZE) {
      throw new InvalidInputError("bad_argument", `chunk size must be an integer from ${MIN_CHUNK_SIZE} to ${MAX_CHUNK_SIZE} bytes, got ${chunkSize}`);
    }
    const level = options.zstdLevel ?? DEFAULT_ZSTD_LEVEL;
    if (!Number.isInteger(level) || level < 1 || level > 19) throw new InvalidInputError("bad_argument", `zstd level must be an integer from 1 to 19, got ${level}`);
    const maxQueued = options.maxQueuedBytes ?? 256 << 20;
    if (!(maxQueued >= 0)) throw new InvalidInputError("bad_argument", `maxQueuedBytes must be ≥ 0, got ${maxQueued}`);
    checkChannelPlans(channels);
    const entries = meta ? episodeMetadataEntries(meta) : null;
    await loadCompression();
    const writable = (options.openWritable ?? ((p: string) => SyncFileWritable.create(p)))(path);
    const w = new EpisodeWriter(path, writable, { chunkSize, compressChunk: chunkCompressor(options.compression ?? "zstd", level) }, options.sync ?? "close", maxQueued);
    const mcap = w.mcap;
    try {
      await mcap.start({ profile: profileFor(channels), library: options.library ?? "spatial-reward" });
      if (entries) await mcap.addMetadata({ name: EPISODE_METADATA_NAME, metadata: entries });
      const schemaIds = new Map<string, number>();
      for (const plan of channels) {
        let schemaId = schemaIds.get(plan.schema.name);
        if (schemaId === undefined) {
          schemaId = await mcap.registerSchema({ name: plan.schema.name, encoding: plan.schema.encoding, data: plan.schema.data });
          schemaIds.set(plan.schema.name, schemaId);
        }
        const id = await mcap.registerChannel({ topic: plan.topic, messageEncoding: plan.messageEncoding, schemaId, metadata: new Map(plan.metadata) });
        w.topics[id] = plan.topic;
        w.nextSequence[id] = 0;
      }
    } catch (e) {
      try {
        writable.close();
      } catch {
        // The creation error is the one to report.
      }
      throw writeError(path, e, "starting");
    }
    return w;
  }

  /** The channel id of `topic`, or undefined. */
  channelId(topic: string): number | undefined {
    const i = this.topics.indexOf(topic);
    return i < 0 ? undefined : i;
  }

  get error(): RecordingWriteError | null {
    return this.failure;
  }

  /** Messages refused so far (queue full, after an error or once closing); close()'s result counts those before it finished. */
  get refused(): number {
    return this.dropped;
  }

  /** Messages waiting behind a chunk write. */
  get queued(): number {
    return this.queue.length;
  }

  /**
   * Adds a message on `channelId` with log time `logTimeNs` (when the recorder received it) and
   * publish time (when it was published, e.g. its header stamp; default the log time). `data`
   * is only borrowed: it may be reused as soon as this returns. `sequence` defaults to the
   * channel's count of write() calls, so refused messages leave gaps `record inspect` shows.
   * Returns false (and counts why) when the message is not taken.
   */
  write(channelId: number, logTimeNs: bigint, data: Uint8Array, publishTimeNs: bigint = logTimeNs, sequence?: number): boolean {
    const next = this.nextSequence[channelId];
    if (next === undefined) throw new InvalidInputError("bad_argument", `no channel ${channelId} in ${this.path}`);
    this.nextSequence[channelId] = (next + 1) >>> 0;
    const seq = sequence ?? next;
    if (this.closing || this.failure) {
      this.refuse(this.failure ? "dropped.write_failed" : "dropped.closed");
      return false;
    }
    if (!this.busy) {
      this.add({ channelId, sequence: seq, logTime: logTimeNs, publishTime: publishTimeNs, data });
      return true;
    }
    if (this.queuedBytes + data.byteLength > this.maxQueuedBytes) {
      this.refuse("dropped.queue_full");
      return false;
    }
    // A copy: Buffer.prototype.slice would only make a view of bytes the caller will reuse.
    const copy = new Uint8Array(data.byteLength);
    copy.set(data);
    this.queue.push({ channelId, sequence: seq, logTime: logTimeNs, publishTime: publishTimeNs, data: copy });
    this.queuedBytes += data.byteLength;
    return true;
  }

  private refuse(reason: string): void {
    this.dropped++;
    this.counters.inc(reason);
  }

  /**
   * Hands one message to McapWriter. Its addMessage copies the data into the open chunk before
   * it first awaits (test/record checks this), so `data` is free again when this returns; the
   * promise settles after the chunk, if one was completed, has been written.
   */
  private add(m: Pending): void {
    this.busy = true;
    this.accepted++;
    this.dataBytes += m.data.byteLength;
    const topic = this.topics[m.channelId];
    this.perTopic[topic] = (this.perTopic[topic] ?? 0) + 1;
    this.mcap.addMessage(m).then(
      () => this.added(),
      (e: unknown) => this.fail(e),
    );
  }

  /** A chunk record is in the file: it holds every message accepted so far. A failed sync rejects the write. */
  private chunkWritten(): void {
    this.durable = this.accepted;
    this.counters.inc("chunks");
    if (this.sync === "chunk") this.writable.sync();
  }

  private added(): void {
    const next = this.queue.shift();
    if (next) {
      this.queuedBytes -= next.data.byteLength;
      this.add(next);
      return;
    }
    this.busy = false;
    for (const wake of this.idleWaiters.splice(0)) wake();
  }

  private fail(e: unknown): void {
    if (this.failure) return;
    const lost = this.accepted - this.durable + this.queue.length;
    const base = writeError(this.path, e, "writing");
    this.failure = new RecordingWriteError(`${base.message}; ${lost} messages not written (the file keeps the ${this.durable} before them: \`spatial-reward record recover\`)`, base.errno, lost);
    this.counters.inc("errors.write_failed");
    this.counters.inc("lost.write_failed", lost);
    this.queue.length = 0;
    this.queuedBytes = 0;
    this.busy = false;
    for (const wake of this.idleWaiters.splice(0)) wake();
    this.onError?.(this.failure);
  }

  /** Resolves when no message is waiting or being written. */
  idle(): Promise<void> {
    if (!this.busy) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /**
   * Ends the episode: writes what is queued, `final` (a Metadata record) if given, the last chunk, the summary (schemas, channels,
   * statistics, chunk and metadata indexes) and the footer, syncs (policy "close" or "chunk")
   * and closes the file. After a write error it only closes the file. Idempotent; never throws:
   * the result says what happened.
   */
  close(final?: { name: string; entries: ReadonlyMap<string, string> }): Promise<EpisodeResult> {
    this.closing ??= this.finish(final);
    return this.closing;
  }

  private async finish(final?: { name: string; entries: ReadonlyMap<string, string> }): Promise<EpisodeResult> {
    await this.idle();
    if (!this.failure) {
      try {
        // A record of how the episode ended (the recorder's episode_end), indexed in the summary.
        if (final) await this.mcap.addMetadata({ name: final.name, metadata: new Map(final.entries) });
        await this.mcap.end();
        if (this.sync !== "none") this.writable.sync();
      } catch (e) {
        this.fail(e);
      }
    }
    try {
      this.writable.close();
    } catch (e) {
      this.fail(e);
    }
    const lost = this.failure ? this.failure.lostMessages : 0;
    return {
      path: this.path, ok: this.failure === null, error: this.failure,
      messages: this.failure ? this.durable : this.accepted, lost, dropped: this.dropped,
      topics: { ...this.perTopic }, chunks: this.mcap.statistics?.chunkCount ?? 0,
      bytes: Number(this.writable.position()), dataBytes: this.dataBytes,
    };
  }
}
