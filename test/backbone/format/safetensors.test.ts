import { describe, expect, it } from "vitest";
import { parseSafetensors, writeSafetensors, halfToFloat, MAX_HEADER_BYTES, type TensorToWrite } from "../../../src/backbone/safetensors.js";
import { catchModelError, concatBytes, expectNames, f32Bytes, rawSafetensors, u16Bytes } from "./helpers.js";

const FILE = "model.safetensors";

/**
 * Byte-exact outputs of the reference implementation (huggingface/safetensors, Rust
 * `serialize`, which Python's save_file calls), as asserted in its own test suite.
 */
const REFERENCE_ATTN_0 = [
  64, 0, 0, 0, 0, 0, 0, 0, 123, 34, 97, 116, 116, 110, 46, 48, 34, 58, 123, 34, 100, 116, 121, 112, 101, 34, 58, 34, 70,
  51, 50, 34, 44, 34, 115, 104, 97, 112, 101, 34, 58, 91, 49, 44, 50, 44, 51, 93, 44, 34, 100, 97, 116, 97, 95, 111,
  102, 102, 115, 101, 116, 115, 34, 58, 91, 48, 44, 50, 52, 93, 125, 125, 0, 0, 0, 0, 0, 0, 128, 63, 0, 0, 0, 64, 0, 0,
  64, 64, 0, 0, 128, 64, 0, 0, 160, 64,
];
/** Same data, one name character shorter: the header is padded with 7 spaces to 72 bytes. */
const REFERENCE_ATTN0_PADDED = [
  72, 0, 0, 0, 0, 0, 0, 0, 123, 34, 97, 116, 116, 110, 48, 34, 58, 123, 34, 100, 116, 121, 112, 101, 34, 58, 34, 70, 51,
  50, 34, 44, 34, 115, 104, 97, 112, 101, 34, 58, 91, 49, 44, 49, 44, 50, 44, 51, 93, 44, 34, 100, 97, 116, 97, 95, 111,
  102, 102, 115, 101, 116, 115, 34, 58, 91, 48, 44, 50, 52, 93, 125, 125, 32, 32, 32, 32, 32, 32, 32, 0, 0, 0, 0, 0, 0,
  128, 63, 0, 0, 0, 64, 0, 0, 64, 64, 0, 0, 128, 64, 0, 0, 160, 64,
];
const REFERENCE_EMPTY = [8, 0, 0, 0, 0, 0, 0, 0, 123, 125, 32, 32, 32, 32, 32, 32];
const REFERENCE_EMPTY_WITH_METADATA = [
  40, 0, 0, 0, 0, 0, 0, 0, 123, 34, 95, 95, 109, 101, 116, 97, 100, 97, 116, 97, 95, 95, 34, 58, 123, 34, 102, 114, 97,
  109, 101, 119, 111, 114, 107, 34, 58, 34, 112, 116, 34, 125, 125, 32, 32, 32, 32, 32,
];

function one(name: string, shape: number[], values: number[]): Map<string, TensorToWrite> {
  return new Map([[name, { shape, data: Float32Array.from(values) }]]);
}

describe("safetensors: the reference implementation's bytes", () => {
  it("writes exactly what the reference writes (no padding needed, padding with spaces, empty, metadata only)", () => {
    expect([...writeSafetensors(one("attn.0", [1, 2, 3], [0, 1, 2, 3, 4, 5]))]).toEqual(REFERENCE_ATTN_0);
    expect([...writeSafetensors(one("attn0", [1, 1, 2, 3], [0, 1, 2, 3, 4, 5]))]).toEqual(REFERENCE_ATTN0_PADDED);
    expect([...writeSafetensors(new Map())]).toEqual(REFERENCE_EMPTY);
    expect([...writeSafetensors(new Map(), { framework: "pt" })]).toEqual(REFERENCE_EMPTY_WITH_METADATA);
  });

  it("reads the reference's files", () => {
    const a = parseSafetensors(Uint8Array.from(REFERENCE_ATTN_0));
    expect([...a.tensors.keys()]).toEqual(["attn.0"]);
    expect(a.tensors.get("attn.0")!.shape).toEqual([1, 2, 3]);
    expect([...a.tensors.get("attn.0")!.data]).toEqual([0, 1, 2, 3, 4, 5]);
    const b = parseSafetensors(Uint8Array.from(REFERENCE_ATTN0_PADDED));
    expect(b.tensors.get("attn0")!.shape).toEqual([1, 1, 2, 3]);
    expect([...b.tensors.get("attn0")!.data]).toEqual([0, 1, 2, 3, 4, 5]);
    expect(parseSafetensors(Uint8Array.from(REFERENCE_EMPTY)).tensors.size).toBe(0);
    expect(parseSafetensors(Uint8Array.from(REFERENCE_EMPTY_WITH_METADATA)).metadata).toEqual({ framework: "pt" });
  });

  it("reads a Python save_file-style file with metadata and several dtypes (F32, then BF16, then F16: the reference's alignment order)", () => {
    // What save_file({"w": f32 [2,2], "b": bf16 [3], "h": f16 [2]}, metadata={"format": "pt"}) writes, built by hand.
    const header = '{"__metadata__":{"format":"pt"},"w":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]},"b":{"dtype":"BF16","shape":[3],"data_offsets":[16,22]},"h":{"dtype":"F16","shape":[2],"data_offsets":[22,26]}}';
    const padded = header + " ".repeat((8 - (header.length % 8)) % 8);
    // bf16 1.0 = 0x3f80, -2.0 = 0xc000, 0.5 = 0x3f00; f16 1.0 = 0x3c00, -0.25 = 0xb400.
    const bytes = rawSafetensors(padded, concatBytes(f32Bytes([1, -2, 3.5, 0.25]), u16Bytes([0x3f80, 0xc000, 0x3f00]), u16Bytes([0x3c00, 0xb400])));
    expect((bytes.length - 26 - 8) % 8).toBe(0);
    const f = parseSafetensors(bytes);
    expect(f.metadata).toEqual({ format: "pt" });
    expect([...f.tensors.keys()]).toEqual(["w", "b", "h"]);
    expect(f.tensors.get("w")!.dtype).toBe("F32");
    expect([...f.tensors.get("w")!.data]).toEqual([1, -2, 3.5, 0.25]);
    expect(f.tensors.get("b")!.dtype).toBe("BF16");
    expect([...f.tensors.get("b")!.data]).toEqual([1, -2, 0.5]);
    expect([...f.tensors.get("h")!.data]).toEqual([1, -0.25]);
  });

  it("accepts header keys in any order (older writers ordered by name, not offset)", () => {
    const header = '{"z":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}';
    const f = parseSafetensors(rawSafetensors(header, f32Bytes([7, 9])));
    expect(f.tensors.get("z")!.data[0]).toBe(7);
    expect(f.tensors.get("a")!.data[0]).toBe(9);
  });
});

describe("safetensors: writing and reading back", () => {
  it("reads back bit-equal, in name order, with every header key in data order and the data 8-aligned", () => {
    const weird = new Float32Array([-0, 1e-45, -3.4028234663852886e38, 1 / 3, 2 ** -126]);
    const tensors = new Map<string, TensorToWrite>([
      ["layer.b", { shape: [5], data: weird }],
      ["layer.a", { shape: [2, 3], data: Float32Array.from([1, 2, 3, 4, 5, 6]) }],
      ["é.日本", { shape: [1, 1], data: Float32Array.from([0.5]) }],
      ["empty", { shape: [0, 4], data: new Float32Array(0) }],
    ]);
    const bytes = writeSafetensors(tensors, { format: "pt" });
    const n = new DataView(bytes.buffer).getUint32(0, true);
    expect(n % 8).toBe(0);
    const header = new TextDecoder().decode(bytes.subarray(8, 8 + n));
    expect(header.trimEnd().length).toBeGreaterThan(n - 8);
    expect(Object.keys(JSON.parse(header) as object)).toEqual(["__metadata__", "empty", "layer.a", "layer.b", "é.日本"]);
    const back = parseSafetensors(bytes);
    expect(back.metadata).toEqual({ format: "pt" });
    for (const [name, t] of tensors) {
      const r = back.tensors.get(name)!;
      expect(r.shape).toEqual(t.shape);
      expect(new Uint8Array(r.data.buffer, r.data.byteOffset, r.data.byteLength)).toEqual(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength));
    }
    expect(Object.is(back.tensors.get("layer.b")!.data[0], -0)).toBe(true);
  });

  it("is zero-copy where the data is 4-aligned, and copies (same values) where it is not", () => {
    const bytes = writeSafetensors(one("w", [3], [1, 2, 3]));
    const aligned = parseSafetensors(bytes).tensors.get("w")!.data;
    expect(aligned.buffer).toBe(bytes.buffer);
    const shifted = new Uint8Array(bytes.length + 1);
    shifted.set(bytes, 1);
    const off = parseSafetensors(shifted.subarray(1)).tensors.get("w")!.data;
    expect(off.buffer).not.toBe(shifted.buffer);
    expect([...off]).toEqual([1, 2, 3]);
  });

  it("widens F16 exactly, subnormals and extremes included", () => {
    expect(halfToFloat(0x0001)).toBe(2 ** -24);
    expect(halfToFloat(0x03ff)).toBe(1023 * 2 ** -24);
    expect(halfToFloat(0x7bff)).toBe(65504);
    expect(halfToFloat(0xfbff)).toBe(-65504);
    expect(halfToFloat(0x3555)).toBeCloseTo(1 / 3, 3);
    expect(Object.is(halfToFloat(0x8000), -0)).toBe(true);
    expect(halfToFloat(0x7c00)).toBe(Infinity);
    expect(halfToFloat(0x7e00)).toBeNaN();
  });

  it("refuses to write what it could not read back", () => {
    expectNames(catchModelError(() => writeSafetensors(one("w", [2, 2], [1, 2, 3]))), FILE, "w");
    const nan = catchModelError(() => writeSafetensors(one("w", [2], [1, NaN])));
    expectNames(nan, FILE, "w");
    expect(nan.message).toContain("index 1");
    expectNames(catchModelError(() => writeSafetensors(one("__metadata__", [1], [1]))), FILE);
    expectNames(catchModelError(() => writeSafetensors(one("w", [-1], []))), FILE, "w");
  });
});

/** A valid two-tensor file to damage: a [2, 2] then b [3]. */
function validHeader(): string {
  return '{"a":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]},"b":{"dtype":"F32","shape":[3],"data_offsets":[16,28]}}';
}
const DATA = f32Bytes([1, 2, 3, 4, 5, 6, 7]);

describe("safetensors: hostile files are ModelErrors naming the file and the tensor", () => {
  it("passes the valid base file (so the cases below fail for their own reason)", () => {
    expect(parseSafetensors(rawSafetensors(validHeader(), DATA)).tensors.size).toBe(2);
  });

  it("too short for the header length", () => {
    const e = catchModelError(() => parseSafetensors(new Uint8Array(5)));
    expectNames(e, FILE);
    expect(e.message).toContain("5 bytes");
  });

  it("header length over 100 MB, or with high bits set, is refused before anything is read", () => {
    const big = rawSafetensors(validHeader(), DATA, MAX_HEADER_BYTES + 1);
    expect(catchModelError(() => parseSafetensors(big)).message).toContain("over the 100000000-byte limit");
    const huge = rawSafetensors(validHeader(), DATA);
    new DataView(huge.buffer).setUint32(4, 1, true);
    expect(catchModelError(() => parseSafetensors(huge)).message).toContain(`header length ${2 ** 32 + validHeader().length}`);
  });

  it("header length beyond the end of the file", () => {
    const e = catchModelError(() => parseSafetensors(rawSafetensors(validHeader(), DATA, 10_000)));
    expect(e.message).toContain("runs past the end of the file");
  });

  it("header that is not UTF-8, not JSON, or not an object", () => {
    const bad = rawSafetensors(validHeader(), DATA);
    bad[9] = 0xff;
    expect(catchModelError(() => parseSafetensors(bad)).message).toContain("not valid UTF-8");
    expect(catchModelError(() => parseSafetensors(rawSafetensors('{"a":', []))).message).toContain("not valid JSON");
    expect(catchModelError(() => parseSafetensors(rawSafetensors("[1, 2]", []))).message).toContain("must be a JSON object, got an array");
    expect(catchModelError(() => parseSafetensors(rawSafetensors("null    ", []))).message).toContain("got null");
    expect(catchModelError(() => parseSafetensors(rawSafetensors('"text"', []))).message).toContain("got string");
  });

  it("deeply nested JSON, anywhere in the header", () => {
    const deep = `{"__metadata__":${"[".repeat(100_000)}${"]".repeat(100_000)}}`;
    expect(catchModelError(() => parseSafetensors(rawSafetensors(deep, []))).message).toContain("nests deeper than 16");
    const inShape = `{"a":{"dtype":"F32","shape":${"[".repeat(20)}1${"]".repeat(20)},"data_offsets":[0,4]}}`;
    expect(catchModelError(() => parseSafetensors(rawSafetensors(inShape, f32Bytes([1])))).message).toContain("nests deeper");
  });

  it("duplicate tensor names (JSON.parse would keep the second silently)", () => {
    const dup = '{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}';
    const e = catchModelError(() => parseSafetensors(rawSafetensors(dup, f32Bytes([1, 2]))));
    expectNames(e, FILE, "a");
    expect(e.message).toContain("appears twice");
    const escaped = '{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"\\u0061":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}';
    expectNames(catchModelError(() => parseSafetensors(rawSafetensors(escaped, f32Bytes([1, 2])))), FILE, "a");
    const dupKey = '{"a":{"dtype":"F32","dtype":"F16","shape":[1],"data_offsets":[0,4]}}';
    expect(catchModelError(() => parseSafetensors(rawSafetensors(dupKey, f32Bytes([1])))).message).toContain('key "dtype" appears twice');
  });

  it("an entry that is not an object", () => {
    expectNames(catchModelError(() => parseSafetensors(rawSafetensors('{"a":[1,2]}', []))), FILE, "a");
  });

  it("unknown and unsupported dtypes name the tensor", () => {
    const unknown = catchModelError(() => parseSafetensors(rawSafetensors(validHeader().replace('"F32","shape":[3]', '"F33","shape":[3]'), DATA)));
    expectNames(unknown, FILE, "b");
    expect(unknown.message).toContain('unknown dtype "F33"');
    // The reference test suite's own file: {"test": int32 zeros [2, 2]}.
    const i32 = '{"test":{"dtype":"I32","shape":[2,2],"data_offsets":[0,16]}}    ';
    const e = catchModelError(() => parseSafetensors(rawSafetensors(i32, new Uint8Array(16))));
    expectNames(e, FILE, "test");
    expect(e.message).toContain("dtype I32 is not supported");
    expectNames(catchModelError(() => parseSafetensors(rawSafetensors(validHeader().replace('"dtype":"F32","shape":[2,2]', '"dtype":3,"shape":[2,2]'), DATA))), FILE, "a");
  });

  it.each([["[2.5]"], ['["3"]'], ["[-3]"], ["null"], ["3"], ["[1e300]"]])("shape %s is not a list of integers", (shape) => {
    const e = catchModelError(() => parseSafetensors(rawSafetensors(validHeader().replace('"shape":[3]', `"shape":${shape}`), DATA)));
    expectNames(e, FILE, "b");
    expect(e.message).toContain("shape must be a list");
  });

  it("shape whose size overflows", () => {
    const e = catchModelError(() => parseSafetensors(rawSafetensors(validHeader().replace('"shape":[3]', '"shape":[1073741824,1073741824,1073741824]'), DATA)));
    expectNames(e, FILE, "b");
    expect(e.message).toContain("overflows");
  });

  it.each([["[16]"], ["[16,28,40]"], ["[-4,28]"], ['["16",28]'], ["[28,16]"], ["null"]])("data_offsets %s", (offsets) => {
    const e = catchModelError(() => parseSafetensors(rawSafetensors(validHeader().replace('"data_offsets":[16,28]', `"data_offsets":${offsets}`), DATA)));
    expectNames(e, FILE, "b");
    expect(e.message).toMatch(/data_offsets/);
  });

  it("offsets not matching shape × dtype size", () => {
    const e = catchModelError(() => parseSafetensors(rawSafetensors(validHeader().replace('"shape":[3]', '"shape":[2]'), DATA)));
    expectNames(e, FILE, "b");
    expect(e.message).toContain("shape [2] × F32 is 8 bytes but data_offsets [16, 28] hold 12");
  });

  it("overlapping tensors", () => {
    const h = '{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]},"b":{"dtype":"F32","shape":[4],"data_offsets":[8,24]}}';
    const e = catchModelError(() => parseSafetensors(rawSafetensors(h, f32Bytes([1, 2, 3, 4, 5, 6]))));
    expectNames(e, FILE, "b");
    expect(e.message).toContain("overlap a [0, 16]");
  });

  it("a gap between tensors, and bytes after the last one", () => {
    const gap = '{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}}';
    const e = catchModelError(() => parseSafetensors(rawSafetensors(gap, f32Bytes([1, 2, 3]))));
    expectNames(e, FILE, "b");
    expect(e.message).toContain("gap of 4 bytes");
    const trailing = catchModelError(() => parseSafetensors(concatBytes(rawSafetensors(validHeader(), DATA), new Uint8Array(4))));
    expect(trailing.message).toContain("4 bytes at the end belong to no tensor");
  });

  it("a truncated file names the tensor that runs past the end", () => {
    const whole = rawSafetensors(validHeader(), DATA);
    for (const cut of [1, 4, 12]) {
      const e = catchModelError(() => parseSafetensors(whole.subarray(0, whole.length - cut)));
      expectNames(e, FILE, "b");
      expect(e.message).toContain("file truncated?");
    }
    const e = catchModelError(() => parseSafetensors(whole.subarray(0, 8 + validHeader().length + 10)));
    expectNames(e, FILE, "a");
  });

  it("non-finite values name the tensor, the first bad index and its coordinates", () => {
    const nan = catchModelError(() => parseSafetensors(rawSafetensors(validHeader(), f32Bytes([1, 2, 3, NaN, 5, Infinity, 7]))));
    expectNames(nan, FILE, "a");
    expect(nan.message).toContain("NaN at index 3 ([1, 1])");
    const inf = catchModelError(() => parseSafetensors(rawSafetensors(validHeader(), f32Bytes([1, 2, 3, 4, 5, -Infinity, 7]))));
    expectNames(inf, FILE, "b");
    expect(inf.message).toContain("-Infinity at index 1 ([1])");
    const f16 = '{"h":{"dtype":"F16","shape":[3],"data_offsets":[0,6]}}';
    expect(catchModelError(() => parseSafetensors(rawSafetensors(f16, u16Bytes([0x3c00, 0x3c00, 0x7c00])))).message).toContain("Infinity at index 2");
    const bf16 = '{"g":{"dtype":"BF16","shape":[2],"data_offsets":[0,4]}}';
    expect(catchModelError(() => parseSafetensors(rawSafetensors(bf16, u16Bytes([0x7fc0, 0x3f80])))).message).toContain("NaN at index 0");
  });

  it("__metadata__ values must be strings", () => {
    const h = '{"__metadata__":{"format":1},"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}';
    expect(catchModelError(() => parseSafetensors(rawSafetensors(h, f32Bytes([1])))).message).toContain("__metadata__.format must be a string");
  });

  it("a megabyte-long tensor name is clipped in the message", () => {
    const name = "x".repeat(1 << 20);
    const e = catchModelError(() => parseSafetensors(rawSafetensors(`{"${name}":{"dtype":"F99","shape":[1],"data_offsets":[0,4]}}`, f32Bytes([1]))));
    expect(e.tensor).toBe(`${"x".repeat(197)}...`);
    expect(e.message.length).toBeLessThan(300);
  });

  it("names the file the caller gives", () => {
    const e = catchModelError(() => parseSafetensors(new Uint8Array(3), "shard-2.safetensors"));
    expectNames(e, "shard-2.safetensors");
  });
});
