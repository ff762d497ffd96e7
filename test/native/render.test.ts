import { afterEach, describe, expect, it, vi } from "vitest";
import { generateWorld, orientedCamera, placeCamera, placeClutterCamera, RgbdSensor, Rng, teleopScenario, worldAt, type Camera, type Primitive, type RenderOutput, type World } from "../../sim/index.js";
import { Renderer } from "../../sim/renderer.js";
import { NativeRasteriser, OBJECT, RENDER_LAYOUT, SCENE, type RasterTargets } from "../../sim/native_rasteriser.js";
import { intrinsicsFromFov } from "../../src/geometry/intrinsics.js";
import { SpatialRewardError } from "../../src/errors.js";
import { NATIVE_TESTS } from "./native_env.js";

/** Elements that differ between two renders, per output (depth compared as float32 bits, so -0/NaN count). */
function differences(a: RenderOutput, b: RenderOutput): Record<string, number> {
  const count = (x: ArrayLike<number>, y: ArrayLike<number>) => {
    if (x.length !== y.length) return Infinity;
    let d = 0;
    for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) d++;
    return d;
  };
  const bits = (f: Float32Array) => new Uint32Array(f.buffer, f.byteOffset, f.length);
  return {
    rgb: count(a.rgb.data, b.rgb.data),
    depth: count(bits(a.depthMetres), bits(b.depthMetres)),
    mask: count(a.mask.data, b.mask.data),
    visible: count(a.visiblePixels, b.visiblePixels),
    silhouette: count(a.silhouettePixels, b.silhouettePixels),
  };
}
const NONE = { rgb: 0, depth: 0, mask: 0, visible: 0, silhouette: 0 };

/** The same view turned by `dyaw`/`dpitch` (objects cut by the image border) and rolled. */
function turned(cam: Camera, dyaw: number, dpitch: number, roll: number): Camera {
  const yaw = Math.atan2(cam.forward.y, cam.forward.x), pitch = Math.asin(-cam.forward.z);
  return orientedCamera(cam.intrinsics, cam.position, yaw + dyaw, pitch + dpitch, roll);
}

/** A world of every primitive type at random sizes and poses: resting, floating, overlapping, some behind or around the camera. */
function randomWorld(rng: Rng, n: number): World {
  const make = (k: number): Primitive => {
    switch (k % 6) {
      case 0: return { type: "box", sx: rng.uniform(0.01, 0.3), sy: rng.uniform(0.01, 0.3), sz: rng.uniform(0.005, 0.3) };
      case 1: return { type: "cylinder", r: rng.uniform(0.01, 0.15), h: rng.uniform(0.005, 0.3) };
      case 2: return { type: "sphere", r: rng.uniform(0.01, 0.12) };
      case 3: return { type: "ellipsoid", a: rng.uniform(0.01, 0.1), b: rng.uniform(0.01, 0.1), c: rng.uniform(0.01, 0.1) };
      case 4: { const r = rng.uniform(0.01, 0.04); return { type: "capsule", r, length: rng.uniform(2 * r, 0.3) }; }
      default: { const rim = rng.uniform(0.03, 0.1), h = rng.uniform(0.02, 0.08); return { type: "bowl", R: (rim * rim + h * h) / (2 * h), h }; }
    }
  };
  const colors = ["red", "green", "blue", "white", "black", "gray", "no-such-colour"];
  const objects = Array.from({ length: n }, (_, i) => ({
    id: `o#${i}`, kind: `kind${i % 6}`, color: colors[i % colors.length], primitive: make(i + rng.int(0, 5)),
    pose: { x: rng.uniform(-0.9, 0.9), y: rng.uniform(-0.7, 0.7), z: rng.uniform(0.6, 1.2), yaw: rng.uniform(-7, 7) },
  }));
  return { tableZ: 0.75, tableHalfX: 0.6, tableHalfY: 0.45, objects };
}

const saved = process.env.SPATIAL_REWARD_NATIVE;
afterEach(() => {
  if (saved === undefined) delete process.env.SPATIAL_REWARD_NATIVE;
  else process.env.SPATIAL_REWARD_NATIVE = saved;
  vi.restoreAllMocks();
});

describe.runIf(NATIVE_TESTS)("native rasteriser vs the TypeScript reference: bit-identical renders", () => {
  const ts = new Renderer({ kernels: "ts" });
  const native = new Renderer({ kernels: "native" });
  // The projected bounds (the kernel computes its own, as projectedBounds does for the TS path).
  const bounds = (r: Renderer, n: number) => [...(r as unknown as { bounds: Int32Array }).bounds.subarray(0, 4 * n)];
  const same = (world: World, cam: Camera, name: string) => {
    const a = ts.render(world, cam), b = native.render(world, cam);
    expect(differences(a, b), name).toEqual(NONE);
    expect(bounds(native, world.objects.length), `${name} bounds`).toEqual(bounds(ts, world.objects.length));
    return a;
  };

  it("both renderers say which path they take", () => {
    expect(ts.path).toBe("ts");
    expect(native.path).toBe("native");
  });

  it("default, stacked and cluttered scenes, 60 seeds each (160x120), and views turned so objects cross the border", () => {
    let objectPixels = 0;
    for (let seed = 9000; seed < 9060; seed++) {
      const size = { width: 160, height: 120 };
      const w = generateWorld(seed);
      const cam = placeCamera(w, seed, size).camera;
      objectPixels += same(w, cam, `default ${seed}`).visiblePixels.reduce((a, b) => a + b, 0);
      same(w, turned(cam, 0.25, 0.1, 0.05), `default ${seed} turned`);
      const s = generateWorld(seed, { stacking: 0.8 });
      same(s, placeCamera(s, seed, size).camera, `stacked ${seed}`);
      const c = generateWorld(seed, { clutter: true });
      same(c, placeClutterCamera(c, seed, size).camera, `clutter ${seed}`);
    }
    expect(objectPixels).toBeGreaterThan(60 * 500); // the scenes do show objects
  });

  it("640x480 scenes as the eval renders them", () => {
    for (let seed = 7000000; seed < 7000006; seed++) {
      const w = generateWorld(seed, seed % 2 ? { stacking: 0.7 } : { clutter: true });
      same(w, placeCamera(w, seed).camera, `640x480 ${seed}`);
    }
  });

  it("every primitive at random poses and camera poses from anywhere: rolled, from under the table, from inside objects, very wide and very narrow", () => {
    const rng = new Rng(4242);
    for (let k = 0; k < 120; k++) {
      const world = randomWorld(rng, rng.int(1, 40));
      const o = world.objects[0].pose;
      const width = rng.int(1, 120), height = rng.int(1, 90);
      const intr = { ...intrinsicsFromFov(width, height, rng.uniform(5, 170)), cx: rng.uniform(-10, width + 10), cy: rng.uniform(-10, height + 10) };
      const inside = k % 5 === 0;
      const position = inside ? { x: o.x, y: o.y, z: o.z + 0.003 } : { x: rng.uniform(-2, 2), y: rng.uniform(-2, 2), z: rng.uniform(-0.5, 2.5) };
      const cam = orientedCamera(intr, position, rng.uniform(-4, 4), rng.uniform(-1.6, 1.6), rng.uniform(-3.2, 3.2));
      same(world, cam, `random ${k}`);
    }
  });

  it("axis-aligned rays (zero direction components hit the slab and cylinder special cases)", () => {
    const world: World = {
      tableZ: 0.75, tableHalfX: 0.6, tableHalfY: 0.45,
      objects: [
        { id: "box#1", kind: "box", color: "red", primitive: { type: "box", sx: 0.2, sy: 0.2, sz: 0.2 }, pose: { x: 0, y: 0, z: 0.75, yaw: 0 } },
        { id: "mug#1", kind: "mug", color: "blue", primitive: { type: "cylinder", r: 0.05, h: 0.1 }, pose: { x: 0.3, y: 0.1, z: 0.75, yaw: 0 } },
        { id: "bowl#1", kind: "bowl", color: "white", primitive: { type: "bowl", R: 0.08, h: 0.05 }, pose: { x: -0.3, y: 0.1, z: 0.75, yaw: 0 } },
      ],
    };
    const intr = { width: 33, height: 33, fx: 30, fy: 30, cx: 16, cy: 16 };
    // Straight down (pitch 90°) and level views along the axes: the centre ray has exact zero components.
    for (const [yaw, pitch] of [[0, Math.PI / 2], [0, 0], [Math.PI / 2, 0], [Math.PI, 0.3]]) {
      same(world, orientedCamera(intr, { x: -1.2, y: 0, z: 1.5 }, yaw, pitch, 0), `axis ${yaw} ${pitch}`);
      same(world, orientedCamera(intr, { x: 0, y: 0, z: 1.5 }, yaw, pitch, 0), `above ${yaw} ${pitch}`);
    }
  });
});

describe.runIf(NATIVE_TESTS)("RgbdSensor on either rasteriser: the same frames, noise and detector boxes included", () => {
  it.each(["none", "realsense"] as const)("noise %s: 20 frames of a teleop episode, byte for byte", (noise) => {
    const { world, camera, episode } = teleopScenario(31, 20, { width: 160, height: 120 });
    const a = new RgbdSensor({ noise, seed: 31, kernels: "ts" }), b = new RgbdSensor({ noise, seed: 31, kernels: "native" });
    expect([a.renderPath, b.renderPath]).toEqual(["ts", "native"]);
    for (let f = 0; f < 20; f++) {
      const w = worldAt(world, episode.poses[f]);
      const x = a.capture(w, camera, BigInt(f)), y = b.capture(w, camera, BigInt(f));
      expect(differences(x.render, y.render), `frame ${f}`).toEqual(NONE);
      expect(y.frame.detections, `frame ${f}`).toEqual(x.frame.detections);
      expect(y.truth, `frame ${f}`).toEqual(x.truth);
    }
  });
});

describe("the Renderer's checks, on both paths: typed errors, never a garbage image", () => {
  const paths = NATIVE_TESTS ? (["ts", "native"] as const) : (["ts"] as const);
  const world = () => generateWorld(3);
  const camera = (w: World) => placeCamera(w, 3, { width: 64, height: 48 }).camera;

  it.each(paths)("%s: non-finite poses and sizes, unknown primitives, bad cameras, too many objects", (path) => {
    const r = new Renderer({ kernels: path });
    const w = world(), cam = camera(w);
    const bad: [string, World, Camera, string][] = [];
    const withObject = (f: (o: World["objects"][number]) => void) => { const c = structuredClone(w); f(c.objects[0]); return c; };
    bad.push(["NaN x", withObject((o) => { o.pose.x = NaN; }), cam, "bad_scene"]);
    bad.push(["infinite yaw", withObject((o) => { o.pose.yaw = Infinity; }), cam, "bad_scene"]);
    bad.push(["NaN size", withObject((o) => { (o.primitive as { r?: number; sx?: number }).r = NaN; (o.primitive as { sx?: number }).sx = NaN; }), cam, "bad_scene"]);
    bad.push(["negative size", withObject((o) => { o.primitive = { type: "sphere", r: -0.1 }; }), cam, "bad_scene"]);
    bad.push(["unknown primitive", withObject((o) => { (o.primitive as unknown as { type: string }).type = "torus"; }), cam, "bad_scene"]);
    bad.push(["prototype key as primitive", withObject((o) => { (o.primitive as unknown as { type: string }).type = "constructor"; }), cam, "bad_scene"]);
    bad.push(["NaN table", { ...w, tableZ: NaN }, cam, "bad_scene"]);
    bad.push(["256 objects", { ...w, objects: Array.from({ length: 256 }, (_, i) => ({ ...w.objects[0], id: `x#${i}` })) }, cam, "bad_scene"]);
    bad.push(["NaN camera", w, { ...cam, position: { ...cam.position, z: NaN } }, "bad_argument"]);
    bad.push(["zero fx", w, { ...cam, intrinsics: { ...cam.intrinsics, fx: 0 } }, "bad_intrinsics"]);
    bad.push(["NaN width", w, { ...cam, intrinsics: { ...cam.intrinsics, width: NaN } }, "bad_image_size"]);
    bad.push(["fractional height", w, { ...cam, intrinsics: { ...cam.intrinsics, height: 47.5 } }, "bad_image_size"]);
    bad.push(["zero width", w, { ...cam, intrinsics: { ...cam.intrinsics, width: 0 } }, "bad_image_size"]);
    bad.push(["huge image", w, { ...cam, intrinsics: { ...cam.intrinsics, width: 100_000 } }, "bad_image_size"]);
    for (const [name, bw, bc, code] of bad) {
      let err: unknown;
      try { r.render(bw, bc); } catch (e) { err = e; }
      expect(err, name).toBeInstanceOf(SpatialRewardError);
      expect((err as SpatialRewardError).code, name).toBe(code);
    }
    // And it still renders good input afterwards.
    expect(r.render(w, cam).visiblePixels.some((p) => p > 0)).toBe(true);
  });

  it("an unknown kernels option is a typed error", () => {
    expect(() => new Renderer({ kernels: "gpu" as "ts" })).toThrow(SpatialRewardError);
  });
});

describe.runIf(NATIVE_TESTS)("the native rasteriser's wrapper and kernel under hostile input", () => {
  const w = generateWorld(5);
  const cam = placeCamera(w, 5, { width: 40, height: 30 }).camera;
  const n = w.objects.length;
  /** A correctly packed scene (taken from a Renderer) to break one thing at a time. */
  function packed(): { scene: Float64Array; objects: Float64Array; bounds: Int32Array; out: RasterTargets } {
    const r = new Renderer({ kernels: "native" });
    r.render(w, cam);
    const inner = r as unknown as { scene: Float64Array; objects: Float64Array; bounds: Int32Array };
    return {
      scene: inner.scene.slice(), objects: inner.objects.slice(), bounds: inner.bounds.slice(),
      out: { rgb: new Uint8Array(40 * 30 * 3), depth: new Float32Array(40 * 30), mask: new Uint8Array(40 * 30), visible: new Int32Array(n), silhouette: new Int32Array(n) },
    };
  }
  const rasteriser = NativeRasteriser.load()!;
  const code = (f: () => void): string => {
    try { f(); } catch (e) { return e instanceof SpatialRewardError ? e.code : `untyped ${String(e)}`; }
    return "no error";
  };

  it("renders what the Renderer renders from the same packed scene", () => {
    const p = packed();
    rasteriser.render(p.scene, p.objects, p.bounds, p.out);
    const ref = new Renderer({ kernels: "ts" }).render(w, cam);
    expect(Buffer.compare(Buffer.from(p.out.rgb), Buffer.from(ref.rgb.data))).toBe(0);
    expect([...p.out.visible]).toEqual([...ref.visiblePixels]);
  });

  it("wrong buffer sizes and types: bad_image_size, nothing written", () => {
    const cases: [string, (o: RasterTargets) => void][] = [
      ["short rgb", (o) => { o.rgb = new Uint8Array(40 * 30 * 3 - 1); }],
      ["long depth", (o) => { o.depth = new Float32Array(40 * 30 + 1); }],
      ["depth as Float64Array", (o) => { (o as unknown as { depth: Float64Array }).depth = new Float64Array(40 * 30); }],
      ["clamped mask", (o) => { (o as unknown as { mask: Uint8ClampedArray }).mask = new Uint8ClampedArray(40 * 30); }],
      ["short visible", (o) => { o.visible = new Int32Array(n - 1); }],
      ["silhouette as plain array", (o) => { (o as unknown as { silhouette: number[] }).silhouette = new Array(n).fill(0); }],
      ["null rgb", (o) => { (o as unknown as { rgb: null }).rgb = null; }],
    ];
    for (const [name, breakIt] of cases) {
      const p = packed();
      breakIt(p.out);
      expect(code(() => rasteriser.render(p.scene, p.objects, p.bounds, p.out)), name).toBe("bad_image_size");
      if (p.out.rgb instanceof Uint8Array) expect(p.out.rgb.every((x) => x === 0), name).toBe(true);
    }
  });

  it("non-finite or out-of-range scene values, unknown primitive codes, short arrays: typed errors", () => {
    const cases: [string, (p: ReturnType<typeof packed>) => void, string][] = [
      ["NaN focal length", (p) => { p.scene[SCENE.fx] = NaN; }, "bad_scene"],
      ["infinite position", (p) => { p.scene[SCENE.position] = Infinity; }, "bad_scene"],
      ["NaN width", (p) => { p.scene[SCENE.width] = NaN; }, "bad_scene"],
      ["fractional width", (p) => { p.scene[SCENE.width] = 40.5; }, "bad_image_size"],
      ["negative height", (p) => { p.scene[SCENE.height] = -30; }, "bad_image_size"],
      ["256 objects", (p) => { p.scene[SCENE.objectCount] = 256; }, "bad_scene"],
      ["fractional object count", (p) => { p.scene[SCENE.objectCount] = 1.5; }, "bad_scene"],
      ["NaN object size", (p) => { p.objects[OBJECT.params] = NaN; }, "bad_scene"],
      ["NaN object pose", (p) => { p.objects[OBJECT.x] = NaN; }, "bad_scene"],
      ["primitive code 6", (p) => { p.objects[OBJECT.type] = 6; }, "bad_scene"],
      ["primitive code 0.5", (p) => { p.objects[OBJECT.type] = 0.5; }, "bad_scene"],
      ["short objects", (p) => { p.objects = p.objects.slice(0, n * RENDER_LAYOUT.objectStride - 1); }, "bad_argument"],
      ["short bounds", (p) => { p.bounds = p.bounds.slice(0, 4 * n - 1); }, "bad_argument"],
      ["short scene", (p) => { p.scene = p.scene.slice(0, 39); }, "bad_argument"],
      ["scene as Float32Array", (p) => { (p as unknown as { scene: Float32Array }).scene = new Float32Array(40); }, "bad_argument"],
    ];
    for (const [name, breakIt, expected] of cases) {
      const p = packed();
      breakIt(p);
      expect(code(() => rasteriser.render(p.scene, p.objects, p.bounds, p.out)), name).toBe(expected);
    }
  });

  it("the raw kernel, past the wrapper: TypeError/RangeError for every bad argument, bounds written whatever they held, nothing written outside the buffers", () => {
    type Raw = (...args: unknown[]) => void;
    const raw = (rasteriser as unknown as { kernels: { renderRgbd: Raw } }).kernels.renderRgbd;
    const p = packed();
    const args = (): unknown[] => [p.scene, p.objects, p.bounds, p.out.rgb, p.out.depth, p.out.mask, p.out.visible, p.out.silhouette];
    for (let i = 0; i < 8; i++) {
      const a = args();
      a[i] = new Uint16Array(3);
      expect(() => raw(...a), `argument ${i}`).toThrow(TypeError);
      expect(() => raw(...args().slice(0, i)), `only ${i} arguments`).toThrow(TypeError);
    }
    for (const [at, v] of [[SCENE.width, 1e9], [SCENE.height, -1], [SCENE.objectCount, 1e6], [SCENE.fx, NaN]] as const) {
      const s = p.scene.slice();
      s[at] = v;
      expect(() => raw(s, ...args().slice(1)), `scene[${at}] = ${v}`).toThrow(RangeError);
    }
    const o = p.objects.slice();
    o[OBJECT.type] = -1;
    expect(() => raw(p.scene, o, ...args().slice(2))).toThrow(RangeError);
    // Bounds are the kernel's output: whatever they held, they come back right; writes stay inside views.
    const wild = new Int32Array(4 * n + 2);
    for (let i = 0; i < wild.length; i++) wild[i] = i % 2 ? 2 ** 31 - 1 : -(2 ** 31);
    const guard = new Uint8Array(40 * 30 * 3 + 64).fill(0xab);
    const rgb = guard.subarray(32, 32 + 40 * 30 * 3);
    raw(p.scene, p.objects, wild.subarray(0, 4 * n + 1), rgb, p.out.depth, p.out.mask, p.out.visible, p.out.silhouette);
    expect(guard.subarray(0, 32).every((x) => x === 0xab) && guard.subarray(32 + 40 * 30 * 3).every((x) => x === 0xab)).toBe(true);
    expect(wild.subarray(4 * n)).toEqual(new Int32Array([-(2 ** 31), 2 ** 31 - 1]));
    const tight = packed();
    rasteriser.render(tight.scene, tight.objects, tight.bounds, tight.out);
    expect([...wild.subarray(0, 4 * n)]).toEqual([...tight.bounds.subarray(0, 4 * n)]);
    expect(Buffer.compare(Buffer.from(rgb), Buffer.from(tight.out.rgb))).toBe(0);
    // Outputs sharing the scene's memory: the kernel reads its inputs before writing.
    const shared = new ArrayBuffer(40 * 8 + 40 * 30 * 3);
    const scene = new Float64Array(shared, 0, 40);
    scene.set(p.scene);
    const overlapping = new Uint8Array(shared, 0, 40 * 30 * 3);
    raw(scene, p.objects, p.bounds, overlapping, p.out.depth, p.out.mask, p.out.visible, p.out.silhouette);
    expect(Buffer.compare(Buffer.from(overlapping), Buffer.from(tight.out.rgb))).toBe(0);
  });
});

describe("the TypeScript path when native kernels are off or absent", () => {
  it("an addon that is not there: one warning for every renderer and sensor in the process, and they render on the TS path", async () => {
    const savedPath = process.env.SPATIAL_REWARD_KERNELS_ADDON;
    process.env.SPATIAL_REWARD_KERNELS_ADDON = "/nonexistent/spatial_reward_kernels.node";
    delete process.env.SPATIAL_REWARD_NATIVE;
    try {
      vi.resetModules();
      const fresh = await import("../../sim/index.js");
      const warn = vi.spyOn(process, "emitWarning").mockImplementation(() => {});
      const w = fresh.generateWorld(12);
      const cam = fresh.placeCamera(w, 12, { width: 64, height: 48 }).camera;
      const renderers = [new fresh.Renderer(), new fresh.Renderer()];
      for (const r of renderers) {
        expect(r.render(w, cam).visiblePixels.some((p) => p > 0)).toBe(true);
        expect(r.path).toBe("ts");
      }
      const sensor = new fresh.RgbdSensor({ noise: "realsense", seed: 12 });
      expect(sensor.capture(w, cam, 0n).frame.depth.data.some((x) => x !== 0)).toBe(true);
      expect(warn).toHaveBeenCalledTimes(1);
      expect(String(warn.mock.calls[0][0])).toMatch(/native kernels unavailable .*was not built.*npm run build:native/);
      expect(() => new fresh.Renderer({ kernels: "native" })).toThrow(/native kernels requested but unavailable/);
    } finally {
      if (savedPath === undefined) delete process.env.SPATIAL_REWARD_KERNELS_ADDON;
      else process.env.SPATIAL_REWARD_KERNELS_ADDON = savedPath;
      vi.resetModules();
    }
  });

  it("SPATIAL_REWARD_NATIVE=0: a default Renderer takes the TS path, silently, and renders the scene", () => {
    process.env.SPATIAL_REWARD_NATIVE = "0";
    const warn = vi.spyOn(process, "emitWarning");
    const r = new Renderer();
    expect(r.path).toBe("ts");
    const w = generateWorld(11);
    const cam = placeCamera(w, 11, { width: 80, height: 60 }).camera;
    const out = r.render(w, cam);
    expect(out.visiblePixels.filter((p) => p > 0).length).toBeGreaterThanOrEqual(w.objects.length - 1);
    expect(out.depthMetres.some((d) => d > 0)).toBe(true);
    expect(differences(out, new Renderer({ kernels: "ts" }).render(w, cam))).toEqual(NONE);
    expect(() => new Renderer({ kernels: "native" })).toThrow(/native kernels requested but unavailable \(SPATIAL_REWARD_NATIVE=0\)/);
    expect(warn).not.toHaveBeenCalled();
  });
});
