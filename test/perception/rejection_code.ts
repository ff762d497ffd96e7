import { isSpatialRewardError } from "../../src/errors.js";
import type { Perception } from "../../src/perception/perception.js";
import type { RgbdFrame } from "../../src/perception/rgbd_frame.js";

/** The code a frame is refused with, or "accepted"; anything but a SpatialRewardError is rethrown. */
export function rejectionCode(p: Perception, frame: RgbdFrame): string {
  try {
    p.process(frame);
  } catch (e) {
    if (!isSpatialRewardError(e)) throw e;
    return e.code;
  }
  return "accepted";
}
