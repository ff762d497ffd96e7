/**
 * Text quoted in an error message, cut to `max` characters (the last three become "..."):
 * a hostile file must not turn one bad field or tensor name into a megabyte-long message.
 * `absent` stands in for a value that has no text (JSON.stringify(undefined)).
 */
export function clipText(s: string | undefined, max: number, absent = "nothing"): string {
  if (s === undefined) return absent;
  return s.length > max ? `${s.slice(0, max - 3)}...` : s;
}

/** A tensor name as an error names it: up to 200 characters. */
export function clipName(name: string): string {
  return clipText(name, 200);
}
