import type { Scene } from "../src/scene/scene_object.js";
import type { Camera } from "./camera.js";
import { placeCamera } from "./camera_placement.js";
import { applyColorJitter } from "./color_jitter.js";
import { Renderer } from "./renderer.js";
import { Rng } from "./rng.js";
import { generateWorld } from "./scene_generator.js";
import { drawSceneVariation, DEFAULT_VARIATION_RANGES, type SceneVariation, type VariationRanges } from "./scene_variation.js";
import { checkInteger, checkSeed } from "./sim_arguments.js";
import { truthScene } from "./truth.js";
import type { World } from "./world.js";

/** One exported view: the jittered RGB the model sees and the truth its labels come from. */
export interface VqaFrame {
  seed: number;
  width: number;
  height: number;
  variation: SceneVariation;
  camera: Camera;
  /** Packed rgb8, width × height × 3, the caller's to keep. */
  rgb: Uint8Array;
  /**
   * Instance mask, width × height bytes, the caller's to keep: 0 where no object is seen, k where
   * truth.objects[k − 1] is (the renderer's mono8 mask, before any noise).
   */
  mask: Uint8Array;
  truth: Scene;
}

/** The pixel-noise stream of a seed, apart from the variation's own draws. */
const PIXEL_NOISE_SALT = 0x9a1f3c;

/**
 * Renders scene seeds as the VQA export sees them: the seed's world (generateWorld) and camera
 * (placeCamera, as `eval` builds a scene, with the seed's drawn field of view and pitch range),
 * the ray-cast RGB with the seed's colour jitter and read noise, and the ground-truth scene.
 * Depth is not part of an RGB-only export; the instance mask is kept for dense supervision (export --masks) and is not degraded.
 */
export class VqaFrameRenderer {
  private readonly renderer = new Renderer();

  constructor(readonly width: number, readonly height: number, readonly ranges: VariationRanges = DEFAULT_VARIATION_RANGES) {
    checkInteger(width, "VqaFrameRenderer width", 8, 8192);
    checkInteger(height, "VqaFrameRenderer height", 8, 8192);
    drawSceneVariation(0, ranges);
  }

  /** The camera options of a seed's variation (placeCamera and teleopScenario take them). */
  cameraOptions(variation: SceneVariation): { width: number; height: number; hfovDeg: number; minPitchDeg: number; maxPitchDeg: number } {
    return { width: this.width, height: this.height, hfovDeg: variation.hfovDeg, minPitchDeg: this.ranges.pitchDeg[0], maxPitchDeg: this.ranges.pitchDeg[1] };
  }

  scene(seed: number): VqaFrame {
    checkSeed(seed, "VqaFrameRenderer.scene");
    const variation = drawSceneVariation(seed, this.ranges);
    const world = generateWorld(seed);
    const { camera } = placeCamera(world, seed, this.cameraOptions(variation));
    return this.view(seed, world, camera, variation, VqaFrameRenderer.noiseStream(seed), BigInt(seed) * 1_000_000_000n);
  }

  /** A view of any world (an episode frame); `noise` carries the pixel-noise stream across frames. */
  view(seed: number, world: World, camera: Camera, variation: SceneVariation, noise: Rng, stamp: bigint): VqaFrame {
    const r = this.renderer.render(world, camera);
    const { width, height } = camera.intrinsics;
    const rgb = new Uint8Array(width * height * 3);
    applyColorJitter(r.rgb, rgb, variation.jitter, noise);
    const mask = r.mask.data.slice(0, width * height);
    return { seed, width, height, variation, camera, rgb, mask, truth: truthScene(world, camera, stamp) };
  }

  /** A fresh pixel-noise stream for an episode of `seed`. */
  static noiseStream(seed: number): Rng {
    return new Rng(seed ^ PIXEL_NOISE_SALT);
  }
}
