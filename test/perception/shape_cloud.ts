import { intersectWorld, supportWorld, type Hit, type Pose, type Primitive } from "../../sim/shapes.js";
import { Rng } from "../../sim/rng.js";
import type { Box3 } from "../../src/perception/object_box.js";

export interface ShapeView {
  primitive: Primitive;
  /** Base centre and yaw, in the spatial frame (camera at the origin, z up, x forward). */
  pose: Pose;
  /** Camera pitch below the horizon, radians (the camera looks along +x, tipped down). */
  pitch: number;
  /** Focal length in pixels (640 px at 69° hfov: 466). */
  focal?: number;
  /** Depth noise at 1 m (σ = k·r² along each ray), metres; 0 = exact. */
  noise1m?: number;
  seed?: number;
}

/**
 * The visible surface points of one primitive standing alone, as a pinhole camera at the
 * origin samples it pixel by pixel (its own rays, exact intersections, Gaussian noise along
 * each ray when asked), in the spatial frame. What perception lifts for an unoccluded object.
 */
export function shapeCloud(v: ShapeView): { xs: Float32Array; ys: Float32Array; zs: Float32Array; n: number; pixelAngle: number } {
  const f = v.focal ?? 466;
  const k = v.noise1m ?? 0;
  const rng = new Rng(v.seed ?? 1);
  const cp = Math.cos(v.pitch), sp = Math.sin(v.pitch);
  // Optical axes in the spatial frame: forward (pitched down), right (−y), down.
  const fw = [cp, 0, -sp], right = [0, -1, 0], down = [-sp, 0, -cp];
  const xs: number[] = [], ys: number[] = [], zs: number[] = [];
  const hit: Hit = { t: 0, nx: 0, ny: 0, nz: 0 };
  // Only the pixels around the object: project its box corners.
  const r = Math.max(supportWorld(v.primitive, v.pose, 1, 0, 0) - v.pose.x, supportWorld(v.primitive, v.pose, 0, 1, 0) - v.pose.y) + 0.01;
  const h = supportWorld(v.primitive, v.pose, 0, 0, 1) - v.pose.z;
  let u0 = Infinity, u1 = -Infinity, w0 = Infinity, w1 = -Infinity;
  for (const dx of [-r, r]) for (const dy of [-r, r]) for (const dz of [0, h]) {
    const p = [v.pose.x + dx, v.pose.y + dy, v.pose.z + dz];
    const zc = p[0] * fw[0] + p[1] * fw[1] + p[2] * fw[2];
    const u = (f * (p[0] * right[0] + p[1] * right[1] + p[2] * right[2])) / zc;
    const w = (f * (p[0] * down[0] + p[1] * down[1] + p[2] * down[2])) / zc;
    u0 = Math.min(u0, u); u1 = Math.max(u1, u); w0 = Math.min(w0, w); w1 = Math.max(w1, w);
  }
  for (let w = Math.floor(w0); w <= Math.ceil(w1); w++) {
    for (let u = Math.floor(u0); u <= Math.ceil(u1); u++) {
      // Pixel centres: the ray through (u + 0.5, w + 0.5) from the principal point.
      const a = (u + 0.5) / f, b = (w + 0.5) / f;
      const dx = fw[0] + a * right[0] + b * down[0], dy = fw[1] + a * right[1] + b * down[1], dz = fw[2] + a * right[2] + b * down[2];
      if (!intersectWorld(v.primitive, v.pose, 0, 0, 0, dx, dy, dz, hit)) continue;
      // Depth noise along the optical axis scales the whole ray (t is in units of the ray, whose optical depth is 1).
      const depth = hit.t;
      const t = k > 0 ? hit.t * (1 + (k * depth * rng.normal()) ) : hit.t;
      xs.push(dx * t); ys.push(dy * t); zs.push(dz * t);
    }
  }
  return { xs: Float32Array.from(xs), ys: Float32Array.from(ys), zs: Float32Array.from(zs), n: xs.length, pixelAngle: 1 / f };
}

/** The true axis-aligned box of a placed primitive (support functions along the spatial axes). */
export function trueBox(p: Primitive, pose: Pose): Box3 {
  const hx = supportWorld(p, pose, 1, 0, 0), lx = -supportWorld(p, pose, -1, 0, 0);
  const hy = supportWorld(p, pose, 0, 1, 0), ly = -supportWorld(p, pose, 0, -1, 0);
  const hz = supportWorld(p, pose, 0, 0, 1), lz = -supportWorld(p, pose, 0, 0, -1);
  return { cx: (lx + hx) / 2, cy: (ly + hy) / 2, cz: (lz + hz) / 2, sx: hx - lx, sy: hy - ly, sz: hz - lz };
}
