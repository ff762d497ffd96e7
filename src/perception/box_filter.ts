import { InvalidInputError } from "../errors.js";
import { quantileInPlace } from "../geometry/quantile.js";
import type { SceneObject } from "../scene/scene_object.js";

export interface BoxFilterOptions {
  /** Measurements a resting object's box is the median of (the last ones since it stopped). */
  window: number;
  /** A centre (horizontal) or top moving more than this from the filtered box is motion, metres. */
  motionGate: number;
  /** A rigid object's extent may differ by this fraction (or 1 cm) before the view of it counts as cut. */
  sizeTolerance: number;
  /**
   * Frames after the last motion before the box is averaged: an object slowing down at the
   * end of a move moves less than the gate per frame for a few frames and must be followed.
   */
  settleFrames: number;
}

export const DEFAULT_BOX_FILTER_OPTIONS: BoxFilterOptions = { window: 15, motionGate: 0.008, sizeTolerance: 0.15, settleFrames: 5 };

/** What one frame says about a tracked object besides its box. */
export interface BoxObservation {
  /** Standing on the support surface (the estimator's judgement). */
  onSupport: boolean;
  /** Held in the air (nothing under it at its lowest edge): carried, never averaged. */
  floating: boolean;
  /** Its lowest seen point, z in the spatial frame (NaN when unknown). */
  lowest: number;
}

const FIELDS = 6;
/** A view of a resting object covering less than this share of its box's footprint, within it, is a partial view. */
const PARTIAL_AREA = 0.7;
/** Seen heights of a lifted object kept to judge whether one end is hidden (their median is the reference). */
const SEEN_WINDOW = 5;

/**
 * One tracked object's box over time:
 * - **At rest** (the measured centre and top within `motionGate` of the filtered box for more
 *   than `settleFrames` frames), the box is the component-wise median of the measurements since
 *   it stopped (at most `window`): it converges, and a frame of a partial view (a hand passing
 *   over it) does not move it.
 * - **Moving**, or held in the air (carried: slow moves there are still moves), the box
 *   follows the measurement of the frame: no lag. A frame whose
 *   box moved *and* changed shape (an occluded part, or a mask gone wrong) is held for one
 *   frame; if the next frame agrees that it moved, the box follows (at most one frame late).
 * - **Lifted** (off the support) with its height known from rest, the object is rigid: its box
 *   keeps that height, anchored at the top, unless the seen part is shorter than the object
 *   (one end hidden); then at whichever end, top or lowest seen point, continues its motion.
 *   A carried object's top hidden for a frame no longer drops its bottom by as much.
 */
export class BoxFilter {
  private readonly ring: Float64Array;
  private readonly scratch: Float64Array;
  private count = 0;
  private head = 0;
  /** Height, top and lowest seen point measured at rest on the support (NaN until then). */
  private restHeight = NaN;
  private restTop = NaN;
  private restLowest = NaN;
  private restX = NaN;
  private restY = NaN;
  private restReach = 0;
  /** The last output box and the per-frame velocity of its centre (x, y) and top. */
  private readonly out = new Float64Array(FIELDS);
  private hasOut = false;
  private vx = 0;
  private vy = 0;
  private vTop = 0;
  private held = 0;
  /**
   * Top minus lowest seen point in the last SEEN_WINDOW frames while lifted (count: how many);
   * their median is what a whole view shows (a round object's underside is never seen).
   */
  private readonly seen = new Float64Array(SEEN_WINDOW);
  private readonly seenScratch = new Float64Array(SEEN_WINDOW);
  private seenCount = 0;
  private wasLifted = false;
  private seenHead = 0;
  /** Frames since the box last moved past the gate. */
  private sinceMotion = Number.MAX_SAFE_INTEGER;
  readonly options: BoxFilterOptions;

  constructor(options: Partial<BoxFilterOptions> = {}) {
    const o = { ...DEFAULT_BOX_FILTER_OPTIONS, ...options };
    if (!(Number.isInteger(o.window) && o.window >= 1 && o.window <= 1000)) throw new InvalidInputError("bad_argument", `box filter window must be an integer in [1, 1000], got ${o.window}`);
    if (!(o.motionGate >= 0 && o.motionGate < 1)) throw new InvalidInputError("bad_argument", `box filter motionGate must be in [0, 1) m, got ${o.motionGate}`);
    if (!(o.sizeTolerance >= 0 && o.sizeTolerance <= 10)) throw new InvalidInputError("bad_argument", `box filter sizeTolerance must be in [0, 10], got ${o.sizeTolerance}`);
    if (!(Number.isInteger(o.settleFrames) && o.settleFrames >= 0 && o.settleFrames <= 1000)) throw new InvalidInputError("bad_argument", `box filter settleFrames must be an integer in [0, 1000], got ${o.settleFrames}`);
    this.options = o;
    this.ring = new Float64Array(this.options.window * FIELDS);
    this.scratch = new Float64Array(this.options.window);
  }

  /** The height the object had at rest on the support, NaN before it was seen there. */
  get restingHeight(): number {
    return this.restHeight;
  }

  /** Whether the last frame took the object for lifted off the support (carried, or standing on another object). */
  get lifted(): boolean {
    return this.wasLifted;
  }

  /** Filters `o`'s box in place with this frame's observation. */
  apply(o: SceneObject, obs: BoxObservation): void {
    const c = o.center, s = o.size;
    let top = c.z + s.z / 2;
    // Standing on the support where it rested, its lowest seen point where it was: whatever
    // its top does in this frame's measurement, the object has not moved (another object's
    // pixels in its mask as the cup comes down onto this book raise it; a hand over it lowers
    // it). "Where it rested" allows for the centre a partial view shifts (the cup coming down
    // hides part of the book: 1 cm): within a quarter of its footprint's smaller side, 3 cm at least.
    const lowestAtRest = obs.onSupport && Number.isFinite(obs.lowest) && Number.isFinite(this.restLowest) && obs.lowest < this.restLowest + 0.01;
    // Seen much smaller and within its box while that box is where it rested, it is partly
    // hidden, however far the seen part's centre is from the box's (a jar set down on a box
    // hides the box's far two thirds).
    const partialView = lowestAtRest && this.hasOut && Math.hypot(this.out[0] - this.restX, this.out[1] - this.restY) <= this.restReach && this.partOfBox(o);
    const atRestSpot = lowestAtRest && (partialView || Math.hypot(c.x - this.restX, c.y - this.restY) <= this.restReach);
    // A lifted rigid object keeps its height; pick the end to anchor it at. Standing on the
    // support by the estimator's judgement but with its top risen, it was lifted (unless it
    // is where it rested).
    const lifted = !obs.onSupport || (!Number.isNaN(this.restTop) && top > this.restTop + 0.01 && !atRestSpot);
    this.wasLifted = lifted;
    if (lifted && !Number.isNaN(this.restHeight)) {
      const h = this.restHeight;
      const lowest = Number.isFinite(obs.lowest) ? obs.lowest : c.z - s.z / 2;
      const seen = top - lowest;
      const usual = this.seenCount > 0 ? this.usualSeenHeight() : Number.NaN;
      // The seen part suddenly shorter than it usually is: one end is hidden. Keep the end that
      // goes on as the object was going (the lowest seen point then stands for the bottom as
      // it did: a round object's underside is never seen). The usual seen height is the median
      // of the last few frames', so one frame whose lowest point was another object's (a leaked
      // mask) or a brief occlusion does not become the reference every later view is held to.
      if (this.hasOut && !Number.isNaN(usual) && seen < usual - Math.max(0.01, 0.1 * h)) {
        const predicted = this.out[2] + this.out[5] / 2 + this.vTop;
        const fromBottom = lowest + usual;
        if (Math.abs(fromBottom - predicted) < Math.abs(top - predicted)) top = fromBottom;
      }
      // A rigid object's seen part is never taller than the object: when it is, the lowest
      // point belongs to something under it (a leaked mask), not to what a whole view shows.
      if (seen <= h + Math.max(0.01, 0.1 * h)) this.noteSeen(seen);
      s.z = h;
      c.z = top - h / 2;
    } else {
      this.seenCount = 0;
      this.seenHead = 0;
    }
    if (!this.hasOut) {
      this.follow(o);
      this.restAt(o, obs);
      return;
    }
    const out = this.out;
    const outTop = out[2] + out[5] / 2;
    // Where it rests, a changed measurement is a changed view (part hidden, another object's
    // pixels taken), not motion: it goes into the median like any other.
    const moved = !atRestSpot && (Math.hypot(c.x - out[0], c.y - out[1]) > this.options.motionGate || Math.abs(top - outTop) > this.options.motionGate);
    if (!moved) {
      this.held = 0;
      if (partialView && this.sinceMotion >= this.options.settleFrames) {
        // Partly hidden where it rests: the box it has is better evidence than the part seen,
        // for as long as the cover stays (the median would take the part once it is most of
        // the window).
        this.write(o, out);
        return;
      }
      if (++this.sinceMotion <= this.options.settleFrames || obs.floating) {
        // Still settling (or slowing down at the end of a move): followed, not averaged.
        this.follow(o);
        this.restAt(o, obs);
        return;
      }
      this.push(o);
      this.median(o);
      this.setOut(o, false);
      this.restAt(o, obs);
      return;
    }
    if (this.held === 0 && this.count > 0 && !this.sameShape(o)) {
      // Moved and changed shape at once: hold this frame, let the next one decide.
      this.held = 1;
      this.write(o, out);
      return;
    }
    this.held = 0;
    this.sinceMotion = 0;
    this.follow(o);
  }

  /**
   * The box a track missed this frame is shown with: the last one, moved on by its velocity
   * (a carried object keeps going for the frames it is held).
   */
  predictInto(o: SceneObject): void {
    const out = this.out;
    out[0] += this.vx;
    out[1] += this.vy;
    out[2] += this.vTop;
    this.write(o, out);
  }

  private follow(o: SceneObject): void {
    this.count = 0;
    this.head = 0;
    this.push(o);
    this.setOut(o, true);
  }

  private setOut(o: SceneObject, moving: boolean): void {
    const out = this.out;
    const top = o.center.z + o.size.z / 2;
    if (this.hasOut && moving) {
      this.vx = o.center.x - out[0];
      this.vy = o.center.y - out[1];
      this.vTop = top - (out[2] + out[5] / 2);
    } else {
      this.vx = this.vy = this.vTop = 0;
    }
    out[0] = o.center.x; out[1] = o.center.y; out[2] = o.center.z;
    out[3] = o.size.x; out[4] = o.size.y; out[5] = o.size.z;
    this.hasOut = true;
  }

  /** While it rests on the support, its height, top and lowest seen point are what a lifted box keeps. */
  private restAt(o: SceneObject, obs: BoxObservation): void {
    if (!obs.onSupport) return;
    const top = o.center.z + o.size.z / 2;
    if (!Number.isNaN(this.restTop) && top > this.restTop + 0.01) return;
    this.restHeight = o.size.z;
    this.restTop = top;
    this.restX = o.center.x;
    this.restY = o.center.y;
    this.restReach = Math.max(0.03, 0.25 * Math.min(o.size.x, o.size.y));
    if (Number.isFinite(obs.lowest)) this.restLowest = obs.lowest;
  }

  private noteSeen(seen: number): void {
    this.seen[this.seenHead] = seen;
    this.seenHead = (this.seenHead + 1) % SEEN_WINDOW;
    if (this.seenCount < SEEN_WINDOW) this.seenCount++;
  }

  private usualSeenHeight(): number {
    const n = this.seenCount, sc = this.seenScratch;
    for (let k = 0; k < n; k++) sc[k] = this.seen[k];
    return quantileInPlace(sc, n, 0.5);
  }

  /**
   * Whether `o`'s footprint lies within the filtered box's (a gate's allowance each way) and
   * covers less than PARTIAL_AREA of it: a view with part of the object hidden.
   */
  private partOfBox(o: SceneObject): boolean {
    const out = this.out, g = Math.max(0.01, this.options.motionGate);
    const inside = (c: number, s: number, oc: number, os: number) => c - s / 2 >= oc - os / 2 - g && c + s / 2 <= oc + os / 2 + g;
    return inside(o.center.x, o.size.x, out[0], out[3]) && inside(o.center.y, o.size.y, out[1], out[4]) && o.size.x * o.size.y < PARTIAL_AREA * out[3] * out[4];
  }

  private sameShape(o: SceneObject): boolean {
    const out = this.out, tol = this.options.sizeTolerance;
    const ok = (a: number, b: number) => Math.abs(a - b) <= Math.max(0.01, tol * b);
    return ok(o.size.x, out[3]) && ok(o.size.y, out[4]) && ok(o.size.z, out[5]);
  }

  private push(o: SceneObject): void {
    const w = this.options.window;
    const at = this.head * FIELDS, r = this.ring;
    r[at] = o.center.x; r[at + 1] = o.center.y; r[at + 2] = o.center.z;
    r[at + 3] = o.size.x; r[at + 4] = o.size.y; r[at + 5] = o.size.z;
    this.head = (this.head + 1) % w;
    if (this.count < w) this.count++;
  }

  /** The component-wise median of the window into `o`. */
  private median(o: SceneObject): void {
    o.center.x = this.medianOf(0); o.center.y = this.medianOf(1); o.center.z = this.medianOf(2);
    o.size.x = this.medianOf(3); o.size.y = this.medianOf(4); o.size.z = this.medianOf(5);
  }

  private medianOf(field: number): number {
    const n = this.count, r = this.ring, s = this.scratch;
    for (let k = 0; k < n; k++) s[k] = r[k * FIELDS + field];
    return quantileInPlace(s, n, 0.5);
  }

  private write(o: SceneObject, b: Float64Array): void {
    o.center.x = b[0]; o.center.y = b[1]; o.center.z = b[2];
    o.size.x = b[3]; o.size.y = b[4]; o.size.z = b[5];
  }
}
