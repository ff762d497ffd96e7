import { Counters } from "../diagnostics/counters.js";
import { DEFAULT_STAMP_GATE_OPTIONS, StampGate, type TimelineJump } from "../time/stamp_gate.js";

export interface SyncOptions {
  /** 0 = exact stamps (ROS message_filters ExactTime); > 0 = approximate within this slop. */
  slopNs: bigint;
  /** Pending messages kept per stream before the oldest is evicted (and counted). */
  queueSize: number;
  /** A message stamped further than this from its stream's last one is a jump (default 5 s). */
  maxJumpNs?: bigint;
  /** Consecutive messages on a new timeline before a stream adopts it (default 3). */
  jumpConfirm?: number;
}

/**
 * Matches messages from several streams by header stamp, like message_filters' ExactTime and
 * ApproximateTime policies. A set is emitted when every stream has a message within `slop`
 * of a message of the first stream; its stamp is the latest of the set. Messages that can no
 * longer be matched (a later set went out, or the queue overflowed) are counted as
 * `dropped.unmatched.<stream>`, never dropped silently, and handed to `onDrop` (once each, as they
go: a lent camera image goes back to its pool then, not when it is garbage-collected).
 *
 * A message older than one still queued on its stream (by less than maxJumpNs) takes its
 * place in stamp order: a stray message stamped a little ahead must not make its stream drop
 * every later one until time catches up (`sync.reordered.<stream>`); one more than maxJumpNs
 * older is `dropped.stamp_jump.back.<stream>`. Each stream's stamps pass
 * a StampGate: a message more than maxJumpNs ahead of the stream's last one is an outlier,
 * `dropped.stamp_jump.ahead.<stream>`, and never enters the queue, so it cannot block the
 * stream; one that far behind is queued if nothing newer is waiting (it goes out as unmatched
 * once a later set passes it) and noted as `stamp_jump.back.<stream>`. When jumpConfirm consecutive messages agree on a new timeline
 * the stream adopts it (`stamp_jump.adopted.<stream>`, `lastTimelineJump`), and its queued
 * messages from the old timeline are dropped as unmatched.
 */
export class StampSynchronizer<T extends readonly unknown[]> {
  readonly counters: Counters;
  private readonly queues: { stamp: bigint; msg: unknown }[][];
  private readonly gates: StampGate[];
  private readonly names: readonly string[];
  private jump: (TimelineJump & { stream: string }) | null = null;
  /** Per stream, the queue index of the message a set takes (scratch for tryMatch). */
  private readonly picked: number[];

  constructor(
    names: readonly string[],
    private readonly options: SyncOptions,
    private readonly onSet: (stamp: bigint, msgs: T) => void,
    counters?: Counters,
    /**
     * Every message that leaves without going out in a set (any `dropped.*` above, and flush()),
     * once. An exception it throws is counted (`errors.sync_drop_hook`), never rethrown.
     */
    private readonly onDrop?: (stream: number, msg: T[number]) => void,
  ) {
    this.names = names;
    this.queues = names.map(() => []);
    this.picked = names.map(() => 0);
    const gate = {
      maxJumpNs: options.maxJumpNs ?? DEFAULT_STAMP_GATE_OPTIONS.maxJumpNs,
      confirm: options.jumpConfirm ?? DEFAULT_STAMP_GATE_OPTIONS.confirm,
    };
    this.gates = names.map(() => new StampGate(gate));
    this.counters = counters ?? new Counters();
  }

  /** The last timeline a stream adopted (for the node to log), null if none. */
  get lastTimelineJump(): (TimelineJump & { stream: string }) | null {
    return this.jump;
  }

  add(stream: number, stamp: bigint, msg: T[number]): void {
    const q = this.queues[stream];
    const name = this.names[stream];
    this.counters.inc(`sync.in.${name}`);
    if (typeof stamp !== "bigint") {
      // Callers convert stamps with stampFromRos, which throws on bad ones; this is the backstop.
      this.counters.inc(`dropped.bad_stamp.${name}`);
      this.dropped(stream, msg);
      return;
    }
    const gate = this.gates[stream];
    const verdict = gate.check(stamp);
    switch (verdict) {
      case "jump_ahead":
        // Far ahead of its stream: queued, it would be the pivot and evict every partner's
        // messages until they caught up with it. Dropped; it costs only itself.
        this.counters.inc(`dropped.stamp_jump.ahead.${name}`);
        this.dropped(stream, msg);
        return;
      case "out_of_order":
      case "jump_back":
        // Older than a message still queued on this stream: it can never be matched. Older
        // only than what already went out in a set: it may still form a set (a late frame, or
        // the start of a bag replayed from its beginning), and the consumer judges its stamp.
        // It is not committed: until `jumpConfirm` of them agree, the stream's timeline stays.
        if (q.length > 0 && stamp < q[q.length - 1].stamp) {
          if (verdict === "jump_back") {
            this.counters.inc(`dropped.stamp_jump.back.${name}`);
            this.dropped(stream, msg);
            return;
          }
          // Either this one or the newer queued one is mis-stamped; the partners' stamps decide
          // which matches, and the other is evicted as unmatched.
          let at = q.length - 1;
          while (at > 0 && q[at - 1].stamp > stamp) at--;
          q.splice(at, 0, { stamp, msg });
          this.counters.inc(`sync.reordered.${name}`);
          this.enforceQueueSize(stream);
          this.tryMatch();
          return;
        }
        if (verdict === "jump_back") this.counters.inc(`stamp_jump.back.${name}`);
        break;
      case "adopt": {
        gate.commit(stamp, verdict);
        // Queued messages of the old timeline (after this one, or far before it) can never match.
        const max = gate.options.maxJumpNs;
        const old = q.splice(0);
        for (const e of old) {
          if (e.stamp <= stamp && stamp - e.stamp <= max) q.push(e);
          else {
            this.counters.inc(`dropped.unmatched.${name}`);
            this.dropped(stream, e.msg);
          }
        }
        this.jump = { stream: name, ...gate.lastJump! };
        this.counters.inc(`stamp_jump.adopted.${name}`);
        break;
      }
      case "accept":
        gate.commit(stamp, verdict);
        break;
    }
    q.push({ stamp, msg });
    this.enforceQueueSize(stream);
    this.tryMatch();
  }

  private enforceQueueSize(stream: number): void {
    const q = this.queues[stream];
    if (q.length > this.options.queueSize) {
      const e = q.shift()!;
      this.counters.inc(`dropped.unmatched.${this.names[stream]}`);
      this.dropped(stream, e.msg);
    }
  }

  /** A message leaves unmatched: the caller's hook, whose exceptions stay here. */
  private dropped(stream: number, msg: unknown): void {
    if (!this.onDrop) return;
    try {
      this.onDrop(stream, msg as T[number]);
    } catch {
      this.counters.inc("errors.sync_drop_hook");
    }
  }

  /** Counts and discards everything pending (e.g. at shutdown). */
  flush(): void {
    this.queues.forEach((q, i) => {
      if (q.length) this.counters.inc(`dropped.unmatched.${this.names[i]}`, q.length);
      for (const e of q.splice(0)) this.dropped(i, e.msg);
    });
  }

  pending(): number {
    return this.queues.reduce((n, q) => n + q.length, 0);
  }

  /** Messages waiting on one stream. */
  pendingOf(stream: number): number {
    return this.queues[stream].length;
  }

  /**
   * Emits every complete set, earliest first. A set is anchored on a message of the first
   * stream; each other stream contributes its message closest to the anchor within the slop.
   * Once a set goes out, what is older in each stream than the message it used can never be
   * matched (sets go out in stamp order) and is dropped as unmatched. Nothing else is evicted:
   * a queued message stamped ahead of its partners waits without displacing them, and ages out
   * when a later set passes it or the queue overflows.
   */
  private tryMatch(): void {
    const slop = this.options.slopNs;
    const picked = this.picked;
    for (;;) {
      if (this.queues.some((q) => q.length === 0)) return;
      let found = false;
      for (let a = 0; a < this.queues[0].length && !found; a++) {
        const anchor = this.queues[0][a].stamp;
        picked[0] = a;
        found = true;
        for (let j = 1; j < this.queues.length && found; j++) {
          picked[j] = closestWithin(this.queues[j], anchor, slop);
          found = picked[j] >= 0;
        }
      }
      if (!found) return;
      let stamp = this.queues[0][picked[0]].stamp;
      const msgs = this.queues.map((q, i) => {
        const e = q[picked[i]];
        if (e.stamp > stamp) stamp = e.stamp;
        if (picked[i] > 0) this.counters.inc(`dropped.unmatched.${this.names[i]}`, picked[i]);
        const gone = q.splice(0, picked[i] + 1);
        for (let k = 0; k < gone.length - 1; k++) this.dropped(i, gone[k].msg);
        return e.msg;
      }) as unknown as T;
      this.counters.inc("sync.sets");
      this.onSet(stamp, msgs);
    }
  }
}

/** Index of the queued message closest to `stamp` within `slop` (the earliest on a tie), or -1. */
function closestWithin(q: readonly { stamp: bigint }[], stamp: bigint, slop: bigint): number {
  let best = -1;
  let bestD = 0n;
  for (let i = 0; i < q.length; i++) {
    const d = q[i].stamp >= stamp ? q[i].stamp - stamp : stamp - q[i].stamp;
    if (d <= slop && (best < 0 || d < bestD)) {
      best = i;
      bestD = d;
    }
    // Sorted by stamp: once past stamp + slop nothing later can match.
    if (q[i].stamp > stamp + slop) break;
  }
  return best;
}
