import type { QuestionTypeId } from "../spatial/question_types.js";
import type { SpatialAnswerUnit } from "../spatial/spatial_answer.js";
import type { Split } from "./dataset_split.js";

/**
 * The VQA export's files, the contract with the training code (models/train/):
 * DIR/meta.json, DIR/images/<id>.png (rgb8 at the camera resolution), DIR/vqa.jsonl (one
 * question per line, LLaVA conversation format), DIR/progress.jsonl (one episode frame per
 * line), DIR/scenes.jsonl (one rendered scene per line: its camera and photometric variation).
 */
export const EXPORT_FORMAT = "spatial-reward-vqa";
export const EXPORT_VERSION = 1;
/** Bumped whenever the same seed would produce different records or images. */
export const VQA_GENERATOR_VERSION = 1;

/** The structured label: the engine's answer on the ground-truth scene. */
export interface VqaAnswerLabel {
  status: "ok";
  /** Metres (quantitative), 1/0 (yes/no), slot index 0/1 (which one), hour 1..12 (clock). */
  value: number;
  unit: Exclude<SpatialAnswerUnit, "">;
  /** Yes/no questions only, else null. */
  boolean: boolean | null;
  /** Which-one questions only: the chosen object's id, else null. */
  choice: string | null;
}

export interface VqaRecord {
  id: string;
  image: string;
  conversations: [{ from: "human"; value: string }, { from: "gpt"; value: string }];
  question_type: QuestionTypeId;
  answer: VqaAnswerLabel;
  /**
   * The same answer as a short VQA answer ("Yes", "red mug", "18 cm", "7 o'clock";
   * phraseShortAnswer): what models/train/ trains the model to say by default. The gpt turn
   * keeps the engine's sentence.
   */
  short_answer: string;
  scene_seed: number;
  split: Split;
}

export interface ProgressRecord {
  image: string;
  /** "episode_<seed>". */
  episode: string;
  frame: number;
  /** Ground-truth progress in [0, 1] (RewardTracker on the true scene, src/reward/REWARDS.md). */
  progress: number;
  /** The episode's instruction, e.g. "put the red mug next to the blue bowl". */
  task: string;
  split: Split;
}

/** The LLaVA image placeholder that opens every human turn. */
export const IMAGE_TOKEN = "<image>";

export function sceneImageId(seed: number): string {
  return `scene_${seed}`;
}

export function episodeId(seed: number): string {
  return `episode_${seed}`;
}

export function episodeFrameImageId(seed: number, frame: number): string {
  return `${episodeId(seed)}_${String(frame).padStart(5, "0")}`;
}

export function imagePath(id: string): string {
  return `images/${id}.png`;
}

/** An image's instance mask (export --masks): mono8 PNG, 0 = no object, k = the scene's k-th object. */
export function maskPath(id: string): string {
  return `masks/${id}.png`;
}
