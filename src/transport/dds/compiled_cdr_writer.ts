import { CdrWriter } from "@foxglove/cdr";
import type { MessageDefinition, MessageDefinitionField } from "@foxglove/message-definition";
import { cdrDefinitions } from "./compiled_cdr_definitions.js";

/**
 * A CDR encoder compiled from a message definition: the same sizes, defaults, coercions and
 * CdrWriter calls, in the same order, as @foxglove/rosmsg2-serialization's MessageWriter, so
 * it writes the same bytes for every message and refuses the same ones. Why: MessageWriter
 * interprets the definition per message (Map lookups per field, private fields through
 * WeakMaps, fields read by computed name: megamorphic loads), and every frame the node encodes
 * its scene, 3D detections and reward. Compiled, each type is two functions (size, write) with
 * fixed property names. The per-value writers below coerce and default exactly as MessageWriter
 * does (its error texts included), since the tests hold both to the same bytes and errors.
 */
export interface CompiledCdrWriter {
  /** Bytes the message takes, header included (a lower bound for non-ASCII strings, as the library's). */
  calculateByteSize(message: unknown): number;
  /** Writes into `output` from its start when given (it grows a copy if too small), else into a new buffer. */
  writeMessage(message: unknown, output?: ArrayBuffer): Uint8Array;
}

type W = CdrWriter;
type Time = { sec?: number; nsec?: number; nanosec?: number } | undefined;

function fieldLength(value: unknown): number {
  const length = (value as { length?: unknown } | undefined)?.length;
  return typeof length === "number" ? length : 0;
}
function padding(offset: number, byteWidth: number): number {
  // Alignment is counted from the end of the 4-byte encapsulation header.
  const alignment = (offset - 4) % byteWidth;
  return alignment > 0 ? byteWidth - alignment : 0;
}
function throwOnWstring(): never {
  throw new Error("wstring is implementation-defined and therefore not supported");
}
const num = (value: unknown, d: unknown): number => (typeof value === "number" ? value : ((d as number | undefined) ?? 0));
const big = (value: unknown, d: unknown): bigint => (typeof value === "bigint" ? value : typeof value === "number" ? BigInt(value) : ((d as bigint | undefined) ?? 0n));
function time(value: unknown, _d: unknown, w: W): void {
  if (value == undefined) {
    w.int32(0);
    w.uint32(0);
    return;
  }
  const t = value as Time & object;
  w.int32(t.sec ?? 0);
  w.uint32(t.nsec ?? t.nanosec ?? 0);
}

type ScalarWriter = (value: unknown, d: unknown, w: W) => void;
const SCALAR: Record<string, ScalarWriter> = {
  bool: (v, d, w) => void w.int8((typeof v === "boolean" ? v : ((d as boolean | undefined) ?? false)) ? 1 : 0),
  int8: (v, d, w) => void w.int8(num(v, d)),
  uint8: (v, d, w) => void w.uint8(num(v, d)),
  int16: (v, d, w) => void w.int16(num(v, d)),
  uint16: (v, d, w) => void w.uint16(num(v, d)),
  int32: (v, d, w) => void w.int32(num(v, d)),
  uint32: (v, d, w) => void w.uint32(num(v, d)),
  int64: (v, d, w) => void w.int64(big(v, d)),
  uint64: (v, d, w) => void w.uint64(big(v, d)),
  float32: (v, d, w) => void w.float32(num(v, d)),
  float64: (v, d, w) => void w.float64(num(v, d)),
  string: (v, d, w) => void w.string(typeof v === "string" ? v : ((d as string | undefined) ?? "")),
  time,
  duration: time,
  wstring: throwOnWstring,
};

type ArrayWriter = (value: unknown, d: unknown, w: W, arrayLength: number | undefined) => void;
type TypedCtor = { new (n: number): ArrayLike<unknown> & { fill(v: unknown): unknown }; new (a: ArrayLike<unknown>): ArrayLike<unknown> };
/** MessageWriter's typed array writers: the exact type as is, a plain array converted, else the default or zeros. */
function typed(ctor: TypedCtor, write: (w: W, a: never) => void, zero: unknown, clamped = false): ArrayWriter {
  return (value, d, w, arrayLength) => {
    if (value instanceof (ctor as unknown as typeof Uint8Array)) write(w, value as never);
    else if (clamped && value instanceof Uint8ClampedArray) write(w, new Uint8Array(value) as never);
    else if (Array.isArray(value)) write(w, new ctor(value as ArrayLike<unknown>) as never);
    else write(w, (d ?? new ctor(arrayLength ?? 0).fill(zero)) as never);
  };
}
const ARRAY: Record<string, ArrayWriter> = {
  bool: (value, d, w, arrayLength) => {
    if (Array.isArray(value)) w.int8Array(new Int8Array(value as number[]));
    else w.int8Array((d ?? new Int8Array(arrayLength ?? 0).fill(0)) as Int8Array);
  },
  int8: typed(Int8Array as unknown as TypedCtor, (w, a: Int8Array) => void w.int8Array(a), 0),
  uint8: typed(Uint8Array as unknown as TypedCtor, (w, a: Uint8Array) => void w.uint8Array(a), 0, true),
  int16: typed(Int16Array as unknown as TypedCtor, (w, a: Int16Array) => void w.int16Array(a), 0),
  uint16: typed(Uint16Array as unknown as TypedCtor, (w, a: Uint16Array) => void w.uint16Array(a), 0),
  int32: typed(Int32Array as unknown as TypedCtor, (w, a: Int32Array) => void w.int32Array(a), 0),
  uint32: typed(Uint32Array as unknown as TypedCtor, (w, a: Uint32Array) => void w.uint32Array(a), 0),
  int64: typed(BigInt64Array as unknown as TypedCtor, (w, a: BigInt64Array) => void w.int64Array(a), 0n),
  uint64: typed(BigUint64Array as unknown as TypedCtor, (w, a: BigUint64Array) => void w.uint64Array(a), 0n),
  float32: typed(Float32Array as unknown as TypedCtor, (w, a: Float32Array) => void w.float32Array(a), 0),
  float64: typed(Float64Array as unknown as TypedCtor, (w, a: Float64Array) => void w.float64Array(a), 0),
  string: (value, d, w, arrayLength) => {
    if (Array.isArray(value)) {
      for (const item of value) w.string(typeof item === "string" ? item : "");
    } else {
      for (const item of (d ?? new Array<string>(arrayLength ?? 0).fill("")) as string[]) w.string(item);
    }
  },
  time: (value, _d, w, arrayLength) => {
    // As the library: `new Array(arrayLength)` of an undefined length is one undefined entry.
    const items: unknown[] = Array.isArray(value) ? value : arrayLength === undefined ? [undefined] : new Array<undefined>(arrayLength).fill(undefined);
    for (const item of items) time(item, undefined, w);
  },
  wstring: throwOnWstring,
};
ARRAY.duration = ARRAY.time;

const SIZES: Record<string, number> = { bool: 1, int8: 1, uint8: 1, int16: 2, uint16: 2, int32: 4, uint32: 4, int64: 8, uint64: 8, float32: 4, float64: 8, time: 8, duration: 8 };

const HELPERS = { fieldLength, padding, SCALAR, ARRAY, fail: (message: string): never => {
  throw new Error(message);
}, wstring: throwOnWstring };

const has = (o: object, k: string) => Object.prototype.hasOwnProperty.call(o, k);

/** Compiles the writer of the first non-constant definition (the root), as MessageWriter picks it. */
export function compileCdrWriter(definitions: readonly MessageDefinition[]): CompiledCdrWriter {
  const { root, byName } = cdrDefinitions(definitions);
  const ids = new Map<readonly MessageDefinitionField[], number>();
  const bodies: string[] = [];
  /** Field default values, referenced by index from the generated code. */
  const defaults: unknown[] = [];
  /** Each field's value writer, bound once to a name (P<k>, A<k>) instead of looked up per message. */
  const binders: string[] = [];
  const fail = (message: string) => `h.fail(${JSON.stringify(message)})`;

  const idOf = (fields: readonly MessageDefinitionField[]): number => {
    let id = ids.get(fields);
    if (id === undefined) {
      id = ids.size;
      ids.set(fields, id);
      bodies.push(`function s${id}(m, o) { ${sizeBody(fields)} }`, `function w${id}(m, w) { ${writeBody(fields)} }`);
    }
    return id;
  };
  const nestedId = (f: MessageDefinitionField): number | string => {
    const nested = byName.get(f.type);
    return nested === undefined ? fail(`Unrecognized complex type ${f.type}`) : idOf(nested);
  };
  /** The library's getPrimitiveSize: wstring and unknown types throw where the size is asked. */
  const primitiveSize = (type: string): string =>
    has(SIZES, type) ? String(SIZES[type]) : type === "wstring" ? "h.wstring()" : fail(`Unrecognized primitive type ${type}`);

  const sizeBody = (fields: readonly MessageDefinitionField[]): string => {
    const data = fields.filter((f) => f.isConstant !== true);
    if (data.length === 0) return "return o + 1;";
    const lines = data.map((f) => {
      const get = `const v = m?.[${JSON.stringify(f.name)}];`;
      const fixed = f.arrayLength != null;
      if (f.isArray === true) {
        let s = `{ ${get} const n = ${fixed ? String(f.arrayLength) : "h.fieldLength(v)"}; const a = Array.isArray(v) || ArrayBuffer.isView(v) ? v : [];`;
        if (!fixed) s += " o += h.padding(o, 4); o += 4;";
        if (f.isComplex === true) {
          const id = nestedId(f);
          s += typeof id === "number" ? ` for (let i = 0; i < n; i++) o = s${id}(a[i] ?? {}, o);` : ` ${id};`;
        } else if (f.type === "string") {
          s += " for (let i = 0; i < n; i++) { const e = a[i] ?? \"\"; o += h.padding(o, 4); o += 4 + e.length + 1; }";
        } else {
          const size = primitiveSize(f.type);
          const align = f.type === "time" || f.type === "duration" ? "4" : size;
          s += ` { const z = ${size}; o += h.padding(o, ${align === size ? "z" : align}); o += z * n; }`;
        }
        return `${s} }`;
      }
      if (f.isComplex === true) {
        const id = nestedId(f);
        return typeof id === "number" ? `{ ${get} o = s${id}(v ?? {}, o); }` : `${id};`;
      }
      if (f.type === "string") return `{ ${get} const e = typeof v === "string" ? v : ""; o += h.padding(o, 4); o += 4 + e.length + 1; }`;
      const size = primitiveSize(f.type);
      const align = f.type === "time" || f.type === "duration" ? "4" : size;
      return `{ const z = ${size}; o += h.padding(o, ${align === size ? "z" : align}); o += z; }`;
    });
    return `${lines.join(" ")} return o;`;
  };

  const writeBody = (fields: readonly MessageDefinitionField[]): string => {
    const data = fields.filter((f) => f.isConstant !== true);
    if (data.length === 0) return "w.uint8(0);";
    return data.map((f) => {
      const get = `const v = m?.[${JSON.stringify(f.name)}];`;
      const d = defaults.push(f.defaultValue) - 1;
      const fixed = f.arrayLength != null;
      if (f.isArray === true) {
        let s = `{ ${get} const n = ${fixed ? String(f.arrayLength) : "h.fieldLength(v)"}; const a = Array.isArray(v) || ArrayBuffer.isView(v) ? v : [];`;
        if (!fixed) s += " w.sequenceLength(n);";
        else {
          const message = `Expected ${f.arrayLength} items for fixed-length array field ${f.name} but received `;
          s += ` if (v != undefined) { const g = h.fieldLength(v); if (g !== ${f.arrayLength}) h.fail(${JSON.stringify(message)} + g); }`;
        }
        if (f.isComplex === true) {
          const id = nestedId(f);
          s += typeof id === "number" ? ` for (let i = 0; i < n; i++) w${id}(a[i] ?? {}, w);` : ` ${id};`;
        } else {
          if (has(ARRAY, f.type)) {
            binders.push(`const A${d} = h.ARRAY[${JSON.stringify(f.type)}];`);
            s += ` A${d}(v, D[${d}], w, ${fixed ? String(f.arrayLength) : "undefined"});`;
          } else {
            s += ` ${fail(`Unrecognized primitive type ${f.type}[]`)};`;
          }
        }
        return `${s} }`;
      }
      if (f.isComplex === true) {
        const id = nestedId(f);
        return typeof id === "number" ? `{ ${get} w${id}(v ?? {}, w); }` : `${id};`;
      }
      if (!has(SCALAR, f.type)) return `${fail(`Unrecognized primitive type ${f.type}`)};`;
      binders.push(`const P${d} = h.SCALAR[${JSON.stringify(f.type)}];`);
      return `{ ${get} P${d}(v, D[${d}], w); }`;
    }).join(" ");
  };

  const rootId = idOf(root.definitions);
  // The source is built above from parsed definitions only (names quoted by JSON.stringify).
  const [size, write] = new Function("h", "D", `"use strict";\n${binders.join("\n")}\n${bodies.join("\n")}\nreturn [s${rootId}, w${rootId}];`)(
    HELPERS, defaults,
  ) as [(m: unknown, o: number) => number, (m: unknown, w: W) => void];
  return {
    calculateByteSize: (message) => size(message, 4),
    writeMessage(message, output) {
      const writer = new CdrWriter({ buffer: output, size: output ? undefined : size(message, 4) });
      write(message, writer);
      return writer.data;
    },
  };
}
