import { readdirSync, statSync } from "node:fs";
import type { Command } from "commander";
import { maxFirstSeed, SPLIT_RULE } from "../../src/vqa/dataset_split.js";
import { MAX_IMAGE_SIDE } from "../../sim/camera_placement.js";
import { DEFAULT_VARIATION_RANGES } from "../../sim/scene_variation.js";
import { MIN_EPISODE_FRAMES } from "../../sim/teleop.js";
import { creatableDirArg, intArg, listArg, numberArg, UsageError } from "./cli_args.js";

export interface ExportVqaOptions {
  sim: boolean;
  fromRecording?: string;
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
  json: boolean;
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

/** `spatial-reward export vqa`: registered by program.ts; the export's code loads only when it runs. */
export function addExportCommand(program: Command, version: string, done: (code: number) => void): void {
  const exportCommand = program.command("export")
    .summary("write training data: export vqa")
    .description("Writes training data for the backbone from the simulator: `export vqa` (images, LLaVA-style questions and answers, progress labels).")
    .version(version, "-V, --version", "print the version")
    .helpOption("-h, --help", "print this help");
  const [hfovMin, hfovMax] = DEFAULT_VARIATION_RANGES.hfovDeg;
  exportCommand.command("vqa")
    .summary("RGB frames as PNG + spatial questions/answers (LLaVA JSONL) + per-frame progress labels")
    .description(
      "Renders seeded simulator scenes (field of view drawn from --hfov-range, pitch 20–60°, any heading, " +
      "±4° roll, colour/brightness jitter, RGB read noise on the 'realsense' half of the scenes) and writes " +
      "DIR/images/<id>.png, DIR/vqa.jsonl (every question type of the engine, labelled with the engine's " +
      "answer on the simulator's ground truth, as eval scores), DIR/progress.jsonl (scripted teleop " +
      "episodes, ground-truth progress per frame), DIR/scenes.jsonl (each scene's camera and jitter) and " +
      `DIR/meta.json (counts per split and type, seeds, ranges; written last). Splits, ${SPLIT_RULE}. ` +
      "--from-recording is not available yet: recordings come with the mocap/recorder issue.",
    )
    .version(version, "-V, --version", "print the version")
    .helpOption("-h, --help", "print this help")
    .option("--sim", "render the scenes in the simulator (the only source for now)", false)
    .option("--from-recording <DIR>", "not available yet (recordings come with the mocap/recorder issue)")
    .requiredOption("--out <DIR>", "output directory: new or empty (created if missing)", creatableDirArg("--out"))
    .option("--scenes <N>", `scenes (1–${MAX_EXPORT_SCENES})`, intArg("--scenes", { min: 1, max: MAX_EXPORT_SCENES }), 100)
    .option("--seed <S>", "first scene seed of each split's range (0 ≤ S ≤ 1e9 − the train count)", intArg("--seed", { min: 0, max: maxFirstSeed(1) }), 0)
    .option("--width <W>", `image width in pixels (${MIN_IMAGE_SIDE}–${MAX_IMAGE_SIDE})`, intArg("--width", { min: MIN_IMAGE_SIDE, max: MAX_IMAGE_SIDE }), 640)
    .option("--height <H>", `image height in pixels (${MIN_IMAGE_SIDE}–${MAX_IMAGE_SIDE})`, intArg("--height", { min: MIN_IMAGE_SIDE, max: MAX_IMAGE_SIDE }), 480)
    .option(
      "--hfov-range <MIN,MAX>",
      `horizontal field of view drawn per scene, degrees (1–170, default ${hfovMin},${hfovMax})`,
      listArg("--hfov-range", numberArg("--hfov-range", { min: 1, max: 170 })),
      [hfovMin, hfovMax],
    )
    .option("--per-type <K>", "questions per type and scene (distinct objects)", intArg("--per-type", { min: 1, max: 100 }), 2)
    .option("--episodes <K>", `scripted teleop episodes for progress labels (0–${MAX_EXPORT_EPISODES})`, intArg("--episodes", { min: 0, max: MAX_EXPORT_EPISODES }), 10)
    .option(
      "--episode-frames <F>",
      `frames per episode at 30 Hz (${MIN_EPISODE_FRAMES}–${MAX_EXPORT_EPISODE_FRAMES})`,
      intArg("--episode-frames", { min: MIN_EPISODE_FRAMES, max: MAX_EXPORT_EPISODE_FRAMES }),
      60,
    )
    .option("--episode-stride <n>", "write every n-th episode frame (1 = all; at most --episode-frames)", intArg("--episode-stride", { min: 1, max: MAX_EXPORT_EPISODE_FRAMES }), 1)
    .option("--json", "print one JSON summary as the last stdout line", false)
    .action(async (o: ExportVqaOptions) => {
      if (o.fromRecording !== undefined) throw new UsageError("--from-recording is not available yet: recordings come with the mocap/recorder issue; use --sim");
      if (!o.sim) throw new UsageError("--sim is required (the simulator is the only source for now; --from-recording comes with the mocap/recorder issue)");
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
}
