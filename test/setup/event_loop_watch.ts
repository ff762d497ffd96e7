import { expect } from "vitest";

/**
 * Names the test that kept a worker's event loop blocked for long. Vitest 3.2 fails the whole run
 * ("Timeout calling onTaskUpdate") when a worker cannot answer its RPC for 60 s, without saying
 * which test blocked it (a spawnSync of a build or a training, say): this says so, from 20 s on.
 */
const PERIOD_MS = 1000;
const WARN_MS = 20_000;
let last = performance.now();
setInterval(() => {
  const now = performance.now();
  const blocked = now - last - PERIOD_MS;
  last = now;
  if (blocked >= WARN_MS) {
    const state = expect.getState();
    console.warn(`[event loop] blocked ${(blocked / 1000).toFixed(1)} s in ${state.testPath ?? "?"} > ${state.currentTestName ?? "(no test running: a hook or the file's import)"}`);
  }
}, PERIOD_MS).unref();
