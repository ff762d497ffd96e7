import type { EvalSample } from "../../src/eval/spatial_eval.js";
import { generateWorld, placeCamera, RgbdSensor, type NoiseModel } from "../../sim/index.js";

export interface SampleOptions {
  noise: NoiseModel;
  masks: "gt" | "detections";
  width?: number;
  height?: number;
  hfovDeg?: number;
}

/** A fresh simulated scene for a seed: the frame perception gets and the truth the scorer uses. */
export function simSample(seed: number, o: SampleOptions): EvalSample {
  const world = generateWorld(seed);
  const { camera } = placeCamera(world, seed, { width: o.width, height: o.height, hfovDeg: o.hfovDeg });
  const cap = new RgbdSensor({ noise: o.noise, seed }).capture(world, camera, BigInt(seed) * 1_000_000_000n);
  if (o.masks === "detections") delete cap.frame.instances;
  else delete cap.frame.detections;
  return { frame: cap.frame, truth: cap.truth };
}
