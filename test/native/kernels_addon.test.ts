import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { NATIVE_TESTS } from "./native_env.js";

type Loader = typeof import("../../nodes/native/kernels_addon.js");

interface FpContract {
  mulAddInto(a: Float64Array, b: Float64Array, c: Float64Array, out: Float64Array): void;
}

interface JsMath {
  hypotInto(a: Float64Array, b: Float64Array, cOrOut: Float64Array, out?: Float64Array): void;
  toUint8Into(x: Float64Array, clamped: Uint8Array, raw: Uint8Array): void;
}

/** A fresh copy of the loader (its once-per-process state reset) under the given environment. */
async function freshLoader(env: Record<string, string | undefined>): Promise<Loader> {
  for (const [k, v] of Object.entries(env)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  vi.resetModules();
  return import("../../nodes/native/kernels_addon.js");
}

const saved = { ...process.env };
afterEach(() => {
  for (const k of ["SPATIAL_REWARD_NATIVE", "SPATIAL_REWARD_KERNELS_ADDON"]) {
    if (saved[k] === undefined) delete process.env[k];
    else process.env[k] = saved[k];
  }
  vi.restoreAllMocks();
});

describe("the kernels addon loader", () => {
  it("an addon that was not built: null, one warning naming the file and the build command, for every later call and family", async () => {
    const loader = await freshLoader({ SPATIAL_REWARD_NATIVE: undefined, SPATIAL_REWARD_KERNELS_ADDON: "/nonexistent/spatial_reward_kernels.node" });
    const warn = vi.spyOn(process, "emitWarning").mockImplementation(() => {});
    expect(loader.loadKernelsAddon()).toBeNull();
    expect(loader.loadKernelsAddon()).toBeNull();
    expect(loader.kernelFamily<FpContract>("fp_contract", ["mulAddInto"])).toBeNull();
    expect(loader.kernelFamily<{ renderRgbd(): void }>("render", ["renderRgbd"])).toBeNull();
    expect(warn).toHaveBeenCalledTimes(1);
    const message = String(warn.mock.calls[0][0]);
    expect(message).toContain("/nonexistent/spatial_reward_kernels.node was not built");
    expect(message).toContain("npm run build:native");
    expect(message).toContain("TypeScript");
    const status = loader.nativeKernelsStatus();
    expect(status.loaded).toBe(false);
    expect(status.reason).toMatch(/was not built/);
  });

  it("a file that is not a loadable addon: null and one warning saying it failed to load", async () => {
    const dir = mkdtempSync(join(tmpdir(), "sr-kernels-"));
    try {
      const bogus = join(dir, "spatial_reward_kernels.node");
      writeFileSync(bogus, "not an ELF file");
      const loader = await freshLoader({ SPATIAL_REWARD_NATIVE: undefined, SPATIAL_REWARD_KERNELS_ADDON: bogus });
      const warn = vi.spyOn(process, "emitWarning").mockImplementation(() => {});
      expect(loader.loadKernelsAddon()).toBeNull();
      expect(loader.loadKernelsAddon()).toBeNull();
      expect(warn).toHaveBeenCalledTimes(1);
      expect(String(warn.mock.calls[0][0])).toMatch(/failed to load/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("SPATIAL_REWARD_NATIVE=0: the TypeScript path, silently, whether or not the addon exists", async () => {
    const loader = await freshLoader({ SPATIAL_REWARD_NATIVE: "0", SPATIAL_REWARD_KERNELS_ADDON: undefined });
    const warn = vi.spyOn(process, "emitWarning").mockImplementation(() => {});
    expect(loader.loadKernelsAddon()).toBeNull();
    expect(loader.kernelFamily<FpContract>("fp_contract", ["mulAddInto"])).toBeNull();
    expect(loader.nativeKernelsStatus()).toEqual({ loaded: false, families: [], reason: "SPATIAL_REWARD_NATIVE=0" });
    expect(warn).not.toHaveBeenCalled();
  });
});

describe.runIf(NATIVE_TESTS)("the built kernels addon", () => {
  it("loads, lists its families, and a family it lacks falls back alone with one warning", async () => {
    const loader = await freshLoader({ SPATIAL_REWARD_NATIVE: undefined, SPATIAL_REWARD_KERNELS_ADDON: undefined });
    const warn = vi.spyOn(process, "emitWarning").mockImplementation(() => {});
    const addon = loader.loadKernelsAddon();
    expect(addon).not.toBeNull();
    expect(addon!.families).toContain("fp_contract");
    expect(loader.nativeKernelsStatus()).toMatchObject({ loaded: true });
    expect(loader.kernelFamily<FpContract>("fp_contract", ["mulAddInto"])).not.toBeNull();
    expect(loader.kernelFamily<{ noSuchKernel(): void }>("imaginary", ["noSuchKernel"])).toBeNull();
    expect(loader.kernelFamily<{ noSuchKernel(): void }>("imaginary", ["noSuchKernel"])).toBeNull();
    expect(warn).toHaveBeenCalledTimes(1);
    expect(String(warn.mock.calls[0][0])).toMatch(/has no noSuchKernel .*imaginary kernels run in TypeScript/);
  });

  it("floating point as JS computes it: a*b + c rounded twice, never fused into one FMA", async () => {
    const loader = await freshLoader({ SPATIAL_REWARD_NATIVE: undefined, SPATIAL_REWARD_KERNELS_ADDON: undefined });
    const k = loader.kernelFamily<FpContract>("fp_contract", ["mulAddInto"])!;
    // (1 + 2^-30)(1 - 2^-30) = 1 - 2^-60 exactly, which rounds to 1: JS gives 0 where an FMA gives -2^-60.
    const n = 10_001;
    const a = new Float64Array(n), b = new Float64Array(n), c = new Float64Array(n), out = new Float64Array(n);
    a[0] = 1 + 2 ** -30; b[0] = 1 - 2 ** -30; c[0] = -1;
    let s = 12345;
    const rnd = () => ((s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31 - 0.5) * 10;
    for (let i = 1; i < n; i++) { a[i] = rnd(); b[i] = rnd(); c[i] = -a[i] * b[i] * (1 + rnd() * 1e-9); }
    k.mulAddInto(a, b, c, out);
    expect(out[0]).toBe(0);
    let differ = 0;
    for (let i = 0; i < n; i++) if (!Object.is(out[i], a[i] * b[i] + c[i])) differ++;
    expect(differ).toBe(0);
  });

  it("js_math.h is V8's math: Math.hypot of 2 and 3 values, Uint8Array stores with and without clamping", async () => {
    const loader = await freshLoader({ SPATIAL_REWARD_NATIVE: undefined, SPATIAL_REWARD_KERNELS_ADDON: undefined });
    const k = loader.kernelFamily<JsMath>("js_math", ["hypotInto", "toUint8Into"])!;
    expect(k).not.toBeNull();
    const special = [0, -0, 1, -1, 3, 4, 1e-300, 1e300, 2 ** -1074, Number.MAX_VALUE, Infinity, -Infinity, NaN, 0.1, 0.7071067811865476];
    const n = 200_000 + special.length ** 3;
    const a = new Float64Array(n), b = new Float64Array(n), c = new Float64Array(n);
    let i = 0;
    for (const x of special) for (const y of special) for (const z of special) { a[i] = x; b[i] = y; c[i] = z; i++; }
    let s = 99;
    const rnd = () => (s = (s * 16807) % 2147483647) / 2147483647;
    // Normal components and ray hit coordinates as the rasteriser sees them, and wide magnitudes.
    for (; i < n; i++) {
      const scale = i % 3 === 0 ? 10 ** (rnd() * 40 - 20) : 1;
      a[i] = (rnd() - 0.5) * scale; b[i] = (rnd() - 0.5) * scale; c[i] = (rnd() - 0.5) * (i % 7 === 0 ? 1e-8 : 1);
    }
    const two = new Float64Array(n), three = new Float64Array(n);
    k.hypotInto(a, b, two);
    k.hypotInto(a, b, c, three);
    let differ = 0;
    for (let j = 0; j < n; j++) {
      if (!Object.is(two[j], Math.hypot(a[j], b[j]))) differ++;
      if (!Object.is(three[j], Math.hypot(a[j], b[j], c[j]))) differ++;
    }
    expect(differ).toBe(0);

    const x = new Float64Array([0, -0, 0.5, 0.9999999999999999, 1, 254.99999999999997, 255, 255.5, 256, 300, 511.7, -1, -3.7, -255.5, -256, 1e20, -1e20, NaN, Infinity, -Infinity, 2 ** 53, 2 ** 31 + 0.5, ...Array.from({ length: 5000 }, () => (rnd() - 0.3) * 2000)]);
    const clamped = new Uint8Array(x.length), raw = new Uint8Array(x.length);
    k.toUint8Into(x, clamped, raw);
    const jsClamped = new Uint8Array(x.length), jsRaw = new Uint8Array(x.length);
    for (let j = 0; j < x.length; j++) { jsClamped[j] = Math.min(255, Math.max(0, x[j])); jsRaw[j] = x[j]; }
    expect([...clamped]).toEqual([...jsClamped]);
    expect([...raw]).toEqual([...jsRaw]);
  });

  it("hostile arguments: a typed TypeError or RangeError, never a crash or a write outside the buffer", async () => {
    const loader = await freshLoader({ SPATIAL_REWARD_NATIVE: undefined, SPATIAL_REWARD_KERNELS_ADDON: undefined });
    const raw = loader.loadKernelsAddon()! as unknown as { mulAddInto: (...args: unknown[]) => void };
    const f8 = (n: number) => new Float64Array(n);
    expect(() => raw.mulAddInto()).toThrow(TypeError);
    expect(() => raw.mulAddInto(f8(4), f8(4), f8(4))).toThrow(TypeError);
    expect(() => raw.mulAddInto([1, 2], f8(2), f8(2), f8(2))).toThrow(TypeError);
    expect(() => raw.mulAddInto(new Float32Array(4), f8(4), f8(4), f8(4))).toThrow(/must be a Float64Array/);
    expect(() => raw.mulAddInto(f8(4), f8(3), f8(4), f8(4))).toThrow(RangeError);
    expect(() => raw.mulAddInto(f8(4), f8(4), f8(4), f8(5))).toThrow(/out holds 5 elements, 4 needed/);
    // A view into a larger buffer: only the view is written.
    const backing = new Float64Array(8);
    const view = new Float64Array(backing.buffer, 16, 4);
    raw.mulAddInto(f8(4).fill(2), f8(4).fill(3), f8(4).fill(1), view);
    expect([...backing]).toEqual([0, 0, 7, 7, 7, 7, 0, 0]);
    // Views of a SharedArrayBuffer (worker pipelines) work like any other.
    const shared = new Float64Array(new SharedArrayBuffer(6 * 8), 8, 4).fill(2);
    const sharedOut = new Float64Array(new SharedArrayBuffer(4 * 8));
    raw.mulAddInto(shared, shared, shared, sharedOut);
    expect([...sharedOut]).toEqual([6, 6, 6, 6]);
  });
});
