import type { Quaternion } from "../src/geometry/quaternion.js";
import type { Vec3 } from "../src/geometry/vec3.js";
import { quatFromYaw, quatMul, quatFromAxisAngle } from "./rotation.js";
import { primitiveHeight, type Pose } from "./shapes.js";
import { minJerk, type ScriptedEpisode } from "./teleop.js";
import type { World } from "./world.js";

/** A pose in the world frame (REP-103 axes, metres). */
export interface RigidPose {
  position: Vec3;
  orientation: Quaternion;
}

/** The scripted episode's frame rate: the camera's 30 Hz. */
export const EPISODE_FPS = 30;

/** Where the hand waits before the grasp and after the release, relative to the grasp point: back towards the operator (−x) and up. */
const REST_OFFSET: Vec3 = { x: -0.25, y: 0, z: 0.18 };
/** Hand pitch (fingers below horizontal) at rest and while holding (pointing straight down). */
const REST_PITCH = (35 * Math.PI) / 180;
const GRASP_PITCH = Math.PI / 2;
/** Longest retreat after the release (s). */
const RETREAT_S = 1;

/**
 * Monotone piecewise-cubic (Fritsch–Carlson/PCHIP) interpolation of samples at unit spacing:
 * it passes through every sample, is C¹, and never overshoots between them, so an object
 * resting on the table never dips into it and a minimum-jerk move stays monotone.
 */
class Pchip {
  private readonly slope: Float64Array;
  constructor(private readonly y: Float64Array) {
    const n = y.length;
    const d = new Float64Array(n);
    if (n >= 2) {
      d[0] = y[1] - y[0];
      d[n - 1] = y[n - 1] - y[n - 2];
      for (let k = 1; k < n - 1; k++) {
        const a = y[k] - y[k - 1], b = y[k + 1] - y[k];
        // Zero slope at a local extremum or a flat side; else the harmonic mean of the sides.
        d[k] = a * b <= 0 ? 0 : (2 * a * b) / (a + b);
      }
    }
    this.slope = d;
  }

  /** The value at sample position u (clamped to the samples). */
  at(u: number): number {
    const n = this.y.length;
    if (n === 1 || u <= 0) return this.y[0];
    if (u >= n - 1) return this.y[n - 1];
    const k = Math.floor(u);
    const s = u - k;
    const s2 = s * s, s3 = s2 * s;
    return (2 * s3 - 3 * s2 + 1) * this.y[k] + (s3 - 2 * s2 + s) * this.slope[k] + (-2 * s3 + 3 * s2) * this.y[k + 1] + (s3 - s2) * this.slope[k + 1];
  }
}

interface ObjectTrack {
  x: Pchip;
  y: Pchip;
  z: Pchip;
  yaw: Pchip;
}

function samePose(a: Pose, b: Pose): boolean {
  return a.x === b.x && a.y === b.y && a.z === b.z && a.yaw === b.yaw;
}

/**
 * A scripted teleop episode in continuous time: object poses between the 30 Hz frames and
 * the hand that carries the picked object, at any time t (seconds from the episode's first
 * frame; held at the ends).
 *
 * Objects are interpolated (PCHIP per coordinate, yaw unwrapped): the episode defines them
 * only at its frames. The hand is computed at t directly: it approaches the picked object's
 * top from a rest pose (back and above) with a minimum-jerk move while the object waits,
 * holds the top of the object (fingers down, yaw of the object) from the lift until the
 * object is set down, then retreats the same way. Its x axis is the finger direction.
 */
export class TeleopMotion {
  readonly objectIds: readonly string[];
  /** Episode length: first to last frame (s). */
  readonly durationS: number;
  /** The hand closes on the object at this time (the last frame before it lifts). */
  readonly graspTimeS: number;
  /** The hand lets go at this time (the episode's placeFrame). */
  readonly releaseTimeS: number;
  readonly pickedIndex: number;
  private readonly tracks: ObjectTrack[];
  private readonly graspHeight: number;
  private readonly retreatS: number;

  constructor(world: World, episode: ScriptedEpisode) {
    const frames = episode.poses.length;
    this.objectIds = world.objects.map((o) => o.id);
    this.durationS = (frames - 1) / EPISODE_FPS;
    this.pickedIndex = episode.aIndex;
    this.tracks = world.objects.map((_, i) => {
      const col = (get: (p: Pose) => number) => Float64Array.from(episode.poses, (f) => get(f[i]));
      const yaw = col((p) => p.yaw);
      for (let k = 1; k < yaw.length; k++) yaw[k] = yaw[k - 1] + Math.atan2(Math.sin(yaw[k] - yaw[k - 1]), Math.cos(yaw[k] - yaw[k - 1]));
      return { x: new Pchip(col((p) => p.x)), y: new Pchip(col((p) => p.y)), z: new Pchip(col((p) => p.z)), yaw: new Pchip(yaw) };
    });
    const a = episode.aIndex;
    const start = episode.poses[0][a];
    let grasp = 0;
    while (grasp + 1 < frames && samePose(episode.poses[grasp + 1][a], start)) grasp++;
    this.graspTimeS = grasp / EPISODE_FPS;
    this.releaseTimeS = Math.max(this.graspTimeS, episode.placeFrame / EPISODE_FPS);
    this.retreatS = Math.min(RETREAT_S, this.durationS - this.releaseTimeS);
    this.graspHeight = primitiveHeight(world.objects[a].primitive);
  }

  /** Object i's base centre and yaw at time t. */
  objectPose(i: number, tS: number): RigidPose {
    const u = tS * EPISODE_FPS;
    const tr = this.tracks[i];
    return { position: { x: tr.x.at(u), y: tr.y.at(u), z: tr.z.at(u) }, orientation: quatFromYaw(tr.yaw.at(u)) };
  }

  /** The hand at time t: the grasp point (top centre of the picked object) while holding it. */
  handPose(time: number): RigidPose {
    const tS = Math.min(Math.max(time, 0), this.durationS);
    const a = this.pickedIndex;
    const u = (t: number) => t * EPISODE_FPS;
    const tr = this.tracks[a];
    const gripAt = (t: number): Vec3 => ({ x: tr.x.at(u(t)), y: tr.y.at(u(t)), z: tr.z.at(u(t)) + this.graspHeight });
    let p: Vec3, pitch: number, yaw: number;
    if (tS < this.graspTimeS) {
      const g = gripAt(this.graspTimeS);
      const s = minJerk(tS / this.graspTimeS);
      p = { x: g.x + REST_OFFSET.x * (1 - s), y: g.y + REST_OFFSET.y * (1 - s), z: g.z + REST_OFFSET.z * (1 - s) };
      pitch = REST_PITCH + (GRASP_PITCH - REST_PITCH) * s;
      yaw = tr.yaw.at(u(this.graspTimeS));
    } else if (tS <= this.releaseTimeS || this.retreatS <= 0) {
      p = gripAt(Math.min(tS, this.releaseTimeS));
      pitch = GRASP_PITCH;
      yaw = tr.yaw.at(u(Math.min(tS, this.releaseTimeS)));
    } else {
      const g = gripAt(this.releaseTimeS);
      const s = minJerk((tS - this.releaseTimeS) / this.retreatS);
      p = { x: g.x + REST_OFFSET.x * s, y: g.y + REST_OFFSET.y * s, z: g.z + REST_OFFSET.z * s };
      pitch = GRASP_PITCH + (REST_PITCH - GRASP_PITCH) * s;
      yaw = tr.yaw.at(u(this.releaseTimeS));
    }
    // Yaw about world z, then pitch about the hand's y: x (the fingers) tips below horizontal.
    return { position: p, orientation: quatMul(quatFromYaw(yaw), quatFromAxisAngle(0, 1, 0, pitch)) };
  }
}
