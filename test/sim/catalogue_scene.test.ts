import { describe, expect, it } from "vitest";
import { CATALOGUE, catalogueEntry, DEFAULT_SCENE_OPTIONS, footprintRadius, generateWorld, primitiveHeight, Rng, supportLocal, supportWorld, type Primitive } from "../../sim/index.js";
import { KIND_NAMES } from "../../src/scene/kinds.js";
import { COLOR_NAMES } from "../../src/scene/colors.js";

/** True circumscribed footprint radius from dense horizontal support directions (exact within 1e-6 relative). */
function trueFootprint(p: Primitive): number {
  let r = 0;
  for (let k = 0; k < 3600; k++) { const a = (k / 3600) * 2 * Math.PI; r = Math.max(r, supportLocal(p, Math.cos(a), Math.sin(a), 0)); }
  return r;
}

describe("catalogue", () => {
  it("has at least 12 distinct kinds, all known to the language side, with named colours", () => {
    const kinds = CATALOGUE.map((c) => c.kind);
    expect(kinds.length).toBeGreaterThanOrEqual(12);
    expect(new Set(kinds).size).toBe(kinds.length);
    for (const e of CATALOGUE) {
      expect(KIND_NAMES).toContain(e.kind);
      expect(e.colors.length).toBeGreaterThan(0);
      expect(new Set(e.colors).size).toBe(e.colors.length);
      for (const c of e.colors) expect(COLOR_NAMES).toContain(c);
      expect(catalogueEntry(e.kind)).toBe(e);
    }
    expect(() => catalogueEntry("spaceship")).toThrow();
  });

  it("sizes are realistic across the jitter range: height 1.5–30 cm, footprint radius < 15 cm", () => {
    const rng = new Rng(3);
    for (const e of CATALOGUE) {
      for (let k = 0; k < 60; k++) {
        const p = e.make(rng, DEFAULT_SCENE_OPTIONS.sizeJitter);
        const h = primitiveHeight(p);
        expect(h, e.kind).toBeGreaterThanOrEqual(0.015);
        expect(h, e.kind).toBeLessThanOrEqual(0.3);
        const r = trueFootprint(p);
        expect(r, e.kind).toBeLessThan(0.15);
        expect(r, e.kind).toBeGreaterThan(0.01);
        // footprintRadius is documented to contain the footprint.
        expect(footprintRadius(p), e.kind).toBeGreaterThanOrEqual(r - 1e-12);
        expect(footprintRadius(p), e.kind).toBeLessThan(r * 1.05);
      }
    }
  });

  it("jitter 0 gives the same nominal primitive every draw, jitter scales sizes by at most ±jitter", () => {
    for (const e of CATALOGUE) {
      const a = e.make(new Rng(1), 0), b = e.make(new Rng(2), 0);
      expect(a).toEqual(b);
      const h0 = primitiveHeight(a);
      const rng = new Rng(9);
      for (let k = 0; k < 50; k++) {
        const h = primitiveHeight(e.make(rng, 0.1));
        // Bowl height is jittered directly; all others scale linearly.
        expect(h / h0).toBeGreaterThanOrEqual(0.9 - 1e-9);
        expect(h / h0).toBeLessThanOrEqual(1.1 + 1e-9);
      }
    }
  });
});

describe("generated scenes (40 seeds)", () => {
  const seeds = Array.from({ length: 40 }, (_, i) => i * 37 + 1);
  const worlds = seeds.map((s) => generateWorld(s));

  it("3–10 objects, unique ids and unique (kind, colour) pairs, colours from the kind's list", () => {
    for (const w of worlds) {
      expect(w.objects.length).toBeGreaterThanOrEqual(3);
      expect(w.objects.length).toBeLessThanOrEqual(10);
      const names = w.objects.map((o) => `${o.color} ${o.kind}`);
      expect(new Set(names).size).toBe(names.length);
      expect(new Set(w.objects.map((o) => o.id)).size).toBe(w.objects.length);
      for (const o of w.objects) {
        expect(catalogueEntry(o.kind).colors).toContain(o.color);
        expect(o.id.startsWith(`${o.kind}#`)).toBe(true);
      }
      // Ids number the objects of each kind 1..n.
      const byKind = new Map<string, number[]>();
      for (const o of w.objects) byKind.set(o.kind, [...(byKind.get(o.kind) ?? []), Number(o.id.split("#")[1])]);
      for (const ids of byKind.values()) expect([...ids].sort((a, b) => a - b)).toEqual(ids.map((_, i) => i + 1));
    }
  });

  it("at least one kind repeats in at least half the scenes", () => {
    const repeated = worlds.filter((w) => new Set(w.objects.map((o) => o.kind)).size < w.objects.length).length;
    expect(repeated).toBeGreaterThanOrEqual(worlds.length / 2);
  });

  it("objects rest on the table (or on a book/box top), inside the table rectangle, footprints apart", () => {
    const clearance = DEFAULT_SCENE_OPTIONS.clearance;
    let stackedScenes = 0;
    for (const w of worlds) {
      expect(w.tableZ).toBeGreaterThan(0.3);
      const onTable = w.objects.filter((o) => o.pose.z === w.tableZ);
      const stacked = w.objects.filter((o) => o.pose.z !== w.tableZ);
      expect(stacked.length).toBeLessThanOrEqual(1);
      if (stacked.length) stackedScenes++;
      for (const s of stacked) {
        // It stands on top of a book or box, its footprint within the base's.
        const base = onTable.find((b) => Math.hypot(b.pose.x - s.pose.x, b.pose.y - s.pose.y) < 1e-9);
        expect(base, `${s.id} floats`).toBeDefined();
        expect(["book", "box"]).toContain(base!.kind);
        expect(s.pose.z).toBeCloseTo(base!.pose.z + primitiveHeight(base!.primitive), 12);
        const reach = Math.min(supportLocal(base!.primitive, 1, 0, 0), supportLocal(base!.primitive, 0, 1, 0));
        expect(trueFootprint(s.primitive)).toBeLessThan(reach);
      }
      for (const o of w.objects) {
        expect(supportWorld(o.primitive, o.pose, 1, 0, 0)).toBeLessThanOrEqual(w.tableHalfX);
        expect(-supportWorld(o.primitive, o.pose, -1, 0, 0)).toBeGreaterThanOrEqual(-w.tableHalfX);
        expect(supportWorld(o.primitive, o.pose, 0, 1, 0)).toBeLessThanOrEqual(w.tableHalfY);
        expect(-supportWorld(o.primitive, o.pose, 0, -1, 0)).toBeGreaterThanOrEqual(-w.tableHalfY);
        // Lowest point of the solid is its base.
        expect(-supportWorld(o.primitive, o.pose, 0, 0, -1)).toBeCloseTo(o.pose.z, 12);
      }
      for (let i = 0; i < onTable.length; i++) {
        for (let j = i + 1; j < onTable.length; j++) {
          const a = onTable[i], b = onTable[j];
          const d = Math.hypot(a.pose.x - b.pose.x, a.pose.y - b.pose.y);
          expect(d, `${a.id} vs ${b.id}`).toBeGreaterThanOrEqual(trueFootprint(a.primitive) + trueFootprint(b.primitive) + clearance - 1e-9);
        }
      }
    }
    // Stacking is occasional, not universal.
    expect(stackedScenes).toBeLessThan(worlds.length);
  });

  it("options bound the object count", () => {
    for (let s = 0; s < 10; s++) {
      const w = generateWorld(s, { minObjects: 4, maxObjects: 4 });
      expect(w.objects.length).toBe(4);
    }
  });
});
