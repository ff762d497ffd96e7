import { describe, expect, it } from "vitest";
import {
  CLUTTER_MIN_ASKABLE, CLUTTER_MIN_VISIBLE_FRACTION, generateWorld, orientedCamera, placeClutterCamera, project, Renderer, supportWorld, toOptical,
  type SimObject, type World,
} from "../../sim/index.js";
import { evalScene, SceneMixEval } from "../../sim/eval_scene.js";
import { VisibilityMeter } from "../../sim/visibility.js";
import { isSpatialRewardError } from "../../src/errors.js";
import { intrinsicsFromFov } from "../../src/geometry/intrinsics.js";
import { mulberry32 } from "../../src/random/mulberry32.js";
import { generateQuestions } from "../../src/spatial/question_generator.js";

const SEEDS = Array.from({ length: 10 }, (_, i) => 6_000_000 + i * 17);
const OPTS = { width: 320, height: 240 };

function cube(id: string, x: number, y: number, s = 0.1): SimObject {
  return { id, kind: "cube", color: "red", primitive: { type: "box", sx: s, sy: s, sz: s }, pose: { x, y, z: 0.75, yaw: 0 } };
}
const table = (objects: SimObject[]): World => ({ tableZ: 0.75, tableHalfX: 0.6, tableHalfY: 0.9, objects });

/** A camera 1 m back from the origin along −x, level with the table top plus 0.3 m, looking down 20°. */
function camera(width = 320, height = 240) {
  const pitch = (20 * Math.PI) / 180;
  return orientedCamera(intrinsicsFromFov(width, height, 69), { x: -1, y: 0, z: 0.8 + Math.tan(pitch) * 1 }, 0, pitch, 0);
}

describe("cluttered scenes (SceneOptions.clutter)", () => {
  it("12–20 objects by default, unique names, on the table, footprints apart", () => {
    for (const s of SEEDS) {
      const w = generateWorld(s, { clutter: true });
      expect(w.objects.length).toBeGreaterThanOrEqual(12);
      expect(w.objects.length).toBeLessThanOrEqual(20);
      const names = w.objects.map((o) => `${o.color} ${o.kind}`);
      expect(new Set(names).size).toBe(names.length);
      for (const o of w.objects) {
        expect(supportWorld(o.primitive, o.pose, 1, 0, 0)).toBeLessThanOrEqual(w.tableHalfX);
        expect(supportWorld(o.primitive, o.pose, 0, 1, 0)).toBeLessThanOrEqual(w.tableHalfY);
      }
    }
    // Given counts win over clutter's.
    expect(generateWorld(3, { clutter: true, minObjects: 4, maxObjects: 4 }).objects.length).toBe(4);
  });
});

describe("VisibilityMeter", () => {
  const meter = new VisibilityMeter();
  const renderer = new Renderer();

  it("an object in plain view is wholly visible", () => {
    const w = table([cube("cube#1", 0, 0)]);
    const cam = camera();
    const [v] = meter.measure(w, cam, renderer.render(w, cam));
    // Wholly inside: both half-resolution renders see all of it.
    expect(v.inImageFraction).toBe(1);
    expect(v.occludedFraction).toBe(0);
    expect(v.visibleFraction).toBe(1);
    expect(v.fullSilhouettePixels).toBe(v.silhouettePixels);
  });

  it("an object the image border cuts through its middle is about half in the image", () => {
    const cam = camera();
    // The cube shifted sideways (world +y is the image's left) until its centre projects onto the left border.
    const k = cam.intrinsics;
    const depth = toOptical(cam, { x: 0, y: 0, z: 0.79 }).z;
    const y = ((k.cx + 0.5) / k.fx) * depth;
    const w = table([cube("cube#1", 0, y, 0.08)]);
    expect(project(cam, { x: 0, y, z: 0.79 }).u).toBeCloseTo(-0.5, 6);
    const r = renderer.render(w, cam);
    const [v] = meter.measure(w, cam, r);
    expect(v.inImageFraction).toBeGreaterThan(0.35);
    expect(v.inImageFraction).toBeLessThan(0.65);
    expect(v.occludedFraction).toBe(0);
    expect(v.visibleFraction).toBeCloseTo(v.inImageFraction, 9);
    // Independently: the same object seen by a wider camera (twice the pixels each way, same focal length) has about twice as many.
    const wide = { ...cam, intrinsics: { ...k, width: k.width * 3, height: k.height * 3, cx: k.cx + k.width, cy: k.cy + k.height } };
    const whole = renderer.render(w, wide).silhouettePixels[0];
    expect(v.fullSilhouettePixels / whole).toBeGreaterThan(0.9);
    expect(v.fullSilhouettePixels / whole).toBeLessThan(1.1);
  });

  it("an object behind another is partly hidden; one wholly behind it, entirely", () => {
    const w = table([cube("cube#1", 0, 0, 0.12), cube("cube#2", 0.3, 0.05, 0.1), cube("cube#3", 0.25, 0, 0.05)]);
    const cam = camera();
    const v = meter.measure(w, cam, renderer.render(w, cam));
    expect(v[0].occludedFraction).toBe(0);
    expect(v[1].occludedFraction).toBeGreaterThan(0.1);
    expect(v[1].occludedFraction).toBeLessThan(0.9);
    expect(v[2].visiblePixels).toBe(0);
    expect(v[2].visibleFraction).toBe(0);
  });
});

describe("placeClutterCamera and evalScene --clutter", () => {
  const scenes = SEEDS.map((s) => ({ seed: s, ...evalScene(s, { noise: "none", masks: "gt", ...OPTS, clutter: true }) }));

  it("views hold enough askable objects, some cut by the border and some partly hidden, none too close", () => {
    let cut = 0, hidden = 0, leftOut = 0, enough = 0;
    for (const s of scenes) {
      const askable = s.askable!, vis = s.visibility!;
      if (askable.filter(Boolean).length >= CLUTTER_MIN_ASKABLE) enough++;
      vis.forEach((v, i) => {
        expect(askable[i]).toBe(v.visibleFraction >= CLUTTER_MIN_VISIBLE_FRACTION && v.visiblePixels >= 120 * (OPTS.width / 640) ** 2);
        if (askable[i] && v.inImageFraction < 0.98) cut++;
        if (askable[i] && v.occludedFraction > 0.05) hidden++;
        if (!askable[i] && v.visiblePixels > 0) leftOut++;
      });
      // No object's depth is under 25 cm: the camera keeps its distance.
      const d = new Float32Array(s.frame.depth.data.buffer, s.frame.depth.data.byteOffset, OPTS.width * OPTS.height);
      let minDepth = Infinity;
      for (let p = 0; p < d.length; p++) if (d[p] > 0 && s.frame.instances!.image.data[p] !== 0) minDepth = Math.min(minDepth, d[p]);
      expect(minDepth).toBeGreaterThan(0.2);
    }
    expect(enough).toBeGreaterThanOrEqual(SEEDS.length - 1);
    expect(cut).toBeGreaterThan(0);
    expect(hidden).toBeGreaterThan(0);
    expect(leftOut).toBeGreaterThan(0);
  });

  it("what is not visible enough is in neither the truth, the masks, the detections nor any question", () => {
    for (const s of scenes) {
      const ids = new Set(s.world.objects.filter((_, i) => s.askable![i]).map((o) => o.id));
      expect(new Set(s.truth.objects.map((o) => o.id))).toEqual(ids);
      const labels = new Set<number>();
      for (const l of s.frame.instances!.image.data) if (l !== 0) labels.add(l);
      expect([...labels].every((l) => s.askable![l - 1])).toBe(true);
      expect([...s.frame.instances!.labels.keys()].every((l) => s.askable![l - 1])).toBe(true);
      const q = generateQuestions(s.truth, mulberry32(s.seed), { perType: 3 });
      for (const question of q.questions) for (const id of question.objectIds) expect(ids.has(id)).toBe(true);
      const det = evalScene(s.seed, { noise: "none", masks: "detections", ...OPTS, clutter: true });
      expect(det.frame.detections!.length).toBe(ids.size);
      expect(det.frame.instances).toBeUndefined();
    }
  });

  it("SceneMixEval reports the clutter figures", () => {
    const mix = new SceneMixEval({ noise: "none", masks: "gt", ...OPTS, clutter: true });
    for (const seed of SEEDS.slice(0, 3)) {
      const s = mix.sample(seed);
      mix.onScene(seed, s, s.truth);
    }
    const c = mix.summary().clutter!;
    expect(c.scenes).toBe(3);
    expect(c.objects_per_scene!).toBeGreaterThanOrEqual(12);
    expect(c.askable_per_scene).toBe(c.perceived_per_scene);
    expect(mix.lines().some((l) => l.startsWith("clutter:"))).toBe(true);
  });

  it("refuses bad seeds and camera options", () => {
    const w = generateWorld(1, { clutter: true });
    for (const bad of [-1, 1.5, NaN, 2 ** 32]) {
      let caught: unknown;
      try {
        placeClutterCamera(w, bad);
      } catch (e) {
        caught = e;
      }
      expect(isSpatialRewardError(caught) && caught.code === "bad_argument").toBe(true);
    }
    for (const options of [{ width: -320 }, { hfovDeg: NaN }, { height: 1e9 }, { minPitchDeg: 70, maxPitchDeg: 30 }]) {
      expect(() => placeClutterCamera(w, 1, options)).toThrow(/camera/);
    }
  });
});
