import { InvalidInputError } from "../../src/errors.js";

/**
 * What a Foxglove WebSocket client may ask of this server, checked before the protocol library
 * sees it. The server declares no capability (no client publishing, services, parameters,
 * assets or connection graph), so of the protocol's client operations only `subscribe` and
 * `unsubscribe` do anything; the others are recognised and refused with a reason. Anything
 * else (not JSON, not an object, an unknown op, wrong field types, ids that are not uint32,
 * too many entries) is a typed `bad_message`; a message over the size limit is
 * `payload_too_large`, refused before it is parsed. The library then only ever receives the
 * canonical text of a valid request (clientRequestText), never what the client sent.
 */

export interface Subscribe {
  op: "subscribe";
  subscriptions: { id: number; channelId: number }[];
}

export interface Unsubscribe {
  op: "unsubscribe";
  subscriptionIds: number[];
}

/** A protocol operation this server does not offer: answered with a status, counted. */
export interface Unsupported {
  op: "unsupported";
  /** The operation as the protocol names it ("advertise", "binary:1"...). */
  what: string;
}

export type ClientRequest = Subscribe | Unsubscribe | Unsupported;

/** Largest client message read (control messages are a few hundred bytes). */
export const MAX_CLIENT_MESSAGE_BYTES = 64 * 1024;
/** Most subscriptions or ids one message may carry. */
export const MAX_CLIENT_ENTRIES = 256;

/** The protocol's JSON client operations that need a capability this server does not declare. */
const UNSUPPORTED_OPS: ReadonlySet<string> = new Set([
  "advertise", "unadvertise", "getParameters", "setParameters", "subscribeParameterUpdates",
  "unsubscribeParameterUpdates", "subscribeConnectionGraph", "unsubscribeConnectionGraph", "fetchAsset",
]);
/** Client binary opcodes: 1 message data (client publish), 2 service call request. */
const BINARY_OPS: ReadonlyMap<number, string> = new Map([[1, "binary:messageData"], [2, "binary:serviceCallRequest"]]);

function bad(message: string): InvalidInputError {
  return new InvalidInputError("bad_message", `foxglove client message: ${message}`);
}

/** A short, safe rendering of what the client sent, for error messages. */
function shown(value: unknown): string {
  let text: string;
  try {
    text = typeof value === "string" ? JSON.stringify(value) : String(JSON.stringify(value));
  } catch {
    text = typeof value;
  }
  return text.length > 40 ? `${text.slice(0, 39)}…` : text;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function uint32(value: unknown, what: string): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < 0 || value > 0xffff_ffff) {
    throw bad(`${what} must be an integer from 0 to 4294967295, got ${shown(value)}`);
  }
  return value;
}

function entries(value: unknown, what: string): unknown[] {
  if (!Array.isArray(value)) throw bad(`${what} must be an array, got ${shown(value)}`);
  if (value.length === 0) throw bad(`${what} is empty`);
  if (value.length > MAX_CLIENT_ENTRIES) throw bad(`${what} has ${value.length} entries; at most ${MAX_CLIENT_ENTRIES} are accepted`);
  return value;
}

/** Checks a text (JSON) client message. */
export function parseClientText(text: string): ClientRequest {
  // Characters bound the UTF-8 size from below; the socket's own limit bounds it from above.
  if (text.length > MAX_CLIENT_MESSAGE_BYTES) {
    throw new InvalidInputError("payload_too_large", `foxglove client message of ${text.length} characters; at most ${MAX_CLIENT_MESSAGE_BYTES} bytes are accepted`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw bad(`not JSON (${text.length} characters starting ${shown(text.slice(0, 20))})`);
  }
  if (!isRecord(parsed)) throw bad(`not a JSON object: ${shown(parsed)}`);
  const op = parsed.op;
  if (typeof op !== "string") throw bad(`"op" must be a string, got ${shown(op)}`);
  if (op === "subscribe") {
    const subscriptions = entries(parsed.subscriptions, "subscribe.subscriptions").map((s, i) => {
      if (!isRecord(s)) throw bad(`subscribe.subscriptions[${i}] must be an object, got ${shown(s)}`);
      return { id: uint32(s.id, `subscribe.subscriptions[${i}].id`), channelId: uint32(s.channelId, `subscribe.subscriptions[${i}].channelId`) };
    });
    return { op, subscriptions };
  }
  if (op === "unsubscribe") {
    return { op, subscriptionIds: entries(parsed.subscriptionIds, "unsubscribe.subscriptionIds").map((id, i) => uint32(id, `unsubscribe.subscriptionIds[${i}]`)) };
  }
  if (UNSUPPORTED_OPS.has(op)) return { op: "unsupported", what: op };
  throw bad(`unknown op ${shown(op)}`);
}

/** Checks a binary client message (the protocol's client binary opcodes need capabilities this server lacks). */
export function parseClientBinary(bytes: Uint8Array): ClientRequest {
  if (bytes.byteLength > MAX_CLIENT_MESSAGE_BYTES) {
    throw new InvalidInputError("payload_too_large", `foxglove binary client message of ${bytes.byteLength} bytes; at most ${MAX_CLIENT_MESSAGE_BYTES} are accepted`);
  }
  if (bytes.byteLength === 0) throw bad("empty binary message");
  const what = BINARY_OPS.get(bytes[0]);
  if (what === undefined) throw bad(`unknown binary opcode 0x${bytes[0].toString(16).padStart(2, "0")}`);
  return { op: "unsupported", what };
}

/** The canonical JSON of a valid subscribe/unsubscribe: what the protocol library is given. */
export function clientRequestText(request: Subscribe | Unsubscribe): string {
  return request.op === "subscribe"
    ? JSON.stringify({ op: "subscribe", subscriptions: request.subscriptions.map((s) => ({ id: s.id, channelId: s.channelId })) })
    : JSON.stringify({ op: "unsubscribe", subscriptionIds: request.subscriptionIds });
}
