import { ObjectReferenceError } from "../errors.js";
import type { Scene, SceneObject } from "../scene/scene_object.js";
import { resolveObject } from "./object_resolver.js";
import { fillTemplate, QUESTION_TEMPLATES } from "./question_templates.js";
import { QUESTION_TYPES, type AmbiguityReason, type QuestionTypeId } from "./question_types.js";

/** One question for the evaluator, with the answer the truth scene gives. */
export interface GeneratedQuestion {
  type: QuestionTypeId;
  /** The question as a person would type it: "How far is the mug from the blue bowl?". */
  text: string;
  /** Names the question uses for slots A, B, C, without the article: "mug", "blue bowl". */
  slots: string[];
  /** Ids of the slot objects in the truth scene. */
  objectIds: string[];
  /** The type's truth function on the truth scene (encoding: see question_types.ts). */
  truthValue: number;
}

/** Why a candidate question (one type with one choice of slot objects) was not asked. */
export type SkipReason = AmbiguityReason | "too_few_objects";

export interface GeneratedQuestions {
  questions: GeneratedQuestion[];
  /** Rejected candidates by reason; every type that yields fewer than perType questions shows up here. */
  skipped: Partial<Record<SkipReason, number>>;
  /** Types that produced no question at all, with the reason of their last rejected candidate. */
  unasked: { type: QuestionTypeId; reason: SkipReason }[];
  /** Objects left out because no phrase names them uniquely (e.g. two red mugs). */
  unnameable: string[];
}

export interface GenerateOptions {
  /** Questions per type (distinct slot assignments), default 1. */
  perType?: number;
  /** Restrict to these types (default: all). */
  types?: readonly QuestionTypeId[];
}

/** "mug" when the scene has one mug, else "red mug"; null when even that is not unique. */
function shortestUniqueName(objects: readonly SceneObject[], o: SceneObject): string | null {
  const names = o.color ? [o.kind, `${o.color} ${o.kind}`] : [o.kind];
  for (const name of names) {
    try {
      if (resolveObject(objects, name) === o) return name;
    } catch (e) {
      if (!(e instanceof ObjectReferenceError)) throw e;
    }
  }
  return null;
}

/** All ordered selections of k distinct indices out of n. */
function arrangements(n: number, k: number): number[][] {
  const out: number[][] = [];
  const cur: number[] = [];
  const used = new Array<boolean>(n).fill(false);
  const rec = (): void => {
    if (cur.length === k) { out.push(cur.slice()); return; }
    for (let i = 0; i < n; i++) {
      if (used[i]) continue;
      used[i] = true; cur.push(i);
      rec();
      cur.pop(); used[i] = false;
    }
  };
  rec();
  return out;
}

function shuffle<T>(xs: T[], rng: () => number): T[] {
  for (let i = xs.length - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    const t = xs[i]; xs[i] = xs[j]; xs[j] = t;
  }
  return xs;
}

/**
 * Questions about the truth scene for the evaluator: for each type, slot assignments of
 * distinct, uniquely nameable objects are tried in random order until `perType` of them are
 * not ambiguous; each ambiguous candidate is counted in `skipped`. Each question uses a
 * random phrasing of its type, so evaluation also exercises the parser.
 */
export function generateQuestions(truth: Scene, rng: () => number, options?: GenerateOptions): GeneratedQuestions {
  const perType = options?.perType ?? 1;
  const wanted = options?.types ? new Set(options.types) : null;
  const named: { object: SceneObject; name: string }[] = [];
  const unnameable: string[] = [];
  for (const o of truth.objects) {
    const name = shortestUniqueName(truth.objects, o);
    if (name === null) unnameable.push(o.id);
    else named.push({ object: o, name });
  }
  const result: GeneratedQuestions = { questions: [], skipped: {}, unasked: [], unnameable };
  const skip = (reason: SkipReason): void => {
    result.skipped[reason] = (result.skipped[reason] ?? 0) + 1;
  };
  const byArity = new Map<number, number[][]>();
  for (const t of QUESTION_TYPES) {
    if (wanted && !wanted.has(t.id)) continue;
    if (named.length < t.arity) {
      skip("too_few_objects");
      result.unasked.push({ type: t.id, reason: "too_few_objects" });
      continue;
    }
    if (!byArity.has(t.arity)) byArity.set(t.arity, arrangements(named.length, t.arity));
    const candidates = shuffle(byArity.get(t.arity)!.slice(), rng);
    let asked = 0;
    let lastReason: SkipReason = "too_few_objects";
    for (const idx of candidates) {
      if (asked >= perType) break;
      const objects = idx.map((i) => named[i].object);
      const reason = t.ambiguity(objects, truth.supportZ);
      if (reason !== null) {
        skip(reason);
        lastReason = reason;
        continue;
      }
      const slots = idx.map((i) => named[i].name);
      const templates = QUESTION_TEMPLATES[t.id];
      const template = templates[Math.min(templates.length - 1, Math.floor(rng() * templates.length))];
      result.questions.push({
        type: t.id,
        text: fillTemplate(template, slots.map((s) => `the ${s}`)),
        slots,
        objectIds: objects.map((o) => o.id),
        truthValue: t.truth(objects, truth.supportZ),
      });
      asked++;
    }
    if (asked === 0) result.unasked.push({ type: t.id, reason: lastReason });
  }
  return result;
}
