import { describe, expect, it } from "vitest";
import { applyColorJitter, DEFAULT_COLOR_JITTER_RANGES, drawColorJitter, IDENTITY_COLOR_JITTER } from "../../sim/color_jitter.js";
import { Rng } from "../../sim/rng.js";
import { drawSceneVariation } from "../../sim/scene_variation.js";
import type { ImageLike } from "../../src/scene/image.js";

function image(width: number, height: number, fill: (i: number) => number, step = width * 3): ImageLike {
  const data = new Uint8Array(step * height);
  for (let v = 0; v < height; v++) for (let k = 0; k < width * 3; k++) data[v * step + k] = fill(v * width * 3 + k);
  return { width, height, encoding: "rgb8", step, data };
}

describe("colour jitter", () => {
  it("identity copies the pixels (row padding dropped)", () => {
    const src = image(5, 4, (i) => (i * 37) % 256, 17);
    const dst = new Uint8Array(5 * 4 * 3);
    applyColorJitter(src, dst, IDENTITY_COLOR_JITTER, new Rng(1));
    for (let v = 0; v < 4; v++) for (let k = 0; k < 15; k++) expect(dst[v * 15 + k]).toBe(src.data[v * 17 + k]);
  });

  it("applies gain, contrast about 128 and clamps to 0..255", () => {
    const src = image(3, 1, (i) => [100, 100, 100, 128, 128, 128, 250, 250, 250][i]);
    const dst = new Uint8Array(9);
    applyColorJitter(src, dst, { ...IDENTITY_COLOR_JITTER, brightness: 1.1, gainR: 1, gainG: 0.9, gainB: 1.05 }, new Rng(1));
    expect(Array.from(dst)).toEqual([110, 99, 116, 141, 127, 148, 255, 248, 255]);
    applyColorJitter(src, dst, { ...IDENTITY_COLOR_JITTER, contrast: 2 }, new Rng(1));
    expect(Array.from(dst)).toEqual([72, 72, 72, 128, 128, 128, 255, 255, 255]);
  });

  it("read noise has the asked sigma, zero mean, and repeats with the rng seed", () => {
    const src = image(200, 100, () => 128);
    const a = new Uint8Array(200 * 100 * 3), b = new Uint8Array(a.length), c = new Uint8Array(a.length);
    const j = { ...IDENTITY_COLOR_JITTER, noiseSigma: 3 };
    applyColorJitter(src, a, j, new Rng(5));
    applyColorJitter(src, b, j, new Rng(5));
    applyColorJitter(src, c, j, new Rng(6));
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(true);
    expect(Buffer.from(a).equals(Buffer.from(c))).toBe(false);
    let s = 0, s2 = 0;
    for (const x of a) { s += x - 128; s2 += (x - 128) ** 2; }
    const mean = s / a.length, sd = Math.sqrt(s2 / a.length - mean * mean);
    expect(Math.abs(mean)).toBeLessThan(0.05);
    expect(sd).toBeGreaterThan(2.9);
    expect(sd).toBeLessThan(3.1);
  });

  it("draws within the ranges; noise only for realsense; refuses bad images and parameters", () => {
    const r = DEFAULT_COLOR_JITTER_RANGES;
    for (let seed = 0; seed < 200; seed++) {
      const v = drawSceneVariation(seed);
      const j = v.jitter;
      expect(j.brightness).toBeGreaterThanOrEqual(r.brightness[0]);
      expect(j.brightness).toBeLessThanOrEqual(r.brightness[1]);
      for (const g of [j.gainR, j.gainG, j.gainB]) { expect(g).toBeGreaterThanOrEqual(r.channelGain[0]); expect(g).toBeLessThanOrEqual(r.channelGain[1]); }
      if (v.noise === "none") expect(j.noiseSigma).toBe(0);
      else expect(j.noiseSigma).toBeGreaterThanOrEqual(r.noiseSigma[0]);
      expect(v.hfovDeg).toBeGreaterThanOrEqual(55);
      expect(v.hfovDeg).toBeLessThanOrEqual(80);
      expect(drawSceneVariation(seed)).toEqual(v);
    }
    const noises = new Set(Array.from({ length: 50 }, (_, s) => drawSceneVariation(s).noise));
    expect(noises).toEqual(new Set(["none", "realsense"]));
    expect(drawColorJitter(new Rng(3), "none").brightness).toBe(drawColorJitter(new Rng(3), "realsense").brightness);
    const dst = new Uint8Array(12);
    expect(() => applyColorJitter({ ...image(2, 2, () => 0), encoding: "bgr8" }, dst, IDENTITY_COLOR_JITTER, new Rng(1))).toThrow(/rgb8/);
    expect(() => applyColorJitter({ ...image(2, 2, () => 0), step: 3 }, dst, IDENTITY_COLOR_JITTER, new Rng(1))).toThrow(/step/);
    expect(() => applyColorJitter(image(2, 2, () => 0), new Uint8Array(11), IDENTITY_COLOR_JITTER, new Rng(1))).toThrow(/output/);
    expect(() => applyColorJitter(image(2, 2, () => 0), dst, { ...IDENTITY_COLOR_JITTER, brightness: NaN }, new Rng(1))).toThrow(/brightness/);
    expect(() => drawSceneVariation(1, { hfovDeg: [80, 55], pitchDeg: [20, 60], realsenseFraction: 0.5, jitter: r })).toThrow(/hfovDeg/);
  });
});
