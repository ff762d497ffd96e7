import type { SceneObject } from "../scene/scene_object.js";

interface Track {
  id: string;
  kind: string;
  x: number;
  y: number;
  /** Top of the box (z), which stays put when the bottom estimate jumps. */
  z: number;
  /** Frames since last matched. */
  missed: number;
  /** Height and top measured while the object rested on the support (NaN until then). */
  restingHeight: number;
  restingTop: number;
  /** Colour votes: the name shown is the most frequent over the track's life. */
  colorVotes: Map<string, number>;
}

export interface TrackerOptions {
  /** Max centre displacement (m) between consecutive frames for a match. */
  gate: number;
  /** Frames a lost track is kept for re-identification. */
  maxMissed: number;
}

/**
 * Gives objects stable ids across frames ("mug#1" stays "mug#1") by greedy nearest-centre
 * association within each kind. Segmenters do not promise stable instance ids, so ids come
 * from geometry, not from the mask. Colour names are voted over time so one badly lit frame
 * does not rename an object.
 */
export class ObjectTracker {
  private tracks: Track[] = [];
  private readonly nextIndex = new Map<string, number>();
  readonly options: TrackerOptions;

  constructor(options: Partial<TrackerOptions> = {}) {
    this.options = { gate: 0.12, maxMissed: 30, ...options };
  }

  reset(): void {
    this.tracks = [];
    this.nextIndex.clear();
  }

  /**
   * Assigns ids and voted colours to this frame's detections, in place. `resting[i]` says
   * whether object i stands on the support surface: a lifted object's underside is hidden,
   * so its box keeps the height the object had while it rested (rigid objects keep their size).
   */
  update(objects: SceneObject[], resting?: readonly boolean[]): void {
    const gate2 = this.options.gate * this.options.gate;
    const pairs: { t: number; o: number; d2: number }[] = [];
    for (let ti = 0; ti < this.tracks.length; ti++) {
      const t = this.tracks[ti];
      for (let oi = 0; oi < objects.length; oi++) {
        const o = objects[oi];
        if (o.kind !== t.kind) continue;
        // Horizontal centre and top: the bottom of a box can jump when support contact is
        // misjudged, the top of a rigid object cannot.
        const dx = o.center.x - t.x, dy = o.center.y - t.y, dz = o.center.z + o.size.z / 2 - t.z;
        const d2 = dx * dx + dy * dy + dz * dz;
        if (d2 <= gate2) pairs.push({ t: ti, o: oi, d2 });
      }
    }
    pairs.sort((a, b) => a.d2 - b.d2);
    const trackUsed = new Uint8Array(this.tracks.length);
    const objTrack = new Int32Array(objects.length).fill(-1);
    for (const p of pairs) {
      if (trackUsed[p.t] || objTrack[p.o] >= 0) continue;
      trackUsed[p.t] = 1;
      objTrack[p.o] = p.t;
    }
    for (let ti = 0; ti < this.tracks.length; ti++) if (!trackUsed[ti]) this.tracks[ti].missed++;
    for (let oi = 0; oi < objects.length; oi++) {
      const o = objects[oi];
      let t: Track;
      if (objTrack[oi] >= 0) {
        t = this.tracks[objTrack[oi]];
        t.missed = 0;
      } else {
        const n = (this.nextIndex.get(o.kind) ?? 0) + 1;
        this.nextIndex.set(o.kind, n);
        t = { id: `${o.kind}#${n}`, kind: o.kind, x: 0, y: 0, z: 0, missed: 0, restingHeight: NaN, restingTop: NaN, colorVotes: new Map() };
        this.tracks.push(t);
      }
      if (resting) {
        const top = o.center.z + o.size.z / 2;
        // Contact evidence lags a slow lift by a few frames; a top risen by more than 1 cm
        // over its resting top means the object has left the surface.
        const lifted = !resting[oi] || top > t.restingTop + 0.01;
        if (!lifted) {
          const first = Number.isNaN(t.restingHeight);
          t.restingHeight = first ? o.size.z : 0.7 * t.restingHeight + 0.3 * o.size.z;
          t.restingTop = first ? top : 0.7 * t.restingTop + 0.3 * top;
        } else if (!Number.isNaN(t.restingHeight)) {
          o.size.z = t.restingHeight;
          o.center.z = top - t.restingHeight / 2;
        }
      }
      t.x = o.center.x; t.y = o.center.y; t.z = o.center.z + o.size.z / 2;
      if (o.color) t.colorVotes.set(o.color, (t.colorVotes.get(o.color) ?? 0) + 1);
      o.id = t.id;
      o.color = votedColor(t.colorVotes, o.color);
    }
    this.tracks = this.tracks.filter((t) => t.missed <= this.options.maxMissed);
  }
}

function votedColor(votes: Map<string, number>, fallback: string): string {
  let best = fallback;
  let n = 0;
  for (const [c, v] of votes) if (v > n) { n = v; best = c; }
  return best;
}
