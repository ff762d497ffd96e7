/**
 * The default tokenizer, generated rather than shipped: a Hugging Face `tokenizer.json` for a
 * byte-level BPE (GPT-2's scheme). Token id b is byte b (0..255), so any UTF-8 text encodes and
 * decodes losslessly; then the four special tokens; then a few merges, enough to exercise the
 * BPE path; 264 ids in all = TINY_CONFIG.vocab_size. The file is what Python `tokenizers`
 * writes for such a model, so a model trained with it in PyTorch drops in.
 */

export const SPECIAL_TOKENS = {
  pad: "<|pad|>",
  bos: "<|bos|>",
  eos: "<|eos|>",
  image: "<|image|>",
} as const;

export type SpecialTokenRole = keyof typeof SPECIAL_TOKENS;

/** Ids of the default tokenizer's special tokens: right after the 256 bytes. */
export const DEFAULT_SPECIAL_IDS: Readonly<Record<SpecialTokenRole, number>> = { pad: 256, bos: 257, eos: 258, image: 259 };

/** Merges in rank order (left and right in the byte-level alphabet: Ġ is the space byte). */
const MERGES: readonly (readonly [string, string])[] = [
  ["Ġ", "t"],
  ["h", "e"],
  ["Ġt", "he"],
  ["Ġ", "m"],
];

export const DEFAULT_VOCAB_SIZE = 256 + 4 + MERGES.length;

/**
 * GPT-2's bytes_to_unicode: printable Latin-1 bytes map to themselves, the other 68 bytes to
 * U+0100 upward, so every byte is one visible character and a token is a plain string.
 */
export function byteToUnicode(): string[] {
  const keep = (b: number): boolean => (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
  const out = new Array<string>(256);
  let n = 0;
  for (let b = 0; b < 256; b++) out[b] = String.fromCodePoint(keep(b) ? b : 256 + n++);
  return out;
}

export interface AddedTokenJson {
  readonly id: number;
  readonly content: string;
  readonly single_word: boolean;
  readonly lstrip: boolean;
  readonly rstrip: boolean;
  readonly normalized: boolean;
  readonly special: boolean;
}

/** The fields of a byte-level BPE tokenizer.json, in the order the Rust library writes them. */
export interface ByteLevelTokenizerJson {
  readonly version: "1.0";
  readonly truncation: null;
  readonly padding: null;
  readonly added_tokens: readonly AddedTokenJson[];
  readonly normalizer: null;
  readonly pre_tokenizer: { readonly type: "ByteLevel"; readonly add_prefix_space: false; readonly trim_offsets: true; readonly use_regex: true };
  readonly post_processor: null;
  readonly decoder: { readonly type: "ByteLevel"; readonly add_prefix_space: true; readonly trim_offsets: true; readonly use_regex: true };
  readonly model: {
    readonly type: "BPE";
    readonly dropout: null;
    readonly unk_token: null;
    readonly continuing_subword_prefix: null;
    readonly end_of_word_suffix: null;
    readonly fuse_unk: false;
    readonly byte_fallback: false;
    readonly ignore_merges: false;
    readonly vocab: Readonly<Record<string, number>>;
    /** "left right" strings: the format every version of the Python library reads. */
    readonly merges: readonly string[];
  };
}

/** A fresh default tokenizer.json object (JSON.stringify it to write the file). */
export function defaultTokenizerJson(): ByteLevelTokenizerJson {
  const bytes = byteToUnicode();
  const vocab: Record<string, number> = {};
  bytes.forEach((ch, b) => {
    vocab[ch] = b;
  });
  const added: AddedTokenJson[] = [];
  for (const role of Object.keys(SPECIAL_TOKENS) as SpecialTokenRole[]) {
    const id = DEFAULT_SPECIAL_IDS[role];
    const content = SPECIAL_TOKENS[role];
    // Also in the model vocab (as GPT-2 keeps <|endoftext|>), so the BPE vocab has no holes.
    vocab[content] = id;
    added.push({ id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true });
  }
  let next = 256 + added.length;
  for (const [l, r] of MERGES) vocab[l + r] = next++;
  return {
    version: "1.0",
    truncation: null,
    padding: null,
    added_tokens: added,
    normalizer: null,
    pre_tokenizer: { type: "ByteLevel", add_prefix_space: false, trim_offsets: true, use_regex: true },
    post_processor: null,
    decoder: { type: "ByteLevel", add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: {
      type: "BPE",
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: null,
      end_of_word_suffix: null,
      fuse_unk: false,
      byte_fallback: false,
      ignore_merges: false,
      vocab,
      merges: MERGES.map(([l, r]) => `${l} ${r}`),
    },
  };
}
