import { InvalidInputError } from "../src/errors.js";
import { rotateByQuaternion } from "../src/geometry/quaternion.js";
import type { Vec3 } from "../src/geometry/vec3.js";
import { axisMapping, type AxisMapping } from "../src/mocap/axis_convention.js";
import {
  Handedness, LengthUnit, UpAxis, type AxisConvention, type Joint, type Marker, type MocapFrame, type Quaternion, type RigidBody, type Vector3,
} from "../src/msgs/mocap_proto.js";
import { OPERATOR_JOINTS, operatorPose } from "./operator_skeleton.js";
import { Rng } from "./rng.js";
import { footprintRadius } from "./scene_generator.js";
import { primitiveHeight } from "./shapes.js";
import { checkFinite, checkSeed } from "./sim_arguments.js";
import type { TeleopScenario } from "./teleop_scenario.js";
import { TeleopMotion, type RigidPose } from "./teleop_motion.js";

/** OptiTrack Motive/NatNet's default stream: y up, right-handed, millimetres. */
export const NATNET_AXES: Readonly<AxisConvention> = Object.freeze({ up_axis: UpAxis.Y_UP, handedness: Handedness.RIGHT_HANDED, unit: LengthUnit.MILLIMETERS });
/** A z-up, right-handed stream in metres (Vicon's axes; REP-103 already). */
export const Z_UP_METRES_AXES: Readonly<AxisConvention> = Object.freeze({ up_axis: UpAxis.Z_UP, handedness: Handedness.RIGHT_HANDED, unit: LengthUnit.METERS });

export interface MocapEmitterOptions {
  /** Device frame rate (Hz): frame k is exposed at deviceStartNs + k/rateHz on the device clock. */
  rateHz: number;
  /** The convention the stream declares; poses are converted into it from the world's REP-103 metres. */
  axes: AxisConvention;
  streamId: string;
  /** Seeds every draw (marker layout, noise, occlusion, jitter, dropouts), each from its own generator. */
  seed: number;
  firstFrameNumber: bigint;
  /** Device clock at the first frame. */
  deviceStartNs: bigint;
  /** host − device at the first frame (ns): the offset ClockSync should find. */
  clockOffsetNs: bigint;
  /** How much faster the host clock runs than the device's (ppm): host − device grows by driftPpm·1e-6 per device second. */
  driftPpm: number;
  /** Exposure to transmit, as the device reports it in system_latency_ms. */
  latencyMs: number;
  /** Host-side delay after the device's latency: exponential with this mean (ms). */
  jitterMeanMs: number;
  /** Chance per frame of an extra delay spike (scheduling, Wi-Fi retransmit)… */
  jitterSpikeProbability: number;
  /** …uniform in [0, jitterSpikeMs] ms. Frames stay in order: a delayed frame holds back the ones behind it (one TCP stream). */
  jitterSpikeMs: number;
  /** Chance per frame that a dropout starts: the device counts the frames but never sends them. */
  dropoutProbability: number;
  /** Mean dropout length in frames (geometric, ≥ 1). */
  dropoutMeanFrames: number;
  /** Marker reconstruction noise, standard deviation per axis (m). */
  markerNoiseM: number;
  /** Chance per frame that a visible marker becomes occluded… */
  occlusionProbability: number;
  /** …for a run of this many frames on average (geometric). A body with fewer than 3 visible markers is untracked. */
  occlusionMeanFrames: number;
}

export const DEFAULT_MOCAP_EMITTER_OPTIONS: Readonly<MocapEmitterOptions> = Object.freeze({
  rateHz: 240,
  axes: NATNET_AXES,
  streamId: "sim",
  seed: 0,
  firstFrameNumber: 1n,
  deviceStartNs: 5_000_000_000n,
  clockOffsetNs: 3_200_000_000n,
  driftPpm: 20,
  latencyMs: 2.5,
  jitterMeanMs: 0.5,
  jitterSpikeProbability: 0.002,
  jitterSpikeMs: 20,
  dropoutProbability: 0.001,
  dropoutMeanFrames: 3,
  markerNoiseM: 0.0002,
  occlusionProbability: 0.002,
  occlusionMeanFrames: 12,
});

/** A rigid body's truth in one frame (REP-103 metres). */
export interface BodyTruth {
  id: number;
  name: string;
  /** Where the body really is at the frame's exposure. */
  pose: RigidPose;
  /** At least 3 of its markers were visible. */
  tracked: boolean;
  /** What the frame carries: `pose` when tracked, else the last tracked pose (stale), or the origin if there was none. */
  sent: RigidPose;
  /** Mean residual of its visible markers (m); 0 when none is visible. */
  meanMarkerErrorM: number;
}

export interface MarkerTruth {
  id: number;
  bodyId: number;
  /** Where the marker really is (on the body, noise-free). */
  model: Vec3;
  /** What the frame carries: model + reconstruction noise when visible; the model position (solved from the body) when occluded. */
  position: Vec3;
  residualM: number;
  occluded: boolean;
}

export interface JointTruth {
  name: string;
  parent: number;
  position: Vec3;
  orientation: Quaternion;
}

/** Everything a test needs to check a frame against: clocks and poses, REP-103 metres. */
export interface MocapFrameTruth {
  /** Device frame index from the start (frame_number − firstFrameNumber). */
  index: number;
  frameNumber: bigint;
  deviceNs: bigint;
  /** Host-clock time of the mid-exposure: device + offset + drift. */
  exposureHostNs: bigint;
  /** Host-clock time the frame is handed to the transport: exposure + latency + delay, never before the previous frame's. */
  sendHostNs: bigint;
  /** sendHostNs − exposureHostNs − latency (ns): the host-side delay this frame saw. */
  delayNs: number;
  /** Frame numbers dropped right before this one (never sent). */
  droppedBefore: number;
  /** Time in the scripted episode (s) the poses are taken at. */
  simTimeS: number;
  bodies: BodyTruth[];
  markers: MarkerTruth[];
  joints: JointTruth[];
}

export interface EmittedMocapFrame {
  /** The frame as the device streams it: the declared axes and unit, fresh objects (a validator may convert it in place). */
  frame: MocapFrame;
  truth: MocapFrameTruth;
}

export interface MocapEmitterStats {
  /** Frames returned (sent). */
  sent: number;
  /** Frame numbers skipped by dropouts (emit) or returned as null (next). */
  dropped: number;
  /** Dropouts (runs of dropped numbers). */
  dropouts: number;
  longestDropout: number;
}

interface MarkerState {
  id: number;
  /** Offset in the body frame (m). */
  offset: Vec3;
  occluded: boolean;
}

interface BodyState {
  id: number;
  name: string;
  markers: MarkerState[];
  lastSent: RigidPose | null;
}

/** The hand's marker cluster (a tracked glove or controller), body frame, m: asymmetric, as a solver needs. */
const HAND_MARKERS: readonly Vec3[] = [
  { x: 0.03, y: 0.02, z: 0.02 },
  { x: -0.02, y: 0.035, z: 0.01 },
  { x: 0, y: -0.03, z: 0.025 },
  { x: 0.045, y: -0.01, z: -0.005 },
];
const HAND_BODY_ID = 1;
export const HAND_BODY_NAME = "hand";
export const OPERATOR_SKELETON_ID = 1;
export const OPERATOR_SKELETON_NAME = "operator";
/** A solver needs this many visible markers to track a rigid body. */
const MIN_TRACKING_MARKERS = 3;
const MAX_U64 = (1n << 64n) - 1n;

/** REP-103 metres → the stream's axes and unit: the inverse of src/mocap/axis_convention's mapping C. */
function toSourcePosition(m: AxisMapping, p: Vec3): Vector3 {
  const out = [0, 0, 0];
  out[m.perm[0]] = (m.sign[0] * p.x) / m.scale;
  out[m.perm[1]] = (m.sign[1] * p.y) / m.scale;
  out[m.perm[2]] = (m.sign[2] * p.z) / m.scale;
  return { x: out[0], y: out[1], z: out[2] };
}

function toSourceOrientation(m: AxisMapping, q: Quaternion): Quaternion {
  const out = [0, 0, 0];
  out[m.perm[0]] = m.det * m.sign[0] * q.x;
  out[m.perm[1]] = m.det * m.sign[1] * q.y;
  out[m.perm[2]] = m.det * m.sign[2] * q.z;
  return { x: out[0], y: out[1], z: out[2], w: q.w };
}

function checkBigint(v: unknown, what: string, min: bigint, max: bigint): bigint {
  if (typeof v !== "bigint" || v < min || v > max) throw new InvalidInputError("bad_argument", `${what} must be a bigint in [${min}, ${max}], got ${String(v)}`);
  return v;
}

function resolveOptions(partial: Partial<MocapEmitterOptions>): MocapEmitterOptions {
  const o: MocapEmitterOptions = { ...DEFAULT_MOCAP_EMITTER_OPTIONS, ...partial };
  checkFinite(o.rateHz, "mocap emitter rateHz", 1e-3, 10_000);
  axisMapping(o.axes);
  if (typeof o.streamId !== "string" || o.streamId.length === 0 || o.streamId.length > 256) {
    throw new InvalidInputError("bad_argument", "mocap emitter streamId must be a non-empty string of at most 256 characters");
  }
  checkSeed(o.seed, "mocap emitter");
  checkBigint(o.firstFrameNumber, "mocap emitter firstFrameNumber", 0n, MAX_U64 >> 1n);
  checkBigint(o.deviceStartNs, "mocap emitter deviceStartNs", 0n, MAX_U64 >> 1n);
  checkBigint(o.clockOffsetNs, "mocap emitter clockOffsetNs", -o.deviceStartNs, MAX_U64 >> 2n);
  checkFinite(o.driftPpm, "mocap emitter driftPpm", -1000, 1000);
  checkFinite(o.latencyMs, "mocap emitter latencyMs", 0, 1000);
  checkFinite(o.jitterMeanMs, "mocap emitter jitterMeanMs", 0, 1000);
  checkFinite(o.jitterSpikeProbability, "mocap emitter jitterSpikeProbability", 0, 1);
  checkFinite(o.jitterSpikeMs, "mocap emitter jitterSpikeMs", 0, 10_000);
  checkFinite(o.dropoutProbability, "mocap emitter dropoutProbability", 0, 0.5);
  checkFinite(o.dropoutMeanFrames, "mocap emitter dropoutMeanFrames", 1, 1e6);
  checkFinite(o.markerNoiseM, "mocap emitter markerNoiseM", 0, 0.1);
  checkFinite(o.occlusionProbability, "mocap emitter occlusionProbability", 0, 1);
  checkFinite(o.occlusionMeanFrames, "mocap emitter occlusionMeanFrames", 1, 1e6);
  return { ...o, axes: { up_axis: o.axes.up_axis, handedness: o.axes.handedness, unit: o.axes.unit } };
}

/** A geometric count ≥ 1 with the given mean. */
function geometric(rng: Rng, mean: number): number {
  if (mean <= 1) return 1;
  let u = 0;
  while (u === 0) u = rng.next();
  return 1 + Math.floor(Math.log(u) / Math.log(1 - 1 / mean));
}

/**
 * The simulator's scripted teleop as a mocap system streams it: per frame, rigid bodies for
 * the hand (body 1, "hand") and every object (ids 2…, named by their sim ids), labelled
 * markers on them (id = body id << 16 | marker number, NatNet's labelling) with reconstruction
 * noise, residuals and occlusion runs, and the operator's 25-joint skeleton (world positions
 * and orientations, parents as indices) with the right hand on the teleop hand; all converted
 * from the world's REP-103 metres into the declared `axes`.
 *
 * Poses are taken at the true time of each frame's mid-exposure: the device clock runs at
 * rateHz on its own clock, which maps to host time as device + clockOffsetNs + drift; the
 * scripted episode starts at host time deviceStartNs + clockOffsetNs. Objects are
 * interpolated between the episode's 30 Hz frames (monotone cubic); the hand and the skeleton
 * are computed at the exposure time directly (sim/teleop_motion.ts, sim/operator_skeleton.ts).
 * Past the episode's end everything holds still.
 *
 * Two ways to draw frames:
 * - emit(): the device's own schedule, with dropouts (numbers skipped, never sent) and a
 *   host send time (exposure + reported latency + host-side delay, in order), for publishers
 *   that pace themselves by truth.sendHostNs and for in-process tests;
 * - next(deviceNs): the MocapFrameSource shape of nodes/mqtt/mocap_publisher.ts (implemented
 *   structurally: sim/ does not import nodes/): one frame per publisher tick at the device
 *   time the publisher gives, null for a tick inside a dropout.
 * Both give the truth (lastTruth()). Deterministic from the seed and the calls made. Each
 * frame is built from fresh objects, as MocapValidator requires of in-process senders.
 */
export class MocapEmitter {
  readonly options: Readonly<MocapEmitterOptions>;
  readonly motion: TeleopMotion;
  /** Host time at which the episode starts (its t = 0): the device start on the host clock. */
  readonly hostStartNs: bigint;
  private readonly mapping: AxisMapping;
  private readonly bodies: BodyState[];
  private readonly objectIndex: number[];
  private readonly tableHalfX: number;
  private readonly periodNs: number;
  private readonly drift: number;
  private readonly noiseRng: Rng;
  private readonly occlusionRng: Rng;
  private readonly jitterRng: Rng;
  private readonly dropoutRng: Rng;
  private index = 0;
  /** Ticks of next() still to drop, and numbers dropped since the last frame returned by it. */
  private dropRemaining = 0;
  private droppedRun = 0;
  private lastSendNs: bigint | null = null;
  private truth: MocapFrameTruth | null = null;
  private readonly counts: MocapEmitterStats = { sent: 0, dropped: 0, dropouts: 0, longestDropout: 0 };

  constructor(scenario: Pick<TeleopScenario, "world" | "episode">, options: Partial<MocapEmitterOptions> = {}) {
    const o = resolveOptions(options);
    this.options = Object.freeze(o);
    this.mapping = axisMapping(o.axes);
    this.motion = new TeleopMotion(scenario.world, scenario.episode);
    this.tableHalfX = scenario.world.tableHalfX;
    this.hostStartNs = o.deviceStartNs + o.clockOffsetNs;
    this.periodNs = 1e9 / o.rateHz;
    this.drift = o.driftPpm * 1e-6;
    const layout = new Rng((o.seed ^ 0x6d0ca9) >>> 0);
    this.noiseRng = new Rng((o.seed ^ 0x6e015e) >>> 0);
    this.occlusionRng = new Rng((o.seed ^ 0x0cc1d) >>> 0);
    this.jitterRng = new Rng((o.seed ^ 0x717e7) >>> 0);
    this.dropoutRng = new Rng((o.seed ^ 0xd209) >>> 0);
    const markers = (bodyId: number, offsets: readonly Vec3[]): MarkerState[] =>
      offsets.map((offset, k) => ({ id: ((bodyId << 16) | (k + 1)) >>> 0, offset, occluded: false }));
    this.bodies = [{ id: HAND_BODY_ID, name: HAND_BODY_NAME, markers: markers(HAND_BODY_ID, HAND_MARKERS), lastSent: null }];
    this.objectIndex = [-1];
    scenario.world.objects.forEach((obj, i) => {
      const id = HAND_BODY_ID + 1 + i;
      const r = footprintRadius(obj.primitive), h = primitiveHeight(obj.primitive);
      const n = layout.next() < 0.5 ? 3 : 4;
      const offsets: Vec3[] = [];
      for (let k = 0; k < n; k++) {
        const a = layout.uniform(0, 2 * Math.PI), rr = layout.uniform(0.5, 0.9) * r;
        offsets.push({ x: rr * Math.cos(a), y: rr * Math.sin(a), z: layout.uniform(0.3, 1) * h });
      }
      this.bodies.push({ id, name: obj.id, markers: markers(id, offsets), lastSent: null });
      this.objectIndex.push(i);
    });
  }

  /** Names of the rigid bodies, in stream order (the hand first). */
  get bodyNames(): readonly string[] {
    return this.bodies.map((b) => b.name);
  }

  /** Device time of device frame `index`. */
  deviceTimeOf(index: number): bigint {
    return this.options.deviceStartNs + BigInt(Math.round(index * this.periodNs));
  }

  /** Host time of a device time, by the configured clock (offset and drift). */
  hostTimeOf(deviceNs: bigint): bigint {
    const o = this.options;
    return deviceNs + o.clockOffsetNs + BigInt(Math.round(this.drift * Number(deviceNs - o.deviceStartNs)));
  }

  /** Device frames (at rateHz) the episode spans, first to last exposure inside it. */
  get episodeFrames(): number {
    return Math.floor((this.motion.durationS * 1e9) / (this.periodNs * (1 + this.drift))) + 1;
  }

  stats(): MocapEmitterStats {
    return { ...this.counts };
  }

  /** The truth of the frame returned last, or null before the first. */
  lastTruth(): MocapFrameTruth | null {
    return this.truth;
  }

  /** The next frame the device sends on its own schedule (dropped frame numbers are skipped), with its truth. */
  emit(): EmittedMocapFrame {
    const dropped = this.dropout();
    const index = this.index++;
    const deviceNs = this.deviceTimeOf(index);
    const o = this.options;
    const exposure = this.hostTimeOf(deviceNs);
    let delay = o.jitterMeanMs > 0 ? -Math.log(1 - this.jitterRng.next()) * o.jitterMeanMs * 1e6 : 0;
    if (o.jitterSpikeProbability > 0 && this.jitterRng.next() < o.jitterSpikeProbability) delay += this.jitterRng.next() * o.jitterSpikeMs * 1e6;
    let send = exposure + BigInt(Math.round(o.latencyMs * 1e6 + delay));
    if (this.lastSendNs !== null && send < this.lastSendNs) send = this.lastSendNs;
    this.lastSendNs = send;
    return this.build(index, deviceNs, exposure, send, dropped);
  }

  /**
   * MocapFrameSource (nodes/mqtt/mocap_publisher.ts): one publisher tick at device time
   * `deviceNs` (the caller's clock plus its device offset; the caller owns the send timing).
   * Each tick takes the next frame number; a tick inside a dropout returns null and its number
   * is never sent. Poses are taken at the host time the configured clock gives `deviceNs`
   * (episode time = that − hostStartNs), so with a publisher whose device time is its clock
   * plus an offset, set deviceStartNs to the first tick's device time, clockOffsetNs to minus
   * that offset and driftPpm to 0: the truth is then on the publisher's clock and the episode
   * starts at the first tick.
   */
  next(deviceNs: bigint): MocapFrame | null {
    checkBigint(deviceNs, "next(deviceNs)", 0n, MAX_U64);
    const o = this.options;
    if (this.dropRemaining === 0 && o.dropoutProbability > 0 && this.dropoutRng.next() < o.dropoutProbability) this.startDropout();
    if (this.dropRemaining > 0) {
      this.dropRemaining--;
      this.index++;
      this.droppedRun++;
      return null;
    }
    const index = this.index++;
    const exposure = this.hostTimeOf(deviceNs);
    const dropped = this.droppedRun;
    this.droppedRun = 0;
    return this.build(index, deviceNs, exposure, exposure + BigInt(Math.round(o.latencyMs * 1e6)), dropped).frame;
  }

  /** Draws whether a dropout starts before the next frame; its frame numbers are consumed and never sent. */
  private dropout(): number {
    const o = this.options;
    if (o.dropoutProbability <= 0 || this.dropoutRng.next() >= o.dropoutProbability) return 0;
    this.startDropout();
    const n = this.dropRemaining;
    this.dropRemaining = 0;
    this.index += n;
    return n;
  }

  private startDropout(): void {
    const n = geometric(this.dropoutRng, this.options.dropoutMeanFrames);
    this.dropRemaining = n;
    this.counts.dropped += n;
    this.counts.dropouts++;
    this.counts.longestDropout = Math.max(this.counts.longestDropout, n);
  }

  private build(index: number, deviceNs: bigint, exposure: bigint, send: bigint, droppedBefore: number): EmittedMocapFrame {
    const o = this.options;
    const m = this.mapping;
    const simTimeS = Number(exposure - this.hostStartNs) / 1e9;
    const hand = this.motion.handPose(simTimeS);
    const rigid: RigidBody[] = [];
    const markers: Marker[] = [];
    const bodyTruth: BodyTruth[] = [];
    const markerTruth: MarkerTruth[] = [];
    for (let b = 0; b < this.bodies.length; b++) {
      const body = this.bodies[b];
      const pose = b === 0 ? hand : this.motion.objectPose(this.objectIndex[b], simTimeS);
      let visible = 0, errorSum = 0;
      for (const mk of body.markers) {
        this.stepOcclusion(mk);
        const r = rotateByQuaternion(pose.orientation, mk.offset);
        const model = { x: pose.position.x + r.x, y: pose.position.y + r.y, z: pose.position.z + r.z };
        let position = model, residual = 0;
        if (!mk.occluded) {
          const s = o.markerNoiseM;
          const n = { x: s * this.noiseRng.normal(), y: s * this.noiseRng.normal(), z: s * this.noiseRng.normal() };
          position = { x: model.x + n.x, y: model.y + n.y, z: model.z + n.z };
          residual = Math.hypot(n.x, n.y, n.z);
          visible++;
          errorSum += residual;
        }
        markerTruth.push({ id: mk.id, bodyId: body.id, model, position, residualM: residual, occluded: mk.occluded });
        markers.push({ id: mk.id, position: toSourcePosition(m, position), residual: residual / m.scale, occluded: mk.occluded });
      }
      const tracked = visible >= MIN_TRACKING_MARKERS;
      if (tracked) body.lastSent = pose;
      const sent = tracked ? pose : (body.lastSent ?? { position: { x: 0, y: 0, z: 0 }, orientation: { x: 0, y: 0, z: 0, w: 1 } });
      const meanError = visible > 0 ? errorSum / visible : 0;
      bodyTruth.push({ id: body.id, name: body.name, pose, tracked, sent, meanMarkerErrorM: meanError });
      rigid.push({
        id: body.id, name: body.name, position: toSourcePosition(m, sent.position), orientation: toSourceOrientation(m, sent.orientation),
        mean_marker_error: meanError / m.scale, tracked,
      });
    }
    const op = operatorPose(hand, this.tableHalfX);
    const jointTruth: JointTruth[] = [];
    const joints: Joint[] = [];
    OPERATOR_JOINTS.forEach((def, j) => {
      jointTruth.push({ name: def.name, parent: def.parent, position: op.positions[j], orientation: op.orientations[j] });
      joints.push({
        name: def.name, parent: def.parent, position: toSourcePosition(m, op.positions[j]), orientation: toSourceOrientation(m, op.orientations[j]), tracked: true,
      });
    });
    const frameNumber = o.firstFrameNumber + BigInt(index);
    const frame: MocapFrame = {
      stream_id: o.streamId,
      frame_number: frameNumber,
      device_timestamp_ns: deviceNs,
      system_latency_ms: o.latencyMs,
      axes: { ...o.axes },
      rigid_bodies: rigid,
      markers,
      skeletons: [{ id: OPERATOR_SKELETON_ID, name: OPERATOR_SKELETON_NAME, joints }],
    };
    const truth: MocapFrameTruth = {
      index, frameNumber, deviceNs, exposureHostNs: exposure, sendHostNs: send,
      delayNs: Number(send - exposure) - o.latencyMs * 1e6, droppedBefore, simTimeS,
      bodies: bodyTruth, markers: markerTruth, joints: jointTruth,
    };
    this.truth = truth;
    this.counts.sent++;
    return { frame, truth };
  }

  /** One frame of a marker's two-state occlusion chain. */
  private stepOcclusion(mk: MarkerState): void {
    const o = this.options;
    if (mk.occluded) {
      if (this.occlusionRng.next() < 1 / o.occlusionMeanFrames) mk.occluded = false;
    } else if (o.occlusionProbability > 0 && this.occlusionRng.next() < o.occlusionProbability) mk.occluded = true;
  }
}
