import { isSpatialRewardError } from "../errors.js";
import { Perception, type PerceptionOptions } from "../perception/perception.js";
import { mulberry32 } from "../random/mulberry32.js";
import type { Scene } from "../scene/scene_object.js";
import { answerQuestion } from "../spatial/answer_question.js";
import { sameQuestion } from "../spatial/question_equivalence.js";
import { parseQuestionOrReason, type ParsedQuestion } from "../spatial/question_parser.js";
import type { SpatialAnswer } from "../spatial/spatial_answer.js";
import { bindParaphrases } from "./paraphrase_binding.js";
import { PARAPHRASES, type ParaphraseEntry } from "./paraphrase_set.js";
import type { EvalSample } from "./spatial_eval.js";

/** What was parsed or answered, as a failure lists it. */
type Parse = ParsedQuestion | { reason: string };

export interface ParaphraseFailure {
  /** The entry's index in the paraphrase set. */
  index: number;
  scene_seed: number;
  type: string;
  paraphrase: string;
  canonical: string;
  /** "not_understood": parsed differently (or not at all); "different_answer": understood, answered otherwise. */
  kind: "not_understood" | "different_answer";
  parsed: Parse;
  expected: Parse;
  answer?: string;
  canonical_answer?: string;
}

export interface ParaphraseReport {
  scenes: number;
  /** Entries in the paraphrase set. */
  set_size: number;
  /** Paraphrases asked (entries bound to a scene, summed over scenes). */
  asked: number;
  /** Entries not asked on a scene because the scene cannot ask their type (summed over scenes). */
  unbound: number;
  /** Parsed to the same question as their canonical (sameQuestion). */
  understood: number;
  /** Answered exactly as their canonical: status, type, value, unit, objects, choice. */
  same_answer: number;
  understood_pct: number;
  same_answer_pct: number;
  /** Per type: asked, understood, same answer. */
  by_type: Record<string, { asked: number; understood: number; same_answer: number }>;
  /** Entries of the set that failed on at least one scene. */
  failing_entries: number;
  /** The first failure of each failing entry, in the order met (at most the tally's maxFailures). */
  failures: ParaphraseFailure[];
}

/** The fields two answers must share to be "the same answer" (the sentence may quote the question's own words). */
function answerKey(a: SpatialAnswer): string {
  return JSON.stringify([a.status, a.type, Number.isNaN(a.value) ? "NaN" : a.value, a.unit, a.subject, a.object, a.reference, a.choice ?? null, a.boolean ?? null]);
}

/** Accumulates paraphrase results over scenes. */
export class ParaphraseTally {
  private readonly report: ParaphraseReport;
  constructor(private readonly entries: readonly ParaphraseEntry[] = PARAPHRASES, private readonly maxFailures = 10) {
    this.report = {
      scenes: 0, set_size: entries.length, asked: 0, unbound: 0, understood: 0, same_answer: 0, understood_pct: 0,
      same_answer_pct: 0, by_type: {}, failing_entries: 0, failures: [],
    };
  }

  private readonly failed = new Set<number>();

  /**
   * Binds the set to `truth` (whose objects the generator names) and asks each paraphrase and
   * its canonical question about `scene` (the perceived scene, or the truth itself).
   */
  addScene(seed: number, truth: Scene, scene: Scene | null): void {
    const r = this.report;
    r.scenes++;
    const { bound, unbound } = bindParaphrases(truth, this.entries, mulberry32(seed ^ PARAPHRASE_SEED_SALT));
    r.unbound += unbound;
    for (const b of bound) {
      const t = (r.by_type[b.type] ??= { asked: 0, understood: 0, same_answer: 0 });
      r.asked++;
      t.asked++;
      const parsed = parseQuestionOrReason(b.paraphrase);
      const expected = parseQuestionOrReason(b.canonical);
      const understood = !("reason" in parsed) && !("reason" in expected) && sameQuestion(parsed, expected);
      // Without a scene (perception rejected the frame) only the parse is scored.
      const a = scene ? answerQuestion(scene, b.paraphrase, { seed }) : null;
      const c = scene ? answerQuestion(scene, b.canonical, { seed }) : null;
      const same = understood && (a === null || c === null || answerKey(a) === answerKey(c));
      if (understood) {
        r.understood++;
        t.understood++;
      }
      if (same) {
        r.same_answer++;
        t.same_answer++;
      }
      // One failure listed per entry: an entry that fails fails on most scenes, and would hide the others.
      const firstFailure = (!understood || !same) && !this.failed.has(b.index);
      if (firstFailure) {
        this.failed.add(b.index);
        r.failing_entries = this.failed.size;
      }
      if (firstFailure && r.failures.length < this.maxFailures) {
        r.failures.push({
          index: b.index,
          scene_seed: seed, type: b.type, paraphrase: b.paraphrase, canonical: b.canonical,
          kind: understood ? "different_answer" : "not_understood", parsed, expected,
          ...(a && c ? { answer: a.text, canonical_answer: c.text } : {}),
        });
      }
    }
    const pct = (x: number): number => (r.asked ? Math.round((10000 * x) / r.asked) / 100 : 0);
    r.understood_pct = pct(r.understood);
    r.same_answer_pct = pct(r.same_answer);
  }

  result(): ParaphraseReport {
    return structuredClone(this.report);
  }
}

/** Salt of the binding's random stream: a scene's paraphrases bind objects independently of eval's own questions. */
export const PARAPHRASE_SEED_SALT = 0x9a7a;

export interface ParaphraseEvalOptions {
  scenes: number;
  seed: number;
  perception?: Partial<PerceptionOptions>;
  entries?: readonly ParaphraseEntry[];
  maxFailures?: number;
  onProgress?: (done: number, total: number) => void;
}

/**
 * `eval --paraphrases`: on each seeded scene, every paraphrase and its canonical question bound
 * to the scene's objects, parsed and answered from what perception made of the frame.
 */
export function runParaphraseEval(sampleFor: (seed: number) => EvalSample, options: ParaphraseEvalOptions): ParaphraseReport {
  const tally = new ParaphraseTally(options.entries, options.maxFailures);
  for (let i = 0; i < options.scenes; i++) {
    const seed = options.seed + i;
    const sample = sampleFor(seed);
    let scene: Scene | null = null;
    try {
      scene = new Perception(options.perception).process(sample.frame);
    } catch (e) {
      if (!isSpatialRewardError(e)) throw e;
    }
    tally.addScene(seed, sample.truth, scene);
    options.onProgress?.(i + 1, options.scenes);
  }
  return tally.result();
}
