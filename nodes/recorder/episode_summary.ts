import { closeSync, fstatSync, openSync, readSync } from "node:fs";
import { McapIndexedReader, type IReadable } from "@mcap/core";
import { RecordingFormatError } from "../../src/record/recording_errors.js";
import { decompressHandlers, loadCompression } from "./chunk_compression.js";

/** What an episode file says about itself, read back through @mcap/core's McapIndexedReader. */
export interface EpisodeFileSummary {
  /** Messages per channel topic, as the file's channels name them. */
  messages: Record<string, number>;
  /** Messages in all (the statistics record's count). */
  total: number;
  chunks: number;
  bytes: number;
  /** Log-time range of the messages (ns), null for an empty file. */
  startNs: bigint | null;
  endNs: bigint | null;
}

/**
 * Reads an episode's summary section with the official indexed reader (it checks the magic,
 * the footer and the summary, and fails on a file that is not complete and indexed), and
 * counts messages per topic from its statistics. Reads the summary only, not every chunk, so
 * it costs the same for a 10 MB and a 10 GB episode. Throws RecordingFormatError naming the
 * file when it cannot be read as an indexed MCAP file.
 */
export async function readEpisodeSummary(path: string): Promise<EpisodeFileSummary> {
  await loadCompression();
  let fd: number;
  try {
    fd = openSync(path, "r");
  } catch (e) {
    throw new RecordingFormatError(`${path}: cannot be read: ${e instanceof Error ? e.message : String(e)}`, 0);
  }
  try {
    const size = fstatSync(fd).size;
    const readable: IReadable = {
      size: async () => BigInt(size),
      read: async (offset, length) => {
        if (offset + length > BigInt(size)) throw new Error(`read of ${length} bytes at ${offset} is past the end (${size} bytes)`);
        const out = Buffer.allocUnsafe(Number(length));
        let done = 0;
        while (done < out.byteLength) {
          const n = readSync(fd, out, done, out.byteLength - done, Number(offset) + done);
          if (n === 0) throw new Error("the file shrank while being read");
          done += n;
        }
        return out;
      },
    };
    let reader: McapIndexedReader;
    try {
      reader = await McapIndexedReader.Initialize({ readable, decompressHandlers: decompressHandlers() });
    } catch (e) {
      throw new RecordingFormatError(`${path}: not a complete, indexed MCAP file: ${e instanceof Error ? e.message : String(e)}`, 0);
    }
    const stats = reader.statistics;
    if (!stats) throw new RecordingFormatError(`${path}: the summary has no statistics record`, 0);
    const messages: Record<string, number> = {};
    for (const ch of reader.channelsById.values()) messages[ch.topic] = Number(stats.channelMessageCounts.get(ch.id) ?? 0n);
    const total = Number(stats.messageCount);
    return {
      messages, total, chunks: reader.chunkIndexes.length, bytes: size,
      startNs: total > 0 ? stats.messageStartTime : null, endNs: total > 0 ? stats.messageEndTime : null,
    };
  } finally {
    closeSync(fd);
  }
}
