import { createWriteStream, openSync, type WriteStream } from "node:fs";
import { SpatialRewardError } from "../../src/errors.js";
import { spearman } from "../../src/eval/rank_correlation.js";
import { onlyTypes, runSpatialEval, type EvalLogRecord, type SpatialEvalResult } from "../../src/eval/spatial_eval.js";
import { scoreAnswer, summarize, type ScoredAnswer } from "../../src/eval/spatial_scoring.js";
import { mulberry32 } from "../../src/random/mulberry32.js";
import { parseAnswerText } from "../../src/spatial/answer_text_parser.js";
import { generateQuestions, type SkipReason } from "../../src/spatial/question_generator.js";
import { tryParseQuestion } from "../../src/spatial/question_parser.js";
import {
  CLOCK_MARGIN_M, MIN_QUANTITY_M, POSITION_MARGIN_M, SIZE_MARGIN_FRACTION, SIZE_MARGIN_M, VOLUME_MARGIN_FRACTION,
  questionType,
} from "../../src/spatial/question_types.js";
import { splitOfSeed } from "../../src/vqa/dataset_split.js";
import { progressEpisode } from "../../sim/progress_episode.js";
import { DEFAULT_VARIATION_RANGES } from "../../sim/scene_variation.js";
import { VqaFrameRenderer } from "../../sim/vqa_frame.js";
import { SceneMixEval } from "../../sim/eval_scene.js";
import { ParaphraseTally } from "../../src/eval/paraphrase_eval.js";
import type { BackboneRuntime as BackboneRuntimeType } from "../backbone/backbone_runtime.js";
import { EvalReport } from "../report/eval_report.js";
import { Progress } from "./progress.js";
import { DEFAULT_PROGRESS_EPISODES, type EvalOptions } from "./program.js";
import { simSample } from "./sim_samples.js";
import { perceptionKernels } from "../perception/native_perception_kernels.js";

/** One JSONL line per scored episode frame of the progress head (`kind` tells it from a question's line). */
interface ProgressLogRecord {
  kind: "progress";
  episode: number;
  /** The scenario's seed (teleopScenario may move past the requested seed + i). */
  seed: number;
  task: string;
  frame: number;
  truth: number;
  predicted: number;
}

/** The JSONL log: opened before the run, so a path that cannot be written fails now, not after every scene. */
class EvalLog {
  private readonly stream: WriteStream | null;
  private failure: Error | null = null;
  constructor(private readonly path: string | undefined) {
    this.stream = path === undefined ? null : createWriteStream(path, { fd: openSync(path, "w") });
    this.stream?.on("error", (e) => {
      this.failure ??= e;
    });
  }
  get writer(): ((r: EvalLogRecord | ProgressLogRecord) => void) | undefined {
    const s = this.stream;
    return s ? (r) => s.write(`${JSON.stringify(r)}\n`) : undefined;
  }
  async close(): Promise<void> {
    const s = this.stream;
    if (s) {
      await new Promise<void>((resolve) => {
        s.once("close", resolve);
        s.once("error", () => resolve());
        s.end();
      });
    }
    if (this.failure !== null) throw new Error(`--log ${this.path}: ${this.failure.message}`);
  }
}

/** The keys every source reports, in the engine's order (the backbone adds its own after them). */
function summary(values: EvalOptions, result: SpatialEvalResult, t0: number) {
  const { seed, noise, masks, width, height, hfovDeg } = values;
  return {
    ...result,
    seed,
    noise,
    masks,
    width,
    height,
    hfov_deg: hfovDeg,
    // --types: the types asked (null = every type).
    question_types: values.types ?? null,
    ambiguity_margins: {
      position_m: POSITION_MARGIN_M,
      size: `min(${SIZE_MARGIN_M} m, ${SIZE_MARGIN_FRACTION * 100}% of the larger)`,
      volume_fraction: VOLUME_MARGIN_FRACTION,
      min_quantity_m: MIN_QUANTITY_M,
      clock_arc_m: CLOCK_MARGIN_M,
      note: "questions whose truth lies within these margins are not asked (counted in `skipped`)",
    },
    seconds: Math.round((performance.now() - t0) / 100) / 10,
  };
}

function printText(values: EvalOptions, out: ReturnType<typeof summary>): void {
  const { scenes, noise, masks, width, height, hfovDeg } = values;
  const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
  console.log(`${out.n_questions} questions over ${scenes} scenes (noise ${noise}, masks ${masks}, ${width}x${height}, hfov ${hfovDeg}°)`);
  console.log(`qualitative accuracy        ${pct(out.qualitative_accuracy)}   (yes/no, which-one, clock: ${out.n_qualitative})`);
  console.log(`quantitative answered       ${pct(out.quantitative_answered)}   (${out.n_quantitative})`);
  console.log(`quantitative within [.5x,2x] ${pct(out.quantitative_within_0_5x_2x)}`);
  console.log(`quantitative within 10%     ${pct(out.quantitative_within_10pct)}`);
  console.log("by type:");
  for (const [type, s] of Object.entries(out.by_type)) {
    console.log(`  ${type.padEnd(22)} n=${String(s.n).padStart(4)}  ${s.category === "quantitative" ? `within10% ${pct(s.within_10pct)}  [.5x,2x] ${pct(s.within_0_5x_2x)}  median rel err ${s.median_relative_error}` : `accuracy ${pct(s.accuracy)}`}`);
  }
  console.log(`skipped as ambiguous: ${JSON.stringify(out.skipped)}; rejected frames: ${JSON.stringify(out.rejected_frames)}`);
  const boxes = out.box_accuracy;
  if (boxes) {
    const cm = (x: number) => (x * 100).toFixed(2);
    console.log("boxes against the truth (within 10%: height, depth, width; centre bias cm along x, y, z, ray; median centre error cm):");
    for (const [kind, b] of [["all", boxes.all] as const, ...Object.entries(boxes.by_kind)]) {
      const c = b.centre_bias_m;
      console.log(`  ${kind.padEnd(8)} n=${String(b.n).padStart(4)} missed ${b.missed}  ${pct(b.height_within_10pct)} ${pct(b.depth_within_10pct)} ${pct(b.width_within_10pct)}  bias ${cm(c.x)} ${cm(c.y)} ${cm(c.z)} ${cm(c.ray)}  error ${cm(b.centre_error_median_m)}`);
    }
    console.log(`  stacked  n=${boxes.stacked.n}  elevation within 10% ${pct(boxes.stacked.elevation_within_10pct)}  bottom bias ${cm(boxes.stacked.bottom_bias_m)} cm`);
  }
}

/** Scores every question type on fresh seeded scenes (options checked by program.ts). */
export async function run(values: EvalOptions): Promise<number> {
  if (values.source === "backbone") return runBackbone(values);
  const { scenes, seed, noise, masks, width, height, hfovDeg, perType } = values;
  const log = new EvalLog(values.log);
  const report = values.report !== undefined ? EvalReport.open(values.report) : null;
  const progress = new Progress(500, true);
  const t0 = performance.now();
  // Scene options (--stacking, --clutter): their own samples and figures; without them, the scenes eval has always used.
  const mix = values.stacking !== undefined || values.clutter ? new SceneMixEval({ noise, masks, width, height, hfovDeg, stacking: values.stacking, clutter: values.clutter }) : null;
  // --paraphrases: each scene's paraphrases and their canonical questions, bound to its truth, answered from its perceived scene.
  const paraphrases = values.paraphrases ? new ParaphraseTally() : null;
  const result = runSpatialEval(mix ? mix.sample : (s) => simSample(s, { noise, masks, width, height, hfovDeg }), {
    scenes,
    seed,
    perType,
    types: values.types,
    // The native perception kernels where built (SPATIAL_REWARD_NATIVE=0: TypeScript); the same figures either way.
    perception: { kernels: perceptionKernels() },
    onRecord: log.writer,
    onScene: mix || paraphrases || report ? (sd, sample, scene) => {
      mix?.onScene(sd, sample, scene);
      paraphrases?.addScene(sd, sample.truth, scene);
      report?.addScene(sd, sample, scene);
    } : undefined,
    onProgress: (done, total, n) => progress.update(`scene ${done}/${total}  ${n} questions  ${((performance.now() - t0) / done).toFixed(0)} ms/scene`, false, done / total),
  });
  progress.done();
  await log.close();
  const out = { ...summary(values, result, t0), ...mix?.summary(), ...(paraphrases ? { paraphrases: paraphrases.result() } : {}) };
  if (report) process.stderr.write(`report: ${await report.write(out)}\n`);
  if (values.json) console.log(JSON.stringify(out));
  else {
    printText(values, out);
    for (const line of mix?.lines() ?? []) console.log(line);
    const p = out.paraphrases;
    if (p) {
      console.log(`paraphrases: ${p.asked} asked (${p.set_size} in the set), understood ${p.understood_pct}%, same answer as the canonical question ${p.same_answer_pct}%`);
      for (const f of p.failures) console.log(`  ${f.kind} ${f.type}: "${f.paraphrase}" (canonical "${f.canonical}") → ${JSON.stringify(f.parsed)}`);
    }
  }
  return 0;
}

// ---- --source backbone ----

/**
 * Most tokens an answer may take. The byte-level tokenizer spends one token per byte; the
 * engine's longest sentences (two colour + kind names and a length in feet) are about 100.
 */
const ANSWER_MAX_TOKENS = 160;

function quantile(xs: readonly number[], q: number): number | null {
  if (xs.length === 0) return null;
  const s = xs.slice().sort((a, b) => a - b);
  // Nearest rank: the smallest value with at least q of the values at or below it.
  return s[Math.max(0, Math.min(s.length - 1, Math.ceil(q * s.length) - 1))];
}
const round3 = (x: number | null): number | null => (x === null || !Number.isFinite(x) ? null : Math.round(x * 1000) / 1000);
const mean = (xs: readonly number[]): number | null => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : null);
function latency(xs: readonly number[]): { n: number; p50: number | null; p90: number | null; mean: number | null; max: number | null } {
  return { n: xs.length, p50: round3(quantile(xs, 0.5)), p90: round3(quantile(xs, 0.9)), mean: round3(mean(xs)), max: round3(xs.length ? Math.max(...xs) : null) };
}

/**
 * The progress head's episodes: export's scripted teleop episodes (sim/progress_episode.ts) at
 * export's default length, 2 s at 30 Hz, every second frame pushed to the stream (15 Hz).
 */
const PROGRESS_EPISODE_FRAMES = 60;
const PROGRESS_EPISODE_STRIDE = 2;

interface EpisodeProgress {
  truth: number[];
  predicted: number[];
}

/** Spearman pooled over every frame (does the head order all frames as the truth does) and per episode; mean absolute error. */
function progressScores(episodes: readonly EpisodeProgress[]) {
  const truth = episodes.flatMap((e) => e.truth);
  const predicted = episodes.flatMap((e) => e.predicted);
  return {
    episodes: episodes.length,
    frames: truth.length,
    spearman: round3(spearman(predicted, truth)),
    spearman_per_episode_mean: round3(mean(episodes.map((e) => spearman(e.predicted, e.truth)))),
    mae: round3(mean(truth.map((t, i) => Math.abs(predicted[i] - t)))),
  };
}

/**
 * The questions' chance level: a uniform guess is right half the time for yes/no and which-one
 * and one time in twelve for a clock hour. What an untrained model's figures compare against.
 */
function chanceQualitative(scored: readonly ScoredAnswer[]): number {
  // The categories qualitative_accuracy counts (summarize): yes/no, which-one and clock.
  const qual = scored.filter((s) => s.category === "qualitative" || s.category === "choice" || s.category === "clock");
  if (qual.length === 0) return 0;
  const sum = qual.reduce((a, s) => a + (s.category === "clock" ? 1 / 12 : 0.5), 0);
  return Math.round((sum / qual.length) * 10000) / 10000;
}

/**
 * The same scenes, questions, scoring, keys and JSONL log as the engine's evaluation
 * (runSpatialEval), but the answers come from the backbone model on the rendered RGB frame alone
 * (no depth, no masks): one stream per scene, the frame pushed once, every question asked on it,
 * the text read back with parseAnswerText and scored by scoreAnswer. An untrained model is still
 * scored (a measurement, not an answer shown to anyone) and said to be untrained.
 * With a progress head, scripted teleop episodes from the same seeds follow (one stream each,
 * every pushed frame's head value against the ground-truth progress): issue 9's Spearman goal.
 */
async function runBackbone(values: EvalOptions): Promise<number> {
  const { scenes, seed, noise, masks, width, height, hfovDeg, perType } = values;
  const model = values.model;
  if (model === undefined) throw new Error("--source backbone needs --model (checked by program.ts)");
  const { BackboneRuntime } = await import("../backbone/backbone_runtime.js");
  const log = new EvalLog(values.log);
  const report = values.report !== undefined ? EvalReport.open(values.report) : null;
  const t0 = performance.now();
  let rt: BackboneRuntimeType;
  try {
    rt = await BackboneRuntime.open({ model: { dir: model }, maxStreams: 1, coarseToFine: values.coarseToFine });
  } catch (e) {
    await log.close().catch(() => undefined);
    throw e;
  }
  const untrained = `the backbone model in ${model} is UNTRAINED (seeded random weights): these figures measure the pipeline and its latency, not a model's accuracy`;
  if (!rt.config.trained) {
    if (values.json) console.error(untrained);
    else console.log(untrained);
  }
  const progress = new Progress(500, true);
  const scored: ScoredAnswer[] = [];
  const skipped: Partial<Record<SkipReason, number>> = {};
  const frameMs: number[] = [];
  const encodeMs: number[] = [];
  const prefillMs: number[] = [];
  const answerMs: number[] = [];
  const answerTokens: number[] = [];
  const kept: number[] = [];
  let unparsed = 0;
  const progressEpisodes = values.progressEpisodes ?? DEFAULT_PROGRESS_EPISODES;
  const measureProgress = rt.config.progress_head === true && progressEpisodes > 0;
  const episodes: EpisodeProgress[] = [];
  try {
    for (let i = 0; i < scenes; i++) {
      const sceneSeed = seed + i;
      const sample = simSample(sceneSeed, { noise, masks, width, height, hfovDeg });
      // The engine's evaluation draws its questions with this same generator and seed.
      const generated = onlyTypes(generateQuestions(sample.truth, mulberry32(sceneSeed ^ 0x5eed), { perType }), values.types);
      for (const [k, v] of Object.entries(generated.skipped) as [SkipReason, number][]) skipped[k] = (skipped[k] ?? 0) + v;
      const stream = `scene${i}`;
      rt.addStream(stream);
      const timing = await rt.pushFrame(stream, sample.frame.rgb);
      frameMs.push(timing.encodeMs + timing.projectMs + timing.prefillMs);
      encodeMs.push(timing.encodeMs);
      prefillMs.push(timing.prefillMs);
      kept.push(timing.keptFraction);
      for (const q of generated.questions) {
        const category = questionType(q.type).category;
        const a0 = performance.now();
        const a = await rt.ask(stream, q.text, { maxTokens: ANSWER_MAX_TOKENS });
        answerMs.push(performance.now() - a0);
        answerTokens.push(a.tokenIds.length);
        // The type and object phrases as the engine's parser reads the same question.
        const parsedQ = tryParseQuestion(q.text);
        const parsed = parsedQ ? parseAnswerText(a.text, parsedQ.type, parsedQ.slots) : null;
        const ok = parsed !== null && parsed.status === "ok";
        if (!ok) unparsed++;
        const value = ok ? parsed.value : NaN;
        const s = scoreAnswer(q.type, category, q.truthValue, value);
        scored.push(s);
        log.writer?.({
          scene: i,
          seed: sceneSeed,
          type: q.type,
          category,
          question: q.text,
          truth: q.truthValue,
          answer: value,
          answer_text: a.text,
          status: ok ? "ok" : "unparsed",
          correct: s.correct,
          within_10pct: s.within10pct,
          within_0_5x_2x: s.within0_5x2x,
        });
      }
      rt.removeStream(stream);
      progress.update(`scene ${i + 1}/${scenes}  ${scored.length} questions  frame ${timing.totalMs.toFixed(1)} ms  ${((performance.now() - t0) / (i + 1)).toFixed(0)} ms/scene`, false, (i + 1) / (scenes + (measureProgress ? progressEpisodes : 0)));
    }
    if (measureProgress) {
      // The export's renderer and camera ranges: episodes like those trained on, from seeds that were not.
      const renderer = new VqaFrameRenderer(width, height, DEFAULT_VARIATION_RANGES);
      for (let i = 0; i < progressEpisodes; i++) {
        const ep = progressEpisode(renderer, seed + i, PROGRESS_EPISODE_FRAMES, PROGRESS_EPISODE_STRIDE);
        // One stream for the whole episode: its state carries across frames, as the node serves it.
        const stream = `episode${i}`;
        rt.addStream(stream);
        const e: EpisodeProgress = { truth: [], predicted: [] };
        for (const view of ep.views()) {
          const timing = await rt.pushFrame(stream, { width, height, encoding: "rgb8", step: width * 3, data: view.rgb });
          const predicted = timing.progress;
          if (predicted === undefined || !Number.isFinite(predicted)) {
            throw new SpatialRewardError("internal", `the progress head gave ${String(predicted)} on episode ${i} (seed ${ep.seed}) frame ${view.frame}${timing.superseded ? " (frame superseded)" : ""}`);
          }
          e.truth.push(view.progress);
          e.predicted.push(predicted);
          log.writer?.({ kind: "progress", episode: i, seed: ep.seed, task: ep.task, frame: view.frame, truth: view.progress, predicted });
          progress.update(`episode ${i + 1}/${progressEpisodes}  frame ${view.frame + 1}/${PROGRESS_EPISODE_FRAMES}  ${timing.totalMs.toFixed(1)} ms`, false, (scenes + i + (view.frame + 1) / PROGRESS_EPISODE_FRAMES) / (scenes + progressEpisodes));
        }
        rt.removeStream(stream);
        episodes.push(e);
      }
    }
  } finally {
    progress.done();
    await rt.close();
    await log.close();
  }
  const result: SpatialEvalResult = { scenes, ...summarize(scored), rejected_frames: {}, skipped };
  const out = {
    ...summary(values, result, t0),
    backbone: {
      model,
      trained: rt.config.trained,
      note: rt.config.trained ? "RGB frame only: no depth, no masks" : untrained,
      coarse_to_fine: values.coarseToFine,
      kept_fraction: round3(mean(kept)),
      unparsed_answers: unparsed,
      chance_qualitative_accuracy: chanceQualitative(scored),
      answer_max_tokens: ANSWER_MAX_TOKENS,
      answer_tokens_mean: round3(mean(answerTokens)),
      /** Per frame: encode (preprocess + vision + projector) + prefill of its visual tokens, worker time. */
      frame_ms: latency(frameMs),
      encode_ms: latency(encodeMs),
      prefill_ms: latency(prefillMs),
      /** Per answer: ask to text, wall time (question prefill + every decode run), one question at a time. */
      answer_ms: latency(answerMs),
      /** The progress head on held-out scripted episodes; null when the model has none (or --progress-episodes 0). */
      progress: measureProgress ? progressScores(episodes) : null,
    },
  };
  if (report) process.stderr.write(`report: ${await report.write(out)}\n`);
  if (values.json) {
    console.log(JSON.stringify(out));
  } else {
    printText(values, out);
    const b = out.backbone;
    console.log(`backbone ${b.trained ? "(trained)" : "(UNTRAINED)"}: chance qualitative accuracy ${(b.chance_qualitative_accuracy * 100).toFixed(1)}%, ${b.unparsed_answers} of ${out.n_questions} answers unparsed`);
    console.log(`per frame (encode + prefill) p50 ${b.frame_ms.p50} ms; per answer p50 ${b.answer_ms.p50} ms (${b.answer_tokens_mean} tokens mean)${b.coarse_to_fine ? `; coarse-to-fine kept fraction ${b.kept_fraction}` : ""}`);
    const p = b.progress;
    // Held out only from a test-range seed: the default --seed lies in export's train range.
    if (p) console.log(`progress head on ${p.episodes} scripted episodes (${p.frames} frames; seeds from ${seed}, export's ${splitOfSeed(seed)} split): Spearman ${p.spearman} pooled, ${p.spearman_per_episode_mean} per-episode mean; MAE ${p.mae}`);
    else if (rt.config.progress_head !== true) console.log("progress head: none in this model (config progress_head), not measured");
  }
  return 0;
}
