import { describe, expect, it } from "vitest";
import { ModelError } from "../../../src/errors.js";
import { parseSafetensors, writeSafetensors, type TensorToWrite } from "../../../src/backbone/safetensors.js";
import { mulberry32 } from "../../../src/random/mulberry32.js";

/**
 * Random damage to a valid file: whatever the bytes, the parser returns tensors that are
 * consistent (data length = product of shape, all finite) or throws a ModelError naming the
 * file; never another exception, never a hang (the loop would time out).
 */
function base(): Uint8Array {
  const rand = mulberry32(7);
  const t = (shape: number[]): TensorToWrite => {
    const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
    for (let i = 0; i < data.length; i++) data[i] = rand() * 4 - 2;
    return { shape, data };
  };
  return writeSafetensors(
    new Map([
      ["backbone.layers.0.mixer.A_log", t([4, 3])],
      ["backbone.norm_f.weight", t([4])],
      ["vision.dino.pos_embed", t([2, 2, 2])],
    ]),
    { format: "pt" },
  );
}

const INTERESTING = [0x00, 0x20, 0x22, 0x2c, 0x2d, 0x30, 0x31, 0x39, 0x3a, 0x5b, 0x5d, 0x7b, 0x7d, 0x7f, 0x80, 0xff, 0x5c, 0x65];

function mutate(src: Uint8Array, rand: () => number): Uint8Array {
  const pick = (n: number): number => Math.floor(rand() * n);
  const headerEnd = 8 + new DataView(src.buffer, src.byteOffset).getUint32(0, true);
  // Most damage goes to the header, where the parser has decisions to make.
  const where = (): number => (rand() < 0.8 ? pick(headerEnd) : pick(src.length));
  const kind = pick(6);
  let out = src.slice();
  if (kind === 0) {
    out = out.slice(0, pick(out.length));
  } else if (kind === 1) {
    const n = 1 + pick(4);
    for (let i = 0; i < n; i++) out[where()] = pick(256);
  } else if (kind === 2) {
    out[where()] = INTERESTING[pick(INTERESTING.length)]!;
  } else if (kind === 3) {
    const at = where();
    const ins = Uint8Array.from({ length: 1 + pick(8) }, () => (rand() < 0.5 ? INTERESTING[pick(INTERESTING.length)]! : pick(256)));
    const grown = new Uint8Array(out.length + ins.length);
    grown.set(out.subarray(0, at));
    grown.set(ins, at);
    grown.set(out.subarray(at), at + ins.length);
    out = grown;
  } else if (kind === 4) {
    const at = where();
    const n = 1 + pick(8);
    out = Uint8Array.from([...out.subarray(0, at), ...out.subarray(Math.min(out.length, at + n))]);
  } else {
    // The header length itself.
    new DataView(out.buffer).setUint32(pick(2) * 4, rand() < 0.5 ? pick(256) : Math.floor(rand() * 2 ** 32), true);
  }
  return out;
}

describe("safetensors fuzz", () => {
  it("random mutations and truncations of a valid file: consistent tensors or a ModelError, nothing else", () => {
    const src = base();
    expect(parseSafetensors(src).tensors.size).toBe(3);
    const rand = mulberry32(20240611);
    let ok = 0;
    let refused = 0;
    const reasons = new Set<string>();
    for (let i = 0; i < 6000; i++) {
      const bytes = mutate(src, rand);
      try {
        const f = parseSafetensors(bytes, "fuzz.safetensors");
        for (const [, t] of f.tensors) {
          expect(t.data.length).toBe(t.shape.reduce((a, b) => a * b, 1));
          for (const x of t.data) expect(Number.isFinite(x)).toBe(true);
        }
        ok++;
      } catch (e) {
        if (!(e instanceof ModelError)) throw new Error(`iteration ${i}: ${String(e)} is not a ModelError`);
        expect(e.code).toBe("bad_model");
        expect(e.file).toBe("fuzz.safetensors");
        expect(e.message.startsWith("fuzz.safetensors")).toBe(true);
        reasons.add(e.message.replace(/^fuzz\.safetensors( \([^)]*\))?: /, "").replace(/[\d[\]",.]+/g, "#").slice(0, 24));
        refused++;
      }
    }
    if (process.env.FUZZ_REPORT) console.log({ ok, refused, reasons: reasons.size });
    // Both outcomes occur, and the refusals come from many different checks.
    expect(ok).toBeGreaterThan(100);
    expect(refused).toBeGreaterThan(3000);
    expect(reasons.size).toBeGreaterThan(10);
  });
});
