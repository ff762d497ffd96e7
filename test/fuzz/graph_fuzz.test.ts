import { describe, expect, it } from "vitest";
import { GraphFuzzer } from "../../bench/graph_fuzzer.js";

/**
 * Hostile messages (mutated CDR bytes and fields) through the whole message → frame → scene →
 * reward path; `npm run fuzz` runs the same for a million messages. Every hostile frame is
 * followed by a clean one on the clean timeline, which must be rewarded.
 */
describe("graph fuzz (mutated messages through perception, spatial and reward)", () => {
  it.each([1, 2])("seed %i: no unexpected exception, every rejection counted, every question answered, the next clean frame rewarded", (seed) => {
    const fuzzer = new GraphFuzzer(seed);
    const r = fuzzer.run(6000);
    void fuzzer.shutdown();
    expect(r.internal_samples).toEqual([]);
    expect(r.internal_errors).toBe(0);
    expect(r.callback_errors).toBe(0);
    expect(r.cdr_non_error_throws).toBe(0);
    expect(r.answers).toBe(r.questions);
    expect(r.clean_frames_rewarded).toBe(r.clean_frames);
    // The hostile half really was hostile: the nodes refused a good share of it, by code.
    const refused = Object.entries(r.rejections).filter(([k]) => k.startsWith("errors.")).reduce((n, [, v]) => n + v, 0);
    expect(refused).toBeGreaterThan(r.hostile / 5);
    expect(r.cdr_rejected).toBeGreaterThan(0);
  }, 120_000);
});
