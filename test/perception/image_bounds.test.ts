import { describe, expect, it } from "vitest";
import { InvalidInputError, isSpatialRewardError } from "../../src/errors.js";
import { MAX_IMAGE_PIXELS, MAX_IMAGE_SIDE, validateIntrinsics } from "../../src/geometry/intrinsics.js";
import { Perception } from "../../src/perception/perception.js";
import type { RgbdFrame } from "../../src/perception/rgbd_frame.js";
import type { ImageLike } from "../../src/scene/image.js";
import { relayoutImage, type ImageLayout } from "./image_layout.js";
import { simFrame } from "./sim_frame.js";
import { syntheticFrame } from "./synthetic_frame.js";

function codeOf(p: Perception, frame: RgbdFrame): string {
  try {
    p.process(frame);
  } catch (e) {
    if (!isSpatialRewardError(e)) throw e;
    expect(e.message.length).toBeGreaterThan(20);
    return e.code;
  }
  return "accepted";
}

function mm16(img: ImageLike): ImageLike {
  const m = new Float32Array(img.data.buffer, img.data.byteOffset, img.width * img.height);
  const mm = new Uint16Array(m.length);
  for (let i = 0; i < m.length; i++) mm[i] = Number.isFinite(m[i]) ? Math.round(m[i] * 1000) : 0;
  return { ...img, encoding: "16UC1", step: img.width * 2, data: new Uint8Array(mm.buffer) };
}

function mono16(img: ImageLike): ImageLike {
  const ids = new Uint16Array(img.width * img.height);
  for (let i = 0; i < ids.length; i++) ids[i] = img.data[i];
  return { ...img, encoding: "16UC1", step: img.width * 2, data: new Uint8Array(ids.buffer) };
}

const LAYOUTS: [string, Partial<ImageLayout>][] = [
  ["padded, aligned", { padBytes: 8, trimLastRowPadding: true }],
  ["padded, unaligned", { padBytes: 8, trimLastRowPadding: true, byteOffset: 1 }],
  ["padded, big-endian", { padBytes: 8, trimLastRowPadding: true, bigEndian: true }],
  ["padded, big-endian, unaligned", { padBytes: 12, trimLastRowPadding: true, bigEndian: true, byteOffset: 3 }],
  ["padded with the last row's padding present", { padBytes: 4, byteOffset: 2 }],
  // sensor_msgs/Image does not ask step to be a multiple of the pixel size.
  ["padded by an odd number of bytes", { padBytes: 3, trimLastRowPadding: true }],
];

describe("row-padded images whose last row's padding is trimmed (sensor_msgs/Image from producers that trim)", () => {
  // Each buffer ends exactly at the last pixel, so a reader that computes stride x height reads past it.
  const tight = simFrame(7, { segmentation: "masks" });
  const reference = new Perception().process(tight).objects;
  const tight16 = { ...tight, depth: mm16(tight.depth) };
  const reference16 = new Perception().process(tight16).objects;
  const tightMask16 = { ...tight, instances: { image: mono16(tight.instances!.image), labels: tight.instances!.labels } };

  it("the reference frame has objects to compare", () => {
    expect(reference.length).toBeGreaterThanOrEqual(2);
  });

  for (const [name, layout] of LAYOUTS) {
    it(`32FC1 depth, ${name}: same scene as the tight frame`, () => {
      const f = { ...tight, depth: relayoutImage(tight.depth, layout) };
      expect(new Perception().process(f).objects).toEqual(reference);
    });
    it(`16UC1 depth, ${name}: same scene as the tight 16UC1 frame`, () => {
      const f = { ...tight16, depth: relayoutImage(tight16.depth, layout) };
      expect(new Perception().process(f).objects).toEqual(reference16);
    });
    it(`mono8 instance mask, ${name}: same scene`, () => {
      const f = { ...tight, instances: { image: relayoutImage(tight.instances!.image, layout), labels: tight.instances!.labels } };
      expect(new Perception().process(f).objects).toEqual(reference);
    });
    it(`16UC1 instance mask, ${name}: same scene`, () => {
      const m = tightMask16.instances;
      const f = { ...tightMask16, instances: { image: relayoutImage(m.image, layout), labels: m.labels } };
      expect(new Perception().process(f).objects).toEqual(reference);
    });
    it(`rgb8, ${name}: same scene (colours read from the right bytes)`, () => {
      const f = { ...tight, rgb: relayoutImage(tight.rgb, layout) };
      expect(new Perception().process(f).objects).toEqual(reference);
    });
  }

  it("every image padded and trimmed at once, detections instead of masks: same scene", () => {
    const det = simFrame(7, { segmentation: "detections" });
    const ref = new Perception().process(det).objects;
    expect(ref.length).toBeGreaterThanOrEqual(2);
    const layout = { padBytes: 16, trimLastRowPadding: true, byteOffset: 1 };
    const f = { ...det, rgb: relayoutImage(det.rgb, layout), depth: relayoutImage(det.depth, layout) };
    expect(new Perception().process(f).objects).toEqual(ref);
  });
});

describe("image fields no producer can mean: typed error, never a RangeError", () => {
  const good = syntheticFrame();
  const cases: [string, (f: RgbdFrame) => RgbdFrame, string][] = [
    ["is_bigendian = 2", (f) => ({ ...f, depth: { ...f.depth, is_bigendian: 2 } }), "bad_encoding"],
    ["is_bigendian = -1", (f) => ({ ...f, depth: { ...f.depth, is_bigendian: -1 } }), "bad_encoding"],
    ["is_bigendian = NaN on the mask", (f) => ({ ...f, instances: { ...f.instances!, image: { ...f.instances!.image, is_bigendian: NaN } } }), "bad_encoding"],
    ["step not an integer", (f) => ({ ...f, depth: { ...f.depth, step: f.depth.step + 0.5 } }), "bad_image_step"],
    ["step NaN", (f) => ({ ...f, rgb: { ...f.rgb, step: NaN } }), "bad_image_step"],
    ["step Infinity", (f) => ({ ...f, depth: { ...f.depth, step: Infinity } }), "bad_image_step"],
    ["step 2^60 (beyond exact integers)", (f) => ({ ...f, depth: { ...f.depth, step: 2 ** 60 } }), "bad_image_step"],
    ["step 2^40 (no buffer is that long)", (f) => ({ ...f, depth: { ...f.depth, step: 2 ** 40 } }), "bad_image_size"],
    ["data one byte short", (f) => ({ ...f, depth: { ...f.depth, data: f.depth.data.subarray(0, f.depth.data.length - 1) } }), "bad_image_size"],
    ["data one row longer than step x height", (f) => ({ ...f, depth: { ...f.depth, data: new Uint8Array(f.depth.step * (f.depth.height + 1)) } }), "bad_image_size"],
    ["data empty", (f) => ({ ...f, rgb: { ...f.rgb, data: new Uint8Array(0) } }), "bad_image_size"],
    ["data not a byte array", (f) => ({ ...f, rgb: { ...f.rgb, data: [1, 2, 3] as unknown as Uint8Array } }), "bad_image_size"],
    ["image width 0", (f) => ({ ...f, depth: { ...f.depth, width: 0 } }), "bad_image_size"],
    ["image height NaN", (f) => ({ ...f, depth: { ...f.depth, height: NaN } }), "bad_image_size"],
    ["camera width 0", (f) => ({ ...f, intrinsics: { ...f.intrinsics, width: 0 } }), "bad_intrinsics"],
    ["camera 20000 x 20000", (f) => ({ ...f, intrinsics: { ...f.intrinsics, width: 20000, height: 20000 } }), "bad_intrinsics"],
    ["camera 2.5 px wide", (f) => ({ ...f, intrinsics: { ...f.intrinsics, width: 2.5 } }), "bad_intrinsics"],
  ];
  for (const key of ["fx", "fy", "cx", "cy"] as const) {
    for (const value of [NaN, Infinity, -Infinity, 0, -1]) {
      cases.push([`${key} = ${value}`, (f) => ({ ...f, intrinsics: { ...f.intrinsics, [key]: value } }), "bad_intrinsics"]);
    }
  }
  cases.push(["cx beyond the image", (f) => ({ ...f, intrinsics: { ...f.intrinsics, cx: f.intrinsics.width * 3 } }), "bad_intrinsics"]);
  cases.push(["cy beyond the image", (f) => ({ ...f, intrinsics: { ...f.intrinsics, cy: f.intrinsics.height + 1 } }), "bad_intrinsics"]);

  for (const [name, mutate, code] of cases) {
    it(`${name} → ${code}, then the next good frame is processed`, () => {
      const p = new Perception();
      expect(codeOf(p, mutate(good))).toBe(code);
      expect(p.counters.get(`errors.${code}`)).toBe(1);
      expect(p.process(good).objects).toHaveLength(1);
    });
  }
});

describe("validateIntrinsics caps the image size before anything is allocated", () => {
  const k = (width: number, height: number) => ({ width, height, fx: 500, fy: 500, cx: width / 2, cy: height / 2 });
  it("accepts the largest allowed sides and pixel count", () => {
    expect(() => validateIntrinsics(k(MAX_IMAGE_SIDE, Math.floor(MAX_IMAGE_PIXELS / MAX_IMAGE_SIDE)))).not.toThrow();
    expect(() => validateIntrinsics(k(640, 480))).not.toThrow();
  });
  it("rejects a side over the cap and a total over the cap", () => {
    for (const [w, h] of [[MAX_IMAGE_SIDE + 1, 2], [2, MAX_IMAGE_SIDE + 1], [MAX_IMAGE_SIDE, Math.floor(MAX_IMAGE_PIXELS / MAX_IMAGE_SIDE) + 1]]) {
      let caught: unknown;
      try {
        validateIntrinsics(k(w, h));
      } catch (e) {
        caught = e;
      }
      expect(caught).toBeInstanceOf(InvalidInputError);
      expect((caught as InvalidInputError).code).toBe("bad_intrinsics");
    }
  });
});
