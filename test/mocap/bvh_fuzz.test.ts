import { describe, expect, it } from "vitest";
import { BvhFrameBuilder, BvhParseError, bvhForwardKinematics, formatBvh, parseBvh, type BvhDocument } from "../../src/mocap/bvh.js";
import { decodeMocapFrame, encodeMocapFrame } from "../../src/mocap/mocap_codec.js";
import { mulberry32 } from "../../src/random/mulberry32.js";
import { generateBvh } from "./bvh_fixtures.js";

/**
 * Seeded fuzzing of parseBvh: random and mutated BVH text. Every case either parses into a
 * consistent document (parents first, channels adding up, finite motion, finite FK, a writer
 * round trip and frames the codec accepts) or throws a BvhParseError naming a line of the
 * input; nothing else escapes and no case is slow.
 */

const CASES = 3000;
const TOKENS = [
  "HIERARCHY", "ROOT", "JOINT", "End", "Site", "End Site", "{", "}", "OFFSET", "CHANNELS", "MOTION", "Frames:", "Frame Time:",
  "Xposition", "Yrotation", "Zrotation", "3", "6", "7", "-1", "0", "1e999", "nan", "inf", "-0", "1e9", "1e-320", "0x1f", "",
  "\t", "\r", "\u0000", "\uFEFF", "é", "9".repeat(30), "{ {", "} }",
];

function checkDocument(doc: BvhDocument): void {
  let channels = 0;
  doc.joints.forEach((j, i) => {
    expect(j.parent).toBeLessThan(i);
    expect(j.parent).toBeGreaterThanOrEqual(-1);
    if (j.parent >= 0) expect(doc.joints[j.parent].endSite).toBe(false);
    expect(j.channelStart).toBe(channels);
    if (j.endSite) expect(j.channels).toHaveLength(0);
    channels += j.channels.length;
    expect([j.offset.x, j.offset.y, j.offset.z].every(Number.isFinite)).toBe(true);
  });
  expect(channels).toBe(doc.channelCount);
  expect(doc.motion.length).toBe(doc.frameCount * doc.channelCount);
  expect(doc.motion.every(Number.isFinite)).toBe(true);
  expect(doc.frameTimeS).toBeGreaterThan(0);
  if (doc.frameCount > 0 && doc.joints.length > 0) {
    const fk = bvhForwardKinematics(doc, doc.frameCount - 1);
    expect(fk.positions.every(Number.isFinite) && fk.orientations.every(Number.isFinite)).toBe(true);
    const frame = new BvhFrameBuilder(doc).frame(0);
    expect(decodeMocapFrame(encodeMocapFrame(frame)).skeletons[0].joints).toHaveLength(doc.joints.length);
  }
  // Names that cannot be written (a mutated name with braces) are refused by the writer, typed.
  if (doc.joints.every((j) => j.endSite || !/[{}]/.test(j.name))) {
    const again = parseBvh(formatBvh(doc));
    expect(again.joints.map(({ line: _, ...j }) => j)).toEqual(doc.joints.map(({ line: _, ...j }) => j));
    expect(again.motion).toEqual(doc.motion);
  }
}

describe("parseBvh fuzz", () => {
  it(`${CASES} seeded random and mutated files: a consistent document or a BvhParseError with a line, nothing else`, () => {
    const rnd = mulberry32(0xb0f);
    const int = (n: number) => Math.floor(rnd() * n);
    const bases = [generateBvh(1, 25, 4).text, generateBvh(2, 6, 2).text, generateBvh(3, 40, 1).text];
    const outcomes = new Map<string, number>();
    let slowest = 0;
    for (let c = 0; c < CASES; c++) {
      const base = bases[c % bases.length];
      const lines = base.split("\n");
      const mode = c % 10;
      let text: string;
      switch (mode) {
        case 0: // delete a line
          lines.splice(int(lines.length), 1);
          text = lines.join("\n");
          break;
        case 1: // duplicate a line
          lines.splice(int(lines.length), 0, lines[int(lines.length)]);
          text = lines.join("\n");
          break;
        case 2: // swap two lines
          {
            const a = int(lines.length), b = int(lines.length);
            [lines[a], lines[b]] = [lines[b], lines[a]];
            text = lines.join("\n");
          }
          break;
        case 3: // cut anywhere
          text = base.slice(0, int(base.length));
          break;
        case 4: // replace a token with a hostile one
          {
            const i = int(lines.length);
            const words = lines[i].split(" ");
            words[int(words.length)] = TOKENS[int(TOKENS.length)];
            lines[i] = words.join(" ");
            text = lines.join("\n");
          }
          break;
        case 5: // flip characters
          {
            const chars = base.split("");
            for (let k = 0; k < 1 + int(4); k++) chars[int(chars.length)] = String.fromCharCode(int(128));
            text = chars.join("");
          }
          break;
        case 6: // insert random tokens
          {
            const i = int(lines.length);
            lines.splice(i, 0, Array.from({ length: 1 + int(4) }, () => TOKENS[int(TOKENS.length)]).join(" "));
            text = lines.join("\n");
          }
          break;
        case 7: // change a count (CHANNELS n, Frames: n)
          text = base.replace(/(CHANNELS|Frames:) (\d+)/g, (m, k: string, n: string) => (rnd() < 0.2 ? `${k} ${Number(n) + int(5) - 2}` : m));
          break;
        case 8: // random token soup, sometimes behind a valid header
          text = (rnd() < 0.5 ? "HIERARCHY\n" : "") + Array.from({ length: int(60) }, () => TOKENS[int(TOKENS.length)] + (rnd() < 0.3 ? "\n" : " ")).join("");
          break;
        default: // random bytes as text
          text = Array.from({ length: int(200) }, () => String.fromCharCode(int(256))).join("");
      }
      const t0 = performance.now();
      let outcome: string;
      try {
        const doc = parseBvh(text);
        outcome = "parsed";
        checkDocument(doc);
      } catch (e) {
        if (!(e instanceof BvhParseError)) throw new Error(`case ${c} (mode ${mode}) threw ${String(e)}; text ${JSON.stringify(text.slice(0, 200))}`);
        expect(e.line).toBeGreaterThanOrEqual(0);
        expect(e.line).toBeLessThanOrEqual(text.split("\n").length + 1);
        outcome = e.kind;
      }
      slowest = Math.max(slowest, performance.now() - t0);
      outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
    }
    // The mutations reach the parser's branches: documents that still parse and most kinds of error.
    expect(outcomes.get("parsed") ?? 0).toBeGreaterThan(100);
    for (const kind of ["empty", "missing_section", "syntax", "bad_channels", "bad_number", "non_finite", "truncated", "extra_data"]) {
      expect(outcomes.get(kind) ?? 0, `${kind}: ${JSON.stringify([...outcomes])}`).toBeGreaterThan(0);
    }
    // A guard against pathological inputs, not a speed goal: every case is a few ms.
    expect(slowest).toBeLessThan(1000);
  });
});
