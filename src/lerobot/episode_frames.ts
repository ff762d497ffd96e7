import { InvalidInputError } from "../errors.js";
import { STATE_DIM } from "./hand_state.js";

/**
 * Samples of the state body in time order: stamps[i] and values[i*7 .. i*7+6]. A stamp is the
 * sample's mid-exposure on the host clock (the mocap channel's MCAP publish time: the ingest's
 * clock-synchronised device stamp), the clock camera header stamps are on.
 */
export interface PoseTrack {
  stamps: BigInt64Array;
  values: Float64Array;
}

/** Rewards of an episode by the stamp of the frame each was computed from (Reward.header.stamp). */
export interface RewardTrack {
  stamps: BigInt64Array;
  reward: Float64Array;
  success: Uint8Array;
}

/** The camera frames of an episode in log-time order: when the recorder received each, and its header stamp. */
export interface CameraTrack {
  logTimes: BigInt64Array;
  stamps: BigInt64Array;
}

/** One episode's rows as LeRobot stores them, plus what the sampling cost. */
export interface EpisodeFrames {
  length: number;
  /** The camera frame (index into CameraTrack) each row shows. */
  cameraIndex: Int32Array;
  /** frame_index / fps: LeRobot checks rows are 1/fps apart (check_timestamps_sync). */
  timestamp: Float32Array;
  state: Float32Array;
  action: Float32Array;
  reward: Float32Array;
  success: Uint8Array;
  done: Uint8Array;
  report: FramesReport;
}

export interface FramesReport {
  camera_frames: number;
  /** Rows showing the same camera frame as the row before (the camera skipped a slot of the fps grid). */
  repeated_frames: number;
  /** Camera frames no row shows (the camera ran faster than fps, or --fps is lower). */
  unused_frames: number;
  /** Distance between a row's camera exposure (header stamp) and the exposure of the mocap sample it takes (ms): largest and median. */
  mocap_gap_ms_max: number;
  mocap_gap_ms_p50: number;
  /** Rows before the first reward (their reward is 0 and success false). */
  rows_without_reward: number;
}

/** Index of the element of sorted `times` nearest to `t` (the earlier one on a tie). */
export function nearestIndex(times: BigInt64Array, t: bigint): number {
  let lo = 0, hi = times.length - 1;
  if (hi < 0) return -1;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (times[mid] < t) lo = mid + 1;
    else hi = mid;
  }
  if (lo > 0 && t - times[lo - 1] <= times[lo] - t) return lo - 1;
  return lo;
}

/** Index of the last element of sorted `times` that is ≤ t, or −1. */
export function lastAtOrBefore(times: BigInt64Array, t: bigint): number {
  let lo = 0, hi = times.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (times[mid] <= t) lo = mid + 1;
    else hi = mid;
  }
  return lo - 1;
}

/** The camera's rate: the inverse of the median period between consecutive log times (Hz), null below two frames. */
export function medianRateHz(logTimes: BigInt64Array): number | null {
  if (logTimes.length < 2) return null;
  const periods = new Float64Array(logTimes.length - 1);
  for (let i = 1; i < logTimes.length; i++) periods[i - 1] = Number(logTimes[i] - logTimes[i - 1]);
  periods.sort();
  const m = periods[periods.length >> 1];
  return m > 0 ? 1e9 / m : null;
}

/**
 * The rows of one episode at `fps`: row k shows the camera frame whose log time is nearest to
 * t0 + k/fps (t0 = the first camera frame), rows spanning the camera frames; state = the pose
 * of the mocap sample whose exposure is nearest to that camera frame's (header stamp against
 * the mocap publish time, both on the host clock: receive times would shift the state by the
 * difference of the two pipelines' latencies, tens of ms for a camera); action = the next row's state (teleop has no separate
 * command: the commanded pose is the pose observed next), the last row's action its own
 * state; reward and success = the latest Reward whose stamp is at or before the camera frame's
 * stamp (a Reward is stamped with the frame it was computed from); done on the last row.
 */
export function episodeFrames(camera: CameraTrack, poses: PoseTrack, rewards: RewardTrack, fps: number): EpisodeFrames {
  const n = camera.logTimes.length;
  if (n === 0) throw new InvalidInputError("bad_argument", "the episode has no camera frame");
  if (poses.stamps.length === 0) throw new InvalidInputError("bad_argument", "the episode has no usable mocap sample of the state body");
  if (!(Number.isFinite(fps) && fps > 0)) throw new InvalidInputError("bad_argument", `fps must be positive, got ${fps}`);
  const t0 = camera.logTimes[0];
  const span = Number(camera.logTimes[n - 1] - t0);
  const length = Math.floor((span * fps) / 1e9 + 0.5) + 1;
  const cameraIndex = new Int32Array(length);
  const used = new Uint8Array(n);
  let repeated = 0;
  for (let k = 0; k < length; k++) {
    const i = nearestIndex(camera.logTimes, t0 + BigInt(Math.round((k * 1e9) / fps)));
    cameraIndex[k] = i;
    if (k > 0 && cameraIndex[k - 1] === i) repeated++;
    used[i] = 1;
  }
  let unused = 0;
  for (let i = 0; i < n; i++) if (!used[i]) unused++;

  const state = new Float32Array(length * STATE_DIM);
  const gaps = new Float64Array(length);
  for (let k = 0; k < length; k++) {
    const t = camera.stamps[cameraIndex[k]];
    const j = nearestIndex(poses.stamps, t);
    const d = poses.stamps[j] - t;
    gaps[k] = Math.abs(Number(d)) / 1e6;
    for (let c = 0; c < STATE_DIM; c++) state[k * STATE_DIM + c] = poses.values[j * STATE_DIM + c];
  }
  const action = new Float32Array(length * STATE_DIM);
  action.set(state.subarray(STATE_DIM), 0);
  action.set(state.subarray((length - 1) * STATE_DIM), (length - 1) * STATE_DIM);

  const order = Array.from(rewards.stamps.keys()).sort((a, b) => (rewards.stamps[a] < rewards.stamps[b] ? -1 : rewards.stamps[a] > rewards.stamps[b] ? 1 : a - b));
  const sortedStamps = BigInt64Array.from(order, (i) => rewards.stamps[i]);
  const reward = new Float32Array(length);
  const success = new Uint8Array(length);
  let withoutReward = 0;
  for (let k = 0; k < length; k++) {
    const r = lastAtOrBefore(sortedStamps, camera.stamps[cameraIndex[k]]);
    if (r < 0) {
      withoutReward++;
      continue;
    }
    reward[k] = rewards.reward[order[r]];
    success[k] = rewards.success[order[r]];
  }
  const done = new Uint8Array(length);
  done[length - 1] = 1;
  const timestamp = new Float32Array(length);
  for (let k = 0; k < length; k++) timestamp[k] = k / fps;
  const sortedGaps = Float64Array.from(gaps).sort();
  return {
    length, cameraIndex, timestamp, state, action, reward, success, done,
    report: {
      camera_frames: n, repeated_frames: repeated, unused_frames: unused,
      mocap_gap_ms_max: sortedGaps[length - 1], mocap_gap_ms_p50: sortedGaps[length >> 1],
      rows_without_reward: withoutReward,
    },
  };
}
