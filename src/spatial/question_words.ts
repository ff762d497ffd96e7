/**
 * A question's text as the meaning parser reads it: lower-case ASCII words, with "," for a list
 * separator (, ; : /) and "-" for a dash (which can join "left-most" or separate "mug-bowl").
 * One linear pass over the characters; no regex backtracking whatever the text.
 *
 * - Unicode: compatibility forms and accents are folded (NFKD, combining marks dropped:
 *   "ｍｕｇ" → "mug", "café" → "cafe"), and Cyrillic and Greek letters that look like Latin
 *   ones are read as those (homoglyphs: "mug" typed with a Cyrillic "у"). Control, format and
 *   other characters separate words.
 * - Contractions and possessives: "what's" → "what is", "isn't" → "isnt", "the mug's" →
 *   "the mug", "o'clock" → "oclock".
 * - British and American spellings are read as one (colour → color, grey → gray, metre →
 *   meter, further → farther).
 */

/** Lower-case Cyrillic and Greek letters drawn like a Latin letter (after lower-casing). */
const HOMOGLYPHS: ReadonlyMap<number, string> = new Map(
  Object.entries({
    "а": "a", "в": "b", "е": "e", "ё": "e", "з": "3", "і": "i", "ї": "i", "ј": "j", "к": "k", "м": "m", "н": "h", "о": "o",
    "р": "p", "с": "c", "т": "t", "у": "y", "х": "x", "ѕ": "s", "ԁ": "d", "һ": "h", "ԛ": "q", "ԝ": "w", "ɡ": "g", "ı": "i",
    "α": "a", "β": "b", "ε": "e", "η": "n", "ι": "i", "κ": "k", "ν": "v", "ο": "o", "ρ": "p", "τ": "t", "υ": "u", "χ": "x",
    "ℓ": "l",
  }).map(([k, v]) => [k.codePointAt(0)!, v]),
);

const APOSTROPHES = new Set([0x27, 0x2018, 0x2019, 0x60, 0xb4, 0x2bc, 0x2032]);
const DASHES = new Set([0x2d, 0x2010, 0x2011, 0x2012, 0x2013, 0x2014, 0x2212]);
const SEPARATORS = new Set([0x2c, 0x3b, 0x3a, 0x2f, 0xff0c]);

/** Whole-word contractions (after the apostrophe is gone) and spelling variants. */
const WORD_FORMS: ReadonlyMap<string, readonly string[]> = new Map(
  Object.entries({
    whats: ["what", "is"], wheres: ["where", "is"], hows: ["how", "is"], whos: ["who", "is"], thats: ["that", "is"],
    theres: ["there", "is"], heres: ["here", "is"], im: ["i", "am"], lets: ["let", "us"],
    colour: ["color"], colours: ["colors"], coloured: ["colored"], colouring: ["coloring"], grey: ["gray"],
    greyish: ["grayish"], centre: ["center"], centres: ["centers"], metre: ["meter"], metres: ["meters"],
    centimetre: ["centimeter"], centimetres: ["centimeters"], millimetre: ["millimeter"], millimetres: ["millimeters"],
    further: ["farther"], furthest: ["farthest"], furthermost: ["farthest"], infront: ["in", "front"],
  }),
);

/** Letters of a word's apostrophe suffix that make a contraction, not a possessive. */
const NOT_SUFFIX = "t";

function pushWord(out: string[], word: string): void {
  const forms = WORD_FORMS.get(word);
  if (forms) for (const f of forms) out.push(f);
  else out.push(word);
}

/**
 * A word written with an apostrophe: "what's" → what is, "isn't" → isnt, "mug's" / "mugs'" →
 * mug / mugs (the possessive carries nothing the parser needs), "o'clock" → oclock.
 */
function pushApostropheWord(out: string[], head: string, tail: string): void {
  if (head === "o" && tail === "clock") return void out.push("oclock");
  if (tail === NOT_SUFFIX && head.endsWith("n")) return pushWord(out, head + tail);
  if (tail === "s" || tail === "") {
    if (tail === "s" && ["what", "where", "how", "who", "that", "there", "here", "it", "which"].includes(head)) {
      pushWord(out, head);
      out.push("is");
      return;
    }
    return pushWord(out, head);
  }
  // "i'm", "you're", "i'd", "we'll": the head carries the meaning the parser needs.
  if (["m", "re", "d", "ll", "ve"].includes(tail)) return pushWord(out, head);
  pushWord(out, head + tail);
}

function isLetterOrDigit(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 48 && c <= 57);
}

/** Splits a question into words and separator tokens ("," and "-"); see the file comment. */
export function questionWords(text: string): string[] {
  const folded = text.normalize("NFKD").toLowerCase();
  const out: string[] = [];
  let word = "";
  let head: string | null = null; // the part before an apostrophe inside the current word
  const flush = (): void => {
    if (head !== null) pushApostropheWord(out, head, word);
    else if (word !== "") pushWord(out, word);
    word = "";
    head = null;
  };
  for (const ch of folded) {
    const c = ch.codePointAt(0)!;
    // Combining marks (accents left by NFKD) belong to the letter before them.
    if (c >= 0x300 && c <= 0x36f) continue;
    const mapped = isLetterOrDigit(c) ? ch : HOMOGLYPHS.get(c);
    if (mapped !== undefined) {
      word += mapped;
    } else if (c === 0x23 && word !== "") {
      word += "#"; // track ids: "mug#2"
    } else if (APOSTROPHES.has(c) && word !== "" && head === null) {
      head = word;
      word = "";
    } else {
      flush();
      if (SEPARATORS.has(c)) out.push(",");
      else if (DASHES.has(c)) out.push("-");
    }
  }
  flush();
  return out;
}
