import { createServer, type IncomingMessage, type Server as HttpServer, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import wsProtocol from "@foxglove/ws-protocol";
import { WebSocketServer, type WebSocket } from "ws";
import { Counters } from "../../src/diagnostics/counters.js";
import { SpatialRewardError } from "../../src/errors.js";
import type * as M from "../../src/msgs/generated.js";
import { ros2Schema } from "../../src/record/ros2msg_schema.js";
import { codecFor, type AnyCodec } from "../../src/transport/dds/codec_cache.js";
import { parseRemapRule, resolveName } from "../../src/transport/names.js";
import type { Subscription, Transport, TransportNode } from "../../src/transport/port.js";
import { DiagnosticsPublisher } from "../diagnostics_publisher.js";
import { BRIDGE_TOPICS, boxesTopic, type BridgeTopic } from "./bridge_topics.js";
import type { ClientRequest } from "./client_message.js";
import { MAX_CLIENT_MESSAGE_BYTES } from "./client_message.js";
import { ClientSocket, type ClientSocketHooks } from "./client_socket.js";
import { PayloadPool } from "./payload_pool.js";
import { SCENE_UPDATE_JSON_SCHEMA } from "./scene_update_schema.js";
import { sceneUpdateFromScene } from "./scene_update.js";

const { FoxgloveServer } = wsProtocol;
type FoxgloveServerInstance = InstanceType<typeof FoxgloveServer>;

/** `--foxglove` without a port: the port Foxglove's "Foxglove WebSocket" connection suggests. */
export const DEFAULT_FOXGLOVE_PORT = 8765;
export const DEFAULT_FOXGLOVE_HOST = "127.0.0.1";
const NODE_NAME = "foxglove_bridge";
/**
 * Bytes a client may have waiting before frames are dropped for it: about four 640x480 RGB-D
 * frames (rgb8 + 32FC1), ~130 ms of one camera, so a reading client rides out a scheduling
 * hiccup while a stalled one costs a bounded amount of memory.
 */
export const DEFAULT_MAX_BUFFERED_BYTES = 8 * 1024 * 1024;
/** Bytes waiting at which a client that stopped reading is disconnected. */
export const DEFAULT_MAX_CLIENT_BYTES = 64 * 1024 * 1024;

export interface FoxgloveBridgeOptions {
  /** Interface to listen on (default 127.0.0.1: this machine only). */
  host?: string;
  /** TCP port (default 8765; 0 = any free port, see `port` once started). */
  port?: number;
  /** The graphs' namespaces (one per camera); relative topics are offered for each. Default ["/"]. */
  namespaces?: readonly string[];
  /** ROS remap rules ("from:=to") applied to the bridged topic names, as the graph's nodes apply them. */
  remaps?: readonly string[];
  /** The topics offered (default BRIDGE_TOPICS). */
  topics?: readonly BridgeTopic[];
  /** Bytes a client may have waiting before frames are dropped for it (default DEFAULT_MAX_BUFFERED_BYTES, 8 MiB). */
  maxBufferedBytes?: number;
  /** Bytes a client may have waiting before it is disconnected (default 64 MiB). */
  maxClientBytes?: number;
  /** Clients served at once; more are refused (default 16). */
  maxClients?: number;
  /** Payload buffers per channel, i.e. frames in flight to slow sockets (default 16). */
  buffersPerChannel?: number;
}

/** One advertised channel. */
interface Output {
  readonly id: number;
  readonly topic: string;
  readonly kind: "cdr" | "boxes";
  readonly pool: PayloadPool;
  readonly latched: boolean;
  subscribed: boolean;
  /** A latched channel's last payload: resent when another client subscribes. */
  last: Uint8Array | null;
  readonly keys: { sent: string; bytes: string; slow: string; closed: string; noBuffer: string };
}

/** One transport subscription feeding one or two channels (the CDR topic and its boxes). */
interface Tap {
  readonly node: TransportNode;
  /** The topic as the node subscribes it (relative names resolve in its namespace). */
  readonly name: string;
  readonly spec: BridgeTopic;
  readonly codec: AnyCodec;
  readonly outputs: Output[];
  sub: Subscription | null;
}

const utf8 = new TextEncoder();

function wsUrl(host: string, port: number): string {
  return `ws://${host.includes(":") ? `[${host}]` : host}:${port}`;
}

/** Closes a refused connection; one that does not answer the close within a second is cut. */
function refuse(ws: WebSocket, code: number, reason: string): void {
  ws.on("error", () => {});
  const timer = setTimeout(() => ws.terminate(), 1000);
  ws.once("close", () => clearTimeout(timer));
  ws.close(code, reason);
}

/** Loopback addresses: anything else is reachable from the network. */
export function isLoopbackHost(host: string): boolean {
  return host === "localhost" || host === "::1" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

/**
 * A Foxglove WebSocket server (the `@foxglove/ws-protocol` server on a `ws` socket) that shows
 * the node graph's live topics: camera images, camera_info, scenes (as CDR and as 3D boxes),
 * questions, answers, rewards, the task, /tf and /diagnostics (bridge_topics.ts). Foxglove
 * connects to `url` ("Open connection" → "Foxglove WebSocket").
 *
 * A topic is subscribed on the transport only while a client subscribes to one of its
 * channels, and encoded once per message for all of them: with no client the bridge costs
 * nothing. Frames go to each client only while it keeps up (client_socket.ts): a slow client
 * loses frames (counted per topic), never delays the node or the other clients, and cannot
 * make the bridge buffer without bound. Every client message is checked before the protocol
 * library sees it; bad ones are counted and answered, never fatal.
 *
 * Counters (`counters`, and on /diagnostics as the `foxglove_bridge` node): clients.*,
 * client_messages(.refused|.unsupported), errors.<code>, sent.<topic>, sent_bytes.<topic>,
 * dropped.<topic>.{slow_client,no_buffer,closed}, scene_objects_skipped, http.rejected,
 * socket_errors.
 */
export class FoxgloveBridge {
  readonly counters = new Counters();
  readonly host: string;
  port = 0;
  private readonly nodes: TransportNode[] = [];
  private readonly diagnostics: DiagnosticsPublisher;
  private readonly outputs = new Map<number, Output>();
  private readonly tapOf = new Map<number, Tap>();
  private readonly server: FoxgloveServerInstance;
  private readonly http: HttpServer;
  private readonly wss: WebSocketServer;
  private readonly clients = new Set<ClientSocket>();
  private readonly limits: { maxBufferedBytes: number; maxClientBytes: number; maxClients: number };
  /** The channel being sent, so a socket can attribute a drop and pin the right pool's buffer. */
  private sending: Output | null = null;
  private closed = false;

  /** Starts listening; rejects (SpatialRewardError bad_argument) when the address cannot be used. */
  static async start(transport: Transport, options: FoxgloveBridgeOptions = {}): Promise<FoxgloveBridge> {
    const bridge = new FoxgloveBridge(transport, options);
    try {
      await bridge.listen(options.port ?? DEFAULT_FOXGLOVE_PORT);
    } catch (e) {
      await bridge.close();
      throw e;
    }
    return bridge;
  }

  get url(): string {
    return wsUrl(this.host, this.port);
  }

  /** The advertised channels (id, topic, encoding, schema name). */
  get channels(): { id: number; topic: string; encoding: string; schemaName: string }[] {
    return [...this.outputs.values()].map((o) => {
      const tap = this.tapOf.get(o.id)!;
      return { id: o.id, topic: o.topic, encoding: o.kind === "cdr" ? "cdr" : "json", schemaName: o.kind === "cdr" ? tap.spec.type : "foxglove.SceneUpdate" };
    });
  }

  /** The topics the bridge is subscribed to on the transport now (only those a client watches). */
  subscribedTopics(): string[] {
    const topics = new Set<string>();
    for (const tap of this.tapOf.values()) if (tap.sub !== null) topics.add(tap.sub.topic);
    return [...topics];
  }

  /** Each connected client: frames dropped for it, bytes waiting, messages received and refused. */
  clientStats(): { name: string; dropped: number; bufferedAmount: number; received: number; refused: number }[] {
    return [...this.clients].map((c) => ({ name: c.name, dropped: c.dropped, bufferedAmount: c.bufferedAmount, received: c.received, refused: c.refused }));
  }

  /** Bytes held by the channels' payload buffers (bounded: buffersPerChannel per channel). */
  poolBytes(): number {
    let n = 0;
    for (const o of this.outputs.values()) n += o.pool.bytes;
    return n;
  }

  /** Clients connected now. */
  get clientCount(): number {
    return this.clients.size;
  }

  private constructor(transport: Transport, options: FoxgloveBridgeOptions) {
    this.host = options.host ?? DEFAULT_FOXGLOVE_HOST;
    this.limits = {
      maxBufferedBytes: options.maxBufferedBytes ?? DEFAULT_MAX_BUFFERED_BYTES,
      maxClientBytes: options.maxClientBytes ?? DEFAULT_MAX_CLIENT_BYTES,
      maxClients: options.maxClients ?? 16,
    };
    // Node rules (__node, __ns) name a node; the bridge keeps its own name and takes namespaces as given.
    const remaps = (options.remaps ?? []).filter((r) => !parseRemapRule(r).from.startsWith("__"));
    const namespaces = options.namespaces && options.namespaces.length > 0 ? [...new Set(options.namespaces)] : ["/"];
    this.server = new FoxgloveServer({ name: "spatial-reward", capabilities: [], supportedEncodings: ["cdr", "json"] });
    for (const [i, ns] of namespaces.entries()) {
      const node = transport.createNode(NODE_NAME, { namespace: ns, remaps });
      this.nodes.push(node);
      for (const spec of options.topics ?? BRIDGE_TOPICS) {
        // Absolute topics (/tf, /diagnostics) are the same in every namespace: offered once.
        if (spec.topic.startsWith("/") && i > 0) continue;
        this.addTopic(node, spec, resolveName(spec.topic, node.namespace, node.name, remaps), options.buffersPerChannel ?? 16);
      }
    }
    this.diagnostics = new DiagnosticsPublisher(this.nodes[0], "foxglove bridge", this.counters);
    this.server.on("subscribe", (id) => this.setSubscribed(id, true));
    this.server.on("unsubscribe", (id) => this.setSubscribed(id, false));
    this.server.on("error", (e) => this.diagnostics.errors.report(new SpatialRewardError("internal", `foxglove protocol library: ${e.message}`), "foxglove"));

    this.http = createServer((req, res) => this.plainRequest(req, res));
    this.http.on("clientError", (_e: Error, socket: Socket) => {
      // Not HTTP at all (random bytes, a half-sent request): counted, the socket closed.
      this.counters.inc("http.rejected");
      socket.destroy();
    });
    this.wss = new WebSocketServer({
      server: this.http,
      maxPayload: MAX_CLIENT_MESSAGE_BYTES,
      perMessageDeflate: false,
      handleProtocols: (protocols) => this.server.handleProtocols(protocols),
    });
    this.wss.on("wsClientError", (_e: Error, socket: Socket) => {
      // A malformed WebSocket handshake: what ws would answer, counted.
      this.counters.inc("http.rejected");
      if (socket.writable) socket.end("HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
      socket.destroy();
    });
    this.wss.on("connection", (ws: WebSocket, req: IncomingMessage) => this.connection(ws, req));
    // The http server reports listen errors; this listener keeps one from being thrown.
    this.wss.on("error", () => {});
  }

  private addTopic(node: TransportNode, spec: BridgeTopic, resolved: string, buffers: number): void {
    const tap: Tap = { node, name: spec.topic, spec, codec: codecFor(spec.type), outputs: [], sub: null };
    const schema = ros2Schema(spec.type);
    const add = (kind: Output["kind"], topic: string, channel: { encoding: string; schemaName: string; schema: string; schemaEncoding: string }) => {
      const id = this.server.addChannel({ topic, ...channel });
      const output: Output = {
        id, topic, kind, pool: new PayloadPool(buffers), latched: spec.qos.durability === "transient_local", subscribed: false, last: null,
        keys: {
          sent: `sent.${topic}`, bytes: `sent_bytes.${topic}`, slow: `dropped.${topic}.slow_client`,
          closed: `dropped.${topic}.closed`, noBuffer: `dropped.${topic}.no_buffer`,
        },
      };
      this.outputs.set(id, output);
      this.tapOf.set(id, tap);
      tap.outputs.push(output);
    };
    add("cdr", resolved, { encoding: "cdr", schemaName: schema.name, schema: new TextDecoder().decode(schema.data), schemaEncoding: "ros2msg" });
    if (spec.boxes) add("boxes", boxesTopic(resolved), { encoding: "json", schemaName: "foxglove.SceneUpdate", schema: SCENE_UPDATE_JSON_SCHEMA, schemaEncoding: "jsonschema" });
  }

  private listen(port: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const onError = (e: NodeJS.ErrnoException) => {
        this.http.off("listening", onListening);
        const why = e.code === "EADDRINUSE" ? "the port is in use" : e.code === "EADDRNOTAVAIL" ? "no such local address" : e.code === "EACCES" ? "permission denied" : e.message;
        reject(new SpatialRewardError("bad_argument", `foxglove: cannot listen on ${wsUrl(this.host, port)}: ${why}`));
      };
      const onListening = () => {
        this.http.off("error", onError);
        this.port = (this.http.address() as AddressInfo).port;
        // Later server errors (after listening) are counted, never thrown.
        this.http.on("error", () => this.counters.inc("http.errors"));
        resolve();
      };
      this.http.once("error", onError);
      this.http.once("listening", onListening);
      this.http.listen(port, this.host);
    });
  }

  /** A plain HTTP request (a browser opening the URL): say what this is. */
  private plainRequest(_req: IncomingMessage, res: ServerResponse): void {
    this.counters.inc("http.rejected");
    res.writeHead(426, { "Content-Type": "text/plain; charset=utf-8", Upgrade: "websocket", Connection: "close" });
    res.end(`spatial-reward: a Foxglove WebSocket server. In Foxglove, open a connection to ${this.url}\n`);
  }

  private connection(ws: WebSocket, req: IncomingMessage): void {
    const name = `${req.socket.remoteAddress ?? "?"}:${req.socket.remotePort ?? "?"}`;
    if (this.closed) {
      ws.terminate();
      return;
    }
    if (ws.protocol !== FoxgloveServer.SUPPORTED_SUBPROTOCOL) {
      this.counters.inc("clients.refused_protocol");
      refuse(ws, 1002, `subprotocol ${FoxgloveServer.SUPPORTED_SUBPROTOCOL} required`);
      return;
    }
    if (this.clients.size >= this.limits.maxClients) {
      this.counters.inc("clients.refused_limit");
      refuse(ws, 1013, `at most ${this.limits.maxClients} clients`);
      return;
    }
    const socket = new ClientSocket(ws, name, this.limits, this.hooks);
    this.clients.add(socket);
    this.counters.inc("clients.accepted");
    ws.on("close", () => {
      this.clients.delete(socket);
      this.counters.inc("clients.closed");
    });
    this.server.handleConnection(socket, name);
    this.nodes[0].logger.info(`foxglove client ${name} connected (${this.clients.size} connected)`);
  }

  private readonly hooks: ClientSocketHooks = {
    onRequest: (_socket, request) => {
      this.counters.inc("client_messages");
      if (request.op === "unsupported") this.counters.inc("client_messages.unsupported");
    },
    afterRequest: (_socket, request) => {
      if (request.op !== "subscribe") return;
      // A late subscriber to a latched topic (the task) gets its last value, as a ROS reader would.
      for (const { channelId } of request.subscriptions) {
        const o = this.outputs.get(channelId);
        if (o?.latched && o.last !== null) this.sendTo(o, o.last);
      }
    },
    onRefused: (socket, error) => {
      this.counters.inc("client_messages");
      this.counters.inc("client_messages.refused");
      this.diagnostics.errors.report(error, `foxglove client ${socket.name}`);
    },
    onDropped: (_socket, reason) => {
      const o = this.sending;
      if (o) this.counters.inc(reason === "slow_client" ? o.keys.slow : o.keys.closed);
    },
    retain: (payload) => this.sending?.pool.retain(payload) ?? null,
    onOverflow: (socket) => {
      this.counters.inc("clients.overflow");
      this.nodes[0].logger.warn(`foxglove client ${socket.name} disconnected: over ${this.limits.maxClientBytes} bytes waiting (it stopped reading)`);
    },
    onSocketError: (socket, error) => {
      const code = (error as { code?: unknown }).code;
      // ws's own codes name protocol violations by the client (bad frames, oversized messages).
      if (typeof code === "string" && code.startsWith("WS_ERR_")) {
        const typed = code === "WS_ERR_UNSUPPORTED_MESSAGE_LENGTH"
          ? new SpatialRewardError("payload_too_large", `over ${MAX_CLIENT_MESSAGE_BYTES} bytes (${error.message})`)
          : new SpatialRewardError("bad_message", `websocket protocol violation ${code}: ${error.message}`);
        this.counters.inc("client_messages.refused");
        this.diagnostics.errors.report(typed, `foxglove client ${socket.name}`);
      } else this.counters.inc("socket_errors");
    },
  };

  private setSubscribed(channelId: number, on: boolean): void {
    const o = this.outputs.get(channelId);
    const tap = this.tapOf.get(channelId);
    if (!o || !tap) return;
    o.subscribed = on;
    if (on && tap.sub === null) {
      try {
        tap.sub = tap.node.createSubscription<unknown>(tap.spec.type, tap.name, tap.spec.qos, this.diagnostics.errors.guard(tap.name, (msg: unknown) => this.forward(tap, msg)));
      } catch (e) {
        // The topic carries another type in this graph (type_mismatch), or the transport refused:
        // the clients are told, the channel stays silent, the server goes on.
        const typed = this.diagnostics.errors.report(e, `subscribing ${o.topic}`);
        this.server.sendStatus({ level: 2, message: `cannot subscribe to ${o.topic}: ${typed.message.slice(0, 300)}` });
      }
    } else if (!on && tap.sub !== null && !tap.outputs.some((x) => x.subscribed)) {
      tap.sub.destroy();
      tap.sub = null;
    }
  }

  /** One message of a tapped topic to every subscribed channel made from it. */
  private forward(tap: Tap, msg: unknown): void {
    for (const o of tap.outputs) {
      if (!o.subscribed) continue;
      if (o.kind === "cdr") this.sendCdr(tap, o, msg);
      else this.sendBoxes(o, msg as M.spatial_reward_msgs__msg__SceneObjects);
    }
  }

  private sendCdr(tap: Tap, o: Output, msg: unknown): void {
    const lease = o.pool.acquire(tap.codec.byteSize(msg));
    if (lease === null) {
      this.counters.inc(o.keys.noBuffer);
      return;
    }
    const bytes = tap.codec.encode(msg, lease.buffer);
    lease.adopt(bytes.buffer as ArrayBuffer);
    // The latched value is kept as a copy: the pool's buffer is written again by the next message.
    if (o.latched) o.last = bytes.slice();
    this.sendTo(o, bytes);
  }

  private sendBoxes(o: Output, scene: M.spatial_reward_msgs__msg__SceneObjects): void {
    const { update, skipped } = sceneUpdateFromScene(scene);
    if (skipped > 0) this.counters.inc("scene_objects_skipped", skipped);
    const text = JSON.stringify(update);
    // UTF-8 takes at most 3 bytes per UTF-16 code unit.
    const lease = o.pool.acquire(text.length * 3);
    if (lease === null) {
      this.counters.inc(o.keys.noBuffer);
      return;
    }
    const { written } = utf8.encodeInto(text, new Uint8Array(lease.buffer));
    this.sendTo(o, new Uint8Array(lease.buffer, 0, written));
  }

  private sendTo(o: Output, payload: Uint8Array): void {
    this.sending = o;
    try {
      this.server.sendMessage(o.id, BigInt(Date.now()) * 1_000_000n, payload);
    } finally {
      this.sending = null;
    }
    this.counters.inc(o.keys.sent);
    this.counters.inc(o.keys.bytes, payload.byteLength);
  }

  /**
   * Stops: clients are told the server is going away (close code 1001) and cut after 1 s if
   * they do not close, the port is released, the bridge's subscriptions and node are destroyed.
   * Idempotent; never rejects.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const tap of this.tapOf.values()) {
      tap.sub?.destroy();
      tap.sub = null;
    }
    const gone = [...this.clients].map((c) => new Promise<void>((resolve) => {
      if (c.ws.readyState === c.ws.CLOSED) return resolve();
      c.ws.once("close", () => resolve());
      c.ws.close(1001, "server shutting down");
    }));
    const timer = setTimeout(() => {
      for (const c of this.clients) c.ws.terminate();
    }, 1000);
    await Promise.all(gone);
    clearTimeout(timer);
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
    if (this.http.listening) {
      await new Promise<void>((resolve) => {
        this.http.close(() => resolve());
        this.http.closeAllConnections();
      });
    }
    for (const n of this.nodes) n.destroy();
  }
}
