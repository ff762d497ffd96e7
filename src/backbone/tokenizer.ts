import { Tokenizer } from "@huggingface/tokenizers";
import { InvalidInputError, ModelError } from "../errors.js";
import { clipText } from "./clip_text.js";
import type { BackboneConfig } from "./config.js";
import { SPECIAL_TOKENS, type SpecialTokenRole } from "./byte_tokenizer.js";

/** Model types `@huggingface/tokenizers` implements (its fallback guesses are not accepted). */
const MODEL_TYPES = new Set(["BPE", "WordPiece", "Unigram"]);
/** Same bound as config.json's vocab_size; a larger id would make the library walk a huge sparse array. */
export const MAX_TOKEN_ID = (1 << 20) - 1;

/**
 * A tokenizer.json loaded with `@huggingface/tokenizers`, plus what the backbone needs of it:
 * the four special tokens by their text, and a vocabulary size to check against config.json.
 * `encode` treats its text as plain text: a question that contains "<|eos|>" gets the bytes of
 * that string, never the special token (a user cannot end or re-prompt a generation).
 */
export class BackboneTokenizer {
  readonly padId: number;
  readonly bosId: number;
  readonly eosId: number;
  readonly imageId: number;
  /** One more than the largest id the tokenizer can produce or decode. */
  readonly vocabSize: number;
  readonly file: string;
  private readonly tok: Tokenizer;
  private readonly specialIds: ReadonlySet<number>;
  private readonly specialTexts: readonly string[];

  private constructor(tok: Tokenizer, vocabSize: number, ids: Record<SpecialTokenRole, number>, specialTexts: string[], file: string) {
    this.tok = tok;
    this.vocabSize = vocabSize;
    this.padId = ids.pad;
    this.bosId = ids.bos;
    this.eosId = ids.eos;
    this.imageId = ids.image;
    this.file = file;
    this.specialTexts = specialTexts;
    this.specialIds = new Set(specialTexts.map((t) => tok.token_to_id(t)).filter((id): id is number => id !== undefined));
  }

  /** Loads a parsed tokenizer.json; anything that does not load is a ModelError naming `file`. */
  static fromJson(json: unknown, file = "tokenizer.json"): BackboneTokenizer {
    const fail = (message: string, tensor?: string): never => {
      throw new ModelError(file, message, tensor);
    };
    if (typeof json !== "object" || json === null || Array.isArray(json)) {
      return fail(`must be a JSON object, got ${json === null ? "null" : Array.isArray(json) ? "an array" : typeof json}`);
    }
    const o = json as Record<string, unknown>;
    const model = o.model;
    if (typeof model !== "object" || model === null || Array.isArray(model)) return fail("has no model object");
    const m = model as Record<string, unknown>;
    if (typeof m.type !== "string" || !MODEL_TYPES.has(m.type)) {
      return fail(`model.type ${clipText(JSON.stringify(m.type), 200, "undefined")} is not supported (${[...MODEL_TYPES].join(", ")} are)`);
    }
    let maxId = -1;
    const checkId = (id: unknown, where: string): void => {
      if (typeof id !== "number" || !Number.isInteger(id) || id < 0 || id > MAX_TOKEN_ID) {
        fail(`${where}: id ${clipText(JSON.stringify(id), 200, "undefined")} must be an integer in [0, ${MAX_TOKEN_ID}]`);
      }
      maxId = Math.max(maxId, id as number);
    };
    if (m.type === "Unigram") {
      if (!Array.isArray(m.vocab)) return fail("model.vocab must be a list of [piece, score] for Unigram");
      if (m.vocab.length > MAX_TOKEN_ID + 1) fail(`model.vocab has ${m.vocab.length} entries, over ${MAX_TOKEN_ID + 1}`);
      maxId = m.vocab.length - 1;
    } else {
      if (typeof m.vocab !== "object" || m.vocab === null || Array.isArray(m.vocab)) return fail("model.vocab must be an object {token: id}");
      for (const [token, id] of Object.entries(m.vocab as Record<string, unknown>)) checkId(id, `model.vocab[${clipText(JSON.stringify(token), 200, "undefined")}]`);
      if (m.type === "BPE" && !Array.isArray(m.merges)) fail("model.merges must be a list for BPE");
    }
    const added = o.added_tokens ?? [];
    if (!Array.isArray(added)) return fail("added_tokens must be a list");
    added.forEach((a: unknown, i) => {
      if (typeof a !== "object" || a === null || typeof (a as { content?: unknown }).content !== "string") {
        fail(`added_tokens[${i}] must be an object with a string content`);
      }
      checkId((a as { id?: unknown }).id, `added_tokens[${i}]`);
    });
    // The library requires these keys to be present (null is allowed).
    const complete: Record<string, unknown> = { normalizer: null, pre_tokenizer: null, post_processor: null, decoder: null, ...o, added_tokens: added };
    let tok: Tokenizer;
    try {
      tok = new Tokenizer(complete, { clean_up_tokenization_spaces: false });
    } catch (e) {
      return fail(`does not load with @huggingface/tokenizers: ${clipText(e instanceof Error ? e.message : String(e), 200, "undefined")}`);
    }
    const ids = {} as Record<SpecialTokenRole, number>;
    const texts: string[] = [];
    for (const role of Object.keys(SPECIAL_TOKENS) as SpecialTokenRole[]) {
      const text = SPECIAL_TOKENS[role];
      const id = tok.token_to_id(text);
      if (id === undefined) {
        fail(`special token ${text} is missing (the backbone needs ${Object.values(SPECIAL_TOKENS).join(", ")})`);
      }
      ids[role] = id as number;
      texts.push(text);
    }
    for (const a of added as { content: string; special?: unknown }[]) {
      if (a.special === true && !texts.includes(a.content)) texts.push(a.content);
    }
    return new BackboneTokenizer(tok, maxId + 1, ids, texts, file);
  }

  /** Token ids of `text` as plain text (no special tokens added or recognised). */
  encode(text: string): number[] {
    if (typeof text !== "string") throw new InvalidInputError("bad_argument", `tokenizer input must be a string, got ${typeof text}`);
    const ids: number[] = [];
    for (const piece of this.splitAtSpecials(text)) {
      if (piece.length === 0) continue;
      for (const id of this.tok.encode(piece, { add_special_tokens: false }).ids) ids.push(id);
    }
    return ids;
  }

  /**
   * Text of `ids`. Special tokens appear as their text unless `skipSpecial`; ids the tokenizer
   * does not know (a model whose vocab_size is larger than the tokenizer's) decode to U+FFFD.
   */
  decode(ids: readonly number[], skipSpecial = false): string {
    let out = "";
    let run: number[] = [];
    const flush = (): void => {
      if (run.length > 0) out += this.tok.decode(run, { skip_special_tokens: skipSpecial, clean_up_tokenization_spaces: false });
      run = [];
    };
    for (const id of ids) {
      if (!Number.isInteger(id)) throw new InvalidInputError("bad_argument", `token id ${String(id)} is not an integer`);
      if (id >= 0 && id < this.vocabSize && this.tok.id_to_token(id) !== undefined) {
        run.push(id);
      } else {
        flush();
        out += "\uFFFD";
      }
    }
    flush();
    return out;
  }

  isSpecial(id: number): boolean {
    return this.specialIds.has(id);
  }

  /**
   * Cuts text one character into every occurrence of a special token's text, so the library's
   * added-token splitter cannot match it; each piece is then encoded on its own.
   */
  private splitAtSpecials(text: string): string[] {
    const cuts: number[] = [];
    for (const s of this.specialTexts) {
      if (s.length < 2) continue;
      for (let at = text.indexOf(s); at >= 0; at = text.indexOf(s, at + 1)) cuts.push(at + 1);
    }
    if (cuts.length === 0) return [text];
    cuts.sort((a, b) => a - b);
    const pieces: string[] = [];
    let from = 0;
    for (const c of cuts) {
      if (c > from) pieces.push(text.slice(from, c));
      from = c;
    }
    pieces.push(text.slice(from));
    return pieces;
  }
}

/** The tokenizer must not produce ids the model has no embedding for. */
export function checkTokenizerFits(config: BackboneConfig, tok: BackboneTokenizer, configFile = "config.json"): void {
  if (tok.vocabSize > config.vocab_size) {
    throw new ModelError(
      tok.file,
      `vocabulary has ${tok.vocabSize} ids but ${configFile} has vocab_size ${config.vocab_size}: the model has no embedding for ids ${config.vocab_size}..${tok.vocabSize - 1} — tokenizer and config do not belong together`,
    );
  }
}
