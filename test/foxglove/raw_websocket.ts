import { randomBytes } from "node:crypto";
import { connect, type Socket } from "node:net";

/**
 * A hand-made WebSocket client on a raw TCP socket (RFC 6455 framing, masked as a client must),
 * for what a library client will not do: send malformed frames, invalid UTF-8, fragments out of
 * order, or subscribe and then stop reading.
 */

export interface RawSocket {
  socket: Socket;
  /** Everything received after the handshake. */
  received: () => Buffer;
  closed: () => boolean;
}

/** A WebSocket frame from a client: `opcode` 1 text, 2 binary, 8 close; masked. */
export function clientFrame(opcode: number, payload: Uint8Array, fin = true): Buffer {
  const n = payload.byteLength;
  const head = n < 126 ? Buffer.alloc(2) : n < 65536 ? Buffer.alloc(4) : Buffer.alloc(10);
  head[0] = (fin ? 0x80 : 0) | (opcode & 0x0f);
  if (n < 126) head[1] = 0x80 | n;
  else if (n < 65536) {
    head[1] = 0x80 | 126;
    head.writeUInt16BE(n, 2);
  } else {
    head[1] = 0x80 | 127;
    head.writeBigUInt64BE(BigInt(n), 2);
  }
  const mask = randomBytes(4);
  const body = Buffer.from(payload);
  for (let i = 0; i < body.length; i++) body[i] ^= mask[i & 3];
  return Buffer.concat([head, mask, body]);
}

export function textFrame(text: string): Buffer {
  return clientFrame(1, Buffer.from(text, "utf8"));
}

/** Opens a TCP connection and performs the handshake (offering `protocol`); resolves once upgraded. */
export function rawWebSocket(port: number, protocol = "foxglove.websocket.v1"): Promise<RawSocket> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1");
    let buf = Buffer.alloc(0);
    let upgraded = false;
    let closed = false;
    socket.on("close", () => {
      closed = true;
      if (!upgraded) reject(new Error(`closed before the handshake: ${buf.toString("latin1").slice(0, 200)}`));
    });
    socket.on("error", () => {});
    socket.on("data", (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      if (upgraded) return;
      const end = buf.indexOf("\r\n\r\n");
      if (end < 0) return;
      const head = buf.subarray(0, end).toString("latin1");
      if (!head.startsWith("HTTP/1.1 101")) {
        reject(new Error(`handshake refused: ${head.split("\r\n")[0]}`));
        return;
      }
      upgraded = true;
      buf = buf.subarray(end + 4);
      resolve({ socket, received: () => buf, closed: () => closed });
    });
    socket.on("connect", () => {
      socket.write(
        "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
        `Sec-WebSocket-Key: ${randomBytes(16).toString("base64")}\r\nSec-WebSocket-Version: 13\r\n` +
        (protocol ? `Sec-WebSocket-Protocol: ${protocol}\r\n` : "") + "\r\n",
      );
    });
  });
}

/** Resolves when the socket closes, or false after `ms`. */
export function closedWithin(raw: RawSocket, ms: number): Promise<boolean> {
  if (raw.closed()) return Promise.resolve(true);
  return new Promise((resolve) => {
    const t = setTimeout(() => resolve(false), ms);
    raw.socket.once("close", () => {
      clearTimeout(t);
      resolve(true);
    });
  });
}

/** The close code of the server's close frame among the received frames (unmasked server frames), or null. */
export function serverCloseCode(bytes: Buffer): number | null {
  let i = 0;
  while (i + 2 <= bytes.length) {
    const opcode = bytes[i] & 0x0f;
    let n = bytes[i + 1] & 0x7f;
    let at = i + 2;
    if (n === 126) {
      n = bytes.readUInt16BE(at);
      at += 2;
    } else if (n === 127) {
      n = Number(bytes.readBigUInt64BE(at));
      at += 8;
    }
    if (opcode === 8 && n >= 2 && at + 2 <= bytes.length) return bytes.readUInt16BE(at);
    i = at + n;
  }
  return null;
}
