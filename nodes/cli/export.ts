import { closeSync, mkdirSync, openSync, renameSync, writeFileSync, writeSync } from "node:fs";
import { join } from "node:path";
import { QUESTION_TYPE_IDS } from "../../src/spatial/question_types.js";
import { planSeeds, splitOfSeed, SPLIT_RULE, SPLITS, type PlannedSeed, type Split } from "../../src/vqa/dataset_split.js";
import {
  EXPORT_FORMAT, EXPORT_VERSION, VQA_GENERATOR_VERSION, episodeFrameImageId, episodeId, imagePath, maskPath, sceneImageId, type ProgressRecord,
} from "../../src/vqa/export_format.js";
import { ExportTally } from "../../src/vqa/export_tally.js";
import { sceneVqaRecords } from "../../src/vqa/vqa_records.js";
import { progressEpisode } from "../../sim/progress_episode.js";
import { DEFAULT_VARIATION_RANGES, type VariationRanges } from "../../sim/scene_variation.js";
import { VqaFrameRenderer } from "../../sim/vqa_frame.js";
import type { ExportVqaOptions } from "./export_command.js";
import { packageVersion } from "./package_version.js";
import { encodeMonoPng, encodeRgbPng } from "./png_image.js";
import { Progress } from "./progress.js";

/** An append-only text file written synchronously (the export is CPU-bound; order is the file's order). */
class LineFile {
  private readonly fd: number;
  bytes = 0;
  constructor(path: string) {
    this.fd = openSync(path, "wx");
  }
  write(lines: readonly string[]): void {
    if (lines.length === 0) return;
    const text = `${lines.join("\n")}\n`;
    this.bytes += writeSync(this.fd, text);
  }
  close(): void {
    closeSync(this.fd);
  }
}

function seedRanges(plan: readonly PlannedSeed[]): Record<Split, [number, number] | null> {
  const out = {} as Record<Split, [number, number] | null>;
  for (const s of SPLITS) {
    const seeds = plan.filter((p) => p.split === s).map((p) => p.seed);
    out[s] = seeds.length ? [seeds[0], seeds[seeds.length - 1]] : null;
  }
  return out;
}

/**
 * Lets the event loop turn: V8 and zlib release the backing stores of dead buffers in tasks
 * that run there, so a loop that never yields keeps every frame's memory (measured: RSS
 * grew by each frame's bytes, 676 MB after 600 frames at 640x480; flat with this).
 */
const yieldToEventLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

function bar(fraction: number, width = 24): string {
  const n = Math.round(Math.max(0, Math.min(1, fraction)) * width);
  return `[${"#".repeat(n)}${".".repeat(width - n)}]`;
}

/** Writes the export (options checked by export_command.ts: --out is new or empty). */
export async function run(o: ExportVqaOptions): Promise<number> {
  const t0 = performance.now();
  const ranges: VariationRanges = { ...DEFAULT_VARIATION_RANGES, hfovDeg: [o.hfovRange[0], o.hfovRange[1]] };
  const renderer = new VqaFrameRenderer(o.width, o.height, ranges);
  const scenePlan = planSeeds(o.seed, o.scenes);
  const episodePlan = planSeeds(o.seed, o.episodes);
  const framesPerEpisode = Math.ceil(o.episodeFrames / o.episodeStride);

  mkdirSync(join(o.out, "images"), { recursive: true });
  if (o.masks) mkdirSync(join(o.out, "masks"), { recursive: true });
  const vqa = new LineFile(join(o.out, "vqa.jsonl"));
  const progressFile = new LineFile(join(o.out, "progress.jsonl"));
  const scenesFile = new LineFile(join(o.out, "scenes.jsonl"));
  const tally = new ExportTally();
  let imageBytes = 0;
  const writeImage = (id: string, width: number, height: number, rgb: Uint8Array): string => {
    const png = encodeRgbPng({ width, height, data: rgb });
    // "wx": two images with one id would be a bug, never a silent overwrite.
    writeFileSync(join(o.out, imagePath(id)), png, { flag: "wx" });
    imageBytes += png.length;
    return imagePath(id);
  };

  const progress = new Progress(250, process.stderr.isTTY === true);
  const totalWork = o.scenes + o.episodes * framesPerEpisode;
  let work = 0;
  const show = (what: string, force = false) => {
    const s = (performance.now() - t0) / 1000;
    const mb = (vqa.bytes + progressFile.bytes + imageBytes) / 1e6;
    progress.update(`${bar(work / totalWork)} ${what}  ${mb.toFixed(1)} MB  ${s.toFixed(0)} s`, force);
  };

  try {
    for (const [i, p] of scenePlan.entries()) {
      const frame = renderer.scene(p.seed);
      const id = sceneImageId(p.seed);
      const image = writeImage(id, frame.width, frame.height, frame.rgb);
      let mask: string | undefined;
      if (o.masks) {
        const png = encodeMonoPng({ width: frame.width, height: frame.height, data: frame.mask });
        writeFileSync(join(o.out, maskPath(id)), png, { flag: "wx" });
        imageBytes += png.length;
        mask = maskPath(id);
      }
      const scene = sceneVqaRecords(frame.truth, { seed: p.seed, split: p.split, image, idPrefix: id, perType: o.perType });
      vqa.write(scene.records.map((r) => JSON.stringify(r)));
      const v = frame.variation;
      scenesFile.write([JSON.stringify({
        id,
        image,
        scene_seed: p.seed,
        split: p.split,
        width: frame.width,
        height: frame.height,
        hfov_deg: v.hfovDeg,
        noise: v.noise,
        jitter: { brightness: v.jitter.brightness, contrast: v.jitter.contrast, gain_rgb: [v.jitter.gainR, v.jitter.gainG, v.jitter.gainB], noise_sigma: v.jitter.noiseSigma },
        ...(mask === undefined ? {} : { mask }),
        // Boxes in the spatial frame (src/geometry/spatial_frame.ts: x away from the camera, y left, z up; metres), mask value = index + 1.
        objects: frame.truth.objects.map((ob, k) => ({
          id: ob.id, kind: ob.kind, color: ob.color, mask_value: k + 1,
          center: [ob.center.x, ob.center.y, ob.center.z], size: [ob.size.x, ob.size.y, ob.size.z],
        })),
        questions: scene.records.length,
      })]);
      tally.scene(p.split, scene.records.map((r) => r.question_type), scene.skipped, scene.unanswered);
      work++;
      show(`scene ${i + 1}/${o.scenes}`);
      await yieldToEventLoop();
    }

    const episodesDone = new Set<number>();
    const episodeSeeds: { requested: number; seed: number; split: Split; task: string; hfov_deg: number; noise: string }[] = [];
    for (const [i, p] of episodePlan.entries()) {
      const ep = progressEpisode(renderer, p.seed, o.episodeFrames, o.episodeStride);
      // A scenario that moved on to another seed belongs to that seed's split (never a leak across splits).
      const split = splitOfSeed(ep.seed);
      if (episodesDone.has(ep.seed)) {
        tally.duplicateEpisode();
        work += framesPerEpisode;
        continue;
      }
      episodesDone.add(ep.seed);
      episodeSeeds.push({ requested: p.seed, seed: ep.seed, split, task: ep.task, hfov_deg: ep.variation.hfovDeg, noise: ep.variation.noise });
      tally.episode(split);
      for (const view of ep.views()) {
        const image = writeImage(episodeFrameImageId(ep.seed, view.frame), o.width, o.height, view.rgb);
        const record: ProgressRecord = { image, episode: episodeId(ep.seed), frame: view.frame, progress: view.progress, task: ep.task, split };
        progressFile.write([JSON.stringify(record)]);
        tally.progressFrame(split);
        work++;
        show(`episode ${i + 1}/${o.episodes} frame ${view.frame + 1}/${o.episodeFrames}`);
        await yieldToEventLoop();
      }
    }
    show("done", true);

    const counts = tally.counts();
    const meta = {
      format: EXPORT_FORMAT,
      version: EXPORT_VERSION,
      source: "sim",
      counts,
      seeds: {
        first: o.seed,
        split_rule: SPLIT_RULE,
        scenes: seedRanges(scenePlan),
        episodes: episodeSeeds,
      },
      camera: {
        width: o.width,
        height: o.height,
        hfov_deg: [...ranges.hfovDeg],
        pitch_deg: [...ranges.pitchDeg],
        roll_deg: [-4, 4],
        heading: "any (placeCamera: every object in view and mostly unoccluded)",
      },
      photometric: {
        brightness: [...ranges.jitter.brightness],
        contrast: [...ranges.jitter.contrast],
        channel_gain: [...ranges.jitter.channelGain],
        noise_sigma_levels: [...ranges.jitter.noiseSigma],
        realsense_fraction: ranges.realsenseFraction,
        note: "noise 'realsense' adds Gaussian read noise to the RGB (sigma in 8-bit levels); the simulator's RealSense model degrades depth and masks only, which an RGB export does not contain",
      },
      episodes: { requested: o.episodes, frames: o.episodeFrames, stride: o.episodeStride, fps: 30 },
      generator: {
        name: "spatial-reward",
        version: packageVersion(),
        vqa_generator_version: VQA_GENERATOR_VERSION,
        question_types: [...QUESTION_TYPE_IDS],
        per_type: o.perType,
        labels: "answerQuestion (src/spatial) on the simulator's ground-truth scene; questions from generateQuestions as eval draws them for the seed",
        progress: "RewardTracker on the ground-truth scene of every frame (src/reward/REWARDS.md), as sim/episode_eval.ts",
      },
      files: { images: "images/<id>.png", vqa: "vqa.jsonl", progress: "progress.jsonl", scenes: "scenes.jsonl", ...(o.masks ? { masks: "masks/<id>.png (scene images only)" } : {}) },
    };
    vqa.close();
    progressFile.close();
    scenesFile.close();
    // meta.json last, via a rename: a directory without it is an export that did not finish.
    const metaPath = join(o.out, "meta.json");
    writeFileSync(`${metaPath}.partial`, `${JSON.stringify(meta, null, 2)}\n`);
    renameSync(`${metaPath}.partial`, metaPath);

    const seconds = (performance.now() - t0) / 1000;
    const bytes = imageBytes + vqa.bytes + progressFile.bytes + scenesFile.bytes;
    const summary = {
      out: o.out,
      scenes: counts.scenes,
      questions: counts.vqa,
      episodes: counts.episodes,
      progress_frames: counts.progress_frames,
      images: counts.images.total,
      bytes,
      image_bytes: imageBytes,
      seconds: Math.round(seconds * 100) / 100,
      seconds_per_scene: o.scenes ? Math.round((seconds / o.scenes) * 1000) / 1000 : null,
    };
    if (o.json) console.log(JSON.stringify(summary));
    else {
      console.log(`${o.out}: ${counts.scenes.total} scenes (train ${counts.scenes.train}, val ${counts.scenes.val}, test ${counts.scenes.test}), ${counts.vqa.total} questions, ${counts.progress_frames.total} progress frames from ${counts.episodes.total} episodes`);
      console.log(`${counts.images.total} images, ${(bytes / 1e6).toFixed(1)} MB, ${seconds.toFixed(1)} s`);
    }
    return 0;
  } finally {
    progress.done();
  }
}
