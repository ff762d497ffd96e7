import { describe, expect, it } from "vitest";
import { evaluateEpisode, primitiveHeight, Rng, spearman, teleopScenario } from "../../sim/index.js";
import { isSpatialRewardError } from "../../src/errors.js";

describe("spearman", () => {
  it("identical series → 1, reversed → −1, monotone transforms do not matter", () => {
    const x = [0.3, 1.2, -4, 7, 2.5, 9, 0];
    expect(spearman(x, x)).toBeCloseTo(1, 12);
    expect(spearman(x, x.map((v) => -v))).toBeCloseTo(-1, 12);
    expect(spearman(x, x.map((v) => Math.exp(v)))).toBeCloseTo(1, 12);
    expect(spearman([1, 2, 3, 4, 5], [5, 4, 3, 2, 1])).toBeCloseTo(-1, 12);
  });

  it("without ties equals 1 − 6Σd²/(n(n²−1))", () => {
    const rng = new Rng(12);
    for (let trial = 0; trial < 20; trial++) {
      const n = rng.int(3, 30);
      const a = Array.from({ length: n }, () => rng.normal()), b = Array.from({ length: n }, () => rng.normal());
      const rank = (xs: number[]) => { const s = [...xs].sort((p, q) => p - q); return xs.map((v) => s.indexOf(v)); };
      const ra = rank(a), rb = rank(b);
      const d2 = ra.reduce((s, r, i) => s + (r - rb[i]) ** 2, 0);
      expect(spearman(a, b)).toBeCloseTo(1 - (6 * d2) / (n * (n * n - 1)), 10);
    }
  });

  it("ties take the average rank", () => {
    // Ranks [0, 1.5, 1.5, 3] vs [0, 1, 2, 3]: Pearson = 4.5 / √(4.5·5).
    expect(spearman([1, 2, 2, 3], [10, 20, 30, 40])).toBeCloseTo(4.5 / Math.sqrt(4.5 * 5), 12);
    // Tied pair in the same order in both series: still perfectly correlated.
    expect(spearman([1, 2, 2, 3], [5, 6, 6, 9])).toBeCloseTo(1, 12);
    // The tie order in the input does not matter.
    expect(spearman([2, 1, 3, 2], [30, 10, 40, 20])).toBeCloseTo(spearman([1, 2, 2, 3], [10, 20, 30, 40]), 12);
  });
});

describe("scripted episodes with scene options, a placement mode and detections", () => {
  it("mode on_top_of gives 'put A on B' episodes that end with A resting on B's top; the default choice is unchanged", () => {
    for (const seed of [7_200_000, 7_200_001, 7_200_002, 7_200_003]) {
      const sc = teleopScenario(seed, 40, { width: 160, height: 120 }, {}, "on_top_of");
      expect(sc.episode.task.mode).toBe("on_top_of");
      expect(sc.episode.instruction).toMatch(/^put the .+ on the .+$/);
      const b = sc.world.objects.find((o) => o.id === sc.episode.task.b)!;
      const last = sc.episode.poses[sc.episode.poses.length - 1][sc.episode.aIndex];
      expect(last.z).toBeCloseTo(b.pose.z + primitiveHeight(b.primitive), 12);
      const next = teleopScenario(seed, 40, { width: 160, height: 120 }, {}, "next_to");
      expect(next.episode.task.mode).toBe("next_to");
    }
    // Without a mode, the episode is the one the seed always gave (seed_stability pins its hash too).
    const plain = teleopScenario(7_200_000, 40, { width: 160, height: 120 });
    expect(teleopScenario(7_200_000, 40, { width: 160, height: 120 }, {}, undefined).episode.instruction).toBe(plain.episode.instruction);
  });

  it("refuses a mode that is not one", () => {
    for (const bad of ["sideways", "", 3, null]) {
      let caught: unknown;
      try {
        teleopScenario(1, 40, {}, {}, bad as unknown as "on_top_of");
      } catch (e) {
        caught = e;
      }
      expect(isSpatialRewardError(caught) && caught.code === "bad_argument", String(caught)).toBe(true);
    }
  });

  it("an on-top-of episode perceived from detection boxes: success is seen, and the rewards are the detections' own", () => {
    const o = { seed: 7_200_001, frames: 40, noise: "none", width: 320, height: 240, mode: "on_top_of" } as const;
    const gt = evaluateEpisode(o), det = evaluateEpisode({ ...o, masks: "detections" });
    expect(det.mode).toBe("on_top_of");
    expect(det.trueSuccessFrame).toBeGreaterThan(0);
    expect(det.successFrame).toBeGreaterThan(0);
    expect(det.errors).toEqual({});
    // Masks and boxes give different boxes, so different dense rewards somewhere in the episode.
    expect(det.rewards).not.toEqual(gt.rewards);
    const stacked = evaluateEpisode({ ...o, scene: { stacking: 0.5 } });
    expect(stacked.instruction).toBe(teleopScenario(o.seed, o.frames, { width: 320, height: 240 }, { stacking: 0.5 }, "on_top_of").episode.instruction);
  }, 120_000);
});
