import { describe, expect, it } from "vitest";
import { DetectionSegmenter, marginOf } from "../../src/perception/detection_segmenter.js";
import type { Detection2D } from "../../src/perception/rgbd_frame.js";
import { mulberry32 } from "../../src/random/mulberry32.js";

/** A synthetic frame: depth, above-plane flags, rgb8, and a truth id per pixel (0 = background). */
interface Frame {
  w: number;
  h: number;
  depth: Float32Array;
  above: Uint8Array;
  rgb: Uint8Array;
  truth: Uint8Array;
}

function frame(w: number, h: number): Frame {
  return { w, h, depth: new Float32Array(w * h).fill(1.2), above: new Uint8Array(w * h), rgb: new Uint8Array(w * h * 3).fill(170), truth: new Uint8Array(w * h) };
}

/** Paints a rectangle of object `id`: above the plane, at `z` (plus a gentle slope: one surface), in `rgb` shaded by `shade(u, v)`. */
function paint(f: Frame, id: number, u0: number, u1: number, v0: number, v1: number, z: number, rgb: [number, number, number], shade = (_u: number, _v: number) => 1): void {
  for (let v = v0; v <= v1; v++) {
    for (let u = u0; u <= u1; u++) {
      const i = v * f.w + u;
      f.truth[i] = id;
      f.above[i] = 1;
      f.depth[i] = z + 0.0005 * (v - v0);
      const s = shade(u, v);
      f.rgb[i * 3] = rgb[0] * s;
      f.rgb[i * 3 + 1] = rgb[1] * s;
      f.rgb[i * 3 + 2] = rgb[2] * s;
    }
  }
}

const box = (kind: string, u0: number, u1: number, v0: number, v1: number): Detection2D => ({ kind, score: 0.9, cx: (u0 + u1) / 2, cy: (v0 + v1) / 2, width: u1 - u0, height: v1 - v0 });

/** Precision and recall of label `label` against truth id `id`. */
function score(labels: Uint16Array, f: Frame, label: number, id: number): { precision: number; recall: number } {
  let tp = 0, fp = 0, fn = 0;
  for (let i = 0; i < labels.length; i++) {
    const a = labels[i] === label, b = f.truth[i] === id;
    if (a && b) tp++;
    else if (a) fp++;
    else if (b) fn++;
  }
  return { precision: tp / Math.max(1, tp + fp), recall: tp / Math.max(1, tp + fn) };
}

/**
 * A red mug standing in the middle of a blue book, seen from the front: the mug's box lies
 * inside the book's, the book's centre is on the mug, and the mug's bottom meets the book's top
 * with no depth step. The book is listed first, as the world lists supports first.
 */
function mugOnBook(): { f: Frame; dets: Detection2D[] } {
  const f = frame(160, 120);
  // The book's top face (lit) and front face (darker), then the mug in front of its middle.
  paint(f, 1, 20, 140, 50, 95, 1.0, [35, 75, 200], (_u, v) => (v < 80 ? 0.95 : 0.55));
  paint(f, 2, 66, 94, 30, 82, 0.98, [200, 30, 35], (u) => 0.5 + 0.5 * Math.sin(((u - 66) / 28) * Math.PI));
  return { f, dets: [box("book", 20, 140, 50, 95), box("mug", 66, 94, 30, 82)] };
}

describe("DetectionSegmenter: overlapping boxes compete", () => {
  it("with colour, a mug standing on a book and the book are each segmented whole", () => {
    const { f, dets } = mugOnBook();
    const labels = new DetectionSegmenter().segment(dets, f.w, f.h, f.depth, f.above, f.rgb);
    const book = score(labels, f, 1, 1), mug = score(labels, f, 2, 2);
    expect(mug.recall).toBeGreaterThan(0.97);
    expect(mug.precision).toBeGreaterThan(0.97);
    expect(book.recall).toBeGreaterThan(0.97);
    expect(book.precision).toBeGreaterThan(0.97);
  });

  it("without colour, the book's seed is beside the mug, and the mug keeps most of itself", () => {
    const { f, dets } = mugOnBook();
    // The first-come segmenter grew the book from its centre (on the mug) over the mug: the mug got nothing.
    const labels = new DetectionSegmenter().segment(dets, f.w, f.h, f.depth, f.above);
    const book = score(labels, f, 1, 1), mug = score(labels, f, 2, 2);
    expect(mug.recall).toBeGreaterThan(0.6);
    expect(mug.precision).toBeGreaterThan(0.8);
    expect(book.recall).toBeGreaterThan(0.9);
  });

  it("with colour, a cup in front of a jar (boxes overlapping, depth continuous) splits along the colour edge", () => {
    const f = frame(160, 120);
    paint(f, 1, 40, 90, 20, 100, 1.05, [120, 75, 40]);
    paint(f, 2, 75, 115, 40, 105, 1.03, [230, 200, 30]);
    const dets = [box("jar", 40, 90, 20, 100), box("cup", 75, 115, 40, 105)];
    for (const order of [dets, [dets[1], dets[0]]]) {
      const labels = new DetectionSegmenter().segment(order, f.w, f.h, f.depth, f.above, f.rgb);
      const jar = order[0].kind === "jar" ? 1 : 2, cup = 3 - jar;
      expect(score(labels, f, jar, 1).precision).toBeGreaterThan(0.98);
      expect(score(labels, f, jar, 1).recall).toBeGreaterThan(0.98);
      expect(score(labels, f, cup, 2).precision).toBeGreaterThan(0.98);
      expect(score(labels, f, cup, 2).recall).toBeGreaterThan(0.98);
    }
  });

  it("white on gray splits by brightness; a depth step still separates objects of one colour", () => {
    const f = frame(160, 120);
    paint(f, 1, 30, 130, 60, 100, 1.0, [128, 128, 128]);
    paint(f, 2, 70, 90, 30, 75, 0.99, [235, 235, 230]);
    const labels = new DetectionSegmenter().segment([box("box", 30, 130, 60, 100), box("cup", 70, 90, 30, 75)], f.w, f.h, f.depth, f.above, f.rgb);
    expect(score(labels, f, 2, 2).recall).toBeGreaterThan(0.97);
    expect(score(labels, f, 1, 1).precision).toBeGreaterThan(0.97);
    const g = frame(160, 120);
    paint(g, 1, 30, 100, 30, 90, 1.0, [35, 75, 200]);
    paint(g, 2, 60, 130, 50, 110, 0.85, [35, 75, 200]);
    const l2 = new DetectionSegmenter().segment([box("book", 30, 100, 30, 90), box("box", 60, 130, 50, 110)], g.w, g.h, g.depth, g.above, g.rgb);
    expect(score(l2, g, 2, 2).precision).toBeGreaterThan(0.99);
    expect(score(l2, g, 2, 2).recall).toBeGreaterThan(0.99);
    expect(score(l2, g, 1, 1).precision).toBeGreaterThan(0.99);
  });

  it("bgr8 reads the same as rgb8 with channels swapped", () => {
    const { f, dets } = mugOnBook();
    const bgr = new Uint8Array(f.rgb.length);
    for (let i = 0; i < f.rgb.length; i += 3) { bgr[i] = f.rgb[i + 2]; bgr[i + 1] = f.rgb[i + 1]; bgr[i + 2] = f.rgb[i]; }
    const a = new DetectionSegmenter().segment(dets, f.w, f.h, f.depth, f.above, f.rgb).slice();
    const b = new DetectionSegmenter().segment(dets, f.w, f.h, f.depth, f.above, bgr, f.w * 3, true);
    expect(Buffer.from(b.buffer).equals(Buffer.from(a.buffer))).toBe(true);
  });
});

/**
 * Invariants of any label image: labels in range, only above-plane pixels inside their own box
 * (widened by marginOf when colour was given), one 4-connected region per label.
 */
function checkInvariants(labels: Uint16Array, dets: readonly Detection2D[], w: number, h: number, above: Uint8Array, colour = false): void {
  const first = new Map<number, number>();
  const count = new Map<number, number>();
  const wrong: string[] = [];
  for (let i = 0; i < labels.length; i++) {
    const l = labels[i];
    if (l === 0) continue;
    const u = i % w, v = Math.floor(i / w);
    const d = dets[l - 1];
    if (!d) wrong.push(`label ${l} of ${dets.length} detections at ${u},${v}`);
    else if (!above[i]) wrong.push(`label ${l} on a pixel not above the plane at ${u},${v}`);
    else {
      const u0 = Math.max(0, Math.floor(d.cx - d.width / 2)), u1 = Math.min(w - 1, Math.ceil(d.cx + d.width / 2));
      const v0 = Math.max(0, Math.floor(d.cy - d.height / 2)), v1 = Math.min(h - 1, Math.ceil(d.cy + d.height / 2));
      const mu = colour ? marginOf(u1 - u0 + 1) : 0, mv = colour ? marginOf(v1 - v0 + 1) : 0;
      if (u < u0 - mu || u > u1 + mu || v < v0 - mv || v > v1 + mv) wrong.push(`label ${l} outside its box at ${u},${v}`);
    }
    if (!first.has(l)) first.set(l, i);
    count.set(l, (count.get(l) ?? 0) + 1);
  }
  expect(wrong.slice(0, 5)).toEqual([]);
  // Flood each label from one of its pixels: every pixel of the label is reached.
  const mark = new Uint8Array(labels.length);
  for (const [l, start] of first) {
    const stack = [start];
    mark[start] = 1;
    let reached = 0;
    while (stack.length) {
      const i = stack.pop()!;
      reached++;
      const u = i % w;
      for (const j of [u > 0 ? i - 1 : -1, u < w - 1 ? i + 1 : -1, i - w, i + w]) {
        if (j >= 0 && j < labels.length && !mark[j] && labels[j] === l) { mark[j] = 1; stack.push(j); }
      }
    }
    expect(reached, `label ${l} is one region`).toBe(count.get(l));
  }
}

describe("DetectionSegmenter: hostile and random input", () => {
  it("boxes that are not boxes (NaN, infinite, negative, off the image, huge) take no part or are clipped; no throw", () => {
    const { f, dets } = mugOnBook();
    const bad: Detection2D[] = [
      { kind: "x", score: 1, cx: NaN, cy: 10, width: 10, height: 10 },
      { kind: "x", score: 1, cx: 10, cy: 10, width: -5, height: 10 },
      { kind: "x", score: 1, cx: Infinity, cy: 10, width: 10, height: 10 },
      { kind: "x", score: 1, cx: -500, cy: -500, width: 10, height: 10 },
      { kind: "x", score: 1, cx: 80, cy: 60, width: 1e12, height: 1e12 },
      { kind: "x", score: 1, cx: 80, cy: 60, width: Infinity, height: Infinity },
      ...dets,
    ];
    const seg = new DetectionSegmenter();
    for (const rgb of [f.rgb, undefined, new Uint8Array(5)]) {
      const labels = seg.segment(bad, f.w, f.h, f.depth, f.above, rgb);
      checkInvariants(labels, bad, f.w, f.h, f.above, rgb === f.rgb);
      for (const l of [1, 2, 3, 4]) expect(labels.includes(l)).toBe(false);
    }
    // A colour image with a step that cannot be one is ignored, not read out of bounds.
    for (const step of [0, -3, 1.5, NaN, 1e9]) {
      const labels = seg.segment(dets, f.w, f.h, f.depth, f.above, f.rgb, step);
      checkInvariants(labels, dets, f.w, f.h, f.above);
      expect(labels.includes(2)).toBe(true);
    }
    expect(seg.segment([], f.w, f.h, f.depth, f.above, f.rgb).every((l) => l === 0)).toBe(true);
  });

  it("200 random frames: labels stay in their boxes on above-plane pixels, one region each, and the same input gives the same labels", () => {
    const rand = mulberry32(1234);
    const seg = new DetectionSegmenter();
    for (let trial = 0; trial < 200; trial++) {
      const w = 16 + Math.floor(rand() * 80), h = 16 + Math.floor(rand() * 60);
      const f = frame(w, h);
      const objects = Math.floor(rand() * 6);
      for (let k = 0; k < objects; k++) {
        const u0 = Math.floor(rand() * w), v0 = Math.floor(rand() * h);
        const u1 = Math.min(w - 1, u0 + Math.floor(rand() * w / 2)), v1 = Math.min(h - 1, v0 + Math.floor(rand() * h / 2));
        paint(f, k + 1, u0, u1, v0, v1, 0.5 + rand(), [rand() * 255, rand() * 255, rand() * 255].map(Math.floor) as [number, number, number]);
      }
      // Depth holes and stray readings.
      for (let i = 0; i < f.depth.length; i++) if (rand() < 0.05) { f.depth[i] = rand() < 0.5 ? 0 : NaN; f.above[i] = 0; }
      const dets: Detection2D[] = Array.from({ length: Math.floor(rand() * 12) }, () => ({
        kind: "thing", score: rand(), cx: rand() * w * 1.4 - w * 0.2, cy: rand() * h * 1.4 - h * 0.2, width: rand() * w, height: rand() * h,
      }));
      const colour = rand() < 0.7 ? f.rgb : undefined;
      const labels = seg.segment(dets, w, h, f.depth, f.above, colour).slice();
      checkInvariants(labels, dets, w, h, f.above, colour !== undefined);
      // A fresh segmenter agrees: nothing of the previous frame leaks into this one.
      expect(Buffer.from(new DetectionSegmenter().segment(dets, w, h, f.depth, f.above, colour).buffer).equals(Buffer.from(labels.buffer))).toBe(true);
    }
  });
});

describe("DetectionSegmenter: a short box", () => {
  it("with colour, the rim a detector's box left out of a red cup beside a blue jar goes to the cup, not the jar", () => {
    const f = frame(160, 120);
    paint(f, 1, 30, 80, 30, 100, 1.0, [35, 75, 200]);
    paint(f, 2, 81, 120, 40, 100, 0.99, [200, 30, 35]);
    // The cup's box misses its left 2 columns (marginOf(38) = 2), which lie in the jar's box.
    const dets = [box("jar", 30, 86, 30, 100), box("cup", 83, 120, 40, 100)];
    expect(marginOf(38)).toBe(2);
    const labels = new DetectionSegmenter().segment(dets, f.w, f.h, f.depth, f.above, f.rgb);
    expect(score(labels, f, 1, 1).precision).toBe(1);
    expect(score(labels, f, 2, 2).recall).toBe(1);
    // Without colour the box is the limit: the jar takes the rim.
    const plain = new DetectionSegmenter().segment(dets, f.w, f.h, f.depth, f.above);
    expect(score(plain, f, 1, 1).precision).toBeLessThan(1);
  });
});

describe("DetectionSegmenter: a seed of the wrong colour", () => {
  it("with colour, a book whose centre falls on the rim of the mug on it (outside the mug's short box) seeds on the book", () => {
    const { f } = mugOnBook();
    // The mug's box stops 3 rows short of its bottom (within its margin, marginOf(50) = 3), and
    // the book's box is too tall: its centre (80, 80) is a mug pixel no other box covers.
    const dets = [box("book", 20, 140, 50, 110), box("mug", 66, 94, 30, 79)];
    expect(marginOf(50)).toBe(3);
    expect(f.truth[80 * f.w + 80]).toBe(2);
    const labels = new DetectionSegmenter().segment(dets, f.w, f.h, f.depth, f.above, f.rgb);
    // Seeded on the mug's rim, the book's region was walled in by the mug's and took nothing.
    expect(score(labels, f, 1, 1).recall).toBeGreaterThan(0.97);
    expect(score(labels, f, 1, 1).precision).toBeGreaterThan(0.97);
    expect(score(labels, f, 2, 2).precision).toBeGreaterThan(0.97);
    expect(score(labels, f, 2, 2).recall).toBeGreaterThan(0.97);
  });
});
