import type { Client } from "aedes";
import type { AedesPacket } from "aedes-packet";
import MemoryPersistence from "aedes-persistence/asyncPersistence.js";
import { InvalidInputError } from "../../src/errors.js";

/**
 * Per-client bound on the QoS 1/2 messages the embedded broker stores for a persistent session
 * (clean=false): the messages queued while the client is away plus those sent and not yet
 * acknowledged. Whichever limit is reached first applies.
 */
export interface SessionQueueLimits {
  /** Messages per client (default 100000: about 7 minutes of a 240 Hz stream). */
  maxQueuedMessages: number;
  /** Payload + topic bytes per client (default 256 MiB: about 100 s of an 11 kB frame at 240 Hz). */
  maxQueuedBytes: number;
  /**
   * Retained messages kept (one per topic) and their bytes, all topics (defaults 10000 and
   * 64 MiB): a client retaining on ever new topics must not grow the broker either. Past them a
   * retained message on a new topic is delivered but not kept, and counted.
   */
  maxRetainedMessages: number;
  maxRetainedBytes: number;
}

export const DEFAULT_SESSION_QUEUE_LIMITS: Readonly<SessionQueueLimits> = Object.freeze({
  maxQueuedMessages: 100_000, maxQueuedBytes: 256 << 20, maxRetainedMessages: 10_000, maxRetainedBytes: 64 << 20,
});

/** Checks limits (InvalidInputError bad_argument naming the bad one) and fills defaults. */
export function resolveSessionQueueLimits(l: Partial<SessionQueueLimits> = {}): SessionQueueLimits {
  const d = DEFAULT_SESSION_QUEUE_LIMITS;
  const out: SessionQueueLimits = {
    maxQueuedMessages: l.maxQueuedMessages ?? d.maxQueuedMessages,
    maxQueuedBytes: l.maxQueuedBytes ?? d.maxQueuedBytes,
    maxRetainedMessages: l.maxRetainedMessages ?? d.maxRetainedMessages,
    maxRetainedBytes: l.maxRetainedBytes ?? d.maxRetainedBytes,
  };
  for (const [k, v] of Object.entries(out)) {
    if (!Number.isSafeInteger(v) || v < 1) throw new InvalidInputError("bad_argument", `embedded broker ${k} must be a positive integer, got ${v}`);
  }
  return out;
}

/** One drop: the client whose queue was full, and its queue then. */
export interface SessionQueueDrop {
  clientId: string;
  topic: string;
  queuedMessages: number;
  queuedBytes: number;
  /** This client's drops so far, this one included. */
  clientDrops: number;
}

interface Queue {
  messages: number;
  bytes: number;
  drops: number;
  /** Packets refused while the client was connected: delivered live, so their messageId update must not fail (bounded). */
  refusedLive: Set<string>;
}

/** How many refused-live packet keys a client keeps (they are consumed within one delivery). */
const MAX_REFUSED_LIVE = 4096;

/** What this store reads of a stored packet (aedes only stores PUBLISH packets in session queues). */
interface Stored {
  topic?: string;
  payload?: { length: number };
  brokerId: string;
  brokerCounter: number;
}
const stored = (p: AedesPacket): Stored => p as unknown as Stored;
const sizeOf = (p: AedesPacket): number => (stored(p).payload?.length ?? 0) + Buffer.byteLength(stored(p).topic ?? "");
const keyOf = (p: AedesPacket): string => `${p.brokerId}:${p.brokerCounter}`;

/**
 * aedes' in-memory persistence (aedes-persistence, the one aedes uses by default) with a bound on
 * each persistent session's outgoing queue. Unbounded, a subscriber that stays away (or stalls)
 * while a 240 Hz stream goes on grows the broker's memory by ~2.6 MB/s until the process dies.
 * Past the bound a new message is not stored for that client, counted and reported through
 * onDrop: Mosquitto's max_queued_messages / max_queued_bytes behaviour (the newest are dropped,
 * so what the client gets when it is back is the oldest part of the backlog, then the live
 * stream; the ingest counts the gap by frame number). A connected client still gets a refused
 * message live, as Mosquitto sends it when in-flight slots are free; only storage is refused.
 */
export class BoundedSessionStore extends MemoryPersistence {
  private readonly queues = new Map<string, Queue>();
  private readonly limits: SessionQueueLimits;
  private dropped = 0;
  private aedes: { clients: Record<string, unknown> } | null = null;
  /** Retained topics kept and their sizes. */
  private readonly retained = new Map<string, number>();
  private retainedBytes = 0;
  private retainedDropped = 0;

  constructor(limits: Partial<SessionQueueLimits> = {}, private readonly onDrop: (d: SessionQueueDrop) => void = () => {}) {
    super();
    this.limits = resolveSessionQueueLimits(limits);
  }

  override async setup(broker: { clients: Record<string, unknown> }): Promise<void> {
    this.aedes = broker;
    await super.setup(broker);
  }

  /** Messages refused so far, all clients. */
  get droppedMessages(): number {
    return this.dropped;
  }

  /** Retained messages not kept (over maxRetainedMessages / maxRetainedBytes), and those kept. */
  get retainedStats(): { kept: number; bytes: number; dropped: number } {
    return { kept: this.retained.size, bytes: this.retainedBytes, dropped: this.retainedDropped };
  }

  override async storeRetained(packet: AedesPacket): Promise<void> {
    const topic = stored(packet).topic ?? "";
    const size = sizeOf(packet);
    const before = this.retained.get(topic);
    if ((stored(packet).payload?.length ?? 0) === 0) {
      // An empty retained message clears the topic's.
      if (before !== undefined) {
        this.retained.delete(topic);
        this.retainedBytes -= before;
      }
      await super.storeRetained(packet);
      return;
    }
    const count = this.retained.size + (before === undefined ? 1 : 0);
    const bytes = this.retainedBytes - (before ?? 0) + size;
    if (count > this.limits.maxRetainedMessages || bytes > this.limits.maxRetainedBytes) {
      this.retainedDropped++;
      return;
    }
    this.retained.set(topic, size);
    this.retainedBytes = bytes;
    await super.storeRetained(packet);
  }

  /** Each client's stored queue and drops (clients with neither left out). */
  queueStats(): Record<string, { messages: number; bytes: number; drops: number }> {
    const out: Record<string, { messages: number; bytes: number; drops: number }> = {};
    for (const [id, q] of this.queues) if (q.messages > 0 || q.drops > 0) out[id] = { messages: q.messages, bytes: q.bytes, drops: q.drops };
    return out;
  }

  private queueOf(clientId: string): Queue {
    let q = this.queues.get(clientId);
    if (!q) {
      q = { messages: 0, bytes: 0, drops: 0, refusedLive: new Set() };
      this.queues.set(clientId, q);
    }
    return q;
  }

  /** Takes a place in `clientId`'s queue for `packet`, or counts the refusal; true when stored. */
  private admit(clientId: string, packet: AedesPacket): boolean {
    const q = this.queueOf(clientId);
    const size = sizeOf(packet);
    if (q.messages + 1 > this.limits.maxQueuedMessages || q.bytes + size > this.limits.maxQueuedBytes) {
      q.drops++;
      this.dropped++;
      if (this.aedes?.clients[clientId] !== undefined) {
        if (q.refusedLive.size >= MAX_REFUSED_LIVE) q.refusedLive.delete(q.refusedLive.values().next().value as string);
        q.refusedLive.add(keyOf(packet));
      }
      try {
        this.onDrop({ clientId, topic: stored(packet).topic ?? "", queuedMessages: q.messages, queuedBytes: q.bytes, clientDrops: q.drops });
      } catch {
        // A reporting callback must not break the broker's publish path.
      }
      return false;
    }
    q.messages++;
    q.bytes += size;
    return true;
  }

  override async outgoingEnqueue(sub: { clientId: string }, packet: AedesPacket): Promise<void> {
    if (this.admit(sub.clientId, packet)) await super.outgoingEnqueue(sub, packet);
  }

  override async outgoingEnqueueCombi(subs: { clientId: string }[], packet: AedesPacket): Promise<void> {
    const admitted = subs.filter((s) => this.admit(s.clientId, packet));
    if (admitted.length > 0) await super.outgoingEnqueueCombi(admitted, packet);
  }

  override async outgoingUpdate(client: Client, packet: AedesPacket): Promise<void> {
    try {
      await super.outgoingUpdate(client, packet);
    } catch (e) {
      // A message this store refused is delivered live to a connected client: not stored, not an error.
      const q = this.queues.get(client.id);
      if (q && q.refusedLive.delete(keyOf(packet))) return;
      throw e;
    }
  }

  override async outgoingClearMessageId(client: Client, packet: AedesPacket): Promise<AedesPacket> {
    const removed = await super.outgoingClearMessageId(client, packet);
    if (removed) {
      const q = this.queues.get(client.id);
      if (q) {
        q.messages = Math.max(0, q.messages - 1);
        q.bytes = Math.max(0, q.bytes - sizeOf(removed));
      }
    }
    return removed;
  }
}
