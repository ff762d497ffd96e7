import { parse } from "@foxglove/rosmsg";
import { MessageReader, MessageWriter } from "@foxglove/rosmsg2-serialization";
import "./cdr_utf8_fix.js";
import { MSG_DEFINITIONS, type MessageTypeName, type MessageTypes } from "./generated.js";

/**
 * CDR encoding of one ROS 2 message type, from the same definitions the TypeScript types are
 * generated from (MSG_DEFINITIONS), so what the nodes build is exactly what goes on the wire.
 * Encoded bytes start with the 4-byte CDR encapsulation header, as DDS samples and MCAP
 * `cdr` messages do.
 */
export class CdrCodec<K extends MessageTypeName> {
  private readonly reader: MessageReader<MessageTypes[K]>;
  private readonly writer: MessageWriter;

  constructor(readonly type: K) {
    const definitions = parse(MSG_DEFINITIONS[type], { ros2: true });
    this.reader = new MessageReader<MessageTypes[K]>(definitions);
    this.writer = new MessageWriter(definitions);
  }

  /** A lower bound for non-ASCII strings (the writer grows its buffer as needed). */
  byteSize(msg: MessageTypes[K]): number {
    return this.writer.calculateByteSize(msg);
  }

  /**
   * Writes into `scratch` from its start when given (it must hold byteSize(msg) bytes; the
   * result views it), else into a new buffer. The CDR writer takes whole ArrayBuffers only.
   */
  encode(msg: MessageTypes[K], scratch?: ArrayBuffer): Uint8Array {
    // The library's signature says Uint8Array, but its CdrWriter needs the ArrayBuffer itself.
    return this.writer.writeMessage(msg, scratch as unknown as Uint8Array | undefined);
  }

  decode(bytes: ArrayBufferView): MessageTypes[K] {
    return this.reader.readMessage(bytes);
  }
}
