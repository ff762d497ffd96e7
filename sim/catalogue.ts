import type { Primitive } from "./shapes.js";
import type { Rng } from "./rng.js";

/** One kind of tabletop object: a primitive with realistic nominal sizes and plausible colours. */
export interface CatalogueEntry {
  kind: string;
  /** A primitive at nominal size; `sample` jitters it. */
  make: (rng: Rng, jitter: number) => Primitive;
  colors: readonly string[];
}

const ALL = ["red", "orange", "yellow", "green", "blue", "purple", "pink", "brown", "white", "black", "gray"] as const;

/** Scale factor within ±jitter. */
function j(rng: Rng, jitter: number): number {
  return 1 + rng.uniform(-jitter, jitter);
}

function bowl(rim: number, height: number): Primitive {
  return { type: "bowl", R: (rim * rim + height * height) / (2 * height), h: height };
}

/** Sizes from common household items (metres). */
export const CATALOGUE: readonly CatalogueEntry[] = [
  { kind: "mug", make: (r, k) => ({ type: "cylinder", r: 0.04 * j(r, k), h: 0.095 * j(r, k) }), colors: ALL },
  { kind: "cup", make: (r, k) => ({ type: "cylinder", r: 0.035 * j(r, k), h: 0.11 * j(r, k) }), colors: ["white", "red", "blue", "green", "yellow"] },
  { kind: "bowl", make: (r, k) => bowl(0.075 * j(r, k), 0.06 * j(r, k)), colors: ["white", "blue", "green", "red", "yellow", "orange"] },
  { kind: "plate", make: (r, k) => ({ type: "cylinder", r: 0.12 * j(r, k), h: 0.022 * j(r, k) }), colors: ["white", "blue", "green", "yellow"] },
  { kind: "apple", make: (r, k) => ({ type: "sphere", r: 0.038 * j(r, k) }), colors: ["red", "green", "yellow"] },
  { kind: "banana", make: (r, k) => ({ type: "capsule", r: 0.018 * j(r, k), length: 0.19 * j(r, k) }), colors: ["yellow", "green"] },
  { kind: "lemon", make: (r, k) => ({ type: "ellipsoid", a: 0.036 * j(r, k), b: 0.027 * j(r, k), c: 0.027 * j(r, k) }), colors: ["yellow", "green"] },
  { kind: "can", make: (r, k) => ({ type: "cylinder", r: 0.033 * j(r, k), h: 0.122 * j(r, k) }), colors: ["red", "blue", "green", "gray", "yellow", "orange"] },
  { kind: "bottle", make: (r, k) => ({ type: "cylinder", r: 0.035 * j(r, k), h: 0.22 * j(r, k) }), colors: ["green", "blue", "white", "brown", "gray"] },
  { kind: "jar", make: (r, k) => ({ type: "cylinder", r: 0.045 * j(r, k), h: 0.13 * j(r, k) }), colors: ["brown", "orange", "red", "gray", "white"] },
  { kind: "box", make: (r, k) => ({ type: "box", sx: 0.16 * j(r, k), sy: 0.11 * j(r, k), sz: 0.09 * j(r, k) }), colors: ["brown", "white", "blue", "red", "yellow"] },
  { kind: "book", make: (r, k) => ({ type: "box", sx: 0.22 * j(r, k), sy: 0.15 * j(r, k), sz: 0.03 * j(r, k) }), colors: ["red", "blue", "green", "black", "yellow", "purple", "orange"] },
  { kind: "cube", make: (r, k) => { const s = 0.05 * j(r, k); return { type: "box", sx: s, sy: s, sz: s }; }, colors: ALL },
  { kind: "ball", make: (r, k) => ({ type: "sphere", r: 0.05 * j(r, k) }), colors: ["red", "blue", "green", "yellow", "orange", "purple", "pink", "white"] },
];

export function catalogueEntry(kind: string): CatalogueEntry {
  const e = CATALOGUE.find((c) => c.kind === kind);
  if (!e) throw new Error(`no catalogue entry for "${kind}"`);
  return e;
}
