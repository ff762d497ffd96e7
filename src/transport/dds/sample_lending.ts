import type { MessageTypeName, MessageTypes } from "../../msgs/generated.js";
import type { Subscription, TransportNode } from "../port.js";
import type { QoS } from "../qos.js";

/**
 * Lent samples: a subscription whose large samples (camera images) are decoded as views of
 * memory the transport reuses, so a stream of frames allocates no new buffers per frame (fresh
 * multi-megabyte buffers cost page faults, and V8 answers their external memory with full GCs).
 *
 * The contract: a lent message's byte arrays (and every view made of them, or of their
 * `.buffer`) stay valid until `releaseSample(lease)` or until their subscription is destroyed
 * (or the transport shut down), whichever comes first; after that a later sample may overwrite
 * them. (Over Cyclone's shared memory the reader's iceoryx subscriber goes with the subscription
 * and iceoryx gives its chunks to writers again, whatever JS still holds: copy what must outlive
 * the subscription. Its lease is still released as usual.) Release every lease once, when nothing
 * reads the message any more, dropped messages too (StampSynchronizer's onDrop says when). Never write into a
 * lent message's arrays: over Cyclone's shared memory they are the iceoryx chunk the sample came
 * in, which other readers (other nodes, other processes) read too. A lent message the
 * consumer dropped without releasing it is released when it is garbage-collected, and counted
 * (`lent.reclaimed_by_gc`): a backstop, as over shared memory it holds a chunk until then.
 * `lease` 0 means the sample was not lent (small, or the pool was full, or over shared memory its
 * reader's samples already hold twice its depth of iceoryx chunks): it is an ordinary message and
 * releasing 0 does nothing.
 *
 * Only the dds backend lends; use sampleLending() to find out and fall back to
 * createSubscription elsewhere (inproc messages are the publisher's objects anyway).
 */
export interface SampleLending {
  createLentSubscription<K extends MessageTypeName>(type: K, topic: string, qos: QoS, callback: (msg: MessageTypes[K], lease: number) => void): Subscription;
  createLentSubscription<T>(type: string, topic: string, qos: QoS, callback: (msg: T, lease: number) => void): Subscription;
  releaseSample(lease: number): void;
  /**
   * Adds memory for `count` samples of about `sampleBytes` each to the process's pool (e.g. a
   * camera's images, before its first frame), so the first frames neither allocate nor fault
   * pages in. Each call adds its own: every camera of a process reserves for itself. Memory
   * beyond what the pool keeps free (64 MiB) is given back as frames are taken.
   * Returns how many were added (fewer when the pool is full).
   */
  reserveSamples(sampleBytes: number, count: number): number;
}

/** The node's lending, when its backend lends samples; null otherwise. */
export function sampleLending(node: TransportNode): SampleLending | null {
  const n = node as Partial<SampleLending>;
  return typeof n.createLentSubscription === "function" && typeof n.releaseSample === "function" && typeof n.reserveSamples === "function"
    ? (node as unknown as SampleLending)
    : null;
}
