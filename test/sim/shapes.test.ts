import { describe, expect, it } from "vitest";
import { intersectWorld, primitiveHeight, Rng, supportLocal, supportWorld, type Hit, type Pose, type Primitive } from "../../sim/index.js";
import { hullSamples, insideLocal, insideWorld } from "./sim_helpers.js";

function randomPrimitives(rng: Rng): Primitive[] {
  const u = (a: number, b: number) => rng.uniform(a, b);
  const out: Primitive[] = [];
  for (let k = 0; k < 3; k++) {
    const R = u(0.04, 0.12);
    out.push(
      { type: "box", sx: u(0.03, 0.2), sy: u(0.03, 0.2), sz: u(0.02, 0.15) },
      { type: "cylinder", r: u(0.02, 0.1), h: u(0.02, 0.2) },
      { type: "sphere", r: u(0.02, 0.08) },
      { type: "ellipsoid", a: u(0.02, 0.08), b: u(0.02, 0.08), c: u(0.02, 0.08) },
      { type: "capsule", r: u(0.01, 0.04), length: u(0.1, 0.25) },
      { type: "bowl", R, h: u(0.2, 1) * R },
    );
  }
  return out;
}

const TYPES = ["box", "cylinder", "sphere", "ellipsoid", "capsule", "bowl"] as const;

describe("support functions", () => {
  const rng = new Rng(11);
  const prims = randomPrimitives(rng);

  it.each(TYPES)("%s: local support equals the max of d·p over dense boundary samples", (type) => {
    for (const p of prims.filter((q) => q.type === type)) {
      const pts = hullSamples(p);
      // The samplers themselves must stay inside the solid.
      for (const q of pts) expect(insideLocal(p, q.x, q.y, q.z, 1e-9)).toBe(true);
      for (let k = 0; k < 150; k++) {
        const dx = rng.normal(), dy = rng.normal(), dz = k < 10 ? (k % 2 ? 1e3 : -1e3) : rng.normal();
        const n = Math.hypot(dx, dy, dz);
        const d = [dx / n, dy / n, dz / n];
        let best = -Infinity;
        for (const q of pts) best = Math.max(best, d[0] * q.x + d[1] * q.y + d[2] * q.z);
        const h = supportLocal(p, d[0], d[1], d[2]);
        expect(h).toBeGreaterThanOrEqual(best - 1e-9);
        expect(h - best).toBeLessThan(1e-4);
        // Positive homogeneity: h(2d) = 2 h(d).
        expect(supportLocal(p, 2 * d[0], 2 * d[1], 2 * d[2])).toBeCloseTo(2 * h, 9);
      }
      // Base at z = 0, top at the primitive's height.
      expect(supportLocal(p, 0, 0, -1)).toBeCloseTo(0, 12);
      expect(supportLocal(p, 0, 0, 1)).toBeCloseTo(primitiveHeight(p), 12);
    }
  });

  it("world support matches samples moved by the pose (yaw about z, base at pose)", () => {
    for (const p of prims) {
      const pose: Pose = { x: rng.uniform(-0.5, 0.5), y: rng.uniform(-0.5, 0.5), z: rng.uniform(0.6, 0.9), yaw: rng.uniform(-Math.PI, Math.PI) };
      const c = Math.cos(pose.yaw), s = Math.sin(pose.yaw);
      const pts = hullSamples(p).map((q) => ({ x: pose.x + c * q.x - s * q.y, y: pose.y + s * q.x + c * q.y, z: pose.z + q.z }));
      for (const q of pts.slice(0, 50)) expect(insideWorld(p, pose, q.x, q.y, q.z, 1e-9)).toBe(true);
      for (let k = 0; k < 40; k++) {
        const dx = rng.normal(), dy = rng.normal(), dz = rng.normal();
        let best = -Infinity;
        for (const q of pts) best = Math.max(best, dx * q.x + dy * q.y + dz * q.z);
        const h = supportWorld(p, pose, dx, dy, dz);
        expect(h).toBeGreaterThanOrEqual(best - 1e-9);
        expect(h - best).toBeLessThan(2e-4);
      }
    }
  });
});

/** First t ≥ 0 along the unit ray where the predicate holds, by marching then bisecting; null if none. */
function bruteHit(p: Primitive, pose: Pose, o: number[], d: number[], tMax: number, step: number): number | null {
  const at = (t: number) => insideWorld(p, pose, o[0] + t * d[0], o[1] + t * d[1], o[2] + t * d[2]);
  let prev = 0;
  for (let t = step; t <= tMax; t += step) {
    if (at(t)) {
      let lo = prev, hi = t;
      for (let k = 0; k < 60; k++) {
        const m = (lo + hi) / 2;
        if (at(m)) hi = m;
        else lo = m;
      }
      return hi;
    }
    prev = t;
  }
  return null;
}

describe("ray intersection vs brute-force marching", () => {
  it.each(TYPES)("%s: entry distance, hit normal", (type) => {
    const rng = new Rng(TYPES.indexOf(type) + 100);
    const prims = randomPrimitives(rng).filter((q) => q.type === type);
    const hit: Hit = { t: 0, nx: 0, ny: 0, nz: 0 };
    let hits = 0, sliverMisses = 0, rays = 0;
    for (const p of prims) {
      const pose: Pose = { x: rng.uniform(-0.3, 0.3), y: rng.uniform(-0.3, 0.3), z: rng.uniform(0.7, 0.8), yaw: rng.uniform(-Math.PI, Math.PI) };
      const cz = pose.z + primitiveHeight(p) / 2;
      for (let k = 0; k < 60; k++) {
        let o: number[], d: number[];
        if (k < 8) {
          // Straight down (zero horizontal direction components) onto the object.
          o = [pose.x + rng.uniform(-0.12, 0.12), pose.y + rng.uniform(-0.12, 0.12), pose.z + 0.5];
          d = [0, 0, -1];
        } else if (k < 16) {
          // Horizontal rays (zero vertical component) at a height within the object.
          const a = rng.uniform(-Math.PI, Math.PI);
          o = [pose.x - 0.5 * Math.cos(a), pose.y - 0.5 * Math.sin(a), pose.z + rng.uniform(0.001, 0.999) * primitiveHeight(p)];
          const b = a + rng.uniform(-0.2, 0.2);
          d = [Math.cos(b), Math.sin(b), 0];
        } else {
          const dir = [rng.normal(), rng.normal(), rng.normal()];
          const n = Math.hypot(dir[0], dir[1], dir[2]);
          o = [pose.x + (0.6 * dir[0]) / n, pose.y + (0.6 * dir[1]) / n, cz + (0.6 * dir[2]) / n];
          const ex = 0.8 * Math.max(supportLocal(p, 1, 0, 0), supportLocal(p, 0, 1, 0)), ez = 0.6 * primitiveHeight(p);
          const aim = [pose.x + rng.uniform(-ex, ex), pose.y + rng.uniform(-ex, ex), cz + rng.uniform(-ez, ez)];
          const e = [aim[0] - o[0], aim[1] - o[1], aim[2] - o[2]];
          const m = Math.hypot(e[0], e[1], e[2]);
          d = e.map((x) => x / m);
        }
        rays++;
        // Scale the direction: t must scale inversely (the renderer passes non-unit rays).
        const scale = 1.7;
        const ok = intersectWorld(p, pose, o[0], o[1], o[2], d[0] * scale, d[1] * scale, d[2] * scale, hit);
        const tb = bruteHit(p, pose, o, d, 1.3, 2e-4);
        if (tb !== null) {
          expect(ok, `${type} ray ${k}: brute force finds the solid at ${tb}, intersect misses`).toBe(true);
        }
        if (!ok) continue;
        hits++;
        const t = hit.t * scale;
        const hp = [o[0] + t * d[0], o[1] + t * d[1], o[2] + t * d[2]];
        if (tb === null) {
          // Only a sliver thinner than the march step may be missed: the hit must lie on the solid.
          sliverMisses++;
          expect(insideWorld(p, pose, hp[0], hp[1], hp[2], 1e-6)).toBe(true);
        } else {
          expect(Math.abs(t - tb)).toBeLessThan(1e-6);
        }
        // Normal: unit, facing the ray, and a supporting plane of the (convex) solid at the hit.
        expect(Math.hypot(hit.nx, hit.ny, hit.nz)).toBeCloseTo(1, 9);
        expect(hit.nx * d[0] + hit.ny * d[1] + hit.nz * d[2]).toBeLessThan(1e-9);
        const h = supportWorld(p, pose, hit.nx, hit.ny, hit.nz);
        expect(Math.abs(h - (hit.nx * hp[0] + hit.ny * hp[1] + hit.nz * hp[2]))).toBeLessThan(1e-6);
      }
    }
    expect(hits).toBeGreaterThan(rays * 0.3);
    expect(sliverMisses).toBeLessThanOrEqual(Math.ceil(rays * 0.02));
  });

  it("rays pointing away from or passing beside the solid miss", () => {
    const hit: Hit = { t: 0, nx: 0, ny: 0, nz: 0 };
    for (const p of randomPrimitives(new Rng(5))) {
      const pose: Pose = { x: 0, y: 0, z: 0.75, yaw: 0.3 };
      // Ray from above pointing up.
      expect(intersectWorld(p, pose, 0, 0, 1.5, 0, 0, 1, hit)).toBe(false);
      // Horizontal ray passing 20 cm beyond any catalogue-size footprint.
      expect(intersectWorld(p, pose, -1, 0.35, 0.76, 1, 0, 0, hit)).toBe(false);
    }
  });
});
