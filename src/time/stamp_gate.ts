import { InvalidInputError } from "../errors.js";

export interface StampGateOptions {
  /** A stamp further than this from the last accepted one (either way) is a jump, ns. */
  maxJumpNs: bigint;
  /** Consecutive jumped stamps, moving forward together, that make the new timeline the timeline. */
  confirm: number;
}

export const DEFAULT_STAMP_GATE_OPTIONS: StampGateOptions = { maxJumpNs: 5_000_000_000n, confirm: 3 };

/**
 * What to do with a stamp:
 * - accept: in order (equal or later, within maxJumpNs);
 * - adopt: the `confirm`-th consecutive stamp on a new timeline: process it and start over
 *   from it (a bag restart, a clock step);
 * - out_of_order: earlier than the last accepted, by less than maxJumpNs (a late message);
 * - jump_ahead / jump_back: more than maxJumpNs away and not (yet) confirmed: an outlier.
 */
export type StampVerdict = "accept" | "adopt" | "out_of_order" | "jump_ahead" | "jump_back";

/** A timeline change that was adopted: from the last stamp of the old timeline to the first of the new. */
export interface TimelineJump {
  from: bigint;
  to: bigint;
  direction: "ahead" | "back";
}

/**
 * Keeps one stream's stamps in order without letting one bad stamp hold it hostage.
 * A stamp far from the last accepted one is an outlier and costs only itself: the next
 * in-order stamp is accepted as usual. Only when `confirm` consecutive stamps agree on a new
 * timeline (all on the same side of the old one, each not before the previous) is the new
 * timeline adopted, so a single stray stamp an hour ahead cannot block the stream for an
 * hour, and a rosbag loop recovers in `confirm` frames.
 *
 * check() classifies a stamp and tracks the candidate timeline; commit() records a stamp the
 * caller went on to process. A caller that fails to process an accepted stamp does not commit
 * it, so a rejected frame never moves the timeline.
 */
export class StampGate {
  readonly options: StampGateOptions;
  private last: bigint | null = null;
  private candidateLast = 0n;
  private candidateCount = 0;
  private candidateAhead = false;
  private jumpCount = 0;
  private jump: TimelineJump | null = null;

  constructor(options: Partial<StampGateOptions> = {}) {
    this.options = { ...DEFAULT_STAMP_GATE_OPTIONS, ...options };
    const { maxJumpNs, confirm } = this.options;
    if (typeof maxJumpNs !== "bigint" || maxJumpNs < 0n) throw new InvalidInputError("bad_argument", `stamp jump limit must be ≥ 0 ns, got ${String(maxJumpNs)}`);
    if (!Number.isInteger(confirm) || confirm < 1) throw new InvalidInputError("bad_argument", `stamp jump confirmation must be an integer ≥ 1 frames, got ${confirm}`);
  }

  /** The last committed stamp, null before the first. */
  get lastStamp(): bigint | null {
    return this.last;
  }

  /** Timelines adopted so far. */
  get jumps(): number {
    return this.jumpCount;
  }

  /** The last adopted timeline change, null if none. */
  get lastJump(): TimelineJump | null {
    return this.jump;
  }

  check(stamp: bigint): StampVerdict {
    const last = this.last;
    if (last === null) return "accept";
    const d = stamp - last;
    const max = this.options.maxJumpNs;
    if (d >= 0n && d <= max) {
      // The old timeline is alive: whatever was building up was a run of outliers.
      this.candidateCount = 0;
      return "accept";
    }
    if (d < 0n && -d <= max) return "out_of_order";
    const ahead = d > 0n;
    if (this.candidateCount > 0 && this.candidateAhead === ahead && stamp >= this.candidateLast) {
      this.candidateCount++;
    } else {
      this.candidateCount = 1;
      this.candidateAhead = ahead;
    }
    this.candidateLast = stamp;
    if (this.candidateCount >= this.options.confirm) return "adopt";
    return ahead ? "jump_ahead" : "jump_back";
  }

  /** Records a stamp the caller processed, with the verdict check() gave it. */
  commit(stamp: bigint, verdict: "accept" | "adopt"): void {
    if (verdict === "adopt" && this.last !== null) {
      this.jump = { from: this.last, to: stamp, direction: stamp > this.last ? "ahead" : "back" };
      this.jumpCount++;
    }
    this.last = stamp;
    this.candidateCount = 0;
  }

  /** Forgets the timeline (the count and the last adopted jump stay: they are history). */
  reset(): void {
    this.last = null;
    this.candidateCount = 0;
  }
}
