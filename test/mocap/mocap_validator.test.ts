import { describe, expect, it } from "vitest";
import { MOCAP_COUNTER_KEYS, MocapValidator, type MocapCounters, type MocapValidatorOptions, type ValidatedMocapFrame } from "../../src/mocap/mocap_validator.js";
import { Handedness, LengthUnit, UpAxis, type MocapFrame } from "../../src/msgs/mocap_proto.js";
import { body, frame } from "./mocap_fixtures.js";

const MS = 1_000_000n;

/** Pushes frames at 240 Hz of host time from 0; returns released frame numbers. */
function run(v: MocapValidator, frames: MocapFrame[], startNs = 0n): number[] {
  const out: number[] = [];
  frames.forEach((f, i) => {
    for (const r of v.push(f, startNs + BigInt(i) * 4n * MS)) out.push(Number(r.frame.frame_number));
  });
  return out;
}

function nums(list: readonly ValidatedMocapFrame[]): number[] {
  return list.map((r) => Number(r.frame.frame_number));
}

/** frames_received = released + pending + every frame-level rejection. */
function balanced(c: MocapCounters, pending: number): boolean {
  const rejected = c.frames_malformed + c.frames_wrong_stream + c.frames_too_large + c.frames_bad_axes + c.frames_non_finite
    + c.frames_duplicate + c.frames_late + c.frames_stale + c.frames_bad_device_time;
  return c.frames_received === c.frames_released + pending + rejected;
}

const v0 = (o: Partial<MocapValidatorOptions> = {}) => new MocapValidator(o);

describe("MocapValidator: sequence", () => {
  it("releases in-order frames at once and counts nothing else", () => {
    const v = v0();
    expect(run(v, [frame(1), frame(2), frame(3)])).toEqual([1, 2, 3]);
    const c = v.counters();
    expect(c.frames_released).toBe(3);
    expect(c.frames_lost + c.frames_duplicate + c.frames_late + c.frames_reordered).toBe(0);
    expect(Object.keys(c)).toEqual([...MOCAP_COUNTER_KEYS]);
  });

  it("drops and counts duplicates, whether already released or still held", () => {
    const v = v0();
    expect(run(v, [frame(1), frame(1), frame(3), frame(3), frame(2)])).toEqual([1, 2, 3]);
    expect(v.counters().frames_duplicate).toBe(2);
    expect(balanced(v.counters(), v.pending())).toBe(true);
  });

  it("reorders within the window and releases in number order", () => {
    const v = v0();
    expect(run(v, [frame(1), frame(3), frame(4), frame(2), frame(5)])).toEqual([1, 2, 3, 4, 5]);
    expect(v.counters()).toMatchObject({ frames_reordered: 1, frames_lost: 0, gaps: 0 });
  });

  it("gives up on a missing number after reorderWindowFrames later frames; it then arrives late", () => {
    const v = v0({ reorderWindowFrames: 4, reorderWindowMs: 1e6 });
    expect(run(v, [frame(1), frame(3), frame(4), frame(5), frame(6)])).toEqual([1]);
    expect(v.pending()).toBe(4);
    expect(nums(v.push(frame(7), 100n * MS))).toEqual([3, 4, 5, 6, 7]);
    expect(v.push(frame(2), 101n * MS)).toEqual([]);
    expect(v.counters()).toMatchObject({ frames_lost: 1, gaps: 1, frames_late: 1 });
    expect(balanced(v.counters(), v.pending())).toBe(true);
  });

  it("gives up after reorderWindowMs of host time (poll from a timer)", () => {
    const v = v0({ reorderWindowMs: 20 });
    v.push(frame(1), 0n);
    expect(v.push(frame(3), 1n * MS)).toEqual([]);
    expect(v.poll(20n * MS)).toEqual([]);
    expect(nums(v.poll(22n * MS))).toEqual([3]);
    expect(v.counters().frames_lost).toBe(1);
  });

  it("counts a gap with its size once the window passes", () => {
    const v = v0({ reorderWindowFrames: 0 });
    expect(run(v, [frame(1), frame(10), frame(11)])).toEqual([1, 10, 11]);
    expect(v.counters()).toMatchObject({ frames_lost: 8, gaps: 1 });
  });

  it("a frame number far behind followed by its continuation is a source restart: counted, state reset", () => {
    const v = v0({ restartThreshold: 1000 });
    const before = Array.from({ length: 5 }, (_, i) => frame(5000 + i));
    expect(run(v, before)).toEqual([5000, 5001, 5002, 5003, 5004]);
    // The new run's device clock restarted too: jump and device-time state must not carry over.
    const after = [frame(1, { device_timestamp_ns: 10n }), frame(2, { device_timestamp_ns: 4_166_676n })];
    expect(nums(v.push(after[0], 100n * MS))).toEqual([]);
    expect(nums(v.push(after[1], 104n * MS))).toEqual([1, 2]);
    expect(v.counters()).toMatchObject({ stream_resets: 1, frames_bad_device_time: 0, bodies_rejected_jump: 0, frames_lost: 0 });
  });

  it("a single stray old frame does not reset the stream: it is counted stale", () => {
    const v = v0();
    run(v, [frame(5000), frame(5001)]);
    expect(v.push(frame(3), 10n * MS)).toEqual([]);
    expect(nums(v.push(frame(5002), 11n * MS))).toEqual([5002]);
    expect(v.counters()).toMatchObject({ stream_resets: 0, frames_stale: 1, frames_lost: 0 });
    expect(balanced(v.counters(), v.pending())).toBe(true);
  });

  it("a single stray number far ahead (2^63) is stale, not 9e18 lost frames followed by a reset", () => {
    const v = v0();
    run(v, [frame(10), frame(11)]);
    expect(v.push(frame(2n ** 63n, { device_timestamp_ns: 2_000_000_000n }), 10n * MS)).toEqual([]);
    expect(nums(v.push(frame(12), 11n * MS))).toEqual([12]);
    expect(v.counters()).toMatchObject({ frames_stale: 1, frames_lost: 0, stream_resets: 0 });
  });

  it("far ahead and continued is an outage: the gap is counted lost, the stream goes on without a reset", () => {
    const v = v0({ reorderWindowFrames: 1 });
    run(v, [frame(10), frame(11)]);
    expect(v.push(frame(3012), 10n * MS)).toEqual([]);
    expect(nums(v.push(frame(3013), 11n * MS))).toEqual([3012, 3013]);
    expect(v.counters()).toMatchObject({ frames_lost: 3000, gaps: 1, frames_stale: 0, stream_resets: 0 });
    expect(balanced(v.counters(), v.pending())).toBe(true);
  });

  it("flush releases what is held; counters balance", () => {
    const v = v0({ reorderWindowMs: 1e6 });
    run(v, [frame(1), frame(3), frame(4)]);
    expect(v.pending()).toBe(2);
    expect(nums(v.flush())).toEqual([3, 4]);
    expect(v.pending()).toBe(0);
    expect(balanced(v.counters(), 0)).toBe(true);
  });

  it("rejects frames of another stream and adopts the first stream id when none is configured", () => {
    const v = v0();
    expect(run(v, [frame(1), frame(100, { stream_id: "other" }), frame(2)])).toEqual([1, 2]);
    expect(v.counters()).toMatchObject({ frames_wrong_stream: 1, frames_released: 2, frames_lost: 0 });
    const pinned = v0({ streamId: "other" });
    run(pinned, [frame(1)]);
    expect(pinned.counters().frames_wrong_stream).toBe(1);
  });
});

describe("MocapValidator: content", () => {
  it("converts to REP-103 metres in place and rewrites the axes", () => {
    const v = v0();
    const f = frame(1, { axes: { up_axis: UpAxis.Y_UP, handedness: Handedness.RIGHT_HANDED, unit: LengthUnit.MILLIMETERS } });
    f.rigid_bodies = [body(1, "hand", 100, 1000, -500, { x: 0, y: Math.SQRT1_2, z: 0, w: Math.SQRT1_2 })];
    f.rigid_bodies[0].mean_marker_error = 2;
    const [r] = v.push(f, 0n);
    expect(r.frame).toBe(f);
    const b = r.frame.rigid_bodies[0];
    expect(b.position.x).toBeCloseTo(0.5, 12);
    expect(b.position.y).toBeCloseTo(-0.1, 12);
    expect(b.position.z).toBeCloseTo(1, 12);
    expect(b.orientation.z).toBeCloseTo(Math.SQRT1_2, 12); // 90° about y-up → 90° about z
    expect(b.mean_marker_error).toBeCloseTo(0.002, 12);
    expect(r.frame.markers[0].position.z).toBeCloseTo(0.0002, 12);
    expect(r.frame.axes).toEqual({ up_axis: UpAxis.Z_UP, handedness: Handedness.RIGHT_HANDED, unit: LengthUnit.METERS });
    expect(r.receiveNs).toBe(0n);
  });

  it("does not write through an axes object shared by frames (or frozen, like REP103_AXES)", () => {
    const v = v0();
    const shared = Object.freeze({ up_axis: UpAxis.Y_UP, handedness: Handedness.RIGHT_HANDED, unit: LengthUnit.MILLIMETERS });
    const a = frame(1, { axes: shared }), b = frame(2, { axes: shared });
    a.rigid_bodies = [body(1, "hand", 0, 1000, 0)];
    b.rigid_bodies = [body(1, "hand", 0, 1000, 0)];
    expect(v.push(a, 0n)[0].frame.rigid_bodies[0].position.z).toBeCloseTo(1, 12);
    expect(v.push(b, 4n * MS)[0].frame.rigid_bodies[0].position.z).toBeCloseTo(1, 12);
    expect(shared.up_axis).toBe(UpAxis.Y_UP);
  });

  it("rejects a whole frame with NaN or infinity anywhere (an untracked body, a marker, a joint, the latency); its number is not lost", () => {
    const spoil: ((f: MocapFrame) => void)[] = [
      (f) => { f.rigid_bodies[0].position.x = Number.NaN; },
      (f) => { f.rigid_bodies[1].tracked = false; f.rigid_bodies[1].orientation.w = Number.POSITIVE_INFINITY; },
      (f) => { f.markers[0].residual = Number.NaN; },
      (f) => { f.skeletons[0].joints[1].position.z = Number.NEGATIVE_INFINITY; },
      (f) => { f.system_latency_ms = Number.NaN; },
      (f) => { f.rigid_bodies[0].mean_marker_error = Number.NaN; },
    ];
    for (const s of spoil) {
      const v = v0();
      const bad = frame(2);
      s(bad);
      expect(run(v, [frame(1), bad, frame(3)])).toEqual([1, 3]);
      expect(v.counters()).toMatchObject({ frames_non_finite: 1, frames_lost: 0, gaps: 0 });
      expect(balanced(v.counters(), v.pending())).toBe(true);
    }
  });

  it("an unspecified axis convention rejects the frame (bad_axes), with a reason", () => {
    const reasons: string[] = [];
    const v = v0({ onReject: (k, m) => reasons.push(`${k}: ${m}`) });
    run(v, [frame(1, { axes: { up_axis: UpAxis.UP_AXIS_UNSPECIFIED, handedness: Handedness.RIGHT_HANDED, unit: LengthUnit.METERS } })]);
    expect(v.counters().frames_bad_axes).toBe(1);
    expect(reasons.join("\n")).toMatch(/frames_bad_axes: frame 1: .*up_axis UP_AXIS_UNSPECIFIED/);
  });

  it("renormalises a quaternion within the tolerance (counted), rejects one beyond it, and one of zero on a tracked body", () => {
    const v = v0({ quaternionTolerance: 1e-3 });
    const f = frame(1);
    f.rigid_bodies = [
      body(1, "near", 0, 0, 0, { x: 0, y: 0, z: 0, w: 1.0005 }),
      body(2, "far", 0, 0, 0, { x: 0, y: 0, z: 0, w: 1.01 }),
      body(3, "zero", 0, 0, 0, { x: 0, y: 0, z: 0, w: 0 }),
      body(4, "lost", 0, 0, 0, { x: 0, y: 0, z: 0, w: 0 }, false),
      body(5, "float32", 0, 0, 0, { x: 0, y: 0, z: 0, w: 1 + 1e-8 }),
    ];
    const [r] = v.push(f, 0n);
    expect(r.frame.rigid_bodies.map((b) => b.name)).toEqual(["near", "lost", "float32"]);
    expect(r.frame.rigid_bodies[0].orientation.w).toBe(1);
    expect(r.frame.rigid_bodies[1].tracked).toBe(false);
    expect(v.counters()).toMatchObject({
      bodies_renormalised: 1, bodies_rejected_quaternion: 1, bodies_rejected_zero_quaternion: 1, bodies_untracked: 1,
    });
  });

  it("rejects an impossible jump (speed on the device clock, after unit conversion) and keeps comparing with the last accepted sample", () => {
    const v = v0({ maxSpeedMps: 20 });
    const at = (n: number, x: number, unit: LengthUnit = LengthUnit.METERS) => {
      const f = frame(n, { axes: { up_axis: UpAxis.Z_UP, handedness: Handedness.RIGHT_HANDED, unit } });
      f.rigid_bodies = [body(1, "hand", x)];
      return f;
    };
    // 1/240 s apart: 20 m/s allows 83 mm.
    const out = [at(1, 0), at(2, 0.05), at(3, 1.0), at(4, 0.1), at(5, 0.2)].map((f, i) => v.push(f, BigInt(i) * 4n * MS)[0].frame.rigid_bodies.length);
    expect(out).toEqual([1, 1, 0, 1, 0]);
    expect(v.counters().bodies_rejected_jump).toBe(2);
    // 10 mm per frame in millimetres is 2.4 m/s, not 2400.
    const mm = v0();
    for (let n = 1; n <= 5; n++) mm.push(at(n, n * 10, LengthUnit.MILLIMETERS), BigInt(n) * 4n * MS);
    expect(mm.counters().bodies_rejected_jump).toBe(0);
    // A second of device time between frames allows 20 m.
    const slow = v0();
    slow.push(at(1, 0), 0n);
    const far = at(2, 15);
    far.device_timestamp_ns = at(1, 0).device_timestamp_ns + 1_000_000_000n;
    expect(slow.push(far, 4n * MS)[0].frame.rigid_bodies).toHaveLength(1);
  });

  it("rejects frames whose device time does not advance, and re-anchors after maxBadDeviceTime of them", () => {
    const v = v0({ maxBadDeviceTime: 2 });
    // The device clock jumped back below frame 1's stamp and runs on from there.
    const back = (n: number) => frame(n, { device_timestamp_ns: BigInt(n) * 4_000_000n });
    expect(run(v, [frame(1), back(2), back(3), back(4), back(5), frame(6, { device_timestamp_ns: 0n })])).toEqual([1, 4, 5]);
    expect(v.counters()).toMatchObject({ frames_bad_device_time: 3, device_time_resets: 1 });
    expect(balanced(v.counters(), v.pending())).toBe(true);
  });

  it("drops a second body with the same id and renames empty, spaced, slashed or repeated names to rigid_body_<id>", () => {
    const v = v0();
    const f = frame(1);
    f.rigid_bodies = [body(1, "hand"), body(1, "hand2"), body(2, ""), body(3, "left hand"), body(4, "/abs"), body(5, "hand"), body(6, "ok_name")];
    const [r] = v.push(f, 0n);
    expect(r.frame.rigid_bodies.map((b) => b.name)).toEqual(["hand", "rigid_body_2", "rigid_body_3", "rigid_body_4", "rigid_body_5", "ok_name"]);
    expect(v.counters()).toMatchObject({ bodies_rejected_duplicate_id: 1, bodies_renamed: 4 });
  });

  it("rejects bodies and markers beyond maxPositionM (1e308 is finite but not a place), marks such joints untracked", () => {
    const v = v0({ maxPositionM: 1000 });
    const f = frame(1);
    f.rigid_bodies[1].position.x = 1e308;
    f.markers.push({ id: 8, position: { x: 0, y: 0, z: -2000 }, residual: 0, occluded: true });
    f.skeletons[0].joints[1].position.y = 5e5;
    const [r] = v.push(f, 0n);
    expect(r.frame.rigid_bodies.map((b) => b.name)).toEqual(["hand"]);
    expect(r.frame.markers.map((m) => m.id)).toEqual([7]);
    expect(r.frame.skeletons[0].joints.map((j) => j.tracked)).toEqual([true, false]);
    expect(v.counters()).toMatchObject({ bodies_rejected_out_of_range: 1, markers_rejected_out_of_range: 1, joints_rejected: 1 });
  });

  it("rejects a skeleton whose parent indices are outside it or self-referencing; renormalises joint quaternions", () => {
    const v = v0();
    const f = frame(1);
    const good = f.skeletons[0];
    good.joints[1].orientation.w = 1.0004;
    const bad = { id: 2, name: "bad", joints: good.joints.map((j) => ({ ...j, position: { ...j.position }, orientation: { ...j.orientation } })) };
    bad.joints[1].parent = 5;
    const self = { id: 3, name: "self", joints: [{ ...good.joints[0], parent: 0, position: { x: 0, y: 0, z: 0 }, orientation: { x: 0, y: 0, z: 0, w: 1 } }] };
    f.skeletons = [good, bad, self];
    const [r] = v.push(f, 0n);
    expect(r.frame.skeletons.map((s) => s.id)).toEqual([1]);
    expect(r.frame.skeletons[0].joints[1].orientation.w).toBe(1);
    expect(v.counters()).toMatchObject({ skeletons_rejected: 2, joints_renormalised: 1 });
  });

  it("rejects a skeleton whose parents form a cycle (no joint is self-referencing, every index in range), keeps a deep valid chain", () => {
    const v = v0();
    const f = frame(1);
    const j = (name: string, parent: number) => ({ name, parent, position: { x: 0, y: 0, z: 0 }, orientation: { x: 0, y: 0, z: 0, w: 1 }, tracked: true });
    // Root 0; 1 → 2 → 3 → 1 never reaches it.
    const loop = { id: 2, name: "loop", joints: [j("root", -1), j("a", 2), j("b", 3), j("c", 1)] };
    // No root at all: 0 ↔ 1.
    const pair = { id: 3, name: "pair", joints: [j("x", 1), j("y", 0)] };
    // A 5000-joint chain listed leaf first (parents after children): valid.
    const chain = { id: 4, name: "chain", joints: Array.from({ length: 5000 }, (_, i) => j(`j${i}`, i === 4999 ? -1 : i + 1)) };
    f.skeletons = [f.skeletons[0], loop, pair, chain];
    const [r] = v.push(f, 0n);
    expect(r.frame.skeletons.map((s) => s.id)).toEqual([1, 4]);
    expect(v.counters().skeletons_rejected).toBe(2);
  });

  it("a frame with 100k bodies is rejected whole before any per-body work (frames_too_large)", () => {
    const v = v0();
    const f = frame(1, { rigid_bodies: Array.from({ length: 100_000 }, (_, i) => body(i, `b${i}`)) });
    expect(v.push(f, 0n)).toEqual([]);
    expect(v.counters().frames_too_large).toBe(1);
    expect(f.rigid_bodies[0].name).toBe("b0");
  });

  it("never throws on objects that are not frames; counts them malformed", () => {
    const v = v0();
    const junk: unknown[] = [
      null, undefined, 5, "x", {}, [], { frame_number: 1 }, { ...frame(1), frame_number: 1 },
      { ...frame(1), rigid_bodies: null }, { ...frame(1), rigid_bodies: [null] }, { ...frame(1), rigid_bodies: [{ ...body(1, "a"), position: null }] },
      { ...frame(1), rigid_bodies: [{ ...body(1, "a"), position: { x: "1", y: 0, z: 0 } }] }, { ...frame(1), markers: [{}] },
      { ...frame(1), skeletons: [{ id: 1, name: "s", joints: [null] }] }, { ...frame(1), frame_number: -1n }, { ...frame(1), frame_number: 2n ** 64n },
      { ...frame(1), device_timestamp_ns: 3 }, { ...frame(1), axes: null, system_latency_ms: "1" },
    ];
    for (const j of junk) expect(() => v.push(j as MocapFrame, 0n)).not.toThrow();
    expect(v.counters().frames_malformed).toBe(junk.length);
    const afterwards = v.push(frame(1, { axes: null as unknown as MocapFrame["axes"] }), 0n);
    expect(afterwards).toEqual([]);
    expect(v.counters().frames_bad_axes).toBe(1);
  });

  it("is deterministic: the same input gives the same output and counters", () => {
    const make = () => [frame(1), frame(3), frame(2), frame(2), frame(9), frame(4), frame(10), frame(11), frame(12), frame(13)];
    const a = v0(), b = v0();
    expect(run(a, make())).toEqual(run(b, make()));
    expect(a.counters()).toEqual(b.counters());
  });

  it("rejects nonsensical options", () => {
    expect(() => v0({ quaternionTolerance: -1 })).toThrow(/quaternionTolerance/);
    expect(() => v0({ reorderWindowFrames: 1.5 })).toThrow(/reorderWindowFrames/);
    expect(() => v0({ maxSpeedMps: Number.NaN })).toThrow(/maxSpeedMps/);
  });
});
