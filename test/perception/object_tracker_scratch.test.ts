import { describe, expect, it } from "vitest";
import { ObjectTracker } from "../../src/perception/object_tracker.js";
import { mulberry32 } from "../../src/random/mulberry32.js";
import type { SceneObject } from "../../src/scene/scene_object.js";
import { ReferenceObjectTracker } from "./object_tracker_reference.js";

/**
 * ObjectTracker keeps its per-frame scratch (candidate pairs, their order, the assignment, the
 * held list) between frames instead of allocating it: frame by frame it gives exactly what the
 * tracker that allocated them gave (object_tracker_reference.ts): ids, boxes, colours and the
 * held objects, through ties in distance (two objects on one spot: the pair found first wins, as
 * a stable sort has it), crowds of one kind (more pairs than the insertion sort
 * takes), objects coming, going and hidden.
 */
const KINDS = ["cup", "mug", "box"];
const COLORS = ["red", "blue", "", "green"];

function copyObjects(objects: readonly SceneObject[]): SceneObject[] {
  return objects.map((o) => ({ ...o, center: { ...o.center }, size: { ...o.size } }));
}

describe("ObjectTracker with kept scratch", () => {
  it("random scenes over 400 frames (ties, crowds, occlusion, lifted objects): the same objects as the allocating tracker", () => {
    for (const seed of [1, 2, 3]) {
      const rand = mulberry32(seed);
      const a = new ObjectTracker(), b = new ReferenceObjectTracker();
      // The world: objects with a kind, colour and position that drift, some moving fast.
      let world = Array.from({ length: 10 }, (_, i) => ({
        kind: KINDS[i % KINDS.length], color: COLORS[i % COLORS.length], x: rand(), y: rand(), z: 0.05, h: 0.05 + rand() * 0.1,
      }));
      let pairsPastInsertion = 0, ties = 0, held = 0;
      for (let f = 0; f < 400; f++) {
        for (const w of world) { w.x += (rand() - 0.5) * (rand() < 0.1 ? 0.2 : 0.01); w.y += (rand() - 0.5) * 0.01; }
        if (f % 50 === 25) world.push(...Array.from({ length: 3 }, () => ({ kind: "cup", color: "red", x: rand(), y: rand(), z: 0.05, h: 0.08 })));
        if (f % 80 === 60) world = world.slice(0, 8);
        let frame: SceneObject[] = [];
        for (const w of world) {
          if (rand() < 0.1) continue; // missed this frame
          frame.push({ id: "", kind: w.kind, color: rand() < 0.9 ? w.color : "black", center: { x: w.x, y: w.y, z: w.z }, size: { x: 0.06, y: 0.06, z: w.h }, confidence: 0.9, numPoints: 300 });
        }
        if (f % 40 === 10 && frame.length > 0) {
          // A second object of the first one's kind on the same spot (another colour): the same
          // distance to every track, to the last bit; the one found first takes the track.
          const o = frame[0];
          frame.splice(1, 0, { ...o, color: o.color === "green" ? "red" : "green", center: { ...o.center }, size: { ...o.size } });
          ties++;
        }
        if (f % 60 === 30) {
          // A crowd of one kind inside the gate: 12 x 12 candidate pairs at least.
          frame = frame.concat(Array.from({ length: 12 }, (_, i) => ({
            id: "", kind: "mug", color: "blue", center: { x: 0.5 + i * 0.004, y: 0.5, z: 0.05 }, size: { x: 0.05, y: 0.05, z: 0.1 }, confidence: 1, numPoints: 200,
          })));
          pairsPastInsertion++;
        }
        const resting = frame.map(() => rand() < 0.8);
        const lowest = frame.map((o) => (rand() < 0.9 ? o.center.z - o.size.z / 2 : NaN));
        const floating = frame.map(() => rand() < 0.05);
        const hidden = (o: SceneObject) => o.center.x > 0.4;
        const fa = copyObjects(frame), fb = copyObjects(frame);
        a.update(fa, resting, lowest, hidden, floating);
        b.update(fb, resting, lowest, hidden, floating);
        expect(fa, `seed ${seed} frame ${f}`).toEqual(fb);
        held += fa.length - frame.length;
      }
      expect(ties).toBe(10);
      expect(pairsPastInsertion).toBe(7);
      expect(held).toBeGreaterThan(0);
    }
  });

  it("without contact evidence or an occlusion test, and after reset: the same", () => {
    const rand = mulberry32(11);
    const a = new ObjectTracker({ holdFrames: 0 }), b = new ReferenceObjectTracker({ holdFrames: 0 });
    for (let f = 0; f < 120; f++) {
      if (f === 60) { a.reset(); b.reset(); }
      const frame: SceneObject[] = Array.from({ length: 1 + Math.floor(rand() * 6) }, (_, i) => ({
        id: "", kind: KINDS[i % 2], color: COLORS[i % 4], center: { x: i * 0.1 + rand() * 0.01, y: rand() * 0.01, z: 0.03 }, size: { x: 0.05, y: 0.05, z: 0.06 }, confidence: 1, numPoints: 100,
      }));
      const fa = copyObjects(frame), fb = copyObjects(frame);
      a.update(fa);
      b.update(fb);
      expect(fa, `frame ${f}`).toEqual(fb);
    }
  });
});
