import { describe, expect, it } from "vitest";
import { InvalidInputError } from "../../src/errors.js";
import { Perception } from "../../src/perception/perception.js";
import type { RgbdFrame } from "../../src/perception/rgbd_frame.js";
import { syntheticFrame } from "./synthetic_frame.js";

function expectCode(p: Perception, frame: RgbdFrame, code: string): void {
  let caught: unknown;
  try {
    p.process(frame);
  } catch (e) {
    caught = e;
  }
  expect(caught).toBeInstanceOf(InvalidInputError);
  expect((caught as InvalidInputError).code).toBe(code);
  expect((caught as Error).message.length).toBeGreaterThan(20);
}

describe("perception on a hand-built frame", () => {
  it("finds the table, the cube and its size", () => {
    const p = new Perception();
    const scene = p.process(syntheticFrame(320, 240));
    expect(scene.supportZ).toBeCloseTo(-1.0, 2);
    expect(scene.objects).toHaveLength(1);
    const cube = scene.objects[0];
    expect(cube.kind).toBe("cube");
    expect(cube.color).toBe("red");
    expect(cube.id).toBe("cube#1");
    // Horizontal distance from the camera to the cube centre is 1.0 m; it is straight ahead.
    expect(cube.center.x).toBeCloseTo(1.0, 1);
    expect(Math.abs(cube.center.y)).toBeLessThan(0.01);
    expect(cube.size.z).toBeGreaterThan(0.09);
    expect(cube.size.z).toBeLessThan(0.11);
  });
});

describe("bad input: typed error, counter, pipeline keeps running", () => {
  it("rejects each kind of bad frame and still processes the next good one", () => {
    const p = new Perception();
    const good = syntheticFrame();

    const wrongSize = { ...good, depth: { ...good.depth, width: 100 } };
    expectCode(p, wrongSize, "bad_image_size");

    const wrongStep = { ...good, rgb: { ...good.rgb, step: good.rgb.width * 2 } };
    expectCode(p, wrongStep, "bad_image_step");

    const wrongEncoding = { ...good, depth: { ...good.depth, encoding: "8UC3" } };
    expectCode(p, wrongEncoding, "bad_encoding");

    const nanDepth = new Float32Array(good.depth.width * good.depth.height).fill(NaN);
    expectCode(p, { ...good, depth: { ...good.depth, data: new Uint8Array(nanDepth.buffer) } }, "bad_depth");

    const zeroDepth = new Uint8Array(good.depth.data.length);
    expectCode(p, { ...good, depth: { ...good.depth, data: zeroDepth } }, "bad_depth");

    expectCode(p, { ...good, intrinsics: { ...good.intrinsics, fx: 0 } }, "bad_intrinsics");

    const empty = new Uint8Array(good.depth.width * good.depth.height);
    expectCode(p, { ...good, instances: { image: { ...good.instances!.image, data: empty }, labels: good.instances!.labels } }, "empty_mask");

    const scene = p.process(good);
    expect(scene.objects).toHaveLength(1);
    const c = p.counters.snapshot();
    expect(c["errors.bad_image_size"]).toBe(1);
    expect(c["errors.bad_image_step"]).toBe(1);
    expect(c["errors.bad_encoding"]).toBe(1);
    expect(c["errors.bad_depth"]).toBe(2);
    expect(c["errors.bad_intrinsics"]).toBe(1);
    expect(c["errors.empty_mask"]).toBe(1);
    expect(c.frames_in).toBe(8);
    expect(c.frames_out).toBe(1);
  });

  it("rejects out-of-order stamps", () => {
    const p = new Perception();
    const f = syntheticFrame();
    p.process({ ...f, stamp: 2_000_000_000n });
    expectCode(p, { ...f, stamp: 1_000_000_000n }, "out_of_order_stamp");
  });

  it("counts instances without a label instead of guessing their kind", () => {
    const p = new Perception();
    const f = syntheticFrame();
    const scene = p.process({ ...f, instances: { image: f.instances!.image, labels: new Map() } });
    expect(scene.objects).toHaveLength(0);
    expect(p.counters.get("dropped.unlabelled_instance")).toBe(1);
  });

  it("reads 16UC1 millimetre depth like 32FC1 metres", () => {
    const f = syntheticFrame();
    const m = new Float32Array(f.depth.data.buffer, f.depth.data.byteOffset, f.depth.width * f.depth.height);
    const mm = new Uint16Array(m.length);
    for (let i = 0; i < m.length; i++) mm[i] = Math.round(m[i] * 1000);
    const a = new Perception().process(f).objects[0];
    const b = new Perception().process({ ...f, depth: { ...f.depth, encoding: "16UC1", step: f.depth.width * 2, data: new Uint8Array(mm.buffer) } }).objects[0];
    expect(b.center.x).toBeCloseTo(a.center.x, 2);
    expect(b.size.z).toBeCloseTo(a.size.z, 2);
  });
});
