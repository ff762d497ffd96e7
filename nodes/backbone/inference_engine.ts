import { QUESTION_END, questionPrompt } from "../../src/backbone/prompt.js";
import * as ort from "onnxruntime-node";
import { InvalidInputError, ModelError, SpatialRewardError } from "../../src/errors.js";
import { backboneSizes, parseBackboneConfig, TINY_CONFIG, type BackboneConfig, type BackboneSizes } from "../../src/backbone/config.js";
import { parameterCount, type Weights } from "../../src/backbone/tensor_names.js";
import { StateArena, consecutiveRuns } from "../../src/backbone/state_arena.js";
import { ImagePreprocessor } from "../../src/backbone/image_preprocess.js";
import { nativePreprocessKernel } from "./native_preprocess.js";
import { CoarseToFineSelector, fullImagePool, layoutC2fTokens } from "../../src/backbone/coarse_to_fine.js";
import { randomWeights } from "../../src/backbone/random_init.js";
import { buildDecode, buildMambaPrefill } from "../../src/backbone/graphs/mamba_graphs.js";
import { buildCoarseToFineGraph, buildVisionProjectorGraph } from "../../src/backbone/graphs/vision_graphs.js";
import { serializeModel } from "../../src/backbone/onnx/onnx_model.js";
import { BackboneTokenizer, checkTokenizerFits } from "../../src/backbone/tokenizer.js";
import { defaultTokenizerJson } from "../../src/backbone/byte_tokenizer.js";
import {
  MAX_ASK_BATCH,
  toWire,
  type AskItem,
  type AskItemResult,
  type FrameItem,
  type FrameResult,
  type RuntimeInfo,
  type WorkerFault,
  type WorkerInit,
} from "./worker_protocol.js";

/**
 * The backbone's inference engine: every onnxruntime session, the state arena, the image
 * preprocessor, frame batches and questions. It runs only in the worker thread
 * (backbone_worker.ts), never on the main thread: `session.run` is a synchronous native call.
 */

export type GraphName = "vision_projector" | "vision_c2f" | "mamba_prefill" | "decode";

/**
 * The graphs the runtime runs (models/README.md): `vision_projector` (vision and projector fused:
 * one run per batch instead of two, measured ~4% faster per frame) or, with coarse-to-fine on,
 * `vision_c2f` with its question input; `mamba_prefill`; `decode`. The first answer token comes
 * from a `decode` run on the question's last token, so no separate `lm_head` run is needed.
 */
function buildBackboneGraphs(config: BackboneConfig, weights: Weights, coarseToFine: boolean): [GraphName, Uint8Array][] {
  const vision: [GraphName, Uint8Array] = coarseToFine
    ? ["vision_c2f", serializeModel(buildCoarseToFineGraph(config, weights, { question: true }))]
    : ["vision_projector", serializeModel(buildVisionProjectorGraph(config, weights))];
  return [vision, ["mamba_prefill", buildMambaPrefill(config, weights)], ["decode", buildDecode(config, weights)]];
}

/** Two scratch slots per question of a batch: the fork and the slot each decode step writes (never in place). */
export const SCRATCH_SLOTS = 2 * MAX_ASK_BATCH;
const MAX_QUESTION_TOKENS = 1024;

function now(): number {
  return performance.now();
}

type Feeds = Record<string, ort.Tensor>;

interface Member {
  readonly index: number;
  readonly slot: number;
}

interface AskMember {
  readonly index: number;
  readonly item: AskItem;
  readonly slot: number;
  /** Token ids before the visual rows: BOS + question (+ "\n" without reread_image). */
  readonly head: number[];
  /** Rows of the stream's latest visual tokens reread after `head` (0 without reread_image). */
  readonly visual: number;
  /** Token ids after the visual rows: encode("\n") with reread_image, else none. */
  readonly end: number[];
  /** Every prompt row: head + visual + end; all but the last are prefilled, the last is the first `decode` input. */
  readonly rows: number;
  readonly out: number[];
  firstLogits: Float32Array | null;
  prefillMs: number;
  decodeMs: number;
  steps: number;
}

export class Engine {
  readonly config: BackboneConfig;
  readonly sizes: BackboneSizes;
  readonly arena: StateArena;
  private readonly sessions: Map<GraphName, ort.InferenceSession>;
  private readonly pre: ImagePreprocessor;
  private readonly c2f: CoarseToFineSelector | null;
  private readonly tokenizer: BackboneTokenizer;
  /** A copy of the embedding table (not a view: a view would keep the whole safetensors buffer alive). */
  private readonly embeddings: Float32Array;
  private readonly maxBatch: number;
  private readonly testFaults: boolean;
  private readonly faults = new Map<GraphName, { skip: number; count: number }>();
  // Per-batch buffers, sized for the largest batch once; pages commit as batches grow.
  private readonly patches: Float32Array;
  private readonly positions: BigInt64Array;
  private readonly pool: Float32Array;
  private readonly tokens: Float32Array;
  private readonly hidden: Float32Array;
  /** `mamba_prefill`'s `progress` [B] (empty when the model has no progress head). */
  private readonly progressOut: Float32Array;
  private readonly convIn: Float32Array;
  private readonly ssmIn: Float32Array;
  private readonly convOut: Float32Array;
  private readonly ssmOut: Float32Array;
  // vision_c2f feeds and outputs (empty without coarse-to-fine).
  private readonly coarsePatches: Float32Array;
  private readonly questionFeed: Float32Array;
  /** Each stream slot's question guide for vision_c2f, [maxStreams, d_model]; a zero row is no question. */
  private readonly questionBySlot: Float32Array;
  private readonly cellCounts: Float32Array;
  private readonly keptOut: BigInt64Array;
  private readonly scoresOut: Float32Array;
  private readonly c2fTokens: Float32Array;
  private readonly c2fTokenCount: Int32Array;
  // reread_image (empty without it): each stream slot's visual tokens of its latest prefilled
  // frame, [maxStreams, visualTokens + 1, d_model] (+1: coarse-to-fine's merge token), and how
  // many rows are valid (0: no frame yet).
  private readonly reread: boolean;
  private readonly visualBySlot: Float32Array;
  private readonly visualCount: Int32Array;
  /** encode("\n"), the rows after the reread visual tokens. */
  private readonly endIds: number[];
  // Question batches.
  /** Rows the prompt buffer holds: one question's longest prompt (its visual rows included). */
  private readonly promptRows: number;
  private readonly questionEmbeds: Float32Array;
  private readonly askHidden: Float32Array;
  private readonly tokenIn = new BigInt64Array(MAX_ASK_BATCH);
  private readonly tokenOut = new BigInt64Array(MAX_ASK_BATCH);
  /** The first `decode` run's logits [MAX_ASK_BATCH, vocab], fetched only when a question asks for them. */
  private readonly askLogits: Float32Array;

  private constructor(
    config: BackboneConfig,
    embeddings: Float32Array,
    c2f: CoarseToFineSelector | null,
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
    this.testFaults = init.testFaults;
    this.arena = new StateArena({ maxStreams: init.maxStreams, scratchSlots: SCRATCH_SLOTS, convFloats: s.convStateFloats, ssmFloats: s.ssmStateFloats });
    // The native resize where the kernels addon has it (SPATIAL_REWARD_NATIVE=0: TypeScript); same patches either way.
    this.pre = new ImagePreprocessor(config, nativePreprocessKernel());
    this.c2f = c2f;
    this.embeddings = embeddings;
    const B = this.maxBatch;
    const P = s.patches;
    const d = config.d_model;
    this.patches = new Float32Array(B * P * s.patchDim);
    this.positions = new BigInt64Array(P);
    for (let i = 0; i < P; i++) this.positions[i] = BigInt(i);
    const full = fullImagePool(config);
    this.pool = new Float32Array(c2f ? 0 : B * full.length);
    if (!c2f) for (let b = 0; b < B; b++) this.pool.set(full, b * full.length);
    this.tokens = new Float32Array(B * (s.visualTokens + 1) * d);
    this.hidden = new Float32Array(B * d);
    this.progressOut = new Float32Array(config.progress_head === true ? B : 0);
    this.convIn = new Float32Array(B * s.convStateFloats);
    this.ssmIn = new Float32Array(B * s.ssmStateFloats);
    this.convOut = new Float32Array(B * s.convStateFloats);
    this.ssmOut = new Float32Array(B * s.ssmStateFloats);
    this.coarsePatches = new Float32Array(c2f ? B * s.coarsePatches * s.patchDim : 0);
    this.questionFeed = new Float32Array(c2f ? B * d : 0);
    this.questionBySlot = new Float32Array(c2f ? B * d : 0);
    this.cellCounts = new Float32Array(c2f ? B * s.visualTokens : 0);
    this.keptOut = new BigInt64Array(c2f ? B * c2f.keptCount : 0);
    this.scoresOut = new Float32Array(c2f ? B * P : 0);
    this.c2fTokens = new Float32Array(c2f ? B * (s.visualTokens + 1) * d : 0);
    this.c2fTokenCount = new Int32Array(c2f ? B : 0);
    this.reread = config.reread_image === true;
    const V1 = s.visualTokens + 1;
    this.visualBySlot = new Float32Array(this.reread ? B * V1 * d : 0);
    this.visualCount = new Int32Array(this.reread ? B : 0);
    this.endIds = this.reread ? tokenizer.encode(QUESTION_END) : [];
    if (this.reread && this.endIds.length === 0) throw new ModelError(tokenizer.file, `reread_image needs the question end ${JSON.stringify(QUESTION_END)} to encode to at least one token; it encodes to none`);
    for (const id of this.endIds) this.checkId(id);
    this.promptRows = MAX_QUESTION_TOKENS + (this.reread ? V1 : 0);
    this.questionEmbeds = new Float32Array(this.promptRows * d);
    this.askHidden = new Float32Array(MAX_ASK_BATCH * d);
    this.askLogits = new Float32Array(MAX_ASK_BATCH * config.vocab_size);
  }

  static async create(init: WorkerInit): Promise<{ engine: Engine; info: RuntimeInfo }> {
    let config: BackboneConfig;
    let weights: Weights | null;
    let tokenizer: BackboneTokenizer;
    if ("dir" in init.model) {
      const { readModelFolder } = await import("./model_folder.js");
      const folder = await readModelFolder(init.model.dir);
      config = folder.config;
      weights = folder.weights;
      tokenizer = folder.tokenizer;
    } else {
      // A config given in code gets the same field-by-field validation as a config.json.
      config = parseBackboneConfig(init.model.config ?? TINY_CONFIG);
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
    try {
      for (const [name, bytes] of graphs) {
        try {
          sessions.set(name, await ort.InferenceSession.create(bytes, options));
        } catch (e) {
          throw new ModelError("model.safetensors", `graph ${name} did not load in onnxruntime: ${e instanceof Error ? e.message : String(e)}`);
        }
      }
    } catch (e) {
      for (const s of sessions.values()) await s.release().catch(() => undefined);
      throw e;
    }
    graphs.length = 0;
    // Keep only what the engine reads at run time, as copies, then drop the weights: their
    // tensors are views into the whole safetensors buffer, which the sessions no longer need.
    const emb = weights.get("backbone.embeddings.weight");
    if (!emb) throw new ModelError("model.safetensors", "tensor missing", "backbone.embeddings.weight");
    const embeddings = emb.slice();
    let c2f: CoarseToFineSelector | null = null;
    if (init.coarseToFine && config.coarse_to_fine) {
      const small = new Map<string, Float32Array>();
      for (const n of ["c2f.score.weight", "c2f.score.bias", "c2f.merge_token", "c2f.count_embed"]) {
        const t = weights.get(n);
        if (t) small.set(n, t.slice());
      }
      c2f = new CoarseToFineSelector(config, small);
    }
    weights = null;
    const engine = new Engine(config, embeddings, c2f, sessions, tokenizer, init);
    if (init.warmup) await engine.warmup();
    const info: RuntimeInfo = {
      parameters: parameterCount(config),
      stateBytesPerStream: engine.sizes.stateBytes,
      graphs: [...sessions].map(([name, s]) => ({ name, inputs: [...s.inputNames], outputs: [...s.outputNames] })),
      arenaReservedBytes: engine.arena.buffer.byteLength,
      rereadBytesPerStream: engine.rereadBytesPerStream,
      trained: config.trained,
      maxAskBatch: MAX_ASK_BATCH,
    };
    return { engine, info };
  }

  /** Bytes of one slot's kept visual tokens (RuntimeInfo.rereadBytesPerStream). */
  get rereadBytesPerStream(): number {
    return this.visualBySlot.byteLength / this.maxBatch;
  }

  /** Releases every onnxruntime session (their native memory); the engine is unusable after. */
  async release(): Promise<void> {
    const all = [...this.sessions.values()];
    this.sessions.clear();
    for (const s of all) await s.release();
  }

  /** Test-only: the next run(s) of a graph throw (see WorkerFault). */
  injectFault(f: WorkerFault): void {
    if (!this.testFaults) throw new SpatialRewardError("bad_state", "fault injection is off (open the runtime with openWithFaultInjectionForTesting, nodes/backbone/testing.ts)");
    this.faults.set(f.graph, { skip: f.skip ?? 0, count: f.count ?? 1 });
  }

  /** Every `session.run` goes through here (one place for the test-only fault hook). */
  private async run(name: GraphName, feeds: Feeds, fetches: Feeds): Promise<void> {
    const s = this.sessions.get(name);
    if (!s) throw new SpatialRewardError("internal", `graph ${name} is not loaded`);
    const f = this.faults.size > 0 ? this.faults.get(name) : undefined;
    if (f) {
      if (f.skip > 0) f.skip--;
      else {
        if (--f.count <= 0) this.faults.delete(name);
        throw new Error(`injected fault (test only): ${name} run failed`);
      }
    }
    await s.run(feeds, fetches);
  }

  private f32(data: Float32Array, dims: number[]): ort.Tensor {
    return new ort.Tensor("float32", data.subarray(0, dims.reduce((a, b) => a * b, 1)), dims);
  }

  /**
   * Every frame graph at the largest batch on the batch buffers (never on arena slots), so
   * onnxruntime's memory arena and the batch buffers reach their high-water mark before any
   * stream is added; RSS then grows with streams only by what the streams themselves own.
   */
  private async warmup(): Promise<void> {
    const B = this.maxBatch;
    const s = this.sizes;
    if (this.c2f) await this.runCoarseToFine(B);
    else await this.encodeFull(B);
    await this.prefillBatch(B, s.visualTokens, this.convIn, this.ssmIn);
    this.convIn.fill(0);
    this.ssmIn.fill(0);
  }

  addStream(stream: string): void {
    const slot = this.arena.acquire(stream);
    this.clearQuestion(slot);
    this.clearVisual(slot);
  }

  removeStream(stream: string): void {
    const slot = this.arena.slotOf(stream);
    this.arena.release(slot);
    this.clearQuestion(slot);
    this.clearVisual(slot);
  }

  /**
   * Copies of a stream's state and, with reread_image, of the visual tokens its next question
   * rereads ([n, d_model], the rows its latest frame prefilled; empty before the first frame).
   */
  readState(stream: string): { conv: Float32Array<ArrayBuffer>; ssm: Float32Array<ArrayBuffer>; visual?: Float32Array<ArrayBuffer> } {
    const slot = this.arena.slotOf(stream);
    const st = { conv: this.arena.convView(slot).slice(), ssm: this.arena.ssmView(slot).slice() };
    if (!this.reread) return st;
    const d = this.config.d_model;
    const base = slot * (this.sizes.visualTokens + 1) * d;
    return { ...st, visual: this.visualBySlot.slice(base, base + this.visualCount[slot] * d) };
  }

  /** Zeroes a stream slot's kept visual tokens (a new stream has no frame to reread). */
  private clearVisual(slot: number): void {
    if (!this.reread) return;
    const rows = (this.sizes.visualTokens + 1) * this.config.d_model;
    this.visualBySlot.fill(0, slot * rows, (slot + 1) * rows);
    this.visualCount[slot] = 0;
  }

  /**
   * Keeps the `count` visual-token rows a stream slot just prefilled (from `src` at row `row`),
   * for reread_image questions. Called only after the prefill's state reached the slot, so the
   * kept rows always belong to the frame in the state. An element loop: no view per frame.
   */
  private keepVisual(slot: number, src: Float32Array, row: number, count: number): void {
    if (!this.reread) return;
    const d = this.config.d_model;
    const dst = slot * (this.sizes.visualTokens + 1) * d;
    const from = row * d;
    const n = count * d;
    for (let i = 0; i < n; i++) this.visualBySlot[dst + i] = src[from + i];
    this.visualCount[slot] = count;
  }

  /**
   * The question that guides coarse-to-fine keep scores for a stream's next frames: its tokens'
   * mean embedding (models/README.md), or none (null, or a question with no tokens such as "":
   * the zero row, exactly the scores without a question). The previous question is cleared
   * first, so a refused question also leaves none. Without coarse-to-fine there is nothing to guide.
   */
  setQuestion(stream: string, question: string | null): void {
    const slot = this.arena.slotOf(stream);
    if (!this.c2f) return;
    this.clearQuestion(slot);
    if (question === null) return;
    const ids = this.tokenizer.encode(question);
    // No tokens ("" or nothing the tokenizer keeps) is no question: the row stays cleared.
    if (ids.length === 0) return;
    if (ids.length >= MAX_QUESTION_TOKENS) throw new InvalidInputError("input_too_long", `question is ${ids.length} tokens, the backbone takes at most ${MAX_QUESTION_TOKENS - 1}`);
    const d = this.config.d_model;
    const row = this.questionBySlot.subarray(slot * d, (slot + 1) * d);
    const acc = new Float64Array(d);
    for (const id of ids) {
      this.checkId(id);
      for (let i = 0; i < d; i++) acc[i] += this.embeddings[id * d + i];
    }
    for (let i = 0; i < d; i++) row[i] = acc[i] / ids.length;
  }

  private clearQuestion(slot: number): void {
    const d = this.config.d_model;
    if (this.questionBySlot.length > 0) this.questionBySlot.fill(0, slot * d, (slot + 1) * d);
  }

  private checkId(id: number): void {
    if (!Number.isInteger(id) || id < 0 || id >= this.config.vocab_size) {
      throw new SpatialRewardError("internal", `tokenizer produced id ${id} outside the vocabulary (${this.config.vocab_size})`);
    }
  }

  private async encodeFull(B: number): Promise<void> {
    const s = this.sizes;
    const P = s.patches;
    await this.run(
      "vision_projector",
      { patches: this.f32(this.patches, [B, P, s.patchDim]), positions: new ort.Tensor("int64", this.positions, [P]), pool: this.f32(this.pool, [B, s.visualTokens, P]) },
      { tokens: this.f32(this.tokens, [B, s.visualTokens, this.config.d_model]) },
    );
  }

  /** `vision_c2f` on the first B members' fine (`patches`), coarse patches and question guides: tokens per cell, counts, kept, scores. */
  private async runCoarseToFine(B: number): Promise<void> {
    const sel = this.c2f;
    if (!sel) throw new SpatialRewardError("internal", "coarse-to-fine is off");
    const s = this.sizes;
    const K = sel.keptCount;
    const d = this.config.d_model;
    await this.run(
      "vision_c2f",
      {
        patches: this.f32(this.patches, [B, s.patches, s.patchDim]),
        coarse_patches: this.f32(this.coarsePatches, [B, s.coarsePatches, s.patchDim]),
        question: this.f32(this.questionFeed, [B, d]),
      },
      {
        tokens: this.f32(this.tokens, [B, s.visualTokens, d]),
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
    await this.run(
      "mamba_prefill",
      {
        embeds: this.f32(embeds, [B, T, this.config.d_model]),
        conv_state: new ort.Tensor("float32", conv.subarray(0, B * s.convStateFloats), [B, L, E, this.config.d_conv]),
        ssm_state: new ort.Tensor("float32", ssm.subarray(0, B * s.ssmStateFloats), [B, L, E, this.config.d_state]),
      },
      {
        hidden: this.f32(this.hidden, [B, this.config.d_model]),
        conv_state_out: this.f32(this.convOut, [B, L, E, this.config.d_conv]),
        ssm_state_out: this.f32(this.ssmOut, [B, L, E, this.config.d_state]),
        ...(this.progressOut.length > 0 ? { progress: this.f32(this.progressOut, [B]) } : {}),
      },
    );
  }

  /** Member b's progress from the last prefill run (NaN without a progress head). */
  private progressOf(b: number): number {
    return this.progressOut.length > 0 ? this.progressOut[b] : NaN;
  }

  /** The members' states as one input: the arena view itself when their slots are consecutive, else gathered into convIn/ssmIn. */
  private gather(slots: readonly number[]): { conv: Float32Array; ssm: Float32Array } {
    const s = this.sizes;
    const B = slots.length;
    const runs = consecutiveRuns(slots);
    if (runs.length === 1) return { conv: this.arena.convView(runs[0].first, B), ssm: this.arena.ssmView(runs[0].first, B) };
    for (let b = 0; b < B; b++) {
      this.convIn.set(this.arena.convView(slots[b]), b * s.convStateFloats);
      this.ssmIn.set(this.arena.ssmView(slots[b]), b * s.ssmStateFloats);
    }
    return { conv: this.convIn, ssm: this.ssmIn };
  }

  /**
   * One batch of frames, one per stream: preprocess each (a bad image fails alone), then one
   * `vision_projector` (or `vision_c2f`) and one `mamba_prefill` run for all of them. Members
   * are ordered by slot; when their slots are consecutive the arena view itself is the state
   * input (no copy), otherwise their states are gathered into the batch buffer. New states are
   * written back to exactly the members' slots; no other slot is read or written. A run that
   * throws fails every member that reached it and had not been written back (all of them on the
   * full path: its states are written only after the last run); a member that had already failed
   * (bad image, unknown stream) keeps its own error.
   */
  async frames(items: FrameItem[]): Promise<FrameResult[]> {
    const t0 = now();
    const s = this.sizes;
    const P = s.patches;
    const d = this.config.d_model;
    const results: FrameResult[] = new Array<FrameResult>(items.length);
    const members: Member[] = [];
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
    const ok: Member[] = [];
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
        if (this.c2f) {
          this.coarsePatches.set(this.pre.coarsePatches, b * s.coarsePatches * s.patchDim);
          this.questionFeed.set(this.questionBySlot.subarray(m.slot * d, (m.slot + 1) * d), b * d);
        }
        ok.push(m);
      } catch (e) {
        results[m.index] = failedFrame(items[m.index].id, e);
      }
    }
    const B = ok.length;
    if (B === 0) return results;
    const t1 = now();
    const failRun = (e: unknown): FrameResult[] => {
      for (const m of ok) results[m.index] = failedFrame(items[m.index].id, e);
      return results;
    };
    if (this.c2f) {
      let r: Awaited<ReturnType<Engine["framesCoarseToFine"]>>;
      try {
        r = await this.framesCoarseToFine(ok);
      } catch (e) {
        return failRun(e);
      }
      const totalMs = now() - t0;
      for (let b = 0; b < B; b++) {
        const m = ok[b];
        const e = r.errors[b];
        results[m.index] = e !== undefined
          ? failedFrame(items[m.index].id, e)
          : { id: items[m.index].id, ok: true, preprocessMs: t1 - t0, encodeMs: r.encodeMs, projectMs: r.projectMs, prefillMs: r.prefillMs, totalMs, visualTokens: r.tokens[b], keptFraction: r.keptFraction, batch: B, progress: r.progress[b] };
      }
      return results;
    }
    let t2: number, t3: number;
    try {
      await this.encodeFull(B);
      t2 = now();
      const slots = ok.map((m) => m.slot);
      const st = this.gather(slots);
      await this.prefillBatch(B, s.visualTokens, st.conv, st.ssm);
      this.scatter(slots);
      for (let b = 0; b < B; b++) this.keepVisual(slots[b], this.tokens, b * s.visualTokens, s.visualTokens);
      t3 = now();
    } catch (e) {
      return failRun(e);
    }
    for (let b = 0; b < B; b++) {
      const m = ok[b];
      results[m.index] = {
        id: items[m.index].id,
        ok: true,
        preprocessMs: t1 - t0,
        encodeMs: t2 - t1,
        projectMs: 0, // fused into the vision_projector run (encodeMs)
        prefillMs: t3 - t2,
        totalMs: now() - t0,
        visualTokens: s.visualTokens,
        keptFraction: 1,
        batch: B,
        progress: this.progressOf(b),
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
   * Coarse-to-fine: one `vision_c2f` run encodes the whole batch (coarse scale, keep scores with
   * each stream's question guide, the top-K fine patches of each member, pooled and projected; no
   * per-patch JavaScript), then each member's non-empty cells and merge token are laid out.
   * Members with the same token count (the usual case: every cell keeps a patch) share one
   * prefill run, like the full path; otherwise each member is prefilled alone and reported alone:
   * a run failing at member k fails k only (earlier members are already in their states).
   * `encodeMs` is the vision_c2f run (its projector included), `projectMs` the token layout.
   */
  private async framesCoarseToFine(ok: Member[]): Promise<{ encodeMs: number; projectMs: number; prefillMs: number; tokens: number[]; errors: (unknown | undefined)[]; keptFraction: number; progress: number[] }> {
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
    let same = true;
    const tokens: number[] = new Array<number>(B);
    const errors: (unknown | undefined)[] = new Array<unknown | undefined>(B).fill(undefined);
    const progress: number[] = new Array<number>(B).fill(NaN);
    for (let b = 0; b < B; b++) {
      let n = sel.merged > 0 ? 1 : 0;
      for (let c = 0; c < cells; c++) if (counts[b * cells + c] > 0) n++;
      nTokens[b] = n;
      tokens[b] = n;
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
      const st = this.gather(slots);
      await this.prefillBatch(B, T, st.conv, st.ssm, this.c2fTokens);
      this.scatter(slots);
      for (let b = 0; b < B; b++) {
        progress[b] = this.progressOf(b);
        this.keepVisual(slots[b], this.c2fTokens, b * T, T);
      }
      projectMs = t2 - t1;
      prefillMs = now() - t2;
    } else {
      for (let b = 0; b < B; b++) {
        const t2 = now();
        const T = lay(b, 0);
        const t3 = now();
        const slot = ok[b].slot;
        try {
          await this.prefillBatch(1, T, this.arena.convView(slot), this.arena.ssmView(slot), this.c2fTokens);
          this.scatter([slot]);
          progress[b] = this.progressOf(0);
          this.keepVisual(slot, this.c2fTokens, 0, T);
        } catch (e) {
          errors[b] = e;
        }
        projectMs += t3 - t2;
        prefillMs += now() - t3;
      }
    }
    return { encodeMs: t1 - t0, projectMs, prefillMs, tokens, errors, keptFraction: sel.keptCount / s.patches, progress };
  }

  /**
   * Questions, up to MAX_ASK_BATCH at once. Each forks its stream's state into a scratch slot
   * (one copy, never a replay) and prefills every row of its prompt but the last on the fork:
   * BOS + question tokens (+ "\n"), or with reread_image BOS + question tokens, the stream's
   * latest visual tokens, then "\n" (prompt.ts); questions with the same number of rows share one
   * prefill run, whatever their streams. Then every question's greedy steps run together: one
   * `decode` run per token for the whole batch (its first run takes each question's last token
   * and gives the first answer token). The forks sit on consecutive scratch slots and each run
   * writes the other run of slots, so the states are one view in and one view out; a question
   * that reaches EOS or its maxTokens leaves the batch, and the ones after it move down (one
   * state copy each) to stay consecutive. Streams' slots are only read, once. A bad question
   * fails alone (with reread_image, a stream with no frame yet has no tokens to reread: bad_state);
   * a failing run fails every question that reached it (each with the run's error), and
   * `decodeRuns` still counts the runs started, the failing one too. The scratch slots are
   * released whatever happens.
   */
  async asks(items: AskItem[]): Promise<{ results: AskItemResult[]; decodeRuns: number }> {
    if (items.length > MAX_ASK_BATCH) throw new SpatialRewardError("internal", `${items.length} questions in one batch, at most ${MAX_ASK_BATCH}`);
    const results: AskItemResult[] = new Array<AskItemResult>(items.length);
    const members: AskMember[] = [];
    const encode = (t: string): number[] => this.tokenizer.encode(t);
    for (let i = 0; i < items.length; i++) {
      const item = items[i];
      try {
        const slot = this.arena.slotOf(item.stream);
        // The prompt template training used (src/backbone/prompt.ts).
        const p = questionPrompt(encode, this.tokenizer.bosId, item.question, this.reread);
        const tokens = p.head.length + p.end.length;
        if (tokens > MAX_QUESTION_TOKENS) {
          throw new InvalidInputError("input_too_long", `question is ${tokens - 1} tokens, the backbone takes at most ${MAX_QUESTION_TOKENS - 1}`);
        }
        for (const id of p.head) this.checkId(id);
        const visual = p.reread ? this.visualCount[slot] : 0;
        if (p.reread && visual === 0) {
          throw new SpatialRewardError("bad_state", `stream "${item.stream}" has no frame yet: this model (reread_image) reads the latest frame's visual tokens again after the question`);
        }
        const end = p.reread ? this.endIds : p.end;
        members.push({ index: i, item, slot, head: p.head, visual, end, rows: p.head.length + visual + end.length, out: [], firstLogits: null, prefillMs: 0, decodeMs: 0, steps: 0 });
      } catch (e) {
        results[i] = { id: item.id, ok: false, error: toWire(e) };
      }
    }
    const n = members.length;
    if (n === 0) return { results, decodeRuns: 0 };
    // Equal row counts next to each other: each count's prefill is one run over consecutive slots.
    members.sort((a, b) => a.rows - b.rows);
    const a0 = this.arena.acquireScratchRun(n);
    let b0 = -1;
    let decodeRuns = 0;
    try {
      b0 = this.arena.acquireScratchRun(n);
      const s = this.sizes;
      const L = this.config.n_layer;
      const E = s.dInner;
      const d = this.config.d_model;
      const V = this.config.vocab_size;
      const convT = (first: number, count: number): ort.Tensor => new ort.Tensor("float32", this.arena.convView(first, count), [count, L, E, this.config.d_conv]);
      const ssmT = (first: number, count: number): ort.Tensor => new ort.Tensor("float32", this.arena.ssmView(first, count), [count, L, E, this.config.d_state]);
      for (let k = 0; k < n; k++) this.arena.copy(members[k].slot, a0 + k);
      // Prefill all prompt rows but the last, fork a0+k → b0+k.
      for (let k = 0; k < n; ) {
        const T = members[k].rows - 1;
        let j = k + 1;
        while (j < n && members[j].rows - 1 === T && (j + 1 - k) * T <= this.promptRows) j++;
        const G = j - k;
        const t0 = now();
        if (T === 0) {
          for (let q = k; q < j; q++) this.arena.copy(a0 + q, b0 + q);
        } else {
          for (let g = 0; g < G; g++) this.layPrompt(members[k + g], g * T, T);
          await this.run(
            "mamba_prefill",
            { embeds: this.f32(this.questionEmbeds, [G, T, d]), conv_state: convT(a0 + k, G), ssm_state: ssmT(a0 + k, G) },
            { hidden: this.f32(this.askHidden, [G, d]), conv_state_out: convT(b0 + k, G), ssm_state_out: ssmT(b0 + k, G) },
          );
        }
        const ms = now() - t0;
        for (let q = k; q < j; q++) members[q].prefillMs = ms;
        k = j;
      }
      // Greedy decode, all questions per run; position j of the batch is slot cur + j.
      let active = members.slice();
      for (let j = 0; j < n; j++) this.tokenIn[j] = BigInt(lastPromptId(members[j]));
      const wantLogits = members.some((m) => m.item.firstLogits === true);
      let cur = b0, next = a0;
      const eos = this.tokenizer.eosId;
      while (active.length > 0) {
        const m = active.length;
        const t1 = now();
        const first = decodeRuns === 0;
        decodeRuns++;
        await this.run(
          "decode",
          { token_ids: new ort.Tensor("int64", this.tokenIn.subarray(0, m), [m]), conv_state: convT(cur, m), ssm_state: ssmT(cur, m) },
          {
            next_token: new ort.Tensor("int64", this.tokenOut.subarray(0, m), [m]),
            conv_state_out: convT(next, m),
            ssm_state_out: ssmT(next, m),
            ...(first && wantLogits ? { logits: this.f32(this.askLogits, [m, V]) } : {}),
          },
        );
        const ms = now() - t1;
        const kept: AskMember[] = [];
        for (let j = 0; j < m; j++) {
          const mem = active[j];
          if (first && mem.item.firstLogits === true) mem.firstLogits = this.askLogits.slice(j * V, (j + 1) * V);
          if (mem.out.length === 0 && mem.steps === 0) mem.prefillMs += ms; // the first token's run
          else {
            mem.decodeMs += ms;
            mem.steps++;
          }
          const tok = Number(this.tokenOut[j]);
          if (tok === eos) continue;
          mem.out.push(tok);
          if (mem.out.length >= mem.item.maxTokens) continue;
          if (kept.length !== j) this.arena.copy(next + j, next + kept.length);
          this.tokenIn[kept.length] = BigInt(tok);
          kept.push(mem);
        }
        active = kept;
        [cur, next] = [next, cur];
      }
      for (const mem of members) {
        results[mem.index] = {
          id: mem.item.id,
          ok: true,
          result: {
            tokenIds: mem.out,
            text: this.tokenizer.decode(mem.out),
            promptTokens: mem.rows,
            prefillMs: mem.prefillMs,
            tokenMs: mem.steps > 0 ? mem.decodeMs / mem.steps : 0,
            batch: n,
            ...(mem.firstLogits ? { firstLogits: mem.firstLogits } : {}),
          },
        };
      }
      return { results, decodeRuns };
    } catch (e) {
      const error = toWire(e);
      for (const mem of members) results[mem.index] = { id: mem.item.id, ok: false, error };
      return { results, decodeRuns };
    } finally {
      for (let k = 0; k < n; k++) {
        this.arena.release(a0 + k);
        if (b0 >= 0) this.arena.release(b0 + k);
      }
    }
  }

  /**
   * Member `mem`'s first `T` prompt rows into questionEmbeds from row `at`: head embeddings,
   * then its stream's kept visual tokens, then end embeddings.
   */
  private layPrompt(mem: AskMember, at: number, T: number): void {
    const d = this.config.d_model;
    const h = mem.head.length;
    const vBase = mem.slot * (this.sizes.visualTokens + 1) * d;
    for (let t = 0; t < T; t++) {
      const dst = (at + t) * d;
      if (t < h) this.questionEmbeds.set(this.embeddings.subarray(mem.head[t] * d, (mem.head[t] + 1) * d), dst);
      else if (t < h + mem.visual) this.questionEmbeds.set(this.visualBySlot.subarray(vBase + (t - h) * d, vBase + (t - h + 1) * d), dst);
      else {
        const id = mem.end[t - h - mem.visual];
        this.questionEmbeds.set(this.embeddings.subarray(id * d, (id + 1) * d), dst);
      }
    }
  }
}

/** The prompt's last row, the first `decode` run's input: always a token (end, else head). */
function lastPromptId(m: AskMember): number {
  return m.end.length > 0 ? m.end[m.end.length - 1] : m.head[m.head.length - 1];
}

function failedFrame(id: number, e: unknown): FrameResult {
  return { id, ok: false, error: toWire(e), preprocessMs: 0, encodeMs: 0, projectMs: 0, prefillMs: 0, totalMs: 0, visualTokens: 0, keptFraction: 0, batch: 0, progress: NaN };
}
