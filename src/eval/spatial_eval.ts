import type { RgbdFrame } from "../perception/rgbd_frame.js";
import { Perception, type PerceptionOptions } from "../perception/perception.js";
import type { Scene } from "../scene/scene_object.js";
import { answerQuestion } from "../spatial/answer_question.js";
import { generateQuestions, type GeneratedQuestions, type SkipReason } from "../spatial/question_generator.js";
import { questionType, type QuestionTypeId } from "../spatial/question_types.js";
import { isSpatialRewardError } from "../errors.js";
import { mulberry32 } from "../random/mulberry32.js";
import { BoxAccuracyAccumulator, type BoxAccuracySummary } from "./box_accuracy.js";
import { scoreAnswer, summarize, type ScoredAnswer, type SpatialEvalSummary } from "./spatial_scoring.js";

/** One evaluation scene: what the camera delivers and what the world really is. */
export interface EvalSample {
  frame: RgbdFrame;
  truth: Scene;
}

/** Everything logged per question (one JSONL line). */
export interface EvalLogRecord {
  scene: number;
  seed: number;
  type: string;
  category: string;
  question: string;
  truth: number;
  answer: number;
  answer_text: string;
  status: string;
  correct: boolean;
  within_10pct: boolean;
  within_0_5x_2x: boolean;
}

export interface SpatialEvalOptions {
  scenes: number;
  seed: number;
  /** Questions per type per scene (distinct slot choices). */
  perType: number;
  /**
   * Only these question types (default every type). Every type is still drawn and the others
   * dropped, so a scene asks the same questions of these types as a run without the option
   * (`skipped` counts every type's draws).
   */
  types?: readonly QuestionTypeId[];
  perception?: Partial<PerceptionOptions>;
  onRecord?: (r: EvalLogRecord) => void;
  /** Each scene's sample and what perception made of it (null: the frame was rejected), for figures beyond the questions. */
  onScene?: (seed: number, sample: EvalSample, scene: Scene | null) => void;
  onProgress?: (done: number, total: number, questions: number) => void;
}

export interface SpatialEvalResult extends SpatialEvalSummary {
  scenes: number;
  /** Scenes perception rejected (typed error), by code; their questions count as unanswered. */
  rejected_frames: Record<string, number>;
  skipped: Partial<Record<SkipReason, number>>;
  /**
   * Every true object's box against the perceived one, per kind and direction (src/eval/box_accuracy.ts).
   * Optional: sources that do not perceive boxes (the backbone) have none.
   */
  box_accuracy?: BoxAccuracySummary;
}

/** The generated questions of these types only (all when types is undefined). */
export function onlyTypes(generated: GeneratedQuestions, types: readonly QuestionTypeId[] | undefined): GeneratedQuestions {
  if (types === undefined) return generated;
  const wanted = new Set<string>(types);
  return { ...generated, questions: generated.questions.filter((q) => wanted.has(q.type)) };
}

/**
 * lmms-eval-style evaluation: fresh seeded scenes, every question type asked about the
 * ground-truth scene, answered from what perception made of the rendered frame alone, every
 * answer logged and scored with the definitions in src/spatial/DEFINITIONS.md.
 */
export function runSpatialEval(sampleFor: (seed: number) => EvalSample, options: SpatialEvalOptions): SpatialEvalResult {
  const scored: ScoredAnswer[] = [];
  const rejected: Record<string, number> = {};
  const skipped: Partial<Record<SkipReason, number>> = {};
  const boxes = new BoxAccuracyAccumulator();
  for (let i = 0; i < options.scenes; i++) {
    const seed = options.seed + i;
    const sample = sampleFor(seed);
    const perception = new Perception(options.perception);
    const generated = onlyTypes(generateQuestions(sample.truth, mulberry32(seed ^ 0x5eed), { perType: options.perType }), options.types);
    for (const [k, v] of Object.entries(generated.skipped) as [SkipReason, number][]) skipped[k] = (skipped[k] ?? 0) + v;
    let scene: Scene | null = null;
    let rejection = "";
    try {
      scene = perception.process(sample.frame);
    } catch (e) {
      if (!isSpatialRewardError(e)) throw e;
      rejection = `${e.code}: ${e.message}`;
      rejected[e.code] = (rejected[e.code] ?? 0) + 1;
    }
    options.onScene?.(seed, sample, scene);
    boxes.add(sample.truth, scene);
    for (const q of generated.questions) {
      const category = questionType(q.type).category;
      const answer = scene ? answerQuestion(scene, q.text, { seed }) : null;
      const value = answer && answer.status === "ok" ? answer.value : NaN;
      const s = scoreAnswer(q.type, category, q.truthValue, value);
      scored.push(s);
      options.onRecord?.({
        scene: i,
        seed,
        type: q.type,
        category,
        question: q.text,
        truth: q.truthValue,
        answer: value,
        answer_text: answer ? answer.text : rejection,
        status: answer ? answer.status : "rejected_frame",
        correct: s.correct,
        within_10pct: s.within10pct,
        within_0_5x_2x: s.within0_5x2x,
      });
    }
    options.onProgress?.(i + 1, options.scenes, scored.length);
  }
  return { scenes: options.scenes, ...summarize(scored), rejected_frames: rejected, skipped, box_accuracy: boxes.summary() };
}
