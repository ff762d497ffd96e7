import { parse } from "@foxglove/rosmsg";
import { SpatialRewardError } from "../../errors.js";
import "../../msgs/cdr_utf8_fix.js";
import { MSG_DEFINITIONS } from "../../msgs/generated.js";
import { compileCdrReader, type CompiledCdrReader } from "./compiled_cdr_reader.js";
import { compileCdrWriter, type CompiledCdrWriter } from "./compiled_cdr_writer.js";

/** Untyped view of a CDR codec: the transport only knows type names at run time. */
export interface AnyCodec {
  byteSize(msg: unknown): number;
  encode(msg: unknown, scratch?: ArrayBuffer): Uint8Array;
  /**
   * `impliedHeader`: the first 4 bytes of `bytes` are not the sample's (a body lent from a
   * shared-memory chunk, see the reader callback's bodyOnly): plain CDR in this host's byte order.
   */
  decode(bytes: ArrayBufferView, impliedHeader?: boolean): unknown;
}

/**
 * The CDR codec of one type, as CdrCodec (src/msgs/cdr_codec.ts) with one check more on
 * decoding: the message must end within `bytes`. The reader makes byte and string fields as
 * views of `bytes.buffer`, not of `bytes`, so a sample whose lengths claim more than it holds
 * would otherwise read on into whatever follows it in that buffer; a lent sample's buffer is a
 * reused slot, where that is the end of an older frame. Decoding and encoding are compiled per
 * type (compiled_cdr_reader.ts, compiled_cdr_writer.ts): the same reads and writes as the
 * library's MessageReader and MessageWriter, several times faster.
 */
class TransportCodec implements AnyCodec {
  private readonly reader: CompiledCdrReader;
  private readonly writer: CompiledCdrWriter;

  constructor(type: string) {
    const definitions = parse(MSG_DEFINITIONS[type as keyof typeof MSG_DEFINITIONS], { ros2: true });
    this.reader = compileCdrReader(definitions);
    this.writer = compileCdrWriter(definitions);
  }

  byteSize(msg: unknown): number {
    return this.writer.calculateByteSize(msg);
  }

  encode(msg: unknown, scratch?: ArrayBuffer): Uint8Array {
    return this.writer.writeMessage(msg, scratch);
  }

  decode(bytes: ArrayBufferView, impliedHeader = false): unknown {
    const msg = this.reader.readMessage(bytes, impliedHeader);
    const used = this.reader.lastReadByteLength();
    if (used > bytes.byteLength) throw new RangeError(`the message needs ${used} bytes but the sample has ${bytes.byteLength}`);
    return msg;
  }
}

const codecs = new Map<string, AnyCodec>();

/** The codec of a type from msgs/ or the standard packages; unknown types are a typed error. */
export function codecFor(type: string): AnyCodec {
  let c = codecs.get(type);
  if (!c) {
    if (!Object.prototype.hasOwnProperty.call(MSG_DEFINITIONS, type)) {
      throw new SpatialRewardError("bad_argument", `no message definition for ${type} (generated types: src/msgs/generated.ts)`);
    }
    c = new TransportCodec(type);
    codecs.set(type, c);
  }
  return c;
}
