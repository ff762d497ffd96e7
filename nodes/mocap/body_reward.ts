import { InvalidInputError } from "../../src/errors.js";
import type { MocapFrame } from "../../src/msgs/mocap_proto.js";
import { parseRewardSpec, formatRewardSpec } from "../../src/reward/parse_reward_spec.js";
import { RewardTracker } from "../../src/reward/reward_tracker.js";
import { PoseSceneBuilder, type ObjectPose } from "../../src/reward/scene_from_poses.js";
import type { RewardResult } from "../../src/reward/reward_spec.js";

/** A tracked rigid body standing in for a scene object in reward specs. */
export interface BodyObject {
  /** The rigid body's name in the mocap frames (after the validator's renaming, if any). */
  body: string;
  /** The object's kind, as specs name it ("mug", "hand"); default: the body name. */
  kind: string;
  /** Colour name or "". */
  color: string;
  /** Box extents (m): x depth, y width, z height, centred on the body's origin. */
  size: { x: number; y: number; z: number };
}

const MAX_BODY_OBJECTS = 64;
const KEYS = new Set(["body", "kind", "color", "size"]);

/**
 * One `reward_objects` entry: space-separated key=value pairs, e.g.
 * "body=mug_rb kind=mug color=red size=0.08,0.1,0.1" or "body=hand size=0.08,0.08,0.08".
 * body and size are required; kind defaults to the body name, color to "".
 */
export function parseBodyObject(text: string): BodyObject {
  if (typeof text !== "string" || text.length > 512) throw new InvalidInputError("bad_argument", "a reward_objects entry must be a string of at most 512 characters");
  const fields = new Map<string, string>();
  for (const token of text.trim().split(/\s+/)) {
    if (token === "") continue;
    const eq = token.indexOf("=");
    const key = eq > 0 ? token.slice(0, eq) : "";
    if (!KEYS.has(key)) throw new InvalidInputError("bad_argument", `reward_objects entry ${JSON.stringify(text.slice(0, 80))}: ${JSON.stringify(token.slice(0, 40))} is not one of body=, kind=, color=, size=`);
    if (fields.has(key)) throw new InvalidInputError("bad_argument", `reward_objects entry ${JSON.stringify(text.slice(0, 80))} gives ${key}= twice`);
    fields.set(key, token.slice(eq + 1));
  }
  const body = fields.get("body") ?? "";
  if (body === "") throw new InvalidInputError("bad_argument", `reward_objects entry ${JSON.stringify(text.slice(0, 80))} needs body=<rigid body name>`);
  const sizeText = fields.get("size");
  if (sizeText === undefined) throw new InvalidInputError("bad_argument", `reward_objects entry for ${body} needs size=<x>,<y>,<z> (metres)`);
  const parts = sizeText.split(",").map(Number);
  if (parts.length !== 3 || !parts.every((v) => Number.isFinite(v) && v >= 0 && v <= 100)) {
    throw new InvalidInputError("bad_argument", `reward_objects entry for ${body}: size must be three numbers from 0 to 100 m, got ${JSON.stringify(sizeText.slice(0, 60))}`);
  }
  const kind = fields.get("kind") ?? body;
  if (kind === "") throw new InvalidInputError("bad_argument", `reward_objects entry for ${body}: kind= must not be empty`);
  return { body, kind: kind.toLowerCase(), color: (fields.get("color") ?? "").toLowerCase(), size: { x: parts[0], y: parts[1], z: parts[2] } };
}

/** Why a frame gave no reward. */
export type BodyRewardSkip = { missing: string };

/**
 * Rewards from rigid-body poses at the mocap rate: each configured body becomes a scene object
 * (its box centred on the body's REP-103 position), and the spec's RewardTracker scores the
 * scene. REP-103's world frame (x forward, y left, z up) is the spatial frame the specs assume,
 * with the viewer looking along +x, so "left of" is +y in the mocap world.
 *
 * A frame in which a configured body is missing or untracked gives no reward (the stale pose
 * of a lost body is never used): update() returns which body was missing. The scene and its
 * objects are reused from frame to frame (PoseSceneBuilder, RewardTracker.updateInto).
 */
export class BodyReward {
  readonly specText: string;
  private readonly tracker: RewardTracker;
  private readonly builder = new PoseSceneBuilder();
  private readonly poses: ObjectPose[];
  private readonly result: RewardResult = { stamp: 0n, reward: 0, progress: 0, success: false, residual: 0 };

  constructor(spec: string, readonly objects: readonly BodyObject[], successTolerance = 0, private readonly supportZ: number | null = null) {
    if (objects.length === 0) throw new InvalidInputError("bad_argument", "a mocap reward needs reward_objects: which rigid bodies are the spec's objects");
    if (objects.length > MAX_BODY_OBJECTS) throw new InvalidInputError("bad_argument", `at most ${MAX_BODY_OBJECTS} reward_objects, got ${objects.length}`);
    const seen = new Set<string>();
    for (const o of objects) {
      if (seen.has(o.body)) throw new InvalidInputError("bad_argument", `rigid body ${o.body} appears twice in reward_objects`);
      seen.add(o.body);
    }
    if (supportZ !== null && !Number.isFinite(supportZ)) throw new InvalidInputError("bad_argument", `support height must be finite, got ${supportZ}`);
    const parsed = parseRewardSpec(spec);
    this.tracker = new RewardTracker(parsed, { successTolerance });
    this.specText = formatRewardSpec(parsed);
    this.poses = objects.map((o) => ({ id: o.body, kind: o.kind, color: o.color, position: { x: 0, y: 0, z: 0 }, size: { ...o.size } }));
  }

  /**
   * The reward of a validated frame (REP-103 metres) at `stampNs`, or which body was missing.
   * The result object is reused: read it before the next call. Throws the tracker's typed
   * errors (ObjectReferenceError when the spec names an object none of the bodies is).
   */
  update(frame: MocapFrame, stampNs: bigint): RewardResult | BodyRewardSkip {
    const bodies = frame.rigid_bodies;
    for (let i = 0; i < this.poses.length; i++) {
      const p = this.poses[i];
      let found = false;
      for (let j = 0; j < bodies.length; j++) {
        const b = bodies[j];
        if (b.name !== p.id) continue;
        if (!b.tracked) break;
        p.position.x = b.position.x;
        p.position.y = b.position.y;
        p.position.z = b.position.z;
        found = true;
        break;
      }
      if (!found) return { missing: p.id };
    }
    const scene = this.builder.build(this.poses, stampNs, this.supportZ);
    return this.tracker.updateInto(scene, this.result);
  }

  /**
   * Checks that the spec's phrases resolve to the configured objects (an unknown or ambiguous
   * object throws ObjectReferenceError), with every body at the origin, then resets: a spec that
   * can never be scored is refused at start, not counted once per frame.
   */
  selfCheck(): void {
    for (const p of this.poses) {
      p.position.x = 0;
      p.position.y = 0;
      p.position.z = 0;
    }
    this.tracker.update(this.builder.build(this.poses, 0n, this.supportZ));
    this.tracker.reset();
  }

  /** A new episode: the next reward's residual is the progress baseline. */
  reset(): void {
    this.tracker.reset();
  }
}
