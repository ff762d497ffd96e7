import { describe, expect, it } from "vitest";
import { TINY_CONFIG } from "../../../src/backbone/config.js";
import { expectedTensors } from "../../../src/backbone/tensor_names.js";
import { randomWeights } from "../../../src/backbone/random_init.js";
import { SMALL_LM_CONFIG as SMALL } from "../fixtures.js";

const softplus = (v: number): number => Math.log1p(Math.exp(v));

describe("randomWeights", () => {
  it("gives every expected tensor, with its exact size, and nothing else", () => {
    for (const cfg of [SMALL, TINY_CONFIG, { ...SMALL, tie_embeddings: false, coarse_to_fine: null }]) {
      const w = randomWeights(cfg, 1);
      const specs = expectedTensors(cfg);
      expect([...w.keys()]).toEqual(specs.map((s) => s.name));
      for (const s of specs) {
        const a = w.get(s.name)!;
        expect(a.length, s.name).toBe(s.shape.reduce((x, y) => x * y, 1));
        expect(a.every(Number.isFinite), s.name).toBe(true);
      }
    }
  });

  it("is deterministic per seed and differs between seeds", () => {
    const a = randomWeights(SMALL, 42);
    const b = randomWeights(SMALL, 42);
    const c = randomWeights(SMALL, 43);
    for (const [name, v] of a) expect(Buffer.compare(Buffer.from(b.get(name)!.buffer), Buffer.from(v.buffer)), name).toBe(0);
    expect(c.get("backbone.layers.0.mixer.in_proj.weight")).not.toEqual(a.get("backbone.layers.0.mixer.in_proj.weight"));
    expect(c.get("backbone.layers.0.mixer.dt_proj.bias")).not.toEqual(a.get("backbone.layers.0.mixer.dt_proj.bias"));
  });

  it("follows Mamba's init: A_log rows = log(1..N), softplus(dt bias) in [1e-4, 0.1], D = 1", () => {
    const w = randomWeights(TINY_CONFIG, 3);
    const N = TINY_CONFIG.d_state;
    for (let l = 0; l < TINY_CONFIG.n_layer; l++) {
      const m = `backbone.layers.${l}.mixer`;
      const aLog = w.get(`${m}.A_log`)!;
      for (let i = 0; i < aLog.length; i++) expect(aLog[i]).toBeCloseTo(Math.log((i % N) + 1), 6);
      const dt = Array.from(w.get(`${m}.dt_proj.bias`)!, softplus);
      expect(Math.min(...dt)).toBeGreaterThanOrEqual(1e-4 * 0.999);
      expect(Math.max(...dt)).toBeLessThanOrEqual(0.1 * 1.001);
      // Log-uniform: about half the samples below the geometric middle 1e-2.
      const below = dt.filter((v) => v < 1e-2).length / dt.length;
      expect(below).toBeGreaterThan(0.4);
      expect(below).toBeLessThan(0.6);
      expect(w.get(`${m}.D`)!.every((v) => v === 1)).toBe(true);
      const bound = TINY_CONFIG.dt_rank ** -0.5;
      expect(w.get(`${m}.dt_proj.weight`)!.every((v) => Math.abs(v) <= bound)).toBe(true);
      // out_proj is the kaiming bound divided by sqrt(n_layer).
      const outBound = 1 / Math.sqrt(2 * TINY_CONFIG.d_model) / Math.sqrt(TINY_CONFIG.n_layer);
      const out = w.get(`${m}.out_proj.weight`)!;
      expect(out.every((v) => Math.abs(v) <= outBound)).toBe(true);
      expect(out.reduce((m, v) => Math.max(m, Math.abs(v)), 0)).toBeGreaterThan(outBound * 0.9);
    }
    expect(w.get("backbone.norm_f.weight")!.every((v) => v === 1)).toBe(true);
    const emb = w.get("backbone.embeddings.weight")!;
    const std = Math.sqrt(emb.reduce((s, v) => s + v * v, 0) / emb.length);
    expect(std).toBeGreaterThan(0.018);
    expect(std).toBeLessThan(0.022);
  });
});
