import { availableParallelism } from "node:os";
import { TINY_CONFIG } from "../../src/backbone/config.js";
import { LatencyStats } from "../../src/diagnostics/latency_stats.js";
import { SimEnv } from "../../sim/index.js";
import { measureTokenLatency } from "../../bench/backbone/token_latency.js";
import { measureCoarseToFine } from "../../bench/backbone/coarse_to_fine_bench.js";
import { BackboneRuntime, type CameraImage } from "../backbone/backbone_runtime.js";
import type { BackboneBenchOptions } from "./program.js";

/**
 * `spatial-reward backbone bench`: every figure of issue 8's goals in one run, on the tiny
 * default (TINY_CONFIG) with seeded-random weights (timing does not depend on the values):
 * per-token latency of the Mamba step vs a KV-cache transformer of the same size
 * (measureTokenLatency), per-frame latency and per-answer-token latency through the runtime
 * (measured here), streams 1/4/16 (measureStreams), coarse-to-fine (measureCoarseToFine).
 * The parts run one after another in this process, each measuring its own comparisons side by
 * side. Progress on stderr; with --json the last stdout line is one JSON object.
 */

const CONTEXTS = [256, 1024, 4096, 16384];
const STREAM_COUNTS = [1, 4, 16];

const round = (x: number, digits = 4): number => (Number.isFinite(x) ? Number(x.toFixed(digits)) : x);

/** Rendered tabletop frames (640x480 rgb8), copied out of the renderer's reused buffer. */
function renderFrames(n: number, seed: number): CameraImage[] {
  const env = new SimEnv({ render: true });
  const out: CameraImage[] = [];
  for (let i = 0; i < n; i++) {
    const rgb = env.reset(seed + i).frame!.rgb;
    out.push({ width: rgb.width, height: rgb.height, encoding: rgb.encoding, step: rgb.step, data: rgb.data.slice() });
  }
  return out;
}

export interface FrameLatencyResult {
  p50: number;
  p99: number;
  encode_ms_p50: number;
  project_ms_p50: number;
  prefill_ms_p50: number;
  visual_tokens: number;
  frames: number;
  /** Mean decode time per generated answer token (greedy, after the first), over the asks. */
  answer_token_ms: number;
  answer_prefill_ms: number;
  answers: number;
}

/**
 * One stream, frames pushed one at a time (each awaited: no batching, no superseding), one
 * intra-op thread: the worker's time per frame (encode + project + prefill of its visual
 * tokens). Then greedy answers forked from that stream for the per-token decode cost.
 */
export async function measureFrameLatency(frames: number, warmup: number, asks: number, log: (s: string) => void): Promise<FrameLatencyResult> {
  const images = renderFrames(8, 9000);
  const rt = await BackboneRuntime.open({ model: { seed: 1, config: TINY_CONFIG }, maxStreams: 1, intraOpThreads: 1 });
  try {
    rt.addStream("camera");
    const total = new LatencyStats(), encode = new LatencyStats(), project = new LatencyStats(), prefill = new LatencyStats();
    let visualTokens = 0;
    for (let i = 0; i < warmup + frames; i++) {
      const t = await rt.pushFrame("camera", images[i % images.length]);
      if (i < warmup) continue;
      total.add(t.totalMs);
      encode.add(t.encodeMs);
      project.add(t.projectMs);
      prefill.add(t.prefillMs);
      visualTokens = t.visualTokens;
      if ((i - warmup) % 20 === 19) log(`frame latency: ${i - warmup + 1}/${frames} frames, p50 ${total.summary().p50} ms`);
    }
    let tokenMs = 0, prefillMs = 0;
    for (let i = 0; i < asks; i++) {
      const a = await rt.ask("camera", "How far is the red mug from the blue bowl?", { maxTokens: 32 });
      tokenMs += a.tokenMs;
      prefillMs += a.prefillMs;
    }
    const s = total.summary();
    return {
      p50: s.p50, p99: s.p99, encode_ms_p50: encode.summary().p50, project_ms_p50: project.summary().p50, prefill_ms_p50: prefill.summary().p50,
      visual_tokens: visualTokens, frames, answer_token_ms: round(tokenMs / Math.max(1, asks)), answer_prefill_ms: round(prefillMs / Math.max(1, asks)), answers: asks,
    };
  } finally {
    await rt.close();
  }
}

export async function run(values: BackboneBenchOptions): Promise<number> {
  const quick = values.quick;
  const t0 = performance.now();
  const log = (s: string) => process.stderr.write(`[backbone bench ${((performance.now() - t0) / 1000).toFixed(0)} s] ${s}\n`);
  log(`tiny default model (d_model ${TINY_CONFIG.d_model}, ${TINY_CONFIG.image_size} px), seeded-random weights${quick ? ", --quick" : ""}; ${availableParallelism()} cores`);

  log(`per-token latency: Mamba step vs KV-cache transformer, contexts ${CONTEXTS.join(", ")}, batch 1 and 8…`);
  const tok = await measureTokenLatency({ contexts: CONTEXTS, batches: [1, 8], iters: quick ? 5 : 30 });
  log(`  SSM batch 1: ${CONTEXTS.map((c) => `${c}: ${round(tok.ssm_token_ms[String(c)], 3)}`).join(", ")} ms; transformer: ${CONTEXTS.map((c) => `${c}: ${round(tok.transformer_token_ms[String(c)], 3)}`).join(", ")} ms`);

  log("per-frame latency (one stream, one intra-op thread) and per-answer-token latency…");
  const frame = await measureFrameLatency(quick ? 20 : 200, quick ? 3 : 10, quick ? 2 : 10, log);
  log(`  frame p50 ${frame.p50} ms, p99 ${frame.p99} ms; answer token ${frame.answer_token_ms} ms`);

  // measureStreams (bench/backbone/stream_bench.ts) is not in yet: streams stay empty until it is.
  const streams: { n: number; fps: number; rss_mb: number }[] = [];
  void STREAM_COUNTS;

  log("coarse-to-fine encoder vs full…");
  const c2f = await measureCoarseToFine(quick ? { frames: 8, warmup: 2 } : {});
  log(`  kept ${c2f.kept_fraction}, encoder ${c2f.encoder_ms_full} ms full vs ${c2f.encoder_ms_c2f} ms coarse-to-fine`);

  const ssm1 = CONTEXTS.map((c) => tok.ssm_token_ms[String(c)]);
  const longest = String(CONTEXTS[CONTEXTS.length - 1]);
  const result = {
    ssm_token_ms: tok.ssm_token_ms,
    transformer_token_ms: tok.transformer_token_ms,
    ssm_token_ms_batch8: tok.ssm_token_ms_batch8,
    transformer_token_ms_batch8: tok.transformer_token_ms_batch8,
    state_bytes_per_stream: tok.state_bytes_per_stream,
    kv_bytes_per_stream: tok.kv_bytes_per_stream,
    frame_ms: { p50: frame.p50, p99: frame.p99 },
    streams,
    coarse_to_fine: c2f,
    ssm_flatness: round(Math.max(...ssm1) / Math.min(...ssm1)),
    transformer_over_ssm_16384: round(tok.transformer_token_ms[longest] / tok.ssm_token_ms[longest]),
    kv_over_state_16384: round(tok.kv_bytes_per_stream / tok.state_bytes_per_stream),
    frame: frame,
    answer_token_ms: frame.answer_token_ms,
    token_latency: tok,
    model: "TINY_CONFIG, seeded-random weights (untrained)",
    quick,
    cores: availableParallelism(),
    seconds: round((performance.now() - t0) / 1000, 1),
  };
  log(`done in ${result.seconds} s: SSM flatness ${result.ssm_flatness} (goal ≤ 1.2), transformer/SSM at 16384 ${result.transformer_over_ssm_16384}x (goal ≥ 5), frame p50 ${frame.p50} ms (goal ≤ 10)`);
  if (values.json) console.log(JSON.stringify(result));
  else console.log(JSON.stringify(result, null, 2));
  return 0;
}
