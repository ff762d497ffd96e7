import { SpatialRewardError } from "../errors.js";
import { mulberry32 } from "../random/mulberry32.js";
import { displayName, type Scene } from "../scene/scene_object.js";
import { phraseShortAnswer } from "../spatial/answer_phrasing.js";
import { answerQuestion } from "../spatial/answer_question.js";
import { generateQuestions, type SkipReason } from "../spatial/question_generator.js";
import type { Split } from "./dataset_split.js";
import { IMAGE_TOKEN, type VqaAnswerLabel, type VqaRecord } from "./export_format.js";

/**
 * The question stream of a scene seed, as src/eval/spatial_eval.ts draws it (the same salt),
 * so the questions exported for a seed are the ones `eval` asks about that seed.
 */
export const QUESTION_SEED_SALT = 0x5eed;

export interface SceneVqa {
  records: VqaRecord[];
  /** Candidate questions the generator did not ask (too close to call...), by reason. */
  skipped: Partial<Record<SkipReason, number>>;
  /** Generated questions the engine did not answer "ok" on the truth scene (none expected), by status. */
  unanswered: Record<string, number>;
}

export interface SceneVqaOptions {
  seed: number;
  split: Split;
  /** Path of the scene's image as written in each record ("images/<id>.png"). */
  image: string;
  /** Prefix of each record's id. */
  idPrefix: string;
  perType: number;
}

/**
 * Every question type about one ground-truth scene as LLaVA-style records. The label is the
 * engine's own answer (answerQuestion) to the question's text on the truth scene, exactly as
 * the evaluator scores it: the sentence the engine says and its structured value. A label
 * that disagrees with the generator's truth value would be a bug in the engine, never a
 * training label: it throws `internal`.
 */
export function sceneVqaRecords(truth: Scene, o: SceneVqaOptions): SceneVqa {
  const generated = generateQuestions(truth, mulberry32(o.seed ^ QUESTION_SEED_SALT), { perType: o.perType });
  const records: VqaRecord[] = [];
  const unanswered: Record<string, number> = {};
  const perType = new Map<string, number>();
  for (const q of generated.questions) {
    const a = answerQuestion(truth, q.text, { seed: o.seed });
    if (a.status !== "ok" || a.unit === "") {
      unanswered[a.status] = (unanswered[a.status] ?? 0) + 1;
      continue;
    }
    const ids = [a.subject, a.object, a.reference].slice(0, q.objectIds.length);
    if (a.type !== q.type || a.value !== q.truthValue || ids.join("\n") !== q.objectIds.join("\n")) {
      throw new SpatialRewardError(
        "internal",
        `seed ${o.seed}: the engine answers "${q.text}" as ${a.type} ${a.value} about ${ids.join(", ")}, the generator's truth is ${q.type} ${q.truthValue} about ${q.objectIds.join(", ")}`,
      );
    }
    const answer: VqaAnswerLabel = {
      status: "ok",
      value: a.value,
      unit: a.unit,
      boolean: a.boolean ?? null,
      choice: a.choice ?? null,
    };
    const chosen = a.choice === undefined ? undefined : truth.objects.find((o) => o.id === a.choice);
    const k = perType.get(q.type) ?? 0;
    perType.set(q.type, k + 1);
    records.push({
      id: `${o.idPrefix}_${q.type}_${k}`,
      image: o.image,
      conversations: [
        { from: "human", value: `${IMAGE_TOKEN}\n${q.text}` },
        { from: "gpt", value: a.text },
      ],
      question_type: q.type,
      answer,
      short_answer: phraseShortAnswer(q.type, a.value, chosen && displayName(chosen)),
      scene_seed: o.seed,
      split: o.split,
    });
  }
  return { records, skipped: generated.skipped, unanswered };
}
