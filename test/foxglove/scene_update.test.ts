import { SceneUpdate as SCENE_UPDATE_SCHEMA } from "@foxglove/schemas/jsonschema.js";
import { describe, expect, it } from "vitest";
import { MAX_SCENE_ENTITIES, objectLabel, sceneUpdateFromScene } from "../../nodes/foxglove/scene_update.js";
import type * as M from "../../src/msgs/generated.js";

/** Scene graphs as foxglove.SceneUpdate: valid against Foxglove's own JSON schema, hostile scenes bounded. */

type Schema = { type?: string; properties?: Record<string, Schema>; required?: string[]; items?: Schema; minimum?: number; maximum?: number; oneOf?: { const: number }[] };

/** The JSON Schema subset Foxglove's schemas use (object, array, number, integer, string, boolean, required, min/max, oneOf const). */
function violations(value: unknown, schema: Schema, path = "$"): string[] {
  if (schema.oneOf) return schema.oneOf.some((c) => c.const === value) ? [] : [`${path}: ${JSON.stringify(value)} is none of ${schema.oneOf.map((c) => c.const).join(",")}`];
  const out: string[] = [];
  switch (schema.type) {
    case "object": {
      if (typeof value !== "object" || value === null || Array.isArray(value)) return [`${path}: not an object`];
      const v = value as Record<string, unknown>;
      for (const k of schema.required ?? []) if (!(k in v)) out.push(`${path}.${k}: missing`);
      for (const [k, s] of Object.entries(schema.properties ?? {})) if (k in v) out.push(...violations(v[k], s, `${path}.${k}`));
      return out;
    }
    case "array":
      if (!Array.isArray(value)) return [`${path}: not an array`];
      return value.flatMap((x, i) => violations(x, schema.items ?? {}, `${path}[${i}]`));
    case "number":
    case "integer":
      if (typeof value !== "number" || !Number.isFinite(value) || (schema.type === "integer" && !Number.isInteger(value))) return [`${path}: not a finite ${schema.type}: ${String(value)}`];
      if (schema.minimum !== undefined && value < schema.minimum) out.push(`${path}: below ${schema.minimum}`);
      if (schema.maximum !== undefined && value > schema.maximum) out.push(`${path}: above ${schema.maximum}`);
      return out;
    case "string":
      return typeof value === "string" ? [] : [`${path}: not a string`];
    case "boolean":
      return typeof value === "boolean" ? [] : [`${path}: not a boolean`];
    default:
      return [];
  }
}

function scene(objects: Partial<M.spatial_reward_msgs__msg__SceneObject>[], stamp = { sec: 1_700_000_000, nanosec: 5 }): M.spatial_reward_msgs__msg__SceneObjects {
  return {
    header: { stamp, frame_id: "cam0/spatial" },
    has_support: true,
    support_z: -0.4,
    objects: objects.map((o, i) => ({
      id: `mug#${i}`, kind: "mug", color: "red", center: { x: 0.8, y: 0.1 * i, z: -0.35 }, size: { x: 0.08, y: 0.09, z: 0.1 }, confidence: 0.9, num_points: 500, ...o,
    })),
  };
}

describe("sceneUpdateFromScene", () => {
  it("one entity per object: a cube at the box, a label above it, in the scene's frame and stamp; Foxglove's schema holds", () => {
    const s = scene([{}, { id: "bowl#1", kind: "bowl", color: "blue", center: { x: 1, y: -0.2, z: -0.36 }, size: { x: 0.15, y: 0.15, z: 0.07 } }, { color: "" }]);
    const { update, skipped } = sceneUpdateFromScene(s);
    expect(skipped).toBe(0);
    expect(violations(JSON.parse(JSON.stringify(update)), SCENE_UPDATE_SCHEMA as Schema)).toEqual([]);
    expect(update.deletions).toEqual([{ timestamp: { sec: 1_700_000_000, nsec: 5 }, type: 1, id: "" }]);
    expect(update.entities.map((e) => e.id)).toEqual(["mug#0", "bowl#1", "mug#2"]);
    const bowl = update.entities[1];
    expect(bowl.frame_id).toBe("cam0/spatial");
    expect(bowl.timestamp).toEqual({ sec: 1_700_000_000, nsec: 5 });
    expect(bowl.cubes[0]).toMatchObject({ pose: { position: { x: 1, y: -0.2, z: -0.36 }, orientation: { x: 0, y: 0, z: 0, w: 1 } }, size: { x: 0.15, y: 0.15, z: 0.07 } });
    // Blue, from the colour names perception uses; an unknown colour is drawn too.
    expect(bowl.cubes[0].color.b).toBeGreaterThan(bowl.cubes[0].color.r);
    expect(bowl.texts[0].text).toBe("blue bowl (bowl#1)");
    expect(bowl.texts[0].pose.position.z).toBeCloseTo(-0.36 + 0.035 + 0.03, 9);
    expect(update.entities[2].texts[0].text).toBe("mug (mug#2)");
  });

  it("hostile scenes: non-finite boxes are skipped and counted, long strings clipped, entities capped, bad stamps zeroed", () => {
    const s = scene([
      { center: { x: NaN, y: 0, z: 0 } },
      { size: { x: 0.1, y: Infinity, z: 0.1 } },
      { id: "x".repeat(100_000), kind: "k".repeat(100_000), color: "c".repeat(100_000) },
      { size: { x: -0.1, y: 0.1, z: 0.1 } },
    ], { sec: -5, nanosec: 2e9 });
    const { update, skipped } = sceneUpdateFromScene(s);
    expect(skipped).toBe(2);
    expect(update.entities).toHaveLength(2);
    expect(violations(JSON.parse(JSON.stringify(update)), SCENE_UPDATE_SCHEMA as Schema)).toEqual([]);
    expect(update.entities[0].id.length).toBeLessThanOrEqual(64);
    expect(update.entities[0].texts[0].text.length).toBeLessThan(200);
    expect(update.entities[1].cubes[0].size.x).toBe(0.1);
    expect(update.entities[0].timestamp).toEqual({ sec: 0, nsec: 0 });
    const many = sceneUpdateFromScene(scene(Array.from({ length: MAX_SCENE_ENTITIES + 10 }, () => ({}))));
    expect(many.update.entities).toHaveLength(MAX_SCENE_ENTITIES);
    expect(many.skipped).toBe(10);
  });

  it("labels: colour and kind, with the track id", () => {
    expect(objectLabel({ id: "cup#3", kind: "cup", color: "green" })).toBe("green cup (cup#3)");
    expect(objectLabel({ id: "", kind: "cup", color: "" })).toBe("cup");
  });
});
