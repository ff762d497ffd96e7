import type { Relation, RewardSpec } from "./reward_spec.js";
import { RewardSpecError, examplesHint, quoted } from "./reward_spec_error.js";
import { expressionOf } from "./reward_spec_format.js";
import { RELATIONS, isRelation, validateRewardSpec } from "./reward_spec_validation.js";
import { MAX_REWARD_SPEC_DEPTH, MAX_REWARD_SPEC_TERMS, checkSpecTextLength } from "./spec_limits.js";

/** Defaults for arguments an expression may leave out; the instruction parser uses the same ones. */
export const DEFAULT_NEAR_THRESHOLD = 0.05;
export const DEFAULT_DISTANCE_TOLERANCE = 0.02;
export const DEFAULT_LIFT_HEIGHT = 0.1;

export const REWARD_OPS = ["near", "distance", "relation", "lift", "all", "any"] as const;
type Op = (typeof REWARD_OPS)[number];

const OP_SIGNATURES: Readonly<Record<Op, string>> = {
  near: "near(A, B[, threshold_m])",
  distance: "distance(A, B, goal_m[, tolerance_m])",
  relation: `relation(A, ${RELATIONS.join("|")}, B)`,
  lift: "lift(A[, height_m])",
  all: "all(spec, spec, ...)",
  any: "any(spec, spec, ...)",
};

const RELATION_ALIASES: ReadonlyMap<string, Relation> = new Map([
  ["left", "left_of"],
  ["right", "right_of"],
  ["in_front", "in_front_of"],
  ["front_of", "in_front_of"],
  ["behind_of", "behind"],
  ["on", "on_top_of"],
  ["on_top", "on_top_of"],
  ["onto", "on_top_of"],
]);

const LENGTH = /^([+-]?(?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?)\s*(m|cm|mm)?$/i;
// Divide rather than multiply: 20 / 100 is exactly the double nearest 0.2, 20 * 0.01 is not.
const UNIT_DIVISOR: Readonly<Record<string, number>> = { m: 1, cm: 100, mm: 1000 };

/** "0.05", "5cm", "50 mm" → metres. Bare numbers are metres. */
function parseLength(text: string, what: string, op: Op): number {
  const m = LENGTH.exec(text);
  if (!m) {
    throw new RewardSpecError(`${op}: ${what} must be a length in metres (e.g. 0.05 or 5cm), got ${quoted(text)}. ${OP_SIGNATURES[op]}.`);
  }
  // + 0 turns -0 into 0: "-0" means no length, and must print back as what it reads as.
  return Number(m[1]) / UNIT_DIVISOR[(m[2] ?? "m").toLowerCase()] + 0;
}

function parseRelation(text: string): Relation {
  const key = text.toLowerCase().replace(/[\s-]+/g, "_");
  if (isRelation(key)) return key;
  const alias = RELATION_ALIASES.get(key);
  if (alias) return alias;
  throw new RewardSpecError(`relation: unknown relation ${quoted(text)}; use one of ${RELATIONS.join(", ")}.`);
}

function isOp(s: string): s is Op {
  return (REWARD_OPS as readonly string[]).includes(s);
}

/**
 * Recursive descent over the text; `pos` only moves forward. One call of spec() per op, each
 * nesting level one deeper: both are counted against spec_limits.ts before recursing, so the
 * stack depth is bounded whatever the text.
 */
class ExpressionParser {
  private pos = 0;
  private ops = 0;
  constructor(private readonly text: string) {}

  parse(): RewardSpec {
    const spec = this.spec(1);
    this.skipSpaces();
    if (this.pos < this.text.length) this.fail(`unexpected ${quoted(this.text.slice(this.pos), 40)} after the expression`);
    return spec;
  }

  private spec(depth: number): RewardSpec {
    if (depth > MAX_REWARD_SPEC_DEPTH) this.fail(`all/any nested deeper than ${MAX_REWARD_SPEC_DEPTH} levels`);
    if (++this.ops > MAX_REWARD_SPEC_TERMS) this.fail(`more than ${MAX_REWARD_SPEC_TERMS} terms (leaves and all/any together)`);
    this.skipSpaces();
    const start = this.pos;
    while (this.pos < this.text.length && /[A-Za-z_]/.test(this.text[this.pos])) this.pos++;
    const name = this.text.slice(start, this.pos).toLowerCase();
    if (name === "") this.fail(`expected one of ${REWARD_OPS.join(", ")}`);
    if (!isOp(name)) {
      this.pos = start;
      this.fail(`unknown op ${quoted(name, 40)}; use one of ${REWARD_OPS.join(", ")}`);
    }
    this.skipSpaces();
    this.expect("(", name);
    if (name === "all" || name === "any") return { op: name, terms: this.terms(name, depth) };
    return this.leaf(name, this.rawArgs(name));
  }

  private terms(op: "all" | "any", depth: number): RewardSpec[] {
    const terms: RewardSpec[] = [];
    this.skipSpaces();
    if (this.text[this.pos] === ")") this.fail(`${op}() needs at least one term: ${OP_SIGNATURES[op]}`);
    for (;;) {
      terms.push(this.spec(depth + 1));
      this.skipSpaces();
      const c = this.text[this.pos];
      if (c === ",") this.pos++;
      else if (c === ")") {
        this.pos++;
        return terms;
      } else this.fail(`expected "," or ")" in ${op}(...)`);
    }
  }

  /** Comma-separated plain text up to the closing parenthesis. */
  private rawArgs(op: Op): string[] {
    const args: string[] = [];
    let start = this.pos;
    for (;;) {
      if (this.pos >= this.text.length) this.fail(`missing ")" to close ${op}(`);
      const c = this.text[this.pos];
      if (c === "(") this.fail(`unexpected "(" inside ${op}(...): ${OP_SIGNATURES[op]}`);
      if (c === "," || c === ")") {
        args.push(this.text.slice(start, this.pos).trim());
        this.pos++;
        if (c === ")") return args;
        start = this.pos;
      } else this.pos++;
    }
  }

  private leaf(op: Exclude<Op, "all" | "any">, args: string[]): RewardSpec {
    const arity: Record<typeof op, [number, number]> = { near: [2, 3], distance: [3, 4], relation: [3, 3], lift: [1, 2] };
    const [lo, hi] = arity[op];
    if (args.length < lo || args.length > hi) {
      const want = lo === hi ? `${lo}` : `${lo} or ${hi}`;
      throw new RewardSpecError(`${op} takes ${want} arguments, got ${args.length}: ${OP_SIGNATURES[op]}.`);
    }
    args.forEach((a, i) => {
      if (a === "") throw new RewardSpecError(`${op}: argument ${i + 1} is empty: ${OP_SIGNATURES[op]}.`);
    });
    switch (op) {
      case "near":
        return {
          op, a: args[0], b: args[1],
          threshold: args.length > 2 ? parseLength(args[2], "threshold", op) : DEFAULT_NEAR_THRESHOLD,
        };
      case "distance":
        return {
          op, a: args[0], b: args[1], goal: parseLength(args[2], "goal", op),
          tolerance: args.length > 3 ? parseLength(args[3], "tolerance", op) : DEFAULT_DISTANCE_TOLERANCE,
        };
      case "relation":
        return { op, a: args[0], relation: parseRelation(args[1]), b: args[2] };
      case "lift":
        return { op, a: args[0], height: args.length > 1 ? parseLength(args[1], "height", op) : DEFAULT_LIFT_HEIGHT };
    }
  }

  private skipSpaces(): void {
    while (this.pos < this.text.length && /\s/.test(this.text[this.pos])) this.pos++;
  }

  private expect(c: string, op: string): void {
    if (this.text[this.pos] !== c) this.fail(`expected "${c}" after "${op}"`);
    this.pos++;
  }

  private fail(why: string): never {
    throw new RewardSpecError(`Bad reward expression at column ${this.pos + 1} of ${quoted(this.text)}: ${why}. ${examplesHint()}`);
  }
}

/** `near(red mug, blue bowl, 0.05)`, `all(lift(apple), relation(mug, left_of, bowl))`, ... */
export function parseRewardExpression(text: string): RewardSpec {
  if (typeof text !== "string") throw new RewardSpecError(`A reward expression must be text, got ${typeof text}. ${examplesHint()}`);
  checkSpecTextLength(text);
  const spec = new ExpressionParser(text).parse();
  validateRewardSpec(spec);
  return spec;
}

/** Starts like `name(`: the text is meant as an expression, so its errors are expression errors. */
export function looksLikeExpression(text: string): boolean {
  return /^\s*[A-Za-z_]+\s*\(/.test(text);
}

/** The expression form of a spec; `parseRewardExpression(formatRewardSpec(s))` deep-equals `s`. */
export function formatRewardSpec(spec: RewardSpec): string {
  validateRewardSpec(spec);
  return expressionOf(spec);
}
