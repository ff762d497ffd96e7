/** The most characters of a user's own words an answer or error message quotes back. */
export const MAX_ECHO_LENGTH = 80;

/**
 * `text` as an answer may quote it: at most `max` characters, cut with an ellipsis, so the size
 * of what a question makes us say does not grow with the size of the question. Never ends in
 * half a surrogate pair.
 */
export function capEcho(text: string, max = MAX_ECHO_LENGTH): string {
  if (text.length <= max) return text;
  let end = max - 1;
  const last = text.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end--;
  return `${text.slice(0, end)}…`;
}
