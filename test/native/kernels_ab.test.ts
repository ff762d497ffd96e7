import { dirname, join } from "node:path";
import { describe, expect, it } from "vitest";
import { runKernelsAb } from "../../bench/kernels_ab.js";
import { kernelsAddonPath } from "../../nodes/native/kernels_addon.js";
import { NATIVE_TESTS } from "./native_env.js";

/** bench/kernels_ab.ts: two builds (here the built addon and the TypeScript kernels) on the same frames in one process. */
describe.skipIf(!NATIVE_TESTS)("kernels A/B bench", () => {
  it("runs each path on every frame, first path alternating; the same scenes; a file without the kernels is refused", () => {
    const addon = kernelsAddonPath()!;
    const r = runKernelsAb({ paths: [addon, "ts"], frames: 36, seed: 3, noise: "none", encoding: "32FC1", width: 160, height: 120, objects: 4 });
    expect(r.paths.map((p) => p.path)).toEqual([addon, "ts"]);
    expect(r.frames_measured).toBe(6);
    expect(r.paths.every((p) => p.perception_ms.n === 6)).toBe(true);
    expect(r.paths[0].ratio_p50).toBe(1);
    expect(r.scenes_identical).toBe(36);
    // A module that is not the kernels addon (the package's package.json: an object without them).
    const other = join(dirname(addon), "..", "..", "..", "package.json");
    expect(() => runKernelsAb({ paths: [other], frames: 31, seed: 3, noise: "none", encoding: "32FC1", width: 160, height: 120, objects: 4 })).toThrow(/no perception kernels/);
    expect(() => runKernelsAb({ paths: [], frames: 40, seed: 3, noise: "none", encoding: "32FC1", width: 160, height: 120, objects: 4 })).toThrow(/at least one/);
  });

  it("runs on frames as a camera driver sends them (16UC1 millimetre depth and ids): the same scenes on both paths", () => {
    const r = runKernelsAb({ paths: [kernelsAddonPath()!, "ts"], frames: 40, seed: 5, noise: "realsense", encoding: "16UC1", width: 160, height: 120, objects: 4 });
    expect(r.encoding).toBe("16UC1");
    expect(r.scenes_identical).toBe(40);
  });
});
