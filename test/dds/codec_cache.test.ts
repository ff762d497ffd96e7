import { describe, expect, it } from "vitest";
import type * as M from "../../src/msgs/generated.js";
import { CdrCodec } from "../../src/msgs/cdr_codec.js";
import { codecFor } from "../../src/transport/dds/codec_cache.js";
import { Rng } from "../../sim/index.js";

function image(seed: number, width = 64, height = 48): M.sensor_msgs__msg__Image {
  const data = new Uint8Array(width * height * 3).map((_, i) => (i * 7 + seed) & 0xff);
  return { header: { stamp: { sec: seed, nanosec: 1 }, frame_id: "camera_color_optical_frame" }, height, width, encoding: "rgb8", is_bigendian: 0, step: width * 3, data };
}

/** `bytes` placed as a lent sample: 4 bytes into a larger reused buffer whose tail holds an older sample. */
function inSlot(bytes: Uint8Array, older: Uint8Array): Uint8Array {
  const slot = new Uint8Array(4 + Math.max(bytes.length, older.length) + 64);
  slot.set(older, 4);
  slot.set(bytes, 4);
  return slot.subarray(4, 4 + bytes.length);
}

describe("the transport's CDR codecs", () => {
  const codec = codecFor("sensor_msgs/msg/Image");

  it("decode what CdrCodec decodes, and encode the same bytes", () => {
    const reference = new CdrCodec("sensor_msgs/msg/Image");
    for (let k = 0; k < 20; k++) {
      const m = image(k, 8 + k, 4 + k);
      const bytes = codec.encode(m);
      expect(Buffer.compare(Buffer.from(bytes), Buffer.from(reference.encode(m)))).toBe(0);
      expect(codec.decode(bytes)).toEqual(reference.decode(bytes));
    }
  });

  it("refuse a sample whose lengths claim more than it holds, even when the buffer goes on", () => {
    const older = codec.encode(image(1)).slice();
    const clean = codec.encode(image(2)).slice();
    for (const cut of [12, 40, 60, 100, clean.length - 1000, clean.length - 1]) {
      expect(() => codec.decode(inSlot(clean.slice(0, cut), older)), `cut at ${cut}`).toThrow(RangeError);
    }
    expect((codec.decode(inSlot(clean, older)) as M.sensor_msgs__msg__Image).data).toEqual(image(2).data);
  });

  it("decode a body whose header is implied (a shared-memory chunk's) as the sample with its header, whatever its first 4 bytes are", () => {
    const depth = codecFor("sensor_msgs/msg/Image");
    const masks = codecFor("spatial_reward_msgs/msg/InstanceMasks");
    const m = image(9, 33, 17);
    const d: M.sensor_msgs__msg__Image = { ...m, encoding: "16UC1", step: 66, data: new Uint8Array(new Uint16Array(33 * 17).map((_, i) => i * 31).buffer) };
    const k: M.spatial_reward_msgs__msg__InstanceMasks = { header: m.header, mask: d, ids: new Uint16Array([3, 7, 9]), labels: ["cup", "book", "plant"] };
    for (const [c, msg] of [[codec, m], [depth, d], [masks, k]] as const) {
      const bytes = c.encode(msg).slice();
      const expected = c.decode(bytes);
      // iceoryx's back-offset before a chunk's payload (little-endian 0x40), a big-endian CDR
      // header, an XCDR2 one, zeros: none of them is read.
      for (const lead of [[0x40, 0, 0, 0], [0, 0, 0, 0], [0, 0x07, 0, 0], [0xff, 0xff, 0xff, 0xff]]) {
        const chunk = bytes.slice();
        chunk.set(lead, 0);
        expect(c.decode(chunk, true), `lead ${lead.join(",")}`).toEqual(expected);
      }
    }
    // Without the flag such bytes are read as their header says (big-endian here): not the message.
    const chunk = codec.encode(m).slice();
    chunk.set([0x40, 0, 0, 0], 0);
    expect(() => codec.decode(chunk)).toThrow();
  });

  it("fuzz: a mutated sample in a reused buffer decodes to views within the sample, or throws", () => {
    const rng = new Rng(5);
    const older = codec.encode(image(3, 80, 60)).slice();
    for (let k = 0; k < 2000; k++) {
      const bytes = codec.encode(image(k, 64, 48)).slice();
      const n = 1 + rng.int(0, 3);
      for (let j = 0; j < n; j++) bytes[4 + rng.int(0, 80)] = rng.int(0, 255);
      const cut = rng.next() < 0.3 ? rng.int(4, bytes.length) : bytes.length;
      const sample = inSlot(bytes.subarray(0, cut), older);
      let m: M.sensor_msgs__msg__Image;
      try {
        m = codec.decode(sample) as M.sensor_msgs__msg__Image;
      } catch (e) {
        expect(e).toBeInstanceOf(Error);
        continue;
      }
      const end = sample.byteOffset + sample.byteLength;
      if (m.data instanceof Uint8Array) expect(m.data.byteOffset + m.data.byteLength).toBeLessThanOrEqual(end);
    }
  });
});
