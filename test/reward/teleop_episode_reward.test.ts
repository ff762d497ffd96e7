import { describe, expect, it } from "vitest";
import { evaluateEpisode } from "../../sim/episode_eval.js";

/**
 * Scripted pick-and-place episodes rendered frame by frame; the perceived dense reward must
 * rank frames like ground-truth progress (from the true poses) and success must flip when it
 * truly happens. Seeds not used while developing (those were 2000–2040 and 5000–5030).
 */
describe("rewards on scripted teleop episodes", () => {
  it.each([6001, 6002, 6003, 6004, 6005, 6006])("seed %i, noise none: Spearman ≥ 0.9, success flips within one frame", (seed) => {
    const r = evaluateEpisode({ seed, frames: 120, noise: "none" });
    expect(r.trueSuccessFrame, r.instruction).toBeGreaterThan(0);
    expect(r.spearman, r.instruction).toBeGreaterThanOrEqual(0.9);
    expect(Math.abs(r.successFrame - r.trueSuccessFrame), r.instruction).toBeLessThanOrEqual(1);
    expect(r.finalProgress).toBe(1);
  }, 60_000);

  it("'put the cup on the purple book' under RealSense (teleop seed 8012): every success change is reported, and perceived success flips once, within one frame of the truth", () => {
    // Before the box filter kept a resting support's box where its lowest seen point stayed
    // (the cup's pixels in the book's mask read its top 2.2 cm high and the filter took the
    // book for lifted), success came two frames early and flickered: 1 spurious change.
    const r = evaluateEpisode({ seed: 8012, frames: 120, noise: "realsense" });
    expect(r.instruction).toBe("put the cup on the purple book");
    expect(r.successFlips.truth).toEqual([{ frame: 86, success: true }]);
    expect(r.successFlips.perceived).toHaveLength(1);
    expect(r.successFlips.perceived[0].success).toBe(true);
    expect(Math.abs(r.successFlips.perceived[0].frame - 86)).toBeLessThanOrEqual(1);
    expect(r.flips).toEqual({ trueFlips: 1, withinOneFrame: 1, spurious: 0, maxLag: r.flips.maxLag });
    expect(r.successFrame).toBe(r.successFlips.perceived[0].frame);
  }, 120_000);

  it.each([6101, 6102])("seed %i, realsense noise: Spearman ≥ 0.9 and the task is seen to succeed", (seed) => {
    const r = evaluateEpisode({ seed, frames: 120, noise: "realsense" });
    expect(r.spearman, r.instruction).toBeGreaterThanOrEqual(0.9);
    expect(r.successFrame, r.instruction).toBeGreaterThan(0);
    expect(r.finalProgress).toBe(1);
  }, 60_000);
});
