/** Independent geometry for the simulator tests: point-in-solid predicates written from each primitive's definition. */
import type { Camera, Pose, Primitive, World } from "../../sim/index.js";
import type { Vec3 } from "../../src/geometry/vec3.js";

/** Whether the local point lies inside (or within tol of) the solid, from its documented definition. */
export function insideLocal(p: Primitive, x: number, y: number, z: number, tol = 0): boolean {
  switch (p.type) {
    case "box":
      return Math.abs(x) <= p.sx / 2 + tol && Math.abs(y) <= p.sy / 2 + tol && z >= -tol && z <= p.sz + tol;
    case "cylinder":
      return Math.hypot(x, y) <= p.r + tol && z >= -tol && z <= p.h + tol;
    case "sphere":
      return Math.hypot(x, y, z - p.r) <= p.r + tol;
    case "ellipsoid": {
      // Scaled distance; tol is applied approximately via the smallest semi-axis.
      const m = Math.min(p.a, p.b, p.c);
      const s = Math.hypot(x / p.a, y / p.b, (z - p.c) / p.c);
      return s <= 1 + tol / m;
    }
    case "capsule": {
      const half = p.length / 2 - p.r;
      const cx = Math.max(-half, Math.min(half, x));
      return Math.hypot(x - cx, y, z - p.r) <= p.r + tol;
    }
    case "bowl":
      return Math.hypot(x, y, z - p.R) <= p.R + tol && z <= p.h + tol;
  }
}

export function worldToLocal(pose: Pose, x: number, y: number, z: number): [number, number, number] {
  const c = Math.cos(pose.yaw), s = Math.sin(pose.yaw);
  const px = x - pose.x, py = y - pose.y;
  return [c * px + s * py, -s * px + c * py, z - pose.z];
}

export function insideWorld(p: Primitive, pose: Pose, x: number, y: number, z: number, tol = 0): boolean {
  const [lx, ly, lz] = worldToLocal(pose, x, y, z);
  return insideLocal(p, lx, ly, lz, tol);
}

/** Points on (or defining the hull of) the solid's boundary, local frame, dense enough for 1e-5 m support accuracy. */
export function hullSamples(p: Primitive, n = 4000): Vec3[] {
  const out: Vec3[] = [];
  const fib = (k: number): Vec3 => {
    // Fibonacci sphere point k of n.
    const zz = 1 - (2 * (k + 0.5)) / n;
    const rr = Math.sqrt(1 - zz * zz);
    const a = k * Math.PI * (3 - Math.sqrt(5));
    return { x: rr * Math.cos(a), y: rr * Math.sin(a), z: zz };
  };
  const ring = (r: number, z: number, m = 2000) => {
    for (let k = 0; k < m; k++) out.push({ x: r * Math.cos((2 * Math.PI * k) / m), y: r * Math.sin((2 * Math.PI * k) / m), z });
  };
  switch (p.type) {
    case "box":
      for (const sx of [-1, 1]) for (const sy of [-1, 1]) for (const sz of [0, 1]) out.push({ x: (sx * p.sx) / 2, y: (sy * p.sy) / 2, z: sz * p.sz });
      break;
    case "cylinder":
      ring(p.r, 0);
      ring(p.r, p.h);
      break;
    case "sphere":
      for (let k = 0; k < n; k++) { const u = fib(k); out.push({ x: p.r * u.x, y: p.r * u.y, z: p.r + p.r * u.z }); }
      break;
    case "ellipsoid":
      for (let k = 0; k < n; k++) { const u = fib(k); out.push({ x: p.a * u.x, y: p.b * u.y, z: p.c + p.c * u.z }); }
      break;
    case "capsule": {
      const half = p.length / 2 - p.r;
      for (const ex of [-half, half]) for (let k = 0; k < n; k++) { const u = fib(k); out.push({ x: ex + p.r * u.x, y: p.r * u.y, z: p.r + p.r * u.z }); }
      break;
    }
    case "bowl": {
      for (let k = 0; k < n; k++) {
        const u = fib(k);
        const q = { x: p.R * u.x, y: p.R * u.y, z: p.R + p.R * u.z };
        if (q.z <= p.h) out.push(q);
      }
      ring(Math.sqrt(p.R * p.R - (p.h - p.R) ** 2), p.h);
      break;
    }
  }
  return out;
}

/** Ray direction through pixel (u, v) as a world vector with unit optical-z component. */
export function pixelRay(cam: Camera, u: number, v: number): Vec3 {
  const k = cam.intrinsics;
  const ox = (u - k.cx) / k.fx, oy = (v - k.cy) / k.fy;
  const { right: R, down: D, forward: F } = cam;
  return { x: F.x + R.x * ox + D.x * oy, y: F.y + R.y * ox + D.y * oy, z: F.z + R.z * ox + D.z * oy };
}

/** World point of pixel (u, v) at optical depth z. */
export function unproject(cam: Camera, u: number, v: number, depth: number): Vec3 {
  const d = pixelRay(cam, u, v);
  return { x: cam.position.x + depth * d.x, y: cam.position.y + depth * d.y, z: cam.position.z + depth * d.z };
}

/** Optical-frame point of pixel (u, v) at optical depth z. */
export function opticalPoint(cam: Camera, u: number, v: number, depth: number): Vec3 {
  const k = cam.intrinsics;
  return { x: ((u - k.cx) / k.fx) * depth, y: ((v - k.cy) / k.fy) * depth, z: depth };
}

export function copyWorld(w: World): World {
  return { ...w, objects: w.objects.map((o) => ({ ...o, primitive: { ...o.primitive }, pose: { ...o.pose } })) };
}

export function std(xs: readonly number[]): number {
  const m = xs.reduce((s, x) => s + x, 0) / xs.length;
  return Math.sqrt(xs.reduce((s, x) => s + (x - m) ** 2, 0) / (xs.length - 1));
}
