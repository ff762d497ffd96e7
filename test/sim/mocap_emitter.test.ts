import { describe, expect, it } from "vitest";
import { teleopScenario, type TeleopScenario } from "../../sim/index.js";
import {
  DEFAULT_MOCAP_EMITTER_OPTIONS, HAND_BODY_NAME, MocapEmitter, NATNET_AXES, Z_UP_METRES_AXES, type EmittedMocapFrame, type MocapEmitterOptions, type MocapFrameTruth,
} from "../../sim/mocap_emitter.js";
import { FOREARM_M, OPERATOR_JOINTS, UPPER_ARM_M } from "../../sim/operator_skeleton.js";
import { EPISODE_FPS, TeleopMotion, type RigidPose } from "../../sim/teleop_motion.js";
import { InvalidInputError } from "../../src/errors.js";
import { primitiveHeight } from "../../sim/shapes.js";
import { ClockSync } from "../../src/mocap/clock_sync.js";
import { decodeMocapFrame, encodeMocapFrame } from "../../src/mocap/mocap_codec.js";
import { MocapValidator, type ValidatedMocapFrame } from "../../src/mocap/mocap_validator.js";
import { Handedness, LengthUnit, UpAxis, type AxisConvention } from "../../src/msgs/mocap_proto.js";
import type { MocapFrameSource } from "../../nodes/mqtt/mocap_publisher.js";

/**
 * The simulator's mocap stream against its own truth: determinism, skeleton, timing, the
 * clock, jitter, dropout and occlusion statistics as configured, and the whole ingest path
 * in-process (encode → decode → MocapValidator → REP-103 metres) landing on the truth poses.
 */
const scenario: TeleopScenario = teleopScenario(3, 300);

function run(options: Partial<MocapEmitterOptions>, frames: number, s: TeleopScenario = scenario): EmittedMocapFrame[] {
  const e = new MocapEmitter(s, options);
  const out: EmittedMocapFrame[] = [];
  for (let i = 0; i < frames; i++) out.push(e.emit());
  return out;
}

interface V3 { x: number; y: number; z: number }
const dist = (a: V3, b: V3) => Math.hypot(a.x - b.x, a.y - b.y, a.z - b.z);
/** Distance between two rotations given as quaternions (1 − |⟨a, b⟩|: 0 for the same rotation, either sign). */
const qdist = (a: { x: number; y: number; z: number; w: number }, b: typeof a) => 1 - Math.abs(a.x * b.x + a.y * b.y + a.z * b.z + a.w * b.w);
const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;
const serialise = (v: unknown) => JSON.stringify(v, (_, x: unknown) => (typeof x === "bigint" ? `${x}n` : x));

describe("MocapEmitter: determinism and shape", () => {
  it("gives the same frames and truth for the same seed, and different noise for another", () => {
    const o = { dropoutProbability: 0.01, occlusionProbability: 0.01 };
    const a = run({ ...o, seed: 11 }, 600);
    const b = run({ ...o, seed: 11 }, 600);
    const c = run({ ...o, seed: 12 }, 600);
    expect(serialise(b)).toBe(serialise(a));
    expect(a.filter((f, i) => Buffer.compare(encodeMocapFrame(f.frame), encodeMocapFrame(b[i].frame)) !== 0)).toHaveLength(0);
    const differ = a.filter((f, i) => f.truth.sendHostNs !== c[i].truth.sendHostNs || f.truth.markers[0].position.x !== c[i].truth.markers[0].position.x);
    expect(differ.length).toBeGreaterThan(500);
  });

  it("streams the hand and every object as rigid bodies with 3–4 labelled markers each, and a 25-joint skeleton", () => {
    const e = new MocapEmitter(scenario);
    const { frame, truth } = e.emit();
    const names = [HAND_BODY_NAME, ...scenario.world.objects.map((o) => o.id)];
    expect(frame.rigid_bodies.map((b) => b.name)).toEqual(names);
    expect(e.bodyNames).toEqual(names);
    expect(new Set(frame.rigid_bodies.map((b) => b.id)).size).toBe(names.length);
    for (const b of frame.rigid_bodies) {
      const mine = frame.markers.filter((m) => m.id >>> 16 === b.id);
      expect(mine.length).toBeGreaterThanOrEqual(3);
      expect(mine.length).toBeLessThanOrEqual(4);
    }
    expect(new Set(frame.markers.map((m) => m.id)).size).toBe(frame.markers.length);
    expect(frame.skeletons).toHaveLength(1);
    const joints = frame.skeletons[0].joints;
    expect(joints.length).toBeGreaterThanOrEqual(20);
    expect(joints.map((j) => j.name)).toEqual(OPERATOR_JOINTS.map((j) => j.name));
    expect(new Set(joints.map((j) => j.name)).size).toBe(joints.length);
    joints.forEach((j, i) => {
      // Parents come first; exactly one root.
      expect(j.parent).toBeLessThan(i);
      expect(j.parent).toBeGreaterThanOrEqual(i === 0 ? -1 : 0);
    });
    expect(frame.axes).toEqual(NATNET_AXES);
    expect(truth.joints).toHaveLength(joints.length);
  });

  it("builds every frame from fresh objects (a validator converts frames in place)", () => {
    const [a, b] = run({}, 2);
    expect(a.frame.axes).not.toBe(b.frame.axes);
    expect(a.frame.rigid_bodies[1].position).not.toBe(b.frame.rigid_bodies[1].position);
    expect(a.frame.skeletons[0].joints[0].position).not.toBe(b.frame.skeletons[0].joints[0].position);
  });
});

describe("MocapEmitter: the operator skeleton", () => {
  const frames = run({ dropoutProbability: 0 }, new MocapEmitter(scenario).episodeFrames);
  const idx = (name: string) => OPERATOR_JOINTS.findIndex((j) => j.name === name);

  it("puts the right hand on the teleop hand and keeps every bone's length", () => {
    const rest = frames[0].truth.joints;
    const bone = (joints: MocapFrameTruth["joints"], j: number) => dist(joints[j].position, joints[OPERATOR_JOINTS[j].parent].position);
    let handError = 0, armError = 0, boneError = 0, normError = 0;
    for (const { truth } of frames) {
      handError = Math.max(handError, dist(truth.joints[idx("right_hand")].position, truth.bodies[0].pose.position));
      armError = Math.max(armError, Math.abs(bone(truth.joints, idx("right_elbow")) - UPPER_ARM_M), Math.abs(bone(truth.joints, idx("right_wrist")) - FOREARM_M));
      // Every other bone keeps its rest length (the torso leans and the arm reaches; nothing stretches).
      for (let j = 1; j < OPERATOR_JOINTS.length; j++) {
        if (j === idx("right_elbow") || j === idx("right_wrist")) continue;
        boneError = Math.max(boneError, Math.abs(bone(truth.joints, j) - bone(rest, j)));
      }
      for (const q of truth.joints.map((jt) => jt.orientation)) normError = Math.max(normError, Math.abs(Math.hypot(q.x, q.y, q.z, q.w) - 1));
    }
    expect({ handError, armError, boneError, normError }).toEqual({ handError: 0, armError: expect.closeTo(0, 12), boneError: expect.closeTo(0, 12), normError: expect.closeTo(0, 12) });
  });

  it("stands: head over chest over pelvis over knees over feet on the floor, the elbow below the shoulder", () => {
    const wrong: string[] = [];
    let lowestHead = Infinity;
    for (const { truth } of frames) {
      const z = (n: string) => truth.joints[idx(n)].position.z;
      const order = ["head", "chest", "pelvis", "left_knee", "left_ankle"];
      for (let k = 1; k < order.length; k++) if (!(z(order[k - 1]) > z(order[k]))) wrong.push(`${truth.index}: ${order[k - 1]} not above ${order[k]}`);
      for (const f of ["left_foot", "right_foot", "left_toe", "right_toe"]) if (!(z(f) >= 0 && z(f) < 0.05)) wrong.push(`${truth.index}: ${f} at ${z(f)}`);
      if (!(z("right_elbow") < z("right_shoulder"))) wrong.push(`${truth.index}: elbow above shoulder`);
      lowestHead = Math.min(lowestHead, z("head"));
    }
    expect(wrong).toEqual([]);
    expect(lowestHead).toBeGreaterThan(1.2);
  });

  it("moves continuously at 240 Hz (no joint jumps more than 2 cm between frames)", () => {
    let largest = 0;
    for (let i = 1; i < frames.length; i++) {
      for (let j = 0; j < OPERATOR_JOINTS.length; j++) largest = Math.max(largest, dist(frames[i].truth.joints[j].position, frames[i - 1].truth.joints[j].position));
    }
    expect(largest).toBeLessThan(0.02);
    expect(largest).toBeGreaterThan(0);
  });
});

describe("TeleopMotion: the episode in continuous time", () => {
  const motion = new TeleopMotion(scenario.world, scenario.episode);
  const ep = scenario.episode;

  it("passes through every 30 Hz frame of the episode exactly", () => {
    let position = 0, yaw = 0;
    for (let k = 0; k < ep.poses.length; k++) {
      for (let i = 0; i < scenario.world.objects.length; i++) {
        const p = motion.objectPose(i, k / EPISODE_FPS);
        const want = ep.poses[k][i];
        position = Math.max(position, dist(p.position, want));
        const d = 2 * Math.atan2(p.orientation.z, p.orientation.w) - want.yaw;
        yaw = Math.max(yaw, Math.abs(Math.atan2(Math.sin(d), Math.cos(d))));
      }
    }
    expect(position).toBeLessThan(1e-12);
    expect(yaw).toBeLessThan(1e-9);
  });

  it("never overshoots between frames (the picked object stays within its neighbours' heights)", () => {
    const a = ep.aIndex;
    let outside = 0, moving = 0;
    for (let k = 0; k + 1 < ep.poses.length; k++) {
      const lo = Math.min(ep.poses[k][a].z, ep.poses[k + 1][a].z), hi = Math.max(ep.poses[k][a].z, ep.poses[k + 1][a].z);
      if (hi > lo) moving++;
      for (let s = 1; s < 8; s++) {
        const z = motion.objectPose(a, (k + s / 8) / EPISODE_FPS).position.z;
        outside = Math.max(outside, lo - z, z - hi);
      }
    }
    expect(moving).toBeGreaterThan(20);
    expect(outside).toBeLessThanOrEqual(1e-12);
  });

  it("holds the picked object's top from the grasp to the release, fingers down", () => {
    const h = primitiveHeight(scenario.world.objects[ep.aIndex].primitive);
    expect(motion.graspTimeS).toBeGreaterThan(0);
    expect(motion.releaseTimeS).toBeGreaterThan(motion.graspTimeS);
    let off = 0, fingers = 0;
    for (let t = motion.graspTimeS; t <= motion.releaseTimeS; t += 0.01) {
      const hand = motion.handPose(t);
      const obj = motion.objectPose(ep.aIndex, t).position;
      off = Math.max(off, dist(hand.position, { ...obj, z: obj.z + h }));
      // x axis (the fingers) straight down: the z component of R·(1,0,0) is 2(xz − wy) = −1.
      const q = hand.orientation;
      fingers = Math.max(fingers, Math.abs(2 * (q.x * q.z - q.w * q.y) + 1));
    }
    expect(off).toBeLessThan(1e-12);
    expect(fingers).toBeLessThan(1e-9);
    // Away from the object before and after.
    const before = motion.handPose(0).position, after = motion.handPose(motion.durationS).position;
    const a0 = motion.objectPose(ep.aIndex, 0).position, a1 = motion.objectPose(ep.aIndex, motion.durationS).position;
    expect(dist(before, { ...a0, z: a0.z + h })).toBeGreaterThan(0.2);
    expect(dist(after, { ...a1, z: a1.z + h })).toBeGreaterThan(0.2);
  });
});

describe("MocapEmitter: timing, clock, jitter, dropouts, occlusion", () => {
  it("exposes frames at 240 Hz of device time; host time = device + offset + drift, exactly", () => {
    const o = { driftPpm: 50, clockOffsetNs: 3_200_000_000n, dropoutProbability: 0.01 };
    const frames = run(o, 4800);
    const period = 1e9 / 240;
    let deviceError = 0, hostError = 0, stepError = 0, badNumbers = 0, outOfOrder = 0, gaps = 0;
    let prev: MocapFrameTruth | null = null;
    for (const { frame, truth } of frames) {
      if (frame.device_timestamp_ns !== truth.deviceNs || frame.frame_number !== truth.frameNumber) badNumbers++;
      const elapsed = Number(truth.deviceNs - DEFAULT_MOCAP_EMITTER_OPTIONS.deviceStartNs);
      deviceError = Math.max(deviceError, Math.abs(elapsed - truth.index * period));
      hostError = Math.max(hostError, Math.abs(Number(truth.exposureHostNs - truth.deviceNs - o.clockOffsetNs) - 50e-6 * elapsed));
      if (prev) {
        const step = Number(truth.frameNumber - prev.frameNumber);
        // Numbers continue across dropouts: the gap is the dropped count.
        if (step !== truth.droppedBefore + 1) badNumbers++;
        if (step > 1) gaps++;
        stepError = Math.max(stepError, Math.abs(Number(truth.deviceNs - prev.deviceNs) - step * period));
        if (truth.sendHostNs < prev.sendHostNs) outOfOrder++;
      }
      prev = truth;
    }
    expect({ badNumbers, outOfOrder }).toEqual({ badNumbers: 0, outOfOrder: 0 });
    expect(deviceError).toBeLessThanOrEqual(0.5);
    expect(hostError).toBeLessThanOrEqual(0.5);
    expect(stepError).toBeLessThanOrEqual(1);
    expect(gaps).toBeGreaterThan(10);
    expect(frames.every((f) => f.frame.system_latency_ms === DEFAULT_MOCAP_EMITTER_OPTIONS.latencyMs)).toBe(true);
  });

  it("delays sends as configured: exponential host-side jitter, rare spikes, never out of order", () => {
    const plain = run({ jitterMeanMs: 1, jitterSpikeProbability: 0, dropoutProbability: 0 }, 6000).map((f) => f.truth.delayNs / 1e6);
    expect(Math.min(...plain)).toBeGreaterThanOrEqual(0);
    // Mean 1 ms (standard error 1.3%); the FIFO adds a little when a long delay holds back the next frame (P ≈ e^-4.2/2).
    expect(mean(plain)).toBeGreaterThan(0.96);
    expect(mean(plain)).toBeLessThan(1.06);
    const sorted = [...plain].sort((a, b) => a - b);
    expect(sorted[Math.floor(sorted.length / 2)]).toBeCloseTo(Math.LN2, 1);
    const spiky = run({ jitterMeanMs: 0.2, jitterSpikeProbability: 0.01, jitterSpikeMs: 30, dropoutProbability: 0 }, 8000).map((f) => f.truth.delayNs / 1e6);
    // A spike of U(0, 30) ms exceeds 5 ms with probability 5/6: ≈ 0.83% of frames (≈ 67 ± 8 here) start one and hold back a few behind it.
    const starts = spiky.filter((d, i) => d > 5 && (i === 0 || spiky[i - 1] <= 5)).length / spiky.length;
    expect(starts).toBeGreaterThan(0.0055);
    expect(starts).toBeLessThan(0.0115);
    expect(plain.filter((d) => d > 5).length / plain.length).toBeLessThan(0.01);
  });

  it("drops frames in bursts as configured, and never sends a dropped number", () => {
    const p = 0.02, m = 4;
    const e = new MocapEmitter(scenario, { dropoutProbability: p, dropoutMeanFrames: m });
    const frames: EmittedMocapFrame[] = [];
    for (let i = 0; i < 8000; i++) frames.push(e.emit());
    const s = e.stats();
    const bursts = frames.map((f) => f.truth.droppedBefore).filter((d) => d > 0);
    expect(s.sent).toBe(8000);
    expect(bursts.reduce((a, b) => a + b, 0)).toBe(s.dropped);
    expect(bursts.length).toBe(s.dropouts);
    expect(Math.max(...bursts)).toBe(s.longestDropout);
    const total = Number(frames[frames.length - 1].truth.frameNumber - frames[0].truth.frameNumber) + 1;
    expect(total).toBe(s.sent + s.dropped - frames[0].truth.droppedBefore);
    // Renewal: a dropout starts at each sent frame with probability p → dropped fraction pm / (1 + pm).
    expect(s.dropped / (s.sent + s.dropped)).toBeGreaterThan(0.75 * ((p * m) / (1 + p * m)));
    expect(s.dropped / (s.sent + s.dropped)).toBeLessThan(1.25 * ((p * m) / (1 + p * m)));
    // ≈ 160 bursts of geometric length, mean 4 (sd 3.5 → standard error ≈ 0.28).
    expect(bursts.length).toBeGreaterThan(120);
    expect(bursts.length).toBeLessThan(200);
    expect(mean(bursts)).toBeGreaterThan(m - 1);
    expect(mean(bursts)).toBeLessThan(m + 1);
    const numbers = new Set(frames.map((f) => f.truth.frameNumber));
    expect(numbers.size).toBe(frames.length);
  });

  it("occludes markers in runs as configured; a body with fewer than 3 visible markers is untracked and keeps its last pose", () => {
    const p = 0.01, m = 10;
    const frames = run({ occlusionProbability: p, occlusionMeanFrames: m, dropoutProbability: 0 }, 4000);
    let occluded = 0, total = 0, untracked = 0, stale = 0, noise = 0;
    const wrong: string[] = [];
    const last = new Map<number, RigidPose>();
    for (const { frame, truth } of frames) {
      for (const mk of truth.markers) {
        total++;
        if (mk.occluded) {
          occluded++;
          if (mk.residualM !== 0 || dist(mk.position, mk.model) !== 0) wrong.push(`${truth.index}: occluded marker ${mk.id} not at its model position`);
        } else noise = Math.max(noise, dist(mk.position, mk.model));
      }
      for (const b of truth.bodies) {
        const visible = truth.markers.filter((mk) => mk.bodyId === b.id && !mk.occluded).length;
        if (b.tracked !== visible >= 3) wrong.push(`${truth.index}: body ${b.id} tracked ${b.tracked} with ${visible} markers`);
        if (frame.rigid_bodies.find((r) => r.id === b.id)!.tracked !== b.tracked) wrong.push(`${truth.index}: body ${b.id} tracked flag not sent`);
        if (b.tracked) {
          if (b.sent !== b.pose) wrong.push(`${truth.index}: tracked body ${b.id} not sent at its pose`);
          last.set(b.id, b.pose);
        } else {
          untracked++;
          if (last.has(b.id)) {
            stale++;
            if (b.sent !== last.get(b.id)) wrong.push(`${truth.index}: untracked body ${b.id} not sent at its last tracked pose`);
          }
        }
      }
    }
    expect(wrong).toEqual([]);
    // 0.2 mm per axis: |noise| beyond 3 mm is a 9-sigma event.
    expect(noise).toBeLessThan(0.003);
    expect(noise).toBeGreaterThan(0);
    const stationary = (p * m) / (1 + p * m);
    expect(occluded / total).toBeGreaterThan(0.8 * stationary);
    expect(occluded / total).toBeLessThan(1.2 * stationary);
    expect(untracked).toBeGreaterThan(0);
    expect(stale).toBeGreaterThan(0);
  });

  it("lets ClockSync recover the configured offset and drift from (device time, send time)", () => {
    for (const [offset, drift] of [[3_200_000_000n, 35], [-1_700_000_000n, -80]] as const) {
      const o: Partial<MocapEmitterOptions> = { clockOffsetNs: offset, driftPpm: drift, jitterMeanMs: 1, jitterSpikeProbability: 0.005, jitterSpikeMs: 40 };
      const e = new MocapEmitter(scenario, o);
      const sync = new ClockSync();
      let last: MocapFrameTruth | null = null;
      for (let i = 0; i < 240 * 30; i++) {
        const { frame, truth } = e.emit();
        sync.update(frame.device_timestamp_ns, truth.sendHostNs);
        last = truth;
      }
      const est = sync.estimate();
      // The estimate includes the smallest delay: the reported latency plus the jitter floor.
      const truthOffset = Number(last!.exposureHostNs - last!.deviceNs) + DEFAULT_MOCAP_EMITTER_OPTIONS.latencyMs * 1e6;
      expect(Math.abs(Number(est.offset_ns) - truthOffset)).toBeLessThan(200_000);
      expect(Math.abs(est.drift_ppm - drift)).toBeLessThan(2);
      expect(est.resets).toBe(0);
      // Mapped back, a device stamp lands at its exposure + latency, within the jitter floor.
      const mapped = sync.toHost(last!.deviceNs) - last!.exposureHostNs - BigInt(DEFAULT_MOCAP_EMITTER_OPTIONS.latencyMs * 1e6);
      expect(Math.abs(Number(mapped))).toBeLessThan(200_000);
    }
  });

  it("refuses bad options with InvalidInputError", () => {
    const bad: Partial<MocapEmitterOptions>[] = [
      { rateHz: 0 }, { rateHz: NaN }, { seed: -1 }, { seed: 1.5 }, { driftPpm: Infinity }, { dropoutProbability: 1 },
      { dropoutMeanFrames: 0.5 }, { streamId: "" }, { firstFrameNumber: -1n }, { clockOffsetNs: -6_000_000_000n },
      { axes: { up_axis: UpAxis.UP_AXIS_UNSPECIFIED, handedness: Handedness.RIGHT_HANDED, unit: LengthUnit.METERS } },
      { axes: { up_axis: UpAxis.Z_UP, handedness: Handedness.RIGHT_HANDED, unit: LengthUnit.LENGTH_UNIT_UNSPECIFIED } },
      { markerNoiseM: -1 }, { occlusionMeanFrames: 0 },
    ];
    for (const o of bad) expect(() => new MocapEmitter(scenario, o), JSON.stringify(o, (_, v) => (typeof v === "bigint" ? String(v) : v))).toThrow(InvalidInputError);
  });
});

describe("MocapEmitter as a MocapFrameSource (the MQTT publisher's shape)", () => {
  it("returns one frame per tick at the given device time, null for ticks inside a dropout", () => {
    const e = new MocapEmitter(scenario, { dropoutProbability: 0.02, dropoutMeanFrames: 3, clockOffsetNs: -1_000_000_000n, driftPpm: 0, deviceStartNs: 1_000_000_000n });
    // sim/ may not import nodes/: the emitter has the publisher's shape structurally, checked here by the compiler.
    const source: MocapFrameSource = e;
    let nulls = 0, expected = 1n, wrong = 0, timeError = 0;
    for (let k = 0; k < 3000; k++) {
      const device = 1_000_000_000n + BigInt(k) * 4_000_000n;
      const f = source.next(device);
      if (f === null) {
        nulls++;
        expected++;
        continue;
      }
      if (f.frame_number !== expected || f.device_timestamp_ns !== device) wrong++;
      timeError = Math.max(timeError, Math.abs(e.lastTruth()!.simTimeS - k * 0.004));
      expected++;
    }
    expect(wrong).toBe(0);
    expect(timeError).toBeLessThan(1e-9);
    expect(nulls).toBe(e.stats().dropped);
    expect(nulls).toBeGreaterThan(50);
    expect(() => e.next(-1n)).toThrow(InvalidInputError);
  });
});

interface Deviation {
  frames: number;
  /** Largest position error of any body, marker or joint (m). */
  position: number;
  /** Largest 1 − |⟨q, q_truth⟩| of any body or joint. */
  rotation: number;
  /** Largest relative error of a float32 length (mean marker error, residual). */
  float32: number;
  /** Names, ids, flags, parents, axes or counts that differ. */
  mismatches: string[];
}

/** Every released frame compared with the truth of its number, in REP-103 metres. */
function compare(released: readonly ValidatedMocapFrame[], truths: Map<bigint, MocapFrameTruth>, d: Deviation): void {
  const rep = { up_axis: UpAxis.Z_UP, handedness: Handedness.RIGHT_HANDED, unit: LengthUnit.METERS };
  const relative = (got: number, want: number) => (want === 0 ? Math.abs(got) : Math.abs(got - want) / want);
  for (const { frame } of released) {
    const t = truths.get(frame.frame_number)!;
    const miss = (what: string) => d.mismatches.push(`frame ${frame.frame_number}: ${what}`);
    if (serialise(frame.axes) !== serialise(rep)) miss("axes");
    if (frame.rigid_bodies.length !== t.bodies.length || frame.markers.length !== t.markers.length || frame.skeletons[0].joints.length !== t.joints.length) {
      miss("counts");
      continue;
    }
    frame.rigid_bodies.forEach((b, i) => {
      const want = t.bodies[i];
      if (b.name !== want.name || b.id !== want.id || b.tracked !== want.tracked) miss(`body ${i}`);
      d.position = Math.max(d.position, dist(b.position, want.sent.position));
      if (want.tracked) d.position = Math.max(d.position, dist(b.position, want.pose.position));
      d.rotation = Math.max(d.rotation, qdist(b.orientation, want.sent.orientation));
      d.float32 = Math.max(d.float32, relative(b.mean_marker_error, want.meanMarkerErrorM));
    });
    frame.markers.forEach((m, i) => {
      const want = t.markers[i];
      if (m.id !== want.id || m.occluded !== want.occluded) miss(`marker ${i}`);
      d.position = Math.max(d.position, dist(m.position, want.position));
      d.float32 = Math.max(d.float32, relative(m.residual, want.residualM));
    });
    frame.skeletons[0].joints.forEach((j, i) => {
      const want = t.joints[i];
      if (j.name !== want.name || j.parent !== want.parent || !j.tracked) miss(`joint ${i}`);
      d.position = Math.max(d.position, dist(j.position, want.position));
      d.rotation = Math.max(d.rotation, qdist(j.orientation, want.orientation));
    });
    d.frames++;
  }
}

describe("emitter → protobuf → MocapValidator lands on the truth", () => {
  const conventions: [string, AxisConvention][] = [
    ["NatNet y-up mm", NATNET_AXES],
    ["z-up m", Z_UP_METRES_AXES],
    ["y-up left-handed cm", { up_axis: UpAxis.Y_UP, handedness: Handedness.LEFT_HANDED, unit: LengthUnit.CENTIMETERS }],
    ["z-up left-handed mm", { up_axis: UpAxis.Z_UP, handedness: Handedness.LEFT_HANDED, unit: LengthUnit.MILLIMETERS }],
  ];
  for (const [label, axes] of conventions) {
    it(`${label}: every body, marker and joint within 1e-9 m; every dropped number counted lost`, () => {
      const e = new MocapEmitter(scenario, { axes, seed: 5, dropoutProbability: 0.01, occlusionProbability: 0.01, jitterSpikeProbability: 0.01 });
      const v = new MocapValidator({ streamId: "sim" });
      const truths = new Map<bigint, MocapFrameTruth>();
      const d: Deviation = { frames: 0, position: 0, rotation: 0, float32: 0, mismatches: [] };
      let before = 0;
      const n = 1500;
      for (let i = 0; i < n; i++) {
        const { frame, truth } = e.emit();
        if (i === 0) {
          expect(frame.axes).toEqual(axes);
          // Numbers dropped before the first frame are invisible to any receiver.
          before = truth.droppedBefore;
        }
        truths.set(truth.frameNumber, truth);
        const decoded = decodeMocapFrame(encodeMocapFrame(frame));
        compare(v.push(decoded, truth.sendHostNs), truths, d);
      }
      compare(v.flush(), truths, d);
      const c = v.counters();
      expect(d.mismatches).toEqual([]);
      expect(d.frames).toBe(n);
      expect(d.position).toBeLessThan(1e-9);
      expect(d.rotation).toBeLessThan(1e-12);
      expect(d.float32).toBeLessThan(1e-6);
      expect(c.frames_released).toBe(n);
      expect(c.frames_lost).toBe(e.stats().dropped - before);
      expect(c.gaps).toBe(e.stats().dropouts - (before > 0 ? 1 : 0));
      expect(c.frames_lost).toBeGreaterThan(0);
      expect(c.bodies_rejected_jump + c.bodies_rejected_quaternion + c.joints_rejected + c.frames_bad_device_time).toBe(0);
      expect(c.bodies_untracked).toBeGreaterThan(0);
    });
  }
});
