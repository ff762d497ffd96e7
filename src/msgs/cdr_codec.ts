import { parse } from "@foxglove/rosmsg";
import { MessageReader, MessageWriter } from "@foxglove/rosmsg2-serialization";
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

  byteSize(msg: MessageTypes[K]): number {
    return this.writer.calculateByteSize(msg);
  }

  /** Writes into `out` when given (it must hold byteSize(msg) bytes), else into a new buffer. */
  encode(msg: MessageTypes[K], out?: Uint8Array): Uint8Array {
    return this.writer.writeMessage(msg, out);
  }

  decode(bytes: ArrayBufferView): MessageTypes[K] {
    return this.reader.readMessage(bytes);
  }
}
