import { describe, expect, it } from "vitest";
import * as ort from "onnxruntime-node";
import { GraphBuilder, float, SLICE_END } from "../../../src/backbone/onnx/graph_builder.js";

const OPTS: ort.InferenceSession.SessionOptions = { intraOpNumThreads: 1, interOpNumThreads: 1 };

describe("GraphBuilder", () => {
  it("builds a model ORT loads and runs: linear with pre-transposed weight, symbolic batch", async () => {
    const g = new GraphBuilder("lin");
    const x = g.input("x", "float", ["B", 3]);
    const w = Float32Array.from([1, 2, 3, 4, 5, 6]); // [out 2, in 3]
    const y = g.linear(x, "fc", w, 2, 3, Float32Array.from([0.5, -1]));
    g.output("y", "float", ["B", 2], g.op("LeakyRelu", [y], { alpha: float(0.25) }));
    const s = await ort.InferenceSession.create(g.toModelBytes(), OPTS);
    expect(s.inputNames).toEqual(["x"]);
    expect(s.outputNames).toEqual(["y"]);
    const xs = Float32Array.from([1, 0, -1, 2, 1, 0]);
    const out = (await s.run({ x: new ort.Tensor("float32", xs, [2, 3]) })).y;
    expect(out.dims).toEqual([2, 2]);
    const expected = [];
    for (let b = 0; b < 2; b++) for (let o = 0; o < 2; o++) {
      let v = [0.5, -1][o];
      for (let i = 0; i < 3; i++) v += xs[b * 3 + i] * w[o * 3 + i];
      expected.push(v < 0 ? 0.25 * v : v);
    }
    expect(Array.from(out.data as Float32Array)).toEqual(expected);
  });

  it("runs a Scan body graph (running sum over axis 1) with outer-scope values", async () => {
    const g = new GraphBuilder("scan");
    const xs = g.input("xs", "float", ["B", "T", 2]);
    const h0 = g.input("h0", "float", ["B", 2]);
    const scale = g.floats([2, 3], [2]);
    const body = g.subgraph("body");
    const hp = body.input("h_prev", "float", undefined);
    const xt = body.input("x_t", "float", undefined);
    const hn = body.add(hp, body.mul(xt, scale)); // reads `scale` from the outer graph
    body.output("h_next", "float", undefined, hn);
    body.output("h_seq", "float", undefined, body.op("Identity", [hn]));
    const [hT, seq] = g.node("Scan", [h0, xs], 2, { body, num_scan_inputs: 1, scan_input_axes: [1], scan_output_axes: [1] });
    g.output("h_T", "float", ["B", 2], hT);
    g.output("seq", "float", ["B", "T", 2], seq);
    g.output("last", "float", ["B", 1, 2], g.slice(seq, 1, -1, SLICE_END));
    const s = await ort.InferenceSession.create(g.toModelBytes(), OPTS);
    const x = Float32Array.from({ length: 2 * 4 * 2 }, (_, i) => i * 0.5 - 3);
    const r = await s.run({ xs: new ort.Tensor("float32", x, [2, 4, 2]), h0: new ort.Tensor("float32", Float32Array.from([1, 1, -1, 0]), [2, 2]) });
    const h = [1, 1, -1, 0];
    const seqExp: number[] = new Array(16).fill(0);
    for (let b = 0; b < 2; b++) for (let t = 0; t < 4; t++) for (let c = 0; c < 2; c++) {
      h[b * 2 + c] += x[(b * 4 + t) * 2 + c] * [2, 3][c];
      seqExp[(b * 4 + t) * 2 + c] = h[b * 2 + c];
    }
    expect(Array.from(r.h_T.data as Float32Array)).toEqual(h);
    expect(Array.from(r.seq.data as Float32Array)).toEqual(seqExp);
    expect(r.last.dims).toEqual([2, 1, 2]);
  });

  it("refuses duplicate value names and non-integer INT attributes", () => {
    const g = new GraphBuilder("dup");
    g.input("x", "float", [1]);
    expect(() => g.input("x", "float", [1])).toThrow(/already defined/);
    g.output("y", "float", [1], g.op("LeakyRelu", ["x"], { alpha: 0.5 }));
    expect(() => g.toModelBytes()).toThrow(/not an integer/);
  });

  it("shares equal small constants", () => {
    const g = new GraphBuilder("c");
    expect(g.ints([1, 2])).toBe(g.ints([1, 2]));
    expect(g.ints([1, 2])).not.toBe(g.ints([2, 1]));
  });
});
