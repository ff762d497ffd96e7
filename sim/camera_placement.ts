import { intrinsicsFromFov } from "../src/geometry/intrinsics.js";
import { orientedCamera, project, type Camera } from "./camera.js";
import { Renderer } from "./renderer.js";
import { Rng } from "./rng.js";
import { supportWorld } from "./shapes.js";
import { VisibilityMeter, type ObjectVisibility } from "./visibility.js";
import type { World } from "./world.js";
import { checkFinite, checkInteger, checkSeed } from "./sim_arguments.js";

export interface CameraOptions {
  width: number;
  height: number;
  hfovDeg: number;
  /** Pitch below the horizon, degrees. */
  minPitchDeg: number;
  maxPitchDeg: number;
  /** Every object must keep at least this fraction of its silhouette unoccluded. */
  minVisibleFraction: number;
  /** And at least this many visible pixels at 640 px image width (scaled with width²). */
  minVisiblePixels: number;
}

export const DEFAULT_CAMERA_OPTIONS: CameraOptions = {
  width: 640,
  height: 480,
  hfovDeg: 69,
  minPitchDeg: 20,
  maxPitchDeg: 60,
  minVisibleFraction: 0.6,
  minVisiblePixels: 120,
};

/**
 * Places a camera around the table looking down at the objects: random heading, pitch in
 * [20°, 60°], a small roll (±4°, so gravity is not aligned with the image axes), distance
 * chosen so the objects fill a good part of the view. Draws are rejected until every object
 * lies inside the image and is mostly unoccluded, so every question has an observable answer.
 */
export function placeCamera(world: World, seed: number, options: Partial<CameraOptions> = {}): { camera: Camera; attempts: number; minVisibility: number } {
  checkSeed(seed, "placeCamera");
  const o = cameraOptions(options);
  const rng = new Rng(seed ^ 0x0ca11e5a);
  const k = intrinsicsFromFov(o.width, o.height, o.hfovDeg);
  const renderer = new Renderer();
  const tx = world.objects.reduce((s, ob) => s + ob.pose.x, 0) / world.objects.length;
  const ty = world.objects.reduce((s, ob) => s + ob.pose.y, 0) / world.objects.length;
  const minPixels = o.minVisiblePixels * (o.width / 640) ** 2;
  // Distance that frames the object cluster: its radius over tan(half the narrower fov).
  const spread = Math.max(...world.objects.map((ob) => Math.hypot(ob.pose.x - tx, ob.pose.y - ty))) + 0.15;
  const vfov = 2 * Math.atan(o.height / 2 / k.fy);
  const frameDist = spread / Math.tan(Math.min(vfov, 2 * Math.atan(o.width / 2 / k.fx)) / 2);
  let best: { camera: Camera; score: number } | null = null;
  for (let attempt = 1; attempt <= 60; attempt++) {
    const pitch = (rng.uniform(o.minPitchDeg, o.maxPitchDeg) * Math.PI) / 180;
    const yaw = rng.uniform(-Math.PI, Math.PI);
    const roll = (rng.uniform(-4, 4) * Math.PI) / 180;
    const slant = Math.max(0.6, frameDist * rng.uniform(1.0, 1.35)) * (1 + attempt / 60);
    const fwd = { x: Math.cos(pitch) * Math.cos(yaw), y: Math.cos(pitch) * Math.sin(yaw), z: -Math.sin(pitch) };
    const target = { x: tx + rng.uniform(-0.03, 0.03), y: ty + rng.uniform(-0.03, 0.03), z: world.tableZ + 0.04 };
    const position = { x: target.x - slant * fwd.x, y: target.y - slant * fwd.y, z: target.z - slant * fwd.z };
    const camera = orientedCamera(k, position, yaw, pitch, roll);
    if (!allInFrame(world, camera)) continue;
    const r = renderer.render(world, camera);
    let score = Infinity;
    for (let i = 0; i < world.objects.length; i++) {
      const frac = r.silhouettePixels[i] > 0 ? r.visiblePixels[i] / r.silhouettePixels[i] : 0;
      score = Math.min(score, r.visiblePixels[i] < minPixels ? 0 : frac);
    }
    if (score >= o.minVisibleFraction) return { camera, attempts: attempt, minVisibility: score };
    if (!best || score > best.score) best = { camera, score };
  }
  if (!best) throw new Error(`no camera pose frames all ${world.objects.length} objects`);
  return { camera: best.camera, attempts: 60, minVisibility: best.score };
}

/** Largest image side: the renderer holds several buffers of width × height. */
export const MAX_IMAGE_SIDE = 8192;

/**
 * The defaults overridden by `options` (keys given as undefined keep their defaults: callers
 * pass optional CLI values through), or InvalidInputError("bad_argument") for a value that
 * cannot make an image (zero, fractional or huge sizes, a field of view of 0 or ≥ 180°, NaN).
 */
export function cameraOptions(options: Partial<CameraOptions> = {}): CameraOptions {
  const given = Object.fromEntries(Object.entries(options ?? {}).filter(([, v]) => v !== undefined));
  const o: CameraOptions = { ...DEFAULT_CAMERA_OPTIONS, ...given };
  checkInteger(o.width, "camera width", 8, MAX_IMAGE_SIDE);
  checkInteger(o.height, "camera height", 8, MAX_IMAGE_SIDE);
  checkFinite(o.hfovDeg, "camera hfovDeg", 1, 170);
  checkFinite(o.minPitchDeg, "camera minPitchDeg", 0, 90);
  checkFinite(o.maxPitchDeg, `camera maxPitchDeg (≥ minPitchDeg ${o.minPitchDeg})`, o.minPitchDeg, 90);
  checkFinite(o.minVisibleFraction, "camera minVisibleFraction", 0, 1);
  checkFinite(o.minVisiblePixels, "camera minVisiblePixels", 0, Number.MAX_SAFE_INTEGER);
  return o;
}

/** Every object's world box corners project inside the image with a 3-pixel margin. */
export function allInFrame(world: World, cam: Camera): boolean {
  const { width, height } = cam.intrinsics;
  for (const ob of world.objects) {
    const xs = [-supportWorld(ob.primitive, ob.pose, -1, 0, 0), supportWorld(ob.primitive, ob.pose, 1, 0, 0)];
    const ys = [-supportWorld(ob.primitive, ob.pose, 0, -1, 0), supportWorld(ob.primitive, ob.pose, 0, 1, 0)];
    const zs = [ob.pose.z, supportWorld(ob.primitive, ob.pose, 0, 0, 1)];
    for (const x of xs) for (const y of ys) for (const z of zs) {
      const p = project(cam, { x, y, z });
      if (p.depth < 0.2 || p.u < 3 || p.u > width - 4 || p.v < 3 || p.v > height - 4) return false;
    }
  }
  return true;
}

/** In a cluttered view, objects with less of their whole silhouette in sight than this are not asked about. */
export const CLUTTER_MIN_VISIBLE_FRACTION = 0.5;
/** A cluttered view must show at least this many objects visible enough to ask about. */
export const CLUTTER_MIN_ASKABLE = 6;
const CLUTTER_ATTEMPTS = 40;

export interface ClutterPlacement {
  camera: Camera;
  attempts: number;
  visibility: ObjectVisibility[];
  /** Per object (world order): visible enough to be asked about (CLUTTER_MIN_VISIBLE_FRACTION and minVisiblePixels). */
  askable: boolean[];
}

/**
 * A camera in a cluttered scene: aimed at one of the objects from close enough that the view
 * holds only part of the table (a 0.2–0.35 m radius around the target fills the narrower
 * field of view), so objects hide each other and the image border cuts some. Unlike
 * placeCamera, objects may be partly or wholly out of view; a pose is kept when at least
 * CLUTTER_MIN_ASKABLE objects are visible enough to ask about (else the best of 40 draws).
 * The camera never sits within 25 cm of an object's box.
 */
export function placeClutterCamera(world: World, seed: number, options: Partial<CameraOptions> = {}): ClutterPlacement {
  checkSeed(seed, "placeClutterCamera");
  const o = cameraOptions(options);
  const rng = new Rng(seed ^ 0x0c1a77e2);
  const k = intrinsicsFromFov(o.width, o.height, o.hfovDeg);
  const renderer = new Renderer();
  const meter = new VisibilityMeter();
  const minPixels = o.minVisiblePixels * (o.width / 640) ** 2;
  const halfFov = Math.min(Math.atan(o.height / 2 / k.fy), Math.atan(o.width / 2 / k.fx));
  const boxes = world.objects.map((ob) => ({
    x0: -supportWorld(ob.primitive, ob.pose, -1, 0, 0), x1: supportWorld(ob.primitive, ob.pose, 1, 0, 0),
    y0: -supportWorld(ob.primitive, ob.pose, 0, -1, 0), y1: supportWorld(ob.primitive, ob.pose, 0, 1, 0),
    z0: ob.pose.z, z1: supportWorld(ob.primitive, ob.pose, 0, 0, 1),
  }));
  let best: ClutterPlacement | null = null, bestCount = -1;
  for (let attempt = 1; attempt <= CLUTTER_ATTEMPTS; attempt++) {
    const aim = rng.pick(world.objects);
    const pitch = (rng.uniform(o.minPitchDeg, o.maxPitchDeg) * Math.PI) / 180;
    const yaw = rng.uniform(-Math.PI, Math.PI);
    const roll = (rng.uniform(-4, 4) * Math.PI) / 180;
    const slant = Math.max(0.45, rng.uniform(0.2, 0.35) / Math.tan(halfFov));
    const fwd = { x: Math.cos(pitch) * Math.cos(yaw), y: Math.cos(pitch) * Math.sin(yaw), z: -Math.sin(pitch) };
    const target = { x: aim.pose.x + rng.uniform(-0.05, 0.05), y: aim.pose.y + rng.uniform(-0.05, 0.05), z: world.tableZ + 0.04 };
    const position = { x: target.x - slant * fwd.x, y: target.y - slant * fwd.y, z: target.z - slant * fwd.z };
    const near = boxes.some((b) => {
      const dx = Math.max(b.x0 - position.x, 0, position.x - b.x1);
      const dy = Math.max(b.y0 - position.y, 0, position.y - b.y1);
      const dz = Math.max(b.z0 - position.z, 0, position.z - b.z1);
      return Math.hypot(dx, dy, dz) < 0.25;
    });
    if (near) continue;
    const camera = orientedCamera(k, position, yaw, pitch, roll);
    const r = renderer.render(world, camera);
    const visibility = meter.measure(world, camera, r);
    const askable = visibility.map((v) => v.visibleFraction >= CLUTTER_MIN_VISIBLE_FRACTION && v.visiblePixels >= minPixels);
    const count = askable.filter(Boolean).length;
    const placed = { camera, attempts: attempt, visibility, askable };
    if (count >= CLUTTER_MIN_ASKABLE) return placed;
    if (count > bestCount) {
      best = placed;
      bestCount = count;
    }
  }
  if (!best) throw new Error(`no camera pose in the cluttered scene of seed ${seed} keeps 25 cm from every object`);
  return { ...best, attempts: CLUTTER_ATTEMPTS };
}
