import { InvalidInputError } from "../src/errors.js";
import type { NoiseModel } from "./sensor_noise.js";

export const NOISE_MODELS: readonly NoiseModel[] = ["none", "realsense"];

/**
 * Seeds are 32-bit: every generator is mulberry32 over `seed >>> 0`, so 1.5, NaN, -1 and 2^32
 * would silently alias 1, 0, 2^32 − 1 and 0. The public entry points refuse them instead.
 */
export const SEED_LIMIT = 2 ** 32;

/** `seed` as given, or InvalidInputError("bad_argument") unless it is an integer in [0, 2^32). */
export function checkSeed(seed: unknown, what: string): number {
  if (typeof seed !== "number" || !Number.isInteger(seed) || seed < 0 || seed >= SEED_LIMIT) {
    throw new InvalidInputError("bad_argument", `${what}: a seed must be an integer in [0, 2^32), got ${describe(seed)}`);
  }
  return seed;
}

/** `value` as given, or InvalidInputError("bad_argument") unless it is an integer in [min, max]. */
export function checkInteger(value: unknown, what: string, min: number, max: number): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    throw new InvalidInputError("bad_argument", `${what} must be an integer in [${min}, ${max}], got ${describe(value)}`);
  }
  return value;
}

/** `value` as given, or InvalidInputError("bad_argument") unless it is a finite number in [min, max]. */
export function checkFinite(value: unknown, what: string, min: number, max: number): number {
  if (typeof value !== "number" || !Number.isFinite(value) || value < min || value > max) {
    throw new InvalidInputError("bad_argument", `${what} must be a finite number in [${min}, ${max}], got ${describe(value)}`);
  }
  return value;
}

/** `noise` as given, or InvalidInputError("bad_argument") unless it names a noise model. */
export function checkNoise(noise: unknown, what: string): NoiseModel {
  if (!(NOISE_MODELS as readonly unknown[]).includes(noise)) {
    throw new InvalidInputError("bad_argument", `${what}: noise must be one of ${NOISE_MODELS.join(", ")}, got ${describe(noise)}`);
  }
  return noise as NoiseModel;
}

function describe(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  if (typeof value === "symbol") return value.toString();
  return typeof value === "object" && value !== null ? "an object" : String(value);
}
