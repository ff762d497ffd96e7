import { describe, expect, it } from "vitest";
import { checkWeights, type ShapedTensor } from "../../../src/backbone/model_weights.js";
import { TINY_CONFIG, type BackboneConfig } from "../../../src/backbone/config.js";
import { expectedTensors } from "../../../src/backbone/tensor_names.js";
import { parseSafetensors, writeSafetensors } from "../../../src/backbone/safetensors.js";
import { SMALL_FORMAT_CONFIG as SMALL_CONFIG } from "../fixtures.js";
import { catchModelError, expectNames, seededWeights } from "./helpers.js";

const FILE = "model.safetensors";

function shaped(config: BackboneConfig, weights: Map<string, Float32Array>): Map<string, ShapedTensor> {
  const shapes = new Map(expectedTensors(config).map((s) => [s.name, s.shape]));
  return new Map([...weights].map(([name, data]) => [name, { shape: shapes.get(name) ?? [data.length], data }]));
}

describe("checkWeights", () => {
  it("accepts exactly the expected tensors and returns them in expectedTensors order, without copying", () => {
    const w = seededWeights(SMALL_CONFIG, 1);
    const reversed = new Map([...shaped(SMALL_CONFIG, w)].reverse());
    const out = checkWeights(SMALL_CONFIG, reversed);
    expect([...out.keys()]).toEqual(expectedTensors(SMALL_CONFIG).map((s) => s.name));
    for (const [name, data] of out) expect(data).toBe(w.get(name));
  });

  it("accepts what the safetensors reader returns for a written model", () => {
    const w = seededWeights(SMALL_CONFIG, 2);
    const bytes = writeSafetensors(shaped(SMALL_CONFIG, w));
    const out = checkWeights(SMALL_CONFIG, parseSafetensors(bytes).tensors);
    expect(out.size).toBe(w.size);
    for (const [name, data] of out) expect(data).toEqual(w.get(name));
  });

  it("a wrong shape names the tensor, the config fields behind the shape and both shapes (TINY_CONFIG)", () => {
    const tensors = new Map<string, ShapedTensor>();
    for (const s of expectedTensors(TINY_CONFIG)) {
      const shape = s.name === "backbone.layers.3.mixer.A_log" ? [512, 8] : s.shape;
      tensors.set(s.name, { shape, data: new Float32Array(shape.reduce((a, b) => a * b, 1)) });
    }
    const e = catchModelError(() => checkWeights(TINY_CONFIG, tensors));
    expectNames(e, FILE, "backbone.layers.3.mixer.A_log");
    expect(e.message).toBe(
      "model.safetensors (backbone.layers.3.mixer.A_log): shape [512, 8] but config.json (d_state 16, expand 2, d_model 256) expects [512, 16] — config does not match the weights",
    );
  });

  it("names the config fields of vision and projector tensors too", () => {
    const t = shaped(SMALL_CONFIG, seededWeights(SMALL_CONFIG, 3));
    t.set("vision.siglip.blocks.0.mlp.fc1.weight", { shape: [4, 4], data: new Float32Array(16) });
    const e = catchModelError(() => checkWeights(SMALL_CONFIG, t));
    expectNames(e, FILE, "vision.siglip.blocks.0.mlp.fc1.weight");
    expect(e.message).toContain("config.json (encoders[1].width 4, encoders[1].mlp_ratio 2) expects [8, 4]");
    const p = shaped(SMALL_CONFIG, seededWeights(SMALL_CONFIG, 3));
    p.set("projector.fc1.weight", { shape: [16, 10], data: new Float32Array(160) });
    expect(catchModelError(() => checkWeights(SMALL_CONFIG, p)).message).toContain("projector.hidden 16, encoders[0].width 8, encoders[1].width 4");
  });

  it("a missing tensor names it with its expected shape", () => {
    const t = shaped(SMALL_CONFIG, seededWeights(SMALL_CONFIG, 4));
    t.delete("backbone.layers.1.mixer.conv1d.weight");
    const e = catchModelError(() => checkWeights(SMALL_CONFIG, t));
    expectNames(e, FILE, "backbone.layers.1.mixer.conv1d.weight");
    expect(e.message).toContain("missing; config.json (expand 2, d_model 16, d_conv 4) expects it with shape [32, 1, 4]");
  });

  it("an extra tensor is named and blamed on a config that does not match", () => {
    const t = shaped(SMALL_CONFIG, seededWeights(SMALL_CONFIG, 5));
    t.set("lm_head.weight", { shape: [264, 16], data: new Float32Array(264 * 16) });
    const e = catchModelError(() => checkWeights(SMALL_CONFIG, t));
    expectNames(e, FILE, "lm_head.weight");
    expect(e.message).toBe(
      "model.safetensors (lm_head.weight): not expected by config.json (config.json has tie_embeddings true, so no separate lm_head.weight) — this usually means config.json does not match the weights",
    );
  });

  it("weights of a deeper model: the first extra layer is named, the others counted", () => {
    const deeper = { ...SMALL_CONFIG, n_layer: 3 };
    const e = catchModelError(() => checkWeights(SMALL_CONFIG, shaped(deeper, seededWeights(deeper, 6))));
    expectNames(e, FILE, "backbone.layers.2.mixer.in_proj.weight");
    expect(e.message).toContain("config.json has n_layer 2, this is layer 2");
    expect(e.message).toContain("(and 9 more problems)");
  });

  it("weights of a shallower model: the missing layer is named with n_layer", () => {
    const shallow = { ...SMALL_CONFIG, n_layer: 1 };
    const e = catchModelError(() => checkWeights(SMALL_CONFIG, shaped(shallow, seededWeights(shallow, 7))));
    expectNames(e, FILE, "backbone.layers.1.mixer.in_proj.weight");
    expect(e.message).toContain("config.json has n_layer 2");
  });

  it("an unknown encoder branch, an extra block and coarse-to-fine tensors without coarse_to_fine", () => {
    const t = shaped(SMALL_CONFIG, seededWeights(SMALL_CONFIG, 8));
    t.set("vision.clip.norm.weight", { shape: [4], data: new Float32Array(4) });
    expect(catchModelError(() => checkWeights(SMALL_CONFIG, t)).message).toContain('no encoder named "clip"; it has dino, siglip');
    const b = shaped(SMALL_CONFIG, seededWeights(SMALL_CONFIG, 8));
    b.set("vision.dino.blocks.1.norm1.weight", { shape: [8], data: new Float32Array(8) });
    expect(catchModelError(() => checkWeights(SMALL_CONFIG, b)).message).toContain("encoders[0].depth 1, this is block 1");
    const noC2f = { ...SMALL_CONFIG, coarse_to_fine: null };
    const e = catchModelError(() => checkWeights(noC2f, shaped(SMALL_CONFIG, seededWeights(SMALL_CONFIG, 8))));
    expect(e.tensor).toBe("vision.dino.pos_embed_coarse");
    expect(e.message).toContain("config.json has no coarse_to_fine");
  });

  it("a hand-built map whose data does not fill its shape", () => {
    const t = shaped(SMALL_CONFIG, seededWeights(SMALL_CONFIG, 9));
    t.set("backbone.norm_f.weight", { shape: [16], data: new Float32Array(15) });
    const e = catchModelError(() => checkWeights(SMALL_CONFIG, t));
    expectNames(e, FILE, "backbone.norm_f.weight");
    expect(e.message).toContain("needs 16 values but the tensor holds 15");
  });
});
