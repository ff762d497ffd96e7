import { COLORS } from "../scene/colors.js";

const BINS = 32;

/**
 * Names an object's colour from its pixels. Shading darkens the sides turned away from the
 * light, so the name comes from the brightest 8% of the pixels, matched to the
 * reference colours up to a brightness scale (chromaticity first, then brightness).
 */
export class ColorNamer {
  private readonly hist = new Uint32Array(BINS);
  private readonly sums = new Float64Array(BINS * 3);
  private readonly mean = new Float64Array(3);
  /** Pixels added since begin(). */
  pixels = 0;

  begin(): void {
    this.hist.fill(0);
    this.sums.fill(0);
    this.pixels = 0;
  }

  add(r: number, g: number, b: number): void {
    this.pixels++;
    const lum = (r * 3 + g * 6 + b) / 10;
    const bin = Math.min(BINS - 1, (lum * BINS) >> 8);
    this.hist[bin]++;
    this.sums[bin * 3] += r;
    this.sums[bin * 3 + 1] += g;
    this.sums[bin * 3 + 2] += b;
  }

  /** The best matching colour name, or "" if no pixels were added. */
  finish(): string {
    const m = this.mean;
    return this.brightestMean(m, 0) ? nearestColorName(m[0], m[1], m[2]) : "";
  }

  /**
   * The mean r, g, b of the brightest 8% of the pixels into out[at .. at + 3] (what finish()
   * names; a native lift computes the same from its own histogram); false, and NaN, when no
   * pixels were added.
   */
  brightestMean(out: Float64Array, at: number): boolean {
    let total = 0;
    for (let i = 0; i < BINS; i++) total += this.hist[i];
    if (total === 0) {
      out[at] = NaN; out[at + 1] = NaN; out[at + 2] = NaN;
      return false;
    }
    // The brightest pixels face the light: their colour is closest to the albedo.
    const want = Math.max(1, total * 0.08);
    let got = 0, r = 0, g = 0, b = 0;
    for (let i = BINS - 1; i >= 0 && got < want; i--) {
      got += this.hist[i];
      r += this.sums[i * 3]; g += this.sums[i * 3 + 1]; b += this.sums[i * 3 + 2];
    }
    out[at] = r / got; out[at + 1] = g / got; out[at + 2] = b / got;
    return true;
  }
}

/**
 * The darkest shading a reference may be seen under. A side turned away from the light keeps
 * only the ambient part (0.4 of its albedo in the simulator); a hue tells colours apart however
 * dark (a yellow cube under another cube, only its shaded sides in sight, read brown when the
 * floor was 0.55 for every reference). References without a hue differ in brightness alone:
 * one is never taken darker than a darker hueless reference fully lit (white under 0.55 looks
 * exactly like lit gray, 0.55 x 235 ~ 128), so white keeps ~0.55 and gray and black get 0.4.
 */
const AMBIENT_SHADE = 0.4;
/** A reference whose channels differ by less than this has no hue. */
const HUELESS_SPREAD = 16;
const hueless = (rgb: readonly number[]): boolean => Math.max(rgb[0], rgb[1], rgb[2]) - Math.min(rgb[0], rgb[1], rgb[2]) < HUELESS_SPREAD;
const luminance = (rgb: readonly number[]): number => (rgb[0] * 3 + rgb[1] * 6 + rgb[2]) / 10;
const SHADE_FLOOR: readonly number[] = COLORS.map(({ rgb }) => {
  let floor = AMBIENT_SHADE;
  if (!hueless(rgb)) return floor;
  for (const o of COLORS) {
    if (hueless(o.rgb) && luminance(o.rgb) < luminance(rgb)) floor = Math.max(floor, luminance(o.rgb) / luminance(rgb));
  }
  return floor;
});

/** Nearest reference colour allowing the observation to be the reference times a shading factor. */
export function nearestColorName(r: number, g: number, b: number): string {
  let best = "";
  let bestCost = Infinity;
  for (let i = 0; i < COLORS.length; i++) {
    const c = COLORS[i];
    const [cr, cg, cb] = c.rgb;
    const dot = r * cr + g * cg + b * cb;
    const rr = cr * cr + cg * cg + cb * cb;
    // Shading scales a surface's colour by SHADE_FLOOR..1.15 of its albedo.
    const s = Math.min(1.15, Math.max(SHADE_FLOOR[i], dot / rr));
    const dr = r - s * cr, dg = g - s * cg, db = b - s * cb;
    const cost = dr * dr + dg * dg + db * db;
    if (cost < bestCost) { bestCost = cost; best = c.name; }
  }
  return best;
}
