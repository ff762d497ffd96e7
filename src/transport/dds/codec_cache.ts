import { SpatialRewardError } from "../../errors.js";
import { CdrCodec } from "../../msgs/cdr_codec.js";
import { MSG_DEFINITIONS, type MessageTypeName } from "../../msgs/generated.js";

/** Untyped view of a CdrCodec: the transport only knows type names at run time. */
export interface AnyCodec {
  byteSize(msg: unknown): number;
  encode(msg: unknown, scratch?: ArrayBuffer): Uint8Array;
  decode(bytes: ArrayBufferView): unknown;
}

const codecs = new Map<string, AnyCodec>();

/** The codec of a type from msgs/ or the standard packages; unknown types are a typed error. */
export function codecFor(type: string): AnyCodec {
  let c = codecs.get(type);
  if (!c) {
    if (!Object.prototype.hasOwnProperty.call(MSG_DEFINITIONS, type)) {
      throw new SpatialRewardError("bad_argument", `no message definition for ${type} (generated types: src/msgs/generated.ts)`);
    }
    // The generated definitions and types are made from the same .msg files, so unknown-typed use is sound.
    c = new CdrCodec(type as MessageTypeName) as unknown as AnyCodec;
    codecs.set(type, c);
  }
  return c;
}
