import type { EvalSample } from "../src/eval/spatial_eval.js";
import type { Scene } from "../src/scene/scene_object.js";
import type { Camera } from "./camera.js";
import { CLUTTER_MIN_VISIBLE_FRACTION, placeCamera, placeClutterCamera } from "./camera_placement.js";
import { RgbdSensor } from "./rgbd_sensor.js";
import { generateWorld } from "./scene_generator.js";
import type { NoiseModel } from "./sensor_noise.js";
import { emptyStackedTally, summarizeStacked, tallyStacked, type StackedTally } from "./stacked_eval.js";
import { supportPairs, type SupportPair } from "./stacking.js";
import type { ObjectVisibility } from "./visibility.js";
import type { World } from "./world.js";

export interface EvalSceneOptions {
  noise: NoiseModel;
  masks: "gt" | "detections";
  width?: number;
  height?: number;
  hfovDeg?: number;
  /** Stacked scenes (SceneOptions.stacking); undefined = the original draw. */
  stacking?: number;
  /** Cluttered scenes (SceneOptions.clutter) seen by placeClutterCamera. */
  clutter?: boolean;
}

/** An evaluation sample with the world behind it: who rests on whom. */
export interface EvalScene extends EvalSample {
  world: World;
  camera: Camera;
  support: SupportPair[];
  /** Cluttered scenes: every object's visibility, and which are visible enough to ask about (world order). */
  visibility?: ObjectVisibility[];
  askable?: boolean[];
}

/**
 * A simulated evaluation scene for a seed with the scene options the eval asks for. Without
 * options it is the scene `eval` has always used for that seed (the same world, camera,
 * sensor stream and truth).
 *
 * Cluttered scenes: objects not visible enough to ask about (placeClutterCamera's `askable`)
 * leave the truth, so no question names them, and the instance mask and the detections, as
 * a segmenter or detector misses what it barely sees; their pixels stay in the depth and
 * colour images, as clutter does.
 */
export function evalScene(seed: number, o: EvalSceneOptions): EvalScene {
  const world = generateWorld(seed, { stacking: o.stacking, clutter: o.clutter });
  const cameraOptions = { width: o.width, height: o.height, hfovDeg: o.hfovDeg };
  const clutter = o.clutter === true ? placeClutterCamera(world, seed, cameraOptions) : null;
  const camera = clutter ? clutter.camera : placeCamera(world, seed, cameraOptions).camera;
  const cap = new RgbdSensor({ noise: o.noise, seed }).capture(world, camera, BigInt(seed) * 1_000_000_000n);
  let truth = cap.truth;
  if (clutter) {
    const askable = clutter.askable;
    truth = { ...truth, objects: truth.objects.filter((_, i) => askable[i]) };
    const image = cap.frame.instances!.image.data;
    for (let p = 0; p < image.length; p++) if (image[p] !== 0 && !askable[image[p] - 1]) image[p] = 0;
    cap.frame.instances = { image: cap.frame.instances!.image, labels: new Map([...cap.frame.instances!.labels].filter(([id]) => askable[id - 1])) };
    // noisyDetections gives one box per object with pixels in the render, in world order.
    const seen = world.objects.map((_, i) => i).filter((i) => cap.render.visiblePixels[i] > 0);
    cap.frame.detections = cap.frame.detections!.filter((_, k) => askable[seen[k]]);
  }
  if (o.masks === "detections") delete cap.frame.instances;
  else delete cap.frame.detections;
  return {
    frame: cap.frame, truth, world, camera, support: supportPairs(world),
    ...(clutter ? { visibility: clutter.visibility, askable: clutter.askable } : {}),
  };
}

/**
 * The eval's scene options and their figures beyond the questions: samples from evalScene,
 * and per scene (through runSpatialEval's onScene) the stacked-pair tally. `summary()` is
 * merged into the eval's JSON; `lines()` are its text output.
 */
export class SceneMixEval {
  private readonly stacked: StackedTally | null;
  private readonly clutter: ClutterTally | null;
  private last: EvalScene | null = null;

  constructor(private readonly options: EvalSceneOptions) {
    this.stacked = options.stacking !== undefined ? emptyStackedTally() : null;
    this.clutter = options.clutter === true ? { scenes: 0, objects: 0, askable: 0, cut: 0, occluded: 0, leftOut: 0, outOfView: 0, perceived: 0, rejected: 0, visibleFractions: [] } : null;
  }

  readonly sample = (seed: number): EvalScene => {
    this.last = evalScene(seed, this.options);
    return this.last;
  };

  readonly onScene = (seed: number, sample: EvalSample, perceived: Scene | null): void => {
    const s = this.last;
    if (s === null || s !== sample) throw new Error(`SceneMixEval: scene ${seed} is not the sample it drew last`);
    if (this.stacked) tallyStacked(this.stacked, s.world, s.support, s.truth, perceived, seed);
    const c = this.clutter;
    if (c && s.visibility && s.askable) {
      c.scenes++;
      c.objects += s.world.objects.length;
      if (perceived) c.perceived += perceived.objects.length;
      else c.rejected++;
      s.visibility.forEach((v, i) => {
        if (s.askable![i]) {
          c.askable++;
          c.visibleFractions.push(v.visibleFraction);
          if (v.inImageFraction < CUT_BELOW) c.cut++;
          if (v.occludedFraction > OCCLUDED_ABOVE) c.occluded++;
        } else if (v.visiblePixels > 0) c.leftOut++;
        else c.outOfView++;
      });
    }
  };

  summary(): { stacked?: ReturnType<typeof summarizeStacked>; clutter?: ReturnType<typeof summarizeClutter> } {
    return {
      ...(this.stacked ? { stacked: summarizeStacked(this.stacked) } : {}),
      ...(this.clutter ? { clutter: summarizeClutter(this.clutter) } : {}),
    };
  }

  lines(): string[] {
    const out: string[] = [];
    const pct = (x: number | null) => (x === null ? "n/a" : `${(x * 100).toFixed(1)}%`);
    const st = this.stacked ? summarizeStacked(this.stacked) : null;
    if (st) {
      out.push(`stacked (--stacking ${this.options.stacking}): ${st.stacked_pairs} stacked pairs in ${st.scenes_with_stack} of ${st.scenes} scenes (${st.pairs_not_named} not nameable)`);
      out.push(`  elevation of the object on top  n=${st.elevation.n}  within 10% ${pct(st.elevation.within_10pct)}  [.5x,2x] ${pct(st.elevation.within_0_5x_2x)}  answered ${pct(st.elevation.answered)}  median rel err ${st.elevation.median_relative_error}`);
      out.push(`  above/below of stacked pairs    n=${st.above_below.n}  accuracy ${pct(st.above_below.accuracy)}`);
      const t = st.on_top_of;
      out.push(`  "put A on top of B" on one frame: success ${pct(t.success_rate)} of ${t.stacked_pairs} stacked pairs; false success ${pct(t.reversed_false_success_rate)} of ${t.reversed_pairs} reversed, ${pct(t.side_by_side_false_success_rate)} of ${t.side_by_side_pairs} side by side; ${t.unresolved} unresolved`);
    }
    const cl = this.clutter ? summarizeClutter(this.clutter) : null;
    if (cl) {
      out.push(`clutter: ${cl.objects_per_scene} objects per scene, ${cl.askable_per_scene} visible enough to ask about (≥ ${cl.min_visible_fraction * 100}% of the whole silhouette in sight)`);
      out.push(`  of those asked about: ${pct(cl.askable_cut_by_border)} cut by the image border, ${pct(cl.askable_occluded)} partly hidden by other objects; visible fraction p10 ${cl.askable_visible_fraction_p10}, median ${cl.askable_visible_fraction_median}`);
      out.push(`  left out (seen too little: not in the truth, the masks or the detections): ${cl.left_out} objects; out of view: ${cl.out_of_view}; perception found ${cl.perceived_per_scene} objects per scene; ${cl.rejected_frames} frames rejected`);
    }
    return out;
  }
}

/** An object counts as cut by the border below this share of its silhouette in the image, as partly hidden above this share occluded. */
const CUT_BELOW = 0.98;
const OCCLUDED_ABOVE = 0.05;

interface ClutterTally {
  scenes: number;
  objects: number;
  askable: number;
  cut: number;
  occluded: number;
  leftOut: number;
  outOfView: number;
  perceived: number;
  rejected: number;
  visibleFractions: number[];
}

function summarizeClutter(c: ClutterTally) {
  const r = (x: number) => Math.round(x * 1000) / 1000;
  const per = (x: number) => (c.scenes === 0 ? null : r(x / c.scenes));
  const frac = (x: number) => (c.askable === 0 ? null : r(x / c.askable));
  const sorted = c.visibleFractions.slice().sort((a, b) => a - b);
  const q = (p: number) => (sorted.length === 0 ? null : r(sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]));
  return {
    scenes: c.scenes,
    min_visible_fraction: CLUTTER_MIN_VISIBLE_FRACTION,
    objects_per_scene: per(c.objects),
    askable_per_scene: per(c.askable),
    askable_cut_by_border: frac(c.cut),
    askable_occluded: frac(c.occluded),
    askable_visible_fraction_p10: q(0.1),
    askable_visible_fraction_median: q(0.5),
    left_out: c.leftOut,
    out_of_view: c.outOfView,
    perceived_per_scene: per(c.perceived),
    rejected_frames: c.rejected,
  };
}
