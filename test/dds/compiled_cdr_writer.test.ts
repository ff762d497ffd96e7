import { describe, expect, it } from "vitest";
import { parse } from "@foxglove/rosmsg";
import type { MessageDefinition, MessageDefinitionField } from "@foxglove/message-definition";
import { MessageWriter } from "@foxglove/rosmsg2-serialization";
import { MSG_DEFINITIONS, type MessageTypeName } from "../../src/msgs/generated.js";
import "../../src/msgs/cdr_utf8_fix.js";
import { compileCdrWriter } from "../../src/transport/dds/compiled_cdr_writer.js";
import { Rng } from "../../sim/index.js";

const TYPES = Object.keys(MSG_DEFINITIONS) as MessageTypeName[];
const STRINGS = ["", "a", "camera_color_optical_frame", "café", "°C", "x".repeat(49)];

/** Odd values a message may carry: wrong types, missing, null, typed arrays of another type. */
const ODD: (() => unknown)[] = [
  () => undefined, () => null, () => "7", () => 7, () => 3.5, () => -1, () => true, () => 5n, () => ({}), () => [],
  () => [1, 2, 3], () => ["a", 2], () => new Float32Array([1, 2]), () => new Uint8Array([9, 8, 7]), () => new Uint8ClampedArray([300, 2]),
  () => new Float64Array(9), () => new Int16Array([-5]), () => [true, false], () => ({ sec: 3, nsec: 4 }), () => [{ sec: 1, nanosec: 2 }],
];

function randomMessage(defs: Map<string, MessageDefinitionField[]>, fields: readonly MessageDefinitionField[], rng: Rng, odd: number): Record<string, unknown> {
  const msg: Record<string, unknown> = {};
  for (const f of fields) {
    if (f.isConstant === true) continue;
    if (rng.next() < odd) {
      const v = ODD[rng.int(0, ODD.length - 1)]();
      if (v !== undefined || rng.next() < 0.5) msg[f.name] = v;
      continue;
    }
    const one = (): unknown => {
      if (f.isComplex === true) return randomMessage(defs, defs.get(f.type)!, rng, odd);
      switch (f.type) {
        case "bool": return rng.next() < 0.5;
        case "string": return STRINGS[rng.int(0, STRINGS.length - 1)];
        case "int64": case "uint64": return rng.next() < 0.5 ? BigInt(rng.int(0, 1e6)) : rng.int(0, 1e6);
        case "float32": case "float64": return rng.uniform(-1e6, 1e6);
        case "int8": return rng.int(-128, 127);
        case "int16": return rng.int(-32768, 32767);
        case "int32": return rng.int(-1e9, 1e9);
        case "time": case "duration": return { sec: rng.int(0, 1e9), nanosec: rng.int(0, 999_999_999) };
        default: return rng.int(0, 255);
      }
    };
    if (f.isArray === true) {
      const n = f.arrayLength ?? rng.int(0, 3);
      const values = Array.from({ length: n }, one);
      // Numeric fields are often typed arrays in practice (images, CameraInfo.k).
      msg[f.name] = f.type === "uint8" && rng.next() < 0.5 ? new Uint8Array(values as number[]) : f.type === "float64" && rng.next() < 0.5 ? new Float64Array(values as number[]) : values;
    } else {
      msg[f.name] = one();
    }
  }
  return msg;
}

const rootOf = (defs: MessageDefinition[]) => defs.find((d) => !(d.definitions.length > 0 && d.definitions.every((f) => f.isConstant === true)))!;

/** The library's bytes and size, or that it threw. */
function outcome(write: () => Uint8Array): { ok: true; bytes: Buffer } | { ok: false; message: string } {
  try {
    return { ok: true, bytes: Buffer.from(write()) };
  } catch (e) {
    return { ok: false, message: (e as Error).message };
  }
}

describe("compiled CDR writer", () => {
  it("writes every generated type byte for byte as the library's MessageWriter, and sizes it the same", () => {
    const rng = new Rng(21);
    for (const type of TYPES) {
      const defs = parse(MSG_DEFINITIONS[type], { ros2: true });
      const byName = new Map(defs.map((d) => [d.name ?? "", d.definitions]));
      const reference = new MessageWriter(defs);
      const compiled = compileCdrWriter(defs);
      for (let k = 0; k < 12; k++) {
        const m = randomMessage(byName, rootOf(defs).definitions, rng, 0);
        expect(compiled.calculateByteSize(m), type).toBe(reference.calculateByteSize(m));
        expect(Buffer.from(compiled.writeMessage(m)).equals(Buffer.from(reference.writeMessage(m))), type).toBe(true);
      }
    }
  });

  it("hostile messages: wrong types, nulls, missing fields, fixed arrays of the wrong length - same bytes, same size, or the same error", () => {
    const rng = new Rng(22);
    let refused = 0;
    for (const type of TYPES) {
      const defs = parse(MSG_DEFINITIONS[type], { ros2: true });
      const byName = new Map(defs.map((d) => [d.name ?? "", d.definitions]));
      const reference = new MessageWriter(defs);
      const compiled = compileCdrWriter(defs);
      for (let k = 0; k < 60; k++) {
        const m = k === 0 ? null : k === 1 ? {} : randomMessage(byName, rootOf(defs).definitions, rng, 0.3);
        const a = outcome(() => reference.writeMessage(m));
        const b = outcome(() => compiled.writeMessage(m));
        expect(b, `${type} #${k}`).toEqual(a);
        const size = (w: { calculateByteSize(m: unknown): number }) => {
          try {
            return w.calculateByteSize(m);
          } catch (e) {
            return (e as Error).message;
          }
        };
        expect(size(compiled), `${type} #${k} size`).toEqual(size(reference));
        if (!a.ok) refused++;
      }
    }
    // Fixed-length arrays given another length are refused by both: the fuzz reaches that path.
    expect(refused).toBeGreaterThan(0);
  });

  it("hostile messages written as the library writes them: typed arrays of another type, clamped bytes, fixed arrays of the wrong length", () => {
    const cases: [MessageTypeName, Record<string, unknown>][] = [
      ["sensor_msgs/msg/Image", { height: 1, width: 2, encoding: "rgb8", step: 6, data: new Uint8ClampedArray([300, 2, -4]) }],
      ["sensor_msgs/msg/Image", { data: [1, 2, 257] }],
      ["sensor_msgs/msg/Image", { data: new Uint16Array([1, 2]) }],
      ["sensor_msgs/msg/CameraInfo", { k: new Float32Array(9).fill(1.5) }],
      ["sensor_msgs/msg/CameraInfo", { k: new Float64Array(8) }],
      ["sensor_msgs/msg/CameraInfo", { k: "123456789" }],
      ["sensor_msgs/msg/CameraInfo", { d: [1, "x", null], k: [1, 2, 3, 4, 5, 6, 7, 8, 9] }],
      ["std_msgs/msg/String", { data: 42 }],
    ];
    for (const [type, m] of cases) {
      const defs = parse(MSG_DEFINITIONS[type], { ros2: true });
      expect(outcome(() => compileCdrWriter(defs).writeMessage(m)), `${type} ${JSON.stringify(Object.keys(m))}`).toEqual(outcome(() => new MessageWriter(defs).writeMessage(m)));
    }
  });

  it("writes into a given buffer from its start, growing a copy when it is too small", () => {
    const defs = parse(MSG_DEFINITIONS["std_msgs/msg/String"], { ros2: true });
    const compiled = compileCdrWriter(defs);
    const scratch = new ArrayBuffer(64);
    const small = compiled.writeMessage({ data: "hi" }, scratch);
    expect(small.buffer).toBe(scratch);
    expect(Buffer.from(small).equals(Buffer.from(new MessageWriter(defs).writeMessage({ data: "hi" })))).toBe(true);
    const big = compiled.writeMessage({ data: "z".repeat(100) }, scratch);
    expect(big.buffer).not.toBe(scratch);
    expect(big.byteLength).toBe(compiled.calculateByteSize({ data: "z".repeat(100) }));
  });

  it("refuses what the library refuses: wstring, unknown nested types", () => {
    const w = compileCdrWriter(parse("wstring a", { ros2: true }));
    expect(() => w.writeMessage({ a: "x" })).toThrow(/wstring/);
    expect(() => w.calculateByteSize({ a: "x" })).toThrow(/wstring/);
    const unknown = compileCdrWriter([{ definitions: [{ name: "a", type: "pkg/Missing", isComplex: true }] }]);
    expect(() => unknown.writeMessage({ a: {} })).toThrow(/Unrecognized complex type pkg\/Missing/);
  });
});
