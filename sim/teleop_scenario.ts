import type { Camera } from "./camera.js";
import { placeCamera, type CameraOptions } from "./camera_placement.js";
import { Rng } from "./rng.js";
import { generateWorld, type SceneOptions } from "./scene_generator.js";
import { MAX_EPISODE_FRAMES, MIN_EPISODE_FRAMES, chooseTask, scriptedEpisode, type PlaceMode, type ScriptedEpisode } from "./teleop.js";
import type { World } from "./world.js";
import { checkInteger, checkSeed } from "./sim_arguments.js";
import { InvalidInputError } from "../src/errors.js";

export interface TeleopScenario {
  /** The seed the scenario was finally built from (a crowded draw moves on to the next). */
  seed: number;
  world: World;
  camera: Camera;
  episode: ScriptedEpisode;
}

/**
 * A seeded world, camera and scripted pick-and-place episode of `frames` frames (`mode`: only
 * tasks of that placement). If a draw has no feasible task (nothing graspable, no free spot in
 * view, no surface to put A on), the next seed is tried
 * (wrapping within the 32-bit seed space). Seeds are integers in [0, 2^32); frames 20..108000.
 */
export function teleopScenario(seed: number, frames: number, camera: Partial<CameraOptions> = {}, scene: Partial<SceneOptions> = {}, mode?: PlaceMode): TeleopScenario {
  checkSeed(seed, "teleopScenario");
  if (mode !== undefined && mode !== "next_to" && mode !== "on_top_of") {
    throw new InvalidInputError("bad_argument", `teleopScenario: mode must be next_to or on_top_of, got ${typeof mode === "string" ? JSON.stringify((mode as string).slice(0, 40)) : typeof mode}`);
  }
  checkInteger(frames, "teleopScenario frames", MIN_EPISODE_FRAMES, MAX_EPISODE_FRAMES);
  for (let k = 0; k < 50; k++) {
    const s = (seed + k * 1_000_003) >>> 0;
    const world = generateWorld(s, scene);
    const placed = placeCamera(world, s, camera);
    const chosen = chooseTask(world, placed.camera, new Rng(s ^ 0x7e1e0), mode);
    if (chosen) return { seed: s, world, camera: placed.camera, episode: scriptedEpisode(world, chosen.task, chosen.target, frames) };
  }
  throw new Error(`no feasible pick-and-place task near seed ${seed}`);
}
