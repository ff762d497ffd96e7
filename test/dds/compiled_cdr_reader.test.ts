import { describe, expect, it } from "vitest";
import { parse } from "@foxglove/rosmsg";
import type { MessageDefinition, MessageDefinitionField } from "@foxglove/message-definition";
import { MessageReader, MessageWriter } from "@foxglove/rosmsg2-serialization";
import { MSG_DEFINITIONS, type MessageTypeName } from "../../src/msgs/generated.js";
import "../../src/msgs/cdr_utf8_fix.js";
import { compileCdrReader } from "../../src/transport/dds/compiled_cdr_reader.js";
import { compileCdrWriter } from "../../src/transport/dds/compiled_cdr_writer.js";
import { Rng } from "../../sim/index.js";

const TYPES = Object.keys(MSG_DEFINITIONS) as MessageTypeName[];
const STRINGS = ["", "a", "camera_color_optical_frame", "café", "°C", "x".repeat(47), "y".repeat(48), "z".repeat(49), "ü".repeat(30), "ascii then é", "\u0000inner nul"];

/** A random message of the definition: every field filled, arrays of 0..3 entries (or their fixed length). */
function randomMessage(defs: Map<string, MessageDefinitionField[]>, fields: readonly MessageDefinitionField[], rng: Rng): Record<string, unknown> {
  const msg: Record<string, unknown> = {};
  for (const f of fields) {
    if (f.isConstant === true) continue;
    const one = (): unknown => {
      if (f.isComplex === true) return randomMessage(defs, defs.get(f.type)!, rng);
      switch (f.type) {
        case "bool": return rng.next() < 0.5;
        case "string": return STRINGS[rng.int(0, STRINGS.length - 1)];
        case "int64": case "uint64": return BigInt(rng.int(0, 1e6));
        case "float32": return Math.fround(rng.uniform(-1e3, 1e3));
        case "float64": return rng.uniform(-1e6, 1e6);
        case "int8": return rng.int(-128, 127);
        case "int16": return rng.int(-32768, 32767);
        case "int32": return rng.int(-1e9, 1e9);
        case "time": case "duration": return { sec: rng.int(0, 1e9), nanosec: rng.int(0, 999_999_999) };
        default: return rng.int(0, 255);
      }
    };
    if (f.isArray === true) {
      const n = f.arrayLength ?? rng.int(0, 3);
      msg[f.name] = Array.from({ length: n }, one);
    } else {
      msg[f.name] = one();
    }
  }
  return msg;
}

function definitionsOf(type: MessageTypeName): MessageDefinition[] {
  return parse(MSG_DEFINITIONS[type], { ros2: true });
}

/** The outcome of a decode: the message, or that it threw (what it threw may differ in wording only). */
function outcome(read: () => unknown): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: read() };
  } catch {
    return { ok: false };
  }
}

describe("compiled CDR reader", () => {
  it("decodes every generated type as the library's MessageReader does, and consumes as many bytes", () => {
    const rng = new Rng(11);
    for (const type of TYPES) {
      const defs = definitionsOf(type);
      const byName = new Map(defs.map((d) => [d.name ?? "", d.definitions]));
      const root = defs.find((d) => !(d.definitions.length > 0 && d.definitions.every((f) => f.isConstant === true)))!;
      const writer = new MessageWriter(defs);
      const reference = new MessageReader(defs);
      const compiled = compileCdrReader(defs);
      for (let k = 0; k < 12; k++) {
        const bytes = writer.writeMessage(randomMessage(byName, root.definitions, rng));
        const want = reference.readMessage(bytes);
        expect(compiled.readMessage(bytes), type).toEqual(want);
        expect(compiled.lastReadByteLength(), type).toBe(reference.lastReadByteLength());
      }
    }
  });

  it("reads strings as CdrReader does: ASCII, UTF-8, around the short-string limit, empty", () => {
    const defs = parse("string a\nstring[] b\nstring c", { ros2: true });
    const writer = new MessageWriter(defs);
    const compiled = compileCdrReader(defs);
    for (const s of STRINGS) {
      const m = { a: s, b: [s, "q", s], c: `${s}!` };
      expect(compiled.readMessage(writer.writeMessage(m))).toEqual(m);
    }
    // Invalid UTF-8 goes through the TextDecoder (replacement characters), as the library reads it.
    const bytes = writer.writeMessage({ a: "abcd", b: [], c: "" });
    bytes[8] = 0xff;
    expect(compiled.readMessage(bytes)).toEqual(new MessageReader(defs).readMessage(bytes));
  });

  it("fuzz: mutated and cut samples decode to the same message as the library's, or both throw", () => {
    const rng = new Rng(12);
    for (const type of ["sensor_msgs/msg/Image", "sensor_msgs/msg/CameraInfo", "spatial_reward_msgs/msg/SceneObjects", "spatial_reward_msgs/msg/InstanceMasks", "diagnostic_msgs/msg/DiagnosticArray", "vision_msgs/msg/Detection3DArray"] as MessageTypeName[]) {
      const defs = definitionsOf(type);
      const byName = new Map(defs.map((d) => [d.name ?? "", d.definitions]));
      const root = defs.find((d) => !(d.definitions.length > 0 && d.definitions.every((f) => f.isConstant === true)))!;
      const writer = new MessageWriter(defs);
      const reference = new MessageReader(defs);
      const compiled = compileCdrReader(defs);
      let threw = 0;
      for (let k = 0; k < 400; k++) {
        const clean = writer.writeMessage(randomMessage(byName, root.definitions, rng));
        const bytes = clean.slice();
        const n = rng.int(1, 4);
        for (let j = 0; j < n; j++) bytes[rng.int(0, bytes.length - 1)] = rng.int(0, 255);
        const sample = rng.next() < 0.3 ? bytes.subarray(0, rng.int(0, bytes.length)) : bytes;
        const a = outcome(() => reference.readMessage(sample));
        const b = outcome(() => compiled.readMessage(sample));
        expect(b.ok, `${type} #${k}`).toBe(a.ok);
        if (a.ok && b.ok) {
          expect(b.value, `${type} #${k}`).toEqual(a.value);
          expect(compiled.lastReadByteLength()).toBe(reference.lastReadByteLength());
        } else {
          threw++;
        }
      }
      // The fuzz reaches the failure paths, not only clean samples.
      expect(threw, type).toBeGreaterThan(0);
    }
  });

  it("fails as the library does on what it cannot read: wstring, a sample without its header", () => {
    const w = compileCdrReader(parse("wstring a", { ros2: true }));
    expect(() => w.readMessage(new Uint8Array([0, 1, 0, 0, 1, 0, 0, 0, 0]))).toThrow(/wstring/);
    expect(() => compileCdrReader(parse("string a", { ros2: true })).readMessage(new Uint8Array(3))).toThrow(/4-byte header/);
  });

  it("refuses field names that are not ROS 2 identifiers (a literal __proto__ key would set the prototype)", () => {
    for (const name of ["__proto__", "", "1x", "a-b", 'x"y', "_hidden", "x y"]) {
      const defs: MessageDefinition[] = [{ definitions: [{ name, type: "uint8", isComplex: false }] }];
      expect(() => compileCdrReader(defs), name).toThrow(/not a ROS 2 field name/);
      expect(() => compileCdrWriter(defs), name).toThrow(/not a ROS 2 field name/);
    }
    // Constants never become keys; a root with an ordinary name still compiles.
    const ok = compileCdrReader([{ definitions: [{ name: "__proto__", type: "uint8", isComplex: false, isConstant: true, value: 1 }, { name: "constructor", type: "uint8", isComplex: false }] }]);
    const msg = ok.readMessage(new Uint8Array([0, 1, 0, 0, 7])) as Record<string, unknown>;
    expect(Object.getPrototypeOf(msg)).toBe(Object.prototype);
    expect(Object.prototype.hasOwnProperty.call(msg, "constructor") && msg.constructor).toBe(7);
  });

  it("gives an empty message its one uint8 member, as ROS 2 puts it on the wire", () => {
    const compiled = compileCdrReader([{ definitions: [] }]);
    const bytes = new Uint8Array([0, 1, 0, 0, 0]);
    expect(compiled.readMessage(bytes)).toEqual({});
    expect(compiled.lastReadByteLength()).toBe(5);
  });
});
