import { createServer, type Server, type Socket } from "node:net";
import { Aedes } from "aedes";
import { InvalidInputError, SpatialRewardError } from "../../src/errors.js";
import { BoundedSessionStore, resolveSessionQueueLimits, type SessionQueueDrop } from "./bounded_session_store.js";

/** Where the embedded broker listens: loopback only, so a zero-setup run never exposes a port. */
export const EMBEDDED_BROKER_HOST = "127.0.0.1";

export interface EmbeddedBrokerOptions {
  /** TCP port on 127.0.0.1; 0 (the default) = an ephemeral port chosen by the OS (see `url`). */
  port?: number;
  /**
   * Most QoS 1/2 deliveries aedes processes at once (its `concurrency`, default 100 there).
   * A 240 Hz stream that a reconnecting subscriber drains in a burst needs headroom.
   */
  concurrency?: number;
  /** How long a subscriber's full socket may block delivery before it is dropped (ms, aedes' drainTimeout). */
  drainTimeoutMs?: number;
  /**
   * QoS 1/2 messages stored per persistent session (queued while the client is away, or sent and
   * not yet acknowledged); past it new ones are dropped for that client and counted
   * (BoundedSessionStore). Default 100000.
   */
  maxQueuedMessages?: number;
  /** The same bound in bytes (payload + topic). Default 256 MiB. */
  maxQueuedBytes?: number;
  /** Retained messages kept, all topics, and their bytes (defaults 10000, 64 MiB); past them one on a new topic is not kept (counted). */
  maxRetainedMessages?: number;
  maxRetainedBytes?: number;
  /** Told of each message a full session queue refused. */
  onQueueDrop?: (d: SessionQueueDrop) => void;
}

/**
 * The zero-setup MQTT broker: aedes on a TCP server bound to 127.0.0.1.
 *
 * MQTT 3.1.1 (aedes speaks no MQTT 5), QoS 0/1/2, persistent sessions (clean=false clients keep
 * their subscriptions and get the QoS 1 messages published while they were away). Sessions are
 * kept in memory (aedes' default store, bounded per client by BoundedSessionStore: at most
 * maxQueuedMessages / maxQueuedBytes stored per session, newer ones dropped and counted, as
 * Mosquitto's max_queued_messages does): they survive a client's reconnect, not a restart of the
 * broker (or of the process that embeds it). Use Mosquitto with `persistence true` where
 * sessions must outlive the broker.
 *
 * stop() ends cleanly: aedes disconnects every client, the server stops accepting, and sockets
 * that never sent CONNECT are destroyed, so no handle keeps the process alive.
 */
export class EmbeddedBroker {
  private stopping: Promise<void> | null = null;

  private constructor(
    private readonly aedes: Aedes,
    private readonly server: Server,
    private readonly sockets: Set<Socket>,
    /** The bound port (the OS's choice when the option was 0). */
    readonly port: number,
    private readonly store: BoundedSessionStore,
  ) {}

  /** Messages a full session queue refused so far (all clients). */
  get queueDrops(): number {
    return this.store.droppedMessages;
  }

  /** Retained messages kept (topics, bytes) and not kept. */
  get retainedStats(): { kept: number; bytes: number; dropped: number } {
    return this.store.retainedStats;
  }

  /** Each persistent session's stored messages, bytes and drops. */
  queueStats(): Record<string, { messages: number; bytes: number; drops: number }> {
    return this.store.queueStats();
  }

  /** mqtt://127.0.0.1:<port>: what clients connect to. */
  get url(): string {
    return `mqtt://${EMBEDDED_BROKER_HOST}:${this.port}`;
  }

  /** Clients connected right now. */
  get connectedClients(): number {
    return this.aedes.connectedClients;
  }

  /**
   * Starts aedes and listens on 127.0.0.1:port. Rejects with SpatialRewardError
   * ("backend_unavailable") when the port cannot be bound (in use, no permission), and with
   * InvalidInputError ("bad_argument") for a port outside 0..65535.
   */
  static async start(options: EmbeddedBrokerOptions = {}): Promise<EmbeddedBroker> {
    const port = options.port ?? 0;
    if (!Number.isInteger(port) || port < 0 || port > 65535) {
      throw new InvalidInputError("bad_argument", `embedded broker port must be an integer from 0 to 65535, got ${port}`);
    }
    const store = new BoundedSessionStore(
      resolveSessionQueueLimits({
        maxQueuedMessages: options.maxQueuedMessages, maxQueuedBytes: options.maxQueuedBytes,
        maxRetainedMessages: options.maxRetainedMessages, maxRetainedBytes: options.maxRetainedBytes,
      }),
      options.onQueueDrop,
    );
    const aedes = await Aedes.createBroker({
      persistence: store,
      concurrency: options.concurrency ?? 1000,
      drainTimeout: options.drainTimeoutMs ?? 30_000,
      // Long client ids (host-qualified ingest ids) are fine: MQTT 3.1.1 allows them.
      maxClientsIdLength: 256,
    });
    const sockets = new Set<Socket>();
    const server = createServer((socket) => {
      sockets.add(socket);
      socket.on("close", () => sockets.delete(socket));
      // A client that resets its connection must not surface as an unhandled 'error'.
      socket.on("error", () => {});
      aedes.handle(socket);
    });
    // A client's protocol error is that client's problem (aedes closes it); never the process's.
    aedes.on("clientError", () => {});
    aedes.on("connectionError", () => {});
    try {
      await new Promise<void>((resolve, reject) => {
        server.once("error", reject);
        server.listen(port, EMBEDDED_BROKER_HOST, () => {
          server.off("error", reject);
          resolve();
        });
      });
    } catch (e) {
      await new Promise<void>((resolve) => aedes.close(() => resolve()));
      const code = (e as NodeJS.ErrnoException).code;
      throw new SpatialRewardError(
        "backend_unavailable",
        `embedded MQTT broker cannot listen on ${EMBEDDED_BROKER_HOST}:${port}: ${code === "EADDRINUSE" ? "the port is in use (another broker?)" : (e as Error).message}`,
      );
    }
    const address = server.address();
    const bound = typeof address === "object" && address !== null ? address.port : port;
    return new EmbeddedBroker(aedes, server, sockets, bound, store);
  }

  /** Disconnects every client and closes the listener. Idempotent. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
      await new Promise<void>((resolve) => this.aedes.close(() => resolve()));
      for (const s of this.sockets) s.destroy();
      await closed;
    })();
    return this.stopping;
  }
}
