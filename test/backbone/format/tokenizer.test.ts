import { describe, expect, it } from "vitest";
import { ModelError, InvalidInputError } from "../../../src/errors.js";
import { TINY_CONFIG } from "../../../src/backbone/config.js";
import { byteToUnicode, defaultTokenizerJson, DEFAULT_SPECIAL_IDS, DEFAULT_VOCAB_SIZE, SPECIAL_TOKENS } from "../../../src/backbone/byte_tokenizer.js";
import { BackboneTokenizer, checkTokenizerFits, MAX_TOKEN_ID } from "../../../src/backbone/tokenizer.js";
import { mulberry32 } from "../../../src/random/mulberry32.js";
import { catchModelError, expectNames } from "./helpers.js";

const FILE = "tokenizer.json";

/** The default tokenizer as it is read from disk: through JSON text. */
function json(): Record<string, unknown> {
  return JSON.parse(JSON.stringify(defaultTokenizerJson())) as Record<string, unknown>;
}
const tok = BackboneTokenizer.fromJson(json());
const utf8 = (s: string): number[] => [...new TextEncoder().encode(s)];

describe("default byte-level tokenizer.json", () => {
  it("uses GPT-2's bytes-to-unicode alphabet: 256 distinct single characters, printable bytes as themselves", () => {
    const map = byteToUnicode();
    expect(new Set(map).size).toBe(256);
    expect(map[0x41]).toBe("A");
    expect(map[0x20]).toBe("Ġ");
    expect(map[0x0a]).toBe("Ċ");
    expect(map[0x00]).toBe("Ā");
    expect(map[0xa0]).toBe("ł");
    expect(map[0xad]).toBe("Ń");
    expect(map[0xff]).toBe("ÿ");
  });

  it("has 264 ids = TINY_CONFIG.vocab_size: bytes 0..255, specials 256..259, four merges", () => {
    expect(DEFAULT_VOCAB_SIZE).toBe(TINY_CONFIG.vocab_size);
    expect(tok.vocabSize).toBe(264);
    expect({ pad: tok.padId, bos: tok.bosId, eos: tok.eosId, image: tok.imageId }).toEqual(DEFAULT_SPECIAL_IDS);
    const j = defaultTokenizerJson();
    expect(Object.keys(j.model.vocab).length).toBe(264);
    expect(new Set(Object.values(j.model.vocab)).size).toBe(264);
    expect(j.added_tokens.map((a) => [a.id, a.content, a.special])).toEqual([
      [256, "<|pad|>", true],
      [257, "<|bos|>", true],
      [258, "<|eos|>", true],
      [259, "<|image|>", true],
    ]);
    for (const id of [256, 257, 258, 259]) expect(tok.isSpecial(id)).toBe(true);
    expect(tok.isSpecial(65)).toBe(false);
  });

  it("token id b is byte b; the merges apply", () => {
    expect(tok.encode("A")).toEqual([65]);
    expect(tok.encode("é")).toEqual([0xc3, 0xa9]);
    expect(tok.encode("\u0000\u00ff")).toEqual([0x00, 0xc3, 0xbf]);
    // "Ġt" + "he" → "Ġthe" (262), "he" (261), "Ġm" (263).
    expect(tok.encode(" the")).toEqual([262]);
    expect(tok.encode("he")).toEqual([261]);
    expect(tok.encode("0.23 m")).toEqual([48, 46, 50, 51, 263]);
  });
});

describe("BackboneTokenizer round trip", () => {
  it.each([
    ["ASCII", "how far is the red mug from the bowl?"],
    ["accents", "é à ç ñ ü"],
    ["CJK", "日本語のテキスト"],
    ["emoji", "🙂 👍🏽 🏳️‍🌈"],
    ["numbers", "0.23 m, -1.5e-3 m, 42%"],
    ["whitespace", "  leading\n\ttabs\r\n  trailing  "],
    ["special-looking text", "x<|eos|>y <|image|><|bos|>"],
    ["empty", ""],
  ])("%s", (_, text) => {
    const ids = tok.encode(text);
    expect(tok.decode(ids)).toBe(text);
    // Byte-level: one id per byte except where a merge joined two.
    expect(ids.length).toBeLessThanOrEqual(utf8(text).length);
  });

  it("random Unicode strings (seeded) round-trip", () => {
    const rand = mulberry32(99);
    const ranges = [
      [0x20, 0x7e],
      [0xa0, 0x24f],
      [0x3040, 0x30ff],
      [0x4e00, 0x9fff],
      [0x1f300, 0x1faff],
      [0x0, 0x1f],
    ] as const;
    for (let i = 0; i < 300; i++) {
      let s = "";
      const n = Math.floor(rand() * 40);
      for (let k = 0; k < n; k++) {
        const [lo, hi] = ranges[Math.floor(rand() * ranges.length)]!;
        s += String.fromCodePoint(lo + Math.floor(rand() * (hi - lo + 1)));
      }
      expect(tok.decode(tok.encode(s))).toBe(s);
    }
  });

  it("text never becomes a special token: a question cannot inject <|eos|>", () => {
    for (const text of Object.values(SPECIAL_TOKENS)) {
      const ids = tok.encode(`ask ${text} now`);
      expect(ids.some((id) => tok.isSpecial(id))).toBe(false);
      expect(ids).toEqual([...utf8("ask "), ...tok.encode(text), ...utf8(" now")]);
    }
  });

  it("decodes special ids as their text (or skips them), unknown ids as U+FFFD", () => {
    const ids = [tok.bosId, ...tok.encode("hi"), tok.eosId];
    expect(tok.decode(ids)).toBe("<|bos|>hi<|eos|>");
    expect(tok.decode(ids, true)).toBe("hi");
    expect(tok.decode([104, 300, 105, -1])).toBe("h\uFFFDi\uFFFD");
    expect(tok.decode([])).toBe("");
    expect(() => tok.decode([1.5])).toThrow(InvalidInputError);
    expect(() => tok.encode(42 as unknown as string)).toThrow(InvalidInputError);
  });
});

describe("hostile tokenizer.json", () => {
  it.each([
    ["a string", "tokenizer"],
    ["an array", [1, 2]],
    ["null", null],
  ])("not an object: %s", (_, value) => {
    const e = catchModelError(() => BackboneTokenizer.fromJson(value));
    expectNames(e, FILE);
    expect(e.message).toContain("must be a JSON object");
  });

  it("no model, unsupported model type, bad vocab or merges", () => {
    const noModel = json();
    delete noModel.model;
    expect(catchModelError(() => BackboneTokenizer.fromJson(noModel)).message).toContain("has no model object");
    const cases: [(m: Record<string, unknown>) => void, string][] = [
      [(m) => (m.type = "CharLevel"), 'model.type "CharLevel" is not supported (BPE, WordPiece, Unigram are)'],
      [(m) => delete m.type, "model.type undefined is not supported"],
      [(m) => (m.vocab = [1, 2]), "model.vocab must be an object"],
      [(m) => ((m.vocab as Record<string, unknown>).A = -1), 'model.vocab["A"]: id -1 must be an integer'],
      [(m) => ((m.vocab as Record<string, unknown>).A = "65"), 'model.vocab["A"]: id "65" must be an integer'],
      // A huge id would make the library walk a sparse array of that length.
      [(m) => ((m.vocab as Record<string, unknown>).A = 2 ** 30), `must be an integer in [0, ${MAX_TOKEN_ID}]`],
      [(m) => (m.merges = "Ġ t"), "model.merges must be a list"],
      [(m) => (m.type = "Unigram"), "model.vocab must be a list of [piece, score]"],
    ];
    for (const [damage, message] of cases) {
      const j = json();
      damage(j.model as Record<string, unknown>);
      const e = catchModelError(() => BackboneTokenizer.fromJson(j));
      expectNames(e, FILE);
      expect(e.message).toContain(message);
    }
  });

  it("what the library refuses is a ModelError carrying its reason", () => {
    const j = json();
    j.pre_tokenizer = { type: "NoSuchPreTokenizer" };
    const e = catchModelError(() => BackboneTokenizer.fromJson(j));
    expectNames(e, FILE);
    expect(e.message).toContain("does not load with @huggingface/tokenizers: Unknown PreTokenizer type: NoSuchPreTokenizer");
    const nested = json();
    let deep: Record<string, unknown> = { type: "Lowercase" };
    for (let i = 0; i < 20_000; i++) deep = { type: "Sequence", normalizers: [deep] };
    nested.normalizer = deep;
    // Either the library copes or it overflows its stack: never anything but a ModelError.
    try {
      BackboneTokenizer.fromJson(nested);
    } catch (err) {
      expect(err).toBeInstanceOf(ModelError);
    }
  });

  it("added_tokens malformed", () => {
    const j = json();
    j.added_tokens = { id: 1 };
    expect(catchModelError(() => BackboneTokenizer.fromJson(j)).message).toContain("added_tokens must be a list");
    const k = json();
    (k.added_tokens as unknown[]).push({ id: 5 });
    expect(catchModelError(() => BackboneTokenizer.fromJson(k)).message).toContain("added_tokens[4] must be an object with a string content");
  });

  it("a missing special token is named", () => {
    const j = json();
    j.added_tokens = (j.added_tokens as { content: string }[]).filter((a) => a.content !== "<|image|>");
    delete (j.model as { vocab: Record<string, number> }).vocab["<|image|>"];
    const e = catchModelError(() => BackboneTokenizer.fromJson(j, "models/x/tokenizer.json"));
    expectNames(e, "models/x/tokenizer.json");
    expect(e.message).toContain("special token <|image|> is missing (the backbone needs <|pad|>, <|bos|>, <|eos|>, <|image|>)");
  });

  it("mutated default tokenizers (seeded): a tokenizer that works or a ModelError, nothing else", () => {
    const rand = mulberry32(5);
    const junk = [null, 0, -1, 1.5, "", "BPE", [], {}, [null], { type: "ByteLevel" }, true, 2 ** 40];
    const paths: string[][] = [["model"], ["model", "type"], ["model", "vocab"], ["model", "merges"], ["model", "unk_token"], ["pre_tokenizer"], ["pre_tokenizer", "type"], ["decoder"], ["decoder", "type"], ["normalizer"], ["post_processor"], ["added_tokens"], ["added_tokens", "0"], ["added_tokens", "0", "id"], ["added_tokens", "0", "content"], ["model", "vocab", "Ġ"]];
    let ok = 0;
    let refused = 0;
    for (let i = 0; i < 200; i++) {
      const j = json();
      const path = paths[Math.floor(rand() * paths.length)]!;
      let at: Record<string, unknown> = j;
      for (const key of path.slice(0, -1)) at = at[key] as Record<string, unknown>;
      at[path[path.length - 1]!] = junk[Math.floor(rand() * junk.length)];
      try {
        const t = BackboneTokenizer.fromJson(j);
        t.decode(t.encode("the mug is 0.23 m away"));
        ok++;
      } catch (e) {
        if (!(e instanceof ModelError)) throw new Error(`${path.join(".")}: ${String(e)} is not a ModelError`);
        refused++;
      }
    }
    expect(ok).toBeGreaterThan(0);
    expect(refused).toBeGreaterThan(50);
  });
});

describe("checkTokenizerFits", () => {
  it("passes when the vocabulary fits config.vocab_size (equal or smaller)", () => {
    checkTokenizerFits(TINY_CONFIG, tok);
    checkTokenizerFits({ ...TINY_CONFIG, vocab_size: 50_000 }, tok);
  });

  it("refuses a tokenizer bigger than the model's vocabulary, naming both files", () => {
    const e = catchModelError(() => checkTokenizerFits({ ...TINY_CONFIG, vocab_size: 260 }, tok));
    expectNames(e, FILE);
    expect(e.message).toBe(
      "tokenizer.json: vocabulary has 264 ids but config.json has vocab_size 260: the model has no embedding for ids 260..263 — tokenizer and config do not belong together",
    );
  });
});
