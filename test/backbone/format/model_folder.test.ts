import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { initModelFolder, readModelFolder, writeModelFolder } from "../../../nodes/backbone/model_folder.js";
import { defaultTokenizerJson } from "../../../src/backbone/byte_tokenizer.js";
import { expectedTensors } from "../../../src/backbone/tensor_names.js";
import { parseSafetensors, writeSafetensors } from "../../../src/backbone/safetensors.js";
import { randomWeights } from "../../../src/backbone/random_init.js";
import { SMALL_FORMAT_CONFIG as SMALL_CONFIG } from "../fixtures.js";
import { catchModelErrorAsync, expectNames, seededWeights } from "./helpers.js";

let root: string;
let n = 0;
beforeAll(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), "sr-model-folder-"));
});
afterAll(() => {
  fs.rmSync(root, { recursive: true, force: true });
});

/** A fresh valid folder of SMALL_CONFIG with seeded weights. */
async function validFolder(seed = 1): Promise<string> {
  const dir = path.join(root, `m${n++}`);
  await writeModelFolder(dir, { config: SMALL_CONFIG, weights: seededWeights(SMALL_CONFIG, seed), tokenizerJson: defaultTokenizerJson() });
  return dir;
}

function bits(a: Float32Array): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

describe("model folder: write and read back", () => {
  it("round-trips config, weights (bit-equal) and tokenizer; creates the folder; lists the files", async () => {
    const weights = seededWeights(SMALL_CONFIG, 3);
    const dir = path.join(root, "nested", "deeper", "model");
    await writeModelFolder(dir, { config: SMALL_CONFIG, weights, tokenizerJson: defaultTokenizerJson() });
    expect(fs.readdirSync(dir).sort()).toEqual(["config.json", "model.safetensors", "tokenizer.json"]);
    const m = await readModelFolder(dir);
    expect(m.config).toEqual(SMALL_CONFIG);
    expect([...m.weights.keys()]).toEqual(expectedTensors(SMALL_CONFIG).map((s) => s.name));
    for (const [name, data] of m.weights) expect(bits(data)).toEqual(bits(weights.get(name)!));
    expect(m.tokenizer.decode(m.tokenizer.encode("the mug is 0.23 m from 日本 🙂"))).toBe("the mug is 0.23 m from 日本 🙂");
    expect(m.tokenizerJson).toEqual(JSON.parse(JSON.stringify(defaultTokenizerJson())));
    expect(m.files.map((f) => f.name)).toEqual(["config.json", "model.safetensors", "tokenizer.json"]);
    for (const f of m.files) expect(f.bytes).toBe(fs.statSync(path.join(dir, f.name)).size);
  });

  it("writes config.json pretty-printed and model.safetensors readable by the reference's rules, with format pt", async () => {
    const dir = await validFolder();
    const text = fs.readFileSync(path.join(dir, "config.json"), "utf8");
    expect(text).toContain('\n  "d_model": 16,');
    expect(text.endsWith("}\n")).toBe(true);
    const bytes = new Uint8Array(fs.readFileSync(path.join(dir, "model.safetensors")));
    const headerLen = new DataView(bytes.buffer, bytes.byteOffset).getUint32(0, true);
    expect(headerLen % 8).toBe(0);
    const f = parseSafetensors(bytes);
    expect(f.metadata).toEqual({ format: "pt" });
    expect([...f.tensors.keys()]).toEqual(expectedTensors(SMALL_CONFIG).map((s) => s.name).sort());
    expect(fs.readdirSync(dir).some((name) => name.includes(".tmp-"))).toBe(false);
  });

  it("initModelFolder writes randomWeights(config, seed), marked untrained, with the default tokenizer", async () => {
    const dir = path.join(root, "init");
    await initModelFolder(dir, { ...SMALL_CONFIG, trained: true }, 42);
    const m = await readModelFolder(dir);
    expect(m.config.trained).toBe(false);
    const expected = randomWeights({ ...SMALL_CONFIG, trained: false }, 42);
    for (const [name, data] of m.weights) expect(bits(data)).toEqual(bits(expected.get(name)!));
    expect(m.tokenizer.bosId).toBe(257);
    const again = path.join(root, "init-again");
    await initModelFolder(again, SMALL_CONFIG, 42);
    expect(fs.readFileSync(path.join(again, "model.safetensors"))).toEqual(fs.readFileSync(path.join(dir, "model.safetensors")));
  });

  it("refuses to write a folder it could not read back", async () => {
    const w = seededWeights(SMALL_CONFIG, 1);
    w.delete("backbone.norm_f.weight");
    const missing = await catchModelErrorAsync(() => writeModelFolder(path.join(root, "w1"), { config: SMALL_CONFIG, weights: w, tokenizerJson: defaultTokenizerJson() }));
    expectNames(missing, "model.safetensors", "backbone.norm_f.weight");
    const extra = seededWeights(SMALL_CONFIG, 1);
    extra.set("lm_head.weight", new Float32Array(264 * 16));
    expectNames(await catchModelErrorAsync(() => writeModelFolder(path.join(root, "w2"), { config: SMALL_CONFIG, weights: extra, tokenizerJson: defaultTokenizerJson() })), "model.safetensors", "lm_head.weight");
    const small = { ...SMALL_CONFIG, vocab_size: 260 };
    expectNames(await catchModelErrorAsync(() => writeModelFolder(path.join(root, "w3"), { config: small, weights: seededWeights(small, 1), tokenizerJson: defaultTokenizerJson() })), "tokenizer.json");
    expectNames(await catchModelErrorAsync(() => writeModelFolder(path.join(root, "w4"), { config: { ...SMALL_CONFIG, d_model: 0 }, weights: w, tokenizerJson: defaultTokenizerJson() })), "config.json");
    expect(fs.existsSync(path.join(root, "w1"))).toBe(false);
  });
});

describe("model folder: every failure names the file (and tensor)", () => {
  it("folder missing, or a file instead of a folder", async () => {
    const gone = path.join(root, "does-not-exist");
    const e = await catchModelErrorAsync(() => readModelFolder(gone));
    expectNames(e, gone);
    expect(e.message).toContain("model folder cannot be opened: does not exist");
    const file = path.join(root, "plain-file");
    fs.writeFileSync(file, "x");
    expect((await catchModelErrorAsync(() => readModelFolder(file))).message).toContain("is not a folder");
  });

  it.each([["config.json"], ["model.safetensors"], ["tokenizer.json"]])("%s missing", async (name) => {
    const dir = await validFolder();
    fs.rmSync(path.join(dir, name));
    const e = await catchModelErrorAsync(() => readModelFolder(dir));
    expectNames(e, name);
    expect(e.message).toBe(`${name}: missing from the model folder ${dir}`);
  });

  it("a folder where a file should be is unreadable", async () => {
    const dir = await validFolder();
    fs.rmSync(path.join(dir, "tokenizer.json"));
    fs.mkdirSync(path.join(dir, "tokenizer.json"));
    const e = await catchModelErrorAsync(() => readModelFolder(dir));
    expectNames(e, "tokenizer.json");
    expect(e.message).toContain("is not a regular file");
  });

  it("config.json not JSON, not UTF-8, or invalid", async () => {
    const dir = await validFolder();
    fs.writeFileSync(path.join(dir, "config.json"), '{"d_model": 16,');
    expect((await catchModelErrorAsync(() => readModelFolder(dir))).message).toMatch(/^config\.json: is not valid JSON/);
    fs.writeFileSync(path.join(dir, "config.json"), Buffer.from([0x7b, 0xff, 0x7d]));
    expect((await catchModelErrorAsync(() => readModelFolder(dir))).message).toBe("config.json: is not valid UTF-8 text");
    fs.writeFileSync(path.join(dir, "config.json"), JSON.stringify({ ...SMALL_CONFIG, d_state: -4 }));
    const e = await catchModelErrorAsync(() => readModelFolder(dir));
    expectNames(e, "config.json");
    expect(e.message).toContain("d_state must be an integer");
  });

  it("model.safetensors truncated names the tensor that runs past the end", async () => {
    const dir = await validFolder();
    const file = path.join(dir, "model.safetensors");
    const bytes = fs.readFileSync(file);
    fs.writeFileSync(file, bytes.subarray(0, bytes.length - 10));
    const e = await catchModelErrorAsync(() => readModelFolder(dir));
    // Tensors are stored in name order: the last is vision.siglip.pos_embed_coarse.
    expectNames(e, "model.safetensors", "vision.siglip.pos_embed_coarse");
    expect(e.message).toContain("file truncated?");
    fs.writeFileSync(file, bytes.subarray(0, 5));
    expect((await catchModelErrorAsync(() => readModelFolder(dir))).message).toContain("too short for the 8-byte header length");
  });

  it("a tensor of the wrong shape", async () => {
    const dir = await validFolder();
    const shapes = new Map(expectedTensors(SMALL_CONFIG).map((s) => [s.name, s.shape]));
    const tensors = new Map([...seededWeights(SMALL_CONFIG, 1)].map(([name, data]) => [name, { shape: name === "backbone.layers.1.mixer.x_proj.weight" ? [32, 12] : shapes.get(name)!, data }]));
    fs.writeFileSync(path.join(dir, "model.safetensors"), writeSafetensors(tensors));
    const e = await catchModelErrorAsync(() => readModelFolder(dir));
    expectNames(e, "model.safetensors", "backbone.layers.1.mixer.x_proj.weight");
    expect(e.message).toBe(
      "model.safetensors (backbone.layers.1.mixer.x_proj.weight): shape [32, 12] but config.json (dt_rank 4, d_state 4, expand 2, d_model 16) expects [12, 32] — config does not match the weights",
    );
  });

  it("a config that does not match the weights", async () => {
    const dir = await validFolder();
    fs.writeFileSync(path.join(dir, "config.json"), JSON.stringify({ ...SMALL_CONFIG, d_state: 8 }, null, 2));
    const e = await catchModelErrorAsync(() => readModelFolder(dir));
    expectNames(e, "model.safetensors", "backbone.layers.0.mixer.x_proj.weight");
    expect(e.message).toContain("config.json (dt_rank 4, d_state 8, expand 2, d_model 16) expects [20, 32] — config does not match the weights (and 3 more problems)");
    fs.writeFileSync(path.join(dir, "config.json"), JSON.stringify({ ...SMALL_CONFIG, tie_embeddings: false }, null, 2));
    const head = await catchModelErrorAsync(() => readModelFolder(dir));
    expectNames(head, "model.safetensors", "lm_head.weight");
    expect(head.message).toContain("config.json has tie_embeddings false");
  });

  it("tokenizer.json not JSON, not loading, or bigger than the config's vocabulary", async () => {
    const dir = await validFolder();
    const tokFile = path.join(dir, "tokenizer.json");
    fs.writeFileSync(tokFile, "{not json");
    expect((await catchModelErrorAsync(() => readModelFolder(dir))).message).toMatch(/^tokenizer\.json: is not valid JSON/);
    fs.writeFileSync(tokFile, JSON.stringify({ ...defaultTokenizerJson(), decoder: { type: "Nope" } }));
    const e = await catchModelErrorAsync(() => readModelFolder(dir));
    expectNames(e, "tokenizer.json");
    expect(e.message).toContain("Unknown Decoder type: Nope");
    // A model with 260 embeddings beside the 264-id default tokenizer.
    const small = { ...SMALL_CONFIG, vocab_size: 260 };
    fs.writeFileSync(tokFile, JSON.stringify(defaultTokenizerJson()));
    fs.writeFileSync(path.join(dir, "config.json"), JSON.stringify(small));
    const shapes = new Map(expectedTensors(small).map((s) => [s.name, s.shape]));
    fs.writeFileSync(path.join(dir, "model.safetensors"), writeSafetensors(new Map([...seededWeights(small, 1)].map(([k, data]) => [k, { shape: shapes.get(k)!, data }]))));
    const big = await catchModelErrorAsync(() => readModelFolder(dir));
    expectNames(big, "tokenizer.json");
    expect(big.message).toContain("vocabulary has 264 ids but config.json has vocab_size 260");
  });

  it("files over the size caps are refused before they are read (sparse files: no disk used)", async () => {
    const dir = await validFolder();
    fs.truncateSync(path.join(dir, "config.json"), 16 * 1024 * 1024 + 1);
    const e = await catchModelErrorAsync(() => readModelFolder(dir));
    expectNames(e, "config.json");
    expect(e.message).toBe("config.json: is 16777217 bytes, over the 16 MiB limit for config.json; not read");
    const dir2 = await validFolder();
    fs.truncateSync(path.join(dir2, "model.safetensors"), 4 * 1024 ** 3 + 1);
    const w = await catchModelErrorAsync(() => readModelFolder(dir2));
    expectNames(w, "model.safetensors");
    expect(w.message).toBe("model.safetensors: is 4294967297 bytes, over the 4 GiB limit for model.safetensors; not read");
  });
});
