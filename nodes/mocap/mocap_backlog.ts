/**
 * Frames a publisher sent that have not come out of the ingest yet (collect --sim: the camera
 * waits while too many are behind), with the time each was sent. The ingest releases frames in
 * number order, so when frame n comes out every earlier number still waiting will not come (the
 * validator rejected or gave up on it, and counted it): those are dropped here too. Otherwise
 * they would count as behind for ever.
 */
export class MocapBacklog {
  private readonly sentAt = new Map<bigint, bigint>();

  /** Frames sent and not out yet. */
  get size(): number {
    return this.sentAt.size;
  }

  /** Frame `n` was sent at `ns` (numbers rise from call to call). */
  sent(n: bigint, ns: bigint): void {
    this.sentAt.set(n, ns);
  }

  /** Frame `n` came out: when it was sent (null if it was not tracked); it and every earlier number leave the backlog. */
  released(n: bigint): bigint | null {
    const at = this.sentAt.get(n) ?? null;
    for (const k of this.sentAt.keys()) {
      if (k > n) break;
      this.sentAt.delete(k);
    }
    return at;
  }
}
