import { Counters } from "../diagnostics/counters.js";

export interface SyncOptions {
  /** 0 = exact stamps (ROS message_filters ExactTime); > 0 = approximate within this slop. */
  slopNs: bigint;
  /** Pending messages kept per stream before the oldest is evicted (and counted). */
  queueSize: number;
}

/**
 * Matches messages from several streams by header stamp, like message_filters' ExactTime and
 * ApproximateTime policies. A set is emitted when every stream has a message within `slop`
 * of the set's first stamp. Messages that can no longer be matched are counted as
 * `dropped.unmatched.<stream>`, never dropped silently.
 */
export class StampSynchronizer<T extends readonly unknown[]> {
  readonly counters: Counters;
  private readonly queues: { stamp: bigint; msg: unknown }[][];
  private readonly names: readonly string[];

  constructor(
    names: readonly string[],
    private readonly options: SyncOptions,
    private readonly onSet: (stamp: bigint, msgs: T) => void,
    counters?: Counters,
  ) {
    this.names = names;
    this.queues = names.map(() => []);
    this.counters = counters ?? new Counters();
  }

  add(stream: number, stamp: bigint, msg: T[number]): void {
    const q = this.queues[stream];
    this.counters.inc(`sync.in.${this.names[stream]}`);
    if (q.length > 0 && stamp < q[q.length - 1].stamp) {
      this.counters.inc(`dropped.out_of_order.${this.names[stream]}`);
      return;
    }
    q.push({ stamp, msg });
    if (q.length > this.options.queueSize) {
      q.shift();
      this.counters.inc(`dropped.unmatched.${this.names[stream]}`);
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
