import { describe, expect, it } from "vitest";
import { progressEpisode } from "../../sim/progress_episode.js";
import { VqaFrameRenderer } from "../../sim/vqa_frame.js";
import { teleopScenario, truthScene, worldAt } from "../../sim/index.js";
import { parseRewardSpec } from "../../src/reward/parse_reward_spec.js";
import { RewardTracker } from "../../src/reward/reward_tracker.js";

describe("progress episode", () => {
  it("labels every stride-th frame with the tracker's ground-truth progress, from 0 to 1", () => {
    const renderer = new VqaFrameRenderer(96, 72);
    const ep = progressEpisode(renderer, 5, 40, 3);
    const views = [...ep.views()];
    expect(views.map((v) => v.frame)).toEqual(Array.from({ length: 14 }, (_, i) => i * 3));
    for (const v of views) expect(v.rgb.length).toBe(96 * 72 * 3);
    // Independently: the scenario with the episode's camera, a tracker updated on every frame.
    const sc = teleopScenario(ep.seed, 40, { width: 96, height: 72, hfovDeg: ep.variation.hfovDeg });
    expect(sc.episode.instruction).toBe(ep.task);
    const tracker = new RewardTracker(parseRewardSpec(sc.episode.instruction));
    const truth = Array.from({ length: 40 }, (_, f) => tracker.update(truthScene(worldAt(sc.world, sc.episode.poses[f]), sc.camera, 0n)).progress);
    expect(views.map((v) => v.progress)).toEqual(views.map((v) => truth[v.frame]));
    expect(views[0].progress).toBe(0);
    expect(truth[39]).toBe(1);
    for (const v of views) { expect(v.progress).toBeGreaterThanOrEqual(0); expect(v.progress).toBeLessThanOrEqual(1); }
    // Frames differ as the object moves; the same episode renders the same bytes again.
    expect(Buffer.from(views[0].rgb).equals(Buffer.from(views[7].rgb))).toBe(false);
    const again = [...progressEpisode(renderer, 5, 40, 3).views()];
    for (let i = 0; i < views.length; i++) expect(Buffer.from(again[i].rgb).equals(Buffer.from(views[i].rgb))).toBe(true);
  });

  it("refuses a stride beyond the episode and a bad seed", () => {
    const renderer = new VqaFrameRenderer(32, 24);
    expect(() => progressEpisode(renderer, 1, 20, 21)).toThrow(/stride/);
    expect(() => progressEpisode(renderer, 1, 20, 0)).toThrow(/stride/);
    expect(() => progressEpisode(renderer, -1, 20, 1)).toThrow(/seed/);
  });
});
