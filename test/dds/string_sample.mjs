// Test children on the bare addon write std_msgs/String samples as raw CDR.

/** CDR (little endian) of std_msgs/String: encapsulation, uint32 length with the NUL, bytes, NUL. */
export function stringSample(text) {
  const body = Buffer.from(text, "utf8");
  const out = Buffer.alloc(4 + 4 + body.length + 1);
  out.writeUInt16BE(0x0001, 0);
  out.writeUInt32LE(body.length + 1, 4);
  body.copy(out, 8);
  return out;
}
