import { InvalidInputError, ModelError, SpatialRewardError } from "../../src/errors.js";
import type { BackboneConfig } from "../../src/backbone/config.js";

/**
 * The messages between BackboneRuntime (main thread) and the backbone worker, and how an error
 * crosses the thread boundary. The main side imports only types from here (plus nothing that
 * loads onnxruntime).
 */

export type ModelSource = { dir: string } | { seed: number; config?: BackboneConfig };

export interface WorkerInit {
  readonly model: ModelSource;
  readonly maxStreams: number;
  readonly intraOpThreads: number;
  readonly coarseToFine: boolean;
  /** onnxruntime's CPU memory arena (default on); see BackboneRuntime.open. */
  readonly cpuMemArena: boolean;
  /** Run every graph once at the largest batch before `ready` (memory at its high-water mark). */
  readonly warmup: boolean;
  /** Nice value added to this thread (and the onnxruntime threads it creates); 0 leaves it. */
  readonly niceness: number;
  /** Test-only: the worker accepts `fault` messages (nodes/backbone/testing.ts). */
  readonly testFaults: boolean;
}

/** Most questions decoded together in one batch (each takes two scratch slots: fork and ping-pong). */
export const MAX_ASK_BATCH = 4;

export interface GraphInfo {
  readonly name: string;
  readonly inputs: string[];
  readonly outputs: string[];
}

export interface RuntimeInfo {
  readonly parameters: number;
  readonly stateBytesPerStream: number;
  readonly graphs: GraphInfo[];
  /** Bytes reserved for all slots (streams + scratch), committed only as slots are touched. */
  readonly arenaReservedBytes: number;
  /**
   * reread_image: bytes each stream slot keeps for its latest frame's visual tokens,
   * (visualTokens + 1) · d_model · 4, reserved for every slot at open (0 without reread_image).
   */
  readonly rereadBytesPerStream: number;
  readonly trained: boolean;
  /** Most questions whose decode steps share one `decode` run. */
  readonly maxAskBatch: number;
}

/** An error as it crosses the thread boundary (class, code and ModelError's file/tensor kept). */
export interface WireError {
  readonly kind: "ModelError" | "InvalidInputError" | "SpatialRewardError" | "Error";
  readonly code: string;
  readonly message: string;
  readonly file?: string;
  readonly tensor?: string;
}

export interface FrameItem {
  readonly id: number;
  readonly stream: string;
  /** The stream's frame buffer; bytes [offset, offset + length) hold this frame. */
  readonly buffer: SharedArrayBuffer;
  readonly offset: number;
  readonly length: number;
  readonly width: number;
  readonly height: number;
  readonly encoding: string;
  readonly step: number;
}

export interface FrameResult {
  readonly id: number;
  readonly ok: boolean;
  readonly error?: WireError;
  readonly preprocessMs: number;
  readonly encodeMs: number;
  readonly projectMs: number;
  readonly prefillMs: number;
  readonly totalMs: number;
  /** This member's visual tokens (coarse-to-fine: its non-empty cells plus the merge token). */
  readonly visualTokens: number;
  readonly keptFraction: number;
  readonly batch: number;
  /** The progress head's output for this frame (NaN when the model has none, or the frame failed). */
  readonly progress: number;
}

export interface AskItem {
  readonly id: number;
  readonly stream: string;
  readonly question: string;
  readonly maxTokens: number;
  /** Return the logits the first answer token was chosen from (parity tests, diagnostics). */
  readonly firstLogits?: boolean;
}

export interface AskResult {
  readonly tokenIds: number[];
  readonly text: string;
  /** Rows prefilled before the answer: BOS + question + "\n", with reread_image also the frame's visual tokens. */
  readonly promptTokens: number;
  readonly prefillMs: number;
  readonly tokenMs: number;
  /** Questions decoded together in this one's batch (1 = alone). */
  readonly batch: number;
  /** [vocab] the first answer token's logits, only when the item asked for them. */
  readonly firstLogits?: Float32Array;
}

export type AskItemResult = { readonly id: number; readonly ok: true; readonly result: AskResult } | { readonly id: number; readonly ok: false; readonly error: WireError };

/**
 * Test-only faults: the next `count` runs of `graph` (after `skip` more runs of it succeed)
 * throw as a failing `session.run` would. Accepted only when the runtime was opened with the
 * test-only hook (openWithFaultInjectionForTesting in nodes/backbone/testing.ts).
 */
export interface WorkerFault {
  readonly graph: "vision_projector" | "vision_c2f" | "mamba_prefill" | "decode";
  readonly skip?: number;
  readonly count?: number;
}

export type ToWorker =
  | { type: "add"; id: number; stream: string }
  | { type: "remove"; id: number; stream: string }
  | { type: "frames"; id: number; items: FrameItem[] }
  | { type: "asks"; id: number; items: AskItem[] }
  | { type: "setQuestion"; id: number; stream: string; question: string | null }
  | { type: "readState"; id: number; stream: string }
  | { type: "fault"; id: number; fault: WorkerFault }
  | { type: "close"; id: number };

export type FromWorker =
  | { type: "ready"; config: BackboneConfig; info: RuntimeInfo }
  | { type: "initError"; error: WireError }
  | { type: "done"; id: number; result: unknown }
  | { type: "frames"; id: number; results: FrameResult[] }
  | { type: "asks"; id: number; results: AskItemResult[]; decodeRuns: number }
  | { type: "failed"; id: number; error: WireError };

export function toWire(e: unknown): WireError {
  if (e instanceof ModelError) {
    return { kind: "ModelError", code: e.code, message: e.message, file: e.file, ...(e.tensor !== undefined ? { tensor: e.tensor } : {}) };
  }
  if (e instanceof InvalidInputError) return { kind: "InvalidInputError", code: e.code, message: e.message };
  if (e instanceof SpatialRewardError) return { kind: "SpatialRewardError", code: e.code, message: e.message };
  const message = e instanceof Error ? e.message : String(e);
  return { kind: "Error", code: "internal", message };
}
