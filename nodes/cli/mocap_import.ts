import { readFileSync, renameSync, statSync, unlinkSync } from "node:fs";
import { basename } from "node:path";
import { InvalidInputError, SpatialRewardError } from "../../src/errors.js";
import { BvhFrameBuilder, DEFAULT_BVH_LIMITS, parseBvh } from "../../src/mocap/bvh.js";
import { DEFAULT_MOCAP_LIMITS, decodeMocapFrame, encodeMocapFrame, MOCAP_FRAME_TYPE, mocapFileDescriptorSet, MocapPayloadError } from "../../src/mocap/mocap_codec.js";
import { LengthUnit, UpAxis } from "../../src/msgs/mocap_proto.js";
import { protobufChannel } from "../../src/record/channel_plan.js";
import { jsonText } from "../../src/record/json_text.js";
import { EpisodeWriter } from "../recorder/episode_writer.js";
import { defaultStreamId, type BvhUnitName, type MocapImportOptions } from "./mocap_import_command.js";
import { packageVersion } from "./package_version.js";

/** The topic imported frames are recorded on (the recorder's mocap channel). */
export const MOCAP_IMPORT_TOPIC = "mocap/frames";

const UNITS: Readonly<Record<BvhUnitName, LengthUnit>> = { cm: LengthUnit.CENTIMETERS, m: LengthUnit.METERS, mm: LengthUnit.MILLIMETERS };

export interface MocapImportSummary {
  frames: number;
  joints: number;
  /** Frames × Frame Time: the clip's length. */
  duration_s: number;
  out: string;
  file: string;
  frame_time_s: number;
  unit: BvhUnitName;
  up: "y" | "z";
  stream: string;
  topic: string;
  bytes: number;
}

/** `spatial-reward mocap import FILE.bvh`: parse, check the frames pass the ingest's codec limits, write the MCAP. */
export async function run(file: string, o: MocapImportOptions & { out: string }): Promise<number> {
  const size = statSync(file).size;
  // UTF-8 never takes fewer bytes than characters: a file over the limit in bytes may still fit, one under it always does.
  if (size > DEFAULT_BVH_LIMITS.maxInputChars * 3) throw new InvalidInputError("input_too_long", `${file} is ${size} bytes; BVH files of at most ${DEFAULT_BVH_LIMITS.maxInputChars} characters are read`);
  const doc = parseBvh(readFileSync(file, "utf8"));
  if (doc.frameCount === 0) throw new InvalidInputError("bad_message", `${file} declares no motion frames (Frames: 0): nothing to import`);
  const stream = o.stream ?? defaultStreamId(file);
  const builder = new BvhFrameBuilder(doc, {
    unit: UNITS[o.unit], upAxis: o.up === "z" ? UpAxis.Z_UP : UpAxis.Y_UP, streamId: stream, skeletonName: defaultStreamId(file),
  });
  if (builder.jointCount > DEFAULT_MOCAP_LIMITS.maxJoints) {
    throw new InvalidInputError("input_too_long", `${file} has ${builder.jointCount} joints; a MocapFrame carries at most ${DEFAULT_MOCAP_LIMITS.maxJoints}`);
  }
  // A frame the ingest's codec would refuse (a name over maxStringBytes, a payload over maxPayloadBytes) is refused here.
  const probe = encodeMocapFrame(builder.frame(0));
  try {
    decodeMocapFrame(probe);
  } catch (e) {
    if (e instanceof MocapPayloadError) throw new InvalidInputError(e.code, `${file}: its frames would not pass the mocap codec: ${e.message}`);
    throw e;
  }

  const partial = `${o.out}.partial`;
  const writer = await EpisodeWriter.create(partial, [protobufChannel(MOCAP_IMPORT_TOPIC, MOCAP_FRAME_TYPE, mocapFileDescriptorSet(), { stream_id: stream })], {
    task: "", operator: "", seed: null, calibration: "", clockOffsetNs: null, clockDriftPpm: null,
    startWallTimeNs: BigInt(Date.now()) * 1_000_000n, softwareVersion: `spatial-reward ${packageVersion()}`,
    extra: {
      source: "bvh", bvh_file: basename(file), bvh_unit: o.unit, bvh_up: o.up, bvh_frame_time_s: String(doc.frameTimeS),
      bvh_frames: String(doc.frameCount), bvh_joints: String(builder.jointCount),
    },
  });
  let failure: unknown = null;
  try {
    for (let i = 0; i < doc.frameCount; i++) {
      const frame = builder.frame(i);
      const bytes = encodeMocapFrame(frame);
      if (bytes.byteLength > DEFAULT_MOCAP_LIMITS.maxPayloadBytes) {
        throw new InvalidInputError("payload_too_large", `${file}: frame ${i} encodes to ${bytes.byteLength} bytes, over the mocap codec's ${DEFAULT_MOCAP_LIMITS.maxPayloadBytes}`);
      }
      if (!writer.write(0, frame.device_timestamp_ns, bytes)) break;
      // Keep the writer's queue short: a long file must not pile up in memory while chunks compress.
      if (writer.queued > 64) await writer.idle();
    }
  } catch (e) {
    failure = e;
  }
  const result = await writer.close();
  if (failure !== null || !result.ok || result.messages !== doc.frameCount) {
    try {
      unlinkSync(partial);
    } catch {
      // The error that stopped the import is the one to report.
    }
    if (failure !== null) throw failure;
    throw result.error ?? new SpatialRewardError("internal", `wrote ${result.messages} of ${doc.frameCount} frames (dropped ${result.dropped})`);
  }
  renameSync(partial, o.out);
  const summary: MocapImportSummary = {
    frames: doc.frameCount, joints: builder.jointCount, duration_s: doc.frameCount * doc.frameTimeS, out: o.out, file,
    frame_time_s: doc.frameTimeS, unit: o.unit, up: o.up, stream, topic: MOCAP_IMPORT_TOPIC, bytes: result.bytes,
  };
  const endSites = doc.joints.filter((j) => j.endSite).length;
  process.stdout.write(
    `imported ${file}: ${summary.frames} frames at ${(1 / doc.frameTimeS).toFixed(3)} Hz (${summary.duration_s.toFixed(3)} s), ` +
    `${summary.joints} joints (${endSites} End Sites), ${o.up}-up, ${o.unit} → ${o.out} (${result.bytes} bytes, topic ${MOCAP_IMPORT_TOPIC}, stream ${JSON.stringify(stream)})\n`,
  );
  if (o.json) process.stdout.write(`${jsonText(summary)}\n`);
  return 0;
}
