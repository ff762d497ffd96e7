/**
 * The one template that training and serving share: after a frame's visual tokens, a question
 * is BOS + the question's text + "\n", and the answer that follows is its text + EOS. Keeping it
 * here (and mirrored in models/train/) means a model trained elsewhere is prompted the way it
 * learned.
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
