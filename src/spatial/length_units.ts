/**
 * Units a question may ask its answer in ("how tall is the bottle in inches?"). Only the
 * answer's words change: `SpatialAnswer.value` stays in metres (SI, like everything on the wire).
 */
export type LengthUnit = "m" | "cm" | "mm" | "in" | "ft";

export const LENGTH_UNITS: readonly LengthUnit[] = ["m", "cm", "mm", "in", "ft"];

const METRES_PER: Readonly<Record<LengthUnit, number>> = { m: 1, cm: 0.01, mm: 0.001, in: 0.0254, ft: 0.3048 };

/** Words people use for each unit, as they read after question normalisation (lower case, no dots). */
export const LENGTH_UNIT_WORDS: Readonly<Record<LengthUnit, readonly string[]>> = {
  m: ["m", "meter", "meters", "metre", "metres"],
  cm: ["cm", "cms", "centimeter", "centimeters", "centimetre", "centimetres"],
  mm: ["mm", "millimeter", "millimeters", "millimetre", "millimetres"],
  in: ["inches", "inch"],
  ft: ["feet", "foot", "ft"],
};

const UNIT_BY_WORD: ReadonlyMap<string, LengthUnit> = new Map(
  LENGTH_UNITS.flatMap((u) => LENGTH_UNIT_WORDS[u].map((w) => [w, u] as [string, LengthUnit])),
);

/** "inches" → "in"; undefined for a word that names no unit. */
export function lengthUnitForWord(word: string): LengthUnit | undefined {
  return UNIT_BY_WORD.get(word);
}

/**
 * A length in the unit asked for, rounded as people say it: cm and mm to one decimal under 10
 * and whole above; metres to 2 decimals (3 under 10 cm); inches to one decimal; feet to 2.
 * 0.234 m → "23 cm", "234 mm", "0.23 m", "9.2 inches", "0.77 feet".
 */
export function formatLengthIn(metres: number, unit: LengthUnit): string {
  if (!Number.isFinite(metres)) return "unknown";
  const v = metres / METRES_PER[unit];
  switch (unit) {
    case "cm":
    case "mm": {
      const tenths = Math.round(v * 10) / 10;
      return `${Math.abs(tenths) < 10 ? tenths.toFixed(1) : Math.round(v).toString()} ${unit}`;
    }
    case "m":
      return `${v.toFixed(Math.abs(v) < 0.1 ? 3 : 2)} m`;
    case "in":
      return `${v.toFixed(1)} inches`;
    case "ft":
      return `${v.toFixed(2)} feet`;
  }
}
