import { InvalidInputError } from "../errors.js";
import { STATE_DIM, STATE_NAMES } from "./hand_state.js";

/**
 * The LeRobot v2.1 dataset layout (huggingface/lerobot, lerobot/common/datasets/utils.py and
 * lerobot_dataset.py at CODEBASE_VERSION "v2.1"):
 *   meta/info.json            codebase_version, robot_type, totals, chunks_size, fps, splits,
 *                             data_path / video_path templates, features (dtype, shape, names)
 *   meta/episodes.jsonl       {"episode_index", "tasks": [task], "length"}
 *   meta/tasks.jsonl          {"task_index", "task"}
 *   meta/episodes_stats.jsonl {"episode_index", "stats": {feature: {min, max, mean, std, count}}}
 *   data/chunk-000/episode_000000.parquet   one row per frame
 *   videos/chunk-000/<video_key>/episode_000000.mp4   when the camera is a video feature
 * Episode e lives in chunk e / chunks_size.
 */
export const CODEBASE_VERSION = "v2.1";
export const CHUNKS_SIZE = 1000;
export const DATA_PATH = "data/chunk-{episode_chunk:03d}/episode_{episode_index:06d}.parquet";
export const VIDEO_PATH = "videos/chunk-{episode_chunk:03d}/{video_key}/episode_{episode_index:06d}.mp4";
export const DEFAULT_ROBOT_TYPE = "mocap_hand";
export const DEFAULT_CAMERA = "camera";

export type FeatureDtype = "float32" | "int64" | "bool" | "image" | "video";

export interface VideoInfo {
  "video.fps": number;
  "video.height": number;
  "video.width": number;
  "video.channels": number;
  "video.codec": string;
  "video.pix_fmt": string;
  "video.is_depth_map": boolean;
  has_audio: boolean;
}

export interface Feature {
  dtype: FeatureDtype;
  shape: number[];
  names: string[] | null;
  info?: VideoInfo;
}

const pad = (n: number, width: number): string => String(n).padStart(width, "0");

export function episodeChunk(episodeIndex: number): number {
  return Math.floor(episodeIndex / CHUNKS_SIZE);
}

export function episodeDataPath(episodeIndex: number): string {
  return `data/chunk-${pad(episodeChunk(episodeIndex), 3)}/episode_${pad(episodeIndex, 6)}.parquet`;
}

export function episodeVideoPath(videoKey: string, episodeIndex: number): string {
  return `videos/chunk-${pad(episodeChunk(episodeIndex), 3)}/${videoKey}/episode_${pad(episodeIndex, 6)}.mp4`;
}

/** The image struct's path of an embedded frame, as datasets writes it (the PNG's base name). */
export function framePngName(frameIndex: number): string {
  return `frame_${pad(frameIndex, 6)}.png`;
}

/** LeRobot feature names must not contain "/" (it separates keys in flattened stats); a camera name is one word. */
export function cameraKey(camera: string): string {
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(camera)) throw new InvalidInputError("bad_argument", `camera name must be 1–64 of A-Z a-z 0-9 _ -, got ${JSON.stringify(camera.slice(0, 80))}`);
  return `observation.images.${camera}`;
}

/**
 * Every feature of the export, in the order of the parquet columns: the state and action
 * (the state body's pose, hand_state.ts), the camera (image, or video described by `video`),
 * LeRobot's default columns, and the reward columns (next.reward float32, next.done and
 * next.success bool, as LeRobot's pusht dataset has them).
 */
export function lerobotFeatures(camera: string, width: number, height: number, video: VideoInfo | null): Record<string, Feature> {
  const scalar = (dtype: FeatureDtype): Feature => ({ dtype, shape: [1], names: null });
  const image: Feature = { dtype: video ? "video" : "image", shape: [height, width, 3], names: ["height", "width", "channels"] };
  if (video) image.info = video;
  return {
    "observation.state": { dtype: "float32", shape: [STATE_DIM], names: [...STATE_NAMES] },
    action: { dtype: "float32", shape: [STATE_DIM], names: [...STATE_NAMES] },
    [cameraKey(camera)]: image,
    timestamp: scalar("float32"),
    frame_index: scalar("int64"),
    episode_index: scalar("int64"),
    index: scalar("int64"),
    task_index: scalar("int64"),
    "next.reward": scalar("float32"),
    "next.done": scalar("bool"),
    "next.success": scalar("bool"),
  };
}

/**
 * The `huggingface` key-value entry of each parquet file: the `datasets` features of its
 * columns (LeRobot's get_hf_features_from_features: Image for an image feature, Value for a
 * shape-[1] feature, Sequence(length) otherwise; video features are not in the parquet), so
 * `datasets.load_dataset("parquet")` reads image columns as images and vectors as fixed length.
 */
export function huggingfaceFeatures(features: Record<string, Feature>): string {
  const hf: Record<string, unknown> = {};
  for (const [key, ft] of Object.entries(features)) {
    if (ft.dtype === "video") continue;
    if (ft.dtype === "image") hf[key] = { _type: "Image" };
    else if (ft.shape.length === 1 && ft.shape[0] === 1) hf[key] = { dtype: ft.dtype, _type: "Value" };
    else hf[key] = { feature: { dtype: ft.dtype, _type: "Value" }, length: ft.shape[0], _type: "Sequence" };
  }
  return JSON.stringify({ info: { features: hf } });
}

export interface InfoTotals {
  episodes: number;
  frames: number;
  tasks: number;
  videos: number;
}

/** meta/info.json (create_empty_dataset_info's keys, filled in as save_episode leaves them). */
export function infoJson(robotType: string, fps: number, features: Record<string, Feature>, totals: InfoTotals): Record<string, unknown> {
  const hasVideo = Object.values(features).some((f) => f.dtype === "video");
  return {
    codebase_version: CODEBASE_VERSION,
    robot_type: robotType,
    total_episodes: totals.episodes,
    total_frames: totals.frames,
    total_tasks: totals.tasks,
    total_videos: totals.videos,
    total_chunks: totals.episodes === 0 ? 0 : episodeChunk(totals.episodes - 1) + 1,
    chunks_size: CHUNKS_SIZE,
    fps,
    splits: { train: `0:${totals.episodes}` },
    data_path: DATA_PATH,
    video_path: hasVideo ? VIDEO_PATH : null,
    features,
  };
}
