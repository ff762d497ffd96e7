import { jsonText } from "../../src/record/json_text.js";
import { inspectFile, recoverFile, type FileInspection } from "../recorder/recording_files.js";
import type { RecordInspectOptions, RecordRecoverOptions } from "./record_command.js";
import { packageVersion } from "./package_version.js";

/** Nanoseconds since the epoch as an ISO time (ms precision) with the exact ns beside it. */
function when(ns: bigint | null): string {
  if (ns === null) return "-";
  return `${new Date(Number(ns / 1_000_000n)).toISOString()} (${ns} ns)`;
}

function fmt(n: number | null, digits = 2): string {
  return n === null ? "-" : n.toFixed(digits);
}

/** The human form of an inspection: one line per channel, then metadata and gaps. */
export function describeInspection(r: FileInspection): string {
  const lines: string[] = [];
  const base = r.complete ? (r.indexed ? "complete, indexed" : "complete, summary not usable") : r.end === "bad_record" ? "damaged" : "unfinished (no footer)";
  const state = r.damaged_records > 0 ? `${base}, ${r.damaged_records} damaged record(s) skipped (${r.damaged_bytes} bytes)` : base;
  lines.push(`${r.file}: ${r.bytes} bytes, ${state}; profile ${JSON.stringify(r.profile)}, library ${JSON.stringify(r.library)}`);
  lines.push(`messages ${r.messages} in ${r.chunks} chunks (${Object.entries(r.compression).map(([c, n]) => `${c || "none"} ${n}`).join(", ") || "no chunks"})`);
  lines.push(`start ${when(r.start_ns)}`);
  lines.push(`end   ${when(r.end_ns)}`);
  lines.push(`duration ${r.duration_s.toFixed(3)} s`);
  lines.push("channels:");
  for (const c of r.channels) {
    const seq = c.sequence ? `seq ${c.sequence.first}..${c.sequence.last}, ${c.sequence.missing} missing` : "seq unset";
    lines.push(
      `  [${c.id}] ${c.topic}  ${c.schema} (${c.schema_encoding}/${c.encoding})  count ${c.count}  ${fmt(c.rate_hz)} Hz  ` +
      `${(c.bytes / 1e6).toFixed(2)} MB  ${seq}  time gaps ${c.time_gaps} on ${c.gap_time === "publish_time" ? "stamps" : "arrival"}` +
      `${c.longest_gap_ms !== null ? ` (longest ${fmt(c.longest_gap_ms)} ms)` : ""}`,
    );
  }
  if (r.metadata.length > 0) {
    lines.push("metadata:");
    for (const m of r.metadata) {
      lines.push(`  ${m.name}:`);
      for (const [k, v] of Object.entries(m.entries)) lines.push(`    ${k}: ${v.length > 200 ? `${v.slice(0, 200)}… (${v.length} chars)` : v}`);
    }
  }
  lines.push(`gaps: ${r.gaps_total} (factor ${r.gap_factor} × median period)`);
  for (const g of r.gaps) {
    lines.push(`  ${g.topic}  ${g.kind}  ${fmt(g.duration_ms)} ms after ${g.after_ns} ns  ~${g.missing} missing`);
  }
  if (r.gaps.length < r.gaps_total) lines.push(`  … ${r.gaps_total - r.gaps.length} more (--max-gaps)`);
  for (const p of r.problems) lines.push(`problem: ${p}`);
  return lines.join("\n");
}

/** `spatial-reward record inspect FILE`. */
export async function runInspect(file: string, o: RecordInspectOptions): Promise<number> {
  const report = await inspectFile(file, { gapFactor: o.gapFactor, maxGapsListed: o.maxGaps });
  process.stdout.write(`${o.json ? jsonText(report) : describeInspection(report)}\n`);
  return 0;
}

/** `spatial-reward record recover FILE --out OUT`. */
export async function runRecover(file: string, o: RecordRecoverOptions & { out: string }): Promise<number> {
  const r = await recoverFile(file, o.out, { compression: o.compression, chunkSize: o.chunkSize, tool: `spatial-reward ${packageVersion()} record recover` });
  if (o.json) {
    process.stdout.write(`${jsonText(r)}\n`);
    return 0;
  }
  const why = r.scan.problem ? `; the input ${r.scan.end === "footer" ? "was complete" : "stopped"} at byte ${r.scan.validBytes} of ${r.scan.size}: ${r.scan.problem}` : "; the input was complete";
  process.stdout.write(
    `recovered ${r.messages} messages on ${r.channels} channels (${r.chunks_read} chunks read, ${r.metadata} metadata records, ` +
    `${r.attachments} attachments) into ${r.output} (${r.bytes_written} bytes)${why}\n`,
  );
  for (const [topic, n] of Object.entries(r.topics)) process.stdout.write(`  ${topic}: ${n}\n`);
  if (r.scan.damagedRecords > 0) {
    process.stdout.write(`skipped ${r.scan.damagedRecords} damaged record(s), ${r.scan.damagedBytes} bytes, and read on after them:\n`);
    for (const d of r.scan.damaged) {
      process.stdout.write(`  byte ${d.offset}: ${d.record}, ${d.bytes} bytes${d.messages !== null ? `, ${d.messages} message(s) lost (its index)` : ""}: ${d.reason}\n`);
    }
    if (r.scan.damaged.length < r.scan.damagedRecords) process.stdout.write(`  … ${r.scan.damagedRecords - r.scan.damaged.length} more\n`);
  }
  if (r.scan.placeholderChannels.length > 0) {
    process.stdout.write(`channels ${r.scan.placeholderChannels.join(", ")} lost their Channel record in a damaged chunk: their later messages are on /recovered/channel_<id>\n`);
  }
  return 0;
}
