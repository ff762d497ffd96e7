import { PNG } from "pngjs";
import { describe, expect, it } from "vitest";
import { decodeRgbPng, encodeRgbPng } from "../../nodes/cli/png_image.js";
import { mulberry32 } from "../../src/random/mulberry32.js";

describe("rgb8 PNG", () => {
  it.each([[1, 1], [7, 3], [64, 48], [161, 121]])("is lossless at %dx%d (random bytes read back equal, by pngjs and by our decoder)", (w, h) => {
    const rnd = mulberry32(w * 1000 + h);
    const data = new Uint8Array(w * h * 3).map(() => Math.floor(rnd() * 256));
    const png = encodeRgbPng({ width: w, height: h, data });
    expect(Array.from(png.subarray(0, 8))).toEqual([137, 80, 78, 71, 13, 10, 26, 10]);
    // IHDR: colour type 2 (RGB), bit depth 8.
    expect([png[24], png[25]]).toEqual([8, 2]);
    const back = decodeRgbPng(png);
    expect([back.width, back.height]).toEqual([w, h]);
    expect(Buffer.from(back.data).equals(Buffer.from(data))).toBe(true);
    const independent = PNG.sync.read(png);
    for (let i = 0; i < w * h; i++) {
      expect([independent.data[i * 4], independent.data[i * 4 + 1], independent.data[i * 4 + 2], independent.data[i * 4 + 3]])
        .toEqual([data[i * 3], data[i * 3 + 1], data[i * 3 + 2], 255]);
    }
    expect(encodeRgbPng({ width: w, height: h, data }).equals(png)).toBe(true);
  });

  it("refuses a buffer that does not match the size, and a transparent PNG", () => {
    expect(() => encodeRgbPng({ width: 2, height: 2, data: new Uint8Array(11) })).toThrow(/12 bytes/);
    expect(() => encodeRgbPng({ width: 0, height: 2, data: new Uint8Array(0) })).toThrow(/bytes/);
    const rgba = new PNG({ width: 1, height: 1 });
    rgba.data = Buffer.from([1, 2, 3, 0]);
    expect(() => decodeRgbPng(PNG.sync.write(rgba))).toThrow(/opaque/);
    expect(() => decodeRgbPng(new Uint8Array([1, 2, 3]))).toThrow();
  });
});
