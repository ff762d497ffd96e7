import { COLOR_NAMES } from "../scene/colors.js";
import { displayName, type SceneObject } from "../scene/scene_object.js";
import { objectNameCode } from "./object_name_code.js";

/**
 * The spatial question types and the one function per type that defines its answer.
 *
 * The evaluator applies `truth` to the simulator's ground-truth scene and the answerer applies
 * the same function to the perceived scene, so any disagreement between the two is a
 * perception error, never a definitional one. Definitions: DEFINITIONS.md next to this file.
 */
export const QUESTION_TYPE_IDS = [
  // qualitative yes/no (A, B)
  "left_of", "right_of", "above", "below", "in_front_of", "behind",
  "taller", "shorter", "wider", "thinner", "bigger", "smaller",
  // choice "which one" (A, B), and which_closer_to (A, B, C)
  "which_left", "which_right", "which_higher", "which_lower", "which_closer", "which_farther",
  "which_taller", "which_shorter", "which_wider", "which_thinner", "which_bigger", "which_smaller",
  "which_closer_to",
  // quantitative, metres
  "distance", "horizontal_distance", "vertical_distance", "gap", "width", "height", "depth",
  "distance_from_camera", "elevation", "lateral_offset", "depth_offset", "height_difference", "size",
  // clock
  "clock_direction",
  // counting: how many objects of a set (colour and/or kind, or every object)
  "count",
  // colour of one object
  "color",
  // superlatives: the one object of a set with the extreme measure; closest_to/farthest_from (set, B)
  "leftmost", "rightmost", "highest", "lowest", "closest", "farthest",
  "tallest", "shortest", "widest", "thinnest", "biggest", "smallest",
  "closest_to", "farthest_from",
] as const;

export type QuestionTypeId = (typeof QUESTION_TYPE_IDS)[number];

/**
 * qualitative: yes/no; choice: which of two objects; quantitative: metres; clock: o'clock hour;
 * count: how many objects; color: an object's colour; superlative: which object of a set.
 */
export type QuestionCategory = "qualitative" | "choice" | "quantitative" | "clock" | "count" | "color" | "superlative";

/**
 * What a slot names: one object ("the red mug"), or a set: every object of a colour and/or a
 * kind ("cups", "red things", "objects"). Only slot A of count and superlative types is a set.
 */
export type SlotRole = "object" | "set";

/** Why a question is too close to call (or meaningless) and must not be asked. */
export type AmbiguityReason =
  /** The compared quantities differ by less than the type's margin. */
  | "close_call"
  /** The true quantity is under 2 cm, where relative error means nothing. */
  | "too_small"
  /** The answer needs the support surface and the scene has none. */
  | "no_support_surface"
  /** Moving A by 2 cm could change the hour. */
  | "clock_boundary"
  /** A and B are horizontally too close for a direction to mean anything. */
  | "clock_too_close"
  /** A superlative over fewer than two objects: nothing to compare. */
  | "single_candidate"
  /** The object has no colour name (colour questions). */
  | "no_colour";

/**
 * `truth` encodes its answer as a number by category:
 * - qualitative: 1 = yes, 0 = no;
 * - choice: the slot index of the chosen object (0 = A, 1 = B);
 * - quantitative: metres (NaN when undefined, e.g. elevation without a support surface);
 * - clock: hour 1..12;
 * - count: the number of objects in the set;
 * - color: the index of the object's colour in COLOR_NAMES (NaN when it has none);
 * - superlative: objectNameCode of the chosen object's "colour kind" name (NaN for an empty set).
 *   The chosen object is no slot, so the value names it: an answer about the perceived scene and
 *   one about the truth scene agree exactly when they choose objects called the same.
 * `objects` are the slot objects in order (A, B, C); for a type whose slot A is a set, the set's
 * members come first (any number), then one object per other slot. `supportZ` is the scene's
 * support height.
 */
export type TruthFunction = (objects: readonly SceneObject[], supportZ: number | null) => number;
export type AmbiguityRule = (objects: readonly SceneObject[], supportZ: number | null) => AmbiguityReason | null;

export interface QuestionType {
  readonly id: QuestionTypeId;
  readonly category: QuestionCategory;
  /** Number of slots (A, B, C), each named once in a question. */
  readonly arity: 1 | 2 | 3;
  /** Role of each slot, in slot order (length = arity). */
  readonly slotRoles: readonly SlotRole[];
  readonly truth: TruthFunction;
  readonly ambiguity: AmbiguityRule;
}

/** Positional comparisons closer than this are not asked. */
export const POSITION_MARGIN_M = 0.02;
/** Size comparisons are not asked when the difference is under min(this, SIZE_MARGIN_FRACTION × larger). */
export const SIZE_MARGIN_M = 0.02;
export const SIZE_MARGIN_FRACTION = 0.1;
/** Volume comparisons are not asked when the difference is under this fraction of the larger. */
export const VOLUME_MARGIN_FRACTION = 0.1;
/** Quantitative questions whose true value is under this are not asked. */
export const MIN_QUANTITY_M = 0.02;
/** Clock questions are not asked when moving A by this much could change the hour... */
export const CLOCK_MARGIN_M = 0.02;
/** ...or when A and B are horizontally closer than this. */
export const CLOCK_MIN_DISTANCE_M = 0.04;

export function boxVolume(o: SceneObject): number {
  return o.size.x * o.size.y * o.size.z;
}

/** Distance between the closest points of two axis-aligned boxes, 0 when they overlap. */
export function boxGap(a: SceneObject, b: SceneObject): number {
  const dx = Math.max(0, Math.abs(a.center.x - b.center.x) - (a.size.x + b.size.x) / 2);
  const dy = Math.max(0, Math.abs(a.center.y - b.center.y) - (a.size.y + b.size.y) / 2);
  const dz = Math.max(0, Math.abs(a.center.z - b.center.z) - (a.size.z + b.size.z) / 2);
  return Math.hypot(dx, dy, dz);
}

/** Height of A's bottom above the support surface; penetration (noise) reads as 0. */
export function elevationAboveSupport(o: SceneObject, supportZ: number | null): number {
  if (supportZ === null) return NaN;
  return Math.max(0, o.center.z - o.size.z / 2 - supportZ);
}

const HOUR = Math.PI / 6;

/**
 * Clockwise angle of A around B seen from above, 0 at +x (away from the viewer, 12 o'clock),
 * π/2 at −y (the viewer's right, 3 o'clock), in [0, 2π).
 */
export function clockAngle(a: SceneObject, b: SceneObject): number {
  const t = Math.atan2(-(a.center.y - b.center.y), a.center.x - b.center.x);
  return t < 0 ? t + 2 * Math.PI : t;
}

/** Hour 1..12 for a clockwise angle from 12 o'clock. */
export function hourOfAngle(angle: number): number {
  const h = Math.round(angle / HOUR) % 12;
  return h === 0 ? 12 : h;
}

/** Scalar a comparison type orders objects by; the comparison asks "is m(A) > m(B)". */
type Measure = (o: SceneObject) => number;
/** How close two measures may be before the comparison is too close to call. */
type MarginKind = "position" | "size" | "volume";

const OBJECTS: Readonly<Record<1 | 2 | 3, readonly SlotRole[]>> = {
  1: ["object"], 2: ["object", "object"], 3: ["object", "object", "object"],
};

/** Whether two measures are too close to call by the margin of their kind. */
function tooClose(ma: number, mb: number, margin: MarginKind): boolean {
  const diff = Math.abs(ma - mb);
  const larger = Math.max(Math.abs(ma), Math.abs(mb));
  const limit =
    margin === "position" ? POSITION_MARGIN_M
    : margin === "size" ? Math.min(SIZE_MARGIN_M, SIZE_MARGIN_FRACTION * larger)
    : VOLUME_MARGIN_FRACTION * larger;
  return diff < limit;
}

function comparisonAmbiguity(measure: Measure, margin: MarginKind): AmbiguityRule {
  return (objects) => {
    return tooClose(measure(objects[0]), measure(objects[1]), margin) ? "close_call" : null;
  };
}

function qualitative(id: QuestionTypeId, measure: Measure, margin: MarginKind): QuestionType {
  return {
    id, category: "qualitative", arity: 2, slotRoles: OBJECTS[2],
    truth: (objects) => (measure(objects[0]) > measure(objects[1]) ? 1 : 0),
    ambiguity: comparisonAmbiguity(measure, margin),
  };
}

/** "Which is more <measure>": the slot with the larger measure. */
function choice(id: QuestionTypeId, measure: Measure, margin: MarginKind): QuestionType {
  return {
    id, category: "choice", arity: 2, slotRoles: OBJECTS[2],
    truth: (objects) => (measure(objects[0]) >= measure(objects[1]) ? 0 : 1),
    ambiguity: comparisonAmbiguity(measure, margin),
  };
}

function quantitative(id: QuestionTypeId, arity: 1 | 2, value: TruthFunction): QuestionType {
  return {
    id, category: "quantitative", arity, slotRoles: OBJECTS[arity],
    truth: value,
    ambiguity: (objects, supportZ) => {
      const v = value(objects, supportZ);
      if (Number.isNaN(v)) return "no_support_surface";
      return v < MIN_QUANTITY_M ? "too_small" : null;
    },
  };
}

const leftness: Measure = (o) => o.center.y;
const rightness: Measure = (o) => -o.center.y;
const highness: Measure = (o) => o.center.z;
const lowness: Measure = (o) => -o.center.z;
// Closeness to the viewer is by horizontal depth x, not straight-line range (SpatialVLM's "in front of").
const nearness: Measure = (o) => -o.center.x;
const farness: Measure = (o) => o.center.x;
const tallness: Measure = (o) => o.size.z;
const shortness: Measure = (o) => -o.size.z;
const wideness: Measure = (o) => o.size.y;
const thinness: Measure = (o) => -o.size.y;
const bigness: Measure = (o) => boxVolume(o);
const smallness: Measure = (o) => -boxVolume(o);

function centreDistance(a: SceneObject, b: SceneObject): number {
  return Math.hypot(a.center.x - b.center.x, a.center.y - b.center.y, a.center.z - b.center.z);
}

const whichCloserTo: QuestionType = {
  id: "which_closer_to", category: "choice", arity: 3, slotRoles: OBJECTS[3],
  truth: ([a, b, c]) => (centreDistance(a, c) <= centreDistance(b, c) ? 0 : 1),
  ambiguity: ([a, b, c]) =>
    Math.abs(centreDistance(a, c) - centreDistance(b, c)) < POSITION_MARGIN_M ? "close_call" : null,
};

const clockDirection: QuestionType = {
  id: "clock_direction", category: "clock", arity: 2, slotRoles: OBJECTS[2],
  truth: ([a, b]) => hourOfAngle(clockAngle(a, b)),
  ambiguity: ([a, b]) => {
    const r = Math.hypot(a.center.x - b.center.x, a.center.y - b.center.y);
    if (r < CLOCK_MIN_DISTANCE_M) return "clock_too_close";
    // Hour sectors are centred on multiples of 30°, so their borders sit at 15° + k·30°.
    const angle = clockAngle(a, b);
    const fromCentre = Math.abs(angle / HOUR - Math.round(angle / HOUR)) * HOUR;
    const toBorder = HOUR / 2 - fromCentre;
    return r * toBorder < CLOCK_MARGIN_M ? "clock_boundary" : null;
  },
};

/** A set type's arguments: the set's members, then one object per further slot (see TruthFunction). */
export function splitSetArguments(arity: number, objects: readonly SceneObject[]): { members: readonly SceneObject[]; others: readonly SceneObject[] } {
  const cut = Math.max(0, objects.length - (arity - 1));
  return { members: objects.slice(0, cut), others: objects.slice(cut) };
}

const countType: QuestionType = {
  id: "count", category: "count", arity: 1, slotRoles: ["set"],
  truth: (objects) => objects.length,
  // A count is exact: no margin. What is counted: DEFINITIONS.md.
  ambiguity: () => null,
};

const colorType: QuestionType = {
  id: "color", category: "color", arity: 1, slotRoles: ["object"],
  truth: ([a]) => {
    const i = COLOR_NAMES.indexOf(a.color);
    return i < 0 ? NaN : i;
  },
  ambiguity: ([a]) => (COLOR_NAMES.includes(a.color) ? null : "no_colour"),
};

/** A superlative's measure of a member; `reference` is slot B's object for closest_to/farthest_from. */
type SuperlativeMeasure = (o: SceneObject, reference: SceneObject | undefined) => number;

interface SuperlativeSpec {
  measure: SuperlativeMeasure;
  arity: 1 | 2;
}

const SUPERLATIVES = new Map<QuestionTypeId, SuperlativeSpec>();

/**
 * Index (into the set's members) of the member a superlative chooses: the largest measure, the
 * first of equal ones; -1 for an empty set or a type that is no superlative.
 */
export function superlativeChoice(type: QuestionTypeId, objects: readonly SceneObject[]): number {
  const spec = SUPERLATIVES.get(type);
  if (spec === undefined) return -1;
  const { members, others } = splitSetArguments(spec.arity, objects);
  let best = -1;
  let bestValue = -Infinity;
  for (let i = 0; i < members.length; i++) {
    const v = spec.measure(members[i], others[0]);
    if (best < 0 || v > bestValue) {
      best = i;
      bestValue = v;
    }
  }
  return best;
}

function superlative(id: QuestionTypeId, measure: SuperlativeMeasure, margin: MarginKind, withReference = false): QuestionType {
  const arity = withReference ? 2 : 1;
  SUPERLATIVES.set(id, { measure, arity });
  return {
    id, category: "superlative", arity, slotRoles: withReference ? ["set", "object"] : ["set"],
    truth: (objects) => {
      const i = superlativeChoice(id, objects);
      return i < 0 ? NaN : objectNameCode(displayName(objects[i]));
    },
    // Like the comparisons: not asked when the top two are within the margin of the measure's kind.
    ambiguity: (objects) => {
      const { members, others } = splitSetArguments(arity, objects);
      if (members.length < 2) return "single_candidate";
      let first = -Infinity;
      let second = -Infinity;
      for (const m of members) {
        const v = measure(m, others[0]);
        if (v > first) {
          second = first;
          first = v;
        } else if (v > second) second = v;
      }
      return tooClose(first, second, margin) ? "close_call" : null;
    },
  };
}

const fromReference = (sign: 1 | -1): SuperlativeMeasure => (o, r) => (r === undefined ? NaN : sign * centreDistance(o, r));

export const QUESTION_TYPES: readonly QuestionType[] = [
  qualitative("left_of", leftness, "position"),
  qualitative("right_of", rightness, "position"),
  qualitative("above", highness, "position"),
  qualitative("below", lowness, "position"),
  qualitative("in_front_of", nearness, "position"),
  qualitative("behind", farness, "position"),
  qualitative("taller", tallness, "size"),
  qualitative("shorter", shortness, "size"),
  qualitative("wider", wideness, "size"),
  qualitative("thinner", thinness, "size"),
  qualitative("bigger", bigness, "volume"),
  qualitative("smaller", smallness, "volume"),

  choice("which_left", leftness, "position"),
  choice("which_right", rightness, "position"),
  choice("which_higher", highness, "position"),
  choice("which_lower", lowness, "position"),
  choice("which_closer", nearness, "position"),
  choice("which_farther", farness, "position"),
  choice("which_taller", tallness, "size"),
  choice("which_shorter", shortness, "size"),
  choice("which_wider", wideness, "size"),
  choice("which_thinner", thinness, "size"),
  choice("which_bigger", bigness, "volume"),
  choice("which_smaller", smallness, "volume"),
  whichCloserTo,

  quantitative("distance", 2, ([a, b]) => centreDistance(a, b)),
  quantitative("horizontal_distance", 2, ([a, b]) => Math.hypot(a.center.x - b.center.x, a.center.y - b.center.y)),
  quantitative("vertical_distance", 2, ([a, b]) => Math.abs(a.center.z - b.center.z)),
  quantitative("gap", 2, ([a, b]) => boxGap(a, b)),
  quantitative("width", 1, ([a]) => a.size.y),
  quantitative("height", 1, ([a]) => a.size.z),
  quantitative("depth", 1, ([a]) => a.size.x),
  // The spatial frame's origin is the camera's optical centre.
  quantitative("distance_from_camera", 1, ([a]) => Math.hypot(a.center.x, a.center.y, a.center.z)),
  quantitative("elevation", 1, ([a], supportZ) => elevationAboveSupport(a, supportZ)),
  quantitative("lateral_offset", 2, ([a, b]) => Math.abs(a.center.y - b.center.y)),
  quantitative("depth_offset", 2, ([a, b]) => Math.abs(a.center.x - b.center.x)),
  quantitative("height_difference", 2, ([a, b]) => Math.abs(a.size.z - b.size.z)),
  quantitative("size", 1, ([a]) => Math.max(a.size.x, a.size.y, a.size.z)),

  clockDirection,

  countType,
  colorType,

  superlative("leftmost", leftness, "position"),
  superlative("rightmost", rightness, "position"),
  superlative("highest", highness, "position"),
  superlative("lowest", lowness, "position"),
  superlative("closest", nearness, "position"),
  superlative("farthest", farness, "position"),
  superlative("tallest", tallness, "size"),
  superlative("shortest", shortness, "size"),
  superlative("widest", wideness, "size"),
  superlative("thinnest", thinness, "size"),
  superlative("biggest", bigness, "volume"),
  superlative("smallest", smallness, "volume"),
  superlative("closest_to", fromReference(-1), "position", true),
  superlative("farthest_from", fromReference(1), "position", true),
];

const BY_ID: ReadonlyMap<string, QuestionType> = new Map(QUESTION_TYPES.map((t) => [t.id, t]));

export function isQuestionTypeId(id: string): id is QuestionTypeId {
  return BY_ID.has(id);
}

export function questionType(id: QuestionTypeId): QuestionType {
  const t = BY_ID.get(id);
  // The registry is built from QUESTION_TYPE_IDS; a miss means the two lists drifted apart.
  if (!t) throw new Error(`question type ${id} missing from the registry`);
  return t;
}
