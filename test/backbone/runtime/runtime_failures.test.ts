import { describe, expect, it } from "vitest";
import { Engine } from "../../../nodes/backbone/inference_engine.js";
import * as publicApi from "../../../nodes/backbone/index.js";
import type { FrameItem, WorkerInit } from "../../../nodes/backbone/worker_protocol.js";
import type { Worker } from "node:worker_threads";
import { BackboneRuntime, type OpenOptions, type RuntimeStats } from "../../../nodes/backbone/backbone_runtime.js";
import { injectFaultForTesting, openWithFaultInjectionForTesting } from "../../../nodes/backbone/testing.js";
import { ModelError, SpatialRewardError } from "../../../src/errors.js";
import { RUNTIME_SMALL, maxAbsDiff, randomImage } from "./helpers.js";

const model = { seed: 7, config: RUNTIME_SMALL };

async function rejection(p: Promise<unknown>): Promise<SpatialRewardError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof SpatialRewardError) return e;
    throw new Error(`untyped rejection: ${String(e)}`);
  }
  throw new Error("expected a rejection");
}

/** Every frame and question is accounted for, whatever happened to it. */
function expectBalanced(st: RuntimeStats): void {
  expect(st.framesIn).toBe(st.framesDone + st.framesDropped + st.framesFailed + st.framesInFlight);
  expect(st.asks).toBe(st.asksDone + st.asksFailed + st.asksInFlight);
}

function workerOf(rt: BackboneRuntime): Worker {
  return (rt as unknown as { worker: Worker }).worker;
}

describe("a frames batch that fails in the worker", () => {
  it("rejects every frame of the batch with a typed error, counted, and the next frame succeeds", async () => {
    const rt = await openWithFaultInjectionForTesting({ model, maxStreams: 3 });
    try {
      rt.addStream("a");
      rt.addStream("b");
      await rt.pushFrame("a", randomImage(1));
      const a0 = await rt.readState("a");
      const before = rt.stats();
      for (const graph of ["vision_projector", "mamba_prefill"] as const) {
        await injectFaultForTesting(rt, { graph });
        // Same turn: one batch of two frames; the run throws inside Engine.frames.
        const results = await Promise.allSettled([rt.pushFrame("a", randomImage(2)), rt.pushFrame("b", randomImage(3))]);
        for (const r of results) {
          expect(r.status).toBe("rejected");
          const e = (r as PromiseRejectedResult).reason as unknown;
          expect(e).toBeInstanceOf(SpatialRewardError);
          expect((e as SpatialRewardError).code).toBe("internal");
          expect((e as SpatialRewardError).message).toMatch(new RegExp(`injected fault.*${graph}`));
        }
        expectBalanced(rt.stats());
      }
      const after = rt.stats();
      expect(after.framesFailed - before.framesFailed).toBe(4);
      expect((after.errors.internal ?? 0) - (before.errors.internal ?? 0)).toBe(4);
      expect(after.framesInFlight).toBe(0);
      expect(after.failed).toBe(false);
      // Nothing was written back: a's state is its first frame's, b's still zeros.
      expect(maxAbsDiff((await rt.readState("a")).ssm, a0.ssm)).toBe(0);
      expect((await rt.readState("b")).ssm.every((v) => v === 0)).toBe(true);
      // The runtime is not stuck: the next frames run.
      const [ta, tb] = await Promise.all([rt.pushFrame("a", randomImage(4)), rt.pushFrame("b", randomImage(5))]);
      expect(ta.superseded || tb.superseded).toBe(false);
      expect(ta.batch).toBe(2);
      expectBalanced(rt.stats());
      expect(rt.stats().framesDone).toBe(before.framesDone + 2);
    } finally {
      await rt.close();
    }
  });

  it("coarse-to-fine with unequal token counts: a prefill failing at one member fails that member only", async () => {
    const config = { ...RUNTIME_SMALL, coarse_to_fine: { keep_ratio: 0.25 } };
    const rt = await openWithFaultInjectionForTesting({ model: { seed: 7, config }, maxStreams: 4, coarseToFine: true });
    try {
      // Find two images whose kept patches fill a different number of cells (the unequal branch).
      rt.addStream("p");
      rt.addStream("q");
      let pair: [number, number] | null = null;
      for (let seed = 1; seed < 40 && !pair; seed += 2) {
        const [tp, tq] = await Promise.all([rt.pushFrame("p", randomImage(seed)), rt.pushFrame("q", randomImage(seed + 1))]);
        expect(tp.batch).toBe(2);
        if (tp.visualTokens !== tq.visualTokens) pair = [seed, seed + 1];
      }
      expect(pair, "no image pair with unequal token counts").not.toBeNull();
      const [s1, s2] = pair as [number, number];
      rt.addStream("x"); // slot 2
      rt.addStream("y"); // slot 3
      // The first member's prefill succeeds, the second's throws.
      await injectFaultForTesting(rt, { graph: "mamba_prefill", skip: 1 });
      const [rx, ry] = await Promise.allSettled([rt.pushFrame("x", randomImage(s1)), rt.pushFrame("y", randomImage(s2))]);
      expect(rx.status).toBe("fulfilled");
      expect(ry.status).toBe("rejected");
      expect(((ry as PromiseRejectedResult).reason as SpatialRewardError).code).toBe("internal");
      expect((await rt.readState("x")).ssm.some((v) => v !== 0)).toBe(true);
      expect((await rt.readState("y")).ssm.every((v) => v === 0)).toBe(true);
      expectBalanced(rt.stats());
      expect(rt.stats().framesInFlight).toBe(0);
      expect((await rt.pushFrame("y", randomImage(s2))).superseded).toBe(false);
    } finally {
      await rt.close();
    }
  });

  it("fault injection is refused unless the runtime was opened for it, and is no part of the public API", async () => {
    // The old option name, passed anyway, turns nothing on: only the Symbol key of testing.ts does.
    const rt = await BackboneRuntime.open({ model, maxStreams: 1, testOnlyFaultInjection: true } as OpenOptions);
    try {
      expect((await rejection(injectFaultForTesting(rt, { graph: "decode" }))).code).toBe("bad_state");
    } finally {
      await rt.close();
    }
    expect(Object.keys(publicApi).filter((k) => /inject|testing|testonly/i.test(k))).toEqual([]);
    expect(Object.getOwnPropertyNames(BackboneRuntime.prototype).filter((k) => /fault/i.test(k))).toEqual([]);
  });

  it("a run that throws fails only the frames that reached it: a frame whose image failed first keeps its own error (full and coarse-to-fine)", async () => {
    for (const c2f of [false, true]) {
      const config = c2f ? { ...RUNTIME_SMALL, coarse_to_fine: { keep_ratio: 0.5 } } : RUNTIME_SMALL;
      const init: WorkerInit = { model: { seed: 7, config }, maxStreams: 3, intraOpThreads: 1, coarseToFine: c2f, cpuMemArena: true, warmup: false, niceness: 0, testFaults: true };
      const { engine } = await Engine.create(init);
      try {
        for (const n of ["a", "b", "c"]) engine.addStream(n);
        const img = randomImage(1);
        const buffer = new SharedArrayBuffer(img.data.byteLength);
        new Uint8Array(buffer).set(img.data);
        const item = (id: number, stream: string, length = img.data.byteLength): FrameItem =>
          ({ id, stream, buffer, offset: 0, length, width: img.width, height: img.height, encoding: img.encoding, step: img.step });
        engine.injectFault({ graph: c2f ? "vision_c2f" : "vision_projector" });
        // b's bytes are short of step x height: its preprocessing fails before the batch's run.
        const r = await engine.frames([item(1, "a"), item(2, "b", 100), item(3, "c"), item(4, "nobody")]);
        expect(r.map((x) => x.ok)).toEqual([false, false, false, false]);
        expect(r.map((x) => x.error?.code)).toEqual(["internal", "bad_image_size", "internal", "bad_state"]);
        expect(r[0].error?.message).toMatch(/injected fault/);
        expect(r[2].error?.message).toMatch(/injected fault/);
        expect(r[1].error?.message).not.toMatch(/injected fault/);
        // Nothing was written back, and the next batch runs.
        expect(engine.readState("a").ssm.every((v) => v === 0)).toBe(true);
        const next = await engine.frames([item(5, "a"), item(6, "c")]);
        expect(next.map((x) => x.ok)).toEqual([true, true]);
      } finally {
        await engine.release();
      }
    }
  });
});

describe("a question batch whose run fails in the worker", () => {
  it("every question of it rejects typed internal, counted, its decode runs counted; scratch slots are released and the next batch of 4 answers", async () => {
    const rt = await openWithFaultInjectionForTesting({ model, maxStreams: 2 });
    try {
      rt.addStream("a");
      rt.addStream("b");
      await Promise.all([rt.pushFrame("a", randomImage(1)), rt.pushFrame("b", randomImage(2))]);
      const qs: [string, string][] = [["a", "where is the cup?"], ["b", "where is the cup?"], ["a", "how far?"], ["b", "is the mug left of the bowl?"]];
      const alone = [];
      for (const [st, q] of qs) alone.push(await rt.ask(st, q, { maxTokens: 8 }));
      expect(Math.min(...alone.map((a) => a.tokenIds.length))).toBeGreaterThanOrEqual(3);
      // mamba_prefill fails the first prefill run; decode fails its third run (two ran).
      for (const [fault, runs] of [[{ graph: "mamba_prefill" }, 0], [{ graph: "decode", skip: 2 }, 3]] as const) {
        await injectFaultForTesting(rt, fault);
        const before = rt.stats();
        const settled = await Promise.allSettled(qs.map(([st, q]) => rt.ask(st, q, { maxTokens: 8 })));
        for (const r of settled) {
          expect(r.status).toBe("rejected");
          const e = (r as PromiseRejectedResult).reason as unknown;
          expect(e).toBeInstanceOf(SpatialRewardError);
          expect((e as SpatialRewardError).code).toBe("internal");
          expect((e as SpatialRewardError).message).toMatch(new RegExp(`injected fault.*${fault.graph}`));
        }
        const after = rt.stats();
        expect(after.askBatches - before.askBatches, fault.graph).toBe(1);
        expect(after.asksFailed - before.asksFailed).toBe(4);
        expect((after.errors.internal ?? 0) - (before.errors.internal ?? 0)).toBe(4);
        expect(after.decodeRuns - before.decodeRuns, fault.graph).toBe(runs);
        expect(after.failed).toBe(false);
        expectBalanced(after);
        expect(after.asksInFlight).toBe(0);
        // The batch's 8 scratch slots (all there are) came back: the next batch of 4 runs and answers.
        const again = await Promise.all(qs.map(([st, q]) => rt.ask(st, q, { maxTokens: 8 })));
        for (let i = 0; i < qs.length; i++) {
          expect(again[i].batch).toBe(4);
          expect(again[i].tokenIds).toEqual(alone[i].tokenIds);
        }
      }
    } finally {
      await rt.close();
    }
  });
});

describe("errors are counted once", () => {
  it("setQuestion's refusals are counted; calls pending when the runtime closes are not counted again", async () => {
    const rt = await BackboneRuntime.open({ model, maxStreams: 1 });
    rt.addStream("a");
    expect(() => rt.setQuestion("nobody", "x")).toThrow(/no stream/);
    expect(() => rt.setQuestion("a", "a".repeat(5000))).toThrow(/at most/);
    expect(rt.stats().errors).toEqual({ bad_state: 1, input_too_long: 1 });
    // Posted and not yet answered when close() runs: rejected by the close, which is no error of theirs.
    rt.setQuestion("a", "where is the cup?");
    rt.setQuestion("a", null);
    const read = rejection(rt.readState("a")); // handled now: close/fail rejects it before the next await
    await rt.close();
    expect((await read).code).toBe("bad_state");
    expect(rt.stats().readStateFailed).toBe(1);
    expect(rt.stats().errors).toEqual({ bad_state: 1, input_too_long: 1 });
    // After close, a refusal is counted like pushFrame's and ask's.
    expect(() => rt.setQuestion("a", "x")).toThrow(/closed/);
    expect(rt.stats().errors).toEqual({ bad_state: 2, input_too_long: 1 });
  });

  it("a failure that leaves the worker alive is counted once (pending calls not again), and close() still has the worker release its sessions and exit (code 0)", async () => {
    const rt = await BackboneRuntime.open({ model, maxStreams: 1 });
    const failed = new Promise<SpatialRewardError>((r) => rt.onFailure(r));
    rt.addStream("a");
    await rt.pushFrame("a", randomImage(1));
    // The two sides disagreeing about a stream is a bug the runtime reports by failing; here a
    // remove of a stream the worker never had, posted through the runtime's own stream-change path.
    const internals = rt as unknown as { post(m: unknown): void; track(): number };
    internals.post({ type: "remove", id: internals.track(), stream: "ghost" });
    // Posted after it: still pending when the failure arrives (the worker answers in order).
    rt.setQuestion("a", "where is the cup?");
    rt.setQuestion("a", null);
    const read = rejection(rt.readState("a")); // handled now: close/fail rejects it before the next await
    const e = await failed;
    expect(e.code).toBe("internal");
    expect(e.message).toMatch(/refused a stream change/);
    expect((await read).code).toBe("internal");
    expect(rt.stats().errors).toEqual({ internal: 1 });
    expect(rt.stats().failed).toBe(true);
    const exitCode = new Promise<number>((r) => workerOf(rt).once("exit", r));
    await rt.close();
    expect(await exitCode).toBe(0); // terminate() without releasing the sessions would end it with 1
    expect(rt.stats().errors).toEqual({ internal: 1 });
  });
});

describe("pushFrame never throws", () => {
  it("a frame over maxImageBytes is refused before any allocation; a failed buffer allocation rejects, counted, and leaves the stream usable", async () => {
    const rt = await BackboneRuntime.open({ model, maxStreams: 2, maxImageBytes: 48 * 40 * 3 + 40 * 4 });
    try {
      rt.addStream("g");
      rt.addStream("ref");
      const big = randomImage(1, 64, 40);
      const e = await rejection(rt.pushFrame("g", big));
      expect(e.code).toBe("bad_image_size");
      expect(e.message).toMatch(/maxImageBytes/);
      expect(rt.stats().frameBufferBytes).toBe(0);
      const small = randomImage(2); // 48x40, exactly maxImageBytes
      await rt.pushFrame("g", small);
      const buf = rt.stats().frameBufferBytes;
      // A camera switching to a bigger frame when memory is short: the allocation throws.
      const bigger = await BackboneRuntime.open({ model, maxStreams: 1 });
      try {
        bigger.addStream("g");
        await bigger.pushFrame("g", small);
        const Real = globalThis.SharedArrayBuffer;
        let p: Promise<unknown>;
        globalThis.SharedArrayBuffer = function () {
          throw new RangeError("Array buffer allocation failed");
        } as unknown as SharedArrayBufferConstructor;
        try {
          p = bigger.pushFrame("g", big);
        } finally {
          globalThis.SharedArrayBuffer = Real;
        }
        const a = await rejection(p);
        expect(a.code).toBe("bad_image_size");
        expect(a.message).toMatch(/allocation failed/);
        expectBalanced(bigger.stats());
        // The entry kept its old buffer: the next small frame goes in and gives the right state.
        const t = await bigger.pushFrame("g", randomImage(3));
        expect(t.superseded).toBe(false);
        await rt.pushFrame("ref", small);
        await rt.pushFrame("ref", randomImage(3));
        expect(maxAbsDiff((await bigger.readState("g")).ssm, (await rt.readState("ref")).ssm)).toBe(0);
      } finally {
        await bigger.close();
      }
      expect(rt.stats().frameBufferBytes).toBe(2 * buf);
      expectBalanced(rt.stats());
      expect((await rejection(BackboneRuntime.open({ model, maxStreams: 1, maxImageBytes: 0 }))).code).toBe("bad_argument");
    } finally {
      await rt.close();
    }
  });

  it("the default maxImageBytes (64 MiB) refuses a 16384 x 4097 mono8 frame without allocating its buffer", async () => {
    const rt = await BackboneRuntime.open({ model, maxStreams: 1 });
    try {
      rt.addStream("h");
      const w = 16384, h = 4097;
      const e = await rejection(rt.pushFrame("h", { width: w, height: h, encoding: "mono8", step: w, data: new Uint8Array(w * h) }));
      expect(e.code).toBe("bad_image_size");
      expect(rt.stats().frameBufferBytes).toBe(0);
      expect(rt.stats().errors.bad_image_size).toBe(1);
      expectBalanced(rt.stats());
    } finally {
      await rt.close();
    }
  });

  it("hostile arguments reject typed and counted, never a synchronous throw", async () => {
    const rt = await BackboneRuntime.open({ model, maxStreams: 1 });
    try {
      rt.addStream("s");
      const bad: unknown[] = [null, undefined, 7, {}, { width: 48, height: 40, encoding: "rgb8", step: 148, data: null }, { ...randomImage(1), width: Number.NaN }];
      for (const img of bad) {
        let p: Promise<unknown> | undefined;
        expect(() => {
          p = rt.pushFrame("s", img as never);
        }).not.toThrow();
        const e = await rejection(p as Promise<unknown>);
        expect(typeof e.code).toBe("string");
      }
      expect(rt.stats().framesFailed).toBe(bad.length);
      expectBalanced(rt.stats());
    } finally {
      await rt.close();
    }
  });
});

describe("onFailure and a dead worker", () => {
  it("the callback fires once with a typed error; pending promises reject; later calls reject and are counted", async () => {
    const rt = await BackboneRuntime.open({ model, maxStreams: 2 });
    const seen: SpatialRewardError[] = [];
    rt.onFailure((e) => seen.push(e));
    rt.addStream("a");
    const pending = [rt.pushFrame("a", randomImage(1)), rt.ask("a", "where is the cup?")];
    await workerOf(rt).terminate();
    const settled = await Promise.allSettled(pending);
    expect(settled.filter((r) => r.status === "rejected").length).toBeGreaterThanOrEqual(1);
    expect(seen.length).toBe(1);
    expect(seen[0]).toBeInstanceOf(SpatialRewardError);
    expect(seen[0].code).toBe("internal");
    expect(seen[0].message).toMatch(/worker exited/);
    const before = rt.stats();
    expect((await rejection(rt.pushFrame("a", randomImage(2)))).code).toBe("internal");
    expect((await rejection(rt.ask("a", "and now?"))).code).toBe("internal");
    expect((await rejection(rt.readState("a"))).code).toBe("internal");
    const after = rt.stats();
    expect(after.framesIn).toBe(before.framesIn + 1);
    expect(after.framesFailed).toBe(before.framesFailed + 1);
    expect(after.asks).toBe(before.asks + 1);
    expect(after.asksFailed).toBe(before.asksFailed + 1);
    expect(after.readStateFailed).toBe(before.readStateFailed + 1);
    expect(after.errors.internal).toBe((before.errors.internal ?? 0) + 3);
    expectBalanced(after);
    await rt.close();
    expect(seen.length).toBe(1);
    // Registered after the failure: told at once (next microtask), still once.
    const late: SpatialRewardError[] = [];
    rt.onFailure((e) => late.push(e));
    await Promise.resolve();
    expect(late.length).toBe(1);
  });

  it("close() is not a failure: the callback never fires; the worker releases its sessions and exits by itself (code 0)", async () => {
    const rt = await BackboneRuntime.open({ model, maxStreams: 1 });
    const seen: SpatialRewardError[] = [];
    rt.onFailure((e) => seen.push(e));
    rt.addStream("a");
    await rt.pushFrame("a", randomImage(1));
    const exitCode = new Promise<number>((r) => workerOf(rt).once("exit", r));
    await rt.close();
    expect(await exitCode).toBe(0); // terminate() would end it with 1
    expect(seen.length).toBe(0);
    expect((await rejection(rt.pushFrame("a", randomImage(2)))).code).toBe("bad_state");
    expect(rt.stats().framesFailed).toBe(1);
    expectBalanced(rt.stats());
  });
});

describe("a model given in code", () => {
  it("is validated like a config.json: a bad config is bad_model naming the field, a bad seed bad_argument", async () => {
    const e = await rejection(BackboneRuntime.open({ model: { seed: 1, config: { ...RUNTIME_SMALL, d_state: -4 } }, maxStreams: 1 }));
    expect(e).toBeInstanceOf(ModelError);
    expect(e.code).toBe("bad_model");
    expect(e.message).toMatch(/d_state/);
    const f = await rejection(BackboneRuntime.open({ model: { seed: 1, config: { ...RUNTIME_SMALL, image_size: 60 } }, maxStreams: 1 }));
    expect(f.code).toBe("bad_model");
    const g = await rejection(BackboneRuntime.open({ model: { seed: 1.5, config: RUNTIME_SMALL }, maxStreams: 1 }));
    expect(g.code).toBe("bad_argument");
  });
});

describe("readState", () => {
  it("includes every frame handed to the worker, not one still waiting for dispatch (as documented)", async () => {
    const rt = await BackboneRuntime.open({ model, maxStreams: 1 });
    try {
      rt.addStream("s");
      const p = rt.pushFrame("s", randomImage(1));
      const early = await rt.readState("s"); // posted before the frame's batch is dispatched
      expect(early.ssm.every((v) => v === 0)).toBe(true);
      await p;
      expect((await rt.readState("s")).ssm.some((v) => v !== 0)).toBe(true);
      expectBalanced(rt.stats());
    } finally {
      await rt.close();
    }
  });
});
