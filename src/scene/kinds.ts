/**
 * Object category nouns the language side knows by default, with plural and synonyms.
 * Perception is not limited to these: a detector's class id becomes the kind as given.
 */
export interface KindWord {
  kind: string;
  plural: string;
  synonyms: readonly string[];
}

export const KINDS: readonly KindWord[] = [
  { kind: "mug", plural: "mugs", synonyms: ["coffee mug"] },
  { kind: "cup", plural: "cups", synonyms: ["paper cup"] },
  { kind: "bowl", plural: "bowls", synonyms: [] },
  { kind: "plate", plural: "plates", synonyms: ["dish"] },
  { kind: "apple", plural: "apples", synonyms: [] },
  { kind: "banana", plural: "bananas", synonyms: [] },
  { kind: "lemon", plural: "lemons", synonyms: [] },
  { kind: "can", plural: "cans", synonyms: ["soda can", "tin"] },
  { kind: "bottle", plural: "bottles", synonyms: [] },
  { kind: "jar", plural: "jars", synonyms: [] },
  { kind: "box", plural: "boxes", synonyms: ["carton"] },
  { kind: "book", plural: "books", synonyms: [] },
  { kind: "cube", plural: "cubes", synonyms: ["block"] },
  { kind: "ball", plural: "balls", synonyms: ["sphere"] },
];

export const KIND_NAMES: readonly string[] = KINDS.map((k) => k.kind);
