import { InvalidInputError, SpatialRewardError } from "../errors.js";

export interface ClockSyncOptions {
  /** Width of the device-time intervals whose minimum delay is kept (ms). */
  bucketMs: number;
  /** How much device time the fit looks back over (s): long enough to see drift, short enough to follow it. */
  windowS: number;
  /**
   * A sample this far below the fitted line, or minima this far above it for stepConfirmS, means a clock stepped (ms).
   * Minima that are high but falling by more than this are a backlog draining, not a step.
   */
  stepThresholdMs: number;
  /** How long minima must stay above the line before it is given up (s). */
  stepConfirmS: number;
  /**
   * The largest drift the fit may show, either way (ppm). Quartz oscillators drift tens of ppm
   * (±100 covers cheap ones over temperature); a steeper lower envelope is delay changing over a
   * short span (jitter over the first buckets, a backlog draining), not the clock.
   */
  maxDriftPpm: number;
}

export const DEFAULT_CLOCK_SYNC_OPTIONS: Readonly<ClockSyncOptions> = Object.freeze({
  bucketMs: 250,
  windowS: 60,
  stepThresholdMs: 50,
  stepConfirmS: 2,
  maxDriftPpm: 1000,
});

export interface ClockEstimate {
  /** host − device at the latest sample's device time (ns): add it to a device stamp to get host time. */
  offset_ns: bigint;
  /** How much faster the host clock runs than the device's, parts per million. */
  drift_ppm: number;
  /** Samples since the estimator (re)started. */
  samples: number;
  /** Mean height of the interval minima above the fitted line (ns): the delay jitter that remains after taking minima. */
  residual_ns: number;
  /** Times a clock step or device restart made the estimator start over (a restart later taken back as congestion is not counted). */
  resets: number;
  /** Times minima that stayed far above the line long enough to look like a step came back down onto it: the line from before was taken back. */
  congestions: number;
}

/**
 * Device clock → host clock, from (device_timestamp_ns, host_receive_ns) pairs of one stream.
 *
 * Each pair gives host − device = θ(t) + d, where θ(t) = θ₀ + δ·t is the clock offset (drifting
 * at rate δ) and d ≥ 0 is that frame's delay (processing, network, broker, scheduling). The
 * delays are one-sided and heavy-tailed (queueing, retransmits, Wi-Fi), so averaging — least
 * squares over all pairs — would put the line inside the jitter, biased by the mean delay and
 * dragged by every spike. The lower envelope is what is stable: the least-delayed frames lie
 * on the line θ₀ + d_min + δ·t and nothing lies below it.
 *
 * So: (1) per bucketMs of device time keep only the pair with the smallest host − device
 * (spikes never win a minimum, and memory stays bounded); (2) over the last windowS of minima,
 * take the line that lies below every minimum and is as high as possible on average — the
 * linear programme of Moon, Skelly and Towsley ("Estimation and removal of clock skew from
 * network delay measurements", INFOCOM 1999), whose solution is the edge of the lower convex
 * hull above the points' mean time. The offset includes d_min, the smallest delay, which one-way
 * timing cannot separate from θ: stamps mapped to the host clock are early by at most the
 * jitter floor (residual_ns shows it), never late by a spike.
 *
 * The fitted drift is bounded (maxDriftPpm): over a short span the lower envelope's slope is
 * delay changing (the jitter of the first few buckets, a backlog draining), not the clock, and an
 * unbounded slope extrapolated to the newest frame maps it far off. With the bound the LP keeps
 * its form: the line of slope ±maxDriftPpm touching the hull where the hull's edges cross it.
 *
 * Guarantee (delays ≥ 0, true drift δ): the line lies below every minimum in the window, so a
 * stamp is never after its own frame's receipt; it is never before the truth by more than
 * (maxDriftPpm + |δ|)·1e-6 times the device time from the hull vertex the line touches (within
 * the window and after the estimator's (re)start) to the frame: early stamps come from the slope
 * only, and only where the line is extrapolated beyond the minima it was fitted on.
 *
 * A clock step shows as a sample far below the line (host stepped back or device forward) or as
 * minima staying far above it by about the same height (the other way). Minima that are high
 * but falling are a queue draining after an outage, and minima still rising are a queue
 * building (the host starved of CPU): neither is a step, and their frames keep the line they
 * were taken on. Minima that hold a plateau for stepConfirmS restart the estimate, but the line
 * from before is kept aside for windowS: if the minima come back down onto it (within half the
 * step threshold) it was a backlog that drained, and the old line is taken back (congestions).
 * A sample far below the line, or device time running backwards by more than a bucket (device
 * restart), restarts the estimate. Deterministic; O(1) per update and no allocation; the fit
 * (O(window/bucket)) runs lazily when a minimum has changed.
 */
export class ClockSync {
  private readonly o: ClockSyncOptions;
  private readonly bucketNs: number;
  private readonly stepNs: number;
  private readonly confirmBuckets: number;
  private readonly maxSlope: number;
  // Ring of interval minima, oldest at `first`; x = device ns − baseDevice, y = host − device − baseOffset.
  private readonly bx: Float64Array;
  private readonly by: Float64Array;
  private readonly bIndex: Float64Array;
  private first = 0;
  private count = 0;
  private baseDevice = 0n;
  private baseOffset = 0n;
  private samples = 0;
  private resets = 0;
  private lastX = 0;
  private aboveRun = 0;
  /** Height above the line of the first minimum of the current run of high buckets (ns). */
  private aboveFirst = 0;
  // The fit: y = fy + slope · (x − fx).
  private dirty = true;
  private fx = 0;
  private fy = 0;
  private slope = 0;
  private residual = 0;
  /** Whether fx, fy, slope are a fit over two or more minima (the previous line minima are judged against). */
  private fitted = false;
  private readonly hull: Int32Array;
  private congestions = 0;
  /**
   * The estimate as it was before minima on a plateau far above its line restarted it, while
   * that may still turn out to be a backlog (until device time heldUntil): ring and fit.
   */
  private held = false;
  private heldUntil = 0n;
  private readonly hx: Float64Array;
  private readonly hy: Float64Array;
  private readonly hIndex: Float64Array;
  private hFirst = 0;
  private hCount = 0;
  private hBaseDevice = 0n;
  private hBaseOffset = 0n;
  private hSamples = 0;
  /** Updates ever (for the samples a taken-back estimate counts). */
  private updates = 0;
  private hUpdates = 0;
  private hResets = 0;
  private hLastX = 0;
  private hfx = 0;
  private hfy = 0;
  private hSlope = 0;
  private hResidual = 0;

  constructor(options: Partial<ClockSyncOptions> = {}) {
    const o = { ...DEFAULT_CLOCK_SYNC_OPTIONS, ...options };
    for (const key of Object.keys(DEFAULT_CLOCK_SYNC_OPTIONS) as (keyof ClockSyncOptions)[]) {
      if (!Number.isFinite(o[key]) || o[key] <= 0) throw new InvalidInputError("bad_argument", `clock sync ${key} must be a positive number, got ${o[key]}`);
    }
    const buckets = Math.ceil((o.windowS * 1000) / o.bucketMs);
    if (buckets > 1 << 16) throw new InvalidInputError("bad_argument", `windowS / bucketMs gives ${buckets} intervals; at most 65536`);
    this.o = o;
    this.bucketNs = o.bucketMs * 1e6;
    this.stepNs = o.stepThresholdMs * 1e6;
    this.confirmBuckets = Math.max(1, Math.ceil((o.stepConfirmS * 1000) / o.bucketMs));
    this.bx = new Float64Array(buckets);
    this.by = new Float64Array(buckets);
    this.bIndex = new Float64Array(buckets);
    this.hull = new Int32Array(buckets);
    this.hx = new Float64Array(buckets);
    this.hy = new Float64Array(buckets);
    this.hIndex = new Float64Array(buckets);
    this.maxSlope = o.maxDriftPpm * 1e-6;
  }

  /** One frame's device timestamp and the host time it was received. */
  update(deviceNs: bigint, hostNs: bigint): void {
    if (typeof deviceNs !== "bigint" || typeof hostNs !== "bigint") throw new InvalidInputError("bad_argument", "clock sync takes bigint nanoseconds");
    this.updates++;
    if (this.samples === 0) return this.start(deviceNs, hostNs);
    if (this.held) this.judgeHeld(deviceNs, hostNs);
    const x = Number(deviceNs - this.baseDevice);
    const y = Number(hostNs - deviceNs - this.baseOffset);
    if (x < this.lastX - this.bucketNs) {
      this.held = false;
      return this.restart(deviceNs, hostNs);
    }
    // While the line before a plateau is held, minima falling towards it (but not yet on it:
    // judgeHeld took it back otherwise) are the backlog draining, not a step back.
    if (this.count >= 2 && !this.held && y - this.lineAt(x) < -this.stepNs) return this.restart(deviceNs, hostNs);
    const index = Math.floor(x / this.bucketNs);
    const newest = this.bIndex[(this.first + this.count - 1) % this.bx.length];
    if (index > newest) {
      if (this.closedBucketAbove()) {
        // The oldest line before the plateau is the one a drained backlog comes back to.
        if (!this.held) this.hold(deviceNs);
        return this.restart(deviceNs, hostNs);
      }
      this.append(index, x, y);
    } else {
      // Usually the newest bucket; an out-of-order sample may belong to an older one (buckets
      // with no samples are not stored, so search). Older than the window: ignored.
      const cap = this.bx.length;
      for (let i = this.count - 1; i >= 0; i--) {
        const slot = (this.first + i) % cap;
        if (this.bIndex[slot] > index) continue;
        if (this.bIndex[slot] === index && y < this.by[slot]) {
          this.by[slot] = y;
          this.bx[slot] = x;
          this.dirty = true;
        }
        break;
      }
    }
    this.samples++;
    if (x > this.lastX) this.lastX = x;
  }

  /** A device timestamp on the host clock. Throws SpatialRewardError("bad_state") before any update. */
  toHost(deviceNs: bigint): bigint {
    if (this.samples === 0) throw new SpatialRewardError("bad_state", "clock sync has no samples yet");
    const x = Number(deviceNs - this.baseDevice);
    return deviceNs + this.baseOffset + BigInt(Math.round(this.lineAt(x)));
  }

  estimate(): ClockEstimate {
    if (this.samples === 0) return { offset_ns: 0n, drift_ppm: 0, samples: 0, residual_ns: 0, resets: this.resets, congestions: this.congestions };
    this.fit();
    return {
      offset_ns: this.baseOffset + BigInt(Math.round(this.lineAt(this.lastX))),
      drift_ppm: this.slope * 1e6,
      samples: this.samples,
      residual_ns: this.residual,
      resets: this.resets,
      congestions: this.congestions,
    };
  }

  /** Keeps the current estimate aside (its fit up to date) until device time `deviceNs` + windowS. */
  private hold(deviceNs: bigint): void {
    this.fit();
    this.held = true;
    this.heldUntil = deviceNs + BigInt(Math.round(this.o.windowS * 1e9));
    this.hx.set(this.bx);
    this.hy.set(this.by);
    this.hIndex.set(this.bIndex);
    this.hFirst = this.first;
    this.hCount = this.count;
    this.hBaseDevice = this.baseDevice;
    this.hBaseOffset = this.baseOffset;
    this.hSamples = this.samples;
    this.hUpdates = this.updates;
    this.hResets = this.resets;
    this.hLastX = this.lastX;
    this.hfx = this.fx;
    this.hfy = this.fy;
    this.hSlope = this.slope;
    this.hResidual = this.residual;
  }

  /**
   * With a line held: a sample back on it (within half the step threshold) means the plateau was
   * a backlog: the held estimate is taken back (the sample then goes into it). A sample well
   * below it, or the hold's time running out, means the step was real: the held line is dropped.
   */
  private judgeHeld(deviceNs: bigint, hostNs: bigint): void {
    if (deviceNs > this.heldUntil || deviceNs < this.hBaseDevice) {
      this.held = false;
      return;
    }
    const x = Number(deviceNs - this.hBaseDevice);
    const height = Number(hostNs - deviceNs - this.hBaseOffset) - (this.hfy + this.hSlope * (x - this.hfx));
    if (height < -this.stepNs / 2) {
      this.held = false;
      return;
    }
    if (height > this.stepNs / 2) return;
    this.held = false;
    this.bx.set(this.hx);
    this.by.set(this.hy);
    this.bIndex.set(this.hIndex);
    this.first = this.hFirst;
    this.count = this.hCount;
    this.baseDevice = this.hBaseDevice;
    this.baseOffset = this.hBaseOffset;
    // The frames of the plateau and the drain (mapped by the restarted line) count too; this one is added by update().
    this.samples = this.hSamples + this.updates - this.hUpdates;
    this.resets = this.hResets;
    this.lastX = Math.max(this.hLastX, x);
    this.fx = this.hfx;
    this.fy = this.hfy;
    this.slope = this.hSlope;
    this.residual = this.hResidual;
    this.fitted = true;
    this.dirty = true;
    this.aboveRun = 0;
    this.aboveFirst = 0;
    this.congestions++;
  }

  private lineAt(x: number): number {
    this.fit();
    return this.fy + this.slope * (x - this.fx);
  }

  private start(deviceNs: bigint, hostNs: bigint): void {
    this.baseDevice = deviceNs;
    this.baseOffset = hostNs - deviceNs;
    this.first = 0;
    this.count = 0;
    this.samples = 1;
    this.lastX = 0;
    this.aboveRun = 0;
    this.aboveFirst = 0;
    // The old line is in the old base's coordinates.
    this.fitted = false;
    this.append(0, 0, 0);
  }

  private restart(deviceNs: bigint, hostNs: bigint): void {
    this.resets++;
    this.start(deviceNs, hostNs);
  }

  private append(index: number, x: number, y: number): void {
    const cap = this.bx.length;
    // Drop buckets that fall out of the window behind the new one.
    while (this.count > 0 && this.bIndex[this.first] <= index - cap) {
      this.first = (this.first + 1) % cap;
      this.count--;
    }
    const slot = (this.first + this.count) % cap;
    this.bx[slot] = x;
    this.by[slot] = y;
    this.bIndex[slot] = index;
    this.count++;
    this.dirty = true;
  }

  /** Whether the bucket just closed keeps a run of minima far above the line long enough to call it a step. */
  private closedBucketAbove(): boolean {
    if (this.count < 2) return false;
    const last = (this.first + this.count - 1) % this.bx.length;
    const x = this.bx[last], y = this.by[last];
    // Judge against the line fitted without this bucket pulling it up: the line can only be lowered by a point, so use the current fit.
    const above = y - this.lineAt(x);
    if (above <= this.stepNs) {
      this.aboveRun = 0;
      return false;
    }
    // A stepped clock keeps the minima high by the same amount. A backlog (a broker or network
    // outage delivered in a burst when it ends) has them high by less and less: the frames arrive
    // faster than real time, so each bucket's least delay shrinks until the queue is drained.
    // Such a run is not a step; giving up the line there would stamp the backlog seconds late.
    // Nor are minima still rising: a queue building (the host starved of CPU) before it drains.
    if (this.aboveRun === 0 || above < this.aboveFirst - this.stepNs || above > this.aboveFirst + this.stepNs) {
      this.aboveRun = 1;
      this.aboveFirst = above;
    } else this.aboveRun++;
    return this.aboveRun >= this.confirmBuckets;
  }

  /** The LP line under the minima: the lower hull edge spanning the mean device time of those not far above the previous line. */
  private fit(): void {
    if (!this.dirty) return;
    this.dirty = false;
    const cap = this.bx.length;
    const n = this.count;
    if (n === 1) {
      this.fx = this.bx[this.first];
      this.fy = this.by[this.first];
      this.slope = 0;
      this.residual = 0;
      this.fitted = false;
      return;
    }
    // Minima far above the line fitted so far are delays (a backlog draining after an outage, a
    // step not yet confirmed), not the clock: they do not weigh in the mean the LP maximises at.
    // Counted in, a long backlog would tilt the line towards itself and stamp frames seconds off.
    const prior = this.fitted;
    const pfx = this.fx, pfy = this.fy, pslope = this.slope;
    const low = (s: number): boolean => !prior || this.by[s] - (pfy + pslope * (this.bx[s] - pfx)) <= this.stepNs;
    // Lower convex hull (Andrew's monotone chain); minima are already in device-time order.
    const h = this.hull;
    let k = 0;
    let meanX = 0;
    let used = 0;
    let meanAll = 0;
    for (let i = 0; i < n; i++) {
      const s = (this.first + i) % cap;
      meanAll += this.bx[s];
      if (low(s)) {
        meanX += this.bx[s];
        used++;
      }
      while (k >= 2) {
        const a = h[k - 2], b = h[k - 1];
        const cross = (this.bx[b] - this.bx[a]) * (this.by[s] - this.by[a]) - (this.by[b] - this.by[a]) * (this.bx[s] - this.bx[a]);
        if (cross > 0) break;
        k--;
      }
      h[k++] = s;
    }
    meanX = used > 0 ? meanX / used : meanAll / n;
    let e = 0;
    while (e < k - 2 && this.bx[h[e + 1]] < meanX) e++;
    const a = h[e], b = h[e + 1];
    const dx = this.bx[b] - this.bx[a];
    const slope = dx > 0 ? (this.by[b] - this.by[a]) / dx : 0;
    if (Math.abs(slope) <= this.maxSlope) {
      this.slope = slope;
      this.fx = this.bx[a];
      this.fy = this.by[a];
    } else {
      // The bounded LP: the line of the bound's slope supporting the hull, at the vertex where the
      // hull's edge slopes (increasing left to right) cross it.
      const bound = slope > 0 ? this.maxSlope : -this.maxSlope;
      let v = 0;
      while (v < k - 1 && (this.by[h[v + 1]] - this.by[h[v]]) <= bound * (this.bx[h[v + 1]] - this.bx[h[v]])) v++;
      this.slope = bound;
      this.fx = this.bx[h[v]];
      this.fy = this.by[h[v]];
    }
    let sum = 0;
    for (let i = 0; i < n; i++) {
      const s = (this.first + i) % cap;
      if (used === 0 || low(s)) sum += this.by[s] - (this.fy + this.slope * (this.bx[s] - this.fx));
    }
    this.residual = sum / (used > 0 ? used : n);
    this.fitted = true;
  }
}
