import * as ort from "onnxruntime-node";
import { TINY_CONFIG, type BackboneConfig } from "../../../src/backbone/config.js";
import { mulberry32 } from "../../../src/random/mulberry32.js";

/** Small sizes keep the reference loops and sessions fast; E = 64, L = 2. */
export const SMALL: BackboneConfig = {
  ...TINY_CONFIG,
  d_model: 32,
  n_layer: 2,
  d_state: 8,
  d_conv: 4,
  expand: 2,
  dt_rank: 4,
  vocab_size: 50,
};

export const SESSION_OPTS: ort.InferenceSession.SessionOptions = { intraOpNumThreads: 1, interOpNumThreads: 1 };

export function session(bytes: Uint8Array): Promise<ort.InferenceSession> {
  return ort.InferenceSession.create(bytes, SESSION_OPTS);
}

export function randomArray(n: number, seed: number, scale = 1): Float32Array {
  const r = mulberry32(seed);
  return Float32Array.from({ length: n }, () => (2 * r() - 1) * scale);
}

export function f32(t: ort.Tensor | undefined): Float32Array {
  if (t === undefined || !(t.data instanceof Float32Array)) throw new Error("expected a float32 output");
  return t.data;
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    if (!(d <= m)) m = Number.isNaN(d) ? Infinity : d;
  }
  return m;
}

/** Largest error seen per check, printed once at the end of a file for the report. */
export const errors: Record<string, number> = {};
export function record(name: string, err: number): number {
  errors[name] = Math.max(errors[name] ?? 0, err);
  return err;
}
