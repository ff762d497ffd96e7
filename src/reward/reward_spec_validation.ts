import type { Relation, RewardSpec } from "./reward_spec.js";
import { RewardSpecError } from "./reward_spec_error.js";

export const RELATIONS: readonly Relation[] = ["left_of", "right_of", "in_front_of", "behind", "on_top_of"];

export function isRelation(s: string): s is Relation {
  return (RELATIONS as readonly string[]).includes(s);
}

/**
 * Characters that would break the expression form's round trip. Object phrases are free text
 * otherwise: the resolver decides at run time whether the scene holds what they name.
 */
const PHRASE_FORBIDDEN = /[(),]/;

function checkPhrase(phrase: unknown, where: string): void {
  if (typeof phrase !== "string" || phrase.trim() === "") {
    throw new RewardSpecError(`${where}: an object phrase must be a non-empty string, got ${JSON.stringify(phrase)}.`);
  }
  if (PHRASE_FORBIDDEN.test(phrase)) {
    throw new RewardSpecError(`${where}: object phrase "${phrase}" may not contain "(", ")" or ",".`);
  }
  if (phrase !== phrase.trim()) {
    throw new RewardSpecError(`${where}: object phrase "${phrase}" has leading or trailing spaces.`);
  }
}

function checkLength(value: unknown, name: string, where: string, allowZero: boolean): void {
  if (typeof value !== "number" || !Number.isFinite(value) || value < 0 || (!allowZero && value === 0)) {
    const want = allowZero ? "a finite length ≥ 0 m" : "a finite length > 0 m";
    throw new RewardSpecError(`${where}: ${name} must be ${want}, got ${String(value)}.`);
  }
}

/**
 * Throws a RewardSpecError unless `spec` is well formed. Specs built in code or read from
 * parameters (JSON) get the same checks as parsed ones, so the tracker can trust its input.
 */
export function validateRewardSpec(spec: RewardSpec, where = "reward spec"): void {
  if (spec === null || typeof spec !== "object") {
    throw new RewardSpecError(`${where}: expected an object with an "op", got ${JSON.stringify(spec)}.`);
  }
  switch (spec.op) {
    case "near":
      checkPhrase(spec.a, `${where} near`);
      checkPhrase(spec.b, `${where} near`);
      checkLength(spec.threshold, "threshold", `${where} near`, true);
      return;
    case "distance":
      checkPhrase(spec.a, `${where} distance`);
      checkPhrase(spec.b, `${where} distance`);
      checkLength(spec.goal, "goal", `${where} distance`, true);
      checkLength(spec.tolerance, "tolerance", `${where} distance`, true);
      return;
    case "relation":
      checkPhrase(spec.a, `${where} relation`);
      checkPhrase(spec.b, `${where} relation`);
      if (typeof spec.relation !== "string" || !isRelation(spec.relation)) {
        throw new RewardSpecError(
          `${where} relation: unknown relation ${JSON.stringify(spec.relation)}; use one of ${RELATIONS.join(", ")}.`,
        );
      }
      return;
    case "lift":
      checkPhrase(spec.a, `${where} lift`);
      checkLength(spec.height, "height", `${where} lift`, false);
      return;
    case "all":
    case "any":
      if (!Array.isArray(spec.terms) || spec.terms.length === 0) {
        throw new RewardSpecError(`${where} ${spec.op}: needs at least one term.`);
      }
      spec.terms.forEach((t, i) => validateRewardSpec(t, `${where} ${spec.op}[${i}]`));
      return;
    default: {
      const op: unknown = (spec as { op?: unknown }).op;
      throw new RewardSpecError(
        `${where}: unknown op ${JSON.stringify(op)}; use near, distance, relation, lift, all or any.`,
      );
    }
  }
}
