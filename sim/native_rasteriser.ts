import { InvalidInputError } from "../src/errors.js";
import { kernelFamily, nativeDisabled, reportUnusableFamily } from "../nodes/native/kernels_addon.js";

/**
 * The native RGB-D rasteriser (kernel family "render", native/src/kernels/render_rgbd.cc):
 * the C++ port of Renderer's per-pixel loop (sim/renderer.ts is the reference and the
 * fallback). The scene goes in as two packed Float64Arrays; the kernel writes the caller's
 * typed arrays in place, the objects' projected pixel bounds included (the TS path's
 * projectedBounds, computed the same way).
 */

/** The packing both sides agree on; render_rgbd.cc reports its own, checked before first use. */
export const RENDER_LAYOUT = { version: 2, sceneLength: 40, objectStride: 12, maxObjects: 255, maxSide: 16384 } as const;

/** Indices into the scene array. */
export const SCENE = {
  width: 0, height: 1, fx: 2, fy: 3, cx: 4, cy: 5,
  position: 6, right: 9, down: 12, forward: 15,
  tableZ: 18, tableHalfX: 19, tableHalfY: 20,
  light: 21, ambient: 24, diffuse: 25, maxRange: 26,
  sky: 27, table: 30, floor: 33,
  objectCount: 36,
} as const;

/** Offsets within one object's `objectStride` values. */
export const OBJECT = { type: 0, params: 1, x: 4, y: 5, z: 6, cos: 7, sin: 8, base: 9 } as const;

/** Primitive codes (render_primitives.h PrimitiveType). */
export const PRIMITIVE_CODES = { box: 0, cylinder: 1, sphere: 2, ellipsoid: 3, capsule: 4, bowl: 5 } as const;

/** Where a render is written: the caller's arrays, sized for the scene's width, height and object count. */
export interface RasterTargets {
  /** rgb8, width × height × 3. */
  rgb: Uint8Array;
  /** Metres along the optical axis, width × height. */
  depth: Float32Array;
  /** Instance ids (object index + 1), width × height. */
  mask: Uint8Array;
  /** Per object: pixels where it is front-most / pixels its silhouette covers. */
  visible: Int32Array;
  silhouette: Int32Array;
}

interface RenderLayout {
  version: number;
  sceneLength: number;
  objectStride: number;
  maxObjects: number;
  maxSide: number;
}

interface RenderKernels {
  renderRgbd(scene: Float64Array, objects: Float64Array, bounds: Int32Array, rgb: Uint8Array, depth: Float32Array,
    mask: Uint8Array, visible: Int32Array, silhouette: Int32Array): void;
  renderRgbdLayout(): RenderLayout;
}

let loaded: NativeRasteriser | null | undefined;

export class NativeRasteriser {
  private constructor(private readonly kernels: RenderKernels) {}

  /**
   * The rasteriser, or null when the addon is absent, disabled (SPATIAL_REWARD_NATIVE=0), lacks
   * the family, or was built with another layout (each said once). Cached after the first look.
   */
  static load(): NativeRasteriser | null {
    if (nativeDisabled()) return null;
    if (loaded !== undefined) return loaded;
    const k = kernelFamily<RenderKernels>("render", ["renderRgbd", "renderRgbdLayout"]);
    if (!k) {
      loaded = null;
      return null;
    }
    const layout = k.renderRgbdLayout();
    const same = (Object.keys(RENDER_LAYOUT) as (keyof RenderLayout)[]).every((key) => layout?.[key] === RENDER_LAYOUT[key]);
    if (!same) {
      reportUnusableFamily("render", `its scene layout ${JSON.stringify(layout)} is not this version's ${JSON.stringify(RENDER_LAYOUT)}`);
      loaded = null;
      return null;
    }
    loaded = new NativeRasteriser(k);
    return loaded;
  }

  /**
   * Renders the packed scene into `out`, and each object's pixel bounds (u0, u1, v0, v1) into
   * `bounds`. `objects` and `bounds` may be longer than the object count needs (reused capacity). Bad sizes or values are typed errors, checked here
   * before the kernel runs (the kernel checks again that nothing is touched out of bounds).
   */
  render(scene: Float64Array, objects: Float64Array, bounds: Int32Array, out: RasterTargets): void {
    if (!(scene instanceof Float64Array) || scene.length !== RENDER_LAYOUT.sceneLength) {
      throw new InvalidInputError("bad_argument", `native rasteriser: the scene must be a Float64Array of ${RENDER_LAYOUT.sceneLength}`);
    }
    for (let i = 0; i < scene.length; i++) {
      if (!Number.isFinite(scene[i])) throw new InvalidInputError("bad_scene", `native rasteriser: scene value ${i} is ${scene[i]}`);
    }
    const width = scene[SCENE.width], height = scene[SCENE.height], n = scene[SCENE.objectCount];
    checkSide("width", width);
    checkSide("height", height);
    if (!Number.isInteger(n) || n < 0 || n > RENDER_LAYOUT.maxObjects) {
      throw new InvalidInputError("bad_scene", `native rasteriser: object count must be an integer in [0, ${RENDER_LAYOUT.maxObjects}], got ${n}`);
    }
    const stride = RENDER_LAYOUT.objectStride;
    if (!(objects instanceof Float64Array) || objects.length < n * stride) {
      throw new InvalidInputError("bad_argument", `native rasteriser: objects must be a Float64Array of at least ${n * stride}`);
    }
    for (let i = 0; i < n * stride; i++) {
      if (!Number.isFinite(objects[i])) throw new InvalidInputError("bad_scene", `native rasteriser: object ${Math.floor(i / stride)} value ${i % stride} is ${objects[i]}`);
    }
    for (let i = 0; i < n; i++) {
      const t = objects[i * stride + OBJECT.type];
      if (!Number.isInteger(t) || t < 0 || t > PRIMITIVE_CODES.bowl) throw new InvalidInputError("bad_scene", `native rasteriser: object ${i} has primitive code ${t}`);
    }
    if (!(bounds instanceof Int32Array) || bounds.length < 4 * n) {
      throw new InvalidInputError("bad_argument", `native rasteriser: bounds must be an Int32Array of at least ${4 * n}`);
    }
    const pixels = width * height;
    if (out === null || typeof out !== "object") throw new InvalidInputError("bad_argument", "native rasteriser: the targets { rgb, depth, mask, visible, silhouette } are required");
    checkTarget("rgb", out.rgb, Uint8Array, pixels * 3, width, height, n);
    checkTarget("depth", out.depth, Float32Array, pixels, width, height, n);
    checkTarget("mask", out.mask, Uint8Array, pixels, width, height, n);
    checkTarget("visible", out.visible, Int32Array, n, width, height, n);
    checkTarget("silhouette", out.silhouette, Int32Array, n, width, height, n);
    try {
      this.kernels.renderRgbd(scene, objects, bounds, out.rgb, out.depth, out.mask, out.visible, out.silhouette);
    } catch (e) {
      // Only reachable if the checks above and the kernel's disagree: still a typed error.
      throw new InvalidInputError("bad_argument", `native rasteriser: ${(e as Error).message}`);
    }
  }
}

function checkSide(what: string, v: number): void {
  if (!Number.isInteger(v) || v < 1 || v > RENDER_LAYOUT.maxSide) {
    throw new InvalidInputError("bad_image_size", `native rasteriser: ${what} must be an integer in [1, ${RENDER_LAYOUT.maxSide}], got ${v}`);
  }
}

type TypedArrayClass = typeof Uint8Array | typeof Float32Array | typeof Int32Array;

function checkTarget(what: string, a: unknown, type: TypedArrayClass, length: number, width: number, height: number, n: number): void {
  if (!(a instanceof type) || a.length !== length) {
    throw new InvalidInputError("bad_image_size", `native rasteriser: ${what} must be a ${type.name} of ${length} for ${width}x${height} and ${n} objects, got ${describe(a)}`);
  }
}

function describe(a: unknown): string {
  if (ArrayBuffer.isView(a)) return `a ${a.constructor.name} of ${(a as unknown as { length: number }).length}`;
  return a === null ? "null" : typeof a;
}
