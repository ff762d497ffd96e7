import wsProtocol, { type Channel, type IWebSocket, type MessageData } from "@foxglove/ws-protocol";
import { WebSocket } from "ws";

/**
 * A test client built on the protocol's own client library (FoxgloveClient from
 * @foxglove/ws-protocol) over a real `ws` WebSocket: what Foxglove itself does on connect.
 */
const { FoxgloveClient } = wsProtocol;
type FoxgloveClientInstance = InstanceType<typeof FoxgloveClient>;

export interface Received {
  channel: Channel;
  /** A copy of the payload. */
  data: Uint8Array;
  timestamp: bigint;
}

export class TestClient {
  readonly channels = new Map<number, Channel>();
  readonly received: Received[] = [];
  readonly statuses: { level: number; message: string }[] = [];
  private readonly bySubscription = new Map<number, Channel>();
  private readonly client: FoxgloveClientInstance;
  closed = false;

  private constructor(readonly ws: WebSocket) {
    this.client = new FoxgloveClient({ ws: ws as unknown as IWebSocket });
    this.client.on("advertise", (channels) => {
      for (const c of channels) this.channels.set(c.id, c);
    });
    this.client.on("status", (s) => this.statuses.push({ level: s.level, message: s.message }));
    this.client.on("message", (m: MessageData) => {
      const channel = this.bySubscription.get(m.subscriptionId);
      if (!channel) return;
      const data = new Uint8Array(m.data.buffer, m.data.byteOffset, m.data.byteLength).slice();
      this.received.push({ channel, data, timestamp: m.timestamp });
    });
    this.client.on("close", () => {
      this.closed = true;
    });
    this.client.on("error", () => {});
  }

  /** Connects and waits until the server has advertised its channels. */
  static async connect(url: string, timeoutMs = 10_000): Promise<TestClient> {
    const ws = new WebSocket(url, [FoxgloveClient.SUPPORTED_SUBPROTOCOL]);
    const c = new TestClient(ws);
    if (!(await waitUntil(() => c.channels.size > 0 || c.closed, timeoutMs)) || c.closed) {
      ws.terminate();
      throw new Error(`no channels advertised by ${url} within ${timeoutMs} ms`);
    }
    return c;
  }

  channel(topic: string): Channel {
    const c = [...this.channels.values()].find((x) => x.topic === topic);
    if (!c) throw new Error(`no channel ${topic}; advertised: ${[...this.channels.values()].map((x) => x.topic).join(", ")}`);
    return c;
  }

  subscribe(topic: string): number {
    const channel = this.channel(topic);
    const id = this.client.subscribe(channel.id);
    this.bySubscription.set(id, channel);
    return id;
  }

  unsubscribe(subscriptionId: number): void {
    this.client.unsubscribe(subscriptionId);
  }

  messages(topic: string): Received[] {
    return this.received.filter((r) => r.channel.topic === topic);
  }

  async close(): Promise<void> {
    if (this.ws.readyState === WebSocket.CLOSED) return;
    await new Promise<void>((resolve) => {
      this.ws.once("close", () => resolve());
      this.ws.close();
    });
  }
}

export async function waitUntil(cond: () => boolean, timeoutMs = 10_000): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) return false;
    await new Promise((r) => setTimeout(r, 10));
  }
  return true;
}
