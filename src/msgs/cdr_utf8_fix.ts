import { CdrWriter } from "@foxglove/cdr";

/**
 * @foxglove/cdr 3.5.0 (the latest) writes a string's length as its UTF-16 length and encodes
 * only that many UTF-8 bytes, so any non-ASCII text ("café", "°") is truncated on the wire.
 * This replaces CdrWriter.prototype.string with a byte-exact version, keeping the library's
 * path for ASCII. Remove when the library counts UTF-8 bytes. (Reading is already correct.)
 */
const encoder = new TextEncoder();
type StringWriter = (this: CdrWriter, value: string, writeLength?: boolean) => CdrWriter;
const proto = CdrWriter.prototype as unknown as { string: StringWriter; __utf8Fixed?: boolean };

if (!proto.__utf8Fixed) {
  const ascii: StringWriter = proto.string;
  proto.string = function (this: CdrWriter, value: string, writeLength = true): CdrWriter {
    let isAscii = true;
    for (let i = 0; i < value.length; i++) {
      if (value.charCodeAt(i) > 0x7f) {
        isAscii = false;
        break;
      }
    }
    if (isAscii) return ascii.call(this, value, writeLength);
    const bytes = encoder.encode(value);
    if (writeLength) this.uint32(bytes.length + 1);
    this.uint8Array(bytes, false);
    return this.uint8(0);
  };
  proto.__utf8Fixed = true;
}
