import { existsSync } from "node:fs";
import { basename, resolve } from "node:path";
import type { Command } from "commander";
import { choiceArg, readableFileArg, UsageError, writableFileArg } from "./cli_args.js";

/** Length units a BVH file may be in (BVH does not say; centimetres are usual). */
export const BVH_UNIT_NAMES = ["cm", "m", "mm"] as const;
export type BvhUnitName = (typeof BVH_UNIT_NAMES)[number];
export const BVH_UP_NAMES = ["y", "z"] as const;
export type BvhUpName = (typeof BVH_UP_NAMES)[number];
/** Longest --stream accepted: the protobuf codec's string limit (DEFAULT_MOCAP_LIMITS.maxStringBytes), repeated so --help loads no protobufjs. */
const MAX_STREAM_BYTES = 1024;

export interface MocapImportOptions {
  out?: string;
  unit: BvhUnitName;
  up: BvhUpName;
  stream?: string;
  json: boolean;
}

/** FILE.bvh → FILE.mcap (the default --out of `mocap import`). */
export function defaultImportPath(file: string): string {
  return /\.bvh$/i.test(file) ? `${file.slice(0, -".bvh".length)}.mcap` : `${file}.mcap`;
}

/** The default stream id: the file's name without its extension. */
export function defaultStreamId(file: string): string {
  const base = basename(file).replace(/\.bvh$/i, "");
  return base === "" ? "bvh" : base;
}

function streamArg(text: string): string {
  if (text.length === 0) throw new UsageError("--stream must be a non-empty name, got \"\"");
  if (Buffer.byteLength(text, "utf8") > MAX_STREAM_BYTES) throw new UsageError(`--stream must be at most ${MAX_STREAM_BYTES} bytes`);
  if (/[\u0000-\u001f\u007f]/.test(text)) throw new UsageError("--stream must not contain control characters");
  return text;
}

/**
 * `spatial-reward mocap import FILE.bvh`: registered into the `mocap` command group by
 * program.ts; the import's code loads only when it runs.
 */
export function addMocapImportCommand(mocap: Command, version: string, done: (code: number) => void): void {
  mocap.command("import")
    .summary("convert a BVH motion file into MocapFrame messages (an MCAP recording)")
    .description(
      "Reads a Biovision Hierarchy (.bvh) file and writes its frames as spatial_reward.mocap.MocapFrame protobuf messages " +
      "on topic mocap/frames of an MCAP file (protobuf channel, schema = msgs/proto/mocap.proto's descriptor set; " +
      "log and publish time = the frame's device time, frame i at i × Frame Time). Each frame carries one skeleton: every " +
      "joint's world position and orientation by forward kinematics (End Sites as <parent>_end), in the file's axes and " +
      "unit, declared as y-up (or --up z), right-handed and --unit, so the ingest converts them to REP-103 metres. " +
      "Written as OUT.partial and renamed when complete. Exit 1 when the file is not valid BVH (the message names the line).",
    )
    .argument("<FILE>", "the .bvh file", readableFileArg("the BVH file"))
    .option("--out <FILE>", "the MCAP file to write (must not exist; default FILE with .mcap for .bvh)", writableFileArg("--out"))
    .option("--unit <U>", `the file's length unit: ${BVH_UNIT_NAMES.join(" | ")}`, choiceArg("--unit", BVH_UNIT_NAMES), "cm")
    .option("--up <AXIS>", `the file's up axis: ${BVH_UP_NAMES.join(" | ")}`, choiceArg("--up", BVH_UP_NAMES), "y")
    .option("--stream <NAME>", "stream_id of the frames (default: the file's name without .bvh)", streamArg)
    .option("--json", "print one JSON summary as the last stdout line", false)
    .version(version, "-V, --version", "print the version")
    .helpOption("-h, --help", "print this help")
    .action(async (file: string, o: MocapImportOptions) => {
      const out = o.out ?? defaultImportPath(file);
      if (resolve(out) === resolve(file)) throw new UsageError("--out must name another file than the BVH file itself");
      if (existsSync(out)) throw new UsageError(`--out ${JSON.stringify(out)} exists: import never overwrites a file; remove it or give another --out`);
      done(await (await import("./mocap_import.js")).run(file, { ...o, out }));
    });
}
