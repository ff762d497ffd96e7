import type { Relation, RewardSpec } from "./reward_spec.js";
import { RewardSpecError, describeValue } from "./reward_spec_error.js";
import { expressionOf } from "./reward_spec_format.js";
import { MAX_REWARD_SPEC_DEPTH, MAX_REWARD_SPEC_LENGTH, MAX_REWARD_SPEC_TERMS, tooDeep, tooManyTerms } from "./spec_limits.js";

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
    throw new RewardSpecError(`${where}: an object phrase must be a non-empty string, got ${describeValue(phrase)}.`);
  }
  if (PHRASE_FORBIDDEN.test(phrase)) {
    throw new RewardSpecError(`${where}: object phrase ${describeValue(phrase)} may not contain "(", ")" or ",".`);
  }
  if (phrase !== phrase.trim()) {
    throw new RewardSpecError(`${where}: object phrase ${describeValue(phrase)} has leading or trailing spaces.`);
  }
}

function checkLength(value: unknown, name: string, where: string, allowZero: boolean): void {
  if (typeof value !== "number" || !Number.isFinite(value) || value < 0 || (!allowZero && value === 0)) {
    const want = allowZero ? "a finite length ≥ 0 m" : "a finite length > 0 m";
    throw new RewardSpecError(`${where}: ${name} must be ${want}, got ${describeValue(value)}.`);
  }
}

/**
 * Throws a RewardSpecError unless `spec` is well formed. Specs built in code or read from
 * parameters (JSON) get the same checks as parsed ones, so the tracker can trust its input:
 * nesting and size are bounded (spec_limits.ts) before anything recurses deeper, which also
 * stops a spec object that contains itself, and the expression form fits the text limit.
 */
export function validateRewardSpec(spec: RewardSpec, where = "reward spec"): void {
  validate(spec, where, 1, { terms: 0 });
  // Every valid spec reads back from its expression form, so that form must fit the text limit
  // (defaults written out can make it longer than the text it was parsed from).
  const length = expressionOf(spec).length;
  if (length > MAX_REWARD_SPEC_LENGTH) {
    throw new RewardSpecError(
      `${where}: its expression form would be ${length} characters, over the limit of ${MAX_REWARD_SPEC_LENGTH}.`,
      "input_too_long",
    );
  }
}

function validate(spec: RewardSpec, where: string, depth: number, seen: { terms: number }): void {
  if (depth > MAX_REWARD_SPEC_DEPTH) throw tooDeep(where);
  if (++seen.terms > MAX_REWARD_SPEC_TERMS) throw tooManyTerms(where);
  if (spec === null || typeof spec !== "object") {
    throw new RewardSpecError(`${where}: expected an object with an "op", got ${describeValue(spec)}.`);
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
          `${where} relation: unknown relation ${describeValue(spec.relation)}; use one of ${RELATIONS.join(", ")}.`,
        );
      }
      return;
    case "lift":
      checkPhrase(spec.a, `${where} lift`);
      checkLength(spec.height, "height", `${where} lift`, false);
      return;
    case "all":
    case "any": {
      const terms: unknown = spec.terms;
      if (!Array.isArray(terms) || terms.length === 0) {
        throw new RewardSpecError(`${where} ${spec.op}: needs at least one term.`);
      }
      if (terms.length > MAX_REWARD_SPEC_TERMS) throw tooManyTerms(`${where} ${spec.op}`);
      // Indexed, not forEach: a hole in a sparse array is a missing term, not one to skip.
      for (let i = 0; i < terms.length; i++) validate(terms[i] as RewardSpec, `${where} ${spec.op}[${i}]`, depth + 1, seen);
      return;
    }
    default: {
      const op: unknown = (spec as { op?: unknown }).op;
      throw new RewardSpecError(
        `${where}: unknown op ${describeValue(op)}; use near, distance, relation, lift, all or any.`,
      );
    }
  }
}
