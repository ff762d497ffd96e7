import { spawn } from "node:child_process";
import { fileURLToPath, pathToFileURL } from "node:url";
import v8 from "node:v8";
import vm from "node:vm";
import { BackboneRuntime, type CameraImage, type FrameTiming } from "../../nodes/backbone/backbone_runtime.js";
import { backboneSizes, TINY_CONFIG, type BackboneConfig } from "../../src/backbone/config.js";
import { StateArena } from "../../src/backbone/state_arena.js";
import { mulberry32 } from "../../src/random/mulberry32.js";
import { anonymousWritable, PAGE, ProcessPages } from "./process_pages.js";

/**
 * Streams through the backbone runtime (worker thread, state arena, batching), with the tiny
 * default model's seeded-random weights:
 *
 * - `frame_ms`: one stream, one ORT thread, frames pushed one after another; a frame is
 *   preprocess + `vision_projector` (one fused run; `projector` stage is 0) + `mamba_prefill` of its visual tokens into the stream
 *   state, timed in the worker (`totalMs`). Images are 224x224 rgb8 (the model size: resizing is
 *   then a copy); a 640x480 camera's figure, whose antialiased resize runs in JS, is reported beside.
 * - `answer_token_ms`: greedy `decode` runs per generated token (32 max) on a fork of the stream
 *   state, after 1 frame and after many frames: the state is the same size, so is the cost.
 * - `answer_token_ms_concurrent`: one question alone vs four asked at once (one `decode` run per
 *   token for all four), interleaved rounds: the run's time and the time per answer token.
 * - `streams`: n = 1, 4, 16 streams, each pushing its next frame as soon as the previous
 *   resolves, for a few seconds, on two cores used two ways: two runtimes (two worker threads,
 *   one ORT thread each, streams split between them; `streams`) and one worker with two ORT
 *   intra-op threads (`streams_one_worker`). Batching does not cut the per-frame cost here (the
 *   prefill's per-token state update scales with the batch), and ORT's pool splits the small ops
 *   of these graphs poorly, so two independent workers are the configuration that can use two
 *   cores; it costs a second copy of the weights and sessions. fps counts frames whose tokens
 *   reached their state; rss_mb is the process's RSS at the end of the run (earlier runs' freed
 *   memory may still be counted: glibc keeps some).
 * - `memory`: in a fresh child process that runs nothing else (earlier benchmarks' freed memory
 *   and heap growth stay out), streams are added in stages (default 7 x 100, 224x224 rgb8 frames,
 *   batch 1, ORT's CPU arena off) and three things are sampled per stage: the process's RSS
 *   (what users see; per stream = the median of the stages' growth per added stream, spread
 *   reported), the resident pages of the state arena's own address range (found by slot 0's
 *   content, read from /proc/self/pagemap: must grow by state_bytes_per_stream per stream), and
 *   the resident pages of each stream's frame buffer (one SharedArrayBuffer, two halves of
 *   w x h x 3, located by a marker written into both halves). Frame buffers come from malloc: an
 *   mmap of their own only while glibc's mmap threshold is below their size (the threshold rises
 *   to the largest mmap'd block freed, e.g. onnxruntime's or V8's activations), otherwise a heap
 *   chunk; both are found and their pages counted once each. Found when the run used to share
 *   the process with the earlier benchmarks and fit a slope over 4 stages: 0.86 to 2.0 of
 *   expected from run to run, single stages 60k to 991k bytes per stream.
 * - `arena_commit`: a StateArena reserved for 1024 streams commits nothing until slots are touched.
 */

export interface StreamBenchOptions {
  readonly config?: BackboneConfig;
  readonly seed?: number;
  readonly frames?: number;
  readonly answers?: number;
  readonly streams?: readonly number[];
  readonly seconds?: number;
  readonly memoryMaxStreams?: number;
  readonly memoryStep?: number;
  readonly memoryStages?: number;
  /** Camera size for the memory run (frame buffers are 2 x width x height x 3 bytes per stream). */
  readonly memoryImage?: { width: number; height: number };
  readonly onProgress?: (what: string) => void;
  /** onnxruntime's CPU memory arena in the memory run (default false; see the module comment). */
  readonly memoryCpuArena?: boolean;
}

export interface Percentiles {
  p50: number;
  p99: number;
}

export interface StreamRun {
  n: number;
  fps: number;
  rss_mb: number;
  workers: number;
  threads: number;
  mean_batch: number;
  /** Worker time of a batch (all its frames). */
  batch_ms_p50: number;
  dropped: number;
}

export interface StreamBenchResult {
  model: string;
  state_bytes_per_stream: number;
  frame_ms: Percentiles;
  frame_stage_ms_p50: { preprocess: number; vision: number; projector: number; prefill: number };
  frame_end_to_end_ms: Percentiles;
  frame_ms_640x480: Percentiles;
  answer_token_ms: number;
  answer_token_ms_after_frames: { frames: number; token_ms: number };
  answer_prefill_ms: number;
  answer_tokens_mean: number;
  answer_token_ms_concurrent: { run_ms_1: number; run_ms_4: number; per_answer_token_ms_4: number };
  /** Two cores as two workers (one ORT thread each), streams split between them. */
  streams: StreamRun[];
  /** Two cores as one worker with two ORT intra-op threads. */
  streams_one_worker: StreamRun[];
  /** Measured in a child process of its own: see memoryRun. */
  memory: MemoryResult;
  arena_commit: { reserved_bytes: number; rss_delta_reserve_bytes: number; touched_slots: number; rss_delta_touch_bytes: number; touched_bytes: number };
  goals: { frame_p50_le_10ms: boolean; answer_token_le_1ms: boolean; rss_per_stream_within_10pct: boolean };
}

function image(seed: number, width: number, height: number): CameraImage {
  const r = mulberry32(seed);
  const data = new Uint8Array(width * height * 3);
  for (let i = 0; i < data.length; i++) data[i] = Math.floor(r() * 256);
  return { width, height, encoding: "rgb8", step: width * 3, data };
}

function pct(xs: readonly number[], p: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(p * s.length))];
}

const r3 = (x: number): number => Math.round(x * 1000) / 1000;
const immediate = (): Promise<void> => new Promise((r) => setImmediate(r));

function slope(xs: number[], ys: number[]): number {
  const n = xs.length;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let num = 0, den = 0;
  for (let i = 0; i < n; i++) {
    num += (xs[i] - mx) * (ys[i] - my);
    den += (xs[i] - mx) ** 2;
  }
  return num / den;
}

async function oneStream(config: BackboneConfig, seed: number, frames: number, answers: number, progress: (w: string) => void) {
  const rt = await BackboneRuntime.open({ model: { seed, config }, maxStreams: 4, intraOpThreads: 1 }); // 4: the concurrent-answers run adds three streams;
  try {
    rt.addStream("cam");
    const imgs = [0, 1, 2, 3].map((i) => image(seed + i, config.image_size, config.image_size));
    for (let i = 0; i < 10; i++) await rt.pushFrame("cam", imgs[i % 4]);
    progress("frames 224x224");
    const timings: FrameTiming[] = [];
    const e2e: number[] = [];
    for (let i = 0; i < frames; i++) {
      const t0 = performance.now();
      timings.push(await rt.pushFrame("cam", imgs[i % 4]));
      e2e.push(performance.now() - t0);
    }
    const tokenMs: number[] = [];
    const prefillMs: number[] = [];
    let tokens = 0;
    progress("answers");
    const q = ["how far is the red mug from the bowl?", "is the cup left of the plate?", "what is on the table?"];
    for (let i = 0; i < answers; i++) {
      const a = await rt.ask("cam", q[i % q.length], { maxTokens: 32 });
      if (a.tokenIds.length > 1) tokenMs.push(a.tokenMs);
      prefillMs.push(a.prefillMs);
      tokens += a.tokenIds.length;
    }
    // Hundreds more frames into the same state, then the same questions: per-token cost must not grow.
    const more = 3 * frames;
    for (let i = 0; i < more; i++) await rt.pushFrame("cam", imgs[i % 4]);
    const tokenMsLate: number[] = [];
    for (let i = 0; i < answers; i++) {
      const a = await rt.ask("cam", q[i % q.length], { maxTokens: 32 });
      if (a.tokenIds.length > 1) tokenMsLate.push(a.tokenMs);
    }
    progress("concurrent answers");
    const concurrent = await concurrentAnswers(rt, imgs, q, answers);
    progress("frames 640x480");
    const cams = [0, 1].map((i) => image(seed + 10 + i, 640, 480));
    const big: number[] = [];
    for (let i = 0; i < 5; i++) await rt.pushFrame("cam", cams[i % 2]);
    for (let i = 0; i < Math.max(20, frames / 2); i++) big.push((await rt.pushFrame("cam", cams[i % 2])).totalMs);
    return {
      frame_ms: { p50: r3(pct(timings.map((t) => t.totalMs), 0.5)), p99: r3(pct(timings.map((t) => t.totalMs), 0.99)) },
      frame_stage_ms_p50: {
        preprocess: r3(pct(timings.map((t) => t.preprocessMs), 0.5)),
        vision: r3(pct(timings.map((t) => t.encodeMs - t.preprocessMs), 0.5)),
        projector: r3(pct(timings.map((t) => t.projectMs), 0.5)),
        prefill: r3(pct(timings.map((t) => t.prefillMs), 0.5)),
      },
      frame_end_to_end_ms: { p50: r3(pct(e2e, 0.5)), p99: r3(pct(e2e, 0.99)) },
      frame_ms_640x480: { p50: r3(pct(big, 0.5)), p99: r3(pct(big, 0.99)) },
      answer_token_ms: r3(pct(tokenMs, 0.5)),
      answer_token_ms_after_frames: { frames: 10 + frames + more, token_ms: r3(pct(tokenMsLate, 0.5)) },
      answer_prefill_ms: r3(pct(prefillMs, 0.5)),
      answer_tokens_mean: r3(tokens / answers),
      answer_token_ms_concurrent: concurrent,
    };
  } finally {
    await rt.close();
  }
}

/** One question alone vs four at once on four streams of the same runtime, interleaved rounds (medians). */
async function concurrentAnswers(rt: BackboneRuntime, imgs: CameraImage[], q: string[], rounds: number) {
  const names = ["cam", "ask1", "ask2", "ask3"];
  for (let i = 1; i < 4; i++) {
    rt.addStream(names[i]);
    await rt.pushFrame(names[i], imgs[i % imgs.length]);
  }
  const one: number[] = [], four: number[] = [], perToken: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const a = await rt.ask("cam", q[r % q.length], { maxTokens: 32 });
    if (a.tokenIds.length > 1) one.push(a.tokenMs);
    const runs0 = rt.stats().decodeRuns;
    const all = await Promise.all(names.map((n, i) => rt.ask(n, q[(r + i) % q.length], { maxTokens: 32 })));
    const runMs = pct(all.filter((x) => x.tokenIds.length > 1).map((x) => x.tokenMs), 0.5);
    if (Number.isFinite(runMs)) {
      four.push(runMs);
      perToken.push((runMs * (rt.stats().decodeRuns - runs0)) / all.reduce((n, x) => n + x.tokenIds.length, 0));
    }
  }
  for (let i = 1; i < 4; i++) rt.removeStream(names[i]);
  return { run_ms_1: r3(pct(one, 0.5)), run_ms_4: r3(pct(four, 0.5)), per_answer_token_ms_4: r3(pct(perToken, 0.5)) };
}

async function streamRun(config: BackboneConfig, seed: number, n: number, seconds: number, workers: number, threads: number): Promise<StreamRun> {
  // Streams are split across `workers` runtimes (one worker thread each) in this process.
  const per = Math.ceil(n / workers);
  const rts: BackboneRuntime[] = [];
  try {
    for (let w = 0; w < workers; w++) rts.push(await BackboneRuntime.open({ model: { seed, config }, maxStreams: per, intraOpThreads: threads }));
    const imgs = Array.from({ length: n }, (_, i) => image(seed + 100 + i, config.image_size, config.image_size));
    const rtOf = (i: number): BackboneRuntime => rts[i % workers];
    for (let i = 0; i < n; i++) rtOf(i).addStream(`cam${i}`);
    // Warm the batch sizes the run meets, outside the window.
    for (let r = 0; r < 2; r++) await Promise.all(imgs.map((img, i) => rtOf(i).pushFrame(`cam${i}`, img)));
    let stop = false;
    let done = 0;
    let batchSum = 0;
    const ms: number[] = [];
    const loop = async (i: number): Promise<void> => {
      while (!stop) {
        const t = await rtOf(i).pushFrame(`cam${i}`, imgs[i]);
        if (!t.superseded && !stop) {
          done++;
          batchSum += t.batch;
          ms.push(t.totalMs);
        }
      }
    };
    const dropped0 = rts.reduce((a, rt) => a + rt.stats().framesDropped, 0);
    const t0 = performance.now();
    const loops = imgs.map((_, i) => loop(i));
    await new Promise((r) => setTimeout(r, seconds * 1000));
    stop = true;
    const elapsed = (performance.now() - t0) / 1000;
    await Promise.all(loops);
    const rss = process.memoryUsage().rss;
    return {
      n,
      fps: Math.round((10 * done) / elapsed) / 10,
      rss_mb: Math.round(rss / 1e5) / 10,
      workers,
      threads,
      mean_batch: r3(batchSum / Math.max(1, done)),
      batch_ms_p50: r3(pct(ms, 0.5)),
      dropped: rts.reduce((a, rt) => a + rt.stats().framesDropped, 0) - dropped0,
    };
  } finally {
    for (const rt of rts) await rt.close();
  }
}

/** Median of the per-stage figures; for an even count, the mean of the middle two. */
function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

interface MemoryRunOptions {
  config: BackboneConfig;
  seed: number;
  maxStreams: number;
  step: number;
  stages: number;
  cam: { width: number; height: number };
  cpuMemArena: boolean;
}

/** Where the arena's slot 0 lies: its conv state found by content, checked against its SSM state where the layout puts it. */
async function locateArena(rt: BackboneRuntime, pages: ProcessPages, stream: string, reserved: number, convBytes: number, slots: number): Promise<number> {
  const st = await rt.readState(stream);
  const conv = new Uint8Array(st.conv.buffer, st.conv.byteOffset, Math.min(256, st.conv.byteLength));
  const ssm = new Uint8Array(st.ssm.buffer, st.ssm.byteOffset, Math.min(256, st.ssm.byteLength));
  if (conv.every((b) => b === 0) || ssm.every((b) => b === 0)) throw new Error(`memory run: stream ${stream} has an all-zero state; cannot locate the arena by content`);
  const big = anonymousWritable().filter((v) => v.end - v.start >= reserved);
  const probe = Buffer.alloc(ssm.length);
  for (const at of pages.findBytes(big, conv)) {
    const ssmAt = at + slots * convBytes;
    if (pages.read(ssmAt, probe) === probe.length && probe.equals(ssm)) return at;
  }
  throw new Error("memory run: the state arena was not found in this process's memory (slot 0's conv and SSM states at their layout offsets)");
}

/**
 * Run in a fresh process by memoryInChild: only this, after nothing else, so earlier benchmarks'
 * freed memory and heap growth are not in the figures. Streams are added in stages; at each stage
 * it samples (after a main-isolate GC) the process's RSS, the resident pages of the state arena's
 * exact address range, and those of every stream's frame buffer (a SharedArrayBuffer found by a
 * marker the bench writes at the start of both halves).
 */
async function memoryRun(o: MemoryRunOptions, progress: (w: string) => void) {
  v8.setFlagsFromString("--expose-gc");
  const gc = vm.runInNewContext("gc") as () => void;
  const { cam } = o;
  const rt = await BackboneRuntime.open({ model: { seed: o.seed, config: o.config }, maxStreams: o.maxStreams, intraOpThreads: 1, cpuMemArena: o.cpuMemArena });
  const pages = new ProcessPages();
  try {
    const sizes = backboneSizes(rt.config);
    const stateBytes = rt.info.stateBytesPerStream;
    const reserved = rt.info.arenaReservedBytes;
    const convBytes = 4 * sizes.convStateFloats;
    const slots = reserved / stateBytes;
    const img = image(o.seed + 7, cam.width, cam.height);
    const length = img.data.byteLength;
    // Steady heaps (JS in both threads, onnxruntime's at batch 1) before the first sample; warm0's
    // own image makes its state (slot 0) unlike the other streams', so its content finds the arena.
    rt.addStream("warm0");
    const warmImg = image(o.seed + 8, cam.width, cam.height);
    for (let i = 0; i < 200; i++) await rt.pushFrame("warm0", warmImg);
    // Finding the arena by content can fail (e.g. when it straddles two mappings); the process
    // RSS figure does not depend on it, so the run goes on and says why the arena figure is missing.
    let arenaBase: number | null = null;
    let arenaLocateError: string | null = null;
    try {
      arenaBase = await locateArena(rt, pages, "warm0", reserved, convBytes, slots);
    } catch (e) {
      arenaLocateError = e instanceof Error ? e.message : String(e);
    }
    const live: string[] = ["warm0"];
    const round = async (): Promise<void> => {
      for (const s of live.slice(0, 40)) await rt.pushFrame(s, img);
    };
    const fbStart = new Map<number, number>();
    const MAGIC = 0x5352464e;
    const marker = (k: number): bigint => (BigInt(MAGIC) << 32n) | BigInt(k);
    const stages: { streams: number; rss_bytes: number; arena_rss_bytes: number; frame_buffer_rss_bytes: number; frame_buffers_found: number }[] = [];
    let control = 0;
    let added = 0;
    for (let k = 0; k <= o.stages; k++) {
      if (k > 0) {
        const wanted = new Map<bigint, number>();
        for (let i = 0; i < o.step; i++) {
          const id = added++;
          const name = `s${id}`;
          rt.addStream(name);
          live.push(name);
          // The stream's marker in the first 8 bytes of both halves (pushFrame copies at once).
          // Two frames with the first in flight when the second is copied: both halves written, as in steady streaming.
          new DataView(img.data.buffer, img.data.byteOffset).setBigUint64(0, marker(id), true);
          wanted.set(marker(id), id);
          // If the first was superseded before it ran (the worker was busy), the second went to
          // the same half: again until the first was in flight.
          for (let attempt = 0; attempt < 10; attempt++) {
            const first = rt.pushFrame(name, img);
            await immediate();
            const [t] = await Promise.all([first, rt.pushFrame(name, img)]);
            if (!t.superseded) break;
          }
        }
        const check = Buffer.alloc(8);
        for (const [id, hits] of pages.findMarkers(anonymousWritable(), wanted, MAGIC)) {
          // Half 1 carries the same marker: the stream's buffer, not the bench's image (the last stream's marker is in it too).
          for (const at of hits) if (pages.read(at + length, check) === 8 && check.readBigUInt64LE(0) === marker(id)) fbStart.set(id, at);
        }
      }
      for (let i = 0; i < 2; i++) await round();
      gc();
      const a = process.memoryUsage().rss;
      for (let i = 0; i < 2; i++) await round();
      gc();
      const b = process.memoryUsage().rss;
      control = Math.max(control, Math.abs(b - a));
      const fb = pages.residentBytesOfRanges([...fbStart.values()].map((at) => [at, at + 2 * length] as const));
      stages.push({ streams: live.length - 1, rss_bytes: b, arena_rss_bytes: arenaBase === null ? NaN : pages.residentBytes(arenaBase, arenaBase + reserved), frame_buffer_rss_bytes: fb, frame_buffers_found: fbStart.size });
      progress(`memory stage ${k}/${o.stages}: ${live.length - 1} streams added, RSS ${(b / 1e6).toFixed(1)} MB`);
    }
    const perStage = (f: (s: (typeof stages)[number]) => number): number[] =>
      stages.slice(1).map((s, i) => Math.round((f(s) - f(stages[i])) / (s.streams - stages[i].streams)));
    const rssStage = perStage((s) => s.rss_bytes);
    const arenaStage = perStage((s) => s.arena_rss_bytes);
    const fbStage = perStage((s) => s.frame_buffer_rss_bytes);
    const last = stages[stages.length - 1];
    const first = stages[0];
    const perStream = median(rssStage);
    const arenaPerStream = (last.arena_rss_bytes - first.arena_rss_bytes) / (last.streams - first.streams);
    const fbPerStream = last.frame_buffers_found > 0 ? (last.frame_buffer_rss_bytes - first.frame_buffer_rss_bytes) / last.frame_buffers_found : NaN;
    const frameBuf = 2 * length;
    const expected = stateBytes + frameBuf;
    const later = stages.slice(1);
    // An mmap'd chunk's data starts 16 bytes into a page; a heap chunk's anywhere.
    const ownMappings = [...fbStart.values()].filter((at) => at % PAGE === 16).length;
    return {
      max_streams: o.maxStreams,
      arena_reserved_bytes: reserved,
      image: `${cam.width}x${cam.height} rgb8`,
      frame_buffers: `one SharedArrayBuffer per stream, two halves of width x height x 3 bytes (the frame in flight and the next), both written; ${frameBuf} bytes at ${cam.width}x${cam.height}`,
      frame_buffer_bytes_per_stream: frameBuf,
      expected_bytes_per_stream: expected,
      /** Median over stages of (RSS growth / streams added): the goal figure. */
      rss_per_stream_bytes: Math.round(perStream),
      ratio: r3(perStream / expected),
      rss_slope_after_first_stage_bytes: later.length >= 2 ? Math.round(slope(later.map((s) => s.streams), later.map((s) => s.rss_bytes))) : null,
      rss_stage_spread: { min: Math.min(...rssStage), median: Math.round(perStream), max: Math.max(...rssStage), range_over_expected: r3((Math.max(...rssStage) - Math.min(...rssStage)) / expected) },
      /** RSS growth of each stage divided by the streams it added. */
      stage_bytes_per_stream: rssStage,
      arena_rss_per_stream_bytes: Number.isFinite(arenaPerStream) ? Math.round(arenaPerStream) : null,
      arena_ratio: Number.isFinite(arenaPerStream) ? r3(arenaPerStream / stateBytes) : null,
      arena_stage_bytes_per_stream: arenaBase === null ? null : arenaStage,
      arena_locate_error: arenaLocateError,
      frame_buffer_rss_per_stream_bytes: Number.isFinite(fbPerStream) ? Math.round(fbPerStream) : null,
      frame_buffer_ratio: Number.isFinite(fbPerStream) ? r3(fbPerStream / frameBuf) : null,
      frame_buffer_stage_bytes_per_stream: fbStage,
      frame_buffers_found: { found: last.frame_buffers_found, streams: last.streams - first.streams, own_mappings: ownMappings },
      /** Process RSS per stream not in the arena nor the frame buffers (median stage): allocator and heap churn. */
      other_rss_per_stream_bytes: arenaBase === null ? null : Math.round(median(rssStage.map((r, i) => r - arenaStage[i] - fbStage[i]))),
      stages,
      control_round_delta_bytes: control,
      process: "a fresh node process running only the memory run (no earlier benchmarks in it)",
    };
  } finally {
    pages.close();
    await rt.close();
  }
}

export type MemoryResult = Awaited<ReturnType<typeof memoryRun>>;

/** memoryRun in a child process of its own (this file with --memory-only), its JSON the last stdout line. */
function memoryInChild(o: MemoryRunOptions, progress: (w: string) => void): Promise<MemoryResult> {
  const file = fileURLToPath(import.meta.url);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [file, "--memory-only", JSON.stringify(o)], { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => (out += d));
    child.stderr.setEncoding("utf8").on("data", (d: string) => {
      err += d;
      for (const line of d.split("\n")) if (line.startsWith("memory ")) progress(line);
    });
    child.on("error", reject);
    child.on("exit", (code) => {
      const lastLine = out.trim().split("\n").pop() ?? "";
      if (code !== 0 || lastLine === "") reject(new Error(`memory run child exited with code ${code}: ${err.trim().split("\n").slice(-5).join(" | ")}`));
      else resolve(JSON.parse(lastLine) as MemoryResult);
    });
  });
}

/** Reserve an arena for 1024 tiny-model streams, then touch some slots: RSS follows the touched slots only. */
function arenaCommit(config: BackboneConfig) {
  const s = backboneSizes(config);
  const r0 = process.memoryUsage().rss;
  const arena = new StateArena({ maxStreams: 1024, scratchSlots: 2, convFloats: s.convStateFloats, ssmFloats: s.ssmStateFloats });
  const r1 = process.memoryUsage().rss;
  const touched = 64;
  for (let i = 0; i < touched; i++) {
    const slot = arena.acquire(`s${i}`);
    arena.convView(slot).fill(1);
    arena.ssmView(slot).fill(1);
  }
  const r2 = process.memoryUsage().rss;
  return {
    reserved_bytes: arena.buffer.byteLength,
    rss_delta_reserve_bytes: r1 - r0,
    touched_slots: touched,
    rss_delta_touch_bytes: r2 - r1,
    touched_bytes: touched * s.stateBytes,
  };
}

export async function measureStreams(opts: StreamBenchOptions = {}): Promise<StreamBenchResult> {
  const config = opts.config ?? TINY_CONFIG;
  const seed = opts.seed ?? 1;
  const progress = opts.onProgress ?? ((): void => undefined);
  progress("arena commit");
  const arena_commit = arenaCommit(config);
  progress("one stream");
  const one = await oneStream(config, seed, opts.frames ?? 200, opts.answers ?? 12, progress);
  const streams: StreamRun[] = [];
  const streamsOneWorker: StreamRun[] = [];
  for (const n of opts.streams ?? [1, 4, 16]) {
    progress(`streams ${n}`);
    streams.push(await streamRun(config, seed, n, opts.seconds ?? 4, Math.min(2, n), 1));
    streamsOneWorker.push(await streamRun(config, seed, n, opts.seconds ?? 4, 1, 2));
  }
  progress("memory");
  const memory = await memoryInChild({
    config, seed,
    maxStreams: opts.memoryMaxStreams ?? 720,
    step: opts.memoryStep ?? 100,
    stages: opts.memoryStages ?? 7,
    cam: opts.memoryImage ?? { width: 224, height: 224 },
    cpuMemArena: opts.memoryCpuArena ?? false,
  }, progress);
  return {
    model: `seeded-random d_model ${config.d_model}, ${config.image_size}px, ${backboneSizes(config).visualTokens} visual tokens/frame`,
    state_bytes_per_stream: backboneSizes(config).stateBytes,
    ...one,
    streams,
    streams_one_worker: streamsOneWorker,
    memory,
    arena_commit,
    goals: {
      frame_p50_le_10ms: one.frame_ms.p50 <= 10,
      answer_token_le_1ms: one.answer_token_ms <= 1,
      rss_per_stream_within_10pct: Math.abs(memory.ratio - 1) <= 0.1,
    },
  };
}

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : undefined;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href && process.argv[2] === "--memory-only") {
  const o = JSON.parse(process.argv[3]) as MemoryRunOptions;
  console.log(JSON.stringify(await memoryRun(o, (w) => process.stderr.write(`${w}\n`))));
} else if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const num = (name: string): number | undefined => {
    const v = arg(name);
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isFinite(n) || n <= 0) throw new Error(`--${name} must be a positive number, got ${v}`);
    return n;
  };
  const w = num("memory-width");
  const h = num("memory-height");
  const result = await measureStreams({
    frames: num("frames"),
    seconds: num("seconds"),
    answers: num("answers"),
    memoryImage: w !== undefined && h !== undefined ? { width: w, height: h } : undefined,
    memoryMaxStreams: num("memory-max-streams"),
    memoryStep: num("memory-step"),
    memoryStages: num("memory-stages"),
    memoryCpuArena: process.argv.includes("--memory-cpu-arena"),
    onProgress: (what) => process.stderr.write(`stream_bench: ${what}\n`),
  });
  console.log(JSON.stringify(result));
}
