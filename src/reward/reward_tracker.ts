import { InvalidInputError, ObjectReferenceError } from "../errors.js";
import { displayName, type Scene, type SceneObject } from "../scene/scene_object.js";
import { resolveObject } from "../spatial/object_resolver.js";
import { formatRewardSpec } from "./reward_expression.js";
import type { RewardResult, RewardSpec } from "./reward_spec.js";
import { validateRewardSpec } from "./reward_spec_validation.js";
import { leafResidual, lowestBottom, type LeafSpec } from "./spec_geometry.js";
import { SuccessHysteresis, type SuccessHysteresisOptions } from "./success_hysteresis.js";

export interface RewardTrackerOptions {
  /** Residual (m) at or below which the spec counts as satisfied; default 0 (exactly satisfied). */
  successTolerance?: number;
  /**
   * Hysteresis on success, for perceived scenes (success_hysteresis.ts): `true` for the
   * defaults, or the options. Without it (default) success is the residual within the
   * tolerance, frame by frame: what ground truth and mocap poses want.
   */
  hysteresis?: boolean | Partial<SuccessHysteresisOptions>;
}

/** Progress while success waits for its frames: as close to 1 as a double says, never 1. */
const ALMOST_ONE = 1 - Number.EPSILON;

/** The spec compiled once: phrases become slot numbers, leaves get their index in `terms`. */
type Node =
  | { leaf: true; spec: LeafSpec; slotA: number; slotB: number; term: number }
  | { leaf: false; any: boolean; children: Node[] };

/**
 * Rewards for one rearrangement spec over a stream of scenes. Object phrases are resolved
 * with resolveObject (never guessing: unknown or ambiguous references throw its
 * ObjectReferenceError) and the resolution is cached while the scene holds the same
 * objects (same ids, kinds and colours in the same order), so a steady scene costs a few
 * string comparisons and the arithmetic of the terms per frame.
 */
export class RewardTracker {
  readonly spec: RewardSpec;
  /** Each leaf term in expression form, in the order of RewardResult.terms. */
  readonly termLabels: readonly string[];
  private readonly successTolerance: number;
  private readonly root: Node;
  private readonly phrases: string[] = [];
  private readonly needsSupport: boolean;
  /** Index into scene.objects of each phrase's object, valid while the cache key holds. */
  private readonly slotObject: Int32Array;
  private cacheValid = false;
  private readonly cachedIds: string[] = [];
  private readonly cachedKinds: string[] = [];
  private readonly cachedColors: string[] = [];
  private readonly leafPairs: Int32Array;
  private readonly terms: Float64Array;
  private initialExcess: number | null = null;
  private firstResidual: number | null = null;
  private readonly hysteresis: SuccessHysteresis | null;

  constructor(spec: RewardSpec, options: RewardTrackerOptions = {}) {
    validateRewardSpec(spec);
    const tol = options.successTolerance ?? 0;
    if (!Number.isFinite(tol) || tol < 0) {
      throw new InvalidInputError("bad_argument", `successTolerance must be a finite length ≥ 0 m, got ${tol}.`);
    }
    this.spec = spec;
    this.successTolerance = tol;
    const h = options.hysteresis;
    this.hysteresis = h === undefined || h === false ? null : new SuccessHysteresis(h === true ? {} : h);
    const labels: string[] = [];
    const pairs: number[] = [];
    let needsSupport = false;
    const compile = (s: RewardSpec): Node => {
      if (s.op === "all" || s.op === "any") return { leaf: false, any: s.op === "any", children: s.terms.map(compile) };
      labels.push(formatRewardSpec(s));
      const slotA = this.slotOf(s.a);
      const slotB = s.op === "lift" ? slotA : this.slotOf(s.b);
      if (s.op === "lift") needsSupport = true;
      else pairs.push(slotA, slotB);
      return { leaf: true, spec: s, slotA, slotB, term: labels.length - 1 };
    };
    this.root = compile(spec);
    this.termLabels = labels;
    this.needsSupport = needsSupport;
    this.leafPairs = Int32Array.from(pairs);
    this.slotObject = new Int32Array(this.phrases.length);
    this.terms = new Float64Array(labels.length);
  }

  /** Starts a new episode: the next update's residual becomes the progress baseline. */
  reset(): void {
    this.initialExcess = null;
    this.firstResidual = null;
    this.hysteresis?.reset();
  }

  /** The residual at the first frame after reset, or null before it. */
  get initialResidual(): number | null {
    return this.firstResidual;
  }

  /** One frame's reward, with a fresh copy of the per-term residuals. */
  update(scene: Scene): RewardResult {
    return this.updateInto(scene, { stamp: 0n, reward: 0, progress: 0, success: false, residual: 0 });
  }

  /**
   * Allocation-free form of update: fills `out` (its `terms` array is reused when it has the
   * right length) and returns it.
   */
  updateInto(scene: Scene, out: RewardResult): RewardResult {
    const objects = scene.objects;
    if (!this.cacheValid || !this.sameObjects(objects)) this.resolve(objects);
    const supportZ = this.needsSupport ? (scene.supportZ ?? lowestBottom(objects)) : 0;
    const residual = this.evaluate(this.root, objects, supportZ);
    if (!(residual >= 0) || residual === Infinity) this.throwNonFinite(objects);
    const excess = Math.max(0, residual - this.successTolerance);
    if (this.initialExcess === null) {
      this.initialExcess = excess;
      this.firstResidual = residual;
    }
    const e0 = this.initialExcess;
    // Measured past the tolerance so progress reaches 1 exactly when success does.
    let progress = e0 === 0 ? (excess === 0 ? 1 : 0) : Math.min(1, Math.max(0, 1 - excess / e0));
    let success = excess === 0;
    if (this.hysteresis) {
      // Progress stays 1 exactly while success holds: through a tolerated excursion, and not
      // before success has its frames.
      success = this.hysteresis.update(excess);
      progress = success ? 1 : Math.min(progress, ALMOST_ONE);
    }
    out.stamp = scene.stamp;
    out.reward = -residual;
    out.progress = progress;
    out.success = success;
    out.residual = residual;
    if (out.terms === undefined || out.terms.length !== this.terms.length) out.terms = new Float64Array(this.terms.length);
    out.terms.set(this.terms);
    return out;
  }

  private slotOf(phrase: string): number {
    const i = this.phrases.indexOf(phrase);
    if (i >= 0) return i;
    this.phrases.push(phrase);
    return this.phrases.length - 1;
  }

  private sameObjects(objects: readonly SceneObject[]): boolean {
    const n = objects.length;
    if (n !== this.cachedIds.length) return false;
    for (let i = 0; i < n; i++) {
      const o = objects[i];
      if (o.id !== this.cachedIds[i] || o.kind !== this.cachedKinds[i] || o.color !== this.cachedColors[i]) return false;
    }
    return true;
  }

  private resolve(objects: readonly SceneObject[]): void {
    this.cacheValid = false;
    for (let s = 0; s < this.phrases.length; s++) {
      this.slotObject[s] = objects.indexOf(resolveObject(objects, this.phrases[s]));
    }
    for (let p = 0; p < this.leafPairs.length; p += 2) {
      const a = this.slotObject[this.leafPairs[p]];
      const b = this.slotObject[this.leafPairs[p + 1]];
      if (a === b) {
        const pa = this.phrases[this.leafPairs[p]];
        const pb = this.phrases[this.leafPairs[p + 1]];
        throw new ObjectReferenceError(
          "ambiguous_object",
          `"${pa}" and "${pb}" both refer to the ${displayName(objects[a])}; a term needs two different objects.`,
          objects.map(displayName),
        );
      }
    }
    this.cachedIds.length = this.cachedKinds.length = this.cachedColors.length = objects.length;
    for (let i = 0; i < objects.length; i++) {
      this.cachedIds[i] = objects[i].id;
      this.cachedKinds[i] = objects[i].kind;
      this.cachedColors[i] = objects[i].color;
    }
    this.cacheValid = true;
  }

  private evaluate(node: Node, objects: readonly SceneObject[], supportZ: number): number {
    if (node.leaf) {
      const r = leafResidual(node.spec, objects[this.slotObject[node.slotA]], objects[this.slotObject[node.slotB]], supportZ);
      this.terms[node.term] = r;
      return r;
    }
    const children = node.children;
    // Every child is evaluated, even under `any`, so each term's residual is reported.
    let acc = node.any ? Infinity : 0;
    for (let i = 0; i < children.length; i++) {
      const r = this.evaluate(children[i], objects, supportZ);
      acc = node.any ? Math.min(acc, r) : acc + r;
    }
    return acc;
  }

  private throwNonFinite(objects: readonly SceneObject[]): never {
    const finite = (o: SceneObject): boolean =>
      [o.center.x, o.center.y, o.center.z, o.size.x, o.size.y, o.size.z].every(Number.isFinite);
    const bad = Array.from(this.slotObject, (i) => objects[i]).find((o) => !finite(o)) ?? objects.find((o) => !finite(o));
    const what = bad ? `object ${bad.id} has a non-finite centre or size` : "the scene's supportZ is not finite";
    throw new InvalidInputError("bad_argument", `Cannot compute the reward: ${what}.`);
  }
}
