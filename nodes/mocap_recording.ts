import { encodeMocapFrame, mocapFileDescriptorSet, MOCAP_FRAME_TYPE } from "../src/mocap/mocap_codec.js";
import { protobufChannel, type ChannelPlan } from "../src/record/channel_plan.js";
import type { IngestedFrame, MocapIngestNode } from "./mocap_ingest_node.js";
import type { RecorderNode, RecorderOptions } from "./recorder_node.js";

/**
 * The episode channel of the mocap frames as the mocap system sent them: msgs/proto/mocap.proto
 * MocapFrame bytes, schema `spatial_reward.mocap.MocapFrame` (a FileDescriptorSet), the topic
 * `mocap import` writes too. Beside it the recorder records the ingest's ROS topics
 * (mocap/<stream>/frame as MocapFrame.msg in REP-103 metres, poses, /tf, mocap/reward).
 */
export const MOCAP_CHANNEL = "mocap/frames";

export function mocapChannel(): ChannelPlan {
  return protobufChannel(MOCAP_CHANNEL, MOCAP_FRAME_TYPE, mocapFileDescriptorSet());
}

/**
 * What a recorder beside `ingest` in one process needs for the mocap channel: the channel,
 * each episode's metadata clock offset from the ingest's estimate of its first stream (null
 * until a frame arrived), and every stream's final estimate for the episode_end record.
 */
export function mocapRecorderOptions(ingest: () => MocapIngestNode | null): Pick<RecorderOptions, "extraChannels" | "clockOffset" | "clockEstimates"> {
  return {
    extraChannels: [mocapChannel()],
    clockEstimates: () => ingest()?.clockEstimates() ?? {},
    clockOffset: () => {
      const e = Object.values(ingest()?.clockEstimates() ?? {})[0];
      return e && e.samples > 0 ? { offsetNs: e.offset_ns, driftPpm: e.drift_ppm } : null;
    },
  };
}

/**
 * The ingest's onFrame that writes each released frame to the recorder's mocap channel: the
 * payload as it arrived (re-encoded from the validated frame only if there is none), publish
 * time = the frame's mid-exposure on the host clock. Returns whether it was written (false
 * between episodes, counted by the recorder as idle).
 */
export function recordMocapFrame(recorder: RecorderNode, f: IngestedFrame): boolean {
  const payload = f.payload.byteLength > 0 ? f.payload : encodeMocapFrame(f.frame.frame);
  return recorder.recordRaw(MOCAP_CHANNEL, payload, f.stampNs);
}
