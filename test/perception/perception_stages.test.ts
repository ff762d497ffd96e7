import { describe, expect, it } from "vitest";
import { InvalidInputError } from "../../src/errors.js";
import { DEPTH_ABOVE_PARAMS, metricDepthAboveTs } from "../../src/perception/detection_depth.js";
import { LabelExtents, labelExtentsTs } from "../../src/perception/label_extents.js";
import { HEIGHT_PARAMS, medianObjectHeightTs, objectHeightCells } from "../../src/perception/object_height.js";
import { restingOnCode, RESTING_ON } from "../../src/perception/object_measurements.js";
import { Perception, type PerceptionOptions } from "../../src/perception/perception.js";
import { createTsPerceptionKernels, type PerceptionKernels } from "../../src/perception/perception_kernels.js";
import { SupportPlaneEstimator, TS_PLANE_KERNELS } from "../../src/perception/support_plane.js";
import { mulberry32 } from "../../src/random/mulberry32.js";
import { simFrame, withMillimetreDepth } from "./sim_frame.js";

/**
 * Perception's named stages and their kernel boundary (perception_kernels.ts): the stages run
 * in order through whatever kernels the options give, and the TypeScript kernels' pieces hold
 * what the stages rely on.
 */
describe("Perception's stages call their kernels", () => {
  /** TypeScript kernels that record each call's name. */
  function recording(calls: string[]): () => PerceptionKernels {
    return () => {
      const k = createTsPerceptionKernels() as unknown as Record<string, unknown>;
      const out: Record<string, unknown> = { name: "recording" };
      for (const [key, v] of Object.entries(k)) {
        if (typeof v !== "function") continue;
        out[key] = (...args: unknown[]) => {
          calls.push(key);
          return (v as (...a: unknown[]) => unknown)(...args);
        };
      }
      return out as unknown as PerceptionKernels;
    };
  }

  it("masks: extents, samples, plane, object height, noise, objects — once each, in order; the scene is the default kernels'", () => {
    const frame = simFrame(501, { segmentation: "masks" });
    const calls: string[] = [];
    const p = new Perception({ kernels: recording(calls) });
    expect(p.kernels.name).toBe("recording");
    const scene = p.process(frame);
    expect(calls).toEqual(["labelExtents", "backgroundSamples", "ransacPlane", "refinePlane", "medianObjectHeight", "depthNoiseAt1m", "measureObjects"]);
    expect(scene.objects).toEqual(new Perception().process(frame).objects);
    // The next frame of a fixed camera re-checks the last plane instead of RANSAC.
    calls.length = 0;
    p.process({ ...frame, stamp: frame.stamp + 33_333_333n });
    expect(calls).toEqual(["labelExtents", "backgroundSamples", "countPlaneInliers", "refinePlane", "medianObjectHeight", "depthNoiseAt1m", "measureObjects"]);
  });

  it("detections: the segmentation stage adds metric depth and the segments' extents; an up vector skips the plane", () => {
    const frame = simFrame(502, { segmentation: "detections" });
    const calls: string[] = [];
    new Perception({ kernels: recording(calls) }).process(frame);
    expect(calls).toEqual(["backgroundSamples", "ransacPlane", "refinePlane", "medianObjectHeight", "depthNoiseAt1m", "metricDepthAbove", "labelExtents", "measureObjects"]);
    calls.length = 0;
    new Perception({ kernels: recording(calls) }).process({ ...simFrame(503, { segmentation: "masks" }), upInCamera: { x: 0, y: -0.8, z: -0.6 } });
    expect(calls).toEqual(["labelExtents", "backgroundSamples", "depthNoiseAt1m", "measureObjects"]);
  });

  it("a kernels option that is not a factory is a bad_argument", () => {
    for (const bad of [{}, 1, "native", createTsPerceptionKernels()]) {
      expect(() => new Perception({ kernels: bad } as unknown as Partial<PerceptionOptions>)).toThrow(InvalidInputError);
    }
  });

  it("each Perception gets its own kernels (they keep scratch between frames)", () => {
    let made = 0;
    const factory = () => {
      made++;
      return createTsPerceptionKernels();
    };
    const a = new Perception({ kernels: factory }), b = new Perception({ kernels: factory });
    expect(made).toBe(2);
    expect(a.kernels).not.toBe(b.kernels);
  });
});

describe("the TypeScript kernels' pieces", () => {
  it("labelExtents: ids ascending however many there are (the count scan past 64 ids), extents exact, mono8 words and 16-bit labels alike", () => {
    const rand = mulberry32(7);
    for (const [ids, sixteen] of [[5, false], [64, false], [65, true], [3000, true]] as const) {
      const width = 97, height = 61;
      const img = sixteen ? new Uint16Array(width * height) : new Uint8Array(width * height);
      for (let i = 0; i < img.length; i++) if (rand() < 0.5) img[i] = 1 + Math.floor(rand() * ids);
      const ext = new LabelExtents();
      const n = labelExtentsTs(img, width, width, height, ext);
      const seen = [...new Set(Array.from(img).filter((x) => x !== 0))].sort((x, y) => x - y);
      expect(n).toBe(seen.length);
      expect(Array.from(ext.present.subarray(0, n))).toEqual(seen);
      for (const id of seen.slice(0, 20)) {
        let count = 0, u0 = width, u1 = -1, v0 = height, v1 = -1;
        for (let v = 0; v < height; v++) for (let u = 0; u < width; u++) {
          if (img[v * width + u] !== id) continue;
          count++; u0 = Math.min(u0, u); u1 = Math.max(u1, u); v0 = Math.min(v0, v); v1 = Math.max(v1, v);
        }
        expect([ext.count[id], ext.u0[id], ext.u1[id], ext.v0[id], ext.v1[id]]).toEqual([count, u0, u1, v0, v1]);
      }
      ext.clear();
      expect(ext.count.every((c) => c === 0)).toBe(true);
    }
  });

  it("medianObjectHeight: the middle of the sorted heights, whatever order selection left them in", () => {
    const f = simFrame(504, { segmentation: "masks" });
    const depth = new Float32Array(f.depth.data.buffer, f.depth.data.byteOffset, f.depth.width * f.depth.height);
    const { width, height } = f.depth;
    const rayX = Float64Array.from({ length: width }, (_, u) => (u - f.intrinsics.cx) / f.intrinsics.fx);
    const rayY = Float64Array.from({ length: height }, (_, v) => (v - f.intrinsics.cy) / f.intrinsics.fy);
    const p = new Float64Array(HEIGHT_PARAMS.length);
    p.set([0, -0.8, -0.6, 1.1, width, 1, width, 0, width - 1, 0, height - 1, 0.1, 10]);
    const cells = objectHeightCells(width, height);
    const heights = new Float64Array(cells), mark = new Uint8Array(cells);
    const got = medianObjectHeightTs(p, depth, f.instances!.image.data, new Float64Array(0), 0, rayX, rayY, heights, mark);
    // Recompute the grid's heights and sort them.
    const step = Math.max(2, Math.round(Math.sqrt((width * height) / 2000)));
    const hs: number[] = [];
    for (let v = 0; v < height; v += step) for (let u = 0; u < width; u += step) {
      if (f.instances!.image.data[v * width + u] === 0) continue;
      const z = depth[v * width + u];
      if (!(z > 0.1 && z < 10)) continue;
      hs.push(0 * rayX[u] * z + -0.8 * rayY[v] * z + -0.6 * z + 1.1);
    }
    hs.sort((a, b) => a - b);
    expect(got).toBe(hs[hs.length >> 1]);
  });

  it("metricDepthAbove: a packed 32FC1 image copied whole equals the per-pixel conversion (16UC1, padded rows)", () => {
    const f = simFrame(505, { segmentation: "detections" });
    const { width, height } = f.depth;
    const packed = new Float32Array(f.depth.data.buffer, f.depth.data.byteOffset, width * height);
    const padded = new Float32Array((width + 3) * height);
    for (let v = 0; v < height; v++) padded.set(packed.subarray(v * width, (v + 1) * width), v * (width + 3));
    const mm = withMillimetreDepth(f);
    const u16 = new Uint16Array(mm.depth.data.buffer, mm.depth.data.byteOffset, width * height);
    const rayX = Float64Array.from({ length: width }, (_, u) => (u - width / 2) / 100);
    const rayY = Float64Array.from({ length: height }, (_, v) => (v - height / 2) / 100);
    const boxes = Float64Array.from(f.detections!.flatMap((d) => [d.cx, d.cy, d.width, d.height]));
    const run = (depth: Float32Array | Uint16Array, stride: number, scale: number) => {
      const p = new Float64Array(DEPTH_ABOVE_PARAMS.length);
      p.set([width, height, stride, scale, -0.9, 0.1, 10, 0, -0.8, -0.6]);
      const depthM = new Float32Array(width * height), above = new Uint8Array(width * height);
      metricDepthAboveTs(p, depth, boxes, f.detections!.length, rayX, rayY, depthM, above);
      return { depthM, above };
    };
    const a = run(packed, width, 1), b = run(padded, width + 3, 1);
    expect(Buffer.from(a.depthM.buffer).equals(Buffer.from(b.depthM.buffer))).toBe(true);
    expect(Buffer.from(a.above).equals(Buffer.from(b.above))).toBe(true);
    expect(a.above.some((x) => x === 1)).toBe(true);
    const c = run(u16, width, 0.001);
    for (let i = 0; i < c.depthM.length; i += 97) expect(c.depthM[i]).toBe(Math.fround(u16[i] * 0.001));
  });

  it("restingOnCode: hidden bottoms first, then too little evidence, then support, object, nothing", () => {
    const name = (...c: [number, number, number, number]) => RESTING_ON[restingOnCode(...c)];
    expect(name(0, 0, 0, 5)).toBe("occluded");
    expect(name(3, 0, 0, 4)).toBe("unknown");
    expect(name(5, 0, 0, 6)).toBe("occluded");
    expect(name(5, 5, 0, 0)).toBe("support");
    expect(name(2, 3, 5, 0)).toBe("object");
    expect(name(1, 1, 8, 0)).toBe("nothing");
  });

  it("SupportPlaneEstimator takes its plane kernels from the constructor (the TypeScript ones by default) and rolls its seed back", () => {
    const calls: string[] = [];
    const wrap = { ...TS_PLANE_KERNELS, ransacPlane: (...a: Parameters<typeof TS_PLANE_KERNELS.ransacPlane>) => { calls.push("ransac"); return TS_PLANE_KERNELS.ransacPlane(...a); } };
    const pts = new Float32Array(300 * 3);
    const rand = mulberry32(3);
    for (let i = 0; i < 300; i++) { pts[i * 3] = rand() - 0.5; pts[i * 3 + 1] = 0.4 + 0.001 * rand(); pts[i * 3 + 2] = 1 + rand(); }
    const e = new SupportPlaneEstimator({}, wrap);
    e.mark();
    const first = e.estimateFresh(pts, 300);
    expect(first).not.toBeNull();
    expect(calls).toEqual(["ransac"]);
    e.rollback();
    // After the rollback the same draws give the same plane.
    expect(e.estimateFresh(pts, 300)).toEqual(first);
  });
});
