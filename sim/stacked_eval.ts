import { isSpatialRewardError } from "../src/errors.js";
import { scoreAnswer } from "../src/eval/spatial_scoring.js";
import { mulberry32 } from "../src/random/mulberry32.js";
import { parseRewardSpec } from "../src/reward/parse_reward_spec.js";
import { specResidual } from "../src/reward/spec_residual.js";
import type { Scene, SceneObject } from "../src/scene/scene_object.js";
import { answerQuestion } from "../src/spatial/answer_question.js";
import { resolveObject } from "../src/spatial/object_resolver.js";
import { fillTemplate, QUESTION_TEMPLATES } from "../src/spatial/question_templates.js";
import { questionType, type QuestionTypeId } from "../src/spatial/question_types.js";
import type { SupportPair } from "./stacking.js";
import type { World } from "./world.js";

/**
 * Stacked-pair figures: for every object resting on another (sim/stacking.ts supportPairs),
 * questions and rewards whose answer hinges on the stack, asked of the perceived scene and
 * scored against the truth scene with the same definitions the evaluation uses:
 * - `elevation` of the object on top (its bottom above the table: the support's height);
 * - `above` / `below` both ways round (4 yes/no questions per pair);
 * - the reward "put the A on top of the B": success (residual 0 on this one frame) for the
 *   stacked pair, and no success for the pair reversed and for the nearest two objects both
 *   standing on the table (what a detector of "on top of" must not fire on).
 */
export interface StackedTally {
  scenes: number;
  scenesWithStack: number;
  pairs: number;
  /** Pairs left out: an object the truth scene does not hold (not visible enough) or cannot name uniquely. */
  pairsUnnamed: number;
  elevation: { n: number; within10: number; within0_5x2x: number; answered: number; relErrors: number[] };
  aboveBelow: { n: number; correct: number };
  onTop: { positives: number; positiveSuccess: number; reversed: number; reversedSuccess: number; sideBySide: number; sideBySideSuccess: number; unresolved: number };
}

export function emptyStackedTally(): StackedTally {
  return {
    scenes: 0, scenesWithStack: 0, pairs: 0, pairsUnnamed: 0,
    elevation: { n: 0, within10: 0, within0_5x2x: 0, answered: 0, relErrors: [] },
    aboveBelow: { n: 0, correct: 0 },
    onTop: { positives: 0, positiveSuccess: 0, reversed: 0, reversedSuccess: 0, sideBySide: 0, sideBySideSuccess: 0, unresolved: 0 },
  };
}

/** "mug" when the truth holds one mug, else "red mug"; null when neither names it alone. */
function uniqueName(objects: readonly SceneObject[], o: SceneObject): string | null {
  for (const name of [o.kind, `${o.color} ${o.kind}`]) {
    try {
      if (resolveObject(objects, name) === o) return name;
    } catch (e) {
      if (!isSpatialRewardError(e)) throw e;
    }
  }
  return null;
}

/** A salt apart from the evaluation's own question stream of the seed. */
const STACKED_SALT = 0x57ac4ed;

/**
 * Adds one scene's stacked-pair figures to `t`. `truth` is the scene the questions are scored
 * against (its ids are the world's object ids); `perceived` is what perception made of the
 * frame, null when the frame was rejected (every question then counts as unanswered).
 */
export function tallyStacked(t: StackedTally, world: World, pairs: readonly SupportPair[], truth: Scene, perceived: Scene | null, seed: number): void {
  const rng = mulberry32((seed ^ STACKED_SALT) >>> 0);
  t.scenes++;
  if (pairs.length > 0) t.scenesWithStack++;
  const byId = new Map(truth.objects.map((o) => [o.id, o]));
  const named = (id: string): { o: SceneObject; name: string } | null => {
    const o = byId.get(id);
    if (!o) return null;
    const name = uniqueName(truth.objects, o);
    return name === null ? null : { o, name };
  };
  const ask = (type: QuestionTypeId, objs: { o: SceneObject; name: string }[]) => {
    const templates = QUESTION_TEMPLATES[type];
    const text = fillTemplate(templates[Math.floor(rng() * templates.length) % templates.length], objs.map((x) => `the ${x.name}`));
    const category = questionType(type).category;
    const truthValue = questionType(type).truth(objs.map((x) => x.o), truth.supportZ);
    const answer = perceived ? answerQuestion(perceived, text, { seed }) : null;
    return scoreAnswer(type, category, truthValue, answer && answer.status === "ok" ? answer.value : NaN);
  };
  const succeeds = (a: string, b: string, scene: Scene): boolean | null => {
    try {
      return specResidual(parseRewardSpec(`put the ${a} on top of the ${b}`), scene) === 0;
    } catch (e) {
      if (!isSpatialRewardError(e)) throw e;
      return null;
    }
  };
  const onTop = (a: { name: string }, b: { name: string }, expected: boolean) => {
    const truthSays = succeeds(a.name, b.name, truth);
    if (truthSays !== expected) throw new Error(`stacked eval: the truth scene of seed ${seed} says ${truthSays} for "${a.name} on top of ${b.name}", the world ${expected}`);
    const seen = perceived ? succeeds(a.name, b.name, perceived) : null;
    if (seen === null) t.onTop.unresolved++;
    return seen === true;
  };
  for (const p of pairs) {
    t.pairs++;
    const a = named(p.top.id), b = named(p.base.id);
    if (!a || !b) {
      t.pairsUnnamed++;
      continue;
    }
    const e = ask("elevation", [a]);
    t.elevation.n++;
    if (e.within10pct) t.elevation.within10++;
    if (e.within0_5x2x) t.elevation.within0_5x2x++;
    if (Number.isFinite(e.answer)) {
      t.elevation.answered++;
      t.elevation.relErrors.push(Math.abs(e.answer - e.truth) / e.truth);
    }
    for (const [type, objs] of [["above", [a, b]], ["above", [b, a]], ["below", [a, b]], ["below", [b, a]]] as const) {
      t.aboveBelow.n++;
      if (ask(type, [...objs]).correct) t.aboveBelow.correct++;
    }
    t.onTop.positives++;
    if (onTop(a, b, true)) t.onTop.positiveSuccess++;
    t.onTop.reversed++;
    if (onTop(b, a, false)) t.onTop.reversedSuccess++;
  }
  // The nearest two objects both on the table: side by side, never one on the other.
  const onTable = world.objects.filter((o) => Math.abs(o.pose.z - world.tableZ) <= 1e-6);
  let best: [string, string] | null = null, bestD = Infinity;
  for (let i = 0; i < onTable.length; i++) {
    for (let j = i + 1; j < onTable.length; j++) {
      const d = Math.hypot(onTable[i].pose.x - onTable[j].pose.x, onTable[i].pose.y - onTable[j].pose.y);
      if (d < bestD && named(onTable[i].id) && named(onTable[j].id)) {
        bestD = d;
        best = [onTable[i].id, onTable[j].id];
      }
    }
  }
  if (best) {
    t.onTop.sideBySide++;
    if (onTop(named(best[0])!, named(best[1])!, false)) t.onTop.sideBySideSuccess++;
  }
}

const ratio = (k: number, n: number): number | null => (n === 0 ? null : Math.round((k / n) * 10000) / 10000);

function median(xs: readonly number[]): number | null {
  if (xs.length === 0) return null;
  const s = xs.slice().sort((x, y) => x - y);
  const m = s.length >> 1;
  return Math.round((s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2) * 10000) / 10000;
}

/** The JSON the eval prints under `stacked`. */
export function summarizeStacked(t: StackedTally) {
  return {
    scenes: t.scenes,
    scenes_with_stack: t.scenesWithStack,
    stacked_pairs: t.pairs,
    pairs_not_named: t.pairsUnnamed,
    elevation: {
      n: t.elevation.n,
      answered: ratio(t.elevation.answered, t.elevation.n),
      within_10pct: ratio(t.elevation.within10, t.elevation.n),
      within_0_5x_2x: ratio(t.elevation.within0_5x2x, t.elevation.n),
      median_relative_error: median(t.elevation.relErrors),
    },
    above_below: { n: t.aboveBelow.n, accuracy: ratio(t.aboveBelow.correct, t.aboveBelow.n) },
    on_top_of: {
      note: "reward 'put the A on top of the B' on one frame: success = residual 0",
      stacked_pairs: t.onTop.positives,
      success_rate: ratio(t.onTop.positiveSuccess, t.onTop.positives),
      reversed_pairs: t.onTop.reversed,
      reversed_false_success_rate: ratio(t.onTop.reversedSuccess, t.onTop.reversed),
      side_by_side_pairs: t.onTop.sideBySide,
      side_by_side_false_success_rate: ratio(t.onTop.sideBySideSuccess, t.onTop.sideBySide),
      unresolved: t.onTop.unresolved,
    },
  };
}
