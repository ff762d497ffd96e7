import * as ort from "onnxruntime-node";
import { InvalidInputError, ModelError, SpatialRewardError } from "../../src/errors.js";
import { backboneSizes, TINY_CONFIG, type BackboneConfig, type BackboneSizes } from "../../src/backbone/config.js";
import { parameterCount, type Weights } from "../../src/backbone/tensor_names.js";
import { StateArena, consecutiveRuns } from "../../src/backbone/state_arena.js";
import { ImagePreprocessor } from "../../src/backbone/image_preprocess.js";
import { CoarseToFineSelector, fullImagePool, layoutC2fTokens } from "../../src/backbone/coarse_to_fine.js";
import { randomWeights } from "../../src/backbone/random_init.js";
import { buildDecode, buildLmHead, buildMambaPrefill } from "../../src/backbone/graphs/mamba_graphs.js";
import { buildCoarseToFineGraph, buildProjectorGraph, buildVisionGraph } from "../../src/backbone/graphs/vision_graphs.js";
import { serializeModel } from "../../src/backbone/onnx/onnx_model.js";
import { BackboneTokenizer, checkTokenizerFits } from "../../src/backbone/tokenizer.js";
import { defaultTokenizerJson } from "../../src/backbone/byte_tokenizer.js";
import { toWire, type AskResult, type FrameItem, type FrameResult, type RuntimeInfo, type WorkerInit } from "./worker_protocol.js";

/**
 * The backbone's inference engine: every onnxruntime session, the state arena, the image
 * preprocessor, frame batches and questions. It runs only in the worker thread
 * (backbone_worker.ts), never on the main thread: `session.run` is a synchronous native call.
 */

export type GraphName = "vision" | "vision_c2f" | "projector" | "mamba_prefill" | "lm_head" | "decode";

/** The graphs the runtime runs, built from the config and weights at load time (models/README.md). */
function buildBackboneGraphs(config: BackboneConfig, weights: Weights, coarseToFine: boolean): [GraphName, Uint8Array][] {
  const out: [GraphName, Uint8Array][] = [
    ["vision", serializeModel(buildVisionGraph(config, weights))],
    ["projector", serializeModel(buildProjectorGraph(config, weights))],
    ["mamba_prefill", buildMambaPrefill(config, weights)],
    ["lm_head", buildLmHead(config, weights)],
    ["decode", buildDecode(config, weights)],
  ];
  // Coarse-to-fine is one run per batch (coarse encoder, selection, kept patches, projector);
  // coarse_to_fine.coarse_depth, when the config carries it, reaches the graph via coarseDepthOf.
  if (coarseToFine) out.push(["vision_c2f", serializeModel(buildCoarseToFineGraph(config, weights))]);
  return out;
}

const SCRATCH_SLOTS = 2; // an answer ping-pongs between two forks: prefill/decode write the other slot, never in place
const MAX_QUESTION_TOKENS = 1024;

function now(): number {
  return performance.now();
}

type Feeds = Record<string, ort.Tensor>;

export class Engine {
  readonly config: BackboneConfig;
  readonly sizes: BackboneSizes;
  readonly arena: StateArena;
  private readonly sessions: Map<GraphName, ort.InferenceSession>;
  private readonly pre: ImagePreprocessor;
  private readonly c2f: CoarseToFineSelector | null;
  private readonly tokenizer: BackboneTokenizer;
  private readonly embeddings: Float32Array;
  private readonly maxBatch: number;
  // Per-batch buffers, sized for the largest batch once; pages commit as batches grow.
  private readonly patches: Float32Array;
  private readonly positions: BigInt64Array;
  private readonly features: Float32Array;
  private readonly pool: Float32Array;
  private readonly tokens: Float32Array;
  private readonly hidden: Float32Array;
  private readonly convIn: Float32Array;
  private readonly ssmIn: Float32Array;
  private readonly convOut: Float32Array;
  private readonly ssmOut: Float32Array;
  // vision_c2f feeds and outputs (empty without coarse-to-fine).
  private readonly coarsePatches: Float32Array;
  private readonly cellCounts: Float32Array;
  private readonly keptOut: BigInt64Array;
  private readonly scoresOut: Float32Array;
  private readonly c2fTokens: Float32Array;
  private readonly c2fTokenCount: Int32Array;
  private readonly questionEmbeds: Float32Array;
  private readonly logits: Float32Array;
  private readonly tokenIn = new BigInt64Array(1);
  private readonly tokenOut = new BigInt64Array(1);

  private constructor(
    config: BackboneConfig,
    weights: Weights,
    sessions: Map<GraphName, ort.InferenceSession>,
    tokenizer: BackboneTokenizer,
    init: WorkerInit,
  ) {
    this.config = config;
    const s = backboneSizes(config);
    this.sizes = s;
    this.sessions = sessions;
    this.tokenizer = tokenizer;
    this.maxBatch = init.maxStreams;
    this.arena = new StateArena({ maxStreams: init.maxStreams, scratchSlots: SCRATCH_SLOTS, convFloats: s.convStateFloats, ssmFloats: s.ssmStateFloats });
    this.pre = new ImagePreprocessor(config);
    this.c2f = init.coarseToFine && config.coarse_to_fine ? new CoarseToFineSelector(config, weights) : null;
    const emb = weights.get("backbone.embeddings.weight");
    if (!emb) throw new ModelError("model.safetensors", "tensor missing", "backbone.embeddings.weight");
    this.embeddings = emb;
    const B = this.maxBatch;
    const P = s.patches;
    this.patches = new Float32Array(B * P * s.patchDim);
    this.positions = new BigInt64Array(P);
    for (let i = 0; i < P; i++) this.positions[i] = BigInt(i);
    this.features = new Float32Array(B * P * s.featureWidth);
    const full = fullImagePool(config);
    this.pool = new Float32Array(B * full.length);
    for (let b = 0; b < B; b++) this.pool.set(full, b * full.length);
    this.tokens = new Float32Array(B * (s.visualTokens + 1) * config.d_model);
    this.hidden = new Float32Array(B * config.d_model);
    this.convIn = new Float32Array(B * s.convStateFloats);
    this.ssmIn = new Float32Array(B * s.ssmStateFloats);
    this.convOut = new Float32Array(B * s.convStateFloats);
    this.ssmOut = new Float32Array(B * s.ssmStateFloats);
    const c2f = this.c2f !== null;
    this.coarsePatches = new Float32Array(c2f ? B * s.coarsePatches * s.patchDim : 0);
    this.cellCounts = new Float32Array(c2f ? B * s.visualTokens : 0);
    this.keptOut = new BigInt64Array(c2f && this.c2f ? B * this.c2f.keptCount : 0);
    this.scoresOut = new Float32Array(c2f ? B * P : 0);
    this.c2fTokens = new Float32Array(c2f ? B * (s.visualTokens + 1) * config.d_model : 0);
    this.c2fTokenCount = new Int32Array(c2f ? B : 0);
    this.questionEmbeds = new Float32Array(MAX_QUESTION_TOKENS * config.d_model);
    this.logits = new Float32Array(config.vocab_size);
  }

  static async create(init: WorkerInit): Promise<{ engine: Engine; info: RuntimeInfo }> {
    let config: BackboneConfig;
    let weights: Weights;
    let tokenizer: BackboneTokenizer;
    if ("dir" in init.model) {
      const { readModelFolder } = await import("./model_folder.js");
      const folder = await readModelFolder(init.model.dir);
      config = folder.config;
      weights = folder.weights;
      tokenizer = folder.tokenizer;
    } else {
      config = init.model.config ?? TINY_CONFIG;
      weights = randomWeights(config, init.model.seed);
      // A seeded model has no folder: it gets the project's default byte-level tokenizer.
      tokenizer = BackboneTokenizer.fromJson(defaultTokenizerJson(), "tokenizer.json (default)");
      checkTokenizerFits(config, tokenizer);
    }
    if (init.coarseToFine && !config.coarse_to_fine) {
      throw new ModelError("config.json", "coarseToFine was asked for but the model has no coarse_to_fine section");
    }
    const graphs = buildBackboneGraphs(config, weights, init.coarseToFine);
    const options: ort.InferenceSession.SessionOptions = {
      intraOpNumThreads: init.intraOpThreads,
      interOpNumThreads: 1,
      executionMode: "sequential",
      graphOptimizationLevel: "all",
      enableCpuMemArena: init.cpuMemArena,
      // Pool threads that spin between ops steal the core from everything else on a shared
      // machine: measured with 2 intra-op threads at load ~3 on 2 cores, one stream's frame took
      // 28 ms spinning vs 8.6 ms not (8.4 ms with 1 thread). Irrelevant with 1 thread (no pool).
      extra: { session: { intra_op: { allow_spinning: "0" } } },
    };
    const sessions = new Map<GraphName, ort.InferenceSession>();
    for (const [name, bytes] of graphs) {
      try {
        sessions.set(name, await ort.InferenceSession.create(bytes, options));
      } catch (e) {
        throw new ModelError("model.safetensors", `graph ${name} did not load in onnxruntime: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
    const engine = new Engine(config, weights, sessions, tokenizer, init);
    if (init.warmup) await engine.warmup();
    const info: RuntimeInfo = {
      parameters: parameterCount(config),
      stateBytesPerStream: engine.sizes.stateBytes,
      graphs: [...sessions].map(([name, s]) => ({ name, inputs: [...s.inputNames], outputs: [...s.outputNames] })),
      arenaReservedBytes: engine.arena.buffer.byteLength,
      trained: config.trained,
    };
    return { engine, info };
  }

  private session(name: GraphName): ort.InferenceSession {
    const s = this.sessions.get(name);
    if (!s) throw new SpatialRewardError("internal", `graph ${name} is not loaded`);
    return s;
  }

  private f32(data: Float32Array, dims: number[]): ort.Tensor {
    return new ort.Tensor("float32", data.subarray(0, dims.reduce((a, b) => a * b, 1)), dims);
  }

  /**
   * Every graph at the largest batch on the batch buffers (never on arena slots), so onnxruntime's
   * memory arena and the batch buffers reach their high-water mark before any stream is added;
   * RSS then grows with streams only by what the streams themselves own.
   */
  private async warmup(): Promise<void> {
    const B = this.maxBatch;
    const s = this.sizes;
    await this.encodeFull(B);
    await this.prefillBatch(B, s.visualTokens, this.convIn, this.ssmIn);
    if (this.c2f) await this.runCoarseToFine(B);
    this.convIn.fill(0);
    this.ssmIn.fill(0);
  }

  addStream(stream: string): void {
    this.arena.acquire(stream);
  }

  removeStream(stream: string): void {
    this.arena.release(this.arena.slotOf(stream));
  }

  readState(stream: string): { conv: Float32Array<ArrayBuffer>; ssm: Float32Array<ArrayBuffer> } {
    const slot = this.arena.slotOf(stream);
    return { conv: this.arena.convView(slot).slice(), ssm: this.arena.ssmView(slot).slice() };
  }

  private async encodeFull(B: number): Promise<void> {
    const s = this.sizes;
    const P = s.patches;
    const vision = this.session("vision");
    await vision.run(
      { patches: this.f32(this.patches, [B, P, s.patchDim]), positions: new ort.Tensor("int64", this.positions, [P]) },
      { features: this.f32(this.features, [B, P, s.featureWidth]) },
    );
  }

  private async project(B: number, T: number, pool: Float32Array, cells: number, out: Float32Array): Promise<void> {
    const s = this.sizes;
    await this.session("projector").run(
      { features: this.f32(this.features, [B, T, s.featureWidth]), pool: this.f32(pool, [B, cells, T]) },
      { tokens: this.f32(out, [B, cells, this.config.d_model]) },
    );
  }

  /** `vision_c2f` on the first B members' fine (`patches`) and coarse patches: tokens per cell, counts, kept, scores. */
  private async runCoarseToFine(B: number): Promise<void> {
    const sel = this.c2f;
    if (!sel) throw new SpatialRewardError("internal", "coarse-to-fine is off");
    const s = this.sizes;
    const K = sel.keptCount;
    await this.session("vision_c2f").run(
      { patches: this.f32(this.patches, [B, s.patches, s.patchDim]), coarse_patches: this.f32(this.coarsePatches, [B, s.coarsePatches, s.patchDim]) },
      {
        tokens: this.f32(this.tokens, [B, s.visualTokens, this.config.d_model]),
        cell_counts: this.f32(this.cellCounts, [B, s.visualTokens]),
        kept: new ort.Tensor("int64", this.keptOut.subarray(0, B * K), [B, K]),
        scores: this.f32(this.scoresOut, [B, s.patches]),
      },
    );
  }

  /** Prefill `T` tokens per stream for a batch whose states are in convIn/ssmIn (or arena views); new states land in convOut/ssmOut. */
  private async prefillBatch(B: number, T: number, conv: Float32Array, ssm: Float32Array, embeds = this.tokens): Promise<void> {
    const s = this.sizes;
    const L = this.config.n_layer;
    const E = s.dInner;
    await this.session("mamba_prefill").run(
      {
        embeds: this.f32(embeds, [B, T, this.config.d_model]),
        conv_state: new ort.Tensor("float32", conv.subarray(0, B * s.convStateFloats), [B, L, E, this.config.d_conv]),
        ssm_state: new ort.Tensor("float32", ssm.subarray(0, B * s.ssmStateFloats), [B, L, E, this.config.d_state]),
      },
      {
        hidden: this.f32(this.hidden, [B, this.config.d_model]),
        conv_state_out: this.f32(this.convOut, [B, L, E, this.config.d_conv]),
        ssm_state_out: this.f32(this.ssmOut, [B, L, E, this.config.d_state]),
      },
    );
  }

  /**
   * One batch of frames, one per stream: preprocess each (a bad image fails alone), then one
   * `vision`, one `projector` and one `mamba_prefill` run for all of them. Members are ordered by
   * slot; when their slots are consecutive the arena view itself is the state input (no copy),
   * otherwise their states are gathered into the batch buffer. New states are written back to
   * exactly the members' slots; no other slot is read or written.
   */
  async frames(items: FrameItem[]): Promise<FrameResult[]> {
    const t0 = now();
    const s = this.sizes;
    const P = s.patches;
    const results: FrameResult[] = new Array<FrameResult>(items.length);
    const members: { index: number; slot: number }[] = [];
    for (let i = 0; i < items.length; i++) {
      const it = items[i];
      try {
        const slot = this.arena.slotOf(it.stream);
        members.push({ index: i, slot });
      } catch (e) {
        results[i] = failedFrame(it.id, e);
      }
    }
    members.sort((a, b) => a.slot - b.slot);
    const ok: { index: number; slot: number }[] = [];
    for (const m of members) {
      const it = items[m.index];
      try {
        this.pre.process({
          width: it.width,
          height: it.height,
          encoding: it.encoding,
          step: it.step,
          data: new Uint8Array(it.buffer, it.offset, it.length),
        });
        const b = ok.length;
        this.patches.set(this.pre.patches, b * P * s.patchDim);
        if (this.c2f) this.coarsePatches.set(this.pre.coarsePatches, b * s.coarsePatches * s.patchDim);
        ok.push(m);
      } catch (e) {
        results[m.index] = failedFrame(items[m.index].id, e);
      }
    }
    const B = ok.length;
    if (B === 0) return results;
    const t1 = now();
    let encodeMs: number, projectMs: number, prefillMs: number, visualTokens: number, keptFraction: number;
    if (this.c2f) {
      ({ encodeMs, projectMs, prefillMs, visualTokens, keptFraction } = await this.framesCoarseToFine(ok));
    } else {
      await this.encodeFull(B);
      const t2 = now();
      await this.project(B, P, this.pool, s.visualTokens, this.tokens);
      const t3 = now();
      const slots = ok.map((m) => m.slot);
      const runs = consecutiveRuns(slots);
      let conv: Float32Array, ssm: Float32Array;
      if (runs.length === 1) {
        conv = this.arena.convView(runs[0].first, B);
        ssm = this.arena.ssmView(runs[0].first, B);
      } else {
        for (let b = 0; b < B; b++) {
          this.convIn.set(this.arena.convView(slots[b]), b * s.convStateFloats);
          this.ssmIn.set(this.arena.ssmView(slots[b]), b * s.ssmStateFloats);
        }
        conv = this.convIn;
        ssm = this.ssmIn;
      }
      await this.prefillBatch(B, s.visualTokens, conv, ssm);
      this.scatter(slots);
      const t4 = now();
      encodeMs = t2 - t1;
      projectMs = t3 - t2;
      prefillMs = t4 - t3;
      visualTokens = s.visualTokens;
      keptFraction = 1;
    }
    const totalMs = now() - t0;
    for (const m of ok) {
      results[m.index] = {
        id: items[m.index].id,
        ok: true,
        preprocessMs: t1 - t0,
        encodeMs,
        projectMs,
        prefillMs,
        totalMs,
        visualTokens,
        keptFraction,
        batch: B,
      };
    }
    return results;
  }

  private scatter(slots: readonly number[]): void {
    const s = this.sizes;
    for (let b = 0; b < slots.length; b++) {
      this.arena.convView(slots[b]).set(this.convOut.subarray(b * s.convStateFloats, (b + 1) * s.convStateFloats));
      this.arena.ssmView(slots[b]).set(this.ssmOut.subarray(b * s.ssmStateFloats, (b + 1) * s.ssmStateFloats));
    }
  }

  /**
   * Coarse-to-fine: one `vision_c2f` run encodes the whole batch (coarse scale, keep scores,
   * the top-K fine patches of each member, pooled and projected; no per-patch JavaScript), then
   * each member's non-empty cells and merge token are laid out. Members with the same token
   * count (the usual case: every cell keeps a patch) share one prefill run, like the full path;
   * a member whose count differs is prefilled alone. `encodeMs` is the vision_c2f run (its
   * projector included), `projectMs` the token layout.
   */
  private async framesCoarseToFine(ok: { index: number; slot: number }[]): Promise<{ encodeMs: number; projectMs: number; prefillMs: number; visualTokens: number; keptFraction: number }> {
    const sel = this.c2f;
    if (!sel) throw new SpatialRewardError("internal", "coarse-to-fine is off");
    const s = this.sizes;
    const d = this.config.d_model;
    const cells = s.visualTokens;
    const B = ok.length;
    const t0 = now();
    await this.runCoarseToFine(B);
    const t1 = now();
    const counts = this.cellCounts, nTokens = this.c2fTokenCount;
    let same = true, tokensTotal = 0;
    for (let b = 0; b < B; b++) {
      let n = sel.merged > 0 ? 1 : 0;
      for (let c = 0; c < cells; c++) if (counts[b * cells + c] > 0) n++;
      nTokens[b] = n;
      tokensTotal += n;
      if (n !== nTokens[0]) same = false;
    }
    const lay = (b: number, offset: number): number =>
      layoutC2fTokens(this.c2fTokens, offset, this.tokens.subarray(b * cells * d, (b + 1) * cells * d), counts.subarray(b * cells, (b + 1) * cells), sel.mergeToken, sel.merged);
    let projectMs = 0, prefillMs = 0;
    if (same) {
      const T = nTokens[0];
      for (let b = 0; b < B; b++) lay(b, b * T * d);
      const t2 = now();
      const slots = ok.map((m) => m.slot);
      const runs = consecutiveRuns(slots);
      let conv: Float32Array, ssm: Float32Array;
      if (runs.length === 1) {
        conv = this.arena.convView(runs[0].first, B);
        ssm = this.arena.ssmView(runs[0].first, B);
      } else {
        for (let b = 0; b < B; b++) {
          this.convIn.set(this.arena.convView(slots[b]), b * s.convStateFloats);
          this.ssmIn.set(this.arena.ssmView(slots[b]), b * s.ssmStateFloats);
        }
        conv = this.convIn;
        ssm = this.ssmIn;
      }
      await this.prefillBatch(B, T, conv, ssm, this.c2fTokens);
      this.scatter(slots);
      projectMs = t2 - t1;
      prefillMs = now() - t2;
    } else {
      for (let b = 0; b < B; b++) {
        const t2 = now();
        const T = lay(b, 0);
        const t3 = now();
        const slot = ok[b].slot;
        await this.prefillBatch(1, T, this.arena.convView(slot), this.arena.ssmView(slot), this.c2fTokens);
        this.scatter([slot]);
        projectMs += t3 - t2;
        prefillMs += now() - t3;
      }
    }
    return { encodeMs: t1 - t0, projectMs, prefillMs, visualTokens: tokensTotal / B, keptFraction: sel.keptCount / s.patches };
  }

  /**
   * A question: fork the stream's state (one copy), prefill BOS + question tokens on the fork,
   * then greedy `decode` one token per run until EOS or maxTokens. The fork and a second scratch
   * slot alternate as input and output, so no step copies a state and the stream's own slot is
   * only read, once.
   */
  async ask(stream: string, question: string, maxTokens: number): Promise<AskResult> {
    const slot = this.arena.slotOf(stream);
    const ids = this.tokenizer.encode(question);
    const T = ids.length + 1;
    if (T > MAX_QUESTION_TOKENS) {
      throw new InvalidInputError("input_too_long", `question is ${ids.length} tokens, the backbone takes at most ${MAX_QUESTION_TOKENS - 1}`);
    }
    const d = this.config.d_model;
    const V = this.config.vocab_size;
    const emb = this.embeddings;
    const put = (pos: number, id: number): void => {
      if (!Number.isInteger(id) || id < 0 || id >= V) throw new SpatialRewardError("internal", `tokenizer produced id ${id} outside the vocabulary (${V})`);
      this.questionEmbeds.set(emb.subarray(id * d, (id + 1) * d), pos * d);
    };
    put(0, this.tokenizer.bosId);
    for (let i = 0; i < ids.length; i++) put(i + 1, ids[i]);
    const a = this.arena.fork(slot);
    let b = -1;
    try {
      b = this.arena.acquireScratch();
      const s = this.sizes;
      const L = this.config.n_layer;
      const E = s.dInner;
      const convT = (x: number): ort.Tensor => new ort.Tensor("float32", this.arena.convView(x), [1, L, E, this.config.d_conv]);
      const ssmT = (x: number): ort.Tensor => new ort.Tensor("float32", this.arena.ssmView(x), [1, L, E, this.config.d_state]);
      const t0 = now();
      await this.session("mamba_prefill").run(
        { embeds: this.f32(this.questionEmbeds, [1, T, d]), conv_state: convT(a), ssm_state: ssmT(a) },
        { hidden: this.f32(this.hidden, [1, d]), conv_state_out: convT(b), ssm_state_out: ssmT(b) },
      );
      await this.session("lm_head").run({ hidden: this.f32(this.hidden, [1, d]) }, { logits: this.f32(this.logits, [1, V]) });
      let tok = argmax(this.logits, V);
      const prefillMs = now() - t0;
      const out: number[] = [];
      let cur = b, next = a;
      let decodeMs = 0, steps = 0;
      const eos = this.tokenizer.eosId;
      while (tok !== eos && out.length < maxTokens) {
        out.push(tok);
        if (out.length === maxTokens) break;
        const t1 = now();
        this.tokenIn[0] = BigInt(tok);
        await this.session("decode").run(
          { token_ids: new ort.Tensor("int64", this.tokenIn, [1]), conv_state: convT(cur), ssm_state: ssmT(cur) },
          { next_token: new ort.Tensor("int64", this.tokenOut, [1]), conv_state_out: convT(next), ssm_state_out: ssmT(next) },
        );
        decodeMs += now() - t1;
        steps++;
        tok = Number(this.tokenOut[0]);
        [cur, next] = [next, cur];
      }
      return {
        tokenIds: out,
        text: this.tokenizer.decode(out),
        promptTokens: T,
        prefillMs,
        tokenMs: steps > 0 ? decodeMs / steps : 0,
      };
    } finally {
      this.arena.release(a);
      if (b >= 0) this.arena.release(b);
    }
  }
}

function argmax(x: Float32Array, n: number): number {
  let best = 0;
  let v = x[0];
  for (let i = 1; i < n; i++) {
    if (x[i] > v) {
      v = x[i];
      best = i;
    }
  }
  return best;
}

function failedFrame(id: number, e: unknown): FrameResult {
  return { id, ok: false, error: toWire(e), preprocessMs: 0, encodeMs: 0, projectMs: 0, prefillMs: 0, totalMs: 0, visualTokens: 0, keptFraction: 0, batch: 0 };
}
