import { readdirSync, statSync } from "node:fs";
import type { Command } from "commander";
import { isSpatialRewardError } from "../../src/errors.js";
import { CHUNKS_SIZE, DEFAULT_CAMERA, DEFAULT_ROBOT_TYPE } from "../../src/lerobot/lerobot_format.js";
import { DEFAULT_STATE_BODY, STATE_NAMES } from "../../src/lerobot/hand_state.js";
import { maxFirstSeed, SPLIT_RULE } from "../../src/vqa/dataset_split.js";
import { MAX_IMAGE_SIDE } from "../../sim/camera_placement.js";
import { DEFAULT_VARIATION_RANGES } from "../../sim/scene_variation.js";
import { MIN_EPISODE_FRAMES } from "../../sim/teleop.js";
import { episodePaths } from "../recorder/episode_paths.js";
import { choiceArg, creatableDirArg, intArg, listArg, numberArg, UsageError } from "./cli_args.js";

export interface ExportVqaOptions {
  sim: boolean;
  fromRecording: string[];
  scenes: number;
  seed: number;
  out: string;
  width: number;
  height: number;
  hfovRange: number[];
  perType: number;
  episodes: number;
  episodeFrames: number;
  episodeStride: number;
  masks: boolean;
  json: boolean;
  camera: string;
  segmentation: (typeof SEGMENTATION_NAMES)[number];
  split: (typeof SPLIT_NAMES)[number];
  stride: number;
  rewardTopic: string;
}

export interface ExportLerobotCliOptions {
  out: string;
  fps?: number;
  camera: string;
  video: boolean;
  images: boolean;
  robotType: string;
  body: string;
  rewardTopic: string;
  json: boolean;
}

/** Repeated here (the export modules load only when they run); export_recording_vqa.ts has the same lists. */
const SEGMENTATION_NAMES = ["auto", "masks", "detections", "scene"] as const;
const SPLIT_NAMES = ["auto", "train", "val", "test"] as const;
/** Options of `export vqa` that only the simulator source reads, and those only recordings read. */
const SIM_ONLY = ["scenes", "seed", "width", "height", "hfovRange", "episodes", "episodeFrames", "episodeStride", "masks"] as const;
const RECORDING_ONLY = ["camera", "segmentation", "split", "stride", "rewardTopic"] as const;
const flagOf = (key: string): string => `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;

/** A word for names (camera, robot type, rigid body): what LeRobot feature keys and file names can hold. */
function nameArg(flag: string) {
  return (text: string): string => {
    if (!/^[A-Za-z0-9_-]{1,64}$/.test(text)) throw new UsageError(`${flag} must be 1–64 of A-Z a-z 0-9 _ -, got ${JSON.stringify(text.slice(0, 60))}`);
    return text;
  };
}

/** A ROS topic name as recorded ("reward", "/mocap/reward"). */
function topicArg(flag: string) {
  return (text: string): string => {
    if (!/^\/?[A-Za-z][A-Za-z0-9_/]{0,254}$/.test(text) || text.includes("//") || text.endsWith("/")) throw new UsageError(`${flag} must be a topic name, got ${JSON.stringify(text.slice(0, 60))}`);
    return text;
  };
}

/** The episode files of the command line, or a UsageError naming the one that is missing. */
function checkEpisodes(args: readonly string[]): void {
  try {
    episodePaths(args);
  } catch (e) {
    if (isSpatialRewardError(e)) throw new UsageError(e.message);
    throw e;
  }
}

function usedFlags(cmd: Command, keys: readonly string[]): string[] {
  return keys.filter((k) => cmd.getOptionValueSource(k) === "cli").map(flagOf);
}

/** A day of rendering on one core (~0.1 s a scene at 640x480) and tens of GB of PNG: beyond that, run several exports. */
export const MAX_EXPORT_SCENES = 100_000;
export const MAX_EXPORT_EPISODES = 10_000;
/** 100 s at 30 Hz: every frame of an episode is an image on disk. */
export const MAX_EXPORT_EPISODE_FRAMES = 3000;
const MIN_IMAGE_SIDE = 16;

/** `--out` must be new or an empty directory: an export never mixes with (or overwrites) another. */
function checkOutEmpty(out: string): void {
  let entries: string[];
  try {
    if (!statSync(out).isDirectory()) throw new UsageError(`--out ${JSON.stringify(out)} exists and is not a directory`);
    entries = readdirSync(out);
  } catch (e) {
    if (e instanceof UsageError) throw e;
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return;
    throw new UsageError(`--out ${JSON.stringify(out)}: ${e instanceof Error ? e.message : String(e)}`);
  }
  if (entries.length > 0) throw new UsageError(`--out ${JSON.stringify(out)} exists and is not empty (${entries.length} entries); give a new or empty directory`);
}

/** `spatial-reward export vqa|lerobot`: registered by program.ts; the exports' code loads only when they run. */
export function addExportCommand(program: Command, version: string, done: (code: number) => void): void {
  const exportCommand = program.command("export")
    .summary("write training data: export vqa, export lerobot")
    .description(
      "Writes training data: `export vqa` (images, LLaVA-style spatial questions and answers, progress labels) from " +
      "the simulator or from recorded episodes; `export lerobot` (a LeRobot v2.1 dataset) from recorded episodes.",
    )
    .version(version, "-V, --version", "print the version")
    .helpOption("-h, --help", "print this help");
  const [hfovMin, hfovMax] = DEFAULT_VARIATION_RANGES.hfovDeg;
  exportCommand.command("vqa")
    .summary("RGB frames as PNG + spatial questions/answers (LLaVA JSONL) + per-frame progress labels, from the simulator or recordings")
    .description(
      "With --sim: renders seeded simulator scenes (field of view drawn from --hfov-range, pitch 20–60°, any heading, " +
      "±4° roll, colour/brightness jitter, RGB read noise on the 'realsense' half of the scenes) and writes " +
      "DIR/images/<id>.png, DIR/vqa.jsonl (every question type of the engine, labelled with the engine's " +
      "answer on the simulator's ground truth, as eval scores), DIR/progress.jsonl (scripted teleop " +
      "episodes, ground-truth progress per frame), DIR/scenes.jsonl (each scene's camera and jitter) and " +
      `DIR/meta.json (counts per split and type, seeds, ranges; written last). Splits, ${SPLIT_RULE}. ` +
      "With EPISODES (MCAP recordings, or directories of them): every --stride-th camera frame becomes a PNG and its " +
      "questions are answered by the spatial engine on the frame's scene: perception on the recorded RGB-D with the " +
      "recorded instance masks (<camera>/instances) or 2D detections (<camera>/detections), else the recorded " +
      "scene graph (scene/objects); each record also carries its episode, frame, stamp and the frame's Reward, and " +
      "progress.jsonl the Reward's progress. Records have the sim export's shape (short_answer included); the split " +
      "is per episode, from its identity (--split to force one).",
    )
    .version(version, "-V, --version", "print the version")
    .helpOption("-h, --help", "print this help")
    .argument("[EPISODES...]", "recorded episodes (.mcap files or directories of them) to label instead of --sim")
    .option("--sim", "render the scenes in the simulator", false)
    .option("--from-recording <FILE>", "an episode to label (the same as giving it as EPISODES; repeatable)", (v: string, prev: string[]) => [...prev, v], [] as string[])
    .requiredOption("--out <DIR>", "output directory: new or empty (created if missing)", creatableDirArg("--out"))
    .option("--scenes <N>", `--sim: scenes (1–${MAX_EXPORT_SCENES})`, intArg("--scenes", { min: 1, max: MAX_EXPORT_SCENES }), 100)
    .option("--seed <S>", "--sim: first scene seed of each split's range (0 ≤ S ≤ 1e9 − the train count)", intArg("--seed", { min: 0, max: maxFirstSeed(1) }), 0)
    .option("--width <W>", `--sim: image width in pixels (${MIN_IMAGE_SIDE}–${MAX_IMAGE_SIDE})`, intArg("--width", { min: MIN_IMAGE_SIDE, max: MAX_IMAGE_SIDE }), 640)
    .option("--height <H>", `--sim: image height in pixels (${MIN_IMAGE_SIDE}–${MAX_IMAGE_SIDE})`, intArg("--height", { min: MIN_IMAGE_SIDE, max: MAX_IMAGE_SIDE }), 480)
    .option(
      "--hfov-range <MIN,MAX>",
      `--sim: horizontal field of view drawn per scene, degrees (1–170, default ${hfovMin},${hfovMax})`,
      listArg("--hfov-range", numberArg("--hfov-range", { min: 1, max: 170 })),
      [hfovMin, hfovMax],
    )
    .option("--per-type <K>", "questions per type and scene or frame (distinct objects)", intArg("--per-type", { min: 1, max: 100 }), 2)
    .option("--episodes <K>", `--sim: scripted teleop episodes for progress labels (0–${MAX_EXPORT_EPISODES})`, intArg("--episodes", { min: 0, max: MAX_EXPORT_EPISODES }), 10)
    .option(
      "--episode-frames <F>",
      `--sim: frames per episode at 30 Hz (${MIN_EPISODE_FRAMES}–${MAX_EXPORT_EPISODE_FRAMES})`,
      intArg("--episode-frames", { min: MIN_EPISODE_FRAMES, max: MAX_EXPORT_EPISODE_FRAMES }),
      60,
    )
    .option("--episode-stride <n>", "--sim: write every n-th episode frame (1 = all; at most --episode-frames)", intArg("--episode-stride", { min: 1, max: MAX_EXPORT_EPISODE_FRAMES }), 1)
    .option("--masks", "--sim: also write each scene image's instance mask, masks/<id>.png (mono8: 0 no object, k the k-th of the scene's objects in scenes.jsonl), for dense supervision", false)
    .option("--stride <n>", "recordings: label every n-th camera frame (1–10000)", intArg("--stride", { min: 1, max: 10_000 }), 10)
    .option("--camera <NAME>", "recordings: the camera's topic namespace (<NAME>/color/image_raw...)", nameArg("--camera"), DEFAULT_CAMERA)
    .option("--segmentation <S>", `recordings: what the scene is made from: ${SEGMENTATION_NAMES.join(" | ")} (auto: masks, else detections, else scene/objects)`, choiceArg("--segmentation", SEGMENTATION_NAMES), "auto")
    .option("--split <S>", `recordings: ${SPLIT_NAMES.join(" | ")} (auto: by episode identity, 1 in 10 val, 1 in 10 test)`, choiceArg("--split", SPLIT_NAMES), "auto")
    .option("--reward-topic <T>", "recordings: the Reward topic", topicArg("--reward-topic"), "reward")
    .option("--json", "print one JSON summary as the last stdout line", false)
    .action(async (episodes: string[], o: ExportVqaOptions, cmd: Command) => {
      const recordings = [...episodes, ...o.fromRecording];
      if (recordings.length > 0) {
        if (o.sim) throw new UsageError("give --sim or EPISODES (recordings), not both");
        const simOnly = usedFlags(cmd, SIM_ONLY);
        if (simOnly.length > 0) throw new UsageError(`${simOnly.join(", ")} ${simOnly.length === 1 ? "applies" : "apply"} to --sim only, not to recordings`);
        checkEpisodes(recordings);
        checkOutEmpty(o.out);
        const { runRecordingVqa } = await import("./export_recording_vqa.js");
        done(await runRecordingVqa(recordings, {
          out: o.out, camera: o.camera, segmentation: o.segmentation, split: o.split, stride: o.stride, perType: o.perType, rewardTopic: o.rewardTopic, json: o.json,
        }));
        return;
      }
      if (!o.sim) throw new UsageError("--sim or EPISODES is required (render simulator scenes, or label recorded episodes)");
      const recOnly = usedFlags(cmd, RECORDING_ONLY);
      if (recOnly.length > 0) throw new UsageError(`${recOnly.join(", ")} ${recOnly.length === 1 ? "applies" : "apply"} to recordings only, not to --sim`);
      if (o.hfovRange.length !== 2 || o.hfovRange[0] > o.hfovRange[1]) {
        throw new UsageError(`--hfov-range must be MIN,MAX with MIN ≤ MAX, got ${o.hfovRange.join(",")}`);
      }
      if (o.episodeStride > o.episodeFrames) throw new UsageError(`--episode-stride ${o.episodeStride} is more than --episode-frames ${o.episodeFrames}`);
      const most = Math.max(o.scenes, o.episodes);
      if (o.seed > maxFirstSeed(most)) {
        throw new UsageError(`--seed ${o.seed} with ${most} scenes or episodes runs past the train range: at most ${maxFirstSeed(most)}`);
      }
      checkOutEmpty(o.out);
      done(await (await import("./export.js")).run(o));
    });

  exportCommand.command("lerobot")
    .summary("recorded episodes as a LeRobot v2.1 dataset (parquet + PNG frames or MP4 video)")
    .description(
      "Writes EPISODES (MCAP recordings, or directories of them) as a LeRobot v2.1 dataset in DIR: meta/info.json " +
      "(written last), meta/episodes.jsonl, meta/tasks.jsonl (the episode metadata's task, else the reward spec), " +
      "meta/episodes_stats.jsonl (min/max/mean/std/count per feature, as LeRobot computes them), " +
      `data/chunk-NNN/episode_NNNNNN.parquet (${CHUNKS_SIZE} episodes per chunk) and, with --video, ` +
      "videos/chunk-NNN/observation.images.<camera>/episode_NNNNNN.mp4 (ffmpeg: AV1 as LeRobot encodes, or H.264). " +
      "Rows are sampled at --fps (default the camera's rate) from the camera frames, each with the mocap sample " +
      "whose exposure is nearest the image's (header stamp against the mocap frame's, both mid-exposure on the host clock; the mocap frames " +
      "are the protobuf channel mocap/frames, recorded when the ingest and recorder share a process, else every " +
      "spatial_reward_msgs/msg/MocapFrame channel mocap/<stream>/frame): " +
      `observation.state = the --body rigid body's pose in REP-103 metres (${STATE_NAMES.join(", ")}), ` +
      "action = the next row's state (teleop: the commanded pose is the pose observed next; the last row holds), " +
      "next.reward / next.success = the Reward stamped at or before the frame, next.done on the last row. " +
      "Exit 1 when an episode is not a complete MCAP recording or lacks the camera or mocap; nothing is left in DIR then.",
    )
    .version(version, "-V, --version", "print the version")
    .helpOption("-h, --help", "print this help")
    .argument("<EPISODES...>", "recorded episodes (.mcap files or directories of them)")
    .requiredOption("--out <DIR>", "output directory: new or empty (created if missing)", creatableDirArg("--out"))
    .option("--fps <N>", "rows per second (1–1000; default the first episode's camera rate, rounded)", intArg("--fps", { min: 1, max: 1000 }))
    .option("--camera <NAME>", "the camera's topic namespace (<NAME>/color/image_raw) and feature name (observation.images.<NAME>)", nameArg("--camera"), DEFAULT_CAMERA)
    .option("--images", "store frames as PNG in the parquet image column (the default)", false)
    .option("--video", "store frames as MP4 video (needs ffmpeg)", false)
    .option("--robot-type <T>", "info.json robot_type", nameArg("--robot-type"), DEFAULT_ROBOT_TYPE)
    .option("--body <NAME>", "the mocap rigid body whose pose is the state", (v: string) => {
      if (v.length === 0 || v.length > 256) throw new UsageError(`--body must be a rigid body name of 1–256 characters, got ${JSON.stringify(v.slice(0, 60))}`);
      return v;
    }, DEFAULT_STATE_BODY)
    .option("--reward-topic <T>", "the Reward topic", topicArg("--reward-topic"), "reward")
    .option("--json", "print one JSON summary as the last stdout line", false)
    .action(async (episodes: string[], o: ExportLerobotCliOptions) => {
      if (o.video && o.images) throw new UsageError("give --video or --images, not both");
      checkEpisodes(episodes);
      checkOutEmpty(o.out);
      const { runLerobot } = await import("./export_lerobot.js");
      done(await runLerobot(episodes, {
        out: o.out, fps: o.fps, camera: o.camera, video: o.video, robotType: o.robotType, body: o.body, rewardTopic: o.rewardTopic, json: o.json,
      }));
    });
}
