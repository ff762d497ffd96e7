import { afterEach, expect } from "vitest";

/**
 * Vitest 3.2 fails the whole run ("Timeout calling onTaskUpdate") when a worker cannot read its
 * RPC answers for 60 s. Its runner goes from one synchronous test to the next without giving the
 * event loop a turn, so a file of short synchronous tests (each running the CLI with spawnSync,
 * say) blocks for their sum: 56.8 s in cli_usage on a loaded host. Here each test ends with a
 * turn of the loop, and a block of 20 s or more is named with the test it ended in.
 */
const immediate = () => new Promise<void>((resolve) => setImmediate(resolve));
// Two check phases: a whole turn (timers, poll: the RPC answers are read) between them.
afterEach(async () => {
  await immediate();
  await immediate();
});

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
