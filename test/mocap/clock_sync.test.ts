import { describe, expect, it } from "vitest";
import { ClockSync } from "../../src/mocap/clock_sync.js";
import { mulberry32 } from "../../src/random/mulberry32.js";

/** host = device + offset + drift·(device − start) + delay; delay ~ Exp(mean) with occasional spikes. */
function simulate(opts: { seed: number; offsetNs: number; driftPpm: number; meanDelayMs: number; spikeProb: number; spikeMs: number; hz: number; seconds: number; deviceStart: bigint }) {
  const rand = mulberry32(opts.seed);
  const out: { device: bigint; host: bigint; truth: bigint }[] = [];
  const period = 1e9 / opts.hz;
  for (let i = 0; i < opts.hz * opts.seconds; i++) {
    const rel = Math.round(i * period);
    const device = opts.deviceStart + BigInt(rel);
    const truthOffset = opts.offsetNs + (opts.driftPpm * 1e-6) * rel;
    let delay = -Math.log(1 - rand()) * opts.meanDelayMs * 1e6;
    if (rand() < opts.spikeProb) delay += opts.spikeMs * 1e6;
    const truth = device + BigInt(Math.round(truthOffset));
    out.push({ device, host: truth + BigInt(Math.round(delay)), truth });
  }
  return out;
}

describe("ClockSync", () => {
  it("offset 3.2 s, 50 ppm drift, exp(2 ms) jitter with 50 ms spikes, 240 Hz for 60 s: < 0.5 ms and < 5 ppm after 10 s", () => {
    const pairs = simulate({ seed: 7, offsetNs: 3.2e9, driftPpm: 50, meanDelayMs: 2, spikeProb: 0.02, spikeMs: 50, hz: 240, seconds: 60, deviceStart: 1_700_000_000_000_000_000n });
    const sync = new ClockSync();
    let worstOffset = 0, worstDrift = 0;
    pairs.forEach((p, i) => {
      sync.update(p.device, p.host);
      if (i >= 240 * 10) {
        worstOffset = Math.max(worstOffset, Math.abs(Number(sync.toHost(p.device) - p.truth)));
        if (i % 24 === 0) worstDrift = Math.max(worstDrift, Math.abs(sync.estimate().drift_ppm - 50));
      }
    });
    console.log({ worstOffsetMs: worstOffset / 1e6, worstDriftPpm: worstDrift, est: sync.estimate() });
    expect(worstOffset).toBeLessThan(0.5e6);
    expect(worstDrift).toBeLessThan(5);
  });
});
