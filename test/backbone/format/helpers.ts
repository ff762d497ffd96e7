import { expect } from "vitest";
import { ModelError } from "../../../src/errors.js";
import type { BackboneConfig } from "../../../src/backbone/config.js";
import { expectedTensors } from "../../../src/backbone/tensor_names.js";
import { mulberry32 } from "../../../src/random/mulberry32.js";

/** Every expected tensor of `config` filled with seeded values in [-1, 1). */
export function seededWeights(config: BackboneConfig, seed: number): Map<string, Float32Array> {
  const rand = mulberry32(seed);
  const out = new Map<string, Float32Array>();
  for (const spec of expectedTensors(config)) {
    const a = new Float32Array(spec.shape.reduce((x, y) => x * y, 1));
    for (let i = 0; i < a.length; i++) a[i] = 2 * rand() - 1;
    out.set(spec.name, a);
  }
  return out;
}

/** Runs fn and returns the ModelError it throws; fails the test on anything else. */
export function catchModelError(fn: () => unknown): ModelError {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  return expectModelError(caught);
}

export async function catchModelErrorAsync(fn: () => Promise<unknown>): Promise<ModelError> {
  let caught: unknown;
  try {
    await fn();
  } catch (e) {
    caught = e;
  }
  return expectModelError(caught);
}

function expectModelError(caught: unknown): ModelError {
  expect(caught, "expected a ModelError, nothing was thrown").toBeDefined();
  expect(caught).toBeInstanceOf(ModelError);
  const e = caught as ModelError;
  expect(e.code).toBe("bad_model");
  return e;
}

/** Asserts the error names the file (and tensor, when given) in its fields and its message. */
export function expectNames(e: ModelError, file: string, tensor?: string): void {
  expect(e.file).toBe(file);
  expect(e.message.startsWith(`${file}`)).toBe(true);
  if (tensor !== undefined) {
    expect(e.tensor).toBe(tensor);
    expect(e.message).toContain(`(${tensor})`);
  }
}

/** A safetensors file assembled by hand from a header string (padded as given) and data bytes. */
export function rawSafetensors(header: string, data: Uint8Array | number[] = [], headerLength?: number): Uint8Array {
  const h = new TextEncoder().encode(header);
  const out = new Uint8Array(8 + h.length + data.length);
  const v = new DataView(out.buffer);
  v.setUint32(0, headerLength ?? h.length, true);
  out.set(h, 8);
  out.set(data instanceof Uint8Array ? data : Uint8Array.from(data), 8 + h.length);
  return out;
}

export function f32Bytes(values: number[]): Uint8Array {
  const out = new Uint8Array(values.length * 4);
  const v = new DataView(out.buffer);
  values.forEach((x, i) => v.setFloat32(4 * i, x, true));
  return out;
}

export function u16Bytes(values: number[]): Uint8Array {
  const out = new Uint8Array(values.length * 2);
  const v = new DataView(out.buffer);
  values.forEach((x, i) => v.setUint16(2 * i, x, true));
  return out;
}

export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
