import { SceneUpdate } from "@foxglove/schemas/jsonschema.js";

/**
 * foxglove.SceneUpdate's JSON Schema as Foxglove publishes it (@foxglove/schemas): the schema of
 * the bridge's `…/boxes` channels (encoding "json", schemaEncoding "jsonschema").
 */
export const SCENE_UPDATE_JSON_SCHEMA: string = JSON.stringify(SceneUpdate);
