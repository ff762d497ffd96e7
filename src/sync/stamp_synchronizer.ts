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
 * Each stream's stamps pass a StampGate: a message older than the stream's last one is
 * `dropped.out_of_order.<stream>`; one more than maxJumpNs away is an outlier,
 * `dropped.stamp_jump.ahead|back.<stream>`, and never enters the queue, so it cannot block
 * the stream or evict its partners. When jumpConfirm consecutive messages agree on a new
 * timeline the stream adopts it (`stamp_jump.adopted.<stream>`, `lastTimelineJump`), and its
 * queued messages from the old timeline are dropped as unmatched.
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
      case "out_of_order":
        this.counters.inc(`dropped.out_of_order.${name}`);
        return;
      case "jump_ahead":
        this.counters.inc(`dropped.stamp_jump.ahead.${name}`);
        return;
      case "jump_back":
        this.counters.inc(`dropped.stamp_jump.back.${name}`);
        return;
      case "adopt":
        if (q.length) this.counters.inc(`dropped.unmatched.${name}`, q.length);
        q.length = 0;
        gate.commit(stamp, verdict);
        this.jump = { stream: name, ...gate.lastJump! };
        this.counters.inc(`stamp_jump.adopted.${name}`);
        break;
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
