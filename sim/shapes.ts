/**
 * Convex solid primitives for tabletop objects. Each is described in a local frame with the
 * origin at the centre of its base, z up, and placed in the world by a position (the base
 * centre) and a yaw about world z. Every primitive provides exact ray intersection (for the
 * renderer) and an exact support function h(d) = max over the solid of d·p (for ground-truth
 * boxes), both in local coordinates; `Pose` maps world rays and directions in and out.
 */
export type Primitive =
  | { type: "box"; sx: number; sy: number; sz: number }
  | { type: "cylinder"; r: number; h: number }
  | { type: "sphere"; r: number }
  | { type: "ellipsoid"; a: number; b: number; c: number }
  /** Lying along local x: total length `length`, radius r. */
  | { type: "capsule"; r: number; length: number }
  /** A sphere of radius R resting on its lowest point, cut flat at height h ≤ R (rim up). */
  | { type: "bowl"; R: number; h: number };

export interface Pose {
  x: number;
  y: number;
  /** Height of the base (bottom) in world z. */
  z: number;
  yaw: number;
}

/** Hit result written by `intersect`: distance along the ray and the local outward normal. */
export interface Hit {
  t: number;
  nx: number;
  ny: number;
  nz: number;
}

export function primitiveHeight(p: Primitive): number {
  switch (p.type) {
    case "box": return p.sz;
    case "cylinder": return p.h;
    case "sphere": return 2 * p.r;
    case "ellipsoid": return 2 * p.c;
    case "capsule": return 2 * p.r;
    case "bowl": return p.h;
  }
}

/** Whether the top is a flat face another object can rest on. */
export function hasFlatTop(p: Primitive): boolean {
  return p.type === "box" || p.type === "cylinder" || p.type === "bowl";
}

/** Local support function. */
export function supportLocal(p: Primitive, dx: number, dy: number, dz: number): number {
  switch (p.type) {
    case "box":
      return (Math.abs(dx) * p.sx) / 2 + (Math.abs(dy) * p.sy) / 2 + Math.max(0, dz * p.sz);
    case "cylinder":
      return p.r * Math.hypot(dx, dy) + Math.max(0, dz * p.h);
    case "sphere":
      return dz * p.r + p.r * Math.hypot(dx, dy, dz);
    case "ellipsoid":
      return dz * p.c + Math.sqrt(p.a * p.a * dx * dx + p.b * p.b * dy * dy + p.c * p.c * dz * dz);
    case "capsule": {
      const half = p.length / 2 - p.r;
      return Math.abs(dx) * half + dz * p.r + p.r * Math.hypot(dx, dy, dz);
    }
    case "bowl": {
      const n = Math.hypot(dx, dy, dz);
      if (n === 0) return 0;
      // The sphere's own support point, if it lies below the cut, is the answer.
      const sz = p.R + (p.R * dz) / n;
      if (sz <= p.h) return dz * p.R + p.R * n;
      const rho = Math.sqrt(Math.max(0, p.R * p.R - (p.h - p.R) * (p.h - p.R)));
      return dz * p.h + rho * Math.hypot(dx, dy);
    }
  }
}

/** World support function of a placed primitive. */
export function supportWorld(p: Primitive, pose: Pose, dx: number, dy: number, dz: number): number {
  const c = Math.cos(pose.yaw), s = Math.sin(pose.yaw);
  // World direction into the local frame (rotate by −yaw).
  const lx = c * dx + s * dy, ly = -s * dx + c * dy;
  return supportLocal(p, lx, ly, dz) + dx * pose.x + dy * pose.y + dz * pose.z;
}

/** Nearest entry t > tMin of the local ray o + t·d into the solid, writing the hit; false if none. */
export function intersectLocal(p: Primitive, ox: number, oy: number, oz: number, dx: number, dy: number, dz: number, hit: Hit): boolean {
  switch (p.type) {
    case "box":
      return slabBox(-p.sx / 2, p.sx / 2, -p.sy / 2, p.sy / 2, 0, p.sz, ox, oy, oz, dx, dy, dz, hit);
    case "cylinder":
      return cylinderZ(p.r, 0, p.h, ox, oy, oz, dx, dy, dz, hit);
    case "sphere":
      return sphere(0, 0, p.r, p.r, ox, oy, oz, dx, dy, dz, -Infinity, Infinity, hit);
    case "ellipsoid": {
      // Scale to the unit sphere; t is invariant under the scaling of both o and d.
      const ok = sphere(0, 0, 1, 1, ox / p.a, oy / p.b, oz / p.c, dx / p.a, dy / p.b, dz / p.c, -Infinity, Infinity, hit);
      if (ok) {
        // Normal of the ellipsoid = gradient of (x/a)² + ... at the hit.
        const nx = hit.nx / p.a, ny = hit.ny / p.b, nz = hit.nz / p.c;
        const n = Math.hypot(nx, ny, nz);
        hit.nx = nx / n; hit.ny = ny / n; hit.nz = nz / n;
      }
      return ok;
    }
    case "capsule":
      return capsuleX(p.r, p.length / 2 - p.r, ox, oy, oz, dx, dy, dz, hit);
    case "bowl":
      return sphere(0, 0, p.R, p.R, ox, oy, oz, dx, dy, dz, -Infinity, p.h, hit);
  }
}

/** Ray against a placed primitive in world coordinates; the hit normal is in world axes. */
export function intersectWorld(p: Primitive, pose: Pose, ox: number, oy: number, oz: number, dx: number, dy: number, dz: number, hit: Hit): boolean {
  const c = Math.cos(pose.yaw), s = Math.sin(pose.yaw);
  const px = ox - pose.x, py = oy - pose.y;
  const lox = c * px + s * py, loy = -s * px + c * py;
  const ldx = c * dx + s * dy, ldy = -s * dx + c * dy;
  if (!intersectLocal(p, lox, loy, oz - pose.z, ldx, ldy, dz, hit)) return false;
  const nx = c * hit.nx - s * hit.ny, ny = s * hit.nx + c * hit.ny;
  hit.nx = nx; hit.ny = ny;
  return true;
}

function slabBox(x0: number, x1: number, y0: number, y1: number, z0: number, z1: number, ox: number, oy: number, oz: number, dx: number, dy: number, dz: number, hit: Hit): boolean {
  let tn = -Infinity, tf = Infinity, axis = -1, sign = 0;
  const lo = [x0, y0, z0], hi = [x1, y1, z1], o = [ox, oy, oz], d = [dx, dy, dz];
  for (let a = 0; a < 3; a++) {
    if (d[a] === 0) {
      if (o[a] < lo[a] || o[a] > hi[a]) return false;
      continue;
    }
    let t0 = (lo[a] - o[a]) / d[a], t1 = (hi[a] - o[a]) / d[a];
    let sg = -1;
    if (t0 > t1) { const tt = t0; t0 = t1; t1 = tt; sg = 1; }
    if (t0 > tn) { tn = t0; axis = a; sign = sg; }
    if (t1 < tf) tf = t1;
  }
  if (tn > tf || tn <= 0 || axis < 0) return false;
  hit.t = tn;
  hit.nx = axis === 0 ? sign : 0;
  hit.ny = axis === 1 ? sign : 0;
  hit.nz = axis === 2 ? sign : 0;
  return true;
}

/** Vertical cylinder x²+y² ≤ r², z0 ≤ z ≤ z1. */
function cylinderZ(r: number, z0: number, z1: number, ox: number, oy: number, oz: number, dx: number, dy: number, dz: number, hit: Hit): boolean {
  let tn = -Infinity, tf = Infinity, cap = 0;
  const a = dx * dx + dy * dy;
  if (a > 0) {
    const b = ox * dx + oy * dy, c = ox * ox + oy * oy - r * r;
    const disc = b * b - a * c;
    if (disc < 0) return false;
    const sq = Math.sqrt(disc);
    tn = (-b - sq) / a;
    tf = (-b + sq) / a;
  } else if (ox * ox + oy * oy > r * r) return false;
  if (dz !== 0) {
    let t0 = (z0 - oz) / dz, t1 = (z1 - oz) / dz, c0 = -1;
    if (t0 > t1) { const tt = t0; t0 = t1; t1 = tt; c0 = 1; }
    if (t0 > tn) { tn = t0; cap = c0; }
    if (t1 < tf) tf = t1;
  } else if (oz < z0 || oz > z1) return false;
  if (tn > tf || tn <= 0) return false;
  hit.t = tn;
  if (cap !== 0) { hit.nx = 0; hit.ny = 0; hit.nz = cap; }
  else {
    const hx = ox + tn * dx, hy = oy + tn * dy, n = Math.hypot(hx, hy);
    hit.nx = hx / n; hit.ny = hy / n; hit.nz = 0;
  }
  return true;
}

/** Sphere ∩ {zMin ≤ z ≤ zMax} (a flat cut when zMax < cz + r). */
function sphere(cx: number, cy: number, cz: number, r: number, ox: number, oy: number, oz: number, dx: number, dy: number, dz: number, zMin: number, zMax: number, hit: Hit): boolean {
  const px = ox - cx, py = oy - cy, pz = oz - cz;
  const a = dx * dx + dy * dy + dz * dz;
  const b = px * dx + py * dy + pz * dz;
  const c = px * px + py * py + pz * pz - r * r;
  const disc = b * b - a * c;
  if (disc < 0) return false;
  const sq = Math.sqrt(disc);
  let tn = (-b - sq) / a, tf = (-b + sq) / a, cut = false;
  if (zMax < Infinity || zMin > -Infinity) {
    if (dz !== 0) {
      let t0 = (zMin - oz) / dz, t1 = (zMax - oz) / dz, top = false;
      if (t0 > t1) { const tt = t0; t0 = t1; t1 = tt; top = true; }
      if (t0 > tn) { tn = t0; cut = top; }
      if (t1 < tf) tf = t1;
    } else if (oz < zMin || oz > zMax) return false;
  }
  if (tn > tf || tn <= 0) return false;
  hit.t = tn;
  if (cut) { hit.nx = 0; hit.ny = 0; hit.nz = 1; }
  else {
    hit.nx = (px + tn * dx) / r; hit.ny = (py + tn * dy) / r; hit.nz = (pz + tn * dz) / r;
  }
  return true;
}

const tmp: Hit = { t: 0, nx: 0, ny: 0, nz: 0 };

/** Capsule along local x: segment (±half, 0, r), radius r; the union's nearest entry. */
function capsuleX(r: number, half: number, ox: number, oy: number, oz: number, dx: number, dy: number, dz: number, hit: Hit): boolean {
  let best = Infinity;
  // Side: infinite cylinder about the x axis at height r, clipped to |x| ≤ half.
  const py = oy, pz = oz - r;
  const a = dy * dy + dz * dz;
  if (a > 0) {
    const b = py * dy + pz * dz, c = py * py + pz * pz - r * r;
    const disc = b * b - a * c;
    if (disc >= 0) {
      const t = (-b - Math.sqrt(disc)) / a;
      const x = ox + t * dx;
      if (t > 0 && x >= -half && x <= half) {
        best = t;
        hit.t = t; hit.nx = 0; hit.ny = (py + t * dy) / r; hit.nz = (pz + t * dz) / r;
      }
    }
  }
  for (const ex of [-half, half]) {
    if (sphere(ex, 0, r, r, ox, oy, oz, dx, dy, dz, -Infinity, Infinity, tmp) && tmp.t < best) {
      best = tmp.t;
      hit.t = tmp.t; hit.nx = tmp.nx; hit.ny = tmp.ny; hit.nz = tmp.nz;
    }
  }
  return best < Infinity;
}
