import protobuf from "protobufjs";
import descriptor from "protobufjs/ext/descriptor.js";
import { InvalidInputError } from "../errors.js";
import { MOCAP_PROTO_TEXT, type MocapFrame, type RecorderControl } from "../msgs/mocap_proto.js";

/**
 * Protobuf encoding of mocap frames and recorder control messages, with protobufjs from the
 * embedded msgs/proto/mocap.proto.
 *
 * Decoding takes bytes off the network, so it is defensive in layers:
 * 1. the payload size is checked before anything is parsed;
 * 2. one pass over the wire format, driven by the schema, checks it is well formed (varints,
 *    lengths, tags), that the known fields carry their declared wire types and enum values,
 *    and counts repeated elements and string lengths against the limits, all without
 *    allocating; it only descends into fields the schema says are messages, so nesting is
 *    bounded by the schema (4 levels), whatever the bytes say;
 * 3. protobufjs decodes (its own checks: UTF-8, recursion limit);
 * 4. the result is copied into plain objects with every field present (src/msgs/mocap_proto.ts).
 * Every failure is a MocapPayloadError; nothing else escapes, whatever the bytes.
 *
 * 64-bit integers: protobufjs decodes them to a `Long` object when the `long` package is
 * loaded and to a lossy `number` otherwise. The codec reads them itself (the two 32-bit halves
 * of the varint → bigint), so frame numbers and nanosecond stamps are exact up to 2^64 − 1
 * either way, and writes bigints as their two halves.
 */

export type MocapPayloadErrorCode = "payload_too_large" | "bad_message" | "wrong_schema";

/**
 * A payload that cannot be used: `payload_too_large` (bytes, a repeated field's count or a
 * string over the limits), `bad_message` (not well-formed protobuf) or `wrong_schema`
 * (well-formed, but not this message: a known field with another wire type, an unknown enum
 * value, a group, or no field the schema knows).
 */
export class MocapPayloadError extends InvalidInputError {
  declare readonly code: MocapPayloadErrorCode;
  /** Size of the rejected payload. */
  readonly byteLength: number;
  constructor(code: MocapPayloadErrorCode, message: string, byteLength: number) {
    super(code, message);
    this.byteLength = byteLength;
  }
}

/** What a decoder accepts. All counts are per payload. */
export interface MocapLimits {
  /** Largest payload parsed at all (bytes). */
  maxPayloadBytes: number;
  /** MocapFrame.rigid_bodies. */
  maxRigidBodies: number;
  /** MocapFrame.markers. */
  maxMarkers: number;
  /** MocapFrame.skeletons. */
  maxSkeletons: number;
  /** Skeleton.joints, summed over the frame's skeletons. */
  maxJoints: number;
  /** Any string field (names, stream id, task), UTF-8 bytes. */
  maxStringBytes: number;
}

export const DEFAULT_MOCAP_LIMITS: Readonly<MocapLimits> = Object.freeze({
  maxPayloadBytes: 1 << 20,
  maxRigidBodies: 1024,
  maxMarkers: 16384,
  maxSkeletons: 64,
  maxJoints: 8192,
  maxStringBytes: 1024,
});

/** Defaults overridden by `partial`; every value must be a positive safe integer (else InvalidInputError "bad_argument"). */
export function resolveMocapLimits(partial: Partial<MocapLimits> = {}): MocapLimits {
  const out: MocapLimits = { ...DEFAULT_MOCAP_LIMITS };
  for (const key of Object.keys(DEFAULT_MOCAP_LIMITS) as (keyof MocapLimits)[]) {
    const v = partial[key];
    if (v === undefined) continue;
    if (typeof v !== "number" || !Number.isSafeInteger(v) || v <= 0) {
      throw new InvalidInputError("bad_argument", `mocap limit ${key} must be a positive integer, got ${String(v)}`);
    }
    out[key] = v;
  }
  return out;
}

export const MOCAP_PACKAGE = "spatial_reward.mocap";
/** Full protobuf name of a mocap frame: the MCAP schema name of mocap channels. */
export const MOCAP_FRAME_TYPE = `${MOCAP_PACKAGE}.MocapFrame`;
export const RECORDER_CONTROL_TYPE = `${MOCAP_PACKAGE}.RecorderControl`;

/** Which limit bounds the occurrences of a field ("Type.field", summed over the payload). */
const COUNT_LIMITS: Readonly<Record<string, keyof MocapLimits>> = {
  "MocapFrame.rigid_bodies": "maxRigidBodies",
  "MocapFrame.markers": "maxMarkers",
  "MocapFrame.skeletons": "maxSkeletons",
  "Skeleton.joints": "maxJoints",
};
const COUNTED = Object.keys(COUNT_LIMITS);

// ---- exact 64-bit integers -------------------------------------------------------------

const TWO_64 = 1n << 64n;
const U32 = 0xffffffffn;

/** Reads a varint of up to 10 bytes as an unsigned 64-bit bigint (bits above 64 dropped, as protobuf does). */
function readVarint64(r: protobuf.Reader): bigint {
  const buf = r.buf;
  let pos = r.pos;
  let lo = 0;
  let hi = 0;
  for (let i = 0; i < 10; i++) {
    if (pos >= r.len) throw new RangeError("varint runs past the end");
    const b = buf[pos++];
    if (i < 4) lo |= (b & 0x7f) << (7 * i);
    else if (i === 4) {
      lo |= (b & 0x0f) << 28;
      hi |= (b & 0x7f) >>> 4;
    } else hi |= (b & 0x7f) << (7 * i - 32);
    if (b < 0x80) {
      r.pos = pos;
      return (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
    }
  }
  throw new RangeError("varint longer than 10 bytes");
}

function readFixed64(r: protobuf.Reader): bigint {
  if (r.pos + 8 > r.len) throw new RangeError("fixed64 runs past the end");
  const b = r.buf;
  const p = r.pos;
  const lo = (b[p] | (b[p + 1] << 8) | (b[p + 2] << 16) | (b[p + 3] << 24)) >>> 0;
  const hi = (b[p + 4] | (b[p + 5] << 8) | (b[p + 6] << 16) | (b[p + 7] << 24)) >>> 0;
  r.pos = p + 8;
  return (BigInt(hi) << 32n) | BigInt(lo);
}

/** A Reader whose 64-bit reads return exact bigints. The generated decoders call these by name. */
class BigIntReader extends protobuf.Reader {}
{
  const proto = BigIntReader.prototype as unknown as Record<string, (this: protobuf.Reader) => bigint>;
  proto.uint64 = function () {
    return readVarint64(this);
  };
  proto.int64 = function () {
    return BigInt.asIntN(64, readVarint64(this));
  };
  proto.sint64 = function () {
    const u = readVarint64(this);
    return (u >> 1n) ^ -(u & 1n);
  };
  proto.fixed64 = function () {
    return readFixed64(this);
  };
  proto.sfixed64 = function () {
    return BigInt.asIntN(64, readFixed64(this));
  };
}

/** A bigint as the {low, high} pair protobufjs's LongBits.from takes (two's complement for negatives). */
function bits(v: unknown, signed: boolean): unknown {
  if (typeof v !== "bigint") return v;
  const min = signed ? -(1n << 63n) : 0n;
  const max = signed ? (1n << 63n) - 1n : TWO_64 - 1n;
  if (v < min || v > max) throw new InvalidInputError("bad_argument", `${v} does not fit a ${signed ? "signed" : "unsigned"} 64-bit field`);
  const u = BigInt.asUintN(64, v);
  return { low: Number(u & U32) | 0, high: Number(u >> 32n) | 0, unsigned: !signed };
}

/** A Writer that takes bigints for 64-bit fields (protobufjs would silently write 0 for them). */
class BigIntWriter extends protobuf.Writer {}
{
  const proto = BigIntWriter.prototype as unknown as Record<string, (this: protobuf.Writer, v: unknown) => protobuf.Writer>;
  const base = protobuf.Writer.prototype as unknown as Record<string, (this: protobuf.Writer, v: unknown) => protobuf.Writer>;
  for (const [name, signed] of [["uint64", false], ["fixed64", false], ["int64", true], ["sint64", true], ["sfixed64", true]] as const) {
    const write = base[name];
    proto[name] = function (v: unknown) {
      return write.call(this, bits(v, signed));
    };
  }
}

// ---- the schema, prepared once ------------------------------------------------------------

const LONG_TYPES = new Set(["int64", "uint64", "sint64", "fixed64", "sfixed64"]);

interface FieldPlan {
  readonly name: string;
  readonly repeated: boolean;
  /** Wire type of one element (2 for messages, strings, bytes). */
  readonly wire: number;
  /** A repeated scalar may also arrive packed (wire type 2). */
  readonly packable: boolean;
  readonly child: TypePlan | undefined;
  readonly enumValues: ReadonlySet<number> | undefined;
  readonly isString: boolean;
  readonly isLong: boolean;
  /** Index into the per-payload counters, or −1. */
  readonly counter: number;
  readonly defaultValue: unknown;
}

interface TypePlan {
  readonly type: protobuf.Type;
  readonly name: string;
  readonly fields: ReadonlyMap<number, FieldPlan>;
  readonly list: readonly FieldPlan[];
}

interface Schema {
  readonly root: protobuf.Root;
  readonly frame: TypePlan;
  readonly control: TypePlan;
}

let schema: Schema | undefined;

function plan(type: protobuf.Type, done: Map<protobuf.Type, TypePlan>): TypePlan {
  const cached = done.get(type);
  if (cached) return cached;
  const fields = new Map<number, FieldPlan>();
  const list: FieldPlan[] = [];
  const p: TypePlan = { type, name: type.name, fields, list };
  done.set(type, p);
  for (const f of type.fieldsArray) {
    const resolved = f.resolvedType;
    const child = resolved instanceof protobuf.Type ? plan(resolved, done) : undefined;
    const enumValues = resolved instanceof protobuf.Enum ? new Set(Object.values(resolved.values)) : undefined;
    const basic = (protobuf.types.basic as Record<string, number | undefined>)[f.type];
    const wire = child ? 2 : enumValues ? 0 : basic;
    if (wire === undefined) throw new Error(`mocap schema: no wire type for ${f.fullName} (${f.type})`);
    const countKey = `${type.name}.${f.name}`;
    const fp: FieldPlan = {
      name: f.name,
      repeated: f.repeated,
      wire,
      packable: f.repeated && !child && wire !== 2,
      child,
      enumValues,
      isString: f.type === "string",
      isLong: LONG_TYPES.has(f.type),
      counter: COUNTED.indexOf(countKey),
      defaultValue: f.type === "string" ? "" : f.type === "bool" ? false : f.type === "bytes" ? undefined : 0,
    };
    fields.set(f.id, fp);
    list.push(fp);
  }
  return p;
}

function getSchema(): Schema {
  if (schema) return schema;
  const root = protobuf.parse(MOCAP_PROTO_TEXT, { keepCase: true }).root;
  root.resolveAll();
  const done = new Map<protobuf.Type, TypePlan>();
  schema = {
    root,
    frame: plan(root.lookupType(MOCAP_FRAME_TYPE), done),
    control: plan(root.lookupType(RECORDER_CONTROL_TYPE), done),
  };
  return schema;
}

// ---- the wire scan ------------------------------------------------------------------------

/** Occurrences of the counted fields in the payload being scanned (one decode at a time: JS is single-threaded). */
const counts = new Float64Array(COUNTED.length);

class ScanFailure {
  constructor(readonly code: MocapPayloadErrorCode, readonly message: string) {}
}

function fail(code: MocapPayloadErrorCode, message: string): never {
  throw new ScanFailure(code, message);
}

let varintHi = 0;
/** Reads a varint at pos; returns its low 32 bits (unsigned) and leaves the high 32 in varintHi; −1 when malformed. */
function scanVarint(buf: Uint8Array, pos: number, end: number, at: { pos: number }): number {
  let lo = 0;
  let hi = 0;
  for (let i = 0; i < 10; i++) {
    if (pos >= end) fail("bad_message", `truncated varint at byte ${pos}`);
    const b = buf[pos++];
    if (i < 4) lo |= (b & 0x7f) << (7 * i);
    else if (i === 4) {
      lo |= (b & 0x0f) << 28;
      hi |= (b & 0x7f) >>> 4;
    } else hi |= (b & 0x7f) << (7 * i - 32);
    if (b < 0x80) {
      at.pos = pos;
      varintHi = hi >>> 0;
      return lo >>> 0;
    }
  }
  return fail("bad_message", `varint longer than 10 bytes at byte ${pos - 10}`);
}

const cursor = { pos: 0 };

/** Checks buf[start, end) is a well-formed `p` message; returns how many known fields it holds. */
function scanMessage(p: TypePlan, buf: Uint8Array, start: number, end: number, limits: MocapLimits): number {
  let pos = start;
  let known = 0;
  while (pos < end) {
    const tag = scanVarint(buf, pos, end, cursor);
    const tagAt = pos;
    pos = cursor.pos;
    if (varintHi !== 0) fail("bad_message", `tag beyond 32 bits at byte ${tagAt}`);
    const fieldNo = tag >>> 3;
    const wire = tag & 7;
    if (fieldNo === 0) fail("bad_message", `field number 0 at byte ${tagAt}`);
    const f = p.fields.get(fieldNo);
    if (wire === 3 || wire === 4) fail("wrong_schema", `group (wire type ${wire}) at byte ${tagAt}: ${p.name} is proto3 and has none`);
    if (wire === 6 || wire === 7) fail("bad_message", `invalid wire type ${wire} at byte ${tagAt}`);
    if (f !== undefined && wire !== f.wire && !(wire === 2 && f.packable)) {
      fail("wrong_schema", `${p.name}.${f.name} (field ${fieldNo}) has wire type ${wire}, the schema says ${f.wire}`);
    }
    if (wire === 0) {
      const v = scanVarint(buf, pos, end, cursor);
      pos = cursor.pos;
      if (f?.enumValues !== undefined && !f.enumValues.has(v | 0)) fail("wrong_schema", `${p.name}.${f.name} has value ${v | 0}, not one the schema defines`);
    } else if (wire === 1) {
      if (end - pos < 8) fail("bad_message", `truncated 64-bit field at byte ${tagAt}`);
      pos += 8;
    } else if (wire === 5) {
      if (end - pos < 4) fail("bad_message", `truncated 32-bit field at byte ${tagAt}`);
      pos += 4;
    } else {
      const len = scanVarint(buf, pos, end, cursor);
      pos = cursor.pos;
      if (varintHi !== 0 || len > end - pos) fail("bad_message", `length-delimited field at byte ${tagAt} runs past its end`);
      if (f?.isString && len > limits.maxStringBytes) {
        fail("payload_too_large", `${p.name}.${f.name} is ${len} bytes, more than maxStringBytes ${limits.maxStringBytes}`);
      }
      if (f?.child !== undefined) scanMessage(f.child, buf, pos, pos + len, limits);
      pos += len;
    }
    if (f !== undefined) {
      known++;
      if (f.counter >= 0) {
        const n = ++counts[f.counter];
        const limitKey = COUNT_LIMITS[COUNTED[f.counter]];
        if (n > limits[limitKey]) fail("payload_too_large", `more than ${limitKey} ${limits[limitKey]} ${p.name}.${f.name}`);
      }
    }
  }
  return known;
}

// ---- decode / encode -------------------------------------------------------------------

/** The decoded protobufjs object as a plain one with every field present (proto3 defaults filled in). */
function materialise(p: TypePlan, m: Record<string, unknown> | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const f of p.list) {
    const own = m !== undefined && m !== null && Object.prototype.hasOwnProperty.call(m, f.name);
    const v = own ? m[f.name] : undefined;
    if (f.repeated) {
      const arr = Array.isArray(v) ? (v as unknown[]) : [];
      out[f.name] = f.child ? arr.map((e) => materialise(f.child!, e as Record<string, unknown>)) : arr.slice();
    } else if (f.child) out[f.name] = materialise(f.child, v as Record<string, unknown> | undefined);
    else if (f.isLong) out[f.name] = typeof v === "bigint" ? v : 0n;
    else if (own) out[f.name] = v;
    else out[f.name] = f.defaultValue === undefined ? new Uint8Array(0) : f.defaultValue;
  }
  return out;
}

function decodeWith(p: TypePlan, bytes: Uint8Array, limits: MocapLimits): Record<string, unknown> {
  if (!(bytes instanceof Uint8Array)) throw new MocapPayloadError("bad_message", `a ${p.name} payload must be bytes, got ${typeof bytes}`, 0);
  const n = bytes.length;
  if (n > limits.maxPayloadBytes) {
    throw new MocapPayloadError("payload_too_large", `${p.name} payload of ${n} bytes is over the ${limits.maxPayloadBytes}-byte limit`, n);
  }
  try {
    counts.fill(0);
    const known = scanMessage(p, bytes, 0, n, limits);
    if (n > 0 && known === 0) fail("wrong_schema", `none of the ${n} bytes is a field of ${p.name}`);
  } catch (e) {
    if (e instanceof ScanFailure) throw new MocapPayloadError(e.code, `${p.name}: ${e.message}`, n);
    throw new MocapPayloadError("bad_message", `${p.name}: ${describeError(e)}`, n);
  }
  try {
    const m = p.type.decode(new BigIntReader(bytes)) as unknown as Record<string, unknown>;
    return materialise(p, m);
  } catch (e) {
    throw new MocapPayloadError("bad_message", `${p.name}: ${describeError(e)}`, n);
  }
}

function describeError(e: unknown): string {
  return e instanceof Error ? e.message : typeof e;
}

/** Bytes → MocapFrame, or MocapPayloadError (and nothing else). */
export function decodeMocapFrame(bytes: Uint8Array, limits: Readonly<MocapLimits> = DEFAULT_MOCAP_LIMITS): MocapFrame {
  return decodeWith(getSchema().frame, bytes, limits) as unknown as MocapFrame;
}

/** Bytes → RecorderControl, or MocapPayloadError (and nothing else). */
export function decodeRecorderControl(bytes: Uint8Array, limits: Readonly<MocapLimits> = DEFAULT_MOCAP_LIMITS): RecorderControl {
  return decodeWith(getSchema().control, bytes, limits) as unknown as RecorderControl;
}

function encodeWith(p: TypePlan, message: object): Uint8Array {
  try {
    return p.type.encode(message, new BigIntWriter()).finish();
  } catch (e) {
    if (e instanceof InvalidInputError) throw e;
    throw new InvalidInputError("bad_argument", `cannot encode ${p.name}: ${describeError(e)}`);
  }
}

/** MocapFrame → bytes. A 64-bit field outside its range throws InvalidInputError("bad_argument"). */
export function encodeMocapFrame(frame: MocapFrame): Uint8Array {
  return encodeWith(getSchema().frame, frame);
}

/** What encodeRecorderControl takes: the command, the rest as proto3 defaults when left out (0, ""). */
export type RecorderControlInput = Pick<RecorderControl, "command"> & Partial<Omit<RecorderControl, "command">>;

/** RecorderControl → bytes (fields left out are not written: they decode as their defaults). */
export function encodeRecorderControl(control: RecorderControlInput): Uint8Array {
  return encodeWith(getSchema().control, control);
}

// ---- schema for recorders ------------------------------------------------------------------

let descriptorBytes: Uint8Array | undefined;

/**
 * google.protobuf.FileDescriptorSet of mocap.proto: the schema data of an MCAP channel with
 * `protobuf` encoding (schema name MOCAP_FRAME_TYPE), as Foxglove and the mcap tools read it.
 *
 * protobufjs's toDescriptor is tidied to what protoc would write, so strict readers (the C++
 * and upb descriptor builders) accept it too: fully qualified type names, json_name on every
 * field, no `packed` option on fields that cannot be packed, no edition on a proto3 file.
 * (protobufjs's Root.fromDescriptor, which Foxglove uses, names fields by json_name unless
 * keepCase is set.) A fresh copy per call.
 */
export function mocapFileDescriptorSet(): Uint8Array {
  if (!descriptorBytes) {
    const set = getSchema().root.toDescriptor("proto3");
    for (const file of set.file ?? []) {
      const f = file as unknown as Record<string, unknown>;
      f.name = "mocap.proto";
      f.syntax = "proto3";
      delete f.edition;
      if (f.options && Object.keys(f.options).length === 0) delete f.options;
      for (const m of (file.messageType ?? []) as unknown as DescriptorMessage[]) tidy(m, `.${file.package}`);
    }
    // A plain copy: finish() may hand out a Buffer view of a shared pool.
    descriptorBytes = new Uint8Array(descriptor.FileDescriptorSet.encode(set).finish());
  }
  // new Uint8Array(x), not x.slice(): a Buffer's slice() is a view, and callers may write to the result.
  return new Uint8Array(descriptorBytes);
}

interface DescriptorMessage {
  name: string;
  field?: Record<string, unknown>[];
  nestedType?: DescriptorMessage[];
}

/** protoc's json_name: underscores dropped, the letter after each upper-cased ("frame_number" → "frameNumber"). */
function jsonName(name: string): string {
  let out = "";
  let upper = false;
  for (const ch of name) {
    if (ch === "_") upper = true;
    else {
      out += upper ? ch.toUpperCase() : ch;
      upper = false;
    }
  }
  return out;
}

/** Qualifies type names against the schema, sets json_name on every field and drops options protoc would not emit. */
function tidy(m: DescriptorMessage, scope: string): void {
  const fullName = `${scope}.${m.name}`;
  const type = getSchema().root.lookupType(fullName);
  for (const fd of m.field ?? []) {
    const field = type.fields[fd.name as string];
    if (field?.resolvedType) fd.typeName = field.resolvedType.fullName;
    const options = fd.options as Record<string, unknown> | undefined;
    if (options) {
      const packable = field?.repeated === true && !(field.resolvedType instanceof protobuf.Type) && field.type !== "string" && field.type !== "bytes";
      if (!packable) delete options.packed;
      if (Object.keys(options).length === 0) delete fd.options;
    }
    fd.jsonName = jsonName(fd.name as string);
  }
  for (const n of m.nestedType ?? []) tidy(n, fullName);
}
