import { ModelError } from "../errors.js";
import { clipName, clipText } from "./clip_text.js";
import { LITTLE_ENDIAN_HOST } from "./host_endianness.js";

/**
 * The safetensors format over bytes (no files here): an 8-byte little-endian header length N,
 * N bytes of JSON `{name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {…}}`,
 * then the data, offsets relative to its start. The checks follow the reference implementation
 * (huggingface/safetensors, `Metadata::validate`): header ≤ 100 MB, tensors tile the data
 * section exactly in offset order, and each tensor's byte length is shape × dtype size. On top
 * of that: duplicate keys (JSON.parse would keep the last one silently), nesting depth and
 * non-finite values are refused, and every refusal names the file and the tensor.
 */

export type SafetensorsDtype = "F32" | "F16" | "BF16";

/** One tensor as read: data is always fp32 (F16 and BF16 are widened). */
export interface SafeTensor {
  /** The dtype stored in the file (the data is fp32 whatever it was). */
  readonly dtype: SafetensorsDtype;
  readonly shape: readonly number[];
  readonly data: Float32Array;
}

export interface SafetensorsFile {
  /** In data-offset order (the file's order). */
  readonly tensors: ReadonlyMap<string, SafeTensor>;
  readonly metadata: Readonly<Record<string, string>>;
}

/** A tensor to write: fp32, row-major, `data.length` equal to the product of `shape`. */
export interface TensorToWrite {
  readonly shape: readonly number[];
  readonly data: Float32Array;
}

/** The reference implementation's limit (MAX_HEADER_SIZE). */
export const MAX_HEADER_BYTES = 100_000_000;
/** A valid header nests 3 deep (root, tensor, shape); anything much deeper is hostile. */
export const MAX_HEADER_DEPTH = 16;
const DEFAULT_FILE = "model.safetensors";

/** Every dtype the format defines, with its element size; only the float ones are read. */
const DTYPE_BYTES: Readonly<Record<string, number>> = {
  BOOL: 1,
  U8: 1,
  I8: 1,
  F8_E5M2: 1,
  F8_E4M3: 1,
  F8_E8M0: 1,
  I16: 2,
  U16: 2,
  F16: 2,
  BF16: 2,
  I32: 4,
  U32: 4,
  F32: 4,
  F64: 8,
  I64: 8,
  U64: 8,
};
const READABLE = new Set<string>(["F32", "F16", "BF16"]);

interface Entry {
  readonly name: string;
  readonly dtype: SafetensorsDtype;
  readonly shape: number[];
  readonly begin: number;
  readonly end: number;
}

/**
 * Parses a whole safetensors file. Where a tensor's data sits 4-aligned in `bytes`' buffer on
 * a little-endian host, its Float32Array is a view on `bytes` (no copy): the caller must not
 * reuse the buffer while the weights are in use.
 */
export function parseSafetensors(bytes: Uint8Array, file = DEFAULT_FILE): SafetensorsFile {
  const fail = (message: string, tensor?: string): never => {
    throw new ModelError(file, message, tensor === undefined ? undefined : clipName(tensor));
  };
  if (bytes.length < 8) fail(`file is ${bytes.length} bytes, too short for the 8-byte header length (truncated?)`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const lo = view.getUint32(0, true);
  const hi = view.getUint32(4, true);
  if (hi !== 0 || lo > MAX_HEADER_BYTES) {
    fail(`header length ${hi * 2 ** 32 + lo} bytes is over the ${MAX_HEADER_BYTES}-byte limit (not a safetensors file?)`);
  }
  const n = lo;
  if (8 + n > bytes.length) fail(`header length ${n} runs past the end of the file (${bytes.length} bytes; truncated?)`);
  if (n < 2) fail(`header length ${n} is too short for a JSON object`);
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes.subarray(8, 8 + n));
  } catch {
    return fail("header is not valid UTF-8");
  }
  scanJson(text, fail);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    return fail(`header is not valid JSON (${(e as Error).message})`);
  }
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    return fail(`header must be a JSON object, got ${json === null ? "null" : Array.isArray(json) ? "an array" : typeof json}`);
  }
  const dataStart = 8 + n;
  const dataLen = bytes.length - dataStart;
  const metadata: Record<string, string> = {};
  const entries: Entry[] = [];
  for (const [name, info] of Object.entries(json as Record<string, unknown>)) {
    if (name === "__metadata__") {
      if (info === null) continue;
      if (typeof info !== "object" || Array.isArray(info)) fail("__metadata__ must be an object of strings");
      for (const [k, v] of Object.entries(info as Record<string, unknown>)) {
        if (typeof v !== "string") fail(`__metadata__.${k} must be a string, got ${typeof v}`);
        metadata[k] = v as string;
      }
      continue;
    }
    entries.push(parseEntry(name, info, dataLen, fail));
  }
  entries.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let at = 0;
  let prev: Entry | undefined;
  for (const e of entries) {
    if (e.begin < at) {
      fail(`data_offsets [${e.begin}, ${e.end}] overlap ${prev ? `${prev.name} [${prev.begin}, ${prev.end}]` : "another tensor"}`, e.name);
    }
    if (e.begin > at) fail(`data_offsets [${e.begin}, ${e.end}] leave a gap of ${e.begin - at} bytes before this tensor (tensors must tile the data section)`, e.name);
    at = e.end;
    prev = e;
  }
  if (at !== dataLen) {
    fail(`data section is ${dataLen} bytes but the tensors cover ${at}: ${dataLen - at} bytes at the end belong to no tensor`);
  }
  const tensors = new Map<string, SafeTensor>();
  for (const e of entries) {
    const data = readFloats(bytes, view, dataStart + e.begin, e.end - e.begin, e.dtype);
    const bad = firstNonFinite(data);
    if (bad >= 0) {
      fail(`${data[bad]} at index ${bad} ([${unravel(bad, e.shape).join(", ")}]): weights must be finite`, e.name);
    }
    tensors.set(e.name, { dtype: e.dtype, shape: e.shape, data });
  }
  return { tensors, metadata };
}

function parseEntry(name: string, info: unknown, dataLen: number, fail: (m: string, t?: string) => never): Entry {
  if (typeof info !== "object" || info === null || Array.isArray(info)) {
    return fail("entry must be an object {dtype, shape, data_offsets}", name);
  }
  const o = info as Record<string, unknown>;
  const dtype = o.dtype;
  if (typeof dtype !== "string" || !(dtype in DTYPE_BYTES)) {
    return fail(`unknown dtype ${JSON.stringify(dtype)}`, name);
  }
  if (!READABLE.has(dtype)) return fail(`dtype ${dtype} is not supported for weights (F32, F16 and BF16 are)`, name);
  const size = DTYPE_BYTES[dtype]!;
  const shape = o.shape;
  if (!Array.isArray(shape) || shape.length > 32 || !shape.every((d) => Number.isSafeInteger(d) && (d as number) >= 0)) {
    return fail(`shape must be a list of at most 32 non-negative integers, got ${clipText(JSON.stringify(shape), 80)}`, name);
  }
  const offsets = o.data_offsets;
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((d) => Number.isSafeInteger(d) && (d as number) >= 0)) {
    return fail(`data_offsets must be two non-negative integers [begin, end], got ${clipText(JSON.stringify(offsets), 80)}`, name);
  }
  const [begin, end] = offsets as [number, number];
  if (end < begin) fail(`data_offsets [${begin}, ${end}] end before they begin`, name);
  let count = 1;
  for (const d of shape as number[]) {
    count *= d;
    // Exact integer arithmetic ends at 2^53; the reference refuses u64 overflow the same way.
    if (count * size > Number.MAX_SAFE_INTEGER) fail(`shape [${(shape as number[]).join(", ")}] overflows`, name);
  }
  const want = count * size;
  if (end > dataLen) {
    fail(`data_offsets [${begin}, ${end}] run past the data section (${dataLen} bytes): file truncated?`, name);
  }
  if (want !== end - begin) {
    fail(`shape [${(shape as number[]).join(", ")}] × ${dtype} is ${want} bytes but data_offsets [${begin}, ${end}] hold ${end - begin}`, name);
  }
  return { name, dtype: dtype as SafetensorsDtype, shape: (shape as number[]).slice(), begin, end };
}

function readFloats(bytes: Uint8Array, view: DataView, at: number, byteLen: number, dtype: SafetensorsDtype): Float32Array {
  const abs = bytes.byteOffset + at;
  if (dtype === "F32") {
    const count = byteLen / 4;
    if (LITTLE_ENDIAN_HOST) {
      if (abs % 4 === 0) return new Float32Array(bytes.buffer, abs, count);
      return new Float32Array(bytes.slice(at, at + byteLen).buffer);
    }
    const out = new Float32Array(count);
    for (let i = 0; i < count; i++) out[i] = view.getFloat32(at + 4 * i, true);
    return out;
  }
  const count = byteLen / 2;
  const out = new Float32Array(count);
  if (dtype === "BF16") {
    // bf16 is the top half of an fp32: widening is exact.
    const u32 = new Uint32Array(out.buffer);
    for (let i = 0; i < count; i++) u32[i] = view.getUint16(at + 2 * i, true) << 16;
  } else {
    for (let i = 0; i < count; i++) out[i] = halfToFloat(view.getUint16(at + 2 * i, true));
  }
  return out;
}

/** IEEE 754 binary16 → number (exact). */
export function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 0x1f) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

function firstNonFinite(a: Float32Array): number {
  for (let i = 0; i < a.length; i++) {
    // x - x is 0 for finite x, NaN for NaN and ±Infinity.
    if (a[i]! - a[i]! !== 0) return i;
  }
  return -1;
}

function unravel(index: number, shape: readonly number[]): number[] {
  const out = new Array<number>(shape.length).fill(0);
  let r = index;
  for (let d = shape.length - 1; d >= 0; d--) {
    const s = shape[d]!;
    out[d] = r % s;
    r = Math.floor(r / s);
  }
  return out;
}

/**
 * One pass over the header text before JSON.parse: refuses nesting deeper than
 * MAX_HEADER_DEPTH and duplicate keys in any object (JSON.parse would keep the last silently,
 * so a file could carry two different tensors under one name). Malformed JSON is left for
 * JSON.parse to describe.
 */
function scanJson(text: string, fail: (m: string, t?: string) => never): void {
  const stack: (Set<string> | null)[] = [];
  const len = text.length;
  for (let i = 0; i < len; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
      stack.push(c === 0x7b ? new Set<string>() : null);
      if (stack.length > MAX_HEADER_DEPTH) fail(`header JSON nests deeper than ${MAX_HEADER_DEPTH} levels`);
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      if (stack.pop() === undefined) return;
    } else if (c === 0x22 /* " */) {
      const start = i;
      i++;
      while (i < len) {
        const d = text.charCodeAt(i);
        if (d === 0x5c /* \ */) i += 2;
        else if (d === 0x22) break;
        else i++;
      }
      if (i >= len) return;
      let j = i + 1;
      while (j < len && (text.charCodeAt(j) === 0x20 || text.charCodeAt(j) === 0x0a || text.charCodeAt(j) === 0x0d || text.charCodeAt(j) === 0x09)) j++;
      const keys = stack[stack.length - 1];
      if (j < len && text.charCodeAt(j) === 0x3a /* : */ && keys) {
        let key: string;
        try {
          key = JSON.parse(text.slice(start, i + 1)) as string;
        } catch {
          return;
        }
        if (keys.has(key)) {
          if (stack.length === 1) fail("appears twice in the header", key);
          fail(`key ${JSON.stringify(key)} appears twice in one header object`);
        }
        keys.add(key);
      }
    }
  }
}

/**
 * Writes fp32 tensors in the reference implementation's layout: tensors sorted by name (its
 * order for tensors of one dtype), header keys in data order with `__metadata__` first, compact
 * JSON padded with spaces to a multiple of 8 bytes so every tensor's data is 8-aligned.
 */
export function writeSafetensors(
  tensors: ReadonlyMap<string, TensorToWrite>,
  metadata?: Readonly<Record<string, string>>,
  file = DEFAULT_FILE,
): Uint8Array {
  const names = [...tensors.keys()].sort(byCodePoint);
  const parts: string[] = [];
  if (metadata) {
    for (const [k, v] of Object.entries(metadata)) {
      if (typeof v !== "string") throw new ModelError(file, `__metadata__.${k} must be a string`);
    }
    parts.push(`"__metadata__":${JSON.stringify(metadata)}`);
  }
  let offset = 0;
  for (const name of names) {
    if (name === "__metadata__") throw new ModelError(file, "__metadata__ is reserved and cannot name a tensor");
    const t = tensors.get(name)!;
    if (!t.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      throw new ModelError(file, `shape [${t.shape.join(", ")}] must be non-negative integers`, name);
    }
    const count = t.shape.reduce((a, b) => a * b, 1);
    if (count !== t.data.length) {
      throw new ModelError(file, `shape [${t.shape.join(", ")}] needs ${count} values but ${t.data.length} were given`, name);
    }
    const bad = firstNonFinite(t.data);
    if (bad >= 0) throw new ModelError(file, `${t.data[bad]} at index ${bad}: weights must be finite`, name);
    const end = offset + 4 * count;
    parts.push(`${JSON.stringify(name)}:{"dtype":"F32","shape":[${t.shape.join(",")}],"data_offsets":[${offset},${end}]}`);
    offset = end;
  }
  const headerText = new TextEncoder().encode(`{${parts.join(",")}}`);
  const n = headerText.length + ((8 - (headerText.length % 8)) % 8);
  const out = new Uint8Array(8 + n + offset);
  const view = new DataView(out.buffer);
  view.setUint32(0, n % 2 ** 32, true);
  view.setUint32(4, Math.floor(n / 2 ** 32), true);
  out.set(headerText, 8);
  out.fill(0x20, 8 + headerText.length, 8 + n);
  let at = 8 + n;
  for (const name of names) {
    const data = tensors.get(name)!.data;
    if (LITTLE_ENDIAN_HOST) {
      out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), at);
    } else {
      for (let i = 0; i < data.length; i++) view.setFloat32(at + 4 * i, data[i]!, true);
    }
    at += data.byteLength;
  }
  return out;
}

/** Code-point order, which is the UTF-8 byte order the reference sorts names by (UTF-16 `<` differs above U+D7FF). */
function byCodePoint(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; ) {
    const x = a.codePointAt(i)!;
    const y = b.codePointAt(i)!;
    if (x !== y) return x - y;
    i += x > 0xffff ? 2 : 1;
  }
  return a.length - b.length;
}

