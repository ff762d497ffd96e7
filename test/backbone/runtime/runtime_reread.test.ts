import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { writeModelFolder } from "../../../nodes/backbone/model_folder.js";
import { BackboneRuntime, type CameraImage } from "../../../nodes/backbone/backbone_runtime.js";
import { injectFaultForTesting, openWithFaultInjectionForTesting } from "../../../nodes/backbone/testing.js";
import { backboneSizes, type BackboneConfig } from "../../../src/backbone/config.js";
import { randomWeights } from "../../../src/backbone/random_init.js";
import { BackboneTokenizer } from "../../../src/backbone/tokenizer.js";
import { defaultTokenizerJson } from "../../../src/backbone/byte_tokenizer.js";
import { questionPrompt, type QuestionPrompt } from "../../../src/backbone/prompt.js";
import { ImagePreprocessor } from "../../../src/backbone/image_preprocess.js";
import { fullImagePool } from "../../../src/backbone/coarse_to_fine.js";
import { coarseToFineReference, projectorReference, visionReference } from "../../../src/backbone/reference/vision_reference.js";
import { referenceMambaPrefill } from "../../../src/backbone/reference/mamba_reference.js";
import { referenceAnswer, type ReferenceAnswer } from "../../../src/backbone/reference/answer_reference.js";
import { SpatialRewardError } from "../../../src/errors.js";
import { RUNTIME_SMALL, maxAbsDiff, randomImage } from "./helpers.js";

/**
 * reread_image ("Just read twice"): a question is prefilled from the stream's state after its
 * latest frame as BOS + question, that frame's visual tokens again, then "\n"; the answer is
 * decoded after the "\n". Everything here is held to the TypeScript reference
 * (src/backbone/reference/answer_reference.ts) computed independently of the runtime: visual
 * tokens from the reference encoder on the test's own preprocessing, states by reference prefill.
 */
const TOL = 1e-4;
const PLAIN: BackboneConfig = { ...RUNTIME_SMALL, coarse_to_fine: { keep_ratio: 0.25 } };
const REREAD: BackboneConfig = { ...PLAIN, reread_image: true };
const sizes = backboneSizes(PLAIN);
const d = PLAIN.d_model;

/**
 * Seeded weights with the projector's output and the mixers' out_proj scaled up, so visual
 * tokens move the state and the logits enough that reading them again changes the answer (with
 * plain seeded weights hardly anything reaches the logits, and a missing reread would go unseen).
 */
const weights = randomWeights(PLAIN, 7);
(weights.get("projector.fc2.weight") as Float32Array).forEach((v, i, a) => (a[i] = v * 20));
for (let l = 0; l < PLAIN.n_layer; l++) (weights.get(`backbone.layers.${l}.mixer.out_proj.weight`) as Float32Array).forEach((v, i, a) => (a[i] = v * 10));
// Merge token and count embedding as large as a visual token, so rereading them shows in the logits.
for (const n of ["c2f.merge_token", "c2f.count_embed"]) (weights.get(n) as Float32Array).forEach((v, i, a) => (a[i] = v * 50));
const tokenizer = BackboneTokenizer.fromJson(defaultTokenizerJson(), "tokenizer.json (default)");
const encode = (t: string): number[] => tokenizer.encode(t);
const prompt = (q: string, reread: boolean): QuestionPrompt => questionPrompt(encode, tokenizer.bosId, q, reread);

const QUESTIONS = ["how far is the mug from the bowl?", "is the cup left of the plate?", "where?", "what colour is the box", "mug", "a", "the bowl"];

/** The reference encoder's visual tokens [visualTokens, d] for a camera image (full path). */
function referenceTokens(image: CameraImage): Float32Array {
  const pre = new ImagePreprocessor(PLAIN);
  pre.process(image);
  const positions = Array.from({ length: sizes.patches }, (_, i) => i);
  const features = visionReference(PLAIN, weights, pre.patches.slice(), 1, positions);
  return projectorReference(PLAIN, weights, features, fullImagePool(PLAIN), 1, sizes.patches, sizes.visualTokens);
}

/** The reference coarse-to-fine tokens (kept cells, then the merge token) for a camera image, no question guide. */
function referenceC2fTokens(image: CameraImage): Float32Array {
  const pre = new ImagePreprocessor(PLAIN);
  pre.process(image);
  return coarseToFineReference(PLAIN, weights, pre.patches.slice(), pre.coarsePatches.slice()).tokens;
}

function prefill(state: { conv: Float32Array; ssm: Float32Array }, tokens: Float32Array): { conv: Float32Array; ssm: Float32Array } {
  const r = referenceMambaPrefill(PLAIN, weights, tokens, 1, tokens.length / d, state.conv, state.ssm);
  return { conv: r.convStateOut, ssm: r.ssmStateOut };
}

const zeroState = (): { conv: Float32Array; ssm: Float32Array } => ({ conv: new Float32Array(sizes.convStateFloats), ssm: new Float32Array(sizes.ssmStateFloats) });

function bytesOf(...arrays: Float32Array[]): Buffer {
  return Buffer.concat(arrays.map((a) => Buffer.from(a.buffer, a.byteOffset, a.byteLength)));
}

async function rejection(p: Promise<unknown>): Promise<SpatialRewardError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof SpatialRewardError) return e;
    throw new Error(`untyped rejection: ${String(e)}`);
  }
  throw new Error("expected a rejection");
}

interface Folders {
  root: string;
  plain: string;
  plainFalse: string;
  reread: string;
}

async function folders(): Promise<Folders> {
  const root = await mkdtemp(join(tmpdir(), "backbone-reread-"));
  const f = { root, plain: join(root, "plain"), plainFalse: join(root, "plain-false"), reread: join(root, "reread") };
  await writeModelFolder(f.plain, { config: PLAIN, weights, tokenizerJson: defaultTokenizerJson() });
  await writeModelFolder(f.plainFalse, { config: PLAIN, weights, tokenizerJson: defaultTokenizerJson() });
  await writeModelFolder(f.reread, { config: REREAD, weights, tokenizerJson: defaultTokenizerJson() });
  // reread_image written as false: the same model as without the field.
  const cfg = JSON.parse(await readFile(join(f.plainFalse, "config.json"), "utf8")) as Record<string, unknown>;
  await writeFile(join(f.plainFalse, "config.json"), JSON.stringify({ ...cfg, reread_image: false }));
  return f;
}

describe("reread_image, full encoding: answers equal the reference", () => {
  let f: Folders;
  let plain: BackboneRuntime, plainFalse: BackboneRuntime, reread: BackboneRuntime;
  // q1 sees two frames (the latest is reread), q2 one.
  const frames: Record<string, CameraImage[]> = { q1: [randomImage(21), randomImage(22)], q2: [randomImage(90)] };
  const ref: Record<string, { state: { conv: Float32Array; ssm: Float32Array }; visual: Float32Array }> = {};
  beforeAll(async () => {
    f = await folders();
    plain = await BackboneRuntime.open({ model: { dir: f.plain }, maxStreams: 4 });
    plainFalse = await BackboneRuntime.open({ model: { dir: f.plainFalse }, maxStreams: 4 });
    reread = await BackboneRuntime.open({ model: { dir: f.reread }, maxStreams: 5 });
    for (const rt of [plain, plainFalse, reread]) {
      for (const [s, imgs] of Object.entries(frames)) {
        rt.addStream(s);
        for (const img of imgs) await rt.pushFrame(s, img);
      }
    }
    for (const [s, imgs] of Object.entries(frames)) {
      let state = zeroState();
      let visual: Float32Array = new Float32Array(0);
      for (const img of imgs) {
        visual = referenceTokens(img);
        state = prefill(state, visual);
      }
      ref[s] = { state, visual };
    }
  }, 120_000);
  afterAll(async () => {
    for (const rt of [plain, plainFalse, reread]) await rt?.close();
    if (f) await rm(f.root, { recursive: true, force: true });
  });

  it("config: reread_image true is kept, false and absent parse to the same config (no field)", () => {
    expect(reread.config.reread_image).toBe(true);
    expect(plain.config.reread_image).toBeUndefined();
    expect(plainFalse.config).toEqual(plain.config);
    expect("reread_image" in plainFalse.config).toBe(false);
    // The kept tokens' memory: one frame's rows (+1 for a merge token) per stream slot, reread only.
    expect(reread.info.rereadBytesPerStream).toBe((sizes.visualTokens + 1) * d * 4);
    expect(plain.info.rereadBytesPerStream).toBe(0);
  });

  it("the runtime keeps exactly the latest frame's visual tokens (the rows its state was prefilled with)", async () => {
    for (const s of ["q1", "q2"]) {
      const st = await reread.readState(s);
      expect(st.visual?.length).toBe(sizes.visualTokens * d);
      const e = { visual: maxAbsDiff(st.visual!, ref[s].visual), ssm: maxAbsDiff(st.ssm, ref[s].state.ssm), conv: maxAbsDiff(st.conv, ref[s].state.conv) };
      expect(e.visual, s).toBeLessThanOrEqual(TOL);
      expect(e.ssm, s).toBeLessThanOrEqual(TOL);
      expect(e.conv, s).toBeLessThanOrEqual(TOL);
      // A plain model keeps none.
      expect((await plain.readState(s)).visual).toBeUndefined();
    }
    // q1's first frame is not what is kept: its tokens differ from the latest frame's.
    expect(maxAbsDiff(referenceTokens(frames.q1[0]), ref.q1.visual)).toBeGreaterThan(1e-2);
  });

  it("frames of several streams in one batch: each stream keeps its own frame's tokens", async () => {
    const imgs = { b1: randomImage(41), b2: randomImage(42), b3: randomImage(43) };
    for (const s of Object.keys(imgs)) reread.addStream(s);
    try {
      const t = await Promise.all(Object.entries(imgs).map(([s, img]) => reread.pushFrame(s, img)));
      for (const x of t) expect(x.batch).toBe(3);
      for (const [s, img] of Object.entries(imgs)) {
        const st = await reread.readState(s);
        expect(maxAbsDiff(st.visual!, referenceTokens(img)), s).toBeLessThanOrEqual(TOL);
      }
    } finally {
      for (const s of Object.keys(imgs)) reread.removeStream(s);
    }
  });

  it("reread answers equal the reference (ids, first logits within 1e-4) and differ from the plain model's with the same weights", async () => {
    let differ = 0;
    const worst = { reread: 0, plain: 0 };
    for (const s of ["q1", "q2"]) {
      for (const q of QUESTIONS) {
        const wantR = referenceAnswer(PLAIN, weights, ref[s].state, prompt(q, true), ref[s].visual, { eosId: tokenizer.eosId, maxTokens: 8 });
        const wantP = referenceAnswer(PLAIN, weights, ref[s].state, prompt(q, false), null, { eosId: tokenizer.eosId, maxTokens: 8 });
        const r = await reread.ask(s, q, { maxTokens: 8, firstLogits: true });
        const p = await plain.ask(s, q, { maxTokens: 8, firstLogits: true });
        expect(r.tokenIds, `${s} "${q}" reread`).toEqual(wantR.ids);
        expect(p.tokenIds, `${s} "${q}" plain`).toEqual(wantP.ids);
        worst.reread = Math.max(worst.reread, maxAbsDiff(r.firstLogits!, wantR.firstLogits));
        worst.plain = Math.max(worst.plain, maxAbsDiff(p.firstLogits!, wantP.firstLogits));
        // The reread path is really taken: the first logits move for every question.
        expect(maxAbsDiff(r.firstLogits!, p.firstLogits!), `${s} "${q}"`).toBeGreaterThan(1e-2);
        if (r.tokenIds.join() !== p.tokenIds.join()) differ++;
        // The prompt's rows: BOS + question + "\n", plus the visual tokens when reread.
        expect(wantR.rows).toBe(wantP.rows + sizes.visualTokens);
      }
    }
    console.log("reread vs reference, first logits max abs:", JSON.stringify(worst), `answers differing from plain: ${differ} of ${2 * QUESTIONS.length}`);
    expect(worst.reread).toBeLessThanOrEqual(TOL);
    expect(worst.plain).toBeLessThanOrEqual(TOL);
    expect(differ).toBeGreaterThan(0);
  });

  it("reread_image false is the plain model bit for bit (answers, first logits, states)", async () => {
    for (const s of ["q1", "q2"]) {
      expect(bytesOf((await plainFalse.readState(s)).conv, (await plainFalse.readState(s)).ssm).equals(bytesOf((await plain.readState(s)).conv, (await plain.readState(s)).ssm))).toBe(true);
      for (const q of QUESTIONS.slice(0, 3)) {
        const a = await plain.ask(s, q, { maxTokens: 8, firstLogits: true });
        const b = await plainFalse.ask(s, q, { maxTokens: 8, firstLogits: true });
        expect(b.tokenIds).toEqual(a.tokenIds);
        expect(bytesOf(b.firstLogits!).equals(bytesOf(a.firstLogits!))).toBe(true);
      }
    }
  });

  it("an answer leaves the stream's state and kept tokens byte for byte, its own and the other stream's", async () => {
    const before = await Promise.all(["q1", "q2"].map(async (s) => {
      const st = await reread.readState(s);
      return bytesOf(st.conv, st.ssm, st.visual!);
    }));
    await reread.ask("q1", "how far is the mug from the bowl?", { maxTokens: 6 });
    await Promise.all([reread.ask("q1", "where?"), reread.ask("q2", "mug")]);
    for (const [i, s] of ["q1", "q2"].entries()) {
      const st = await reread.readState(s);
      expect(bytesOf(st.conv, st.ssm, st.visual!).equals(before[i]), s).toBe(true);
    }
  });

  it("the longest question (BOS + 1022 tokens + \"\\n\" = 1024, then the visual rows) is answered, alone and four at once; one token more is input_too_long", async () => {
    const longest = "a".repeat(1022);
    expect(prompt(longest, true).head.length + prompt(longest, true).end.length).toBe(1024);
    const want = referenceAnswer(PLAIN, weights, ref.q2.state, prompt(longest, true), ref.q2.visual, { eosId: tokenizer.eosId, maxTokens: 3 });
    const a = await reread.ask("q2", longest, { maxTokens: 3 });
    expect(a.tokenIds).toEqual(want.ids);
    const four = await Promise.all([0, 1, 2, 3].map(() => reread.ask("q2", longest, { maxTokens: 3 })));
    for (const x of four) expect(x.tokenIds).toEqual(want.ids);
    const e = await rejection(reread.ask("q2", longest + "a"));
    expect(e.code).toBe("input_too_long");
    expect(e.message).toMatch(/1024 tokens, the backbone takes at most 1023/);
  }, 120_000);

  it("questions of different lengths and streams asked together get exactly the ids each gets alone", async () => {
    const qs: [string, string, number][] = [
      ["q1", "how far is the mug from the bowl?", 8],
      ["q2", "how far is the mug from the bowl?", 8], // same rows: one prefill run for two streams
      ["q1", "where?", 1], // leaves the batch first, the ones after it move down
      ["q2", "", 5],
    ];
    const alone = [];
    for (const [s, q, n] of qs) alone.push(await reread.ask(s, q, { maxTokens: n }));
    for (const a of alone) expect(a.batch).toBe(1);
    const together = await Promise.all(qs.map(([s, q, n]) => reread.ask(s, q, { maxTokens: n })));
    for (let i = 0; i < qs.length; i++) {
      expect(together[i].batch).toBe(4);
      expect(together[i].tokenIds, `question ${i}`).toEqual(alone[i].tokenIds);
    }
    // And alone each is the reference's.
    for (let i = 0; i < qs.length; i++) {
      const [s, q, n] = qs[i];
      expect(alone[i].tokenIds).toEqual(referenceAnswer(PLAIN, weights, ref[s].state, prompt(q, true), ref[s].visual, { eosId: tokenizer.eosId, maxTokens: n }).ids);
    }
  });
});

describe("reread_image: a stream with no frame", () => {
  it("is refused typed and counted (bad_state) by a reread model, answered from zeros by a plain one; a reused slot keeps nothing", async () => {
    const f = await folders();
    const plain = await BackboneRuntime.open({ model: { dir: f.plain }, maxStreams: 2 });
    const reread = await BackboneRuntime.open({ model: { dir: f.reread }, maxStreams: 2 });
    try {
      for (const rt of [plain, reread]) rt.addStream("empty");
      expect((await plain.ask("empty", "where?", { maxTokens: 3 })).tokenIds.length).toBeGreaterThan(0);
      const e = await rejection(reread.ask("empty", "where?", { maxTokens: 3 }));
      expect(e.code).toBe("bad_state");
      expect(e.message).toMatch(/no frame/);
      expect(reread.stats().errors.bad_state).toBe(1);
      expect((await reread.readState("empty")).visual?.length).toBe(0);
      // A frame, then the stream goes and a new one takes its slot: the old tokens are gone.
      await reread.pushFrame("empty", randomImage(3));
      expect((await reread.ask("empty", "where?", { maxTokens: 3 })).tokenIds.length).toBeGreaterThan(0);
      reread.removeStream("empty");
      reread.addStream("again");
      expect((await reread.readState("again")).visual?.length).toBe(0);
      expect((await rejection(reread.ask("again", "where?"))).code).toBe("bad_state");
      // Refused alone: a question of a stream with a frame in the same batch is answered.
      reread.addStream("seen");
      await reread.pushFrame("seen", randomImage(4));
      const [bad, good] = await Promise.allSettled([reread.ask("again", "where?"), reread.ask("seen", "where?", { maxTokens: 3 })]);
      expect(bad.status).toBe("rejected");
      expect(good.status).toBe("fulfilled");
      // firstLogits must be a boolean (refused at the call, counted).
      expect((await rejection(reread.ask("seen", "where?", { firstLogits: "yes" as unknown as boolean }))).code).toBe("bad_argument");
      const st = reread.stats();
      expect(st.errors.bad_argument).toBe(1);
      expect(st.asks).toBe(st.asksDone + st.asksFailed + st.asksInFlight);
    } finally {
      await plain.close();
      await reread.close();
      await rm(f.root, { recursive: true, force: true });
    }
  });

  it("a frame whose prefill fails keeps the previous frame's tokens with the previous state", async () => {
    const f = await folders();
    const rt = await openWithFaultInjectionForTesting({ model: { dir: f.reread }, maxStreams: 2 });
    try {
      rt.addStream("a");
      await rt.pushFrame("a", randomImage(11));
      const before = await rt.readState("a");
      await injectFaultForTesting(rt, { graph: "mamba_prefill" });
      expect((await rejection(rt.pushFrame("a", randomImage(12)))).code).toBe("internal");
      const after = await rt.readState("a");
      expect(bytesOf(after.conv, after.ssm, after.visual!).equals(bytesOf(before.conv, before.ssm, before.visual!))).toBe(true);
      expect(maxAbsDiff(after.visual!, referenceTokens(randomImage(11)))).toBeLessThanOrEqual(TOL);
    } finally {
      await rt.close();
      await rm(f.root, { recursive: true, force: true });
    }
  });
});

describe("reread_image with coarse-to-fine", () => {
  it("rereads the kept cells' tokens and the merge token, as prefilled; batches streams of different token counts", async () => {
    const f = await folders();
    const rt = await BackboneRuntime.open({ model: { dir: f.reread }, maxStreams: 4, coarseToFine: true });
    try {
      // Two frames whose kept patches fill different numbers of cells (so the streams' token counts differ).
      const counts = new Map<number, number>();
      let seeds: [number, number] | null = null;
      for (let seed = 30; seed < 60 && !seeds; seed++) {
        const n = referenceC2fTokens(randomImage(seed)).length / d;
        for (const [other, m] of counts) if (m !== n) seeds = [other, seed];
        counts.set(seed, n);
      }
      expect(seeds, "no two frames with different token counts").not.toBeNull();
      const streams = ["a", "b"];
      const refs: Record<string, { state: { conv: Float32Array; ssm: Float32Array }; visual: Float32Array }> = {};
      for (const [i, s] of streams.entries()) {
        rt.addStream(s);
        const img = randomImage(seeds![i]);
        const t = await rt.pushFrame(s, img);
        const visual = referenceC2fTokens(img);
        expect(t.visualTokens).toBe(visual.length / d);
        refs[s] = { state: prefill(zeroState(), visual), visual };
        const st = await rt.readState(s);
        // The kept rows: the reference's non-empty cells then the merge token ...
        expect(st.visual!.length).toBe(visual.length);
        expect(maxAbsDiff(st.visual!, visual)).toBeLessThanOrEqual(TOL);
        // ... the merge token last (merge_token + merged / P · count_embed, 12 of 16 patches merged) ...
        const merged = sizes.patches - 4;
        const mt = weights.get("c2f.merge_token")!, ce = weights.get("c2f.count_embed")!;
        const want = Float32Array.from(mt, (v, k) => v + (merged / sizes.patches) * ce[k]);
        expect(maxAbsDiff(st.visual!.subarray(st.visual!.length - d), want)).toBeLessThanOrEqual(1e-6);
        // ... and exactly what the stream's state was prefilled with.
        expect(maxAbsDiff(st.ssm, refs[s].state.ssm)).toBeLessThanOrEqual(TOL);
      }
      const nA = refs.a.visual.length / d, nB = refs.b.visual.length / d;
      expect(nA).not.toBe(nB);
      // Questions whose prompts have the same row count on the two streams (one shared prefill run).
      const base = "where is the cup?";
      const qA = nA < nB ? base + "?".repeat(nB - nA) : base;
      const qB = nB < nA ? base + "?".repeat(nA - nB) : base;
      const rowsOf = (q: string, n: number): number => prompt(q, true).head.length + n + prompt(q, true).end.length;
      expect(rowsOf(qA, nA)).toBe(rowsOf(qB, nB));
      const qs: [string, string][] = [["a", qA], ["b", qB], ["a", "mug"], ["b", "how far is the mug from the bowl?"]];
      let worst = 0;
      const alone = [];
      for (const [s, q] of qs) {
        const want = referenceAnswer(PLAIN, weights, refs[s].state, prompt(q, true), refs[s].visual, { eosId: tokenizer.eosId, maxTokens: 6 });
        const a = await rt.ask(s, q, { maxTokens: 6, firstLogits: true });
        expect(a.tokenIds, `${s} "${q}"`).toEqual(want.ids);
        worst = Math.max(worst, maxAbsDiff(a.firstLogits!, want.firstLogits));
        // Without the merge token the reread gives other logits: the runtime did reread it.
        const noMerge = referenceAnswer(PLAIN, weights, refs[s].state, prompt(q, true), refs[s].visual.slice(0, refs[s].visual.length - d), { eosId: tokenizer.eosId, maxTokens: 1 });
        expect(maxAbsDiff(a.firstLogits!, noMerge.firstLogits), `${s} "${q}" without the merge token`).toBeGreaterThan(1e-2);
        alone.push(a);
      }
      console.log(`reread + coarse-to-fine: tokens per stream ${nA} and ${nB}, first logits max abs vs reference ${worst}`);
      expect(worst).toBeLessThanOrEqual(TOL);
      const together = await Promise.all(qs.map(([s, q]) => rt.ask(s, q, { maxTokens: 6 })));
      for (let i = 0; i < qs.length; i++) {
        expect(together[i].batch).toBe(4);
        expect(together[i].tokenIds, `question ${i}`).toEqual(alone[i].tokenIds);
      }
      // The two questions of equal row count on different streams shared their prefill run.
      expect(together[0].prefillMs).toBe(together[1].prefillMs);
      // Frames of different token counts in one batch (each prefilled alone): each stream keeps its own rows.
      rt.removeStream("a");
      rt.removeStream("b");
      for (const s of ["c", "d"]) rt.addStream(s);
      const timings = await Promise.all([rt.pushFrame("c", randomImage(seeds![0])), rt.pushFrame("d", randomImage(seeds![1]))]);
      for (const t of timings) expect(t.batch).toBe(2);
      for (const [s, v] of [["c", refs.a.visual], ["d", refs.b.visual]] as const) {
        const st = await rt.readState(s);
        expect(st.visual!.length, s).toBe(v.length);
        expect(maxAbsDiff(st.visual!, v), s).toBeLessThanOrEqual(TOL);
      }
    } finally {
      await rt.close();
      await rm(f.root, { recursive: true, force: true });
    }
  });
});
