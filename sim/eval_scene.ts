import type { EvalSample } from "../src/eval/spatial_eval.js";
import type { Scene } from "../src/scene/scene_object.js";
import type { Camera } from "./camera.js";
import { placeCamera } from "./camera_placement.js";
import { RgbdSensor } from "./rgbd_sensor.js";
import { generateWorld } from "./scene_generator.js";
import type { NoiseModel } from "./sensor_noise.js";
import { emptyStackedTally, summarizeStacked, tallyStacked, type StackedTally } from "./stacked_eval.js";
import { supportPairs, type SupportPair } from "./stacking.js";
import type { World } from "./world.js";

export interface EvalSceneOptions {
  noise: NoiseModel;
  masks: "gt" | "detections";
  width?: number;
  height?: number;
  hfovDeg?: number;
  /** Stacked scenes (SceneOptions.stacking); undefined = the original draw. */
  stacking?: number;
}

/** An evaluation sample with the world behind it: who rests on whom. */
export interface EvalScene extends EvalSample {
  world: World;
  camera: Camera;
  support: SupportPair[];
}

/**
 * A simulated evaluation scene for a seed with the scene options the eval asks for. Without
 * options it is the scene `eval` has always used for that seed (the same world, camera,
 * sensor stream and truth).
 */
export function evalScene(seed: number, o: EvalSceneOptions): EvalScene {
  const world = generateWorld(seed, { stacking: o.stacking });
  const { camera } = placeCamera(world, seed, { width: o.width, height: o.height, hfovDeg: o.hfovDeg });
  const cap = new RgbdSensor({ noise: o.noise, seed }).capture(world, camera, BigInt(seed) * 1_000_000_000n);
  if (o.masks === "detections") delete cap.frame.instances;
  else delete cap.frame.detections;
  return { frame: cap.frame, truth: cap.truth, world, camera, support: supportPairs(world) };
}

/**
 * The eval's scene options and their figures beyond the questions: samples from evalScene,
 * and per scene (through runSpatialEval's onScene) the stacked-pair tally. `summary()` is
 * merged into the eval's JSON; `lines()` are its text output.
 */
export class SceneMixEval {
  private readonly stacked: StackedTally | null;
  private last: EvalScene | null = null;

  constructor(private readonly options: EvalSceneOptions) {
    this.stacked = options.stacking !== undefined ? emptyStackedTally() : null;
  }

  readonly sample = (seed: number): EvalScene => {
    this.last = evalScene(seed, this.options);
    return this.last;
  };

  readonly onScene = (seed: number, sample: EvalSample, perceived: Scene | null): void => {
    const s = this.last;
    if (s === null || s !== sample) throw new Error(`SceneMixEval: scene ${seed} is not the sample it drew last`);
    if (this.stacked) tallyStacked(this.stacked, s.world, s.support, s.truth, perceived, seed);
  };

  summary(): { stacked?: ReturnType<typeof summarizeStacked> } {
    return this.stacked ? { stacked: summarizeStacked(this.stacked) } : {};
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
    return out;
  }
}
