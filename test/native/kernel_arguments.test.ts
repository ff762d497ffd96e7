import { describe, expect, it } from "vitest";
import { isSpatialRewardError } from "../../src/errors.js";
import { LabelExtents } from "../../src/perception/label_extents.js";
import { Perception } from "../../src/perception/perception.js";
import type { RgbdFrame } from "../../src/perception/rgbd_frame.js";
import type { ImageLike } from "../../src/scene/image.js";
import type { Scene } from "../../src/scene/scene_object.js";
import { nativePerceptionKernels } from "../../nodes/perception/native_perception_kernels.js";
import { simFrame } from "../perception/sim_frame.js";
import { NATIVE_TESTS } from "./native_env.js";

/**
 * How the kernels read their arguments (kernels.h typedArrayArg, perception_args.h imageArg and
 * numberArg: one N-API call each): typed arrays over a SharedArrayBuffer (a worker pipeline's
 * frames) are read like any other, on every argument kind, and everything that is not the
 * expected typed array or number is still a typed refusal.
 */
const native = NATIVE_TESTS ? nativePerceptionKernels() : null;

function sceneText(s: Scene): string {
  return JSON.stringify(s, (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v));
}

function sharedImage(img: ImageLike): ImageLike {
  const data = new Uint8Array(new SharedArrayBuffer(img.data.byteLength));
  data.set(img.data);
  return { ...img, data };
}

describe.skipIf(!NATIVE_TESTS)("native kernel arguments", () => {
  it("a frame whose depth, colour and mask live in SharedArrayBuffers: the native scene equals the TypeScript one (the image arguments threw an untyped 'Invalid argument' before)", () => {
    for (const [seed, noise] of [[3, "none"], [4, "realsense"]] as const) {
      const plain = simFrame(seed, { width: 160, height: 120, noise });
      const shared: RgbdFrame = {
        ...plain, rgb: sharedImage(plain.rgb), depth: sharedImage(plain.depth),
        instances: { image: sharedImage(plain.instances!.image), labels: plain.instances!.labels },
      };
      expect(shared.depth.data.buffer).toBeInstanceOf(SharedArrayBuffer);
      const ts = sceneText(new Perception().process(plain));
      let nat: string;
      try {
        nat = sceneText(new Perception({ kernels: native! }).process(shared));
      } catch (e) {
        nat = `threw ${isSpatialRewardError(e) ? e.code : String(e)}`;
      }
      expect(nat, `seed ${seed} ${noise}`).toBe(ts);
      expect(JSON.parse(ts).objects.length).toBeGreaterThan(0);
    }
  });

  it("each argument kind refuses what it is not given, with a typed error: arrays of the wrong type, plain arrays, numbers as strings, missing arguments", () => {
    const k = native!();
    const ext = new LabelExtents();
    const labels = new Uint8Array(64);
    const pts = new Float32Array(30);
    const refused = (f: () => unknown): string => {
      try {
        f();
        return "accepted";
      } catch (e) {
        return isSpatialRewardError(e) ? e.code : `untyped ${String(e)}`;
      }
    };
    expect(refused(() => k.labelExtents(labels, 8, 8, 8, ext))).toBe("accepted");
    expect(refused(() => k.labelExtents(new Int8Array(64) as unknown as Uint8Array, 8, 8, 8, ext))).toBe("bad_argument");
    expect(refused(() => k.labelExtents(new Uint8ClampedArray(64) as unknown as Uint8Array, 8, 8, 8, ext))).toBe("bad_argument");
    expect(refused(() => k.labelExtents([0, 0] as unknown as Uint8Array, 8, 8, 8, ext))).toBe("bad_argument");
    expect(refused(() => k.labelExtents(labels, "8" as unknown as number, 8, 8, ext))).toBe("bad_argument");
    expect(refused(() => k.countPlaneInliers(pts, 10, 0, 0, 1, 1, 0.01))).toBe("accepted");
    expect(refused(() => k.countPlaneInliers(new Float64Array(30) as unknown as Float32Array, 10, 0, 0, 1, 1, 0.01))).toBe("bad_argument");
    expect(refused(() => k.countPlaneInliers(pts, 10, 0, 0, 1, 1, undefined as unknown as number))).toBe("bad_argument");
    expect(refused(() => k.countPlaneInliers(pts, 10, 0, 0, 1, 1n as unknown as number, 0.01))).toBe("bad_argument");
    // A SharedArrayBuffer view is read where it holds the right elements, and its length is checked as any other's.
    const sharedPts = new Float32Array(new SharedArrayBuffer(30 * 4));
    sharedPts.set([0, 0, 1, 0, 1, 1, 1, 0, 1]);
    expect(k.countPlaneInliers(sharedPts, 3, 0, 0, 1, -1, 0.01)).toBe(3);
    expect(refused(() => k.countPlaneInliers(sharedPts, 11, 0, 0, 1, -1, 0.01))).toBe("bad_argument");
  });
});
