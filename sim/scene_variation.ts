import { checkFinite, checkSeed } from "./sim_arguments.js";
import { DEFAULT_COLOR_JITTER_RANGES, drawColorJitter, type ColorJitter, type ColorJitterRanges } from "./color_jitter.js";
import { DEFAULT_CAMERA_OPTIONS } from "./camera_placement.js";
import { Rng } from "./rng.js";
import type { NoiseModel } from "./sensor_noise.js";
import { InvalidInputError } from "../src/errors.js";

/** What varies between scenes besides the world itself (placeCamera varies heading, distance and a ±4° roll). */
export interface VariationRanges {
  /** Horizontal field of view, degrees, drawn uniformly per scene. */
  hfovDeg: readonly [number, number];
  /** Camera pitch below the horizon, degrees (placeCamera draws within it). */
  pitchDeg: readonly [number, number];
  /** Fraction of scenes with the "realsense" sensor model (RGB read noise, see color_jitter.ts). */
  realsenseFraction: number;
  jitter: ColorJitterRanges;
}

/**
 * 55–80° spans common RGB-D colour cameras (RealSense D435 colour 69°) while leaving wider
 * lenses (D455 87°, the 848x480 eval setting) as camera settings never trained on.
 */
export const DEFAULT_VARIATION_RANGES: VariationRanges = {
  hfovDeg: [55, 80],
  pitchDeg: [DEFAULT_CAMERA_OPTIONS.minPitchDeg, DEFAULT_CAMERA_OPTIONS.maxPitchDeg],
  realsenseFraction: 0.5,
  jitter: DEFAULT_COLOR_JITTER_RANGES,
};

export interface SceneVariation {
  hfovDeg: number;
  noise: NoiseModel;
  jitter: ColorJitter;
}

/** Kept apart from the world's, camera's and noise's streams of the same seed. */
const VARIATION_SALT = 0x7a41e7;

/** A scene seed's field of view, sensor model and colour jitter: a function of the seed and the ranges. */
export function drawSceneVariation(seed: number, ranges: VariationRanges = DEFAULT_VARIATION_RANGES): SceneVariation {
  checkSeed(seed, "drawSceneVariation");
  checkVariationRanges(ranges);
  const rng = new Rng(seed ^ VARIATION_SALT);
  const hfovDeg = rng.uniform(ranges.hfovDeg[0], ranges.hfovDeg[1]);
  const noise: NoiseModel = rng.next() < ranges.realsenseFraction ? "realsense" : "none";
  return { hfovDeg, noise, jitter: drawColorJitter(rng, noise, ranges.jitter) };
}

/** InvalidInputError("bad_argument") for a range that is empty, reversed or outside what the simulator takes. */
export function checkVariationRanges(r: VariationRanges): void {
  const pair = (p: readonly [number, number], what: string, min: number, max: number) => {
    if (!Array.isArray(p) || p.length !== 2) throw new InvalidInputError("bad_argument", `${what} must be a [min, max] pair`);
    checkFinite(p[0], `${what} min`, min, max);
    checkFinite(p[1], `${what} max (≥ min ${p[0]})`, p[0], max);
  };
  pair(r.hfovDeg, "hfovDeg", 1, 170);
  pair(r.pitchDeg, "pitchDeg", 0, 90);
  checkFinite(r.realsenseFraction, "realsenseFraction", 0, 1);
  pair(r.jitter.brightness, "jitter brightness", 0, 4);
  pair(r.jitter.contrast, "jitter contrast", 0, 4);
  pair(r.jitter.channelGain, "jitter channelGain", 0, 4);
  pair(r.jitter.noiseSigma, "jitter noiseSigma", 0, 64);
}
