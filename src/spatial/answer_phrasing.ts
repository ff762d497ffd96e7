import { COLOR_NAMES } from "../scene/colors.js";
import { formatLengthIn, type LengthUnit } from "./length_units.js";
import { questionType, type QuestionTypeId } from "./question_types.js";
import { pluralPhrase, setNoun } from "./set_phrase.js";

/**
 * A length as people say it: under 1 m in centimetres (one decimal under 10 cm),
 * otherwise metres with two decimals. 0.234 → "23 cm", 0.0456 → "4.6 cm", 1.234 → "1.23 m".
 * With `unit`, always in that unit (see formatLengthIn).
 */
export function formatLength(metres: number, unit?: LengthUnit): string {
  if (!Number.isFinite(metres)) return "unknown";
  if (unit !== undefined) return formatLengthIn(metres, unit);
  const cm = metres * 100;
  const tenths = Math.round(cm * 10) / 10;
  if (Math.abs(tenths) < 10) return `${tenths.toFixed(1)} cm`;
  const whole = Math.round(cm);
  // 99.6 cm rounds to 100: say "1.00 m" rather than "100 cm".
  if (Math.abs(whole) < 100) return `${whole} cm`;
  return `${metres.toFixed(2)} m`;
}

/** Yes/no relation as it reads between the two names: "{A} is <relation> {B}". */
const RELATION: Partial<Record<QuestionTypeId, string>> = {
  left_of: "to the left of",
  right_of: "to the right of",
  above: "above",
  below: "below",
  in_front_of: "in front of",
  behind: "behind",
  taller: "taller than",
  shorter: "shorter than",
  wider: "wider than",
  thinner: "thinner than",
  bigger: "bigger than",
  smaller: "smaller than",
};

/** Comparative for "which" answers: "{X} is <comparative>" / "... <comparative> than {Y}". */
const COMPARATIVE: Partial<Record<QuestionTypeId, string>> = {
  which_left: "more to the left",
  which_right: "more to the right",
  which_higher: "higher",
  which_lower: "lower",
  which_closer: "closer to the camera",
  which_farther: "farther from the camera",
  which_taller: "taller",
  which_shorter: "shorter",
  which_wider: "wider",
  which_thinner: "thinner",
  which_bigger: "bigger",
  which_smaller: "smaller",
  which_closer_to: "closer to {C}",
};

type Phrasing = (n: readonly string[], v: string) => string;

const YES: readonly ((a: string, rel: string, b: string) => string)[] = [
  (a, rel, b) => `Yes, ${a} is ${rel} ${b}.`,
  (a, rel, b) => `Yes. ${cap(a)} is ${rel} ${b}.`,
  (a, rel, b) => `Correct: ${a} is ${rel} ${b}.`,
];
const NO: readonly ((a: string, rel: string, b: string) => string)[] = [
  (a, rel, b) => `No, ${a} is not ${rel} ${b}.`,
  (a, rel, b) => `No. ${cap(a)} is not ${rel} ${b}.`,
  (a, rel, b) => `Not quite: ${a} is not ${rel} ${b}.`,
];
const WHICH: readonly ((chosen: string, cmp: string, other: string) => string)[] = [
  (x, cmp) => `${x} is ${cmp}.`,
  (x, cmp, y) => `${x} is ${cmp} than ${y}.`,
  (x, cmp) => `Of the two, ${x} is ${cmp}.`,
];
const CLOCK: readonly Phrasing[] = [
  (n, h) => `${n[0]} is at ${h} o'clock from ${n[1]}.`,
  (n, h) => `From ${n[1]}, ${n[0]} is at ${h} o'clock.`,
  (n, h) => `${n[0]} is in the ${h} o'clock direction of ${n[1]}.`,
];

/** Quantitative phrasings; `v` is the formatted length. */
const QUANTITY: Partial<Record<QuestionTypeId, readonly Phrasing[]>> = {
  distance: [
    (n, v) => `${n[0]} is ${v} from ${n[1]}.`,
    (n, v) => `The distance between ${n[0]} and ${n[1]} is ${v}.`,
    (n, v) => `${n[0]} and ${n[1]} are about ${v} apart.`,
  ],
  horizontal_distance: [
    (n, v) => `Horizontally, ${n[0]} is ${v} from ${n[1]}.`,
    (n, v) => `The horizontal distance between ${n[0]} and ${n[1]} is ${v}.`,
    (n, v) => `Ignoring height, ${n[0]} and ${n[1]} are ${v} apart.`,
  ],
  vertical_distance: [
    (n, v) => `Vertically, ${n[0]} is ${v} from ${n[1]}.`,
    (n, v) => `The vertical distance between ${n[0]} and ${n[1]} is ${v}.`,
    (n, v) => `${n[0]} and ${n[1]} are ${v} apart in height.`,
  ],
  gap: [
    (n, v) => `The gap between ${n[0]} and ${n[1]} is ${v}.`,
    (n, v) => `There is ${v} of space between ${n[0]} and ${n[1]}.`,
    (n, v) => `${n[0]} and ${n[1]} are ${v} apart at their closest points.`,
  ],
  width: [
    (n, v) => `${n[0]} is ${v} wide.`,
    (n, v) => `The width of ${n[0]} is ${v}.`,
    (n, v) => `${n[0]} measures ${v} from side to side.`,
  ],
  height: [
    (n, v) => `${n[0]} is ${v} tall.`,
    (n, v) => `The height of ${n[0]} is ${v}.`,
    (n, v) => `${n[0]} stands ${v} high.`,
  ],
  depth: [
    (n, v) => `${n[0]} is ${v} deep.`,
    (n, v) => `The depth of ${n[0]} is ${v}.`,
    (n, v) => `${n[0]} measures ${v} from front to back.`,
  ],
  distance_from_camera: [
    (n, v) => `${n[0]} is ${v} from the camera.`,
    (n, v) => `The distance from the camera to ${n[0]} is ${v}.`,
    (n, v) => `${n[0]} is about ${v} away.`,
  ],
  elevation: [
    (n, v) => `${n[0]} is ${v} above the table.`,
    (n, v) => `The bottom of ${n[0]} is ${v} above the support surface.`,
    (n, v) => `${n[0]} is lifted ${v} off the table.`,
  ],
  lateral_offset: [
    (n, v) => `${n[0]} is ${v} to the side of ${n[1]}.`,
    (n, v) => `The lateral offset between ${n[0]} and ${n[1]} is ${v}.`,
    (n, v) => `${n[0]} and ${n[1]} are ${v} apart side to side.`,
  ],
  depth_offset: [
    (n, v) => `${n[0]} is ${v} in front of or behind ${n[1]}.`,
    (n, v) => `The depth offset between ${n[0]} and ${n[1]} is ${v}.`,
    (n, v) => `${n[0]} and ${n[1]} are ${v} apart front to back.`,
  ],
  height_difference: [
    (n, v) => `The height difference between ${n[0]} and ${n[1]} is ${v}.`,
    (n, v) => `${n[0]} and ${n[1]} differ in height by ${v}.`,
    (n, v) => `Their heights differ by ${v}.`,
  ],
  size: [
    (n, v) => `${n[0]} is ${v} at its largest.`,
    (n, v) => `The largest dimension of ${n[0]} is ${v}.`,
    (n, v) => `${n[0]} measures ${v} along its longest side.`,
  ],
};

const COUNT: readonly ((n: number, noun: string) => string)[] = [
  (n, noun) => `There ${n === 1 ? "is" : "are"} ${n} ${noun}.`,
  (n, noun) => `I count ${n} ${noun}.`,
  (n, noun) => `I see ${n} ${noun}.`,
];
const COLOR: readonly ((name: string, color: string) => string)[] = [
  (name, c) => `${name} is ${c}.`,
  (name, c) => `The colour of ${name} is ${c}.`,
  (name, c) => `${name} looks ${c}.`,
];

/**
 * A superlative as it reads: before the noun ("the tallest cup") or, with what it is measured
 * from, after it ("the cup closest to the camera"). `{B}` is slot B's name.
 */
const SUPERLATIVE: Partial<Record<QuestionTypeId, { word: string; before: boolean }>> = {
  leftmost: { word: "leftmost", before: true },
  rightmost: { word: "rightmost", before: true },
  highest: { word: "highest", before: true },
  lowest: { word: "lowest", before: true },
  closest: { word: "closest to the camera", before: false },
  farthest: { word: "farthest from the camera", before: false },
  tallest: { word: "tallest", before: true },
  shortest: { word: "shortest", before: true },
  widest: { word: "widest", before: true },
  thinnest: { word: "thinnest", before: true },
  biggest: { word: "biggest", before: true },
  smallest: { word: "smallest", before: true },
  closest_to: { word: "closest to {B}", before: false },
  farthest_from: { word: "farthest from {B}", before: false },
};
// The chosen object is named first, so a reader of the sentence finds it as the first object
// named (answer_text_parser.ts).
const SUPERLATIVE_PHRASINGS: readonly ((chosen: string, sup: string, nounPhrase: string, onePhrase: string) => string)[] = [
  (x, sup) => `${x} is the ${sup}.`,
  (x, _sup, np) => `${x} is the ${np}.`,
  (x, _sup, _np, one) => `${x} is the ${one}.`,
];

/**
 * The sentence with its first letter upper-case (as `s.charAt(0).toUpperCase() + s.slice(1)`).
 * Most answers already start with one ("Yes", "No", "The"): they are returned as they are, and
 * an ASCII lower-case start is swapped without toUpperCase; either way the answer's rope of
 * template pieces is not copied flat for nothing (a fifth of a question's time per frame).
 */
export function cap(s: string): string {
  const c = s.charCodeAt(0);
  if (c >= 65 && c <= 90) return s;
  if (c >= 97 && c <= 122) return String.fromCharCode(c - 32) + s.slice(1);
  return s.charAt(0).toUpperCase() + s.slice(1);
}

function pick<T>(list: readonly T[], variant: number): T {
  const i = Math.floor(Math.abs(variant)) % list.length;
  return list[Number.isFinite(i) ? i : 0];
}

/** How many distinct answer phrasings a type has (per yes/no polarity for qualitative types). */
export function answerPhrasingCount(type: QuestionTypeId): number {
  switch (questionType(type).category) {
    case "qualitative": return Math.min(YES.length, NO.length);
    case "choice": return WHICH.length;
    case "clock": return CLOCK.length;
    case "quantitative": return QUANTITY[type]?.length ?? 0;
    case "count": return COUNT.length;
    case "color": return COLOR.length;
    case "superlative": return SUPERLATIVE_PHRASINGS.length;
  }
}

/**
 * The answer sentence. `names` are the slot objects' noun phrases ("the red mug") in slot
 * order; `value` is the truth function's encoding (1/0, chosen slot index, metres, hour, count,
 * colour index); `variant` picks the phrasing deterministically (taken modulo the number of
 * phrasings); `unit` is the unit lengths are said in (default: cm under 1 m, else m).
 * Set types: for a count, names[0] is the set phrase ("red cubes"); for a superlative, names[0]
 * is the chosen object ("the red cup"), names[1] slot B's object if the type has one, and `set`
 * the set phrase ("cup"; default "object"). A colour answer names the object by its kind ("the
 * lemon", not "the yellow lemon").
 */
export function phraseAnswer(
  type: QuestionTypeId, names: readonly string[], value: number, variant: number, unit?: LengthUnit, set?: string,
): string {
  const t = questionType(type);
  switch (t.category) {
    case "qualitative": {
      const rel = RELATION[type] ?? type;
      return cap(pick(value === 1 ? YES : NO, variant)(names[0], rel, names[1]));
    }
    case "choice": {
      const chosen = value === 0 ? names[0] : names[1];
      const other = value === 0 ? names[1] : names[0];
      const cmp = (COMPARATIVE[type] ?? type).replace("{C}", names[2] ?? "");
      return cap(pick(WHICH, variant)(chosen, cmp, other));
    }
    case "clock":
      return cap(pick(CLOCK, variant)(names, String(value)));
    case "quantitative": {
      if (Number.isNaN(value)) {
        return type === "elevation"
          ? `I can't tell how high ${names[0]} is: no support surface (table or floor) is visible.`
          : `I can't measure that for ${names.join(" and ")}.`;
      }
      const phrasings = QUANTITY[type];
      const v = formatLength(value, unit);
      return phrasings ? cap(pick(phrasings, variant)(names, v)) : `${v}.`;
    }
    case "count": {
      const noun = setNoun(names[0] ?? "object");
      return cap(pick(COUNT, variant)(value, value === 1 ? noun : pluralPhrase(noun)));
    }
    case "color": {
      const color = COLOR_NAMES[value];
      return color === undefined ? `I can't tell the colour of ${names[0]}.` : cap(pick(COLOR, variant)(names[0], color));
    }
    case "superlative": {
      const s = SUPERLATIVE[type] ?? { word: type, before: true };
      const sup = s.word.replace("{B}", names[1] ?? "");
      const noun = setNoun(set ?? "object");
      if (Number.isNaN(value)) return `I can't tell which ${noun} is the ${sup}.`;
      const nounPhrase = s.before ? `${sup} ${noun}` : `${noun} ${sup}`;
      return cap(pick(SUPERLATIVE_PHRASINGS, variant)(names[0], sup, nounPhrase, s.before ? `${sup} one` : `one ${sup}`));
    }
  }
}

/**
 * The answer as a short VQA answer rather than a sentence: "Yes" / "No", the chosen object's
 * name ("red mug"), the length ("18 cm", "1.23 m") or the hour ("7 o'clock"). A trained VLM
 * answers with this (VQAv2-style short answers): the decision and the number are what the
 * model must learn, not the sentence around them, and each answer costs a few decode steps
 * instead of ~60. parseAnswerText reads it back to the same value as the sentence (tested as a
 * round trip). `chosenName` is the chosen object's display name (choice and superlative
 * questions only). Counts are the number ("3"), colours the name ("yellow").
 */
export function phraseShortAnswer(type: QuestionTypeId, value: number, chosenName?: string, unit?: LengthUnit): string {
  switch (questionType(type).category) {
    case "qualitative":
      return value === 1 ? "Yes" : "No";
    case "choice":
    case "superlative":
      if (chosenName === undefined || chosenName === "") throw new Error(`phraseShortAnswer: a ${type} answer needs the chosen object's name`);
      return chosenName.replace(/^the /, "");
    case "clock":
      return `${value} o'clock`;
    case "quantitative":
      return formatLength(value, unit);
    case "count":
      return String(value);
    case "color":
      return COLOR_NAMES[value] ?? "unknown";
  }
}
