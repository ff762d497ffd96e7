import type { EpisodeMetadata } from "../record/episode_metadata.js";
import type { Scene } from "../scene/scene_object.js";
import type { Split } from "./dataset_split.js";
import { imagePath, type VqaRecord } from "./export_format.js";
import { sceneVqaRecords, type SceneVqa } from "./vqa_records.js";

/**
 * Spatial VQA from recorded frames (`export vqa EPISODES…`): the records of the sim export
 * (same LLaVA conversation, question_type, answer, short_answer, scene_seed, split), labelled
 * by the spatial engine on the scene of a recorded frame (perceived from its RGB-D and masks
 * or detections, or the scene graph the recording holds), plus where the frame comes from and
 * the frame's reward.
 */

/** Where a frame's scene came from. */
export type RecordedSegmentation = "masks" | "detections" | "scene_objects";

/** The reward of a frame: the Reward message stamped with the frame (null when the recording has none). */
export interface FrameReward {
  reward: number;
  progress: number;
  success: boolean;
  residual: number | null;
  spec: string;
}

export interface RecordingVqaRecord extends VqaRecord {
  source: "recording";
  /** "rec_<8 hex digits>", the episode's identity (recordingEpisodeId). */
  episode: string;
  /** Index of the frame among the episode's camera frames. */
  frame: number;
  /** The frame's header stamp, ns since the epoch, as a decimal string (exact). */
  stamp_ns: string;
  segmentation: RecordedSegmentation;
  reward: FrameReward | null;
}

/** 32-bit FNV-1a of a string's UTF-16 code units. */
export function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/**
 * An episode's identity from what it recorded (start time, seed, task, operator), not from
 * its file name, so a renamed or copied file keeps it; `fallback` (the file's base name) when
 * the file has no episode metadata.
 */
export function recordingEpisodeId(meta: EpisodeMetadata | null, fallback: string): string {
  const key = meta ? `${meta.startWallTimeNs}|${meta.seed ?? ""}|${meta.task}|${meta.operator}` : `file|${fallback}`;
  return `rec_${fnv1a(key).toString(16).padStart(8, "0")}`;
}

/**
 * The split of a recorded episode, a function of its identity alone (as a scene's split is of
 * its seed in the sim export), so every export puts an episode in the same split and no
 * episode's frames are ever in two: one in ten is val, one in ten test, the rest train.
 */
export function recordingSplit(episodeId: string): Split {
  const b = fnv1a(`split|${episodeId}`) % 10;
  return b === 0 ? "val" : b === 1 ? "test" : "train";
}

/** The question stream's seed for a frame (reproducible from the episode and frame). */
export function frameQuestionSeed(episodeId: string, frame: number): number {
  return (fnv1a(episodeId) ^ Math.imul(frame + 1, 0x9e3779b1)) >>> 0;
}

export function recordedFrameImageId(episodeId: string, frame: number): string {
  return `${episodeId}_${String(frame).padStart(5, "0")}`;
}

export interface RecordedFrame {
  episodeId: string;
  frame: number;
  stamp: bigint;
  split: Split;
  segmentation: RecordedSegmentation;
  reward: FrameReward | null;
  perType: number;
}

export interface RecordedFrameVqa extends Omit<SceneVqa, "records"> {
  records: RecordingVqaRecord[];
}

/**
 * The questions about one recorded frame's scene and the engine's answers: sceneVqaRecords
 * (the generator's questions, answerQuestion's labels, the same checks) on `scene`, each
 * record extended with the frame's origin and reward.
 */
export function recordedFrameVqa(scene: Scene, f: RecordedFrame): RecordedFrameVqa {
  const id = recordedFrameImageId(f.episodeId, f.frame);
  const seed = frameQuestionSeed(f.episodeId, f.frame);
  const vqa = sceneVqaRecords(scene, { seed, split: f.split, image: imagePath(id), idPrefix: id, perType: f.perType });
  return {
    ...vqa,
    records: vqa.records.map((r) => ({
      ...r,
      source: "recording",
      episode: f.episodeId,
      frame: f.frame,
      stamp_ns: f.stamp.toString(),
      segmentation: f.segmentation,
      reward: f.reward,
    })),
  };
}
