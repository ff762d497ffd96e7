import { InvalidInputError } from "../errors.js";

/** When a perceived success turns on and off (RewardTrackerOptions.hysteresis). */
export interface SuccessHysteresisOptions {
  /** Consecutive satisfied frames before success turns on (1 = at once). */
  onFrames: number;
  /** Success turns off at once when the residual exceeds the tolerance by more than this, metres. */
  offMargin: number;
  /** Or when it exceeds the tolerance at all for this many consecutive frames. */
  offFrames: number;
}

/**
 * What perceived scenes need: a box estimate briefly disturbed (the carried object's top
 * hidden for a frame or two, a mask eaten into) moves the residual by a centimetre or so for a
 * frame or two; a real departure from the goal moves it further or for longer.
 */
export const DEFAULT_SUCCESS_HYSTERESIS: SuccessHysteresisOptions = { onFrames: 1, offMargin: 0.01, offFrames: 3 };

/**
 * Success with hysteresis: off → on after `onFrames` consecutive frames within the tolerance;
 * on → off when the excess over the tolerance passes `offMargin`, or stays above 0 for
 * `offFrames` consecutive frames. A flicker of the residual around the tolerance, or a brief
 * excursion of a centimetre, does not flip it; a real change flips it within the frames given.
 */
export class SuccessHysteresis {
  readonly options: SuccessHysteresisOptions;
  private on = false;
  private run = 0;

  constructor(options: Partial<SuccessHysteresisOptions> = {}) {
    const o = { ...DEFAULT_SUCCESS_HYSTERESIS, ...options };
    if (!(Number.isInteger(o.onFrames) && o.onFrames >= 1 && o.onFrames <= 1000)) {
      throw new InvalidInputError("bad_argument", `hysteresis onFrames must be an integer in [1, 1000], got ${o.onFrames}.`);
    }
    if (!(Number.isInteger(o.offFrames) && o.offFrames >= 1 && o.offFrames <= 1000)) {
      throw new InvalidInputError("bad_argument", `hysteresis offFrames must be an integer in [1, 1000], got ${o.offFrames}.`);
    }
    if (!(Number.isFinite(o.offMargin) && o.offMargin >= 0)) {
      throw new InvalidInputError("bad_argument", `hysteresis offMargin must be a finite length ≥ 0 m, got ${o.offMargin}.`);
    }
    this.options = o;
  }

  reset(): void {
    this.on = false;
    this.run = 0;
  }

  /** One frame's excess of the residual over the success tolerance (≥ 0); returns the success. */
  update(excess: number): boolean {
    const o = this.options;
    if (!this.on) {
      this.run = excess === 0 ? this.run + 1 : 0;
      if (this.run >= o.onFrames) {
        this.on = true;
        this.run = 0;
      }
      return this.on;
    }
    if (excess > o.offMargin) {
      this.on = false;
      this.run = 0;
      return false;
    }
    this.run = excess > 0 ? this.run + 1 : 0;
    if (this.run >= o.offFrames) {
      this.on = false;
      this.run = 0;
    }
    return this.on;
  }
}
