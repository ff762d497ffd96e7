import { availableParallelism } from "node:os";
import { TINY_CONFIG, type BackboneConfig } from "../../src/backbone/config.js";
import { missingInferenceBackend } from "../backbone/inference_backend.js";
import type { BackboneBenchOptions } from "./program.js";
import { UsageError } from "./cli_args.js";
import { readConfigFile } from "./backbone.js";

/**
 * `spatial-reward backbone bench`: every figure of issue 8's goals in one run, on the tiny
 * default (TINY_CONFIG) with seeded-random weights (timing does not depend on the values):
 * per-token latency of the Mamba step vs a KV-cache transformer of the same size
 * (measureTokenLatency), per-frame and per-answer-token latency, streams 1/4/16 and RSS per
 * added stream through the runtime (measureStreams), coarse-to-fine (measureCoarseToFine).
 * The parts run one after another in this process, each measuring its own comparisons side by
 * side. Progress on stderr; with --json the last stdout line is one JSON object.
 *
 * `config` (a config.json) and `contexts` make a smaller run for tests and smoke checks: the
 * token latency and the streams then use that model (coarse-to-fine stays on TINY_CONFIG, which
 * measureCoarseToFine is fixed to) and the ratio keys are named for the longest context
 * (`transformer_over_ssm_<longest>`, `kv_over_state_<longest>`). The issue's figures are the
 * default run's: TINY_CONFIG at contexts 256, 1024, 4096, 16384.
 *
 * The bench modules import onnxruntime-node (an optional dependency), so they are imported only
 * after checking it is there: without it the command fails with the typed backend_unavailable
 * saying how to install it (exit 1), not a raw ERR_MODULE_NOT_FOUND.
 */

/** What run() takes beyond the parsed options: a config file and the token-latency contexts. */
export interface BackboneBenchRunOptions extends BackboneBenchOptions {
  /** A config.json to measure instead of the tiny default. */
  config?: string;
  /** Contexts of the per-token latency (default 256, 1024, 4096, 16384). */
  contexts?: readonly number[];
}

const DEFAULT_CONTEXTS = [256, 1024, 4096, 16384];
const MAX_CONTEXT = 65_536;
const STREAM_COUNTS = [1, 4, 16];

const round = (x: number, digits = 4): number => (Number.isFinite(x) ? Number(x.toFixed(digits)) : x);
const roundAll = (m: Record<string, number>): Record<string, number> => Object.fromEntries(Object.entries(m).map(([k, v]) => [k, round(v)]));

function checkContexts(contexts: readonly number[]): number[] {
  const list = [...contexts];
  if (list.length < 2 || list.some((c) => !Number.isInteger(c) || c < 1 || c > MAX_CONTEXT) || new Set(list).size !== list.length) {
    throw new UsageError(`--contexts must list at least two distinct integers in 1..${MAX_CONTEXT}, got ${list.join(",")}`);
  }
  return list.sort((a, b) => a - b);
}

export async function run(values: BackboneBenchRunOptions): Promise<number> {
  const quick = values.quick;
  const CONTEXTS = values.contexts === undefined ? DEFAULT_CONTEXTS : checkContexts(values.contexts);
  const config: BackboneConfig = values.config === undefined ? TINY_CONFIG : readConfigFile(values.config);
  const missing = missingInferenceBackend();
  if (missing) throw missing;
  const [{ measureTokenLatency }, { measureCoarseToFine }, { measureStreams }] = await Promise.all([
    import("../../bench/backbone/token_latency.js"),
    import("../../bench/backbone/coarse_to_fine_bench.js"),
    import("../../bench/backbone/stream_bench.js"),
  ]);
  const modelName = values.config === undefined ? "TINY_CONFIG" : `config ${values.config}`;
  const t0 = performance.now();
  const log = (s: string) => process.stderr.write(`[backbone bench ${((performance.now() - t0) / 1000).toFixed(0)} s] ${s}\n`);
  log(`${values.config === undefined ? "tiny default model" : `model ${values.config}`} (d_model ${config.d_model}, ${config.image_size} px), seeded-random weights${quick ? ", --quick" : ""}; ${availableParallelism()} cores`);

  log(`per-token latency: Mamba step vs KV-cache transformer, contexts ${CONTEXTS.join(", ")}, batch 1 and 8…`);
  const tok = await measureTokenLatency({ config, contexts: CONTEXTS, batches: [1, 8], iters: quick ? 5 : 30 });
  log(`  SSM batch 1: ${CONTEXTS.map((c) => `${c}: ${round(tok.ssm_token_ms[String(c)], 3)}`).join(", ")} ms; transformer: ${CONTEXTS.map((c) => `${c}: ${round(tok.transformer_token_ms[String(c)], 3)}`).join(", ")} ms`);

  log(`per-frame latency, answer tokens, streams ${STREAM_COUNTS.join(", ")} (fps, RSS), RSS per added stream…`);
  const st = await measureStreams(quick
    ? { config, streams: STREAM_COUNTS, frames: 30, answers: 3, seconds: values.config === undefined ? 1.5 : 0.4, memoryMaxStreams: 40, memoryStep: 8, memoryStages: 4, onProgress: (w) => log(`  ${w}`) }
    : { config, streams: STREAM_COUNTS, onProgress: (w) => log(`  ${w}`) });
  log(`  frame p50 ${st.frame_ms.p50} ms, p99 ${st.frame_ms.p99} ms; answer token ${st.answer_token_ms} ms; ` +
    st.streams.map((r) => `${r.n} streams ${r.fps} fps ${r.rss_mb} MB`).join(", "));

  log("coarse-to-fine encoder vs full…");
  const c2f = await measureCoarseToFine(quick ? { frames: 8, warmup: 2 } : {});
  log(`  kept ${c2f.kept_fraction}, encoder ${c2f.encoder_ms_full} ms full vs ${c2f.encoder_ms_c2f} ms coarse-to-fine`);

  const ssm1 = CONTEXTS.map((c) => tok.ssm_token_ms[String(c)]);
  const longest = String(CONTEXTS[CONTEXTS.length - 1]);
  const result = {
    ssm_token_ms: roundAll(tok.ssm_token_ms),
    transformer_token_ms: roundAll(tok.transformer_token_ms),
    ssm_token_ms_batch8: roundAll(tok.ssm_token_ms_batch8),
    transformer_token_ms_batch8: roundAll(tok.transformer_token_ms_batch8),
    state_bytes_per_stream: tok.state_bytes_per_stream,
    kv_bytes_per_stream: tok.kv_bytes_per_stream,
    frame_ms: st.frame_ms,
    streams: st.streams,
    coarse_to_fine: c2f,
    ssm_flatness: round(Math.max(...ssm1) / Math.min(...ssm1)),
    [`transformer_over_ssm_${longest}`]: round(tok.transformer_token_ms[longest] / tok.ssm_token_ms[longest]),
    [`transformer_over_ssm_${longest}_batch8`]: round(tok.transformer_token_ms_batch8[longest] / tok.ssm_token_ms_batch8[longest]),
    [`kv_over_state_${longest}`]: round(tok.kv_bytes_per_stream / tok.state_bytes_per_stream),
    encoder_c2f_over_full: round(c2f.encoder_ms_c2f / c2f.encoder_ms_full),
    answer_token_ms: st.answer_token_ms,
    frame_stage_ms_p50: st.frame_stage_ms_p50,
    frame_ms_640x480: st.frame_ms_640x480,
    memory: st.memory,
    goals: {
      ssm_flatness_le_1_2: Math.max(...ssm1) / Math.min(...ssm1) <= 1.2,
      [`transformer_over_ssm_${longest}_ge_5`]: tok.transformer_token_ms[longest] / tok.ssm_token_ms[longest] >= 5,
      ...st.goals,
      // Process RSS (fresh child, median of stage growth per added stream) against state +
      // frame buffers (both halves of a w x h x 3 SharedArrayBuffer at memory.image).
      rss_per_stream_within_10pct: Math.abs(st.memory.rss_per_stream_bytes / st.memory.expected_bytes_per_stream - 1) <= 0.1,
    },
    token_latency: tok,
    stream_bench: { streams_one_worker: st.streams_one_worker, arena_commit: st.arena_commit, answer_token_ms_after_frames: st.answer_token_ms_after_frames, answer_prefill_ms: st.answer_prefill_ms },
    model: `${modelName}, seeded-random weights (untrained)${values.config === undefined ? "" : "; coarse_to_fine on TINY_CONFIG"}`,
    contexts: CONTEXTS,
    quick,
    cores: availableParallelism(),
    seconds: round((performance.now() - t0) / 1000, 1),
  };
  const ratio = tok.transformer_token_ms[longest] / tok.ssm_token_ms[longest];
  log(`done in ${result.seconds} s: SSM flatness ${result.ssm_flatness} (goal ≤ 1.2), transformer/SSM at ${longest} ${round(ratio)}x (goal ≥ 5), frame p50 ${st.frame_ms.p50} ms (goal ≤ 10)`);
  if (values.json) console.log(JSON.stringify(result));
  else console.log(JSON.stringify(result, null, 2));
  return 0;
}
