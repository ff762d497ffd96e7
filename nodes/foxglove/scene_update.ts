import type { CubePrimitive, SceneEntity, SceneUpdate, TextPrimitive } from "@foxglove/schemas";
import type * as M from "../../src/msgs/generated.js";
import { COLORS } from "../../src/scene/colors.js";

/**
 * A scene graph (spatial_reward_msgs/SceneObjects) as a foxglove.SceneUpdate: one entity per
 * object, an axis-aligned cube at its amodal box (the spatial frame is gravity-aligned, so the
 * boxes need no rotation) and a billboard label above it. Each update first deletes every entity
 * of the channel stamped before it, so an object that left the scene leaves the 3D panel too.
 * The message is for JSON encoding: times are {sec, nsec}, as Foxglove's JSON schemas say.
 */

/** Longest id, kind or colour text shown: a peer's scene can carry megabytes in a string. */
const MAX_LABEL_CHARS = 64;
/** Objects drawn per update; a hostile or broken scene can list thousands. */
export const MAX_SCENE_ENTITIES = 1024;
/** The cube's opacity: translucent, so the camera image and the points behind stay visible. */
const CUBE_ALPHA = 0.45;
/** A colour name no reference matches (or none) is drawn in this neutral cyan. */
const UNKNOWN_RGB: readonly [number, number, number] = [0, 200, 220];
const RGB = new Map<string, readonly [number, number, number]>(COLORS.map((c) => [c.name, c.rgb]));
const IDENTITY = { x: 0, y: 0, z: 0, w: 1 } as const;
/** foxglove.SceneEntityDeletionType.ALL */
const DELETE_ALL = 1;

export interface SceneUpdateResult {
  update: SceneUpdate;
  /** Objects left out: a non-finite centre or size, or past MAX_SCENE_ENTITIES. */
  skipped: number;
}

function clipLabel(text: string): string {
  return text.length <= MAX_LABEL_CHARS ? text : `${text.slice(0, MAX_LABEL_CHARS - 1)}…`;
}

function finite3(v: { x: number; y: number; z: number }): boolean {
  return Number.isFinite(v.x) && Number.isFinite(v.y) && Number.isFinite(v.z);
}

/** ROS time → Foxglove JSON time; out-of-range stamps (a peer's garbage) become 0, never NaN in JSON. */
function time(stamp: M.builtin_interfaces__msg__Time): { sec: number; nsec: number } {
  const sec = Number.isInteger(stamp.sec) && stamp.sec >= 0 ? stamp.sec : 0;
  const nsec = Number.isInteger(stamp.nanosec) && stamp.nanosec >= 0 && stamp.nanosec < 1e9 ? stamp.nanosec : 0;
  return { sec, nsec };
}

/** The label a person reads in the 3D panel: "red mug (mug#2)". */
export function objectLabel(o: Pick<M.spatial_reward_msgs__msg__SceneObject, "id" | "kind" | "color">): string {
  const name = [o.color, o.kind].filter((s) => s !== "").map(clipLabel).join(" ");
  return o.id === "" ? name : `${name} (${clipLabel(o.id)})`;
}

export function sceneUpdateFromScene(msg: M.spatial_reward_msgs__msg__SceneObjects): SceneUpdateResult {
  const timestamp = time(msg.header.stamp);
  const frameId = clipLabel(msg.header.frame_id);
  const entities: SceneEntity[] = [];
  let skipped = 0;
  for (let i = 0; i < msg.objects.length; i++) {
    const o = msg.objects[i];
    if (entities.length >= MAX_SCENE_ENTITIES || !finite3(o.center) || !finite3(o.size)) {
      skipped++;
      continue;
    }
    const [r, g, b] = RGB.get(o.color) ?? UNKNOWN_RGB;
    const cube: CubePrimitive = {
      pose: { position: { x: o.center.x, y: o.center.y, z: o.center.z }, orientation: { ...IDENTITY } },
      size: { x: Math.abs(o.size.x), y: Math.abs(o.size.y), z: Math.abs(o.size.z) },
      color: { r: r / 255, g: g / 255, b: b / 255, a: CUBE_ALPHA },
    };
    const text: TextPrimitive = {
      pose: { position: { x: o.center.x, y: o.center.y, z: o.center.z + Math.abs(o.size.z) / 2 + 0.03 }, orientation: { ...IDENTITY } },
      billboard: true,
      font_size: 14,
      scale_invariant: true,
      color: { r: 1, g: 1, b: 1, a: 1 },
      text: objectLabel(o),
    };
    entities.push({
      timestamp,
      frame_id: frameId,
      // Ids must be unique on the channel; a track id is, an empty one falls back to the index.
      id: o.id === "" ? `#${i}` : clipLabel(o.id),
      lifetime: { sec: 0, nsec: 0 },
      frame_locked: false,
      metadata: [
        { key: "kind", value: clipLabel(o.kind) },
        { key: "color", value: clipLabel(o.color) },
        { key: "confidence", value: Number.isFinite(o.confidence) ? o.confidence.toFixed(3) : "nan" },
        { key: "num_points", value: String(o.num_points) },
      ],
      arrows: [],
      cubes: [cube],
      spheres: [],
      cylinders: [],
      lines: [],
      triangles: [],
      texts: [text],
      models: [],
    });
  }
  return { update: { deletions: [{ timestamp, type: DELETE_ALL, id: "" }], entities }, skipped };
}
