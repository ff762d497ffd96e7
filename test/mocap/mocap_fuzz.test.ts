import { describe, expect, it } from "vitest";
import { decodeMocapFrame, decodeRecorderControl, encodeMocapFrame, MocapPayloadError } from "../../src/mocap/mocap_codec.js";
import { MocapValidator, type MocapCounters } from "../../src/mocap/mocap_validator.js";
import type { MocapFrame } from "../../src/msgs/mocap_proto.js";
import { mulberry32 } from "../../src/random/mulberry32.js";
import { body, frame } from "./mocap_fixtures.js";

const CODES = new Set(["payload_too_large", "bad_message", "wrong_schema"]);

function balanced(c: MocapCounters, pending: number): boolean {
  const rejected = c.frames_malformed + c.frames_wrong_stream + c.frames_too_large + c.frames_bad_axes + c.frames_non_finite
    + c.frames_duplicate + c.frames_late + c.frames_stale + c.frames_bad_device_time;
  return c.frames_received === c.frames_released + pending + rejected;
}

/** Valid frames of varied shape to mutate. */
function seeds(rand: () => number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let i = 0; i < 16; i++) {
    const f = frame(1000 + i);
    f.rigid_bodies = Array.from({ length: 1 + Math.floor(rand() * 5) }, (_, k) => body(k, `b${k}`, rand(), rand(), rand()));
    if (i % 3 === 0) f.skeletons = [];
    if (i % 4 === 0) f.markers = [];
    out.push(encodeMocapFrame(f));
  }
  return out;
}

function mutate(src: Uint8Array, rand: () => number, pool: Uint8Array[]): Uint8Array {
  let b = Array.from(src);
  const edits = 1 + Math.floor(rand() * 4);
  for (let e = 0; e < edits; e++) {
    const at = Math.floor(rand() * (b.length + 1));
    switch (Math.floor(rand() * 7)) {
      case 0: if (b.length) b[at % b.length] ^= 1 << Math.floor(rand() * 8); break;
      case 1: if (b.length) b[at % b.length] = Math.floor(rand() * 256); break;
      case 2: b.splice(at, 0, Math.floor(rand() * 256)); break;
      case 3: b.splice(at, 1 + Math.floor(rand() * 4)); break;
      case 4: b = b.slice(0, at); break;
      case 5: { const len = Math.floor(rand() * 16); b.splice(at, 0, ...b.slice(at, at + len)); break; }
      default: { const other = pool[Math.floor(rand() * pool.length)]; const cut = Math.floor(rand() * other.length); b = [...b.slice(0, at), ...other.slice(cut)]; }
    }
  }
  return new Uint8Array(b);
}

/** Random bytes, half of them shaped like protobuf (tags with plausible wire types and lengths). */
function randomBytes(rand: () => number): Uint8Array {
  const n = Math.floor(rand() * 200);
  const out: number[] = [];
  if (rand() < 0.5) {
    for (let i = 0; i < n; i++) out.push(Math.floor(rand() * 256));
  } else {
    while (out.length < n) {
      const field = 1 + Math.floor(rand() * 10);
      const wire = [0, 1, 2, 5, 3, 4, 6, 7][Math.floor(rand() * (rand() < 0.9 ? 4 : 8))];
      out.push((field << 3) | wire);
      if (wire === 0) out.push(Math.floor(rand() * 256) & (rand() < 0.7 ? 0x7f : 0xff));
      else if (wire === 1) for (let i = 0; i < 8; i++) out.push(Math.floor(rand() * 256));
      else if (wire === 5) for (let i = 0; i < 4; i++) out.push(Math.floor(rand() * 256));
      else if (wire === 2) out.push(Math.floor(rand() * 12));
    }
  }
  return new Uint8Array(out);
}

/** Hostile values for structural mutation of decoded frames. */
const HOSTILE: unknown[] = [Number.NaN, Number.POSITIVE_INFINITY, -Number.MAX_VALUE, 1e308, -1, 2 ** 53, "", "x".repeat(300), null, undefined, {}, [], -1n, 2n ** 70n, true];

function corrupt(f: MocapFrame, rand: () => number): void {
  const pick = <T>(xs: T[]): T | undefined => (xs.length ? xs[Math.floor(rand() * xs.length)] : undefined);
  const value = HOSTILE[Math.floor(rand() * HOSTILE.length)];
  const targets: [Record<string, unknown>, string][] = [[f as unknown as Record<string, unknown>, pick(["frame_number", "device_timestamp_ns", "system_latency_ms", "axes", "rigid_bodies", "markers", "skeletons", "stream_id"])!]];
  const b = pick(f.rigid_bodies);
  if (b) targets.push([b as unknown as Record<string, unknown>, pick(["id", "name", "position", "orientation", "mean_marker_error", "tracked"])!], [b.position as unknown as Record<string, unknown>, pick(["x", "y", "z"])!]);
  const s = pick(f.skeletons);
  const j = s ? pick(s.joints) : undefined;
  if (j) targets.push([j as unknown as Record<string, unknown>, pick(["parent", "name", "orientation", "tracked"])!]);
  const [obj, key] = targets[Math.floor(rand() * targets.length)];
  obj[key] = value;
}

describe("mocap fuzz", () => {
  it("24k seeded payloads (random bytes, mutated frames): decode throws only MocapPayloadError; the validator never throws", () => {
    const rand = mulberry32(20240610);
    const pool = seeds(rand);
    const v = new MocapValidator({ streamId: "s1" });
    const seen = new Map<string, number>();
    const shapes = pool.map((b) => decodeMocapFrame(b));
    const fresh = (i: number): Uint8Array => {
      const f = shapes[i % shapes.length];
      f.frame_number = BigInt(i);
      f.device_timestamp_ns = 1_000_000_000n + BigInt(i) * 4_166_667n;
      return encodeMocapFrame(f);
    };
    let decoded = 0, released = 0;
    let host = 0n;
    const cases = 24_000;
    for (let i = 0; i < cases; i++) {
      // Mutants of a fresh frame numbered i, so the ones that survive reach the validator's release path.
      const bytes = i % 2 === 0 ? randomBytes(rand) : rand() < 0.15 ? fresh(i) : mutate(fresh(i), rand, pool);
      let f: MocapFrame | undefined;
      try {
        f = decodeMocapFrame(bytes);
        decoded++;
      } catch (e) {
        expect(e).toBeInstanceOf(MocapPayloadError);
        expect(CODES.has((e as MocapPayloadError).code)).toBe(true);
        seen.set((e as MocapPayloadError).code, (seen.get((e as MocapPayloadError).code) ?? 0) + 1);
      }
      try {
        decodeRecorderControl(bytes);
      } catch (e) {
        expect(e).toBeInstanceOf(MocapPayloadError);
      }
      host += 4_000_000n;
      if (f) released += v.push(f, host).length;
    }
    released += v.flush().length;
    // The corpus reaches every path: each error code, and frames that decode and are released.
    expect(seen.get("bad_message")).toBeGreaterThan(1000);
    expect(seen.get("wrong_schema")).toBeGreaterThan(1000);
    expect(decoded).toBeGreaterThan(1000);
    expect(released).toBeGreaterThan(100);
    const c = v.counters();
    expect(c.frames_received).toBe(decoded);
    expect(c.frames_released).toBe(released);
    expect(balanced(c, v.pending())).toBe(true);
  });

  it("6k decoded frames with hostile values in random fields: the validator never throws and its counters balance", () => {
    const rand = mulberry32(99);
    const pool = seeds(rand);
    const v = new MocapValidator();
    let host = 0n;
    for (let i = 0; i < 6_000; i++) {
      const f = decodeMocapFrame(pool[i % pool.length]);
      f.frame_number = BigInt(i);
      f.device_timestamp_ns = BigInt(i) * 4_166_667n;
      if (rand() < 0.7) corrupt(f, rand);
      host += 4_000_000n;
      expect(() => v.push(f, host)).not.toThrow();
      if (i % 50 === 0) expect(() => v.poll(host)).not.toThrow();
    }
    v.flush();
    const c = v.counters();
    expect(c.frames_received).toBe(6_000);
    expect(c.frames_malformed + c.frames_non_finite).toBeGreaterThan(1000);
    expect(c.frames_released).toBeGreaterThan(1000);
    expect(balanced(c, v.pending())).toBe(true);
  });
});
