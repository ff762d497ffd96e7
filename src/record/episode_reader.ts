import { MCAP_MAGIC, McapIndexedReader, type DecompressHandlers, type IReadable, type TypedMcapRecords } from "@mcap/core";
import { InvalidInputError, SpatialRewardError } from "../errors.js";
import { decodeMocapFrame, MOCAP_FRAME_TYPE } from "../mocap/mocap_codec.js";
import type { MocapFrame } from "../msgs/mocap_proto.js";
import type { MessageTypeName, MessageTypes } from "../msgs/generated.js";
import { codecFor } from "../transport/dds/codec_cache.js";
import { EPISODE_METADATA_NAME, parseEpisodeMetadata, type EpisodeMetadata } from "./episode_metadata.js";
import { RecordingFormatError } from "./recording_errors.js";

/** One channel of an episode as its file declares it. */
export interface RecordedChannel {
  readonly id: number;
  /** The topic as written (the recorder writes resolved names, "/camera/color/image_raw"). */
  readonly topic: string;
  /** "sensor_msgs/msg/Image", "spatial_reward.mocap.MocapFrame"... */
  readonly schemaName: string;
  /** "ros2msg", "protobuf", "jsonschema", or "" without a schema. */
  readonly schemaEncoding: string;
  /** "cdr", "protobuf", "json"... */
  readonly messageEncoding: string;
  /** Messages on the channel by the file's statistics, null when the file has none. */
  readonly count: number | null;
}

/** One message as recorded: log time is when the recorder received it (one host clock for every channel), publish time its header stamp. */
export interface RecordedMessage {
  readonly channel: RecordedChannel;
  readonly sequence: number;
  readonly logTime: bigint;
  readonly publishTime: bigint;
  readonly data: Uint8Array;
}

/** "/reward" and "reward" are one topic: the recorder writes resolved names, other writers may not. */
export function sameTopic(a: string, b: string): boolean {
  return a.replace(/^\/+/, "") === b.replace(/^\/+/, "");
}

const MAGIC = Uint8Array.from(MCAP_MAGIC);
/** Largest chunk decompressed (the recorder writes 4 MiB; McapScanner has the same bound). */
const MAX_CHUNK_BYTES = 256 << 20;

function describe(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/**
 * An episode file (MCAP as nodes/recorder/episode_writer.ts writes it) read through
 * @mcap/core's McapIndexedReader: its channels, its "episode" metadata, and its messages in
 * log-time order (the recorder's one host clock), optionally of some topics only, decoded by
 * the channel's schema: ROS 2 `cdr` channels with the repo's CDR codec for the schema name
 * (src/msgs), `protobuf` mocap channels with src/mocap/mocap_codec.ts.
 *
 * The reader needs the file's summary (chunk indexes): a file whose writer was killed has
 * none, and opening it says so and names `spatial-reward record recover`. Everything wrong
 * with the bytes is a RecordingFormatError that names the file; nothing else escapes open()
 * or messages(), whatever the bytes (test/export fuzzes it). Memory: the indexed reader holds
 * the chunks it is reading from, never the file.
 */
export class EpisodeReader {
  readonly channels: readonly RecordedChannel[];

  private constructor(
    readonly name: string,
    private readonly reader: McapIndexedReader,
    /** The "episode" metadata record, null when the file has none (not written by the recorder). */
    readonly metadata: EpisodeMetadata | null,
  ) {
    const counts = reader.statistics?.channelMessageCounts;
    this.channels = [...reader.channelsById.values()].map((c) => {
      const schema = reader.schemasById.get(c.schemaId);
      const n = counts?.get(c.id);
      return {
        id: c.id, topic: c.topic, schemaName: schema?.name ?? "", schemaEncoding: schema?.encoding ?? "",
        messageEncoding: c.messageEncoding, count: n === undefined ? null : Number(n),
      };
    });
  }

  /**
   * Opens an episode: the file's start must be the MCAP magic, its summary must read. `name`
   * (the path) starts every error message.
   */
  static async open(name: string, readable: IReadable, decompressHandlers: DecompressHandlers): Promise<EpisodeReader> {
    let size: bigint;
    let head: Uint8Array;
    try {
      size = await readable.size();
      head = size >= BigInt(MAGIC.length) ? await readable.read(0n, BigInt(MAGIC.length)) : new Uint8Array(0);
    } catch (e) {
      throw new RecordingFormatError(`${name}: cannot be read: ${describe(e)}`, 0);
    }
    if (size === 0n) throw new RecordingFormatError(`${name}: the file is empty: not an MCAP recording`, 0);
    if (head.byteLength < MAGIC.length || !MAGIC.every((b, i) => head[i] === b)) {
      throw new RecordingFormatError(`${name}: not an MCAP recording (it does not start with the MCAP magic)`, 0);
    }
    // A damaged chunk header may claim any size: bound what a decompressor is asked to allocate.
    const bounded: DecompressHandlers = {};
    for (const [kind, fn] of Object.entries(decompressHandlers)) {
      bounded[kind] = (buffer, decompressedSize) => {
        if (decompressedSize > BigInt(MAX_CHUNK_BYTES)) throw new Error(`a ${kind} chunk claims ${decompressedSize} bytes uncompressed, over the ${MAX_CHUNK_BYTES}-byte limit`);
        return fn(buffer, decompressedSize);
      };
    }
    let reader: McapIndexedReader;
    try {
      reader = await McapIndexedReader.Initialize({ readable, decompressHandlers: bounded });
    } catch (e) {
      throw new RecordingFormatError(
        `${name}: not a complete, indexed MCAP recording (${describe(e)}); a recorder that was killed leaves such a file: ` +
          "`spatial-reward record recover FILE` writes an indexed copy to export from",
        0,
      );
    }
    let metadata: EpisodeMetadata | null = null;
    try {
      for await (const m of reader.readMetadata({ name: EPISODE_METADATA_NAME })) {
        metadata = parseEpisodeMetadata(m.metadata);
        break;
      }
    } catch (e) {
      if (e instanceof SpatialRewardError && e.code === "bad_message") throw new RecordingFormatError(`${name}: ${e.message}`, 0);
      throw new RecordingFormatError(`${name}: its episode metadata does not read: ${describe(e)}`, 0);
    }
    return new EpisodeReader(name, reader, metadata);
  }

  /** The channel of `topic` (with or without its leading slash), or undefined. */
  channel(topic: string): RecordedChannel | undefined {
    return this.channels.find((c) => sameTopic(c.topic, topic));
  }

  /** First and last log time of the file's messages (its statistics), null without statistics or messages. */
  get timeRange(): { startNs: bigint; endNs: bigint } | null {
    const s = this.reader.statistics;
    return s && s.messageCount > 0n ? { startNs: s.messageStartTime, endNs: s.messageEndTime } : null;
  }

  /**
   * The messages of `topics` (all when omitted; topics the file lacks are ignored) in log-time
   * order. A damaged chunk (CRC, decompression) ends the iteration with a RecordingFormatError.
   */
  async *messages(topics?: readonly string[]): AsyncGenerator<RecordedMessage, void, void> {
    const byId = new Map(this.channels.map((c) => [c.id, c]));
    const wanted = topics === undefined ? undefined : this.channels.filter((c) => topics.some((t) => sameTopic(t, c.topic))).map((c) => c.topic);
    if (wanted !== undefined && wanted.length === 0) return;
    const it = this.reader.readMessages({ topics: wanted, validateCrcs: true });
    for (;;) {
      let r: IteratorResult<TypedMcapRecords["Message"]>;
      try {
        r = await it.next();
      } catch (e) {
        throw new RecordingFormatError(`${this.name}: a message does not read: ${describe(e)}`, 0);
      }
      if (r.done) return;
      const m = r.value;
      const channel = byId.get(m.channelId);
      if (!channel) throw new RecordingFormatError(`${this.name}: a message on channel ${m.channelId}, which the file does not declare`, 0);
      yield { channel, sequence: m.sequence, logTime: m.logTime, publishTime: m.publishTime, data: m.data };
    }
  }
}

/**
 * A ROS 2 message of type `type` ("sensor_msgs/msg/Image") from a `cdr` channel with that
 * schema. A channel of another type or encoding, or bytes that do not decode, is an
 * InvalidInputError (bad_message / type_mismatch) the caller counts and skips.
 */
export function decodeRos<K extends MessageTypeName>(m: RecordedMessage, type: K): MessageTypes[K] {
  const c = m.channel;
  if (c.messageEncoding !== "cdr" || c.schemaName !== type) {
    throw new InvalidInputError("type_mismatch", `${c.topic} carries ${c.schemaName || "no schema"} as ${c.messageEncoding}, not ${type} as cdr`);
  }
  try {
    return codecFor(type).decode(m.data) as MessageTypes[K];
  } catch (e) {
    throw new InvalidInputError("bad_message", `${c.topic}: a ${type} message (sequence ${m.sequence}) does not decode: ${describe(e)}`);
  }
}

/** A mocap frame from a `protobuf` channel of schema spatial_reward.mocap.MocapFrame (errors as decodeRos). */
export function decodeMocap(m: RecordedMessage): MocapFrame {
  const c = m.channel;
  if (c.messageEncoding !== "protobuf" || c.schemaName !== MOCAP_FRAME_TYPE) {
    throw new InvalidInputError("type_mismatch", `${c.topic} carries ${c.schemaName || "no schema"} as ${c.messageEncoding}, not ${MOCAP_FRAME_TYPE} as protobuf`);
  }
  return decodeMocapFrame(m.data);
}

/** The first channel carrying mocap frames (protobuf MocapFrame), or undefined. */
export function mocapChannel(reader: EpisodeReader): RecordedChannel | undefined {
  return reader.channels.find((c) => c.messageEncoding === "protobuf" && c.schemaName === MOCAP_FRAME_TYPE);
}

/** The ROS MocapFrame schema the ingest publishes on mocap/<stream>/frame. */
export const ROS_MOCAP_FRAME_TYPE = "spatial_reward_msgs/msg/MocapFrame";

/**
 * The channels carrying the ingest's ROS MocapFrame messages (cdr; one per stream,
 * mocap/<stream>/frame), in file order: what a recorder in another process than the ingest
 * records instead of the protobuf channel.
 */
export function rosMocapChannels(reader: EpisodeReader): RecordedChannel[] {
  return reader.channels.filter((c) => c.messageEncoding === "cdr" && c.schemaName === ROS_MOCAP_FRAME_TYPE);
}
