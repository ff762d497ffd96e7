import type { Worker } from "node:worker_threads";
import { InvalidInputError, ModelError, SpatialRewardError, type ErrorCode } from "../../src/errors.js";
import { parseBackboneConfig, type BackboneConfig } from "../../src/backbone/config.js";
import { validateCameraImage } from "../../src/backbone/image_preprocess.js";
import type { AskItem, AskItemResult, FrameItem, FrameResult, FromWorker, GraphInfo, ModelSource, RuntimeInfo, ToWorker, WireError, WorkerFault, WorkerInit } from "./worker_protocol.js";
import { spawnWorker } from "./spawn_worker.js";
import { missingInferenceBackend } from "./inference_backend.js";
import { FAULT_INJECTION } from "./fault_injection.js";

export type { ModelSource, GraphInfo, RuntimeInfo, WorkerFault } from "./worker_protocol.js";

export interface FrameTiming {
  /**
   * Image → patches (resize, normalise) plus the vision encoder and the projector (one graph run:
   * `vision_projector`, or `vision_c2f` with coarse-to-fine); for a batch, the batch's time.
   */
  encodeMs: number;
  /** Of encodeMs, the part spent in JavaScript preprocessing. */
  preprocessMs: number;
  /**
   * Not in encodeMs: 0 on the full path (the projector is fused into `vision_projector`); with
   * coarse-to-fine, laying out the kept cells and the merge token as the prefill's tokens.
   */
  projectMs: number;
  /** Prefill of the frame's visual tokens into the stream state. */
  prefillMs: number;
  /** Worker time for the whole batch this frame was in. */
  totalMs: number;
  visualTokens: number;
  keptFraction: number;
  /** From pushFrame to the frame's batch being handed to the worker. */
  queueMs: number;
  /** Frames encoded together with this one (1 = alone). */
  batch: number;
  /** True when a newer frame of the same stream replaced this one before it ran (nothing else is set). */
  superseded: boolean;
  /**
   * Task progress in (0, 1) from the model's progress head on the stream state after this frame
   * (config `progress_head`); NaN when the model has no head or the frame was superseded.
   * Always set by BackboneRuntime (optional for test doubles, like BackboneAnswerResult.batch).
   */
  progress?: number;
}

export interface BackboneAnswerResult {
  text: string;
  tokenIds: number[];
  /**
   * Until the first answer token: the prefill of every prompt row but the last (BOS and the
   * question tokens; with reread_image also the frame's visual tokens; one run for the questions
   * of the batch with the same number of rows), plus the first `decode` run, which takes the last
   * prompt token ("\n") and gives the first answer token (shared by the whole batch).
   */
  prefillMs: number;
  /** Mean `decode` run per generated token after the first (the run decodes every question of the batch). */
  tokenMs: number;
  /** Questions decoded together with this one (1 = alone); always set by BackboneRuntime (optional for test doubles). */
  batch?: number;
  /** False for seeded-random weights: the text is noise and must never be presented as an answer. */
  trained: boolean;
  /** [vocab] the logits the first answer token was chosen from; only when asked (`ask(…, { firstLogits: true })`). */
  firstLogits?: Float32Array;
}

export interface CameraImage {
  width: number;
  height: number;
  encoding: string;
  step: number;
  data: Uint8Array;
}

/**
 * Every call is counted, refused ones included: framesIn = framesDone + framesDropped +
 * framesFailed + framesInFlight and asks = asksDone + asksFailed + asksInFlight at all times.
 */
export interface RuntimeStats {
  /** Every pushFrame call. */
  framesIn: number;
  framesDone: number;
  /** Superseded by a newer frame of the stream, or the stream was removed, before it ran. */
  framesDropped: number;
  /** Refused (bad image, unknown stream, runtime failed) or failed in the worker. */
  framesFailed: number;
  /** Waiting or in the worker. */
  framesInFlight: number;
  batches: number;
  /** Every ask call. */
  asks: number;
  asksDone: number;
  asksFailed: number;
  asksInFlight: number;
  /** Batches of questions handed to the worker, and the `decode` runs they started (a run that throws counts too). */
  askBatches: number;
  decodeRuns: number;
  /** readState calls refused (runtime failed) or failed in the worker. */
  readStateFailed: number;
  /**
   * Errors by code: each refused or failed frame, question, readState and setQuestion call once,
   * and a worker failure once (the calls it takes down count in framesFailed / asksFailed /
   * readStateFailed, not again here).
   */
  errors: Record<string, number>;
  /** The worker died or was closed: every call is refused. */
  failed: boolean;
  streams: number;
  /** Bytes of every stream's frame buffers (two slots each, sized to its largest image). */
  frameBufferBytes: number;
}

export interface OpenOptions {
  model: ModelSource;
  maxStreams: number;
  /** onnxruntime intra-op threads (default 1). */
  intraOpThreads?: number;
  coarseToFine?: boolean;
  /**
   * onnxruntime's CPU memory arena (default true). With it on, a run's intermediate buffers come
   * from a pool that grows to the largest batch seen and stays; `warmup` brings it there at open.
   */
  cpuMemArena?: boolean;
  /** Run every graph at batch maxStreams during open, so later memory growth is the streams' own. */
  warmup?: boolean;
  /**
   * Nice value for the inference thread and its onnxruntime threads (Linux, per thread; default 0):
   * inference is best-effort (frames are dropped when it lags) while the event loop carries
   * transports and timers, so the loop should win the CPU whenever it wakes. 0 leaves it alone.
   * Measured here on a 2-core machine at load ~8 (other processes): timer lag p99 3.8/5.2 ms at 0
   * and 5.0/3.7 ms at 5, i.e. no difference above the machine's own noise, hence the default 0.
   */
  niceness?: number;
  /**
   * Largest camera image accepted, in bytes (default 64 MiB). A bigger frame is refused as
   * bad_image_size before anything is allocated: each stream keeps two halves of its largest
   * frame, so one hostile 16384² mono8 frame would otherwise pin 512 MiB for that stream.
   */
  maxImageBytes?: number;
}

/** OpenOptions plus the test-only fault hook, set only through nodes/backbone/testing.ts (a Symbol key, not an option name). */
interface InternalOpenOptions extends OpenOptions {
  readonly [FAULT_INJECTION]?: boolean;
}

interface PendingFrame {
  readonly id: number;
  readonly pushedAt: number;
  readonly half: 0 | 1;
  readonly image: Omit<FrameItem, "id" | "stream" | "buffer" | "offset">;
  readonly resolve: (t: FrameTiming) => void;
  readonly reject: (e: Error) => void;
}

/**
 * One stream's frame buffer: a SharedArrayBuffer with two halves. The worker reads the half in
 * flight while the camera callback copies the next frame into the other, so a push never waits
 * for the worker and never allocates once the buffer fits the camera's image size. Shared memory
 * rather than a transferred ArrayBuffer: a transfer detaches the buffer, so every frame would need
 * a fresh allocation (and its garbage) on the main thread.
 */
interface StreamEntry {
  readonly name: string;
  buffer: SharedArrayBuffer | null;
  halfBytes: number;
  inFlight: -1 | 0 | 1;
  pending: PendingFrame | null;
}

interface Waiter {
  readonly resolve: (v: unknown) => void;
  readonly reject: (e: Error) => void;
}

interface AskJob {
  readonly id: number;
  readonly stream: string;
  readonly question: string;
  readonly maxTokens: number;
  readonly firstLogits: boolean;
  readonly resolve: (r: BackboneAnswerResult) => void;
  readonly reject: (e: Error) => void;
}

export const DEFAULT_MAX_IMAGE_BYTES = 64 * 1024 * 1024;
const MAX_QUESTION_CHARS = 4096;
/** How long close() waits for the worker to release its sessions before terminating it anyway. */
const CLOSE_TIMEOUT_MS = 5000;

function fromWire(w: WireError): SpatialRewardError {
  let e: SpatialRewardError;
  if (w.kind === "ModelError") e = new ModelError(w.file ?? "", "", w.tensor);
  else if (w.kind === "InvalidInputError") e = new InvalidInputError(w.code as ErrorCode, "");
  else if (w.kind === "SpatialRewardError") e = new SpatialRewardError(w.code as ErrorCode, "");
  else e = new SpatialRewardError("internal", "");
  e.message = w.kind === "Error" ? `backbone worker: ${w.message}` : w.message;
  return e;
}

function asTyped(e: unknown): SpatialRewardError {
  if (e instanceof SpatialRewardError) return e;
  return new SpatialRewardError("internal", e instanceof Error ? e.message : String(e));
}

/** The model source as the worker gets it: a config given in code is validated here like a config.json (bad_model). */
function checkModelSource(m: ModelSource): ModelSource {
  if (typeof m !== "object" || m === null) throw new SpatialRewardError("bad_argument", "model must be { dir } or { seed, config? }");
  if ("dir" in m) {
    if (typeof m.dir !== "string" || m.dir.length === 0) throw new SpatialRewardError("bad_argument", "model.dir must be a non-empty string");
    return { dir: m.dir };
  }
  if (!Number.isSafeInteger(m.seed)) throw new SpatialRewardError("bad_argument", `model.seed must be an integer, got ${String(m.seed)}`);
  return m.config === undefined ? { seed: m.seed } : { seed: m.seed, config: parseBackboneConfig(m.config) };
}

/**
 * The backbone as the rest of the program sees it: streams in, frames pushed, questions asked.
 * All inference runs in one worker thread (see backbone_worker.ts); this side only validates,
 * copies frame bytes into shared buffers, schedules, and settles promises.
 *
 * Scheduling, real-time: each stream has at most one frame waiting; a newer frame replaces it
 * (the older promise resolves with `superseded: true`, counted as dropped). Whenever the worker
 * is idle, every waiting frame goes in one batch (one run per graph for all of them). Questions
 * wait in order and alternate with frame batches, so neither starves the other; the waiting
 * questions (up to info.maxAskBatch) go as one batch whose greedy steps share each `decode` run.
 */
export class BackboneRuntime {
  readonly config: BackboneConfig;
  readonly info: RuntimeInfo;
  private readonly worker: Worker;
  private readonly maxStreams: number;
  private readonly maxImageBytes: number;
  private readonly streams = new Map<string, StreamEntry>();
  private readonly waiters = new Map<number, Waiter>();
  private readonly inFlightFrames = new Map<number, { entry: StreamEntry; frame: PendingFrame; dispatchedAt: number }>();
  /** Frames batch id → the ids of its frames, so a batch that fails as a whole settles every frame. */
  private readonly frameBatches = new Map<number, number[]>();
  private readonly askBatches = new Map<number, AskJob[]>();
  private readonly asks: AskJob[] = [];
  private readonly failureListeners: ((e: SpatialRewardError) => void)[] = [];
  private nextId = 1;
  private busy = false;
  /** Id of the frames batch or question batch the worker is on (-1: idle). */
  private currentJob = -1;
  private pumpScheduled = false;
  private lastWasFrames = false;
  private failure: SpatialRewardError | null = null;
  /** The failure, when it was one (the worker died or the runtime failed), not close(). */
  private workerFailure: SpatialRewardError | null = null;
  /** The worker thread has ended (a failure may leave it alive: then close() still asks it to release its sessions). */
  private workerExited = false;
  private closing = false;
  private readonly counters = {
    framesIn: 0, framesDone: 0, framesDropped: 0, framesFailed: 0, batches: 0,
    asks: 0, asksDone: 0, asksFailed: 0, askBatches: 0, decodeRuns: 0, readStateFailed: 0,
  };
  private readonly errors: Record<string, number> = {};

  private constructor(worker: Worker, config: BackboneConfig, info: RuntimeInfo, maxStreams: number, maxImageBytes: number) {
    this.worker = worker;
    this.config = config;
    this.info = info;
    this.maxStreams = maxStreams;
    this.maxImageBytes = maxImageBytes;
    worker.on("message", (m: FromWorker) => this.onMessage(m));
    worker.on("error", (e) => this.fail(new SpatialRewardError("internal", `backbone worker crashed: ${e.message}`)));
    worker.on("exit", (code) => {
      this.workerExited = true;
      if (!this.closing) this.fail(new SpatialRewardError("internal", `backbone worker exited (code ${code})`));
    });
  }

  /** Starts the worker, loads or builds the model there; rejects with the worker's typed error (ModelError keeps file and tensor). */
  static open(opts: OpenOptions): Promise<BackboneRuntime> {
    const maxStreams = opts.maxStreams;
    if (!Number.isInteger(maxStreams) || maxStreams < 1 || maxStreams > 1024) {
      return Promise.reject(new SpatialRewardError("bad_argument", `maxStreams must be an integer in [1, 1024], got ${maxStreams}`));
    }
    const intra = opts.intraOpThreads ?? 1;
    if (!Number.isInteger(intra) || intra < 1 || intra > 64) {
      return Promise.reject(new SpatialRewardError("bad_argument", `intraOpThreads must be an integer in [1, 64], got ${intra}`));
    }
    const nice = opts.niceness ?? 0;
    if (!Number.isInteger(nice) || nice < 0 || nice > 19) {
      return Promise.reject(new SpatialRewardError("bad_argument", `niceness must be an integer in [0, 19], got ${nice}`));
    }
    const maxImageBytes = opts.maxImageBytes ?? DEFAULT_MAX_IMAGE_BYTES;
    if (!Number.isInteger(maxImageBytes) || maxImageBytes < 1 || maxImageBytes > 2 ** 31) {
      return Promise.reject(new SpatialRewardError("bad_argument", `maxImageBytes must be an integer in [1, 2^31], got ${maxImageBytes}`));
    }
    let model: ModelSource;
    try {
      model = checkModelSource(opts.model);
    } catch (e) {
      return Promise.reject(asTyped(e));
    }
    const missing = missingInferenceBackend();
    if (missing) return Promise.reject(missing);
    const init: WorkerInit = {
      model,
      maxStreams,
      intraOpThreads: intra,
      coarseToFine: opts.coarseToFine ?? false,
      cpuMemArena: opts.cpuMemArena ?? true,
      warmup: opts.warmup ?? false,
      niceness: nice,
      testFaults: (opts as InternalOpenOptions)[FAULT_INJECTION] === true,
    };
    return new Promise((resolve, reject) => {
      let worker: Worker;
      try {
        worker = spawnWorker(init);
      } catch (e) {
        reject(new SpatialRewardError("internal", `backbone worker did not start: ${e instanceof Error ? e.message : String(e)}`));
        return;
      }
      const onError = (e: Error): void => {
        cleanup();
        reject(new SpatialRewardError("internal", `backbone worker crashed while loading: ${e.message}`));
      };
      const onExit = (code: number): void => {
        cleanup();
        reject(new SpatialRewardError("internal", `backbone worker exited while loading (code ${code})`));
      };
      const onMessage = (m: FromWorker): void => {
        if (m.type === "ready") {
          cleanup();
          resolve(new BackboneRuntime(worker, m.config, m.info, maxStreams, maxImageBytes));
        } else if (m.type === "initError") {
          cleanup();
          void worker.terminate();
          reject(fromWire(m.error));
        }
      };
      const cleanup = (): void => {
        worker.off("message", onMessage);
        worker.off("error", onError);
        worker.off("exit", onExit);
      };
      worker.on("message", onMessage);
      worker.on("error", onError);
      worker.on("exit", onExit);
    });
  }

  /**
   * `cb` is called once, with the typed error, when the worker dies or the runtime fails after
   * open (every pending and later call is then refused); never for close(). Registered after such
   * a failure, it is called on the next microtask.
   */
  onFailure(cb: (error: SpatialRewardError) => void): void {
    if (typeof cb !== "function") throw new SpatialRewardError("bad_argument", "onFailure takes a function");
    const failure = this.workerFailure;
    if (failure) queueMicrotask(() => cb(failure));
    else if (!this.failure) this.failureListeners.push(cb);
  }

  addStream(name: string): void {
    this.checkAlive();
    if (typeof name !== "string" || name.length === 0 || name.length > 256) throw new SpatialRewardError("bad_argument", "stream name must be a non-empty string of at most 256 characters");
    if (this.streams.has(name)) throw new SpatialRewardError("bad_argument", `stream "${name}" already exists`);
    if (this.streams.size >= this.maxStreams) throw new SpatialRewardError("bad_state", `the backbone holds at most ${this.maxStreams} streams`);
    this.streams.set(name, { name, buffer: null, halfBytes: 0, inFlight: -1, pending: null });
    this.post({ type: "add", id: this.track(), stream: name });
  }

  /** Frees the stream's slot (zeroed); a frame of it still waiting is resolved as superseded. */
  removeStream(name: string): void {
    this.checkAlive();
    const entry = this.streams.get(name);
    if (!entry) throw new SpatialRewardError("bad_state", `no stream "${name}"`);
    this.streams.delete(name);
    if (entry.pending) {
      this.counters.framesDropped++;
      entry.pending.resolve(supersededTiming(entry.pending));
      entry.pending = null;
    }
    this.post({ type: "remove", id: this.track(), stream: name });
  }

  /**
   * The question that guides coarse-to-fine for this stream's next frames (its mean token
   * embedding feeds `vision_c2f`'s keep score); null clears it. No effect without coarse-to-fine.
   * A question with no tokens ("") is no question: it clears, like null.
   * Bad arguments (and a failed or closed runtime) throw typed errors, like addStream, and are
   * counted in errors like pushFrame's and ask's refusals; a question the worker refuses (too many
   * tokens) is counted in errors and leaves the stream without a question. A call pending when
   * the runtime fails or closes is not counted again: the failure is counted once.
   */
  setQuestion(stream: string, question: string | null): void {
    let err: SpatialRewardError | null = this.failure;
    if (err) {
      // refused below
    } else if (!this.streams.has(stream)) err = new SpatialRewardError("bad_state", `no stream "${stream}"`);
    else if (question !== null && typeof question !== "string") err = new SpatialRewardError("bad_argument", "question must be a string or null");
    else if (question !== null && question.length > MAX_QUESTION_CHARS) err = new InvalidInputError("input_too_long", `question is ${question.length} characters, at most ${MAX_QUESTION_CHARS}`);
    if (err) {
      this.count(err.code);
      throw err;
    }
    const id = this.nextId++;
    this.waiters.set(id, {
      resolve: () => undefined,
      reject: (e) => {
        if (e !== this.failure) this.count(asTyped(e).code);
      },
    });
    this.post({ type: "setQuestion", id, stream, question });
  }

  /**
   * Copies the image into the stream's frame buffer and queues it; resolves when the frame's
   * tokens are in the stream state (or it was superseded). Never throws: bad images, unknown
   * streams, a failed runtime and allocation failures reject at once with a typed error, counted;
   * nothing reaches the worker.
   */
  pushFrame(stream: string, image: CameraImage): Promise<FrameTiming> {
    this.counters.framesIn++;
    try {
      if (this.failure) return this.refuseFrame(this.failure);
      const entry = this.streams.get(stream);
      if (!entry) return this.refuseFrame(new SpatialRewardError("bad_state", `no stream "${stream}"`));
      validateCameraImage(image);
      const length = image.data.byteLength;
      if (length > this.maxImageBytes) return this.refuseFrame(new InvalidInputError("bad_image_size", `frame of ${length} bytes is over the backbone's ${this.maxImageBytes} (maxImageBytes)`));
      const half: 0 | 1 = entry.inFlight === 0 ? 1 : 0;
      if (entry.buffer === null || entry.halfBytes < length) {
        // Grows only when a camera's frames get bigger; the half in flight keeps its old buffer
        // alive. Allocated before the entry changes: a failed allocation leaves it as it was.
        let grown: SharedArrayBuffer;
        try {
          grown = new SharedArrayBuffer(2 * length);
        } catch (e) {
          return this.refuseFrame(new InvalidInputError("bad_image_size", `no memory for a ${length}-byte frame buffer: ${e instanceof Error ? e.message : String(e)}`));
        }
        const old = entry.buffer;
        entry.buffer = grown;
        entry.halfBytes = length;
        if (old && entry.inFlight >= 0) entry.inFlight = -1; // the in-flight frame reads `old`, not this buffer
      }
      new Uint8Array(entry.buffer, half * entry.halfBytes, length).set(image.data);
      if (entry.pending) {
        this.counters.framesDropped++;
        entry.pending.resolve(supersededTiming(entry.pending));
        entry.pending = null;
      }
      return new Promise<FrameTiming>((resolve, reject) => {
        entry.pending = {
          id: this.nextId++,
          pushedAt: performance.now(),
          half,
          image: { length, width: image.width, height: image.height, encoding: image.encoding, step: image.step },
          resolve,
          reject,
        };
        this.schedulePump();
      });
    } catch (e) {
      return this.refuseFrame(e instanceof SpatialRewardError ? e : new SpatialRewardError("bad_argument", `frame refused: ${e instanceof Error ? e.message : String(e)}`));
    }
  }

  /**
   * A greedy answer from a fork of the stream's state; the stream's own state is untouched. With
   * a `reread_image` model the question is followed by the stream's latest frame's visual tokens
   * again (models/README.md), so a stream with no processed frame yet is refused (bad_state);
   * without it, such a stream is answered from its zero state, as it always was.
   * `firstLogits: true` also returns the first answer token's logits.
   */
  ask(stream: string, question: string, opts: { maxTokens?: number; firstLogits?: boolean } = {}): Promise<BackboneAnswerResult> {
    this.counters.asks++;
    let err: SpatialRewardError | null = this.failure;
    const maxTokens = opts?.maxTokens ?? 32;
    const firstLogits = opts?.firstLogits ?? false;
    if (err) {
      // refused below
    } else if (!this.streams.has(stream)) err = new SpatialRewardError("bad_state", `no stream "${stream}"`);
    else if (typeof question !== "string") err = new SpatialRewardError("bad_argument", "question must be a string");
    else if (question.length > MAX_QUESTION_CHARS) err = new InvalidInputError("input_too_long", `question is ${question.length} characters, at most ${MAX_QUESTION_CHARS}`);
    else if (!Number.isInteger(maxTokens) || maxTokens < 1 || maxTokens > 4096) err = new SpatialRewardError("bad_argument", `maxTokens must be an integer in [1, 4096], got ${maxTokens}`);
    else if (typeof firstLogits !== "boolean") err = new SpatialRewardError("bad_argument", "firstLogits must be true or false");
    if (err) {
      this.counters.asksFailed++;
      this.count(err.code);
      return Promise.reject(err);
    }
    return new Promise((resolve, reject) => {
      this.asks.push({ id: this.nextId++, stream, question, maxTokens, firstLogits, resolve, reject });
      this.schedulePump();
    });
  }

  /**
   * A copy of a stream's state as the worker holds it when this call reaches it: every frame
   * already handed to the worker is in it, a frame still waiting to be dispatched is not (frames
   * go to the worker on the next event-loop turn, or after the running batch). To read a state
   * that includes a frame, await that frame's pushFrame first. For tests and diagnostics. With a
   * `reread_image` model, `visual` [n, d_model] is what the stream's next question rereads: the
   * rows its latest frame prefilled (empty before the first frame).
   */
  readState(stream: string): Promise<{ conv: Float32Array; ssm: Float32Array; visual?: Float32Array }> {
    if (this.failure) {
      this.counters.readStateFailed++;
      this.count(this.failure.code);
      return Promise.reject(this.failure);
    }
    const id = this.nextId++;
    const p = new Promise<unknown>((resolve, reject) =>
      this.waiters.set(id, {
        resolve,
        reject: (e) => {
          this.counters.readStateFailed++;
          // The runtime's failure (or close) is counted once, by fail(), not per call it takes down.
          if (e !== this.failure) this.count(asTyped(e).code);
          reject(e);
        },
      }),
    );
    this.post({ type: "readState", id, stream });
    return p as Promise<{ conv: Float32Array; ssm: Float32Array; visual?: Float32Array }>;
  }

  /** Test only, through nodes/backbone/testing.ts (the runtime must be opened with the hook on): the worker's next run(s) of a graph throw. */
  [FAULT_INJECTION](fault: WorkerFault): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.nextId++;
    const p = new Promise<unknown>((resolve, reject) => this.waiters.set(id, { resolve, reject }));
    this.post({ type: "fault", id, fault });
    return p.then(() => undefined);
  }

  stats(): RuntimeStats {
    let frameBufferBytes = 0;
    let pending = 0;
    for (const e of this.streams.values()) {
      frameBufferBytes += e.buffer?.byteLength ?? 0;
      if (e.pending) pending++;
    }
    let asking = this.asks.length;
    for (const b of this.askBatches.values()) asking += b.length;
    return {
      ...this.counters,
      framesInFlight: pending + this.inFlightFrames.size,
      asksInFlight: asking,
      errors: { ...this.errors },
      failed: this.failure !== null,
      streams: this.streams.size,
      frameBufferBytes,
    };
  }

  /**
   * Stops the worker: whatever is still queued rejects with bad_state; the worker releases its
   * onnxruntime sessions (after the job it is on) and ends; a worker that does not answer within
   * CLOSE_TIMEOUT_MS is terminated.
   */
  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    // After a failure that was not the worker's death (e.g. a refused stream change) the worker is
    // still running and holds its sessions: it is asked to release them like a healthy one.
    const alive = !this.workerExited;
    this.fail(new SpatialRewardError("bad_state", "backbone runtime is closed"), false);
    if (alive) {
      // The worker releases its sessions after the job it is on, answers, closes its port and
      // ends by itself (exit code 0); terminate() is only the fallback for a hung worker.
      let timer: NodeJS.Timeout | undefined;
      const exited = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, CLOSE_TIMEOUT_MS);
        this.worker.once("exit", () => resolve());
      });
      this.post({ type: "close", id: this.nextId++ });
      await exited;
      clearTimeout(timer);
    }
    await this.worker.terminate();
  }

  // ---- internals ----

  private refuseFrame(e: SpatialRewardError): Promise<FrameTiming> {
    this.counters.framesFailed++;
    this.count(e.code);
    return Promise.reject(e);
  }

  private count(code: string): void {
    this.errors[code] = (this.errors[code] ?? 0) + 1;
  }

  private checkAlive(): void {
    if (this.failure) throw this.failure;
  }

  private track(): number {
    const id = this.nextId++;
    // Stream add/remove failures in the worker mean the two sides disagree: a bug, reported by failing the runtime.
    this.waiters.set(id, {
      resolve: () => undefined,
      reject: (e) => this.fail(new SpatialRewardError("internal", `backbone worker refused a stream change: ${e.message}`)),
    });
    return id;
  }

  private post(m: ToWorker): void {
    this.worker.postMessage(m);
  }

  /**
   * Dispatch waits for the end of the current event-loop turn (setImmediate, after every
   * microtask): frames pushed in the same turn, e.g. by every stream's loop resuming when a batch
   * settles, then go as one batch instead of the first alone and the rest after it.
   */
  private schedulePump(): void {
    if (this.pumpScheduled) return;
    this.pumpScheduled = true;
    setImmediate(() => {
      this.pumpScheduled = false;
      this.pump();
    });
  }

  private pump(): void {
    if (this.busy || this.failure) return;
    let framesWaiting = false;
    for (const e of this.streams.values()) if (e.pending !== null) framesWaiting = true;
    if (this.asks.length > 0 && (this.lastWasFrames || !framesWaiting)) {
      const jobs = this.asks.splice(0, this.info.maxAskBatch);
      const id = this.nextId++;
      this.busy = true;
      this.lastWasFrames = false;
      this.counters.askBatches++;
      this.askBatches.set(id, jobs);
      this.currentJob = id;
      const items: AskItem[] = jobs.map((j) => ({ id: j.id, stream: j.stream, question: j.question, maxTokens: j.maxTokens, ...(j.firstLogits ? { firstLogits: true } : {}) }));
      this.post({ type: "asks", id, items });
      return;
    }
    if (!framesWaiting) return;
    const items: FrameItem[] = [];
    const ids: number[] = [];
    const t = performance.now();
    for (const entry of this.streams.values()) {
      const f = entry.pending;
      if (!f || !entry.buffer) continue;
      entry.pending = null;
      entry.inFlight = f.half;
      this.inFlightFrames.set(f.id, { entry, frame: f, dispatchedAt: t });
      ids.push(f.id);
      items.push({ id: f.id, stream: entry.name, buffer: entry.buffer, offset: f.half * entry.halfBytes, ...f.image });
    }
    this.busy = true;
    this.lastWasFrames = true;
    this.counters.batches++;
    this.currentJob = this.nextId++;
    this.frameBatches.set(this.currentJob, ids);
    this.post({ type: "frames", id: this.currentJob, items });
  }

  private onMessage(m: FromWorker): void {
    if (m.type === "frames") {
      this.frameBatches.delete(m.id);
      for (const r of m.results) this.settleFrame(r);
    } else if (m.type === "asks") {
      this.counters.decodeRuns += m.decodeRuns;
      const jobs = this.askBatches.get(m.id);
      this.askBatches.delete(m.id);
      if (jobs) {
        const byId = new Map<number, AskItemResult>();
        for (const r of m.results) byId.set(r.id, r);
        for (const j of jobs) this.settleAsk(j, byId.get(j.id));
      }
    } else if (m.type === "done" || m.type === "failed") {
      const frames = this.frameBatches.get(m.id);
      const jobs = this.askBatches.get(m.id);
      const w = this.waiters.get(m.id);
      if (frames && m.type === "failed") {
        // The worker's job threw outside Engine.frames' own handling (a run that throws is settled
        // per member there, keeping earlier per-frame errors): a bug, so every frame of it fails.
        this.frameBatches.delete(m.id);
        const e = fromWire(m.error);
        for (const id of frames) this.settleFrame({ id, ok: false, error: m.error, preprocessMs: 0, encodeMs: 0, projectMs: 0, prefillMs: 0, totalMs: 0, visualTokens: 0, keptFraction: 0, batch: 0, progress: NaN }, e);
      } else if (jobs && m.type === "failed") {
        this.askBatches.delete(m.id);
        for (const j of jobs) this.settleAsk(j, { id: j.id, ok: false, error: m.error });
      } else if (w) {
        this.waiters.delete(m.id);
        if (m.type === "done") w.resolve(m.result);
        else w.reject(fromWire(m.error));
      }
    }
    if ((m.type === "frames" || m.type === "asks" || m.type === "done" || m.type === "failed") && m.id === this.currentJob) {
      this.currentJob = -1;
      this.busy = false;
      this.schedulePump();
    }
  }

  private settleAsk(j: AskJob, r: AskItemResult | undefined): void {
    if (r?.ok) {
      this.counters.asksDone++;
      const a = r.result;
      j.resolve({ text: a.text, tokenIds: a.tokenIds, prefillMs: a.prefillMs, tokenMs: a.tokenMs, trained: this.config.trained, batch: a.batch, ...(a.firstLogits ? { firstLogits: a.firstLogits } : {}) });
      return;
    }
    const e = fromWire(r?.error ?? { kind: "Error", code: "internal", message: "question finished without a result" });
    this.counters.asksFailed++;
    this.count(e.code);
    j.reject(e);
  }

  private settleFrame(r: FrameResult, typed?: SpatialRewardError): void {
    const f = this.inFlightFrames.get(r.id);
    if (!f) return;
    this.inFlightFrames.delete(r.id);
    if (f.entry.inFlight === f.frame.half) f.entry.inFlight = -1;
    if (r.ok) {
      this.counters.framesDone++;
      f.frame.resolve({
        encodeMs: r.preprocessMs + r.encodeMs,
        preprocessMs: r.preprocessMs,
        projectMs: r.projectMs,
        prefillMs: r.prefillMs,
        totalMs: r.totalMs,
        visualTokens: r.visualTokens,
        keptFraction: r.keptFraction,
        queueMs: f.dispatchedAt - f.frame.pushedAt,
        batch: r.batch,
        superseded: false,
        progress: r.progress,
      });
    } else {
      this.counters.framesFailed++;
      const e = typed ?? fromWire(r.error ?? { kind: "Error", code: "internal", message: "frame failed without an error" });
      this.count(e.code);
      f.frame.reject(e);
    }
  }

  /** Rejects everything pending and refuses every later call; a runtime never hangs on a dead worker. */
  private fail(e: SpatialRewardError, countIt = true): void {
    if (this.failure) return;
    this.failure = e;
    if (countIt) this.count(e.code);
    const waiters = [...this.waiters.values()];
    this.waiters.clear();
    for (const w of waiters) w.reject(e);
    for (const f of this.inFlightFrames.values()) {
      this.counters.framesFailed++;
      f.frame.reject(e);
    }
    this.inFlightFrames.clear();
    this.frameBatches.clear();
    for (const s of this.streams.values()) {
      s.inFlight = -1;
      if (s.pending) {
        this.counters.framesFailed++;
        s.pending.reject(e);
        s.pending = null;
      }
    }
    const jobs = this.asks.splice(0);
    for (const b of this.askBatches.values()) jobs.push(...b);
    this.askBatches.clear();
    for (const a of jobs) {
      this.counters.asksFailed++;
      a.reject(e);
    }
    this.busy = false;
    this.currentJob = -1;
    if (countIt) {
      this.workerFailure = e;
      const listeners = this.failureListeners.splice(0);
      for (const cb of listeners) {
        try {
          cb(e);
        } catch {
          // a listener's own bug must not stop the others from hearing of the failure
        }
      }
    } else this.failureListeners.length = 0;
  }
}

function supersededTiming(f: PendingFrame): FrameTiming {
  return {
    encodeMs: 0, preprocessMs: 0, projectMs: 0, prefillMs: 0, totalMs: 0, visualTokens: 0, keptFraction: 0,
    queueMs: performance.now() - f.pushedAt, batch: 0, superseded: true, progress: NaN,
  };
}

export type { GraphInfo as BackboneGraphInfo };
