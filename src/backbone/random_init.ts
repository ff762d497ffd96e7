import { backboneSizes, type BackboneConfig } from "./config.js";
import { expectedTensors } from "./tensor_names.js";
import { mulberry32 } from "../random/mulberry32.js";

/**
 * Seeded weights for tests and benchmarks, following the inits the real models use so that
 * activations, gates and state magnitudes are realistic (a benchmark on all-zero or all-unit
 * weights would take different code paths: denormals, saturated gates, states that never decay):
 * - Mamba mixer (mamba_ssm `Mamba.__init__`): A_log[e, n] = log(n + 1); Δ sampled log-uniform in
 *   [1e-3, 1e-1] (clamped at 1e-4) and stored as dt_proj.bias = softplus⁻¹(Δ);
 *   dt_proj.weight uniform ±dt_rank^-0.5; D = 1; in_proj, x_proj, out_proj and conv1d as
 *   PyTorch's default (kaiming-uniform, a = √5: bound 1/√fan_in); out_proj then divided by
 *   √n_layer (mamba_ssm's `rescale_prenorm_residual`, one residual per layer).
 * - Embeddings N(0, 0.02) (mamba_ssm `_init_weights`); RMSNorm/LayerNorm weights 1, biases 0.
 * - Vision and projector (timm ViT): linear and patch weights truncated normal std 0.02 with
 *   zero biases, position embeddings N(0, 0.02).
 * - Coarse-to-fine tensors: small N(0, 0.02).
 * One PRNG stream walks the tensors in `expectedTensors` order, so a seed fixes every value.
 */
export function randomWeights(config: BackboneConfig, seed: number): Map<string, Float32Array> {
  const rand = mulberry32(seed);
  const gauss = gaussianSource(rand);
  const dtRank = config.dt_rank;
  const E = backboneSizes(config).dInner;
  const out = new Map<string, Float32Array>();

  for (const spec of expectedTensors(config)) {
    const n = spec.shape.reduce((a, b) => a * b, 1);
    const a = new Float32Array(n);
    const name = spec.name;
    const leaf = name.slice(name.lastIndexOf(".") + 1);
    const fanIn = n / spec.shape[0];

    if (name.startsWith("backbone.layers.") && name.includes(".mixer.")) {
      if (name.endsWith(".A_log")) {
        const N = spec.shape[1];
        for (let e = 0; e < E; e++) for (let s = 0; s < N; s++) a[e * N + s] = Math.log(s + 1);
      } else if (name.endsWith(".D")) {
        a.fill(1);
      } else if (name.endsWith(".dt_proj.bias")) {
        const lo = Math.log(1e-3);
        const hi = Math.log(1e-1);
        for (let i = 0; i < n; i++) {
          const dt = Math.max(Math.exp(lo + rand() * (hi - lo)), 1e-4);
          a[i] = dt + Math.log(-Math.expm1(-dt)); // softplus⁻¹(dt) = log(eˣ − 1), stable form
        }
      } else if (name.endsWith(".dt_proj.weight")) {
        uniform(a, rand, dtRank ** -0.5);
      } else if (name.endsWith(".conv1d.bias")) {
        // Conv1d bias bound is 1/√fan_in of the weight: in_channels/groups · k = d_conv.
        uniform(a, rand, 1 / Math.sqrt(config.d_conv));
      } else if (name.endsWith(".out_proj.weight")) {
        uniform(a, rand, 1 / Math.sqrt(fanIn) / Math.sqrt(config.n_layer));
      } else {
        // in_proj, x_proj, conv1d.weight: PyTorch's default kaiming-uniform.
        uniform(a, rand, 1 / Math.sqrt(fanIn));
      }
    } else if (leaf === "weight" && name.includes("norm")) {
      a.fill(1);
    } else if (leaf === "bias") {
      // ViT/projector biases start at zero (timm); LayerNorm biases too.
      a.fill(0);
    } else if (name === "backbone.embeddings.weight" || name === "lm_head.weight") {
      normal(a, gauss, 0.02);
    } else if (name.includes("pos_embed")) {
      normal(a, gauss, 0.02);
    } else if (name.startsWith("c2f.")) {
      normal(a, gauss, 0.02);
    } else {
      truncNormal(a, gauss, 0.02);
    }
    out.set(name, a);
  }
  return out;
}

function uniform(a: Float32Array, rand: () => number, bound: number): void {
  for (let i = 0; i < a.length; i++) a[i] = (2 * rand() - 1) * bound;
}

function normal(a: Float32Array, gauss: () => number, std: number): void {
  for (let i = 0; i < a.length; i++) a[i] = gauss() * std;
}

/** timm's trunc_normal_(std) cuts at ±2 (absolute); at std 0.02 that is ±100σ, so cut at ±2σ instead. */
function truncNormal(a: Float32Array, gauss: () => number, std: number): void {
  for (let i = 0; i < a.length; i++) {
    let g = gauss();
    while (g < -2 || g > 2) g = gauss();
    a[i] = g * std;
  }
}

/** Box–Muller over the seeded uniform source. */
function gaussianSource(rand: () => number): () => number {
  let spare: number | null = null;
  return () => {
    if (spare !== null) {
      const s = spare;
      spare = null;
      return s;
    }
    const u = 1 - rand(); // (0, 1]: log stays finite
    const v = rand();
    const r = Math.sqrt(-2 * Math.log(u));
    spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  };
}
