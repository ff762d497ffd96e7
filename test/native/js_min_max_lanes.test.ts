import { describe, expect, it } from "vitest";
import { kernelFamily } from "../../nodes/native/kernels_addon.js";
import { mulberry32 } from "../../src/random/mulberry32.js";
import { NATIVE_TESTS } from "./native_env.js";

interface JsMathLanes {
  minMaxLanesInto(a: Float64Array, b: Float64Array, min: Float64Array, max: Float64Array): boolean;
}

/**
 * js_math.h minLanes/maxLanes (four lanes, branch-free; roundTop's clamp of a point's move along
 * its ray runs through them) are Math.min/Math.max: NaN from either, -0 below +0, Object.is-equal.
 */
describe.skipIf(!NATIVE_TESTS)("js_math.h lane min/max", () => {
  it("every pair of special values and 100000 random pairs (ties, both signs): Math.min and Math.max, Object.is-equal", () => {
    const k = kernelFamily<JsMathLanes>("js_math", ["minMaxLanesInto"]);
    expect(k).not.toBeNull();
    const special = [0, -0, 1, -1, 0.5, -0.5, 1e-300, -1e-300, 2 ** -1074, -(2 ** -1074), Number.MAX_VALUE, -Number.MAX_VALUE, Infinity, -Infinity, NaN];
    const rng = mulberry32(4242);
    const n = special.length ** 2 + 100_000;
    const a = new Float64Array(n), b = new Float64Array(n);
    let i = 0;
    for (const x of special) for (const y of special) { a[i] = x; b[i] = y; i++; }
    for (; i < n; i++) {
      a[i] = (rng() - 0.5) * 10 ** Math.floor(rng() * 6 - 3);
      // A quarter ties (the same value, or its other zero), some NaN.
      const r = rng();
      b[i] = r < 0.2 ? a[i] : r < 0.25 ? (a[i] === 0 ? -a[i] : a[i]) : r < 0.27 ? NaN : (rng() - 0.5) * 10 ** Math.floor(rng() * 6 - 3);
    }
    const min = new Float64Array(n), max = new Float64Array(n);
    if (!k!.minMaxLanesInto(a, b, min, max)) return; // no AVX2 here: the lanes never run
    let differ = 0;
    for (let j = 0; j < n; j++) {
      if (!Object.is(min[j], Math.min(a[j], b[j]))) differ++;
      if (!Object.is(max[j], Math.max(a[j], b[j]))) differ++;
    }
    expect(differ).toBe(0);
  });
});
