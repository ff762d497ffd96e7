import type { ImageLike } from "../src/scene/image.js";
import { COLORS } from "../src/scene/colors.js";
import { InvalidInputError, SpatialRewardError } from "../src/errors.js";
import { nativeKernelsStatus } from "../nodes/native/kernels_addon.js";
import type { Camera } from "./camera.js";
import { NativeRasteriser, OBJECT, PRIMITIVE_CODES, RENDER_LAYOUT, SCENE, type RasterTargets } from "./native_rasteriser.js";
import { intersectWorld, supportWorld, type Hit, type Primitive } from "./shapes.js";
import type { World } from "./world.js";

/** One rendered view. Buffers belong to the renderer and are overwritten by the next render. */
export interface RenderOutput {
  rgb: ImageLike;
  /** 32FC1 metres along the optical axis; 0 where nothing is within range. */
  depth: ImageLike;
  /** mono8 instance ids: object index + 1, 0 background. */
  mask: ImageLike;
  labels: Map<number, string>;
  /** Per object: pixels where it is front-most, and pixels its silhouette covers at all. */
  visiblePixels: Int32Array;
  silhouettePixels: Int32Array;
  /** Float32 view of `depth.data`. */
  depthMetres: Float32Array;
}

const TABLE_RGB = [186, 172, 150];
const FLOOR_RGB = [92, 90, 96];
const SKY_RGB = [205, 210, 218];
const MAX_RANGE = 6;
// Light from above and a little to the side; ambient keeps shadowed sides legible.
const LIGHT = (() => { const l = [0.35, 0.25, 1]; const n = Math.hypot(l[0], l[1], l[2]); return l.map((x) => x / n); })();
const AMBIENT = 0.4;
const DIFFUSE = 0.6;

const COLOR_RGB = new Map(COLORS.map((c) => [c.name, c.rgb]));

/** Which implementation renders: the TypeScript reference or the native kernel (same output). */
export type RenderPath = "ts" | "native";

export interface RendererOptions {
  /**
   * "auto" (default): the native kernel when the kernels addon is loaded (and
   * SPATIAL_REWARD_NATIVE is not 0), else TypeScript; "ts" or "native" force one ("native"
   * throws backend_unavailable where the addon is not there).
   */
  kernels?: "auto" | RenderPath;
}

// Parameters of each primitive type, in the order the native layout packs them.
const PRIMITIVE_PARAMS: { readonly [T in Primitive["type"]]: readonly string[] } = {
  box: ["sx", "sy", "sz"], cylinder: ["r", "h"], sphere: ["r"], ellipsoid: ["a", "b", "c"], capsule: ["r", "length"], bowl: ["R", "h"],
};

/**
 * Ray-casting RGB-D renderer for the tabletop world. Rays are cast per pixel through the
 * pinhole model with direction (x, y, 1) in the optical frame, so the hit parameter t is
 * directly the optical depth. Only objects whose projected bounds cover a row are tested.
 *
 * Two implementations with the same output bit for bit: the per-pixel loop below (the
 * reference, and the fallback) and its C++ port in the kernels addon (sim/native_rasteriser.ts),
 * chosen once per renderer. Both share the checks of the world and camera, compute the same
 * projected bounds, and write the same buffers. The native path allocates nothing per frame.
 */
export class Renderer {
  private width = 0;
  private height = 0;
  private out: RenderOutput | null = null;
  private readonly hit: Hit = { t: 0, nx: 0, ny: 0, nz: 0 };
  private readonly wanted: "auto" | RenderPath;
  private native: NativeRasteriser | null | undefined;
  // Projected bounds, 4 per object (u0, u1, v0, v1), and the packed scene for the kernel; grown, never shrunk.
  private bounds = new Int32Array(0);
  private readonly scene = new Float64Array(RENDER_LAYOUT.sceneLength);
  private objects = new Float64Array(0);
  private rasterTargets: RasterTargets | null = null;

  constructor(options: RendererOptions = {}) {
    const kernels = options?.kernels ?? "auto";
    if (kernels !== "auto" && kernels !== "ts" && kernels !== "native") {
      throw new InvalidInputError("bad_argument", `Renderer: kernels must be "auto", "ts" or "native", got ${String(kernels)}`);
    }
    this.wanted = kernels;
    if (kernels === "ts") this.native = null;
    else if (kernels === "native") this.native = this.requireNative();
  }

  /** The implementation this renderer uses (decided at the first render or the first read of this). */
  get path(): RenderPath {
    return this.rasteriser() ? "native" : "ts";
  }

  render(world: World, cam: Camera): RenderOutput {
    checkRenderInput(world, cam);
    const { width, height } = cam.intrinsics;
    const n = world.objects.length;
    const out = this.buffers(width, height, n);
    // Overwriting ids 1..n allocates nothing; Map.clear() would allocate a new table each frame.
    if (out.labels.size !== n) out.labels.clear();
    for (let i = 0; i < n; i++) out.labels.set(i + 1, world.objects[i].kind);
    if (this.bounds.length < 4 * n) this.bounds = new Int32Array(4 * n);
    const native = this.rasteriser();
    if (native) {
      // The kernel computes the bounds too, as projectedBounds does.
      this.pack(world, cam);
      native.render(this.scene, this.objects, this.bounds, this.targets(out));
    } else {
      projectedBounds(world, cam, this.bounds);
      this.renderTs(world, cam, out);
    }
    return out;
  }

  /** The output buffers as the kernel's targets, one object per set of buffers (not per frame). */
  private targets(out: RenderOutput): RasterTargets {
    const t = this.rasterTargets;
    if (t && t.rgb === out.rgb.data && t.depth === out.depthMetres && t.visible === out.visiblePixels) return t;
    this.rasterTargets = { rgb: out.rgb.data, depth: out.depthMetres, mask: out.mask.data, visible: out.visiblePixels, silhouette: out.silhouettePixels };
    return this.rasterTargets;
  }

  private rasteriser(): NativeRasteriser | null {
    if (this.native === undefined) this.native = NativeRasteriser.load();
    return this.native;
  }

  private requireNative(): NativeRasteriser {
    const r = NativeRasteriser.load();
    if (!r) {
      const why = nativeKernelsStatus().reason ?? "the addon has no usable render kernels";
      throw new SpatialRewardError("backend_unavailable", `Renderer: native kernels requested but unavailable (${why}); build them with \`npm run build:native\``);
    }
    return r;
  }

  /** The scene in the kernel's layout (sim/native_rasteriser.ts). */
  private pack(world: World, cam: Camera): void {
    const s = this.scene;
    const k = cam.intrinsics;
    const n = world.objects.length;
    s[SCENE.width] = k.width; s[SCENE.height] = k.height; s[SCENE.fx] = k.fx; s[SCENE.fy] = k.fy; s[SCENE.cx] = k.cx; s[SCENE.cy] = k.cy;
    packVec3(s, SCENE.position, cam.position); packVec3(s, SCENE.right, cam.right);
    packVec3(s, SCENE.down, cam.down); packVec3(s, SCENE.forward, cam.forward);
    s[SCENE.tableZ] = world.tableZ; s[SCENE.tableHalfX] = world.tableHalfX; s[SCENE.tableHalfY] = world.tableHalfY;
    s[SCENE.light] = LIGHT[0]; s[SCENE.light + 1] = LIGHT[1]; s[SCENE.light + 2] = LIGHT[2];
    s[SCENE.ambient] = AMBIENT; s[SCENE.diffuse] = DIFFUSE; s[SCENE.maxRange] = MAX_RANGE;
    for (let c = 0; c < 3; c++) { s[SCENE.sky + c] = SKY_RGB[c]; s[SCENE.table + c] = TABLE_RGB[c]; s[SCENE.floor + c] = FLOOR_RGB[c]; }
    s[SCENE.objectCount] = n;
    const stride = RENDER_LAYOUT.objectStride;
    if (this.objects.length < n * stride) this.objects = new Float64Array(n * stride);
    const a = this.objects;
    for (let i = 0; i < n; i++) {
      const o = world.objects[i], at = i * stride;
      packPrimitive(a, at, o.primitive);
      a[at + OBJECT.x] = o.pose.x; a[at + OBJECT.y] = o.pose.y; a[at + OBJECT.z] = o.pose.z;
      // The cosine and sine in JS (V8's, as shapes.ts uses them), not libm's.
      a[at + OBJECT.cos] = Math.cos(o.pose.yaw); a[at + OBJECT.sin] = Math.sin(o.pose.yaw);
      const base = COLOR_RGB.get(o.color) ?? SKY_RGB;
      a[at + OBJECT.base] = base[0]; a[at + OBJECT.base + 1] = base[1]; a[at + OBJECT.base + 2] = base[2];
    }
  }

  /** The reference implementation. */
  private renderTs(world: World, cam: Camera, out: RenderOutput): void {
    const { width, height, fx, fy, cx, cy } = cam.intrinsics;
    const n = world.objects.length;
    const rgb = out.rgb.data, depth = out.depthMetres, mask = out.mask.data;
    const bounds = this.bounds;
    out.visiblePixels.fill(0);
    out.silhouettePixels.fill(0);

    const P = cam.position, R = cam.right, D = cam.down, F = cam.forward;
    const rowObjects: number[] = [];
    const hit = this.hit;
    for (let v = 0; v < height; v++) {
      const oy = (v - cy) / fy;
      rowObjects.length = 0;
      for (let i = 0; i < n; i++) if (v >= bounds[4 * i + 2] && v <= bounds[4 * i + 3]) rowObjects.push(i);
      for (let u = 0; u < width; u++) {
        const ox = (u - cx) / fx;
        const dx = F.x + R.x * ox + D.x * oy;
        const dy = F.y + R.y * ox + D.y * oy;
        const dz = F.z + R.z * ox + D.z * oy;
        let best = MAX_RANGE, who = -1, nx = 0, ny = 0, nz = 1;
        for (const i of rowObjects) {
          if (u < bounds[4 * i] || u > bounds[4 * i + 1]) continue;
          const o = world.objects[i];
          if (intersectWorld(o.primitive, o.pose, P.x, P.y, P.z, dx, dy, dz, hit)) {
            out.silhouettePixels[i]++;
            if (hit.t < best) { best = hit.t; who = i; nx = hit.nx; ny = hit.ny; nz = hit.nz; }
          }
        }
        let base: readonly number[] = SKY_RGB;
        let shade = 1;
        const idx = v * width + u;
        if (who >= 0) {
          base = COLOR_RGB.get(world.objects[who].color) ?? SKY_RGB;
          shade = AMBIENT + DIFFUSE * Math.max(0, nx * LIGHT[0] + ny * LIGHT[1] + nz * LIGHT[2]);
          out.visiblePixels[who]++;
          mask[idx] = who + 1;
          depth[idx] = best;
        } else {
          mask[idx] = 0;
          depth[idx] = 0;
          if (dz < 0) {
            const tTable = (world.tableZ - P.z) / dz;
            const hx = P.x + tTable * dx, hy = P.y + tTable * dy;
            if (tTable < MAX_RANGE && Math.abs(hx) <= world.tableHalfX && Math.abs(hy) <= world.tableHalfY) {
              depth[idx] = tTable;
              base = TABLE_RGB;
              shade = AMBIENT + DIFFUSE * LIGHT[2];
            } else {
              const tFloor = -P.z / dz;
              if (tFloor < MAX_RANGE) {
                depth[idx] = tFloor;
                base = FLOOR_RGB;
                shade = AMBIENT + DIFFUSE * LIGHT[2];
              }
            }
          }
        }
        const k = idx * 3;
        rgb[k] = Math.min(255, base[0] * shade);
        rgb[k + 1] = Math.min(255, base[1] * shade);
        rgb[k + 2] = Math.min(255, base[2] * shade);
      }
    }
  }

  private buffers(width: number, height: number, n: number): RenderOutput {
    if (this.out && this.width === width && this.height === height && this.out.visiblePixels.length === n) return this.out;
    const depthMetres = this.out && this.width === width && this.height === height ? this.out.depthMetres : new Float32Array(width * height);
    const prev = this.out && this.width === width && this.height === height ? this.out : null;
    this.width = width;
    this.height = height;
    this.out = {
      rgb: prev?.rgb ?? { width, height, encoding: "rgb8", step: width * 3, data: new Uint8Array(width * height * 3) },
      depth: prev?.depth ?? { width, height, encoding: "32FC1", step: width * 4, data: new Uint8Array(depthMetres.buffer) },
      mask: prev?.mask ?? { width, height, encoding: "mono8", step: width, data: new Uint8Array(width * height) },
      labels: new Map(),
      visiblePixels: new Int32Array(n),
      silhouettePixels: new Int32Array(n),
      depthMetres,
    };
    return this.out;
  }
}

/**
 * Each object's projected pixel bounds (from its world AABB corners, a pixel of margin), 4 per
 * object into `out`: u0, u1, v0, v1 (the whole image when a corner is at or behind the camera).
 * Shared by both paths, so both test the same pixels; allocates nothing.
 */
function projectedBounds(world: World, cam: Camera, out: Int32Array): void {
  const { width, height, fx, fy, cx, cy } = cam.intrinsics;
  const C = cam.position, R = cam.right, D = cam.down, F = cam.forward;
  for (let i = 0; i < world.objects.length; i++) {
    const o = world.objects[i];
    const x0 = -supportWorld(o.primitive, o.pose, -1, 0, 0), x1 = supportWorld(o.primitive, o.pose, 1, 0, 0);
    const y0 = -supportWorld(o.primitive, o.pose, 0, -1, 0), y1 = supportWorld(o.primitive, o.pose, 0, 1, 0);
    const z0 = -supportWorld(o.primitive, o.pose, 0, 0, -1), z1 = supportWorld(o.primitive, o.pose, 0, 0, 1);
    let a = Infinity, b = -Infinity, c = Infinity, d = -Infinity, behind = false;
    for (let corner = 0; corner < 8; corner++) {
      const x = corner & 4 ? x1 : x0, y = corner & 2 ? y1 : y0, z = corner & 1 ? z1 : z0;
      // camera.ts project(), without its objects.
      const dx = x - C.x, dy = y - C.y, dz = z - C.z;
      const ox = dx * R.x + dy * R.y + dz * R.z;
      const oy = dx * D.x + dy * D.y + dz * D.z;
      const oz = dx * F.x + dy * F.y + dz * F.z;
      const u = cx + (fx * ox) / oz, v = cy + (fy * oy) / oz;
      if (oz <= 0.01) behind = true;
      a = Math.min(a, u); b = Math.max(b, u); c = Math.min(c, v); d = Math.max(d, v);
    }
    if (behind) { a = 0; b = width - 1; c = 0; d = height - 1; }
    out[4 * i] = Math.max(0, Math.floor(a) - 1); out[4 * i + 1] = Math.min(width - 1, Math.ceil(b) + 1);
    out[4 * i + 2] = Math.max(0, Math.floor(c) - 1); out[4 * i + 3] = Math.min(height - 1, Math.ceil(d) + 1);
  }
}

/** Type code and parameters in PRIMITIVE_PARAMS order; named loads (no boxed doubles from keyed ones). */
function packPrimitive(a: Float64Array, at: number, p: Primitive): void {
  const q = at + OBJECT.params;
  a[at + OBJECT.type] = PRIMITIVE_CODES[p.type];
  switch (p.type) {
    case "box": a[q] = p.sx; a[q + 1] = p.sy; a[q + 2] = p.sz; break;
    case "cylinder": a[q] = p.r; a[q + 1] = p.h; a[q + 2] = 0; break;
    case "sphere": a[q] = p.r; a[q + 1] = 0; a[q + 2] = 0; break;
    case "ellipsoid": a[q] = p.a; a[q + 1] = p.b; a[q + 2] = p.c; break;
    case "capsule": a[q] = p.r; a[q + 1] = p.length; a[q + 2] = 0; break;
    case "bowl": a[q] = p.R; a[q + 1] = p.h; a[q + 2] = 0; break;
  }
}

function packVec3(s: Float64Array, at: number, v: { x: number; y: number; z: number }): void {
  s[at] = v.x; s[at + 1] = v.y; s[at + 2] = v.z;
}

function size(v: unknown): boolean {
  return typeof v === "number" && Number.isFinite(v) && v >= 0;
}

/** A known primitive with every size finite and ≥ 0 (named loads: nothing allocated on the good path). */
function primitiveSizesOk(p: Primitive): boolean {
  switch (p.type) {
    case "box": return size(p.sx) && size(p.sy) && size(p.sz);
    case "cylinder": return size(p.r) && size(p.h);
    case "sphere": return size(p.r);
    case "ellipsoid": return size(p.a) && size(p.b) && size(p.c);
    case "capsule": return size(p.r) && size(p.length);
    case "bowl": return size(p.R) && size(p.h);
    default: return false;
  }
}

function finite3(v: { x: number; y: number; z: number } | undefined): boolean {
  return v !== null && typeof v === "object" && Number.isFinite(v.x) && Number.isFinite(v.y) && Number.isFinite(v.z);
}

/**
 * What both paths need to render: a typed error for anything else (non-finite poses, sizes or
 * camera, unknown primitives, more objects than a mono8 mask holds, an image too large),
 * never a garbage image.
 */
function checkRenderInput(world: World, cam: Camera): void {
  if (cam === null || typeof cam !== "object" || cam.intrinsics === null || typeof cam.intrinsics !== "object") {
    throw new InvalidInputError("bad_argument", "Renderer: a camera { intrinsics, position, right, down, forward } is required");
  }
  const { width, height, fx, fy, cx, cy } = cam.intrinsics;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1 || width > RENDER_LAYOUT.maxSide || height > RENDER_LAYOUT.maxSide) {
    throw new InvalidInputError("bad_image_size", `Renderer: image size must be integers in [1, ${RENDER_LAYOUT.maxSide}], got ${width}x${height}`);
  }
  if (!Number.isFinite(fx) || !Number.isFinite(fy) || !Number.isFinite(cx) || !Number.isFinite(cy) || fx === 0 || fy === 0) {
    throw new InvalidInputError("bad_intrinsics", `Renderer: intrinsics must be finite with fx, fy non-zero, got fx ${fx} fy ${fy} cx ${cx} cy ${cy}`);
  }
  if (!finite3(cam.position) || !finite3(cam.right) || !finite3(cam.down) || !finite3(cam.forward)) {
    throw new InvalidInputError("bad_argument", "Renderer: camera position and axes must be finite vectors");
  }
  if (world === null || typeof world !== "object" || !Array.isArray(world.objects)) {
    throw new InvalidInputError("bad_scene", "Renderer: a world { tableZ, tableHalfX, tableHalfY, objects } is required");
  }
  if (!Number.isFinite(world.tableZ) || !Number.isFinite(world.tableHalfX) || !Number.isFinite(world.tableHalfY)) {
    throw new InvalidInputError("bad_scene", `Renderer: table height and half-extents must be finite, got ${world.tableZ}, ${world.tableHalfX}, ${world.tableHalfY}`);
  }
  if (world.objects.length > RENDER_LAYOUT.maxObjects) {
    throw new InvalidInputError("bad_scene", `Renderer: mono8 masks hold at most ${RENDER_LAYOUT.maxObjects} objects, the world has ${world.objects.length}`);
  }
  for (let i = 0; i < world.objects.length; i++) {
    const o = world.objects[i];
    const p = o?.primitive;
    if (p === null || typeof p !== "object" || !primitiveSizesOk(p)) {
      const params = p && typeof p === "object" && Object.hasOwn(PRIMITIVE_PARAMS, p.type) ? PRIMITIVE_PARAMS[p.type] : undefined;
      if (!params) throw new InvalidInputError("bad_scene", `Renderer: object ${o?.id} has no known primitive (${String(p?.type)})`);
      const bad = params.find((k) => !size((p as unknown as Record<string, unknown>)[k]));
      throw new InvalidInputError("bad_scene", `Renderer: object ${o.id}: ${p.type} ${bad} must be a finite size ≥ 0, got ${String((p as unknown as Record<string, unknown>)[bad ?? ""])}`);
    }
    const pose = o.pose;
    if (pose === null || typeof pose !== "object" || !Number.isFinite(pose.x) || !Number.isFinite(pose.y) || !Number.isFinite(pose.z) || !Number.isFinite(pose.yaw)) {
      throw new InvalidInputError("bad_scene", `Renderer: object ${o.id} has a non-finite pose`);
    }
  }
}
