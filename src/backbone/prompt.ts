/**
 * The one template that training and serving share: after a frame's visual tokens, a question
 * is BOS + the question's text + "\n", and the answer that follows is its text + EOS. Keeping it
 * here (and mirrored in models/train/) means a model trained elsewhere is prompted the way it
 * learned.
 *
 * A model with `reread_image` (models/README.md) reads the frame again between the question and
 * its "\n": BOS + question, the frame's visual tokens (the rows the stream prefilled for it), "\n".
 * A state-space model reads the frame before it knows the question; read after the question, the
 * frame is filtered by what is asked ("Just read twice", Arora et al. 2024). models/train/cobra.py
 * `Cobra.reread_prompt` is the training side.
 */
export const QUESTION_END = "\n";

/** The text of a question as the model sees it (trimmed; one trailing newline marks its end). */
export function questionText(question: string): string {
  return question.trim() + QUESTION_END;
}

/** Token ids of a question prompt: BOS, then the encoded question text. */
export function promptIds(encode: (text: string) => number[], bosId: number, question: string): number[] {
  return [bosId, ...encode(questionText(question))];
}

/**
 * A question's prompt in three parts, prefilled in this order from the stream's state after its
 * latest frame: `head` token ids, then `visual` rows of that frame's visual tokens, then `end`
 * token ids; the answer is decoded after the last of them.
 *
 * - plain: head = BOS + encode(question.trim() + "\n") (exactly promptIds), no visual rows, no end.
 * - reread_image: head = BOS + encode(question.trim()), the frame's visual tokens, end =
 *   encode("\n"), encoded apart as training encodes them (a byte-level BPE never merges across
 *   them, but another tokenizer might).
 */
export interface QuestionPrompt {
  readonly head: number[];
  /** Whether the frame's visual tokens go between head and end. */
  readonly reread: boolean;
  readonly end: number[];
}

export function questionPrompt(encode: (text: string) => number[], bosId: number, question: string, rereadImage: boolean): QuestionPrompt {
  if (!rereadImage) return { head: promptIds(encode, bosId, question), reread: false, end: [] };
  return { head: [bosId, ...encode(question.trim())], reread: true, end: encode(QUESTION_END) };
}
