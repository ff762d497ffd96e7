/**
 * The colour names objects are referred to by, with a reference sRGB value each. Perception
 * names an object's colour by the nearest reference in hue/saturation/value; the simulator
 * paints objects with these values (plus shading), so the two agree by construction only as
 * far as shading and noise allow.
 */
export interface NamedColor {
  name: string;
  rgb: readonly [number, number, number];
}

export const COLORS: readonly NamedColor[] = [
  { name: "red", rgb: [200, 30, 35] },
  { name: "orange", rgb: [235, 120, 20] },
  { name: "yellow", rgb: [230, 200, 30] },
  { name: "green", rgb: [40, 160, 60] },
  { name: "blue", rgb: [35, 75, 200] },
  { name: "purple", rgb: [120, 50, 160] },
  { name: "pink", rgb: [235, 120, 170] },
  { name: "brown", rgb: [120, 75, 40] },
  { name: "white", rgb: [235, 235, 230] },
  { name: "black", rgb: [30, 30, 32] },
  { name: "gray", rgb: [128, 128, 128] },
];

export const COLOR_NAMES: readonly string[] = COLORS.map((c) => c.name);

/** Spelling variants people type, mapped to the canonical name. */
export const COLOR_SYNONYMS: Readonly<Record<string, string>> = {
  grey: "gray",
  violet: "purple",
};
