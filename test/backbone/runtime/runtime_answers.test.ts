import { promptIds } from "../../../src/backbone/prompt.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { writeModelFolder } from "../../../nodes/backbone/model_folder.js";
import { BackboneRuntime } from "../../../nodes/backbone/backbone_runtime.js";
import { randomWeights } from "../../../src/backbone/random_init.js";
import { BackboneTokenizer } from "../../../src/backbone/tokenizer.js";
import { defaultTokenizerJson } from "../../../src/backbone/byte_tokenizer.js";
import { referenceDecode, referenceLmHead, referenceMambaPrefill } from "../../../src/backbone/reference/mamba_reference.js";
import { argmaxRows } from "../../../src/backbone/argmax.js";
import { RUNTIME_SMALL, maxAbsDiff, randomImage } from "./helpers.js";

/**
 * Seeded weights with the projector's output and the mixers' out_proj scaled up: visual tokens
 * then move the stream state, and the state the logits, enough that two streams' answers differ (with plain seeded weights the answer hardly depends on
 * the state, so a fork from the wrong slot would go unseen).
 */
const weights = randomWeights(RUNTIME_SMALL, 7);
(weights.get("projector.fc2.weight") as Float32Array).forEach((v, i, a) => (a[i] = v * 200));
for (let l = 0; l < RUNTIME_SMALL.n_layer; l++) (weights.get(`backbone.layers.${l}.mixer.out_proj.weight`) as Float32Array).forEach((v, i, a) => (a[i] = v * 30));
const tokenizer = BackboneTokenizer.fromJson(defaultTokenizerJson(), "tokenizer.json (default)");

/** The TS reference answer from a state: prefill BOS + question, lm_head, argmax, then greedy decode steps. */
function referenceAnswer(state: { conv: Float32Array; ssm: Float32Array }, question: string, maxTokens: number): { ids: number[]; firstLogits: Float32Array } {
  const c = RUNTIME_SMALL, d = c.d_model;
  const emb = weights.get("backbone.embeddings.weight") as Float32Array;
  const prompt = promptIds((t) => tokenizer.encode(t), tokenizer.bosId, question);
  const embeds = new Float32Array(prompt.length * d);
  prompt.forEach((id, t) => embeds.set(emb.subarray(id * d, (id + 1) * d), t * d));
  const pre = referenceMambaPrefill(c, weights, embeds, 1, prompt.length, state.conv, state.ssm);
  const firstLogits = referenceLmHead(c, weights, pre.hidden, 1);
  let tok = Number(argmaxRows(firstLogits, 1, c.vocab_size)[0]);
  let conv = pre.convStateOut, ssm = pre.ssmStateOut;
  const ids: number[] = [];
  while (tok !== tokenizer.eosId && ids.length < maxTokens) {
    ids.push(tok);
    if (ids.length === maxTokens) break;
    const r = referenceDecode(c, weights, BigInt64Array.of(BigInt(tok)), conv, ssm);
    conv = r.convStateOut;
    ssm = r.ssmStateOut;
    tok = Number(r.nextToken[0]);
  }
  return { ids, firstLogits };
}

describe("answers come from the asking stream's state", () => {
  let rt: BackboneRuntime;
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "backbone-answers-"));
    await writeModelFolder(dir, { config: RUNTIME_SMALL, weights, tokenizerJson: defaultTokenizerJson() });
    rt = await BackboneRuntime.open({ model: { dir }, maxStreams: 4 });
    rt.addStream("q1");
    rt.addStream("q2");
    for (let i = 0; i < 3; i++) await rt.pushFrame("q1", randomImage(20 + i));
    await rt.pushFrame("q2", randomImage(90));
  });
  afterAll(async () => {
    await rt.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("tokenIds equal the TS reference run from readState, and another stream's state gives other logits and ids", async () => {
    const s1 = await rt.readState("q1");
    const s2 = await rt.readState("q2");
    // The two states must lead to different answers, or a fork from the wrong slot would pass
    // unseen: of a few questions, take the first whose reference answers differ (the search is on
    // the reference alone; the runtime is then held to both answers).
    let q = "";
    let ref1 = referenceAnswer(s1, q, 8), ref2 = ref1;
    for (const cand of ["mug?", "where?", "how far is the mug from the bowl?", "is it left?", "cup", "a", "the bowl"]) {
      ref1 = referenceAnswer(s1, cand, 8);
      ref2 = referenceAnswer(s2, cand, 8);
      expect(maxAbsDiff(ref1.firstLogits, ref2.firstLogits)).toBeGreaterThan(1e-3);
      q = cand;
      if (ref1.ids.join() !== ref2.ids.join()) break;
    }
    expect(ref1.ids, `no question separates the two states (last: "${q}")`).not.toEqual(ref2.ids);
    const a1 = await rt.ask("q1", q, { maxTokens: 8 });
    const a2 = await rt.ask("q2", q, { maxTokens: 8 });
    expect(a1.tokenIds).toEqual(ref1.ids);
    expect(a2.tokenIds).toEqual(ref2.ids);
  });

  it("questions asked together share decode runs and get exactly the ids each gets alone", async () => {
    const qs: [string, string][] = [
      ["q1", "how far is the mug from the bowl?"],
      ["q2", "how far is the mug from the bowl?"], // same length: one prefill run for both
      ["q1", "is the cup left of the plate?"],
      ["q2", "what?"],
    ];
    const alone = [];
    for (const [s, q] of qs) alone.push(await rt.ask(s, q, { maxTokens: 10 }));
    for (const a of alone) expect(a.batch).toBe(1);
    const runs0 = rt.stats().decodeRuns;
    const together = await Promise.all(qs.map(([s, q]) => rt.ask(s, q, { maxTokens: 10 })));
    const runs = rt.stats().decodeRuns - runs0;
    for (let i = 0; i < qs.length; i++) {
      // Ids, not logits: a batch of 4 rounds differently from a batch of 1 (last bits), argmax does not.
      expect(together[i].tokenIds).toEqual(alone[i].tokenIds);
      expect(together[i].batch).toBe(4);
    }
    const tokens = together.reduce((n, a) => n + a.tokenIds.length, 0);
    // Alone, each answer takes one decode run per token; together, one run serves every question still decoding.
    expect(runs).toBeLessThan(tokens);
    expect(runs).toBe(Math.max(...together.map((a) => a.tokenIds.length)));
    const st = rt.stats();
    expect(st.asks).toBe(st.asksDone + st.asksFailed + st.asksInFlight);
    expect(st.asksInFlight).toBe(0);
  });

  it("an answer that ends before the others leaves the batch and the ones after it move down: each still gets its own ids (empty question too)", async () => {
    // The batch is ordered by prompt length: "" (BOS only), "what?", then the two long ones. With
    // maxTokens 1, "what?" ends after the first decode run while members after it go on, so their
    // states must move down one slot to stay one consecutive view.
    const qs: [string, string, number][] = [
      ["q1", "", 3],
      ["q2", "what?", 1],
      ["q1", "is the cup left of the plate?", 9],
      ["q2", "how far is the mug from the bowl?", 6],
    ];
    const alone = [];
    for (const [s, q, n] of qs) alone.push(await rt.ask(s, q, { maxTokens: n }));
    // Preconditions: a member before the last leaves first, and the members after it go on.
    expect(alone[1].tokenIds.length).toBeLessThanOrEqual(1);
    expect(alone[2].tokenIds.length).toBeGreaterThan(alone[1].tokenIds.length + 1);
    expect(alone[3].tokenIds.length).toBeGreaterThan(alone[1].tokenIds.length + 1);
    expect(alone[0].tokenIds.length).toBeGreaterThan(0); // the empty question answers too
    const runs0 = rt.stats().decodeRuns;
    const together = await Promise.all(qs.map(([s, q, n]) => rt.ask(s, q, { maxTokens: n })));
    for (let i = 0; i < qs.length; i++) {
      expect(together[i].batch).toBe(4);
      expect(together[i].tokenIds, `question ${i} "${qs[i][1]}"`).toEqual(alone[i].tokenIds);
    }
    expect(rt.stats().decodeRuns - runs0).toBe(Math.max(...alone.map((a) => a.tokenIds.length)));
  });
});

describe("setQuestion guides coarse-to-fine", () => {
  it("null clears a stream's question, and so does \"\" (a question with no tokens is no question): states equal a never-guided stream's exactly", async () => {
    const config = { ...RUNTIME_SMALL, coarse_to_fine: { keep_ratio: 0.25 } };
    const w = randomWeights(config, 7);
    (w.get("backbone.embeddings.weight") as Float32Array).forEach((v, i, a) => (a[i] = v * 2000));
    const dir = await mkdtemp(join(tmpdir(), "backbone-setq-clear-"));
    await writeModelFolder(dir, { config, weights: w, tokenizerJson: defaultTokenizerJson() });
    const rt = await BackboneRuntime.open({ model: { dir }, maxStreams: 4, coarseToFine: true });
    try {
      const q = "where is the red mug on the table?";
      for (const n of ["a", "b", "c", "guided"]) rt.addStream(n);
      rt.setQuestion("b", q);
      rt.setQuestion("b", null);
      rt.setQuestion("c", q);
      rt.setQuestion("c", "");
      rt.setQuestion("guided", q);
      // One frame alone per stream (the same batch shape for each): only the question may differ.
      for (const n of ["a", "b", "c", "guided"]) await rt.pushFrame(n, randomImage(5));
      const a = await rt.readState("a");
      // The question does reach the selection, so a clear that did not clear would show.
      expect(maxAbsDiff(a.ssm, (await rt.readState("guided")).ssm)).toBeGreaterThan(1e-4);
      for (const n of ["b", "c"]) {
        const st = await rt.readState(n);
        expect(maxAbsDiff(a.ssm, st.ssm), n).toBe(0);
        expect(maxAbsDiff(a.conv, st.conv), n).toBe(0);
      }
      expect(rt.stats().errors).toEqual({});
    } finally {
      await rt.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("a stream's question changes the patches kept for its next frames; null clears it", async () => {
    // Seeded embeddings (std 0.02) make the question term ~1e-4 of the keep scores, too small to
    // move a selection; scaled up, the term decides, so a question that never reaches vision_c2f fails.
    const config = { ...RUNTIME_SMALL, coarse_to_fine: { keep_ratio: 0.25 } };
    const w = randomWeights(config, 7);
    (w.get("backbone.embeddings.weight") as Float32Array).forEach((v, i, a) => (a[i] = v * 2000));
    const dir = await mkdtemp(join(tmpdir(), "backbone-setq-"));
    await writeModelFolder(dir, { config, weights: w, tokenizerJson: defaultTokenizerJson() });
    const rt = await BackboneRuntime.open({ model: { dir }, maxStreams: 4, coarseToFine: true });
    try {
      const c2f = rt.info.graphs.find((g) => g.name === "vision_c2f");
      expect(c2f?.inputs).toContain("question");
      for (const n of ["plain", "guided"]) rt.addStream(n);
      rt.setQuestion("guided", "where is the red mug on the table?");
      // One frame alone per stream (same batch shape): only the question differs.
      await rt.pushFrame("plain", randomImage(5));
      await rt.pushFrame("guided", randomImage(5));
      expect(maxAbsDiff((await rt.readState("plain")).ssm, (await rt.readState("guided")).ssm)).toBeGreaterThan(1e-4);
      // Cleared: the next fresh stream given the same frame matches the unguided one bit for bit.
      rt.setQuestion("guided", null);
      rt.removeStream("guided");
      rt.addStream("again");
      await rt.pushFrame("again", randomImage(5));
      expect(maxAbsDiff((await rt.readState("plain")).ssm, (await rt.readState("again")).ssm)).toBe(0);
      rt.setQuestion("again", "where is the red mug on the table?");
      rt.setQuestion("again", null);
      rt.addStream("fresh");
      await rt.pushFrame("fresh", randomImage(6));
      await rt.pushFrame("again", randomImage(6));
      expect(rt.stats().errors).toEqual({});
      expect(() => rt.setQuestion("nobody", "x")).toThrow(/no stream/);
      expect(() => rt.setQuestion("again", "a".repeat(5000))).toThrow(/at most/);
    } finally {
      await rt.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
