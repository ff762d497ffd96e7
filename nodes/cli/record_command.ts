import { existsSync } from "node:fs";
import { resolve } from "node:path";
import type { Command } from "commander";
import type { Compression } from "../recorder/chunk_compression.js";
import { choiceArg, intArg, numberArg, readableFileArg, UsageError, writableFileArg } from "./cli_args.js";

/**
 * The recorder's chunk compressions and size limits, repeated here so that `--help` loads no
 * wasm (importing the recorder instantiates its codecs). The type below fails to compile when
 * the names disagree; test/record/record_core.test.ts checks the limits.
 */
export const COMPRESSION_NAMES = ["zstd", "lz4", "none"] as const;
export const CHUNK_LIMITS = { min: 1024, max: 256 << 20 } as const;
type Same<A, B> = [Exclude<A, B> | Exclude<B, A>] extends [never] ? true : false;
const compressionsAgree: Same<Compression, (typeof COMPRESSION_NAMES)[number]> = true;
void compressionsAgree;

export interface RecordInspectOptions {
  json: boolean;
  gapFactor: number;
  maxGaps: number;
}

export interface RecordRecoverOptions {
  out?: string;
  compression: (typeof COMPRESSION_NAMES)[number];
  chunkSize: number;
  json: boolean;
}

/** FILE.mcap → FILE.recovered.mcap (the default --out of `record recover`). */
export function defaultRecoveredPath(file: string): string {
  return file.endsWith(".mcap") ? `${file.slice(0, -".mcap".length)}.recovered.mcap` : `${file}.recovered.mcap`;
}

/** `spatial-reward record inspect|recover`: registered by program.ts; the commands' code loads only when they run. */
export function addRecordCommand(program: Command, version: string, done: (code: number) => void): void {
  const record = program.command("record")
    .summary("episode recordings (MCAP): inspect, recover")
    .description(
      "Episode recordings are MCAP files (ROS 2 topics as cdr with ros2msg schemas, mocap as protobuf, episode " +
      "metadata in a Metadata record named \"episode\"). `record inspect` describes one; `record recover` rewrites " +
      "a file left by a killed recorder as a complete, indexed one.",
    )
    .version(version, "-V, --version", "print the version")
    .helpOption("-h, --help", "print this help");
  const sub = (name: string, summary: string): Command =>
    record.command(name).summary(summary).version(version, "-V, --version", "print the version").helpOption("-h, --help", "print this help");

  sub("inspect", "channels, counts, rates, time range, metadata and gaps of a recording")
    .description(
      "Reads every record of FILE front to back (as far as it is whole: a file left by a killed recorder is described " +
      "too) and prints its channels (topic, schema, encoding, count, rate), time range, metadata, and gaps: skipped " +
      "sequence numbers, and periods longer than --gap-factor times the channel's median period, between publish times " +
      "(the message stamps the recorder writes there) where the channel carries them, else between log times " +
      "(arrival, which is bursty); each channel's gap_time says which. A complete " +
      "file's summary is also read and checked. Exit 1 when FILE is not an MCAP recording.",
    )
    .argument("<FILE>", "the recording", readableFileArg("the recording"))
    .option("--json", "print one JSON object (times in ns as exact integers)", false)
    .option("--gap-factor <K>", "a time gap is a period over K × the channel's median period (> 1, ≤ 1000)", numberArg("--gap-factor", { min: 1, minExclusive: true, max: 1000 }), 1.5)
    .option("--max-gaps <N>", "list at most N gaps (0–100000; the counts are always complete)", intArg("--max-gaps", { min: 0, max: 100_000 }), 100)
    .action(async (file: string, o: RecordInspectOptions) => done(await (await import("./record.js")).runInspect(file, o)));

  sub("recover", "rewrite a truncated or unindexed recording as a complete, indexed file")
    .description(
      "Reads FILE as far as it is whole (stopping cleanly at the first record cut short or damaged) and writes every " +
      "message of every complete chunk, and every complete record outside chunks, to a new indexed MCAP file " +
      "(--out, default FILE.recovered.mcap; written as OUT.partial and renamed when done). Prints the counts. " +
      "Exit 1 when FILE is not an MCAP recording or OUT cannot be written.",
    )
    .argument("<FILE>", "the damaged recording", readableFileArg("the recording"))
    .option("--out <FILE>", "the new file (must not exist; default FILE.recovered.mcap)", writableFileArg("--out"))
    .option("--compression <C>", `chunk compression of the new file: ${COMPRESSION_NAMES.join(" | ")}`, choiceArg("--compression", COMPRESSION_NAMES), "zstd")
    .option("--chunk-size <BYTES>", `uncompressed bytes per chunk (${CHUNK_LIMITS.min}–${CHUNK_LIMITS.max})`, intArg("--chunk-size", CHUNK_LIMITS), 4 << 20)
    .option("--json", "print one JSON object as the last stdout line", false)
    .action(async (file: string, o: RecordRecoverOptions) => {
      const out = o.out ?? defaultRecoveredPath(file);
      if (resolve(out) === resolve(file)) throw new UsageError("--out must name another file than the recording itself");
      if (existsSync(out)) throw new UsageError(`--out ${JSON.stringify(out)} exists: recover never overwrites a file; remove it or give another --out`);
      done(await (await import("./record.js")).runRecover(file, { ...o, out }));
    });
}
