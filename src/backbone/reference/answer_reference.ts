import type { BackboneConfig } from "../config.js";
import type { Weights } from "../tensor_names.js";
import type { QuestionPrompt } from "../prompt.js";
import { requireWeight } from "../model_weights.js";
import { argmax } from "../argmax.js";
import { referenceDecode, referenceLmHead, referenceMambaPrefill } from "./mamba_reference.js";

/**
 * A greedy answer as models/README.md defines it, in plain TypeScript: the question's prompt
 * (prompt.ts `questionPrompt`) prefilled from a stream's state in one sequence, the first answer
 * token from the LM head on the last row, then one `decode` step per token until EOS or
 * `maxTokens`. Ground truth for the runtime's forked, batched, split prefill + decode.
 */

export interface ReferenceAnswer {
  readonly ids: number[];
  /** [d_model] after norm_f at the prompt's last row (where the first answer token is read). */
  readonly firstHidden: Float32Array;
  /** [vocab] the first answer token's logits. */
  readonly firstLogits: Float32Array;
  /** Rows prefilled before the answer. */
  readonly rows: number;
}

/**
 * The prompt's rows [rows, d_model]: head token embeddings, then (reread) `visual` [n, d_model]
 * as given, then end token embeddings.
 */
export function referencePromptEmbeds(c: BackboneConfig, w: Weights, prompt: QuestionPrompt, visual: Float32Array | null): Float32Array {
  const d = c.d_model;
  const emb = requireWeight(w, "backbone.embeddings.weight", [c.vocab_size, d]);
  if (prompt.reread && (visual === null || visual.length === 0 || visual.length % d !== 0)) {
    throw new RangeError("a reread prompt needs the frame's visual tokens [n, d_model], n > 0");
  }
  const vis = prompt.reread && visual ? visual : new Float32Array(0);
  const rows = prompt.head.length + vis.length / d + prompt.end.length;
  const out = new Float32Array(rows * d);
  const put = (id: number, row: number): void => {
    if (!(Number.isInteger(id) && id >= 0 && id < c.vocab_size)) throw new RangeError(`token id ${id} is outside the vocabulary (${c.vocab_size})`);
    out.set(emb.subarray(id * d, (id + 1) * d), row * d);
  };
  prompt.head.forEach((id, t) => put(id, t));
  out.set(vis, prompt.head.length * d);
  const e0 = prompt.head.length + vis.length / d;
  prompt.end.forEach((id, t) => put(id, e0 + t));
  return out;
}

export function referenceAnswer(
  c: BackboneConfig,
  w: Weights,
  state: { readonly conv: Float32Array; readonly ssm: Float32Array },
  prompt: QuestionPrompt,
  visual: Float32Array | null,
  opts: { readonly eosId: number; readonly maxTokens: number },
): ReferenceAnswer {
  const embeds = referencePromptEmbeds(c, w, prompt, visual);
  const rows = embeds.length / c.d_model;
  const pre = referenceMambaPrefill(c, w, embeds, 1, rows, state.conv, state.ssm);
  const firstLogits = referenceLmHead(c, w, pre.hidden, 1);
  let tok = argmax(firstLogits, c.vocab_size);
  let conv = pre.convStateOut, ssm = pre.ssmStateOut;
  const ids: number[] = [];
  while (tok !== opts.eosId && ids.length < opts.maxTokens) {
    ids.push(tok);
    if (ids.length === opts.maxTokens) break;
    const r = referenceDecode(c, w, BigInt64Array.of(BigInt(tok)), conv, ssm);
    conv = r.convStateOut;
    ssm = r.ssmStateOut;
    tok = Number(r.nextToken[0]);
  }
  return { ids, firstHidden: pre.hidden, firstLogits, rows };
}
