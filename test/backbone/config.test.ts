import { describe, expect, it } from "vitest";
import { TINY_CONFIG, backboneSizes, parseBackboneConfig } from "../../src/backbone/config.js";
import { expectedTensors, parameterCount } from "../../src/backbone/tensor_names.js";
import { ModelError } from "../../src/errors.js";

const tiny = (): Record<string, unknown> => JSON.parse(JSON.stringify(TINY_CONFIG)) as Record<string, unknown>;

function refusal(json: unknown): ModelError {
  try {
    parseBackboneConfig(json);
  } catch (e) {
    expect(e).toBeInstanceOf(ModelError);
    return e as ModelError;
  }
  throw new Error("config was accepted");
}

describe("config.json", () => {
  it("the tiny default parses to itself and has the documented sizes", () => {
    expect(parseBackboneConfig(tiny())).toEqual(TINY_CONFIG);
    const s = backboneSizes(TINY_CONFIG);
    expect(s.patches).toBe(196);
    expect(s.visualTokens).toBe(49);
    expect(s.stateBytes).toBe(4 * 4 * 512 * (4 + 16)); // 163,840 as models/README.md says
    expect(TINY_CONFIG.d_model).toBeLessThanOrEqual(256);
  });

  it("parameter count is the sum of the expected tensors and names are unique", () => {
    const t = expectedTensors(TINY_CONFIG);
    expect(new Set(t.map((x) => x.name)).size).toBe(t.length);
    expect(parameterCount(TINY_CONFIG)).toBe(t.reduce((n, x) => n + x.shape.reduce((a, b) => a * b, 1), 0));
    expect(t.some((x) => x.name === "lm_head.weight")).toBe(false); // tied
    const untied = expectedTensors({ ...TINY_CONFIG, tie_embeddings: false, coarse_to_fine: null });
    expect(untied.some((x) => x.name === "lm_head.weight")).toBe(true);
    expect(untied.some((x) => x.name.startsWith("c2f."))).toBe(false);
    expect(t.some((x) => x.name.startsWith("progress_head."))).toBe(false);
    const withProgress = expectedTensors({ ...TINY_CONFIG, progress_head: true });
    expect(withProgress.filter((x) => x.name.startsWith("progress_head.")).map((x) => x.shape)).toEqual([[1, 256], [1]]);
  });

  it.each([
    ["not an object", [], /must be an object/],
    ["wrong format", { ...tiny(), format: "llama" }, /format must be/],
    ["future version", { ...tiny(), format_version: 2 }, /not supported/],
    ["non-integer d_model", { ...tiny(), d_model: 25.5 }, /d_model must be an integer/],
    ["NaN eps", { ...tiny(), norm_eps: Number.NaN }, /norm_eps/],
    ["negative layers", { ...tiny(), n_layer: -1 }, /n_layer/],
    ["huge vocab", { ...tiny(), vocab_size: 1e12 }, /vocab_size/],
    ["patch does not divide", { ...tiny(), patch_size: 15 }, /not a multiple of patch_size/],
    ["heads do not divide", { ...tiny(), encoders: [{ name: "a", width: 10, depth: 1, heads: 3, mlp_ratio: 4 }] }, /heads/],
    ["duplicate branch", { ...tiny(), encoders: [TINY_CONFIG.encoders[0], TINY_CONFIG.encoders[0]] }, /unique/],
    ["no branches", { ...tiny(), encoders: [] }, /1 to 4/],
    ["pool does not divide", { ...tiny(), projector: { hidden: 8, token_pool: 3 } }, /token_pool/],
    ["keep ratio 0", { ...tiny(), coarse_to_fine: { keep_ratio: 0 } }, /keep_ratio/],
    ["mean not three", { ...tiny(), image_mean: [0.5, 0.5] }, /image_mean/],
    ["trained missing", { ...tiny(), trained: undefined }, /trained/],
    ["progress_head not a boolean", { ...tiny(), progress_head: "yes" }, /progress_head/],
    ["reread_image a string", { ...tiny(), reread_image: "true" }, /reread_image must be true or false/],
    ["reread_image a number", { ...tiny(), reread_image: 1 }, /reread_image must be true or false/],
    ["reread_image an object", { ...tiny(), reread_image: { on: true } }, /reread_image must be true or false/],
  ])("refuses %s with a ModelError naming config.json", (_what, json, pattern) => {
    const e = refusal(json);
    expect(e.code).toBe("bad_model");
    expect(e.file).toBe("config.json");
    expect(e.message).toMatch(pattern);
  });

  it("reread_image: true is kept; false, null and absent parse to the config without the field (today's prompt)", () => {
    expect(parseBackboneConfig({ ...tiny(), reread_image: true }).reread_image).toBe(true);
    for (const v of [false, null, undefined]) {
      const c = parseBackboneConfig({ ...tiny(), reread_image: v });
      expect(c).toEqual(TINY_CONFIG);
      expect("reread_image" in c).toBe(false);
      expect(JSON.stringify(c)).toBe(JSON.stringify(parseBackboneConfig(tiny())));
    }
    // The weights do not change: the same tensors read either way.
    expect(expectedTensors({ ...TINY_CONFIG, reread_image: true })).toEqual(expectedTensors(TINY_CONFIG));
  });

  it("a hostile value is quoted clipped, not echoed whole", () => {
    const e = refusal({ ...tiny(), d_model: "x".repeat(1_000_000) });
    expect(e.message.length).toBeLessThan(300);
  });

  it("deeply nested junk in a field is refused, not recursed into", () => {
    let deep: unknown = 1;
    for (let i = 0; i < 10_000; i++) deep = [deep];
    expect(refusal({ ...tiny(), projector: deep }).message).toMatch(/projector must be an object/);
    expect(refusal({ ...tiny(), d_model: deep }).message).toMatch(/d_model must be an integer/);
  });
});
