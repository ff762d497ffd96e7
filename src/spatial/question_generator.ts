import { ObjectReferenceError } from "../errors.js";
import { COLOR_NAMES } from "../scene/colors.js";
import { KINDS } from "../scene/kinds.js";
import { displayName, type Scene, type SceneObject } from "../scene/scene_object.js";
import { resolveObject, resolveSet } from "./object_resolver.js";
import { fillTemplate, QUESTION_TEMPLATES } from "./question_templates.js";
import { QUESTION_TYPES, superlativeChoice, type AmbiguityReason, type QuestionType, type QuestionTypeId } from "./question_types.js";
import { pluralPhrase } from "./set_phrase.js";

/** One question for the evaluator, with the answer the truth scene gives. */
export interface GeneratedQuestion {
  type: QuestionTypeId;
  /** The question as a person would type it: "How far is the mug from the blue bowl?". */
  text: string;
  /**
   * Names the question uses for slots A, B, C, without the article: "mug", "blue bowl"; a set
   * slot's phrase as the question says it: "red cubes" (count), "cup", "object" (superlative).
   */
  slots: string[];
  /**
   * Ids of the slot objects in the truth scene; for a superlative, the chosen object's id in
   * place of the set (then slot B's); none for a count.
   */
  objectIds: string[];
  /** The type's truth function on the truth scene (encoding: see question_types.ts). */
  truthValue: number;
}

/**
 * Why a candidate question (one type with one choice of slot objects) was not asked. Besides
 * the ambiguity reasons: too few nameable objects; a colour question whose object can only be
 * named by its colour ("what colour is the red mug"); a superlative over a set with two objects
 * of the same colour and kind (its answer could not say which).
 */
export type SkipReason = AmbiguityReason | "too_few_objects" | "named_by_colour" | "names_not_unique";

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
  const pickTemplate = (id: QuestionTypeId): string => {
    const templates = QUESTION_TEMPLATES[id];
    return templates[Math.min(templates.length - 1, Math.floor(rng() * templates.length))];
  };
  for (const t of QUESTION_TYPES) {
    if (wanted && !wanted.has(t.id)) continue;
    if (t.category === "count" || t.category === "color" || t.category === "superlative") {
      const asked = (t.category === "count" ? countQuestions : t.category === "color" ? colorQuestions : superlativeQuestions)(
        truth, t, named, perType, rng, pickTemplate, skip,
      );
      result.questions.push(...asked.questions);
      if (asked.questions.length === 0) result.unasked.push({ type: t.id, reason: asked.lastReason });
      continue;
    }
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

type Skip = (reason: SkipReason) => void;
type Named = readonly { object: SceneObject; name: string }[];
interface Asked {
  questions: GeneratedQuestion[];
  lastReason: SkipReason;
}

/**
 * Counting questions: sets of the scene's kinds, colours ("red things"), colour and kind
 * ("red mugs"), every object, and two kinds the scene does not hold (a count of 0 is an answer
 * too), in random order.
 */
function countQuestions(truth: Scene, t: QuestionType, _named: Named, perType: number, rng: () => number, pickTemplate: (id: QuestionTypeId) => string, _skip: Skip): Asked {
  const present = new Set<string>();
  for (const o of truth.objects) {
    present.add(pluralPhrase(o.kind));
    if (COLOR_NAMES.includes(o.color)) {
      present.add(`${o.color} things`);
      present.add(pluralPhrase(`${o.color} ${o.kind}`));
    }
  }
  present.add("objects");
  const absent = shuffle(KINDS.filter((k) => !truth.objects.some((o) => o.kind === k.kind)).map((k) => k.plural), rng).slice(0, 2);
  const phrases = shuffle([...present, ...absent].sort(), rng);
  const questions: GeneratedQuestion[] = [];
  for (const phrase of phrases.slice(0, perType)) {
    const members = resolveSet(truth.objects, phrase);
    questions.push({
      type: t.id, text: fillTemplate(pickTemplate(t.id), [phrase]), slots: [phrase], objectIds: [],
      truthValue: t.truth(members, truth.supportZ),
    });
  }
  return { questions, lastReason: "too_few_objects" };
}

/** Colour questions about objects the scene names by kind alone ("the lemon"). */
function colorQuestions(truth: Scene, t: QuestionType, named: Named, perType: number, rng: () => number, pickTemplate: (id: QuestionTypeId) => string, skip: Skip): Asked {
  const questions: GeneratedQuestion[] = [];
  let lastReason: SkipReason = "too_few_objects";
  for (const { object, name } of shuffle(named.slice(), rng)) {
    if (questions.length >= perType) break;
    if (name !== object.kind) {
      skip("named_by_colour");
      lastReason = "named_by_colour";
      continue;
    }
    const reason = t.ambiguity([object], truth.supportZ);
    if (reason !== null) {
      skip(reason);
      lastReason = reason;
      continue;
    }
    questions.push({
      type: t.id, text: fillTemplate(pickTemplate(t.id), [`the ${name}`]), slots: [name], objectIds: [object.id],
      truthValue: t.truth([object], truth.supportZ),
    });
  }
  return { questions, lastReason };
}

/**
 * Superlatives over sets of at least two objects (every object, a kind, a colour) whose members
 * all have a unique colour + kind name, so the answer names one object; with slot B, every
 * nameable reference outside the set.
 */
function superlativeQuestions(truth: Scene, t: QuestionType, named: Named, perType: number, rng: () => number, pickTemplate: (id: QuestionTypeId) => string, skip: Skip): Asked {
  const sets = new Set<string>(["object"]);
  for (const o of truth.objects) {
    sets.add(o.kind);
    if (COLOR_NAMES.includes(o.color)) sets.add(`${o.color} thing`);
  }
  const nameCount = new Map<string, number>();
  for (const o of truth.objects) nameCount.set(displayName(o), (nameCount.get(displayName(o)) ?? 0) + 1);
  const references: (SceneObject | undefined)[] = t.arity === 2 ? named.map((n) => n.object) : [undefined];
  const candidates: [string, SceneObject | undefined][] = [];
  for (const set of [...sets].sort()) for (const r of references) candidates.push([set, r]);
  const questions: GeneratedQuestion[] = [];
  let lastReason: SkipReason = "too_few_objects";
  const fail = (reason: SkipReason): void => {
    skip(reason);
    lastReason = reason;
  };
  for (const [set, reference] of shuffle(candidates, rng)) {
    if (questions.length >= perType) break;
    const members = resolveSet(truth.objects, set, reference);
    if (members.length < 2) {
      fail("too_few_objects");
      continue;
    }
    if (members.some((m) => nameCount.get(displayName(m)) !== 1)) {
      fail("names_not_unique");
      continue;
    }
    const args = reference ? [...members, reference] : members;
    const reason = t.ambiguity(args, truth.supportZ);
    if (reason !== null) {
      fail(reason);
      continue;
    }
    const value = t.truth(args, truth.supportZ);
    const chosen = members[superlativeChoice(t.id, args)];
    const refName = reference ? named.find((n) => n.object === reference)!.name : undefined;
    questions.push({
      type: t.id,
      text: fillTemplate(pickTemplate(t.id), refName === undefined ? [set] : [set, `the ${refName}`]),
      slots: refName === undefined ? [set] : [set, refName],
      objectIds: reference ? [chosen.id, reference.id] : [chosen.id],
      truthValue: value,
    });
  }
  return { questions, lastReason };
}
