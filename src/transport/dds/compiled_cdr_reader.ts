import { CdrReader } from "@foxglove/cdr";
import type { MessageDefinition, MessageDefinitionField } from "@foxglove/message-definition";
import { cdrDefinitions } from "./compiled_cdr_definitions.js";

/**
 * A CDR decoder compiled from a message definition: the same reads, in the same order, on the
 * same CdrReader as @foxglove/rosmsg2-serialization's MessageReader, so it decodes every sample
 * to the same message and fails on the same ones. Why: MessageReader interprets the definition
 * for every message (a Map lookup per field, private fields through WeakMaps, properties set by
 * name one at a time: megamorphic stores); on the camera path that cost ~10-25 us per message,
 * most of a sample's decoding. Compiled, each type is one function returning an object literal
 * of a fixed shape, which V8 optimises like hand-written code.
 *
 * Byte and numeric arrays are views of the sample where the reader makes views (images stay
 * zero-copy). Short ASCII strings are read without the TextDecoder call (same text; anything
 * else still goes through it).
 */
export interface CompiledCdrReader {
  /**
   * The message in `bytes` (a CDR sample with its 4-byte encapsulation header). With
   * `impliedHeader` those 4 bytes are not read (they may be anything): the body is plain CDR
   * (XCDR1) in this host's byte order, see impliedNativeHeader.
   */
  readMessage(bytes: ArrayBufferView, impliedHeader?: boolean): unknown;
  /** Bytes the last readMessage consumed (header included). */
  lastReadByteLength(): number;
}

/** What the compiled functions get besides the reader: helpers and the errors MessageReader throws. */
interface Helpers {
  str: (r: CdrReader) => string;
  strs: (r: CdrReader, n: number) => string[];
  bools: (r: CdrReader, n: number) => boolean[];
  times: (r: CdrReader, n: number) => { sec: number; nanosec: number }[];
  seq: (r: CdrReader, n: number, read: (r: CdrReader) => unknown) => unknown[];
  fail: (message: string) => never;
}

const textDecoder = new TextDecoder("utf8");

/**
 * What CdrReader's constructor derives from the encapsulation header (@foxglove/cdr 3.x; private
 * in its typings, plain properties at run time).
 */
interface HeaderFields {
  littleEndian: boolean;
  isCDR2: boolean;
  eightByteAlignment: number;
  usesDelimiterHeader: boolean;
  usesMemberHeader: boolean;
}
const HEADER_FIELDS = ["littleEndian", "isCDR2", "eightByteAlignment", "usesDelimiterHeader", "usesMemberHeader"] as const;
const HOST_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
/** A reader on a native plain-CDR header: what an implied header must give. */
const NATIVE = new CdrReader(new Uint8Array([0, HOST_LITTLE_ENDIAN ? 1 : 0, 0, 0])) as unknown as HeaderFields;

/**
 * Makes `r` read its sample as if its header were native plain CDR (XCDR1), whatever its first 4
 * bytes are. Why: a large sample received over Cyclone's shared memory is lent straight from its
 * iceoryx chunk, which holds the CDR body alone (the writer's, i.e. this host's, byte order;
 * ROS 2 types are final structs, so XCDR1); the addon's view starts 4 bytes before the body, so
 * the body keeps its usual offset and 8-byte alignment, but those bytes belong to iceoryx and
 * cannot be overwritten with a header (native/src/reader.cc, LendChunk). The reader's offset
 * and alignment origin (4) are the constructor's and stay.
 */
function impliedNativeHeader(r: CdrReader): void {
  const f = r as unknown as HeaderFields;
  f.littleEndian = NATIVE.littleEndian;
  f.isCDR2 = NATIVE.isCDR2;
  f.eightByteAlignment = NATIVE.eightByteAlignment;
  f.usesDelimiterHeader = NATIVE.usesDelimiterHeader;
  f.usesMemberHeader = NATIVE.usesMemberHeader;
}

/**
 * Checked once at load, so a @foxglove/cdr that derives other or differently named fields from
 * the header fails loudly here instead of misreading shared-memory samples: a reader made on
 * another header and then given the implied one must equal the native reader in every property
 * but its view.
 */
function checkImpliedHeader(): void {
  const native = NATIVE as unknown as Record<string, unknown>;
  for (const k of HEADER_FIELDS) {
    if (!Object.prototype.hasOwnProperty.call(native, k)) throw new Error(`@foxglove/cdr's CdrReader has no ${k}: update impliedNativeHeader (compiled_cdr_reader.ts)`);
  }
  for (const kind of [0x00, 0x01, 0x02, 0x03, 0x07, 0x0a, 0x0b, 0x28]) {
    const other = new CdrReader(new Uint8Array([0, kind, 0, 0])) as unknown as Record<string, unknown>;
    impliedNativeHeader(other as unknown as CdrReader);
    const keys = new Set([...Object.keys(native), ...Object.keys(other)]);
    for (const k of keys) {
      if (k !== "view" && native[k] !== other[k]) throw new Error(`@foxglove/cdr's CdrReader derives ${k} from the header: update impliedNativeHeader (compiled_cdr_reader.ts)`);
    }
  }
}
checkImpliedHeader();
/** Up to this many bytes a string is read byte by byte when it is ASCII. */
const SHORT_STRING_BYTES = 48;

/** Same result as CdrReader.string(): a short ASCII string without the TextDecoder call. */
function readString(r: CdrReader): string {
  const length = r.uint32();
  const n = length - 1;
  const view = (r as unknown as { view: DataView }).view;
  const at = (r as unknown as { offset: number }).offset;
  if (length > 1 && n <= SHORT_STRING_BYTES && at + n <= view.byteLength) {
    let s = "";
    let i = 0;
    for (; i < n; i++) {
      const c = view.getUint8(at + i);
      if (c >= 0x80) break;
      s += String.fromCharCode(c);
    }
    if (i === n) {
      (r as unknown as { offset: number }).offset = at + length;
      return s;
    }
  }
  return r.string(length);
}

const HELPERS: Helpers = {
  str: readString,
  strs: (r, n) => {
    const a = new Array<string>(n);
    for (let i = 0; i < n; i++) a[i] = readString(r);
    return a;
  },
  bools: (r, n) => {
    const a = new Array<boolean>(n);
    for (let i = 0; i < n; i++) a[i] = Boolean(r.int8());
    return a;
  },
  times: (r, n) => {
    const a = new Array<{ sec: number; nanosec: number }>(n);
    for (let i = 0; i < n; i++) {
      const sec = r.int32();
      const nanosec = r.uint32();
      a[i] = { sec, nanosec };
    }
    return a;
  },
  seq: (r, n, read) => {
    const a: unknown[] = [];
    for (let i = 0; i < n; i++) a.push(read(r));
    return a;
  },
  fail: (message) => {
    throw new Error(message);
  },
};

const SCALAR: Record<string, string> = {
  bool: "Boolean(r.int8())",
  int8: "r.int8()",
  uint8: "r.uint8()",
  int16: "r.int16()",
  uint16: "r.uint16()",
  int32: "r.int32()",
  uint32: "r.uint32()",
  int64: "r.int64()",
  uint64: "r.uint64()",
  float32: "r.float32()",
  float64: "r.float64()",
  string: "h.str(r)",
  time: "{ sec: r.int32(), nanosec: r.uint32() }",
  duration: "{ sec: r.int32(), nanosec: r.uint32() }",
};

const ARRAY: Record<string, (n: string) => string> = {
  bool: (n) => `h.bools(r, ${n})`,
  int8: (n) => `r.int8Array(${n})`,
  uint8: (n) => `r.uint8Array(${n})`,
  int16: (n) => `r.int16Array(${n})`,
  uint16: (n) => `r.uint16Array(${n})`,
  int32: (n) => `r.int32Array(${n})`,
  uint32: (n) => `r.uint32Array(${n})`,
  int64: (n) => `r.int64Array(${n})`,
  uint64: (n) => `r.uint64Array(${n})`,
  float32: (n) => `r.float32Array(${n})`,
  float64: (n) => `r.float64Array(${n})`,
  string: (n) => `h.strs(r, ${n})`,
  time: (n) => `h.times(r, ${n})`,
  duration: (n) => `h.times(r, ${n})`,
};

/** Compiles the reader of the first non-constant definition (the root), as MessageReader picks it. */
export function compileCdrReader(definitions: readonly MessageDefinition[]): CompiledCdrReader {
  const { root, byName } = cdrDefinitions(definitions);
  const ids = new Map<readonly MessageDefinitionField[], number>();
  const bodies: string[] = [];
  const fail = (message: string) => `h.fail(${JSON.stringify(message)})`;

  const functionOf = (fields: readonly MessageDefinitionField[]): string => {
    let id = ids.get(fields);
    if (id === undefined) {
      id = ids.size;
      ids.set(fields, id);
      bodies.push("");
      bodies[id] = `function t${id}(r) { ${bodyOf(fields)} }`;
    }
    return `t${id}`;
  };

  // MessageReader throws for unknown types only when it reaches the field: so does the compiled code.
  const valueOf = (f: MessageDefinitionField): string => {
    const count = f.arrayLength != null ? String(f.arrayLength) : "r.sequenceLength()";
    if (f.isComplex === true) {
      const nested = byName.get(f.type);
      if (nested === undefined) return fail(`Unrecognized complex type ${f.type}`);
      const fn = functionOf(nested);
      return f.isArray === true ? `h.seq(r, ${count}, ${fn})` : `${fn}(r)`;
    }
    if (f.type === "wstring") return fail("wstring is implementation-defined and therefore not supported");
    if (f.isArray === true) {
      const array = Object.prototype.hasOwnProperty.call(ARRAY, f.type) ? ARRAY[f.type] : undefined;
      return array ? array(count) : fail(`Unrecognized primitive array type ${f.type}[]`);
    }
    const scalar = Object.prototype.hasOwnProperty.call(SCALAR, f.type) ? SCALAR[f.type] : undefined;
    return scalar ?? fail(`Unrecognized primitive type ${f.type}`);
  };

  const bodyOf = (fields: readonly MessageDefinitionField[]): string => {
    const data = fields.filter((f) => f.isConstant !== true);
    // ROS 2 gives an empty message one uint8 member on the wire.
    if (data.length === 0) return "r.uint8(); return {};";
    // Object literal properties are evaluated in order: the reads happen field by field.
    return `return { ${data.map((f) => `${JSON.stringify(f.name)}: ${valueOf(f)}`).join(", ")} };`;
  };

  const rootFn = functionOf(root.definitions);
  // The source is built above from parsed definitions only (names quoted by JSON.stringify).
  const read = new Function("h", `"use strict";\n${bodies.join("\n")}\nreturn ${rootFn};`)(HELPERS) as (r: CdrReader) => unknown;
  let last = 0;
  return {
    readMessage(bytes: ArrayBufferView, impliedHeader = false): unknown {
      const reader = new CdrReader(bytes);
      if (impliedHeader) impliedNativeHeader(reader);
      const msg = read(reader);
      last = reader.decodedBytes;
      return msg;
    },
    lastReadByteLength: () => last,
  };
}
