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
 * of the set's first stamp. Messages that can no longer be matched are counted as
 * `dropped.unmatched.<stream>`, never dropped silently.
 *
 * A message older than one still queued on its stream is `dropped.out_of_order.<stream>`
 * (`dropped.stamp_jump.back.<stream>` if more than maxJumpNs older). Each stream's stamps pass
 * a StampGate: a message more than maxJumpNs ahead of the stream's last one is an outlier,
 * `dropped.stamp_jump.ahead.<stream>`, and never enters the queue, so it cannot block the
 * stream or evict its partners; one that far behind is queued if nothing newer is waiting
 * (an old message is evicted by its partners' newer ones, counted as unmatched) and noted as
 * `stamp_jump.back.<stream>`. When jumpConfirm consecutive messages agree on a new timeline
 * the stream adopts it (`stamp_jump.adopted.<stream>`, `lastTimelineJump`), and its queued
 * messages from the old timeline are dropped as unmatched.
 */
export class StampSynchronizer<T extends readonly unknown[]> {
  readonly counters: Counters;
  private readonly queues: { stamp: bigint; msg: unknown }[][];
  private readonly gates: StampGate[];
  private readonly names: readonly string[];
  private jump: (TimelineJump & { stream: string }) | null = null;

  constructor(
    names: readonly string[],
    private readonly options: SyncOptions,
    private readonly onSet: (stamp: bigint, msgs: T) => void,
    counters?: Counters,
  ) {
    this.names = names;
    this.queues = names.map(() => []);
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
      return;
    }
    const gate = this.gates[stream];
    const verdict = gate.check(stamp);
    switch (verdict) {
      case "jump_ahead":
        // Far ahead of its stream: queued, it would be the pivot and evict every partner's
        // messages until they caught up with it. Dropped; it costs only itself.
        this.counters.inc(`dropped.stamp_jump.ahead.${name}`);
        return;
      case "out_of_order":
      case "jump_back":
        // Older than a message still queued on this stream: it can never be matched. Older
        // only than what already went out in a set: it may still form a set (a late frame, or
        // the start of a bag replayed from its beginning), and the consumer judges its stamp.
        // It is not committed: until `jumpConfirm` of them agree, the stream's timeline stays.
        if (q.length > 0 && stamp < q[q.length - 1].stamp) {
          this.counters.inc(verdict === "out_of_order" ? `dropped.out_of_order.${name}` : `dropped.stamp_jump.back.${name}`);
          return;
        }
        if (verdict === "jump_back") this.counters.inc(`stamp_jump.back.${name}`);
        break;
      case "adopt": {
        gate.commit(stamp, verdict);
        // Queued messages of the old timeline (after this one, or far before it) can never match.
        const max = gate.options.maxJumpNs;
        const kept = q.filter((e) => e.stamp <= stamp && stamp - e.stamp <= max);
        if (kept.length < q.length) this.counters.inc(`dropped.unmatched.${name}`, q.length - kept.length);
        q.length = 0;
        q.push(...kept);
        this.jump = { stream: name, ...gate.lastJump! };
        this.counters.inc(`stamp_jump.adopted.${name}`);
        break;
      }
      case "accept":
        gate.commit(stamp, verdict);
        break;
    }
    q.push({ stamp, msg });
    if (q.length > this.options.queueSize) {
      q.shift();
      this.counters.inc(`dropped.unmatched.${name}`);
    }
    this.tryMatch();
  }

  /** Counts and discards everything pending (e.g. at shutdown). */
  flush(): void {
    this.queues.forEach((q, i) => {
      if (q.length) this.counters.inc(`dropped.unmatched.${this.names[i]}`, q.length);
      q.length = 0;
    });
  }

  pending(): number {
    return this.queues.reduce((n, q) => n + q.length, 0);
  }

  /** Messages waiting on one stream. */
  pendingOf(stream: number): number {
    return this.queues[stream].length;
  }

  private tryMatch(): void {
    const slop = this.options.slopNs;
    for (;;) {
      if (this.queues.some((q) => q.length === 0)) return;
      // Pivot: the latest of the heads; heads older than pivot − slop can never match.
      let pivot = this.queues[0][0].stamp;
      for (const q of this.queues) if (q[0].stamp > pivot) pivot = q[0].stamp;
      let evicted = false;
      this.queues.forEach((q, i) => {
        while (q.length > 0 && q[0].stamp < pivot - slop) {
          q.shift();
          this.counters.inc(`dropped.unmatched.${this.names[i]}`);
          evicted = true;
        }
      });
      if (evicted) continue;
      const msgs = this.queues.map((q) => q.shift()!.msg) as unknown as T;
      this.counters.inc("sync.sets");
      this.onSet(pivot, msgs);
    }
  }
}
