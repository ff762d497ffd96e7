import type { RgbdFrame } from "../src/perception/rgbd_frame.js";
import type { Scene } from "../src/scene/scene_object.js";
import type { Camera } from "./camera.js";
import { noisyDetections } from "./detections.js";
import { Renderer, type RenderOutput, type RendererOptions } from "./renderer.js";
import { Rng } from "./rng.js";
import { RealsenseNoise, type NoiseModel } from "./sensor_noise.js";
import { truthScene } from "./truth.js";
import type { World } from "./world.js";
import { InvalidInputError } from "../src/errors.js";
import { checkNoise, checkSeed } from "./sim_arguments.js";

export interface SensorOptions {
  noise: NoiseModel;
  /** Seed of the noise stream (frames differ, runs repeat). */
  seed: number;
  /**
   * Rasteriser: "auto" (default: native when the kernels addon is loaded), "ts" or "native".
   * Both give the same frames byte for byte; noise and detector boxes are TypeScript either way.
   */
  kernels?: RendererOptions["kernels"];
}

/** One capture: what the camera delivers and what is really there. */
export interface Capture {
  frame: RgbdFrame;
  truth: Scene;
  render: RenderOutput;
}

/**
 * The simulated RGB-D camera: a render, the chosen sensor noise, instance masks and
 * detector boxes, all registered to depth. The frame's buffers are the sensor's own and are
 * overwritten by the next capture; copy them to keep a frame.
 */
export class RgbdSensor {
  private readonly renderer: Renderer;
  private readonly noise = new RealsenseNoise();
  private readonly rng: Rng;

  constructor(readonly options: SensorOptions) {
    if (options === null || typeof options !== "object") throw new InvalidInputError("bad_argument", "RgbdSensor: options { noise, seed } are required");
    checkNoise(options.noise, "RgbdSensor");
    checkSeed(options.seed, "RgbdSensor");
    this.renderer = new Renderer({ kernels: options.kernels ?? "auto" });
    this.rng = new Rng(options.seed ^ 0x5e7503);
  }

  /** The rasteriser this sensor uses ("ts" or "native"). */
  get renderPath(): "ts" | "native" {
    return this.renderer.path;
  }

  capture(world: World, camera: Camera, stamp: bigint): Capture {
    const r = this.renderer.render(world, camera);
    const { width, height, fx } = camera.intrinsics;
    const noisy = this.options.noise === "realsense";
    const detections = noisyDetections(r.mask.data, width, height, r.labels, this.rng, noisy);
    if (noisy) this.noise.apply(r.depthMetres, r.mask.data, width, height, fx, world.objects.length, this.rng);
    const frame: RgbdFrame = {
      stamp,
      intrinsics: camera.intrinsics,
      rgb: r.rgb,
      depth: r.depth,
      instances: { image: r.mask, labels: r.labels },
      detections,
    };
    return { frame, truth: truthScene(world, camera, stamp), render: r };
  }
}
