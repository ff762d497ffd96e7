import { backboneSizes, type BackboneConfig } from "./config.js";

/** One tensor a model folder must hold: its safetensors name and fp32 shape. */
export interface TensorSpec {
  readonly name: string;
  readonly shape: readonly number[];
}

/**
 * Every tensor of a model, in a stable order, with its shape; the single source of the names
 * documented in models/README.md. The language model uses mamba_ssm / Hugging Face
 * `MambaForCausalLM` names so that its weights drop in; the vision branches and the projector
 * use timm-like names.
 */
export function expectedTensors(c: BackboneConfig): TensorSpec[] {
  const s = backboneSizes(c);
  const out: TensorSpec[] = [];
  const t = (name: string, ...shape: number[]): void => {
    out.push({ name, shape });
  };
  for (const e of c.encoders) {
    const v = `vision.${e.name}`;
    const w = e.width;
    const h = w * e.mlp_ratio;
    // Conv2d layout (out, in, kh, kw): a patch flattened channel-major (c, y, x) times its transpose.
    t(`${v}.patch_embed.weight`, w, 3, c.patch_size, c.patch_size);
    t(`${v}.patch_embed.bias`, w);
    t(`${v}.pos_embed`, s.patches, w);
    if (c.coarse_to_fine) t(`${v}.pos_embed_coarse`, s.coarsePatches, w);
    for (let i = 0; i < e.depth; i++) {
      const b = `${v}.blocks.${i}`;
      t(`${b}.norm1.weight`, w);
      t(`${b}.norm1.bias`, w);
      t(`${b}.attn.qkv.weight`, 3 * w, w);
      t(`${b}.attn.qkv.bias`, 3 * w);
      t(`${b}.attn.proj.weight`, w, w);
      t(`${b}.attn.proj.bias`, w);
      t(`${b}.norm2.weight`, w);
      t(`${b}.norm2.bias`, w);
      t(`${b}.mlp.fc1.weight`, h, w);
      t(`${b}.mlp.fc1.bias`, h);
      t(`${b}.mlp.fc2.weight`, w, h);
      t(`${b}.mlp.fc2.bias`, w);
    }
    t(`${v}.norm.weight`, w);
    t(`${v}.norm.bias`, w);
  }
  t("projector.fc1.weight", c.projector.hidden, s.featureWidth);
  t("projector.fc1.bias", c.projector.hidden);
  t("projector.fc2.weight", c.d_model, c.projector.hidden);
  t("projector.fc2.bias", c.d_model);
  if (c.coarse_to_fine) {
    // One keep score per finer patch (the 2x2 children of a coarse patch), from the coarse features.
    t("c2f.score.weight", 4, s.featureWidth);
    t("c2f.score.bias", 4);
    t("c2f.merge_token", c.d_model);
    t("c2f.count_embed", c.d_model);
  }
  t("backbone.embeddings.weight", c.vocab_size, c.d_model);
  const E = s.dInner;
  for (let i = 0; i < c.n_layer; i++) {
    const m = `backbone.layers.${i}.mixer`;
    t(`${m}.in_proj.weight`, 2 * E, c.d_model);
    t(`${m}.conv1d.weight`, E, 1, c.d_conv);
    t(`${m}.conv1d.bias`, E);
    t(`${m}.x_proj.weight`, c.dt_rank + 2 * c.d_state, E);
    t(`${m}.dt_proj.weight`, E, c.dt_rank);
    t(`${m}.dt_proj.bias`, E);
    t(`${m}.A_log`, E, c.d_state);
    t(`${m}.D`, E);
    t(`${m}.out_proj.weight`, c.d_model, E);
    t(`backbone.layers.${i}.norm.weight`, c.d_model);
  }
  t("backbone.norm_f.weight", c.d_model);
  if (!c.tie_embeddings) t("lm_head.weight", c.vocab_size, c.d_model);
  if (c.progress_head) {
    t("progress_head.weight", 1, c.d_model);
    t("progress_head.bias", 1);
  }
  return out;
}

/** Parameter count of a config (what `backbone info` prints). */
export function parameterCount(c: BackboneConfig): number {
  return expectedTensors(c).reduce((n, t) => n + t.shape.reduce((a, b) => a * b, 1), 0);
}

/** A model's weights by tensor name, fp32, row-major in the shapes of `expectedTensors`. */
export type Weights = ReadonlyMap<string, Float32Array>;
