import type { Scene, SceneObject } from "../scene/scene_object.js";

/** Perceived boxes farther than this (horizontal centre distance) from a true one of the same kind are no match, metres. */
export const BOX_MATCH_GATE_M = 0.15;

/** Truth elevations from this height up count as stacked (resting objects have 0; the questions' floor is 2 cm). */
const STACKED_ELEVATION_M = 0.02;

/** One kind's (or all kinds') box figures against ground truth. */
export interface BoxAccuracy {
  /** Truth objects matched by a perceived box. */
  n: number;
  /** Truth objects with no perceived box of their kind within the gate. */
  missed: number;
  /** Fractions of the matched boxes whose extent is within 10% of the true one. */
  height_within_10pct: number;
  /** Front to back (size.x, along the spatial frame's forward). */
  depth_within_10pct: number;
  /** Side to side (size.y). */
  width_within_10pct: number;
  /** Signed median of (perceived − true) / true: the systematic part of the size errors. */
  height_bias_rel: number;
  depth_bias_rel: number;
  width_bias_rel: number;
  /**
   * Signed median of (perceived − true) centre, metres, along the spatial frame's axes
   * (x forward, y left, z up) and along the horizontal ray from the camera to the object
   * (`ray`: negative is towards the camera) and across it (`across`, to the left).
   */
  centre_bias_m: { x: number; y: number; z: number; ray: number; across: number };
  /** Median 3D distance between perceived and true centres, metres. */
  centre_error_median_m: number;
}

/** Objects whose true bottom is well above the support (stacked on another object). */
export interface StackedAccuracy {
  n: number;
  /** Elevation (bottom above the support) within 10% of the truth. */
  elevation_within_10pct: number;
  /** Signed median of perceived − true bottom, metres. */
  bottom_bias_m: number;
}

export interface BoxAccuracySummary {
  gate_m: number;
  all: BoxAccuracy;
  by_kind: Record<string, BoxAccuracy>;
  stacked: StackedAccuracy;
}

interface Pair {
  truth: SceneObject;
  est: SceneObject;
}

/**
 * Pairs true and perceived objects of the same kind, nearest centres first (greedy; 3D, so
 * two cubes of a stack are told apart), within the gate on the horizontal distance. Perceived
 * ids come from the tracker, not the simulator, so the match is geometric; it works the same
 * for masks and detections.
 */
export function matchBoxes(truth: readonly SceneObject[], perceived: readonly SceneObject[], gate = BOX_MATCH_GATE_M): { pairs: Pair[]; missed: SceneObject[] } {
  const cand: { t: number; e: number; d: number }[] = [];
  for (let t = 0; t < truth.length; t++) {
    for (let e = 0; e < perceived.length; e++) {
      if (truth[t].kind !== perceived[e].kind) continue;
      const a = truth[t].center, b = perceived[e].center;
      if (Math.hypot(a.x - b.x, a.y - b.y) <= gate) cand.push({ t, e, d: Math.hypot(a.x - b.x, a.y - b.y, a.z - b.z) });
    }
  }
  cand.sort((a, b) => a.d - b.d);
  const tUsed = new Uint8Array(truth.length), eUsed = new Uint8Array(perceived.length);
  const pairs: Pair[] = [];
  for (const c of cand) {
    if (tUsed[c.t] || eUsed[c.e]) continue;
    tUsed[c.t] = 1;
    eUsed[c.e] = 1;
    pairs.push({ truth: truth[c.t], est: perceived[c.e] });
  }
  return { pairs, missed: truth.filter((_, i) => !tUsed[i]) };
}

interface KindAcc {
  missed: number;
  pairs: Pair[];
}

/**
 * Box accuracy over many scenes: every true object's box against the perceived box matched
 * to it, per kind and over all kinds (each object counts once), and the bottoms of stacked
 * objects. What the questions' answers are made of, measured directly, so a systematic error
 * (a centre pulled towards the camera, a thin object's height inflated by noise) shows by
 * kind and direction instead of hiding in the per-question averages.
 */
export class BoxAccuracyAccumulator {
  private readonly kinds = new Map<string, KindAcc>();
  private readonly stackedPairs: { pair: Pair; supportZ: number }[] = [];
  private stackedMissed = 0;

  constructor(private readonly gate = BOX_MATCH_GATE_M) {}

  /** One frame: the true scene and what perception made of it (null: the frame was rejected, every object missed). */
  add(truth: Scene, perceived: Scene | null): void {
    const { pairs, missed } = matchBoxes(truth.objects, perceived ? perceived.objects : [], this.gate);
    for (const p of pairs) this.kind(p.truth.kind).pairs.push(p);
    for (const m of missed) this.kind(m.kind).missed++;
    const sz = truth.supportZ;
    if (sz === null) return;
    const stacked = (o: SceneObject) => o.center.z - o.size.z / 2 - sz >= STACKED_ELEVATION_M;
    for (const p of pairs) if (stacked(p.truth)) this.stackedPairs.push({ pair: p, supportZ: sz });
    this.stackedMissed += missed.filter(stacked).length;
  }

  summary(): BoxAccuracySummary {
    const by_kind: Record<string, BoxAccuracy> = {};
    const all: Pair[] = [];
    let missed = 0;
    for (const [kind, acc] of [...this.kinds.entries()].sort(([a], [b]) => a.localeCompare(b))) {
      by_kind[kind] = figures(acc.pairs, acc.missed);
      all.push(...acc.pairs);
      missed += acc.missed;
    }
    const elev = this.stackedPairs.map(({ pair, supportZ }) => ({
      t: pair.truth.center.z - pair.truth.size.z / 2 - supportZ,
      e: Math.max(0, pair.est.center.z - pair.est.size.z / 2 - supportZ),
    }));
    return {
      gate_m: this.gate,
      all: figures(all, missed),
      by_kind,
      stacked: {
        n: elev.length,
        elevation_within_10pct: fraction(elev, (x) => Math.abs(x.e - x.t) <= 0.1 * x.t),
        bottom_bias_m: round5(median(elev.map((x) => x.e - x.t))),
      },
    };
  }

  private kind(kind: string): KindAcc {
    let acc = this.kinds.get(kind);
    if (!acc) {
      acc = { missed: 0, pairs: [] };
      this.kinds.set(kind, acc);
    }
    return acc;
  }
}

function figures(pairs: readonly Pair[], missed: number): BoxAccuracy {
  const within = (f: (o: SceneObject) => number) => fraction(pairs, (p) => Math.abs(f(p.est) - f(p.truth)) <= 0.1 * f(p.truth));
  const bias = (f: (o: SceneObject) => number) => round4(median(pairs.map((p) => (f(p.est) - f(p.truth)) / f(p.truth))));
  const along = (f: (p: Pair) => number) => round5(median(pairs.map(f)));
  const ray = (p: Pair) => {
    const r = Math.hypot(p.truth.center.x, p.truth.center.y) || 1;
    return { ux: p.truth.center.x / r, uy: p.truth.center.y / r, dx: p.est.center.x - p.truth.center.x, dy: p.est.center.y - p.truth.center.y };
  };
  return {
    n: pairs.length,
    missed,
    height_within_10pct: within((o) => o.size.z),
    depth_within_10pct: within((o) => o.size.x),
    width_within_10pct: within((o) => o.size.y),
    height_bias_rel: bias((o) => o.size.z),
    depth_bias_rel: bias((o) => o.size.x),
    width_bias_rel: bias((o) => o.size.y),
    centre_bias_m: {
      x: along((p) => p.est.center.x - p.truth.center.x),
      y: along((p) => p.est.center.y - p.truth.center.y),
      z: along((p) => p.est.center.z - p.truth.center.z),
      ray: along((p) => { const r = ray(p); return r.dx * r.ux + r.dy * r.uy; }),
      across: along((p) => { const r = ray(p); return -r.dx * r.uy + r.dy * r.ux; }),
    },
    centre_error_median_m: along((p) => Math.hypot(p.est.center.x - p.truth.center.x, p.est.center.y - p.truth.center.y, p.est.center.z - p.truth.center.z)),
  };
}

function fraction<T>(xs: readonly T[], f: (x: T) => boolean): number {
  return xs.length ? round4(xs.filter(f).length / xs.length) : 0;
}

/** Median (mean of the middle two for an even count); NaN for none. */
function median(xs: readonly number[]): number {
  if (xs.length === 0) return NaN;
  const s = xs.slice().sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

const round4 = (x: number) => (Number.isFinite(x) ? Math.round(x * 1e4) / 1e4 : x);
const round5 = (x: number) => (Number.isFinite(x) ? Math.round(x * 1e5) / 1e5 : x);
