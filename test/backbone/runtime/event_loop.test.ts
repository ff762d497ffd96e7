import { describe, expect, it } from "vitest";
import { BackboneRuntime } from "../../../nodes/backbone/backbone_runtime.js";
import { TINY_CONFIG } from "../../../src/backbone/config.js";
import { randomImage } from "./helpers.js";

function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(p * s.length))];
}

describe("event loop", () => {
  // The full tiny default on purpose: its graph runs take several milliseconds each, so had any
  // `session.run` stayed on the main thread the timer lag below would exceed the bound.
  // Up to two retries: on CI's two cores another test file's process competes for the CPU and
  // can deschedule this one for a few ms. Every attempt must meet the bound, and a session.run
  // on the main thread (tens of ms busy per second here) fails all three.
  it("a 1 ms timer keeps p99 lag < 5 ms while the worker encodes frames and decodes answers", { retry: 2 }, async () => {
    const rt = await BackboneRuntime.open({ model: { seed: 1 }, maxStreams: 2, intraOpThreads: 1 });
    try {
      rt.addStream("cam0");
      rt.addStream("cam1");
      const img0 = randomImage(1, 640, 480);
      const img1 = randomImage(2, 640, 480);
      await rt.pushFrame("cam0", img0); // first run of each graph happens outside the window

      const gaps: number[] = [];
      let last = performance.now();
      const timer = setInterval(() => {
        const t = performance.now();
        gaps.push(t - last);
        last = t;
      }, 1);
      let stop = false;
      const runMs: number[] = [];
      let workerMs = 0;
      let answers = 0;
      const feed = async (name: string, img: typeof img0): Promise<void> => {
        while (!stop) {
          const t = await rt.pushFrame(name, img);
          if (!t.superseded) {
            workerMs += t.totalMs / t.batch; // a batch reports its time to each member
            runMs.push(t.encodeMs - t.preprocessMs, t.prefillMs);
          }
        }
      };
      const askLoop = async (): Promise<void> => {
        while (!stop) {
          const a = await rt.ask("cam0", "how far is the red mug from the bowl?", { maxTokens: 16 });
          // The worker's time on the answer counts as busy too (its prefill and decode runs; a
          // batch reports its time to each member).
          workerMs += (a.prefillMs + a.tokenMs * Math.max(0, a.tokenIds.length - 1)) / (a.batch ?? 1);
          answers++;
        }
      };
      const t0 = performance.now();
      const loops = [feed("cam0", img0), feed("cam1", img1), askLoop()];
      await new Promise((r) => setTimeout(r, 2500));
      stop = true;
      await Promise.all(loops);
      const windowMs = performance.now() - t0;
      clearInterval(timer);

      const lag = gaps.map((g) => g - 1);
      const p99 = percentile(lag, 0.99);
      console.log(`timer lag p50 ${percentile(lag, 0.5).toFixed(3)} p99 ${p99.toFixed(3)} max ${Math.max(...lag).toFixed(2)} ms over ${gaps.length} ticks; worker busy ${((100 * workerMs) / windowMs).toFixed(0)}%, longest run ${Math.max(...runMs).toFixed(1)} ms, ${answers} answers`);
      // Evidence the worker was busy for most of the window with runs long enough to matter.
      expect(workerMs / windowMs).toBeGreaterThan(0.5);
      expect(Math.max(...runMs)).toBeGreaterThan(5);
      expect(answers).toBeGreaterThan(0);
      expect(gaps.length).toBeGreaterThan(500);
      expect(p99, `timer lag p99 ${p99.toFixed(2)} ms over ${gaps.length} ticks`).toBeLessThan(5);
    } finally {
      await rt.close();
    }
  });
});
