import { ModelError } from "../errors.js";

/**
 * The sizes of a Cobra-style model: two ViT branches whose features are concatenated
 * (Cobra fuses DINOv2 and SigLIP), an MLP projector with LDP-style token pooling, and a Mamba
 * language model (mamba_ssm's `Mamba` mixer, Hugging Face `MambaForCausalLM` names).
 * `models/README.md` is the contract for every field.
 */
export interface EncoderBranchConfig {
  /** Tensor-name prefix: `vision.<name>.…`. */
  readonly name: string;
  readonly width: number;
  readonly depth: number;
  readonly heads: number;
  /** MLP hidden size = width * mlp_ratio. */
  readonly mlp_ratio: number;
}

export interface ProjectorConfig {
  readonly hidden: number;
  /** Average-pool the patch grid in token_pool x token_pool cells before the MLP (1 = none). */
  readonly token_pool: number;
}

export interface CoarseToFineConfig {
  /** Fraction of fine patches encoded; the rest merge into one count-carrying token. */
  readonly keep_ratio: number;
  /**
   * Leading blocks of each branch run at the coarse scale (clipped to the branch's depth).
   * The keep score needs scene context, not full features: one block keeps one attention
   * round of context and is what makes coarse-to-fine cheaper than the full encoder. Default 1.
   */
  readonly coarse_depth?: number;
}

export interface BackboneConfig {
  readonly format: "spatial-reward-cobra";
  readonly format_version: 1;
  /** False for seeded-random weights: their text is never presented as an answer. */
  readonly trained: boolean;
  readonly image_size: number;
  readonly patch_size: number;
  readonly image_mean: readonly [number, number, number];
  readonly image_std: readonly [number, number, number];
  readonly encoders: readonly EncoderBranchConfig[];
  readonly projector: ProjectorConfig;
  readonly d_model: number;
  readonly n_layer: number;
  readonly d_state: number;
  readonly d_conv: number;
  readonly expand: number;
  readonly dt_rank: number;
  readonly vocab_size: number;
  readonly norm_eps: number;
  /** Absent or null: coarse-to-fine encoding is not available for this model. */
  readonly coarse_to_fine: CoarseToFineConfig | null;
  /** Whether `lm_head.weight` is stored; when false the head shares `backbone.embeddings.weight`. */
  readonly tie_embeddings: boolean;
  /**
   * A task-progress head on the stream state: progress = sigmoid(norm_f(h) · w + b) after a
   * frame's visual tokens are prefilled (h = the last token's residual). Absent = false.
   */
  readonly progress_head?: boolean;
  /**
   * "Just read twice" (Arora et al. 2024): a question is prefilled as BOS + question, the frame's
   * visual tokens again (the rows the stream prefilled for its latest frame), then "\n"; the
   * answer follows. Absent (parsed configs leave it out) or false: BOS + question + "\n".
   */
  readonly reread_image?: boolean;
}

/** Sizes that follow from a config; computed once, used by the builder, the arena and the CLI. */
export interface BackboneSizes {
  readonly gridSide: number;
  readonly patches: number;
  readonly patchDim: number;
  readonly featureWidth: number;
  readonly cellSide: number;
  readonly visualTokens: number;
  readonly dInner: number;
  /** Floats of one stream's state: conv [n_layer, d_inner, d_conv] then ssm [n_layer, d_inner, d_state]. */
  readonly convStateFloats: number;
  readonly ssmStateFloats: number;
  readonly stateFloats: number;
  readonly stateBytes: number;
  /** Coarse scale of the pyramid (image downsampled 2x), when coarse_to_fine is set. */
  readonly coarseGridSide: number;
  readonly coarsePatches: number;
}

/** The tiny default: d_model 256, 224x224 input, 196 patches pooled to 49 visual tokens per frame. */
export const TINY_CONFIG: BackboneConfig = {
  format: "spatial-reward-cobra",
  format_version: 1,
  trained: false,
  image_size: 224,
  patch_size: 16,
  image_mean: [0.485, 0.456, 0.406],
  image_std: [0.229, 0.224, 0.225],
  encoders: [
    { name: "dino", width: 96, depth: 2, heads: 3, mlp_ratio: 4 },
    { name: "siglip", width: 64, depth: 2, heads: 2, mlp_ratio: 4 },
  ],
  projector: { hidden: 256, token_pool: 2 },
  d_model: 256,
  n_layer: 4,
  d_state: 16,
  d_conv: 4,
  expand: 2,
  dt_rank: 16,
  vocab_size: 264,
  norm_eps: 1e-5,
  coarse_to_fine: { keep_ratio: 0.65, coarse_depth: 1 },
  tie_embeddings: true,
  progress_head: false,
};

export function backboneSizes(c: BackboneConfig): BackboneSizes {
  const gridSide = c.image_size / c.patch_size;
  const dInner = c.expand * c.d_model;
  const convStateFloats = c.n_layer * dInner * c.d_conv;
  const ssmStateFloats = c.n_layer * dInner * c.d_state;
  const coarseGridSide = c.coarse_to_fine ? gridSide / 2 : 0;
  return {
    gridSide,
    patches: gridSide * gridSide,
    patchDim: 3 * c.patch_size * c.patch_size,
    featureWidth: c.encoders.reduce((s, e) => s + e.width, 0),
    cellSide: gridSide / c.projector.token_pool,
    visualTokens: (gridSide / c.projector.token_pool) ** 2,
    dInner,
    convStateFloats,
    ssmStateFloats,
    stateFloats: convStateFloats + ssmStateFloats,
    stateBytes: 4 * (convStateFloats + ssmStateFloats),
    coarseGridSide,
    coarsePatches: coarseGridSide * coarseGridSide,
  };
}

const FILE = "config.json";

/** A bad value quoted in an error, clipped: a hostile config.json must not make a 16 MB message. */
function quote(v: unknown): string {
  let s: string;
  try {
    s = JSON.stringify(v) ?? String(v);
  } catch {
    s = Array.isArray(v) ? "[…]" : typeof v; // too deep to print (stack) or cyclic
  }
  return s.length > 80 ? `${s.slice(0, 80)}…` : s;
}
const MAX = 1 << 16;

function int(o: Record<string, unknown>, key: string, min: number, max = MAX, where = ""): number {
  const v = o[key];
  if (typeof v !== "number" || !Number.isInteger(v) || v < min || v > max) {
    throw new ModelError(FILE, `${where}${key} must be an integer in [${min}, ${max}], got ${quote(v)}`);
  }
  return v;
}

function num(o: Record<string, unknown>, key: string, min: number, max: number, where = ""): number {
  const v = o[key];
  if (typeof v !== "number" || !Number.isFinite(v) || v < min || v > max) {
    throw new ModelError(FILE, `${where}${key} must be a number in [${min}, ${max}], got ${quote(v)}`);
  }
  return v;
}

function optionalBool(o: Record<string, unknown>, key: string): boolean {
  const v = o[key];
  if (v === undefined || v === null) return false;
  if (typeof v !== "boolean") throw new ModelError(FILE, `${key} must be true or false, got ${quote(v)}`);
  return v;
}

function obj(v: unknown, what: string): Record<string, unknown> {
  if (typeof v !== "object" || v === null || Array.isArray(v)) throw new ModelError(FILE, `${what} must be an object`);
  return v as Record<string, unknown>;
}

function triple(o: Record<string, unknown>, key: string, min: number): [number, number, number] {
  const v = o[key];
  if (!Array.isArray(v) || v.length !== 3 || !v.every((x) => typeof x === "number" && Number.isFinite(x) && x >= min)) {
    throw new ModelError(FILE, `${key} must be three finite numbers >= ${min}`);
  }
  return [v[0], v[1], v[2]];
}

/**
 * Validates a parsed config.json. Every field is checked and every derived size must divide
 * evenly, so that the graph builder never meets a shape it cannot build.
 */
export function parseBackboneConfig(json: unknown): BackboneConfig {
  const o = obj(json, "config.json");
  if (o.format !== "spatial-reward-cobra") throw new ModelError(FILE, `format must be "spatial-reward-cobra", got ${quote(o.format)}`);
  if (o.format_version !== 1) throw new ModelError(FILE, `format_version ${quote(o.format_version)} is not supported (1 is)`);
  if (typeof o.trained !== "boolean") throw new ModelError(FILE, "trained must be true or false");
  const image_size = int(o, "image_size", 8, 4096);
  const patch_size = int(o, "patch_size", 1, 512);
  if (image_size % patch_size !== 0) throw new ModelError(FILE, `image_size ${image_size} is not a multiple of patch_size ${patch_size}`);
  const image_mean = triple(o, "image_mean", -10);
  const image_std = triple(o, "image_std", 1e-6);
  if (!Array.isArray(o.encoders) || o.encoders.length < 1 || o.encoders.length > 4) {
    throw new ModelError(FILE, "encoders must be a list of 1 to 4 branches");
  }
  const names = new Set<string>();
  const encoders = o.encoders.map((e, i): EncoderBranchConfig => {
    const b = obj(e, `encoders[${i}]`);
    const where = `encoders[${i}].`;
    if (typeof b.name !== "string" || !/^[a-z][a-z0-9_]{0,31}$/.test(b.name) || names.has(b.name)) {
      throw new ModelError(FILE, `${where}name must be a unique lower-case identifier, got ${quote(b.name)}`);
    }
    names.add(b.name);
    const width = int(b, "width", 1, 8192, where);
    const heads = int(b, "heads", 1, 256, where);
    if (width % heads !== 0) throw new ModelError(FILE, `${where}width ${width} is not a multiple of heads ${heads}`);
    return { name: b.name, width, depth: int(b, "depth", 0, 256, where), heads, mlp_ratio: int(b, "mlp_ratio", 1, 16, where) };
  });
  const p = obj(o.projector, "projector");
  const projector = { hidden: int(p, "hidden", 1, 65536, "projector."), token_pool: int(p, "token_pool", 1, 64, "projector.") };
  const grid = image_size / patch_size;
  if (grid % projector.token_pool !== 0) throw new ModelError(FILE, `patch grid ${grid} is not a multiple of projector.token_pool ${projector.token_pool}`);
  let coarse_to_fine: CoarseToFineConfig | null = null;
  if (o.coarse_to_fine !== undefined && o.coarse_to_fine !== null) {
    const c = obj(o.coarse_to_fine, "coarse_to_fine");
    coarse_to_fine = {
      keep_ratio: num(c, "keep_ratio", 0.01, 1, "coarse_to_fine."),
      coarse_depth: c.coarse_depth === undefined ? 1 : int(c, "coarse_depth", 0, 256, "coarse_to_fine."),
    };
    if (grid % 2 !== 0) throw new ModelError(FILE, `coarse_to_fine needs an even patch grid, got ${grid}`);
  }
  if (typeof o.tie_embeddings !== "boolean") throw new ModelError(FILE, "tie_embeddings must be true or false");
  return {
    format: "spatial-reward-cobra",
    format_version: 1,
    trained: o.trained,
    image_size,
    patch_size,
    image_mean,
    image_std,
    encoders,
    projector,
    d_model: int(o, "d_model", 1, 16384),
    n_layer: int(o, "n_layer", 1, 256),
    d_state: int(o, "d_state", 1, 1024),
    d_conv: int(o, "d_conv", 1, 64),
    expand: int(o, "expand", 1, 16),
    dt_rank: int(o, "dt_rank", 1, 16384),
    vocab_size: int(o, "vocab_size", 2, 1 << 20),
    norm_eps: num(o, "norm_eps", 0, 1),
    coarse_to_fine,
    tie_embeddings: o.tie_embeddings,
    progress_head: optionalBool(o, "progress_head"),
    // Only when true: a config without it parses to exactly what it did before the field existed.
    ...(optionalBool(o, "reread_image") ? { reread_image: true } : {}),
  };
}
