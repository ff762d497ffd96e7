import type { IWebSocket } from "@foxglove/ws-protocol";
import { WebSocket, type RawData } from "ws";
import { SpatialRewardError, isSpatialRewardError } from "../../src/errors.js";
import { clientRequestText, parseClientBinary, parseClientText, type ClientRequest } from "./client_message.js";

/**
 * One Foxglove client's connection as the protocol library sees it (its IWebSocket), standing
 * between the library and the real `ws` socket in both directions.
 *
 * In: every message is checked (client_message.ts) before the library gets it; a bad one is
 * counted and answered with a status, never passed on, and never stops the server. The library
 * is given the canonical text of valid requests only.
 *
 * Out: the library sends each message-data frame as two fragments (a 13-byte header with
 * fin:false, then the payload). When this client's socket already buffers more than
 * `maxBufferedBytes` (it reads slower than frames come) the whole frame is dropped for this
 * client alone and counted; the node and the other clients never wait for it. A client whose
 * buffer still passes `maxClientBytes` (it stopped reading while control messages piled up) is
 * disconnected. Payload buffers are pinned until the socket has written them (see payload_pool.ts).
 */

export interface ClientSocketHooks {
  /** A checked request is about to go to the library (after it returns, the library has applied it). */
  onRequest(socket: ClientSocket, request: ClientRequest): void;
  /** A request was applied by the library. */
  afterRequest(socket: ClientSocket, request: ClientRequest): void;
  /** A message was refused: counted by the caller under `errors.<code>`. */
  onRefused(socket: ClientSocket, error: SpatialRewardError): void;
  /** A data frame was dropped for this slow client. */
  onDropped(socket: ClientSocket, reason: "slow_client" | "closed"): void;
  /** Pins the payload's buffer for one write; the result unpins it. */
  retain(payload: ArrayBufferView): (() => void) | null;
  /** The client was disconnected for buffering too much. */
  onOverflow(socket: ClientSocket): void;
  /** The socket reported an error (protocol violation, reset...). */
  onSocketError(socket: ClientSocket, error: Error): void;
}

export interface ClientSocketLimits {
  /** Above this many bytes buffered for the client, data frames are dropped for it. */
  maxBufferedBytes: number;
  /** Above this many, the client is disconnected. */
  maxClientBytes: number;
}

type Handler = ((event: unknown) => void) | null | undefined;

/** The protocol's StatusLevel values. */
const STATUS = { warning: 1, error: 2 } as const;

export class ClientSocket implements IWebSocket {
  binaryType = "arraybuffer";
  onerror: Handler = null;
  onopen: Handler = null;
  onclose: Handler = null;
  onmessage: Handler = null;
  /** Frames dropped for this client, by reason. */
  dropped = 0;
  /** Messages received from the client, and how many were refused. */
  received = 0;
  refused = 0;
  /** The payload fragment that follows a dropped header is dropped too. */
  private droppingPayload = false;

  constructor(
    readonly ws: WebSocket,
    readonly name: string,
    private readonly limits: ClientSocketLimits,
    private readonly hooks: ClientSocketHooks,
  ) {
    ws.on("message", (data: RawData, isBinary: boolean) => {
      // An exception here would escape through the socket's data event and end the process.
      try {
        this.receive(data, isBinary);
      } catch (e) {
        this.hooks.onRefused(this, new SpatialRewardError("internal", `handling a client message: ${e instanceof Error ? e.message : String(e)}`));
      }
    });
    ws.on("close", (code: number, reason: Buffer) => {
      this.onclose?.({ code, reason: reason.toString("utf8").slice(0, 200), wasClean: code === 1000 });
    });
    // Without a listener, an 'error' event would throw out of the socket's callback.
    ws.on("error", (e: Error) => this.hooks.onSocketError(this, e));
  }

  get protocol(): string {
    return this.ws.protocol;
  }

  /** Bytes queued for this client and not yet handed to the kernel. */
  get bufferedAmount(): number {
    return this.ws.bufferedAmount;
  }

  close(): void {
    this.ws.close();
  }

  /**
   * The library's sends. Declared with two parameters on purpose: the library sends message
   * data as two fragments only to a send() that takes options (`send.length > 1`), which saves
   * it copying every payload into one buffer per client.
   */
  send(data: string | ArrayBuffer | ArrayBufferView, options?: { fin?: boolean }): void {
    if (this.ws.readyState !== WebSocket.OPEN) {
      if (options?.fin === false) {
        this.droppingPayload = true;
        this.hooks.onDropped(this, "closed");
      } else this.droppingPayload = false;
      return;
    }
    if (typeof data === "string") {
      if (this.overflowing()) return;
      this.ws.send(data);
      return;
    }
    if (options?.fin === false) {
      // A message-data header: the frame goes to this client only if it keeps up.
      if (this.overflowing()) {
        this.droppingPayload = true;
        return;
      }
      if (this.ws.bufferedAmount > this.limits.maxBufferedBytes) {
        this.droppingPayload = true;
        this.dropped++;
        this.hooks.onDropped(this, "slow_client");
        return;
      }
      this.droppingPayload = false;
      this.ws.send(data, { fin: false });
      return;
    }
    if (this.droppingPayload) {
      this.droppingPayload = false;
      return;
    }
    const view = ArrayBuffer.isView(data) ? data : new Uint8Array(data);
    const release = this.hooks.retain(view);
    this.ws.send(view, { fin: options?.fin ?? true }, release ? () => release() : undefined);
  }

  /** A status message to this client only (the protocol's "status" op). */
  status(level: "warning" | "error", message: string): void {
    this.send(JSON.stringify({ op: "status", level: STATUS[level], message }));
  }

  private overflowing(): boolean {
    if (this.ws.bufferedAmount <= this.limits.maxClientBytes) return false;
    this.hooks.onOverflow(this);
    // terminate(): close() would queue a close frame behind what the client does not read.
    this.ws.terminate();
    return true;
  }

  private receive(data: RawData, isBinary: boolean): void {
    this.received++;
    let request: ClientRequest;
    try {
      const bytes = Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data);
      request = isBinary ? parseClientBinary(bytes) : parseClientText(bytes.toString("utf8"));
    } catch (e) {
      this.refused++;
      const error = isSpatialRewardError(e) ? e : new SpatialRewardError("internal", `checking a client message: ${e instanceof Error ? e.message : String(e)}`);
      this.hooks.onRefused(this, error);
      this.status("error", error.message.slice(0, 300));
      return;
    }
    this.hooks.onRequest(this, request);
    if (request.op === "unsupported") {
      this.status("warning", `${request.what} is not supported by this server (it only streams topics: subscribe/unsubscribe)`);
      return;
    }
    this.onmessage?.({ data: clientRequestText(request) });
    this.hooks.afterRequest(this, request);
  }
}
