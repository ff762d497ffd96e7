import type { Detection2D } from "./rgbd_frame.js";

/**
 * Colour bins of a detection's colour model. Grays (white, gray, black: channels within
 * NEUTRAL_SPREAD of each other) differ only in brightness, so they sit on a ladder of
 * GRAY_LEVELS brightness bins, the darkest (under DARK_SUM, where noise decides the hue) at
 * the bottom; shading moves a gray up or down the ladder, so models spread each count to the
 * neighbouring rungs. Coloured pixels take a bin of chromaticity r/s and g/s (s = r + g + b:
 * shading scales s but keeps them), 8 levels each over [0, 0.8], above is the last level.
 */
const GRAY_LEVELS = 5;
const CHROMA_LEVELS = 8;
const BINS = GRAY_LEVELS + CHROMA_LEVELS * CHROMA_LEVELS;
/** Brightness s below this is one "dark" level whatever its chromaticity (noise decides it there). */
const DARK_SUM = 60;
/** A pixel is a gray (white, gray, black) when its channels spread less than this share of s. */
const NEUTRAL_SPREAD = 0.12;
/** Priority levels of the growth: a colour's cost to a region, 0 (its own colour) .. LEVELS − 1. */
const LEVELS = 24;
/** A model rests on at least this many pixels; fewer and the next source of model pixels is taken. */
const MIN_MODEL_PIXELS = 30;
/** A colour a model "likes": within a factor 2 of its most common bin. */
const LIKED_COST = 2;
/** Past its box a region claims only colours at most this costly to it. */
const MARGIN_COST = 2;
const EMPTY = new Uint8Array(0);

/**
 * How far past a detection box of `extent` pixels its region may reach, given colour: detector
 * boxes are off by several percent of their size (the simulator's by up to 4% a side plus
 * 3 pixels), and an object's rim left outside would go to whichever box covers it.
 */
export function marginOf(extent: number): number {
  return Math.max(2, Math.round(0.06 * extent));
}

/**
 * Segments the object inside each 2D detection box, producing an instance label image so box
 * detections and instance masks share one lifting path.
 *
 * Every box is grown at once from its own seed (seeded region growing, Adams & Bischof 1994),
 * over pixels above the support plane, inside its box, across neighbours whose depth is
 * continuous: one surface. Where boxes overlap (a mug standing on a book, a cup in front of a
 * jar) regions compete for the pixels, so an object inside another's box is no longer
 * swallowed by whichever box came first:
 * - the seed of a box is the pixel nearest its centre that can grow (above the plane with its
 *   4 neighbours, on one surface: not a flying pixel) and that no other box covers (within the
 *   central 60% of the box, else anywhere in it), else the nearest free one: a book's seed
 *   lands beside the mug standing on it, not on the mug;
 * - given the colour image, each detection gets a colour histogram (colourModels: from the
 *   pixels only it covers, else from its box's core less the colours the others claim), and
 *   pixels are claimed in order of how poorly their colour fits the region that reaches them:
 *   a region spreads over its own colour first, so overlaps split along colour edges; it may
 *   also take pixels of its own colour a little past its box (marginOf), where a detector's
 *   short box left the object's rim. Without colour, growth is breadth-first within the box:
 *   overlaps split half-way between the seeds along the surface.
 * Depth steps of 3 cm + 3% stop every region: they are other surfaces.
 */
export class DetectionSegmenter {
  private labels = new Uint16Array(0);
  /** How many boxes cover each pixel (non-zero only inside this frame's boxes). */
  private cover = new Uint16Array(0);
  /** Non-zero where findSeed must not seed: covered by another box too, or taken by a seed. */
  private blocked = new Uint16Array(0);
  /** Non-zero where no seed may go whoever searches: taken by a seed, or found unable to grow. */
  private taken = new Uint16Array(0);
  /** The label that last queued each pixel (a region queues a pixel once). */
  private queued = new Uint16Array(0);
  /** Each pixel's colour bin (inside this frame's boxes, when colour is given). */
  private bins = new Uint8Array(0);
  /** 1 where a detection with a model of its own likes the pixel's colour (see colourModels). */
  private explained = new Uint8Array(0);
  private cleared: number[] = [];
  private width = 0;
  // Bucket queue: one FIFO list per priority level, entries (pixel, label) linked through entryNext.
  private entryPixel = new Int32Array(0);
  private entryLabel = new Uint16Array(0);
  private entryNext = new Int32Array(0);
  private readonly head = new Int32Array(LEVELS);
  private readonly tail = new Int32Array(LEVELS);
  // Per detection: its box (clipped), its seed, whether its model is its own, its colour costs by bin.
  private boxU0 = new Int32Array(0);
  private boxU1 = new Int32Array(0);
  private boxV0 = new Int32Array(0);
  private boxV1 = new Int32Array(0);
  /** Where a region may grow: its box, widened by marginOf on every side when colour is given. */
  private reachU0 = new Int32Array(0);
  private reachU1 = new Int32Array(0);
  private reachV0 = new Int32Array(0);
  private reachV1 = new Int32Array(0);
  private seedPixel = new Int32Array(0);
  private ownModel = new Uint8Array(0);
  private readonly histogram = new Float64Array(BINS);
  // The seed search's state, read by acceptSeed (one closure for the segmenter's life: nothing allocated per frame).
  private seedDetection = 0;
  private seedWidth = 0;
  private seedHeight = 0;
  private seedDepth: Float32Array = new Float32Array(0);
  private seedAbove: Uint8Array = new Uint8Array(0);
  private seedColour = false;
  /** Whether pixel i can seed detection seedDetection: it can grow (isSolid) and, when seedColour, is of the detection's colour. */
  private readonly acceptSeed = (i: number): boolean => {
    const u = i % this.seedWidth;
    if (!isSolid(i, u, (i - u) / this.seedWidth, this.seedWidth, this.seedHeight, this.seedDepth, this.seedAbove)) return false;
    return !this.seedColour || this.cost[this.seedDetection * BINS + this.bins[i]] <= LIKED_COST;
  };
  private cost = new Uint8Array(0);

  /**
   * `above(i)` tells whether pixel i lies above the support surface (and has valid depth);
   * `depth` is metres per pixel (row-major, width stride). `rgb` (rgb8, or bgr8 when `bgr`,
   * `rgbStep` bytes per row), when given, lets overlapping boxes split along colour edges; a
   * colour image too short for the frame, or a row step under a row, is not read.
   * Returns the label image (detection k → label k+1), valid until the next call.
   */
  segment(
    detections: readonly Detection2D[],
    width: number,
    height: number,
    depth: Float32Array,
    above: Uint8Array,
    rgb?: Uint8Array,
    rgbStep = width * 3,
    bgr = false,
  ): Uint16Array {
    const n = width * height;
    if (this.labels.length !== n || width !== this.width) {
      // A new image shape (480x640 after 640x480 has the same size): the boxes recorded for
      // clearing are in the old shape's coordinates, so start from fresh per-pixel buffers.
      this.labels = new Uint16Array(n);
      this.cover = new Uint16Array(n);
      this.blocked = new Uint16Array(n);
      this.taken = new Uint16Array(n);
      this.queued = new Uint16Array(n);
      this.bins = new Uint8Array(n);
      this.explained = new Uint8Array(n);
      this.cleared.length = 0;
      this.width = width;
    }
    this.clearPrevious(width);
    const nd = Math.min(detections.length, 65535);
    this.ensureDetections(nd);
    const labels = this.labels, cover = this.cover, blocked = this.blocked, taken = this.taken, queued = this.queued, bins = this.bins;
    const U0 = this.boxU0, U1 = this.boxU1, V0 = this.boxV0, V1 = this.boxV1;
    const R0 = this.reachU0, R1 = this.reachU1, S0 = this.reachV0, S1 = this.reachV1;
    const cleared = this.cleared;
    const colour = rgb instanceof Uint8Array && Number.isSafeInteger(rgbStep) && rgbStep >= width * 3 && rgb.length >= (height - 1) * rgbStep + width * 3;

    // 1. Boxes, clipped to the image, and how many cover each pixel.
    let area = 0;
    for (let d = 0; d < nd; d++) {
      const det = detections[d];
      const u0 = Math.max(0, Math.floor(det.cx - det.width / 2));
      const u1 = Math.min(width - 1, Math.ceil(det.cx + det.width / 2));
      const v0 = Math.max(0, Math.floor(det.cy - det.height / 2));
      const v1 = Math.min(height - 1, Math.ceil(det.cy + det.height / 2));
      // A box that is not one (NaN, inverted, off the image) takes no part.
      if (!(u1 >= u0 && v1 >= v0)) {
        U0[d] = 1; U1[d] = 0; V0[d] = 1; V1[d] = 0;
        R0[d] = 1; R1[d] = 0; S0[d] = 1; S1[d] = 0;
        continue;
      }
      U0[d] = u0; U1[d] = u1; V0[d] = v0; V1[d] = v1;
      const mu = colour ? marginOf(u1 - u0 + 1) : 0, mv = colour ? marginOf(v1 - v0 + 1) : 0;
      R0[d] = Math.max(0, u0 - mu); R1[d] = Math.min(width - 1, u1 + mu);
      S0[d] = Math.max(0, v0 - mv); S1[d] = Math.min(height - 1, v1 + mv);
      area += (R1[d] - R0[d] + 1) * (S1[d] - S0[d] + 1);
      cleared.push(R0[d], S0[d], R1[d], S1[d]);
      for (let v = v0; v <= v1; v++) {
        for (let i = v * width + u0, e = v * width + u1; i <= e; i++) cover[i]++;
      }
    }
    // Per pixel of the boxes (a pixel in several boxes is visited once per box: the budget bounds their area).
    const table = colour ? colourBins() : null;
    const pixels = colour ? rgb : EMPTY;
    for (let k = 0; k < cleared.length; k += 4) {
      const u0 = cleared[k], v0 = cleared[k + 1], u1 = cleared[k + 2], v1 = cleared[k + 3];
      for (let v = v0; v <= v1; v++) {
        if (table !== null) {
          for (let i = v * width + u0, e = v * width + u1, c = v * rgbStep + u0 * 3; i <= e; i++, c += 3) {
            blocked[i] = cover[i] > 1 ? 1 : 0;
            const r = pixels[bgr ? c + 2 : c], g = pixels[c + 1], b = pixels[bgr ? c : c + 2];
            bins[i] = table[((r >> 2) << 12) | ((g >> 2) << 6) | (b >> 2)];
          }
        } else {
          for (let i = v * width + u0, e = v * width + u1; i <= e; i++) blocked[i] = cover[i] > 1 ? 1 : 0;
        }
      }
    }

    // 2. Colour models.
    if (colour) this.colourModels(nd, width, above);

    // 3. Seeds: nearest the centre among solid pixels no other box covers, else nearest free.
    // A region queues a pixel of its box once: the queue never holds more than the boxes' area and the seeds.
    this.ensureEntries(area + nd);
    const entryPixel = this.entryPixel, entryLabel = this.entryLabel, entryNext = this.entryNext, head = this.head, tail = this.tail;
    head.fill(-1);
    tail.fill(-1);
    let entries = 0;
    const seeds = this.seedPixel;
    for (let d = 0; d < nd; d++) {
      const u0 = U0[d], u1 = U1[d], v0 = V0[d], v1 = V1[d];
      seeds[d] = -1;
      if (u1 < u0) continue;
      const det = detections[d];
      const iu = Math.round((u1 - u0) * 0.2), iv = Math.round((v1 - v0) * 0.2);
      const accept = this.acceptSeed;
      this.seedDetection = d;
      this.seedWidth = width;
      this.seedHeight = height;
      this.seedDepth = depth;
      this.seedAbove = above;
      // With its own colour model, a seed must also be of its colour: a box whose centre falls
      // on the rim of the mug standing on it (left outside the mug's short box) seeds elsewhere.
      this.seedColour = colour && this.ownModel[d] === 1;
      let seed = findSeed(det.cx, det.cy, u0 + iu, v0 + iv, u1 - iu, v1 - iv, width, above, blocked, accept);
      if (seed < 0) seed = findSeed(det.cx, det.cy, u0, v0, u1, v1, width, above, blocked, accept);
      if (seed < 0) seed = findSeed(det.cx, det.cy, u0, v0, u1, v1, width, above, taken, accept);
      if (seed < 0 && this.seedColour) {
        this.seedColour = false;
        seed = findSeed(det.cx, det.cy, u0, v0, u1, v1, width, above, taken, accept);
      }
      if (seed < 0) seed = findSeed(det.cx, det.cy, u0, v0, u1, v1, width, above, labels);
      if (seed < 0) continue;
      // Taken now, so no later box seeds on it (marked in labels for the last search); growth labels it when it pops it.
      seeds[d] = seed;
      labels[seed] = d + 1;
      blocked[seed] = 1;
      taken[seed] = 1;
      entryPixel[entries] = seed;
      entryLabel[entries] = d + 1;
      entryNext[entries] = -1;
      if (tail[0] < 0) head[0] = entries;
      else entryNext[tail[0]] = entries;
      tail[0] = entries++;
    }
    for (let d = 0; d < nd; d++) if (seeds[d] >= 0) labels[seeds[d]] = 0;

    // 4. Growth: lowest colour cost first, first in first out within a level (without colour, one level).
    if (colour) this.grow(entries, width, depth, above);
    else this.growBreadthFirst(entries, width, depth, above);
    return labels;
  }

  /**
   * Seeded region growing from the queued seeds (`entries` queued): pops the lowest level,
   * labels the pixel if still free, queues its free above-plane neighbours inside the region's
   * box and on its surface at their colour's cost to the region. Its own method: a small hot
   * loop the optimiser compiles well.
   */
  private grow(entries: number, width: number, depth: Float32Array, above: Uint8Array): void {
    const labels = this.labels, queued = this.queued, bins = this.bins, cost = this.cost;
    const U0 = this.boxU0, U1 = this.boxU1, V0 = this.boxV0, V1 = this.boxV1;
    const R0 = this.reachU0, R1 = this.reachU1, S0 = this.reachV0, S1 = this.reachV1;
    const entryPixel = this.entryPixel, entryLabel = this.entryLabel, entryNext = this.entryNext, head = this.head, tail = this.tail;
    for (let level = 0; level < LEVELS; ) {
      const e = head[level];
      if (e < 0) {
        level++;
        continue;
      }
      head[level] = entryNext[e];
      if (head[level] < 0) tail[level] = -1;
      const i = entryPixel[e], label = entryLabel[e];
      if (labels[i] !== 0) continue;
      labels[i] = label;
      const d = label - 1;
      const u = i % width, v = (i - u) / width;
      const z = depth[i];
      // Continuity: neighbours on one surface differ by a few mm; a step of 3 cm + 3% is another surface.
      const step = 0.03 + 0.03 * z;
      const base = d * BINS;
      for (let k = 0; k < 4; k++) {
        let j: number, ju = u, jv = v;
        if (k === 0) { if (u <= R0[d]) continue; j = i - 1; ju--; }
        else if (k === 1) { if (u >= R1[d]) continue; j = i + 1; ju++; }
        else if (k === 2) { if (v <= S0[d]) continue; j = i - width; jv--; }
        else { if (v >= S1[d]) continue; j = i + width; jv++; }
        if (labels[j] !== 0 || queued[j] === label || above[j] === 0) continue;
        const dz = depth[j] - z;
        if (dz > step || dz < -step) continue;
        const c = cost[base + bins[j]];
        // Past its box a region takes only its own colour: the detector's box may be a little short.
        if (c > MARGIN_COST && (ju < U0[d] || ju > U1[d] || jv < V0[d] || jv > V1[d])) continue;
        queued[j] = label;
        entryPixel[entries] = j;
        entryLabel[entries] = label;
        entryNext[entries] = -1;
        if (tail[c] < 0) head[c] = entries;
        else entryNext[tail[c]] = entries;
        tail[c] = entries++;
        if (c < level) level = c;
      }
    }
  }

  /**
   * Growth when every colour costs the same: one first-in first-out queue (the seeds are its
   * first entries), so a pixel is claimed by the region that reaches it first and can be
   * labelled as it is queued, as the regions' wavefronts advance together.
   */
  private growBreadthFirst(entries: number, width: number, depth: Float32Array, above: Uint8Array): void {
    const labels = this.labels;
    const U0 = this.boxU0, U1 = this.boxU1, V0 = this.boxV0, V1 = this.boxV1;
    const entryPixel = this.entryPixel, entryLabel = this.entryLabel;
    for (let e = 0; e < entries; e++) labels[entryPixel[e]] = entryLabel[e];
    for (let head = 0; head < entries; head++) {
      const i = entryPixel[head], label = entryLabel[head], d = label - 1;
      const u = i % width, v = (i - u) / width;
      const z = depth[i];
      const step = 0.03 + 0.03 * z;
      for (let k = 0; k < 4; k++) {
        let j: number;
        if (k === 0) { if (u <= U0[d]) continue; j = i - 1; }
        else if (k === 1) { if (u >= U1[d]) continue; j = i + 1; }
        else if (k === 2) { if (v <= V0[d]) continue; j = i - width; }
        else { if (v >= V1[d]) continue; j = i + width; }
        if (labels[j] !== 0 || above[j] === 0) continue;
        const dz = depth[j] - z;
        if (dz > step || dz < -step) continue;
        labels[j] = label;
        entryPixel[entries] = j;
        entryLabel[entries++] = label;
      }
    }
  }

  /** Clears only what the previous frame wrote. */
  private clearPrevious(width: number): void {
    const cleared = this.cleared;
    for (let k = 0; k < cleared.length; k += 4) {
      const u0 = cleared[k], v0 = cleared[k + 1], u1 = cleared[k + 2], v1 = cleared[k + 3];
      for (let v = v0; v <= v1; v++) {
        const a = v * width + u0, b = v * width + u1 + 1;
        this.labels.fill(0, a, b);
        this.cover.fill(0, a, b);
        this.blocked.fill(0, a, b);
        this.taken.fill(0, a, b);
        this.queued.fill(0, a, b);
        this.explained.fill(0, a, b);
      }
    }
    cleared.length = 0;
  }

  /** Room for `size` queue entries; grows (by half again at least) only when a frame needs more. */
  private ensureEntries(size: number): void {
    if (this.entryPixel.length >= size) return;
    const capacity = Math.max(size, Math.ceil(this.entryPixel.length * 1.5), 1024);
    this.entryPixel = new Int32Array(capacity);
    this.entryLabel = new Uint16Array(capacity);
    this.entryNext = new Int32Array(capacity);
  }

  private ensureDetections(nd: number): void {
    if (this.boxU0.length >= nd) return;
    const size = Math.max(nd, 2 * this.boxU0.length, 16);
    this.boxU0 = new Int32Array(size);
    this.boxU1 = new Int32Array(size);
    this.boxV0 = new Int32Array(size);
    this.boxV1 = new Int32Array(size);
    this.reachU0 = new Int32Array(size);
    this.reachU1 = new Int32Array(size);
    this.reachV0 = new Int32Array(size);
    this.reachV1 = new Int32Array(size);
    this.seedPixel = new Int32Array(size);
    this.ownModel = new Uint8Array(size);
    this.cost = new Uint8Array(size * BINS);
  }

  /**
   * Every detection's colour costs. A detection's own colour is best told by the pixels only
   * it covers: above-plane pixels no other box covers within the central 60% of its box, else
   * anywhere in it. A detection with too few of those (a mug whose box lies inside the book's
   * it stands on) takes the central half of its box, where the colours the others' own models
   * like count a tenth: what is left is its own colour.
   */
  private colourModels(nd: number, width: number, above: Uint8Array): void {
    const U0 = this.boxU0, U1 = this.boxU1, V0 = this.boxV0, V1 = this.boxV1;
    for (let d = 0; d < nd; d++) {
      this.ownModel[d] = 0;
      if (U1[d] < U0[d]) continue;
      const iu = Math.round((U1[d] - U0[d]) * 0.2), iv = Math.round((V1[d] - V0[d]) * 0.2);
      let total = this.histogramOf(U0[d] + iu, U1[d] - iu, V0[d] + iv, V1[d] - iv, width, above, true, 1);
      if (total < MIN_MODEL_PIXELS) total = this.histogramOf(U0[d], U1[d], V0[d], V1[d], width, above, true, 1);
      if (total < MIN_MODEL_PIXELS) continue;
      this.ownModel[d] = 1;
      this.costsFromHistogram(d);
      // Mark the pixels of its box whose colour this model likes.
      const base = d * BINS, cost = this.cost, bins = this.bins, explained = this.explained;
      for (let v = V0[d]; v <= V1[d]; v++) {
        for (let i = v * width + U0[d], e = v * width + U1[d]; i <= e; i++) if (cost[base + bins[i]] <= LIKED_COST) explained[i] = 1;
      }
    }
    for (let d = 0; d < nd; d++) {
      if (this.ownModel[d] || U1[d] < U0[d]) continue;
      const qu = Math.round((U1[d] - U0[d]) * 0.25), qv = Math.round((V1[d] - V0[d]) * 0.25);
      const total = this.histogramOf(U0[d] + qu, U1[d] - qu, V0[d] + qv, V1[d] - qv, width, above, false, 0.1);
      if (total > 0) this.costsFromHistogram(d);
      else this.cost.fill(0, d * BINS, (d + 1) * BINS);
    }
  }

  /** Histogram of above-plane pixels' bins in [a0, a1] x [b0, b1] (only those no other box covers when `exclusive`; liked by another model weigh `explainedWeight`); returns the pixel count. */
  private histogramOf(a0: number, a1: number, b0: number, b1: number, width: number, above: Uint8Array, exclusive: boolean, explainedWeight: number): number {
    const h = this.histogram, bins = this.bins, cover = this.cover, explained = this.explained;
    h.fill(0);
    let total = 0;
    for (let v = b0; v <= b1; v++) {
      for (let i = v * width + a0, e = v * width + a1; i <= e; i++) {
        if (!above[i] || (exclusive && cover[i] > 1)) continue;
        const b = bins[i], w = explained[i] ? explainedWeight : 1;
        h[b] += w;
        // A gray's neighbouring rungs: the same surface lit a little more or less; a colour's
        // neighbouring chromaticities: the same surface darker (quantised and noisy), or a bin edge.
        if (b < GRAY_LEVELS) {
          if (b > 0) h[b - 1] += w / 2;
          if (b < GRAY_LEVELS - 1) h[b + 1] += w / 2;
        } else {
          const cr = ((b - GRAY_LEVELS) / CHROMA_LEVELS) | 0, cg = (b - GRAY_LEVELS) % CHROMA_LEVELS;
          if (cr > 0) h[b - CHROMA_LEVELS] += w / 2;
          if (cr < CHROMA_LEVELS - 1) h[b + CHROMA_LEVELS] += w / 2;
          if (cg > 0) h[b - 1] += w / 2;
          if (cg < CHROMA_LEVELS - 1) h[b + 1] += w / 2;
        }
        total++;
      }
    }
    return total;
  }

  /** Each bin's cost 2·log2(most common bin / this bin), half a pixel added to every bin (never seen costs the most, not infinitely), capped. */
  private costsFromHistogram(d: number): void {
    const h = this.histogram, base = d * BINS;
    let max = 0;
    for (let b = 0; b < BINS; b++) if (h[b] > max) max = h[b];
    const top = max + 0.5;
    for (let b = 0; b < BINS; b++) this.cost[base + b] = Math.min(LEVELS - 1, Math.round(2 * Math.log2(top / (h[b] + 0.5))));
  }
}

/** Whether pixel i (above the plane) has its 4 neighbours above the plane and on its surface: a seed that can grow. */
function isSolid(i: number, u: number, v: number, width: number, height: number, depth: Float32Array, above: Uint8Array): boolean {
  if (u === 0 || v === 0 || u === width - 1 || v === height - 1) return false;
  const z = depth[i], step = 0.03 + 0.03 * z;
  return near(i - 1, z, step, depth, above) && near(i + 1, z, step, depth, above) && near(i - width, z, step, depth, above) && near(i + width, z, step, depth, above);
}

function near(j: number, z: number, step: number, depth: Float32Array, above: Uint8Array): boolean {
  const dz = depth[j] - z;
  return above[j] !== 0 && dz <= step && dz >= -step;
}

/** The colour bin (see BINS) of r, g, b. */
function colourBin(r: number, g: number, b: number): number {
  const s = r + g + b;
  if (s < DARK_SUM) return 0;
  if (Math.max(r, g, b) - Math.min(r, g, b) < NEUTRAL_SPREAD * s) {
    // log2(s) over 5.9..9.6 (60..765) on rungs 1..GRAY_LEVELS − 1.
    return 1 + Math.min(GRAY_LEVELS - 2, Math.floor(((Math.log2(s) - 5.9) / 3.7) * (GRAY_LEVELS - 1)));
  }
  const cr = Math.min(CHROMA_LEVELS - 1, Math.floor((r / s) * (CHROMA_LEVELS / 0.8)));
  const cg = Math.min(CHROMA_LEVELS - 1, Math.floor((g / s) * (CHROMA_LEVELS / 0.8)));
  return GRAY_LEVELS + cr * CHROMA_LEVELS + cg;
}

/**
 * colourBin of every colour at 6 bits a channel (index r6 << 12 | g6 << 6 | b6, each at its
 * cell's centre): one lookup a pixel. Built on first use (256 KiB), by segmenters given colour.
 */
let binTable: Uint8Array | null = null;
function colourBins(): Uint8Array {
  if (binTable === null) {
    const t = new Uint8Array(1 << 18);
    for (let r = 0; r < 64; r++) for (let g = 0; g < 64; g++) for (let b = 0; b < 64; b++) t[(r << 12) | (g << 6) | b] = colourBin(r * 4 + 2, g * 4 + 2, b * 4 + 2);
    binTable = t;
  }
  return binTable;
}

/**
 * The seed of a box: the first free above-plane pixel on square rings of growing radius r
 * around the rounded centre (cx, cy), within the box [u0, u1] x [v0, v1], that `accept` (when
 * given) accepts. Each ring is visited in row order (top row left to right, then each middle
 * row's left and right ends, then the bottom row), walking only its perimeter: O(r) per ring,
 * O(box area) in all. Returns the pixel index, or -1 if there is none.
 */
export function findSeed(
  cx: number, cy: number, u0: number, v0: number, u1: number, v1: number, width: number, above: Uint8Array, labels: Uint16Array,
  accept?: (i: number) => boolean,
): number {
  const cu = Math.round(cx), cv = Math.round(cy);
  const maxR = Math.max(u1 - u0, v1 - v0) / 2;
  for (let r = 0; r <= maxR; r++) {
    const left = cu - r, right = cu + r;
    const ua = Math.max(u0, left), ub = Math.min(u1, right);
    // Top row.
    let v = cv - r;
    if (v >= v0 && v <= v1) {
      for (let i = v * width + ua, e = v * width + ub; i <= e; i++) if (free(i, above, labels, accept)) return i;
    }
    if (r === 0) continue;
    // Middle rows: only the two ends belong to the ring.
    const va = Math.max(v0, cv - r + 1), vb = Math.min(v1, cv + r - 1);
    const hasLeft = left >= u0 && left <= u1, hasRight = right >= u0 && right <= u1;
    if (hasLeft || hasRight) {
      for (v = va; v <= vb; v++) {
        const row = v * width;
        if (hasLeft && free(row + left, above, labels, accept)) return row + left;
        if (hasRight && free(row + right, above, labels, accept)) return row + right;
      }
    }
    // Bottom row.
    v = cv + r;
    if (v >= v0 && v <= v1) {
      for (let i = v * width + ua, e = v * width + ub; i <= e; i++) if (free(i, above, labels, accept)) return i;
    }
  }
  return -1;
}

function free(i: number, above: Uint8Array, labels: Uint16Array, accept: ((i: number) => boolean) | undefined): boolean {
  return above[i] !== 0 && labels[i] === 0 && (accept === undefined || accept(i));
}
