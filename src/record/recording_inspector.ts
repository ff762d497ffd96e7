import type { TypedMcapRecord } from "@mcap/core";

/**
 * What `record inspect` says about a recording, built from its records in file order (the
 * scanner's output, so a truncated file is described as far as it is whole): channels with
 * counts and rates, the time range, metadata, and gaps.
 *
 * Gaps, per channel: in sequence numbers (a number skipped: the recorder numbers what it
 * receives, so a skip is a message received and not written; a publisher-set sequence shows
 * the publisher's losses), and in time (a period longer than `gapFactor` times the channel's
 * median period: frames that were never made or never arrived). Sequences that are all 0
 * mean "not set" (MCAP allows that) and are not checked.
 *
 * Time gaps are measured on publish times when the channel carries them (the recorder writes a
 * message's header stamp there, the mocap frames' exposure: any message whose publish time is
 * not its log time, none 0), in stamp order; else on log times. Arrival is bursty (mocap frames
 * come in batches behind the broker and the event loop, a camera behind its driver), so log
 * times show a "gap" between every burst; stamps show the frames that are missing. Each channel
 * says which it used (`gap_time`), each gap its kind.
 */
export interface InspectOptions {
  /** A time gap is a period over gapFactor × the channel's median period (default 1.5: one lost frame of a steady stream doubles the period). */
  gapFactor?: number;
  /** At most this many gaps are listed (default 100); counts per channel are always complete. */
  maxGapsListed?: number;
}

export interface SequenceReport {
  first: number;
  last: number;
  /** Numbers skipped over all gaps. */
  missing: number;
  gaps: number;
  /** Messages whose number did not increase (repeated or reordered). */
  reordered: number;
}

export type GapTime = "publish_time" | "log_time";

export interface ChannelReport {
  id: number;
  topic: string;
  schema: string;
  schema_encoding: string;
  encoding: string;
  count: number;
  bytes: number;
  start_ns: bigint | null;
  end_ns: bigint | null;
  /** (count − 1) / time span, null below two messages or with no span. */
  rate_hz: number | null;
  /** The times time gaps and median_period_ms are measured on. */
  gap_time: GapTime;
  median_period_ms: number | null;
  /** Null when the channel's sequence numbers are not set (all 0). */
  sequence: SequenceReport | null;
  time_gaps: number;
  longest_gap_ms: number | null;
  /** Messages whose log time is earlier than the previous one's on the channel. */
  log_time_reversals: number;
}

export interface GapReport {
  topic: string;
  kind: "sequence" | GapTime;
  /** Times of the messages on each side of the gap: publish times for a publish_time gap, else log times. */
  after_ns: bigint;
  before_ns: bigint;
  duration_ms: number;
  /** Messages missing: sequence numbers skipped, or periods lost (round(gap / median) − 1). */
  missing: number;
}

export interface MetadataReport {
  name: string;
  entries: Record<string, string>;
}

export interface InspectReport {
  profile: string;
  library: string;
  messages: number;
  chunks: number;
  /** Chunks per compression ("" = none). */
  compression: Record<string, number>;
  start_ns: bigint | null;
  end_ns: bigint | null;
  duration_s: number;
  channels: ChannelReport[];
  metadata: MetadataReport[];
  attachments: number;
  gap_factor: number;
  gaps: GapReport[];
  gaps_total: number;
}

interface ChannelState {
  id: number;
  topic: string;
  schemaId: number;
  encoding: string;
  count: number;
  bytes: number;
  first: bigint;
  last: bigint;
  /** Log times as offsets from `first` (ns, exact below 104 days), in arrival order. */
  times: Float64Array;
  /** The first message's publish time, and publish times as offsets from it (arrival order). */
  pubFirst: bigint;
  pubTimes: Float64Array;
  /** Some publish time differs from its log time; some is 0 (not set). */
  pubDiffers: boolean;
  pubZero: boolean;
  seqFirst: number;
  seqLast: number;
  seqMax: number;
  seqMissing: number;
  seqGaps: number;
  seqReordered: number;
  seqGapList: GapReport[];
}

export class RecordingInspector {
  private profile = "";
  private library = "";
  private readonly schemas = new Map<number, { name: string; encoding: string }>();
  private readonly channels = new Map<number, ChannelState>();
  private readonly metadata: MetadataReport[] = [];
  private messages = 0;
  private chunks = 0;
  private attachments = 0;
  private readonly compression: Record<string, number> = {};
  private readonly gapFactor: number;
  private readonly maxGaps: number;

  constructor(options: InspectOptions = {}) {
    this.gapFactor = options.gapFactor ?? 1.5;
    this.maxGaps = options.maxGapsListed ?? 100;
    if (!(this.gapFactor > 1) || !Number.isFinite(this.gapFactor)) throw new RangeError(`gapFactor must be a finite number > 1, got ${this.gapFactor}`);
  }

  add(record: TypedMcapRecord): void {
    switch (record.type) {
      case "Header":
        this.profile = record.profile;
        this.library = record.library;
        break;
      case "Schema":
        this.schemas.set(record.id, { name: record.name, encoding: record.encoding });
        break;
      case "Channel":
        if (!this.channels.has(record.id)) {
          this.channels.set(record.id, {
            id: record.id, topic: record.topic, schemaId: record.schemaId, encoding: record.messageEncoding, count: 0, bytes: 0,
            first: 0n, last: 0n, times: new Float64Array(64), pubFirst: 0n, pubTimes: new Float64Array(64), pubDiffers: false, pubZero: false, seqFirst: 0, seqLast: 0, seqMax: 0, seqMissing: 0, seqGaps: 0, seqReordered: 0, seqGapList: [],
          });
        }
        break;
      case "Message":
        this.message(record.channelId, record.sequence, record.logTime, record.publishTime, record.data.byteLength);
        break;
      case "Chunk":
        this.chunks++;
        this.compression[record.compression] = (this.compression[record.compression] ?? 0) + 1;
        break;
      case "Metadata":
        this.metadata.push({ name: record.name, entries: Object.fromEntries(record.metadata) });
        break;
      case "Attachment":
        this.attachments++;
        break;
      default:
        break;
    }
  }

  private message(channelId: number, sequence: number, logTime: bigint, publishTime: bigint, bytes: number): void {
    const c = this.channels.get(channelId);
    // The stream reader refuses a message without its channel; this guards direct callers.
    if (!c) return;
    this.messages++;
    if (c.count === 0) {
      c.first = logTime;
      c.pubFirst = publishTime;
      c.seqFirst = sequence;
    } else if (sequence > c.seqLast + 1) {
      c.seqGaps++;
      c.seqMissing += sequence - c.seqLast - 1;
      if (c.seqGapList.length < this.maxGaps) {
        c.seqGapList.push({ topic: c.topic, kind: "sequence", after_ns: c.last, before_ns: logTime, duration_ms: Number(logTime - c.last) / 1e6, missing: sequence - c.seqLast - 1 });
      }
    } else if (sequence <= c.seqLast) {
      c.seqReordered++;
    }
    if (c.count === c.times.length) {
      const grown = new Float64Array(c.times.length * 2);
      grown.set(c.times);
      c.times = grown;
      const pubGrown = new Float64Array(c.pubTimes.length * 2);
      pubGrown.set(c.pubTimes);
      c.pubTimes = pubGrown;
    }
    c.times[c.count] = Number(logTime - c.first);
    c.pubTimes[c.count] = Number(publishTime - c.pubFirst);
    if (publishTime !== logTime) c.pubDiffers = true;
    if (publishTime === 0n) c.pubZero = true;
    c.count++;
    c.bytes += bytes;
    c.last = logTime;
    c.seqLast = sequence;
    if (sequence > c.seqMax) c.seqMax = sequence;
  }

  report(): InspectReport {
    const channels: ChannelReport[] = [];
    const gaps: GapReport[] = [];
    let gapsTotal = 0;
    let start: bigint | null = null;
    let end: bigint | null = null;
    for (const c of [...this.channels.values()].sort((a, b) => a.id - b.id)) {
      const schema = this.schemas.get(c.schemaId);
      const times = c.times.subarray(0, c.count);
      let min = Infinity;
      let max = -Infinity;
      for (const t of times) {
        if (t < min) min = t;
        if (t > max) max = t;
      }
      const cStart = c.count > 0 ? c.first + BigInt(min) : null;
      const cEnd = c.count > 0 ? c.first + BigInt(max) : null;
      if (cStart !== null && (start === null || cStart < start)) start = cStart;
      if (cEnd !== null && (end === null || cEnd > end)) end = cEnd;
      let reversals = 0;
      for (let i = 1; i < c.count; i++) if (times[i] < times[i - 1]) reversals++;
      // Gaps on the stamps when the channel has them (in stamp order), else on arrival.
      const gapTime: GapTime = c.pubDiffers && !c.pubZero ? "publish_time" : "log_time";
      const base = gapTime === "publish_time" ? c.pubFirst : c.first;
      const series = gapTime === "publish_time" ? Float64Array.from(c.pubTimes.subarray(0, c.count)).sort() : times;
      const periods = new Float64Array(Math.max(0, c.count - 1));
      let n = 0;
      for (let i = 1; i < c.count; i++) {
        const d = series[i] - series[i - 1];
        if (d >= 0) periods[n++] = d;
      }
      const median = n > 0 ? medianOf(periods.subarray(0, n)) : null;
      let timeGaps = 0;
      let longest: number | null = null;
      if (median !== null && median > 0) {
        for (let i = 1; i < c.count; i++) {
          const d = series[i] - series[i - 1];
          if (d > this.gapFactor * median) {
            timeGaps++;
            if (longest === null || d > longest) longest = d;
            if (gaps.length < this.maxGaps * 2) {
              gaps.push({
                topic: c.topic, kind: gapTime, after_ns: base + BigInt(series[i - 1]), before_ns: base + BigInt(series[i]),
                duration_ms: d / 1e6, missing: Math.max(1, Math.round(d / median) - 1),
              });
            }
          }
        }
      }
      const sequenceSet = c.seqMax > 0;
      if (sequenceSet) gaps.push(...c.seqGapList);
      gapsTotal += timeGaps + (sequenceSet ? c.seqGaps : 0);
      const spanS = cStart !== null && cEnd !== null ? Number(cEnd - cStart) / 1e9 : 0;
      channels.push({
        id: c.id, topic: c.topic, schema: schema?.name ?? "", schema_encoding: schema?.encoding ?? "", encoding: c.encoding,
        count: c.count, bytes: c.bytes, start_ns: cStart, end_ns: cEnd,
        rate_hz: c.count >= 2 && spanS > 0 ? (c.count - 1) / spanS : null,
        gap_time: gapTime,
        median_period_ms: median === null ? null : median / 1e6,
        sequence: sequenceSet ? { first: c.seqFirst, last: c.seqLast, missing: c.seqMissing, gaps: c.seqGaps, reordered: c.seqReordered } : null,
        time_gaps: timeGaps, longest_gap_ms: longest === null ? null : longest / 1e6, log_time_reversals: reversals,
      });
    }
    gaps.sort((a, b) => (a.after_ns < b.after_ns ? -1 : a.after_ns > b.after_ns ? 1 : a.topic < b.topic ? -1 : 1));
    return {
      profile: this.profile, library: this.library, messages: this.messages, chunks: this.chunks, compression: { ...this.compression },
      start_ns: start, end_ns: end, duration_s: start !== null && end !== null ? Number(end - start) / 1e9 : 0,
      channels, metadata: this.metadata.slice(), attachments: this.attachments,
      gap_factor: this.gapFactor, gaps: gaps.slice(0, this.maxGaps), gaps_total: gapsTotal,
    };
  }
}

/** The median of `values` (sorted in place). */
export function medianOf(values: Float64Array): number {
  values.sort();
  const n = values.length;
  if (n === 0) return NaN;
  return n % 2 === 1 ? values[(n - 1) / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}
