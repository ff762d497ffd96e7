import type { QuestionCategory } from "../spatial/question_types.js";

/** One asked question and what came back, as the evaluator logs it. */
export interface ScoredAnswer {
  type: string;
  category: QuestionCategory;
  truth: number;
  /** NaN when no value was given (refusal, unknown object, unparsed). */
  answer: number;
  correct: boolean;
  within10pct: boolean;
  within0_5x2x: boolean;
}

/**
 * Scores one answer by the rules in src/spatial/DEFINITIONS.md: yes/no, which-one, o'clock,
 * count (the exact number), colour (the exact colour) and superlative (the same object, like
 * which-one) answers are right or wrong; metric answers are judged by ratio to the truth, as
 * in SpatialVLM's table ([0.5x, 2x]) and a stricter 10% band.
 */
export function scoreAnswer(type: string, category: QuestionCategory, truth: number, answer: number): ScoredAnswer {
  const given = Number.isFinite(answer);
  if (category === "quantitative") {
    const ratio = given && truth > 0 ? answer / truth : NaN;
    const within10pct = given && Math.abs(answer - truth) <= 0.1 * Math.abs(truth);
    const within0_5x2x = ratio >= 0.5 && ratio <= 2;
    return { type, category, truth, answer, correct: within10pct, within10pct, within0_5x2x };
  }
  const correct = given && answer === truth;
  return { type, category, truth, answer, correct, within10pct: correct, within0_5x2x: correct };
}

export interface TypeSummary {
  n: number;
  category: QuestionCategory;
  /** Non-metric: fraction right. Metric: fraction within 10%. */
  accuracy: number;
  answered: number;
  within_0_5x_2x: number;
  within_10pct: number;
  /** Metric only: median |answer − truth| / truth. */
  median_relative_error: number | null;
}

export interface SpatialEvalSummary {
  n_questions: number;
  /** yes/no, which-one and o'clock questions (not counts, colours or superlatives, scored in by_category). */
  n_qualitative: number;
  n_quantitative: number;
  /** yes/no, which-one and o'clock questions together, as SpatialVLM's qualitative column. */
  qualitative_accuracy: number;
  quantitative_answered: number;
  quantitative_within_0_5x_2x: number;
  quantitative_within_10pct: number;
  by_category: Record<string, { n: number; accuracy: number }>;
  by_type: Record<string, TypeSummary>;
}

const round4 = (x: number) => Math.round(x * 10000) / 10000;

export function summarize(scored: readonly ScoredAnswer[]): SpatialEvalSummary {
  const byType = new Map<string, ScoredAnswer[]>();
  for (const s of scored) {
    const list = byType.get(s.type) ?? [];
    list.push(s);
    byType.set(s.type, list);
  }
  const frac = (xs: readonly ScoredAnswer[], f: (s: ScoredAnswer) => boolean) => (xs.length ? round4(xs.filter(f).length / xs.length) : 0);
  const by_type: Record<string, TypeSummary> = {};
  for (const [type, xs] of [...byType.entries()].sort(([a], [b]) => a.localeCompare(b))) {
    const metric = xs[0].category === "quantitative";
    const rel = metric
      ? xs.filter((s) => Number.isFinite(s.answer)).map((s) => Math.abs(s.answer - s.truth) / s.truth).sort((a, b) => a - b)
      : [];
    by_type[type] = {
      n: xs.length,
      category: xs[0].category,
      accuracy: frac(xs, (s) => s.correct),
      answered: frac(xs, (s) => Number.isFinite(s.answer)),
      within_0_5x_2x: frac(xs, (s) => s.within0_5x2x),
      within_10pct: frac(xs, (s) => s.within10pct),
      median_relative_error: metric ? (rel.length ? round4(rel[Math.floor(rel.length / 2)]) : null) : null,
    };
  }
  // SpatialVLM's qualitative column, as before counts, colours and superlatives were asked: their
  // figures stay comparable across versions, and the new kinds are reported on their own.
  const qual = scored.filter((s) => s.category === "qualitative" || s.category === "choice" || s.category === "clock");
  const quant = scored.filter((s) => s.category === "quantitative");
  const by_category: Record<string, { n: number; accuracy: number }> = {};
  for (const cat of ["qualitative", "choice", "clock", "quantitative", "count", "color", "superlative"] as const) {
    const xs = scored.filter((s) => s.category === cat);
    by_category[cat] = { n: xs.length, accuracy: frac(xs, (s) => s.correct) };
  }
  return {
    n_questions: scored.length,
    n_qualitative: qual.length,
    n_quantitative: quant.length,
    qualitative_accuracy: frac(qual, (s) => s.correct),
    quantitative_answered: frac(quant, (s) => Number.isFinite(s.answer)),
    quantitative_within_0_5x_2x: frac(quant, (s) => s.within0_5x2x),
    quantitative_within_10pct: frac(quant, (s) => s.within10pct),
    by_category,
    by_type,
  };
}
