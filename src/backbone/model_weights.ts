import { ModelError } from "../errors.js";
import type { BackboneConfig } from "./config.js";
import { expectedTensors, type Weights } from "./tensor_names.js";
import { clipName } from "./clip_text.js";

/** What checkWeights needs of a tensor: its shape and its fp32 values. */
export interface ShapedTensor {
  readonly shape: readonly number[];
  readonly data: Float32Array;
}

const CONFIG_FILE = "config.json";
const WEIGHTS_FILE = "model.safetensors";

/**
 * The tensor `name` of `weights`, or a ModelError naming `file` and the tensor: missing, or
 * (with `shape`) holding a different number of values than the shape needs. What every graph
 * builder and reference pass reads its weights with.
 */
export function requireWeight(
  weights: ReadonlyMap<string, Float32Array>,
  name: string,
  shape?: readonly number[],
  file = WEIGHTS_FILE,
): Float32Array {
  const t = weights.get(name);
  const expected = shape === undefined ? "" : ` (expected shape ${fmt(shape)})`;
  if (t === undefined) throw new ModelError(file, `tensor is missing${expected}`, name);
  if (shape !== undefined) {
    const n = shape.reduce((a, b) => a * b, 1);
    if (!(t instanceof Float32Array) || t.length !== n) throw new ModelError(file, `has ${t.length} values, expected shape ${fmt(shape)} (${n} values)`, name);
  }
  return t;
}

/**
 * Checks weights read from a file against a config: every tensor of `expectedTensors(config)`
 * present with exactly its shape, and nothing else. A mismatch almost always means config.json
 * does not describe these weights, so the message says which config fields set the shape.
 * When there are several problems the first is named and the rest are counted.
 * Returns the weights in `expectedTensors` order.
 */
export function checkWeights(
  config: BackboneConfig,
  tensors: ReadonlyMap<string, ShapedTensor>,
  file = WEIGHTS_FILE,
): Weights {
  const problems: { tensor: string; message: string }[] = [];
  const out = new Map<string, Float32Array>();
  const expected = expectedTensors(config);
  const names = new Set<string>();
  for (const spec of expected) {
    names.add(spec.name);
    const t = tensors.get(spec.name);
    if (!t) {
      problems.push({ tensor: spec.name, message: `missing; ${CONFIG_FILE} (${sources(spec.name, config)}) expects it with shape ${fmt(spec.shape)}${missingHint(spec.name, config)}` });
      continue;
    }
    if (!sameShape(t.shape, spec.shape)) {
      problems.push({
        tensor: spec.name,
        message: `shape ${fmt(t.shape)} but ${CONFIG_FILE} (${sources(spec.name, config)}) expects ${fmt(spec.shape)} — config does not match the weights`,
      });
      continue;
    }
    const count = spec.shape.reduce((a, b) => a * b, 1);
    if (t.data.length !== count) {
      // Only reachable when a caller builds the map by hand: the safetensors reader ties data to shape.
      problems.push({ tensor: spec.name, message: `shape ${fmt(spec.shape)} needs ${count} values but the tensor holds ${t.data.length}` });
      continue;
    }
    out.set(spec.name, t.data);
  }
  for (const name of tensors.keys()) {
    if (names.has(name)) continue;
    problems.push({
      tensor: clipName(name),
      message: `not expected by ${CONFIG_FILE}${extraHint(name, config)} — this usually means config.json does not match the weights`,
    });
  }
  const first = problems[0];
  if (first) {
    const more = problems.length > 1 ? ` (and ${problems.length - 1} more problem${problems.length > 2 ? "s" : ""})` : "";
    throw new ModelError(file, `${first.message}${more}`, first.tensor);
  }
  return out;
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

function fmt(shape: readonly number[]): string {
  return `[${shape.join(", ")}]`;
}

/** The config fields a tensor's shape follows from, with their values, for the message. */
function sources(name: string, c: BackboneConfig): string {
  const f = (...keys: (keyof BackboneConfig)[]): string => keys.map((k) => `${k} ${String(c[k])}`).join(", ");
  const widths = (): string => c.encoders.map((e, i) => `encoders[${i}].width ${e.width}`).join(", ");
  const vision = /^vision\.([^.]+)\.(.*)$/.exec(name);
  if (vision) {
    const i = c.encoders.findIndex((e) => e.name === vision[1]);
    const e = c.encoders[i];
    if (!e) return "encoders";
    const w = `encoders[${i}].width ${e.width}`;
    const rest = vision[2]!;
    if (rest.startsWith("patch_embed.weight")) return `${w}, patch_size ${c.patch_size}`;
    if (rest.startsWith("pos_embed")) return `image_size ${c.image_size}, patch_size ${c.patch_size}, ${w}`;
    if (rest.includes(".mlp.")) return `${w}, encoders[${i}].mlp_ratio ${e.mlp_ratio}`;
    return w;
  }
  if (name === "projector.fc1.weight") return `projector.hidden ${c.projector.hidden}, ${widths()}`;
  if (name === "projector.fc1.bias") return `projector.hidden ${c.projector.hidden}`;
  if (name === "projector.fc2.weight") return `${f("d_model")}, projector.hidden ${c.projector.hidden}`;
  if (name === "c2f.score.weight") return widths();
  if (name === "c2f.score.bias") return "coarse_to_fine";
  if (name === "backbone.embeddings.weight" || name === "lm_head.weight") return f("vocab_size", "d_model");
  const m = /^backbone\.layers\.\d+\.mixer\.(.*)$/.exec(name);
  if (m) {
    switch (m[1]) {
      case "in_proj.weight":
      case "out_proj.weight":
      case "conv1d.bias":
      case "dt_proj.bias":
      case "D":
        return f("expand", "d_model");
      case "conv1d.weight":
        return f("expand", "d_model", "d_conv");
      case "x_proj.weight":
        return f("dt_rank", "d_state", "expand", "d_model");
      case "dt_proj.weight":
        return f("expand", "d_model", "dt_rank");
      case "A_log":
        return f("d_state", "expand", "d_model");
    }
  }
  return f("d_model");
}

function missingHint(name: string, c: BackboneConfig): string {
  if (name === "lm_head.weight") return "; config.json has tie_embeddings false (set it true if the head shares backbone.embeddings.weight)";
  const layer = /^backbone\.layers\.(\d+)\./.exec(name);
  if (layer) return `; config.json has n_layer ${c.n_layer}`;
  if (name.startsWith("c2f.") || name.endsWith(".pos_embed_coarse")) return "; config.json sets coarse_to_fine (set it null if the model was trained without it)";
  return "";
}

function extraHint(name: string, c: BackboneConfig): string {
  if (name === "lm_head.weight" && c.tie_embeddings) return " (config.json has tie_embeddings true, so no separate lm_head.weight)";
  const layer = /^backbone\.layers\.(\d+)\./.exec(name);
  if (layer && Number(layer[1]) >= c.n_layer) return ` (config.json has n_layer ${c.n_layer}, this is layer ${layer[1]})`;
  const vision = /^vision\.([^.]+)\.(?:blocks\.(\d+)\.)?/.exec(name);
  if (vision) {
    const i = c.encoders.findIndex((e) => e.name === vision[1]);
    if (i < 0) return ` (config.json has no encoder named ${JSON.stringify(vision[1])}; it has ${c.encoders.map((e) => e.name).join(", ")})`;
    if (vision[2] !== undefined && Number(vision[2]) >= c.encoders[i]!.depth) {
      return ` (config.json has encoders[${i}].depth ${c.encoders[i]!.depth}, this is block ${vision[2]})`;
    }
  }
  if ((name.startsWith("c2f.") || name.endsWith(".pos_embed_coarse")) && !c.coarse_to_fine) return " (config.json has no coarse_to_fine)";
  return "";
}
