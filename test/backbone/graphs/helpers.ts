import * as ort from "onnxruntime-node";

export function f32(t: ort.Tensor | undefined): Float32Array {
  if (t === undefined || !(t.data instanceof Float32Array)) throw new Error("expected a float32 output");
  return t.data;
}

/** Largest error seen per check, printed once at the end of a file for the report. */
export const errors: Record<string, number> = {};
export function record(name: string, err: number): number {
  errors[name] = Math.max(errors[name] ?? 0, err);
  return err;
}
