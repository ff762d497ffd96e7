import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mkdtemp, rm, truncate, writeFile, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Worker } from "node:worker_threads";
import { BackboneRuntime, type FrameTiming } from "../../../nodes/backbone/backbone_runtime.js";
import { initModelFolder } from "../../../nodes/backbone/model_folder.js";
import { ModelError, SpatialRewardError } from "../../../src/errors.js";
import { backboneSizes } from "../../../src/backbone/config.js";
import { RUNTIME_SMALL, maxAbsDiff, randomImage } from "./helpers.js";

async function rejection(p: Promise<unknown>): Promise<SpatialRewardError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof SpatialRewardError) return e;
    throw new Error(`untyped rejection: ${String(e)}`);
  }
  throw new Error("expected a rejection");
}

function allZero(a: Float32Array): boolean {
  return a.every((v) => v === 0);
}

function bytesOf(st: { conv: Float32Array; ssm: Float32Array }): Uint8Array {
  const out = new Uint8Array(st.conv.byteLength + st.ssm.byteLength);
  out.set(new Uint8Array(st.conv.buffer, st.conv.byteOffset, st.conv.byteLength));
  out.set(new Uint8Array(st.ssm.buffer, st.ssm.byteOffset, st.ssm.byteLength), st.conv.byteLength);
  return out;
}

const model = { seed: 7, config: RUNTIME_SMALL };
const sizes = backboneSizes(RUNTIME_SMALL);

describe("BackboneRuntime (small model)", () => {
  let rt: BackboneRuntime;
  beforeAll(async () => {
    rt = await BackboneRuntime.open({ model, maxStreams: 6 });
  });
  afterAll(async () => {
    await rt.close();
  });

  it("describes the model and its graphs", () => {
    expect(rt.config.d_model).toBe(32);
    expect(rt.info.stateBytesPerStream).toBe(sizes.stateBytes);
    const names = rt.info.graphs.map((g) => g.name).sort();
    // The graphs models/README.md says the runtime runs: vision and projector fused, no separate lm_head.
    expect(names).toEqual(["decode", "mamba_prefill", "vision_projector"]);
    const prefill = rt.info.graphs.find((g) => g.name === "mamba_prefill");
    expect(prefill?.inputs).toEqual(["embeds", "conv_state", "ssm_state"]);
    expect(rt.info.parameters).toBeGreaterThan(0);
    // Two scratch slots (fork + ping-pong) per question of the largest question batch.
    expect(rt.info.maxAskBatch).toBe(4);
    expect(rt.info.arenaReservedBytes).toBe((6 + 2 * 4) * sizes.stateBytes);
  });

  it("a frame moves the stream's state; an answer changes neither its own nor another stream's state", async () => {
    rt.addStream("q1");
    rt.addStream("q2");
    expect(allZero((await rt.readState("q1")).ssm)).toBe(true);
    await rt.pushFrame("q1", randomImage(1));
    await rt.pushFrame("q2", randomImage(2));
    const a0 = bytesOf(await rt.readState("q1"));
    const b0 = bytesOf(await rt.readState("q2"));
    expect(a0.some((v) => v !== 0)).toBe(true);
    const ans = await rt.ask("q1", "how far is the mug from the bowl?", { maxTokens: 6 });
    expect(ans.trained).toBe(false);
    expect(ans.tokenIds.length).toBeGreaterThan(0);
    expect(ans.tokenIds.length).toBeLessThanOrEqual(6);
    expect(ans.prefillMs).toBeGreaterThan(0);
    expect(Buffer.from(bytesOf(await rt.readState("q1"))).equals(Buffer.from(a0))).toBe(true);
    expect(Buffer.from(bytesOf(await rt.readState("q2"))).equals(Buffer.from(b0))).toBe(true);
    // Greedy decoding from a fork is deterministic: the same question gives the same tokens.
    const again = await rt.ask("q1", "how far is the mug from the bowl?", { maxTokens: 6 });
    expect(again.tokenIds).toEqual(ans.tokenIds);
    // A different state answers from its own fork (the state reaches the logits).
    const other = await rt.ask("q2", "how far is the mug from the bowl?", { maxTokens: 6 });
    expect(other.tokenIds.length).toBeGreaterThan(0);
    rt.removeStream("q1");
    rt.removeStream("q2");
  });

  it("remove a stream then add one: the new one starts from zeros and behaves like a fresh stream", async () => {
    rt.addStream("r1");
    await rt.pushFrame("r1", randomImage(3));
    await rt.pushFrame("r1", randomImage(4));
    rt.removeStream("r1");
    rt.addStream("r2"); // takes r1's slot (lowest free)
    const z = await rt.readState("r2");
    expect(allZero(z.conv) && allZero(z.ssm)).toBe(true);
    await rt.pushFrame("r2", randomImage(5));
    rt.addStream("r3");
    await rt.pushFrame("r3", randomImage(5));
    expect(maxAbsDiff((await rt.readState("r2")).ssm, (await rt.readState("r3")).ssm)).toBe(0);
    rt.removeStream("r2");
    rt.removeStream("r3");
  });

  it("a bad image rejects its frame with a typed error, and the runtime keeps serving", async () => {
    rt.addStream("bad");
    const good = randomImage(6);
    const e1 = await rejection(rt.pushFrame("bad", { ...good, encoding: "yuv422" }));
    expect(e1.code).toBe("bad_encoding");
    const e2 = await rejection(rt.pushFrame("bad", { ...good, data: good.data.subarray(0, 100) }));
    expect(e2.code).toBe("bad_image_size");
    const e3 = await rejection(rt.pushFrame("bad", { ...good, width: 2 ** 30 }));
    expect(e3.code).toBe("bad_image_size");
    const e4 = await rejection(rt.pushFrame("nobody", good));
    expect(e4.code).toBe("bad_state");
    expect(allZero((await rt.readState("bad")).ssm)).toBe(true);
    const t = await rt.pushFrame("bad", good);
    expect(t.superseded).toBe(false);
    expect(t.visualTokens).toBe(sizes.visualTokens);
    const st = rt.stats();
    expect(st.errors.bad_encoding).toBeGreaterThanOrEqual(1);
    expect(st.framesFailed).toBeGreaterThanOrEqual(4);
    expect(st.failed).toBe(false);
    rt.removeStream("bad");
  });

  it("refuses bad questions and stream changes with typed errors", async () => {
    rt.addStream("x");
    expect((await rejection(rt.ask("x", "a".repeat(5000)))).code).toBe("input_too_long");
    expect((await rejection(rt.ask("x", "hi", { maxTokens: 0 }))).code).toBe("bad_argument");
    expect((await rejection(rt.ask("nope", "hi"))).code).toBe("bad_state");
    expect(() => rt.addStream("x")).toThrow(SpatialRewardError);
    expect(() => rt.removeStream("nope")).toThrow(/no stream/);
    for (let i = 0; i < 5; i++) rt.addStream(`fill${i}`);
    let full: unknown;
    try {
      rt.addStream("one-too-many");
    } catch (e) {
      full = e;
    }
    expect(full).toBeInstanceOf(SpatialRewardError);
    expect((full as SpatialRewardError).code).toBe("bad_state");
    for (let i = 0; i < 5; i++) rt.removeStream(`fill${i}`);
    rt.removeStream("x");
    expect(rt.stats().failed).toBe(false);
  });

  it("a newer frame supersedes a waiting one: counted, and its promise says so", async () => {
    rt.addStream("busy");
    rt.addStream("s");
    const dropped0 = rt.stats().framesDropped;
    // All three are pushed in one turn: the later frame of "s" replaces the earlier before dispatch.
    const p0 = rt.pushFrame("busy", randomImage(10));
    const p1 = rt.pushFrame("s", randomImage(11));
    const p2 = rt.pushFrame("s", randomImage(12));
    const [t0, t1, t2] = await Promise.all([p0, p1, p2]);
    expect(t0.superseded).toBe(false);
    expect(t1.superseded).toBe(true);
    expect(t2.superseded).toBe(false);
    expect(rt.stats().framesDropped).toBe(dropped0 + 1);
    // The state holds exactly one frame (the newer): equal to a fresh stream given only that frame,
    // run with the same batch shape (batch 2, second member; ORT's rounding depends on the shape:
    // a reference run alone differed by 9.3e-10), so the comparison stays bit-exact.
    rt.addStream("busyRef");
    rt.addStream("ref");
    const [, tr] = await Promise.all([rt.pushFrame("busyRef", randomImage(10)), rt.pushFrame("ref", randomImage(12))]);
    expect(tr.batch).toBe(t2.batch);
    expect(maxAbsDiff((await rt.readState("s")).ssm, (await rt.readState("ref")).ssm)).toBe(0);
    expect(maxAbsDiff((await rt.readState("s")).conv, (await rt.readState("ref")).conv)).toBe(0);
    for (const n of ["busy", "s", "busyRef", "ref"]) rt.removeStream(n);
  });
});

describe("batching", () => {
  it("frames batched in one run give the same states as the same frames one by one, and streams outside the batch are untouched", async () => {
    const alone = await BackboneRuntime.open({ model, maxStreams: 6 });
    const batched = await BackboneRuntime.open({ model, maxStreams: 6 });
    try {
      const names = ["s0", "s1", "s2", "s3", "s4"];
      for (const n of names) {
        alone.addStream(n);
        batched.addStream(n);
      }
      // Two rounds of frames, so the second batch starts from non-zero states.
      for (let round = 0; round < 2; round++) {
        for (let i = 0; i < names.length; i++) await alone.pushFrame(names[i], randomImage(100 * round + i));
        // Pushed in the same turn, the five frames go to the worker as one batch (consecutive slots 0..4).
        const ts: FrameTiming[] = await Promise.all(names.map((n, i) => batched.pushFrame(n, randomImage(100 * round + i))));
        for (const t of ts) expect(t.batch).toBe(5);
      }
      for (const n of names) {
        const a = await alone.readState(n);
        const b = await batched.readState(n);
        expect(maxAbsDiff(a.conv, b.conv)).toBeLessThanOrEqual(1e-4);
        expect(maxAbsDiff(a.ssm, b.ssm)).toBeLessThanOrEqual(1e-4);
      }
      // Non-consecutive slots (1 and 3 are freed): the batch gathers and scatters; s2 is not in it.
      batched.removeStream("s1");
      batched.removeStream("s3");
      alone.removeStream("s1");
      alone.removeStream("s3");
      const s2Before = bytesOf(await batched.readState("s2"));
      await alone.pushFrame("s0", randomImage(500));
      await alone.pushFrame("s4", randomImage(501));
      const [t0, t4] = await Promise.all([batched.pushFrame("s0", randomImage(500)), batched.pushFrame("s4", randomImage(501))]);
      expect(t0.batch).toBe(2);
      expect(t4.batch).toBe(2);
      for (const n of ["s0", "s4"]) {
        expect(maxAbsDiff((await alone.readState(n)).ssm, (await batched.readState(n)).ssm)).toBeLessThanOrEqual(1e-4);
        expect(maxAbsDiff((await alone.readState(n)).conv, (await batched.readState(n)).conv)).toBeLessThanOrEqual(1e-4);
      }
      expect(Buffer.from(bytesOf(await batched.readState("s2"))).equals(Buffer.from(s2Before))).toBe(true);
      // A frame pushed while a batch runs waits and runs next, alone.
      const running = batched.pushFrame("s0", randomImage(600));
      await new Promise((r) => setImmediate(r)); // the batch has been handed to the worker
      const next = batched.pushFrame("s2", randomImage(499));
      expect((await running).batch).toBe(1);
      expect((await next).batch).toBe(1);
      // s2 took one frame of its own (seed 499) and nothing from the s0+s4 batch.
      await alone.pushFrame("s2", randomImage(499));
      expect(maxAbsDiff((await alone.readState("s2")).ssm, (await batched.readState("s2")).ssm)).toBeLessThanOrEqual(1e-4);
    } finally {
      await alone.close();
      await batched.close();
    }
  });
});

describe("failures", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "backbone-runtime-"));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("a bad model folder: open rejects with bad_model naming the file (and the thread boundary keeps the class)", async () => {
    const m = join(dir, "m");
    await initModelFolder(m, RUNTIME_SMALL, 3);
    const ok = await BackboneRuntime.open({ model: { dir: m }, maxStreams: 1 });
    expect(ok.config.trained).toBe(false);
    await ok.close();

    const weights = join(m, "model.safetensors");
    await truncate(weights, (await stat(weights)).size - 100);
    const e = await rejection(BackboneRuntime.open({ model: { dir: m }, maxStreams: 1 }));
    expect(e).toBeInstanceOf(ModelError);
    expect(e.code).toBe("bad_model");
    expect((e as ModelError).file).toBe("model.safetensors");
    expect(e.message).toMatch(/model\.safetensors/);

    await writeFile(join(m, "tokenizer.json"), "{ not json");
    const t = await rejection(BackboneRuntime.open({ model: { dir: m }, maxStreams: 1 }));
    expect(t.code).toBe("bad_model");
    expect((t as ModelError).file).toBe("tokenizer.json");

    const missing = await rejection(BackboneRuntime.open({ model: { dir: join(dir, "none") }, maxStreams: 1 }));
    expect(missing.code).toBe("bad_model");

    // A config that does not match the weights names the tensor.
    const m2 = join(dir, "m2");
    await initModelFolder(m2, RUNTIME_SMALL, 3);
    await writeFile(join(m2, "config.json"), JSON.stringify({ ...RUNTIME_SMALL, d_state: 4 }));
    const c = await rejection(BackboneRuntime.open({ model: { dir: m2 }, maxStreams: 1 }));
    expect(c).toBeInstanceOf(ModelError);
    expect((c as ModelError).tensor).toMatch(/^backbone\.layers\.0\.mixer\./);

    expect((await rejection(BackboneRuntime.open({ model, maxStreams: 0 }))).code).toBe("bad_argument");
  });

  it("a dead worker rejects everything pending with a typed error and the runtime reports itself failed", async () => {
    const rt = await BackboneRuntime.open({ model, maxStreams: 2 });
    rt.addStream("a");
    rt.addStream("b");
    const inFlight = rt.pushFrame("a", randomImage(1));
    const waiting = rt.pushFrame("b", randomImage(2));
    const asked = rt.ask("a", "where is the cup?");
    // Kill the thread the way a native crash would end it: the runtime must not hang.
    await (rt as unknown as { worker: Worker }).worker.terminate();
    const results = await Promise.allSettled([inFlight, waiting, asked]);
    const rejected = results.filter((r): r is PromiseRejectedResult => r.status === "rejected");
    // The first frame may have finished before the kill; whatever had not must reject, typed.
    expect(rejected.length).toBeGreaterThanOrEqual(2);
    for (const r of rejected) {
      expect(r.reason).toBeInstanceOf(SpatialRewardError);
      expect((r.reason as SpatialRewardError).code).toBe("internal");
    }
    expect(rt.stats().failed).toBe(true);
    expect(rt.stats().errors.internal).toBe(1);
    expect((await rejection(rt.pushFrame("a", randomImage(3)))).message).toMatch(/worker exited/);
    expect(() => rt.addStream("c")).toThrow(/worker exited/);
    await rt.close();
  });

  it("close rejects later calls", async () => {
    const rt = await BackboneRuntime.open({ model, maxStreams: 1 });
    rt.addStream("a");
    await rt.close();
    expect((await rejection(rt.pushFrame("a", randomImage(1)))).code).toBe("bad_state");
    expect(rt.stats().failed).toBe(true);
  });
});

describe("warmup", () => {
  it("running every graph at the largest batch at open touches no stream state and changes no result", async () => {
    const warm = await BackboneRuntime.open({ model, maxStreams: 3, warmup: true, cpuMemArena: false });
    const cold = await BackboneRuntime.open({ model, maxStreams: 3 });
    try {
      warm.addStream("a");
      cold.addStream("a");
      const z = await warm.readState("a");
      expect(allZero(z.conv) && allZero(z.ssm)).toBe(true);
      await warm.pushFrame("a", randomImage(9));
      await cold.pushFrame("a", randomImage(9));
      expect(maxAbsDiff((await warm.readState("a")).ssm, (await cold.readState("a")).ssm)).toBe(0);
      expect((await warm.ask("a", "where?", { maxTokens: 4 })).tokenIds).toEqual((await cold.ask("a", "where?", { maxTokens: 4 })).tokenIds);
    } finally {
      await warm.close();
      await cold.close();
    }
  });
});

describe("coarse-to-fine", () => {
  it("keeps round(keep_ratio * P) patches per frame, and at keep_ratio 1 gives the full path's state", async () => {
    const c2f = await BackboneRuntime.open({ model, maxStreams: 2, coarseToFine: true });
    const all = { seed: 7, config: { ...RUNTIME_SMALL, coarse_to_fine: { keep_ratio: 1 } } };
    const full = await BackboneRuntime.open({ model: all, maxStreams: 2 });
    const allC2f = await BackboneRuntime.open({ model: all, maxStreams: 2, coarseToFine: true });
    try {
      for (const rt of [c2f, full, allC2f]) {
        rt.addStream("a");
        rt.addStream("b");
      }
      const [ta, tb] = await Promise.all([c2f.pushFrame("a", randomImage(1)), c2f.pushFrame("b", randomImage(2))]);
      expect(ta.batch).toBe(2);
      expect(ta.keptFraction).toBeCloseTo(Math.round(0.65 * sizes.patches) / sizes.patches, 6);
      expect(ta.visualTokens).toBeLessThanOrEqual(sizes.visualTokens + 1);
      expect(tb.keptFraction).toBe(ta.keptFraction);
      expect(allZero((await c2f.readState("a")).ssm)).toBe(false);
      for (const rt of [full, allC2f]) await Promise.all([rt.pushFrame("a", randomImage(1)), rt.pushFrame("b", randomImage(2))]);
      for (const s of ["a", "b"]) {
        expect(maxAbsDiff((await full.readState(s)).ssm, (await allC2f.readState(s)).ssm)).toBeLessThanOrEqual(1e-4);
        expect(maxAbsDiff((await full.readState(s)).conv, (await allC2f.readState(s)).conv)).toBeLessThanOrEqual(1e-4);
      }
      // A model without the coarse scale refuses the option by name.
      const e = await rejection(BackboneRuntime.open({ model: { seed: 1, config: { ...RUNTIME_SMALL, coarse_to_fine: null } }, maxStreams: 1, coarseToFine: true }));
      expect(e.code).toBe("bad_model");
    } finally {
      for (const rt of [c2f, full, allC2f]) await rt.close();
    }
  });
});
