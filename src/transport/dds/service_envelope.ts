import { InvalidInputError } from "../../errors.js";

/**
 * rmw_cyclonedds frames every service request and reply with a 16-byte header after the CDR
 * encapsulation: the client's 64-bit id and the call's 64-bit sequence number. The server echoes
 * both, and each client keeps only replies carrying its id. The message follows at offset 16,
 * a multiple of every CDR alignment, so its encoding is the same as on its own.
 */
export interface RequestId {
  /** 8 bytes identifying the client. */
  readonly client: Uint8Array;
  readonly sequence: bigint;
}

const ENCAPSULATION = 4;
const HEADER = 16;

/** Wraps a standalone CDR message (encapsulation + body) into a request/reply sample. */
export function wrapServiceSample(id: RequestId, message: Uint8Array): Uint8Array {
  if (message.length < ENCAPSULATION) throw new InvalidInputError("bad_message", "CDR message shorter than its encapsulation header");
  const out = new Uint8Array(message.length + HEADER);
  out.set(message.subarray(0, ENCAPSULATION), 0);
  out.set(id.client, ENCAPSULATION);
  const littleEndian = (message[1] & 1) === 1;
  new DataView(out.buffer, out.byteOffset + ENCAPSULATION + 8, 8).setBigInt64(0, id.sequence, littleEndian);
  out.set(message.subarray(ENCAPSULATION), ENCAPSULATION + HEADER);
  return out;
}

/** Splits a request/reply sample into its id and a standalone CDR message. */
export function unwrapServiceSample(sample: Uint8Array): { id: RequestId; message: Uint8Array } {
  if (sample.length < ENCAPSULATION + HEADER) {
    throw new InvalidInputError("bad_message", `service sample of ${sample.length} bytes is shorter than its ${ENCAPSULATION + HEADER}-byte header`);
  }
  const littleEndian = (sample[1] & 1) === 1;
  const client = sample.slice(ENCAPSULATION, ENCAPSULATION + 8);
  const sequence = new DataView(sample.buffer, sample.byteOffset + ENCAPSULATION + 8, 8).getBigInt64(0, littleEndian);
  const message = new Uint8Array(sample.length - HEADER);
  message.set(sample.subarray(0, ENCAPSULATION), 0);
  message.set(sample.subarray(ENCAPSULATION + HEADER), ENCAPSULATION);
  return { id: { client, sequence }, message };
}
