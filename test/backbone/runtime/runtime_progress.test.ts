import { afterAll, describe, expect, it } from "vitest";
import { BackboneRuntime } from "../../../nodes/backbone/backbone_runtime.js";
import type { BackboneConfig } from "../../../src/backbone/config.js";
import { RUNTIME_SMALL, randomImage } from "./helpers.js";

/**
 * FrameTiming.progress: the progress head's output for the frame when the model has one (a
 * number in (0, 1) that depends on the stream's state), NaN when it has none; on the full path
 * and with coarse-to-fine, alone and in a batch.
 */
const HEAD: BackboneConfig = { ...RUNTIME_SMALL, progress_head: true };
const opened: BackboneRuntime[] = [];
afterAll(async () => {
  for (const rt of opened) await rt.close();
});

async function open(config: BackboneConfig, coarseToFine = false): Promise<BackboneRuntime> {
  const rt = await BackboneRuntime.open({ model: { seed: 5, config }, maxStreams: 3, coarseToFine });
  opened.push(rt);
  return rt;
}

describe("BackboneRuntime frame progress", () => {
  it("is NaN for a model without a progress head", async () => {
    const rt = await open(RUNTIME_SMALL);
    expect(rt.info.graphs.find((g) => g.name === "mamba_prefill")?.outputs).not.toContain("progress");
    rt.addStream("a");
    const t = await rt.pushFrame("a", randomImage(1));
    expect(t.superseded).toBe(false);
    expect(Number.isNaN(t.progress)).toBe(true);
  });

  for (const coarseToFine of [false, true]) {
    it(`is the head's output in (0, 1) per frame, per stream${coarseToFine ? " (coarse-to-fine)" : ""}`, async () => {
      const rt = await open(HEAD, coarseToFine);
      expect(rt.info.graphs.find((g) => g.name === "mamba_prefill")?.outputs).toContain("progress");
      rt.addStream("x");
      rt.addStream("y");
      // One batch of two different images, then the same image on a fresh stream alone: batch
      // members get their own values, and a value does not depend on the batch it ran in.
      const [tx, ty] = await Promise.all([rt.pushFrame("x", randomImage(1)), rt.pushFrame("y", randomImage(2))]);
      for (const t of [tx, ty]) expect(t.progress! > 0 && t.progress! < 1, String(t.progress)).toBe(true);
      expect(tx.progress).not.toBe(ty.progress);
      rt.addStream("z");
      const tz = await rt.pushFrame("z", randomImage(2));
      expect(Math.abs(tz.progress! - ty.progress!)).toBeLessThanOrEqual(1e-5);
      // The state carries over: the same image again on x gives another value (progress reads the state).
      const tx2 = await rt.pushFrame("x", randomImage(1));
      expect(tx2.progress).not.toBe(tx.progress);
    });
  }
});
