/** A change of success in a sequence of frames: at `frame` success became `success`. */
export interface SuccessFlip {
  frame: number;
  success: boolean;
}

/**
 * Every change of success in a per-frame sequence, with success off before the first frame
 * (a sequence that starts satisfied flips on at frame 0). A frame without a value (null: the
 * frame was refused) holds the last success, as a controller holds the last reward.
 */
export function successFlips(seq: readonly (boolean | null)[]): SuccessFlip[] {
  const out: SuccessFlip[] = [];
  let last = false;
  for (let f = 0; f < seq.length; f++) {
    const s = seq[f];
    if (s === null || s === last) continue;
    out.push({ frame: f, success: s });
    last = s;
  }
  return out;
}

export interface FlipAgreement {
  /** Success changes in the truth. */
  trueFlips: number;
  /** Of those, matched by a perceived change the same way within one frame. */
  withinOneFrame: number;
  /** Perceived changes that match no true change within one frame. */
  spurious: number;
  /** Largest |perceived − true| frame of a matched change. */
  maxLag: number;
}

/**
 * How perceived success follows the true one: each true change is matched to the nearest
 * unmatched perceived change the same way; matched within one frame it counts, and every
 * perceived change left unmatched is spurious (issue 11's goal: "on top of" success flips
 * within one frame of the truth).
 */
export function flipAgreement(perceived: readonly (boolean | null)[], truth: readonly (boolean | null)[]): FlipAgreement {
  const t = successFlips(truth), p = successFlips(perceived);
  const used = new Uint8Array(p.length);
  let within = 0, maxLag = 0;
  for (const tf of t) {
    let best = -1;
    for (let k = 0; k < p.length; k++) {
      if (used[k] || p[k].success !== tf.success) continue;
      if (best < 0 || Math.abs(p[k].frame - tf.frame) < Math.abs(p[best].frame - tf.frame)) best = k;
    }
    if (best >= 0 && Math.abs(p[best].frame - tf.frame) <= 1) {
      used[best] = 1;
      within++;
      maxLag = Math.max(maxLag, Math.abs(p[best].frame - tf.frame));
    }
  }
  let matched = 0;
  for (let k = 0; k < p.length; k++) matched += used[k];
  return { trueFlips: t.length, withinOneFrame: within, spurious: p.length - matched, maxLag };
}
