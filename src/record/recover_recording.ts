import type { McapWriter } from "@mcap/core";
import type { McapScanner, ScanSummary } from "./mcap_scan.js";

export interface RecoveryReport {
  /** Messages, schemas, channels, metadata and attachment records written to the new file. */
  messages: number;
  schemas: number;
  channels: number;
  metadata: number;
  attachments: number;
  /** Complete chunks read from the damaged file. */
  chunks_read: number;
  /** Messages per topic. */
  topics: Record<string, number>;
  /** How the read of the damaged file ended, and where. */
  scan: ScanSummary;
}

type Sink = Pick<McapWriter, "start" | "registerSchema" | "registerChannel" | "addMessage" | "addMetadata" | "addAttachment" | "end">;

/**
 * Copies everything whole in a recording (the scanner stops at the first record cut short or
 * damaged) into `writer`, which makes a new, indexed file of it: every message of every complete
 * chunk and every complete record outside chunks, with their sequence numbers and times, the
 * schemas and channels they use (renumbered as the writer numbers them) and the metadata and
 * attachment records. The header keeps the profile; `library` names who recovered it.
 */
export async function recoverRecording(scanner: McapScanner, writer: Sink, library: (original: string) => string): Promise<RecoveryReport> {
  const schemas = new Map<number, { name: string; encoding: string; data: Uint8Array }>();
  const schemaIds = new Map<number, number>();
  const channelIds = new Map<number, number>();
  const topicOf = new Map<number, string>();
  const report = { messages: 0, schemas: 0, channels: 0, metadata: 0, attachments: 0, chunks_read: 0, topics: {} as Record<string, number> };
  let started = false;
  for (const r of scanner.records()) {
    switch (r.type) {
      case "Header":
        await writer.start({ profile: r.profile, library: library(r.library) });
        started = true;
        break;
      case "Schema":
        if (!schemas.has(r.id)) schemas.set(r.id, { name: r.name, encoding: r.encoding, data: r.data });
        break;
      case "Channel": {
        if (channelIds.has(r.id)) break;
        let schemaId = 0;
        if (r.schemaId !== 0) {
          const known = schemaIds.get(r.schemaId);
          if (known !== undefined) schemaId = known;
          else {
            const s = schemas.get(r.schemaId);
            // A channel whose schema record is not whole cannot be decoded: keep it schemaless
            // rather than lose its messages (MCAP allows schema id 0).
            if (s !== undefined) {
              schemaId = await writer.registerSchema(s);
              schemaIds.set(r.schemaId, schemaId);
              report.schemas++;
            }
          }
        }
        channelIds.set(r.id, await writer.registerChannel({ topic: r.topic, messageEncoding: r.messageEncoding, schemaId, metadata: r.metadata }));
        topicOf.set(r.id, r.topic);
        report.channels++;
        break;
      }
      case "Message": {
        const id = channelIds.get(r.channelId);
        if (id === undefined) break; // the scanner refuses these; kept for a scanner that would not
        await writer.addMessage({ channelId: id, sequence: r.sequence, logTime: r.logTime, publishTime: r.publishTime, data: r.data });
        report.messages++;
        const topic = topicOf.get(r.channelId)!;
        report.topics[topic] = (report.topics[topic] ?? 0) + 1;
        break;
      }
      case "Metadata":
        await writer.addMetadata({ name: r.name, metadata: r.metadata });
        report.metadata++;
        break;
      case "Attachment":
        await writer.addAttachment({ name: r.name, mediaType: r.mediaType, logTime: r.logTime, createTime: r.createTime, data: r.data });
        report.attachments++;
        break;
      case "Chunk":
        report.chunks_read++;
        break;
      default:
        break;
    }
  }
  // The scanner throws before yielding anything unless the file starts with a whole Header.
  if (!started) await writer.start({ profile: "", library: library("") });
  await writer.end();
  return { ...report, scan: scanner.summary };
}
