// The object tracker as it was before its per-frame scratch was kept between frames (commit
// 0778302's src/perception/object_tracker.ts, renamed): the reference object_tracker_scratch.test.ts
// holds the tracker to, frame by frame. Not used by the package.
import type { SceneObject } from "../../src/scene/scene_object.js";
import { BoxFilter, type BoxFilterOptions } from "../../src/perception/box_filter.js";

interface Track {
  id: string;
  kind: string;
  x: number;
  y: number;
  /** Top of the box (z), which stays put when the bottom estimate jumps. */
  z: number;
  /** Frames since last matched. */
  missed: number;
  /** Frames matched in all. */
  seen: number;
  /** Missed only in frames of the same scene since last matched (so it may be held). */
  holdable: boolean;
  /** The track's box over time (rest: converging median; moving: the frame's). */
  filter: BoxFilter;
  /** The last object shown for the track (held while it is missed). */
  last: SceneObject;
  /** Colour votes: the name shown is the most frequent over the track's life. */
  colorVotes: Map<string, number>;
}

export interface TrackerOptions {
  /** Max centre displacement (m) between consecutive frames for a match. */
  gate: number;
  /** Frames a lost track is kept for re-identification. */
  maxMissed: number;
  /**
   * Frames a missed track is still shown in the scene (its last box, moved on by its velocity,
   * confidence halved each frame) while it is hidden behind something nearer: a brief
   * occlusion does not make the object vanish from the scene, and from the questions and
   * rewards about it. 0: never. Only tracks seen in `holdAfter` frames or more are held (a
   * one-frame phantom is not), only while most objects seen in the last frame are seen again
   * (the same scene), and only when the caller can tell that the box is hidden (update's
   * `hidden`): an object that is simply gone is not shown.
   */
  holdFrames: number;
  holdAfter: number;
  box: Partial<BoxFilterOptions>;
}

/**
 * Gives objects stable ids across frames ("mug#1" stays "mug#1") by greedy nearest-centre
 * association within each kind, and filters each object's box over time (box_filter.ts).
 * Segmenters do not promise stable instance ids, so ids come from geometry, not from the
 * mask. Colour names are voted over time so one badly lit frame does not rename an object, and
 * frames of an object lifted after it was seen at rest do not vote (the lighting on a carried
 * object changes, its paint does not).
 */
export class ReferenceObjectTracker {
  private tracks: Track[] = [];
  private readonly nextIndex = new Map<string, number>();
  readonly options: TrackerOptions;

  constructor(options: Partial<TrackerOptions> = {}) {
    this.options = { gate: 0.12, maxMissed: 30, holdFrames: 5, holdAfter: 3, box: {}, ...options };
  }

  reset(): void {
    this.tracks = [];
    this.nextIndex.clear();
  }

  /**
   * Assigns ids and voted colours to this frame's detections and filters their boxes, in
   * place; appends the tracks missed for at most holdFrames frames. `resting[i]` says whether
   * object i stands on the support surface (a lifted object's underside is hidden, so its box
   * keeps the height the object had at rest: rigid objects keep their size); `lowest[i]` is its
   * lowest seen point (which end of a lifted object is seen); `hidden(o)` says whether a box is
   * behind something nearer in this frame (without it, nothing is held); `floating[i]` whether
   * object i is held in the air (its box is then never averaged).
   */
  update(objects: SceneObject[], resting?: readonly boolean[], lowest?: readonly number[], hidden?: (o: SceneObject) => boolean, floating?: readonly boolean[]): void {
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
    // Holding a missed object assumes the same scene: most of the objects seen last frame are
    // seen again. When they are not (the camera turned, another scene came in), nothing is held.
    let active = 0, activeMatched = 0;
    for (let ti = 0; ti < this.tracks.length; ti++) {
      if (this.tracks[ti].missed !== 0) continue;
      active++;
      if (trackUsed[ti]) activeMatched++;
    }
    const sameScene = activeMatched > 0 && activeMatched >= 0.5 * active;
    const held: SceneObject[] = [];
    for (let ti = 0; ti < this.tracks.length; ti++) {
      if (trackUsed[ti]) continue;
      const t = this.tracks[ti];
      t.missed++;
      if (!sameScene) t.holdable = false;
      if (hidden && t.holdable && t.missed <= this.options.holdFrames && t.seen >= this.options.holdAfter) {
        const o = cloneObject(t.last);
        t.filter.predictInto(o);
        if (!hidden(o)) {
          t.holdable = false;
          continue;
        }
        o.confidence = t.last.confidence * 0.5;
        o.numPoints = 0;
        t.last = o;
        t.x = o.center.x; t.y = o.center.y; t.z = o.center.z + o.size.z / 2;
        held.push(o);
      }
    }
    for (let oi = 0; oi < objects.length; oi++) {
      const o = objects[oi];
      let t: Track;
      if (objTrack[oi] >= 0) {
        t = this.tracks[objTrack[oi]];
        t.missed = 0;
        t.seen++;
        t.holdable = true;
      } else {
        const n = (this.nextIndex.get(o.kind) ?? 0) + 1;
        this.nextIndex.set(o.kind, n);
        t = { id: `${o.kind}#${n}`, kind: o.kind, x: 0, y: 0, z: 0, missed: 0, seen: 1, holdable: true, filter: new BoxFilter(this.options.box), last: o, colorVotes: new Map() };
        this.tracks.push(t);
      }
      // Without contact evidence every object is taken to rest (as callers without it had it).
      t.filter.apply(o, { onSupport: resting ? resting[oi] : true, floating: floating ? floating[oi] : false, lowest: lowest ? lowest[oi] : Number.NaN });
      t.x = o.center.x; t.y = o.center.y; t.z = o.center.z + o.size.z / 2;
      // Lifted off the support after being seen on it, an object is lit differently (nearer the
      // camera, tilted, under the hand) and a gray one reads black for as long as it is carried;
      // its paint has not changed, so those frames do not vote (a gray bottle carried for 45
      // frames outvoted its frames at rest and "the gray bottle" was no longer found).
      const carried = t.filter.lifted && !Number.isNaN(t.filter.restingHeight) && t.colorVotes.size > 0;
      if (o.color && !carried) t.colorVotes.set(o.color, (t.colorVotes.get(o.color) ?? 0) + 1);
      o.id = t.id;
      o.color = votedColor(t.colorVotes, o.color);
      t.last = o;
    }
    for (const o of held) objects.push(o);
    this.tracks = this.tracks.filter((t) => t.missed <= this.options.maxMissed);
  }
}

function cloneObject(o: SceneObject): SceneObject {
  return { ...o, center: { ...o.center }, size: { ...o.size } };
}

function votedColor(votes: Map<string, number>, fallback: string): string {
  let best = fallback;
  let n = 0;
  for (const [c, v] of votes) if (v > n) { n = v; best = c; }
  return best;
}
