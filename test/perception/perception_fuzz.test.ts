import { describe, expect, it } from "vitest";
import { isSpatialRewardError } from "../../src/errors.js";
import { Perception } from "../../src/perception/perception.js";
import type { RgbdFrame } from "../../src/perception/rgbd_frame.js";
import { mulberry32 } from "../../src/random/mulberry32.js";
import { mutateFrame } from "./frame_mutator.js";
import { simFrame, withMillimetreDepth } from "./sim_frame.js";

const PERIOD = 33_333_333n;
const CASES = 3000;

function errorTotal(p: Perception): number {
  let n = 0;
  for (const [k, v] of Object.entries(p.counters.snapshot())) if (k.startsWith("errors.")) n += v;
  return n;
}

/**
 * Property: whatever a frame holds, Perception.process either returns a scene or throws one
 * SpatialRewardError counted under exactly one errors.* counter; and the next valid frame is
 * processed as a fresh Perception would (same number of objects). Deterministic: seed 2024.
 */
describe("Perception.process on mutated frames (fuzz, deterministic)", () => {
  const bases: [string, RgbdFrame][] = [
    ["masks, 32FC1", simFrame(31, { segmentation: "masks" })],
    ["detections, 32FC1", simFrame(32, { segmentation: "detections" })],
    ["masks, 16UC1", withMillimetreDepth(simFrame(33, { segmentation: "masks" }))],
    ["both, realsense noise", simFrame(34, { segmentation: "both", noise: "realsense" })],
  ];
  const expected = bases.map(([, f]) => new Perception().process(f).objects.length);

  it("the base frames have objects", () => {
    for (const n of expected) expect(n).toBeGreaterThanOrEqual(2);
  });

  it(`${CASES} mutated frames: only typed errors, each counted once, and the next valid frame recovers`, () => {
    const rand = mulberry32(2024);
    const p = new Perception();
    const outcomes = new Map<string, number>();
    let t = 1000n * 1_000_000_000n;
    // A valid first frame starts the timeline the mutated stamps are judged against.
    expect(p.process({ ...bases[0][1], stamp: t }).objects.length).toBe(expected[0]);
    for (let i = 0; i < CASES; i++) {
      const b = i % bases.length;
      const [baseName, base] = bases[b];
      t += PERIOD;
      const { frame, mutations } = mutateFrame(base, rand, t);
      const what = `case ${i} (${baseName}; ${mutations.join(", ")})`;
      const errorsBefore = errorTotal(p);
      const outBefore = p.counters.get("frames_out");
      let outcome = "accepted";
      try {
        p.process(frame);
      } catch (e) {
        if (!isSpatialRewardError(e)) throw new Error(`${what}: untyped ${(e as Error).name}: ${(e as Error).message}`);
        outcome = e.code;
      }
      outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
      if (outcome === "accepted") {
        expect(errorTotal(p), what).toBe(errorsBefore);
        expect(p.counters.get("frames_out"), what).toBe(outBefore + 1);
      } else {
        expect(errorTotal(p), what).toBe(errorsBefore + 1);
        expect(p.counters.get(`errors.${outcome}`), what).toBeGreaterThan(0);
      }
      t += PERIOD;
      let next;
      try {
        next = p.process({ ...base, stamp: t });
      } catch (e) {
        throw new Error(`${what}: the next valid frame failed: ${(e as Error).message}`);
      }
      expect(next.objects.length, `${what}: next valid frame`).toBe(expected[b]);
    }
    if (process.env.FUZZ_REPORT) console.log(JSON.stringify(Object.fromEntries(outcomes)), JSON.stringify(p.counters.snapshot()));
    const c = p.counters.snapshot();
    expect(c["errors.internal"] ?? 0).toBe(0);
    expect(c.frames_in).toBe(2 * CASES + 1);
    expect(c.frames_out + errorTotal(p)).toBe(c.frames_in);
    // The mix exercised many rejection codes and still accepted some mutated frames.
    expect(outcomes.size).toBeGreaterThanOrEqual(10);
    expect(outcomes.get("accepted") ?? 0).toBeGreaterThan(CASES / 20);
  });
});
