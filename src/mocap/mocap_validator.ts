import { InvalidInputError } from "../errors.js";
import type { MocapFrame, Quaternion, RigidBody, Vector3 } from "../msgs/mocap_proto.js";
import { axisMapping, convertLength, convertOrientation, convertPosition, REP103_AXES, type AxisMapping } from "./axis_convention.js";
import { DEFAULT_MOCAP_LIMITS, type MocapLimits } from "./mocap_codec.js";

/**
 * Every count a MocapValidator keeps. Frame keys add up:
 *   frames_received = frames_released + frames_pending (held for reordering)
 *                   + frames_malformed + frames_wrong_stream + frames_too_large + frames_bad_axes
 *                   + frames_non_finite + frames_duplicate + frames_late + frames_stale
 *                   + frames_bad_device_time
 * frames_lost counts frame numbers never received (the sum of the gaps' sizes); a number
 * counted lost that arrives later is also counted in frames_late. Body, marker, joint and
 * skeleton keys count elements of released frames.
 */
export const MOCAP_COUNTER_KEYS = [
  "frames_received",
  "frames_released",
  /** Not shaped like a MocapFrame (wrong field types, frame number not a uint64 bigint). */
  "frames_malformed",
  /** stream_id differs from the validator's stream. */
  "frames_wrong_stream",
  /** More bodies, markers, skeletons or joints than the limits allow. */
  "frames_too_large",
  /** Axis convention or unit unspecified or unknown. */
  "frames_bad_axes",
  /** NaN or ±Inf in any number of the frame. */
  "frames_non_finite",
  /** A frame number already released or already held. */
  "frames_duplicate",
  /** Arrived after its number was given up (the reorder window had passed). */
  "frames_late",
  /** Far behind or ahead of the stream and not followed by its continuation (a stray number). */
  "frames_stale",
  /** Device time not after the previous released frame's. */
  "frames_bad_device_time",
  /** Released after a higher-numbered frame had arrived (reordered within the window). */
  "frames_reordered",
  "frames_lost",
  /** Gaps in the released sequence (each of frames_lost's runs). */
  "gaps",
  /** The frame number went far backwards and continued from there: the source restarted. */
  "stream_resets",
  /** Device time stayed behind for several frames: the device clock was re-anchored. */
  "device_time_resets",
  /** The per-body jump state hit its bound and was cleared. */
  "body_state_resets",
  "bodies_untracked",
  "bodies_renormalised",
  "bodies_rejected_zero_quaternion",
  "bodies_rejected_quaternion",
  "bodies_rejected_jump",
  "bodies_rejected_out_of_range",
  "bodies_rejected_duplicate_id",
  /** An empty, unusable or repeated name replaced by rigid_body_<id>. */
  "bodies_renamed",
  "markers_rejected_out_of_range",
  "joints_renormalised",
  /** A tracked joint with a zero or non-unit quaternion or an out-of-range position: marked untracked. */
  "joints_rejected",
  /** A parent index outside the skeleton or pointing at the joint itself, or parents that form a cycle. */
  "skeletons_rejected",
] as const;

export type MocapCounterKey = (typeof MOCAP_COUNTER_KEYS)[number];
export type MocapCounters = Record<MocapCounterKey, number>;

export interface MocapValidatorOptions {
  /** The stream this validator serves; "" adopts the first frame's stream_id. */
  streamId: string;
  /** Largest relative deviation of a quaternion's norm from 1 that is renormalised; beyond, the body is rejected. */
  quaternionTolerance: number;
  /** Fastest a body may move between consecutive accepted samples (m/s, device time). */
  maxSpeedMps: number;
  /** Farthest from the origin a body, marker or joint may be (m). */
  maxPositionM: number;
  /** Frames held back waiting for a missing number before giving up on it. */
  reorderWindowFrames: number;
  /** Longest a frame is held waiting for a missing number (host time, ms). */
  reorderWindowMs: number;
  /** A frame number more than this far from the stream (behind: a restart; ahead: an outage) must be confirmed by the next frame. */
  restartThreshold: number;
  /** Consecutive frames with device time behind before the device timeline is re-anchored. */
  maxBadDeviceTime: number;
  /** Bound on the rigid bodies with jump state. */
  maxBodyStates: number;
  /** Counts a frame may hold (the codec's limits; frames built in-process are checked too). */
  limits: Readonly<MocapLimits>;
  /** Called for each rejection with its counter and a human-readable reason (for logs). */
  onReject?: (key: MocapCounterKey, message: string) => void;
}

export const DEFAULT_MOCAP_VALIDATOR_OPTIONS: Readonly<MocapValidatorOptions> = Object.freeze({
  streamId: "",
  quaternionTolerance: 1e-3,
  maxSpeedMps: 20,
  maxPositionM: 1000,
  reorderWindowFrames: 4,
  reorderWindowMs: 20,
  restartThreshold: 1000,
  maxBadDeviceTime: 8,
  maxBodyStates: 4096,
  limits: DEFAULT_MOCAP_LIMITS,
});

/** A frame the validator released, in frame-number order. */
export interface ValidatedMocapFrame {
  /**
   * The decoded frame, converted in place: REP-103 axes and metres (axes = REP103_AXES),
   * quaternions of tracked bodies and joints unit length, rejected bodies and out-of-range
   * markers removed, unusable names replaced. Untracked bodies stay, with tracked = false.
   */
  readonly frame: MocapFrame;
  /** Host time it was received at, as given to push(). */
  readonly receiveNs: bigint;
}

/** Deviations of a quaternion's norm below this are float32 rounding: renormalised without counting. */
const RENORM_COUNT_EPSILON = 1e-6;
const MAX_U64 = (1n << 64n) - 1n;
const NO_NUMBER = -1n;

interface BodyState {
  x: number;
  y: number;
  z: number;
  deviceNs: bigint;
}

type Problem = "frames_malformed" | "frames_wrong_stream" | "frames_too_large" | "frames_bad_axes" | "frames_non_finite";

/**
 * Validation of one mocap stream, frame by frame, deterministic (host time comes from the
 * caller) and O(bodies + markers + joints) per frame, allocating only small per-frame records.
 *
 * push(frame, receiveNs) classifies the frame number (duplicate, late, far from the stream),
 * checks the content (shape, limits, axes, finiteness: a bad frame is rejected whole but its
 * number still counts as seen), and holds it in a reorder buffer. Frames leave the buffer in
 * number order as soon as they are next in sequence, or when reorderWindowFrames later frames
 * wait behind a missing number, or when the oldest has waited reorderWindowMs; the numbers
 * skipped are counted lost. On release each frame is converted to REP-103 metres and its
 * bodies checked: unit quaternion (renormalised within the tolerance, else rejected; zero
 * rejected when tracked), position range, speed since the body's last accepted sample on the
 * device clock. Untracked bodies are kept as untracked and never used for poses.
 *
 * The returned arrays are reused: read them before the next call.
 */
export class MocapValidator {
  private readonly o: MocapValidatorOptions;
  private readonly c: MocapCounters;
  private streamId: string;
  private readonly out: ValidatedMocapFrame[] = [];
  // Reorder buffer, sorted by number; capacity reorderWindowFrames + 1.
  private readonly bufNum: bigint[];
  private readonly bufFrame: (MocapFrame | null)[];
  private readonly bufRecv: bigint[];
  private bufLen = 0;
  private next: bigint | null = null;
  // Numbers already taken out of the sequence, to tell a duplicate from a late frame.
  private readonly seenNum: BigUint64Array;
  private readonly seenValid: Uint8Array;
  private readonly seenMask: bigint;
  // A frame far from the stream, kept until the next frame says whether it was a stray.
  private candNum: bigint = NO_NUMBER;
  private candFrame: MocapFrame | null = null;
  private candRecv = 0n;
  private prevDeviceNs: bigint | null = null;
  private badDeviceRun = 0;
  private readonly bodies = new Map<number, BodyState>();
  private readonly idsThisFrame = new Set<number>();
  private readonly namesThisFrame = new Set<string>();
  /** Scratch for the parent-cycle walk, grown to the largest skeleton seen. */
  private walk = new Uint8Array(64);
  private readonly holdNs: bigint;
  private readonly restartBehind: bigint;
  private problemMessage = "";

  constructor(options: Partial<MocapValidatorOptions> = {}) {
    const o: MocapValidatorOptions = { ...DEFAULT_MOCAP_VALIDATOR_OPTIONS, ...options };
    for (const key of ["quaternionTolerance", "maxSpeedMps", "maxPositionM", "reorderWindowMs"] as const) {
      if (!Number.isFinite(o[key]) || o[key] < 0) throw new InvalidInputError("bad_argument", `${key} must be a finite number ≥ 0, got ${o[key]}`);
    }
    for (const key of ["reorderWindowFrames", "restartThreshold", "maxBadDeviceTime", "maxBodyStates"] as const) {
      if (!Number.isSafeInteger(o[key]) || o[key] < 0) throw new InvalidInputError("bad_argument", `${key} must be an integer ≥ 0, got ${o[key]}`);
    }
    if (o.restartThreshold > 1 << 20) throw new InvalidInputError("bad_argument", `restartThreshold must be ≤ ${1 << 20}`);
    this.o = o;
    this.streamId = o.streamId;
    this.c = Object.fromEntries(MOCAP_COUNTER_KEYS.map((k) => [k, 0])) as MocapCounters;
    const cap = o.reorderWindowFrames + 1;
    this.bufNum = new Array<bigint>(cap).fill(0n);
    this.bufFrame = new Array<MocapFrame | null>(cap).fill(null);
    this.bufRecv = new Array<bigint>(cap).fill(0n);
    let ring = 1;
    while (ring <= o.restartThreshold + cap) ring *= 2;
    this.seenNum = new BigUint64Array(ring);
    this.seenValid = new Uint8Array(ring);
    this.seenMask = BigInt(ring - 1);
    this.holdNs = BigInt(Math.round(o.reorderWindowMs * 1e6));
    this.restartBehind = BigInt(o.restartThreshold);
  }

  /** A copy of the counters. */
  counters(): MocapCounters {
    return { ...this.c };
  }

  /** Frames held (reorder buffer and restart candidate). */
  pending(): number {
    return this.bufLen + (this.candNum === NO_NUMBER ? 0 : 1);
  }

  /**
   * One received frame and the host time it arrived. Returns the frames released by it, in
   * number order (a reused array). The validator takes ownership of the frame and converts its
   * positions, orientations and lengths in place, so its vectors must not be shared with other
   * frames (decoded frames never are; a sender building frames in-process must not reuse them).
   */
  push(frame: MocapFrame, receiveNs: bigint): readonly ValidatedMocapFrame[] {
    if (typeof receiveNs !== "bigint") throw new InvalidInputError("bad_argument", "receiveNs must be a bigint (host nanoseconds)");
    this.out.length = 0;
    this.c.frames_received++;
    const problem = this.contentProblem(frame);
    if (problem === "frames_malformed" || problem === "frames_wrong_stream") return this.out;
    const n = frame.frame_number;
    if (this.next !== null && (n < this.next ? this.next - n : n - this.next) > this.restartBehind) {
      this.farCandidate(n, problem === null ? frame : null, receiveNs, problem);
      return this.out;
    }
    if (this.next !== null && n < this.next) {
      if (this.wasSeen(n)) this.reject("frames_duplicate", `frame ${n} repeats one already released`);
      else this.reject("frames_late", `frame ${n} arrived after the stream moved on to ${this.next}`);
      this.dropCandidate();
      return this.out;
    }
    this.dropCandidate();
    if (this.isHeld(n)) {
      this.reject("frames_duplicate", `frame ${n} repeats one already held`);
      return this.out;
    }
    if (problem !== null) this.countProblem(problem);
    this.insert(n, problem === null ? frame : null, receiveNs);
    this.release(receiveNs, false);
    return this.out;
  }

  /** Releases frames whose reorder hold has expired by host time `nowNs` (call it from a timer). */
  poll(nowNs: bigint): readonly ValidatedMocapFrame[] {
    this.out.length = 0;
    this.release(nowNs, false);
    return this.out;
  }

  /** Releases every held frame (end of stream); a pending restart candidate is counted stale. */
  flush(): readonly ValidatedMocapFrame[] {
    this.out.length = 0;
    this.dropCandidate();
    this.release(0n, true);
    return this.out;
  }

  // ---- content -----------------------------------------------------------------------

  /** Why the frame cannot be used at all, or null. Reads only; never throws on any object. */
  private contentProblem(frame: MocapFrame): Problem | null {
    const f = frame as unknown as Record<string, unknown> | null;
    if (f === null || typeof f !== "object") return this.problem("frames_malformed", "not a MocapFrame object");
    const n = f.frame_number;
    if (typeof n !== "bigint" || n < 0n || n > MAX_U64) return this.problem("frames_malformed", "frame_number is not a uint64 bigint");
    if (typeof f.stream_id !== "string") return this.problem("frames_malformed", `frame ${n}: stream_id is not a string`);
    if (this.streamId === "") this.streamId = f.stream_id;
    if (f.stream_id !== this.streamId) {
      return this.problem("frames_wrong_stream", `frame ${n} is from stream ${JSON.stringify(f.stream_id.slice(0, 64))}, not ${JSON.stringify(this.streamId)}`);
    }
    const d = f.device_timestamp_ns;
    const bodies = f.rigid_bodies, markers = f.markers, skeletons = f.skeletons;
    if (typeof d !== "bigint" || d < 0n || d > MAX_U64 || !Array.isArray(bodies) || !Array.isArray(markers) || !Array.isArray(skeletons)) {
      return this.problem("frames_malformed", `frame ${n}: device_timestamp_ns, rigid_bodies, markers or skeletons has the wrong type`);
    }
    const lim = this.o.limits;
    if (bodies.length > lim.maxRigidBodies || markers.length > lim.maxMarkers || skeletons.length > lim.maxSkeletons) {
      return this.problem("frames_too_large", `frame ${n}: ${bodies.length} bodies, ${markers.length} markers, ${skeletons.length} skeletons exceed the limits`);
    }
    if (typeof f.system_latency_ms !== "number") return this.problem("frames_malformed", `frame ${n}: system_latency_ms is not a number`);
    let nonFinite = !Number.isFinite(f.system_latency_ms);
    for (const b of bodies as unknown[]) {
      if (!isObject(b) || typeof b.id !== "number" || typeof b.name !== "string" || typeof b.tracked !== "boolean" || typeof b.mean_marker_error !== "number") {
        return this.problem("frames_malformed", `frame ${n}: a rigid body is not shaped like one`);
      }
      const s = vectorState(b.position, false) | vectorState(b.orientation, true);
      if (s & MALFORMED) return this.problem("frames_malformed", `frame ${n}: rigid body ${b.id} has a malformed position or orientation`);
      if (s & NON_FINITE || !Number.isFinite(b.mean_marker_error)) nonFinite = true;
    }
    for (const m of markers as unknown[]) {
      if (!isObject(m) || typeof m.id !== "number" || typeof m.residual !== "number" || typeof m.occluded !== "boolean") {
        return this.problem("frames_malformed", `frame ${n}: a marker is not shaped like one`);
      }
      const s = vectorState(m.position, false);
      if (s & MALFORMED) return this.problem("frames_malformed", `frame ${n}: marker ${m.id} has a malformed position`);
      if (s & NON_FINITE || !Number.isFinite(m.residual)) nonFinite = true;
    }
    let joints = 0;
    for (const sk of skeletons as unknown[]) {
      if (!isObject(sk) || typeof sk.id !== "number" || typeof sk.name !== "string" || !Array.isArray(sk.joints)) {
        return this.problem("frames_malformed", `frame ${n}: a skeleton is not shaped like one`);
      }
      joints += sk.joints.length;
      if (joints > lim.maxJoints) return this.problem("frames_too_large", `frame ${n}: more than ${lim.maxJoints} joints`);
      for (const j of sk.joints as unknown[]) {
        if (!isObject(j) || typeof j.name !== "string" || typeof j.parent !== "number" || typeof j.tracked !== "boolean") {
          return this.problem("frames_malformed", `frame ${n}: a joint of skeleton ${sk.id} is not shaped like one`);
        }
        const s = vectorState(j.position, false) | vectorState(j.orientation, true);
        if (s & MALFORMED) return this.problem("frames_malformed", `frame ${n}: a joint of skeleton ${sk.id} has a malformed pose`);
        if (s & NON_FINITE) nonFinite = true;
      }
    }
    if (nonFinite) return this.problem("frames_non_finite", `frame ${n}: NaN or infinity in its numbers`);
    try {
      axisMapping(f.axes as MocapFrame["axes"]);
    } catch (e) {
      return this.problem("frames_bad_axes", `frame ${n}: ${(e as Error).message}`);
    }
    return null;
  }

  /**
   * Malformed and wrong-stream frames are counted at once (they never enter the sequence);
   * the others when their number is taken (a duplicate with bad content is a duplicate).
   */
  private problem(key: Problem, message: string): Problem {
    if (key === "frames_malformed" || key === "frames_wrong_stream") this.reject(key, message);
    else this.problemMessage = message;
    return key;
  }

  private countProblem(key: Problem): void {
    this.reject(key, this.problemMessage);
  }

  private reject(key: MocapCounterKey, message: string): void {
    this.c[key]++;
    this.o.onReject?.(key, message);
  }

  // ---- sequence ----------------------------------------------------------------------

  private wasSeen(n: bigint): boolean {
    const i = Number(n & this.seenMask);
    return this.seenValid[i] === 1 && this.seenNum[i] === n;
  }

  private markSeen(n: bigint): void {
    const i = Number(n & this.seenMask);
    this.seenNum[i] = n;
    this.seenValid[i] = 1;
  }

  private isHeld(n: bigint): boolean {
    for (let i = 0; i < this.bufLen; i++) if (this.bufNum[i] === n) return true;
    return false;
  }

  private insert(n: bigint, frame: MocapFrame | null, recv: bigint): void {
    if (this.next === null) this.next = n;
    // release() after every insert keeps bufLen ≤ reorderWindowFrames, so there is room.
    let i = this.bufLen;
    while (i > 0 && this.bufNum[i - 1] > n) {
      this.bufNum[i] = this.bufNum[i - 1];
      this.bufFrame[i] = this.bufFrame[i - 1];
      this.bufRecv[i] = this.bufRecv[i - 1];
      i--;
    }
    if (i < this.bufLen && frame !== null) this.c.frames_reordered++;
    this.bufNum[i] = n;
    this.bufFrame[i] = frame;
    this.bufRecv[i] = recv;
    this.bufLen++;
  }

  private release(nowNs: bigint, all: boolean): void {
    while (this.bufLen > 0) {
      const inSequence = this.bufNum[0] === this.next;
      const full = this.bufLen > this.o.reorderWindowFrames;
      const expired = nowNs - this.bufRecv[0] > this.holdNs;
      if (!all && !inSequence && !full && !expired) break;
      this.releaseHead();
    }
  }

  private releaseHead(): void {
    const n = this.bufNum[0];
    const frame = this.bufFrame[0];
    const recv = this.bufRecv[0];
    for (let i = 1; i < this.bufLen; i++) {
      this.bufNum[i - 1] = this.bufNum[i];
      this.bufFrame[i - 1] = this.bufFrame[i];
      this.bufRecv[i - 1] = this.bufRecv[i];
    }
    this.bufLen--;
    this.bufFrame[this.bufLen] = null;
    if (this.next !== null && n > this.next) {
      const missing = n - this.next;
      this.c.frames_lost += Number(missing);
      this.c.gaps++;
      this.o.onReject?.("frames_lost", `frames ${this.next}..${n - 1n} (${missing}) never arrived`);
    }
    this.next = n + 1n;
    this.markSeen(n);
    if (frame !== null) this.process(frame, recv);
  }

  /**
   * A frame number more than restartThreshold away from the stream, either way. One such frame
   * may be a stray (a corrupted number, a very old redelivery): it is held, and dropped as stale
   * unless the next frame continues from it. Confirmed far behind, the source restarted: the old
   * run is finished and the state reset. Confirmed far ahead, frames were lost in between (an
   * outage): the gap is counted when the frames are released.
   */
  private farCandidate(n: bigint, frame: MocapFrame | null, recv: bigint, problem: Problem | null): void {
    const cand = this.candNum;
    if (cand !== NO_NUMBER && n > cand && n - cand <= this.restartBehind) {
      const candFrame = this.candFrame, candRecv = this.candRecv;
      this.candNum = NO_NUMBER;
      this.candFrame = null;
      if (this.next !== null && cand < this.next) {
        this.release(0n, true);
        const was = this.next;
        this.resetSequence();
        this.c.stream_resets++;
        this.o.onReject?.("stream_resets", `frame numbers went back from ${was} to ${cand}: the source restarted`);
      }
      this.insert(cand, candFrame, candRecv);
      if (problem !== null) this.countProblem(problem);
      this.insert(n, frame, recv);
      this.release(recv, false);
      return;
    }
    this.dropCandidate();
    if (problem !== null) this.countProblem(problem);
    this.candNum = n;
    this.candFrame = frame;
    this.candRecv = recv;
  }

  private dropCandidate(): void {
    if (this.candNum === NO_NUMBER) return;
    const n = this.candNum;
    const hadContent = this.candFrame !== null;
    this.candNum = NO_NUMBER;
    this.candFrame = null;
    // A candidate whose content was bad was already counted under its problem.
    if (hadContent) this.reject("frames_stale", `frame ${n} is far from the stream and nothing continued from it`);
  }

  private resetSequence(): void {
    this.next = null;
    this.seenValid.fill(0);
    this.prevDeviceNs = null;
    this.badDeviceRun = 0;
    this.bodies.clear();
  }

  // ---- per released frame ----------------------------------------------------------------

  private process(frame: MocapFrame, recv: bigint): void {
    const t = frame.device_timestamp_ns;
    if (this.prevDeviceNs !== null && t <= this.prevDeviceNs) {
      if (++this.badDeviceRun <= this.o.maxBadDeviceTime) {
        this.reject("frames_bad_device_time", `frame ${frame.frame_number}: device time ${t} is not after the previous frame's ${this.prevDeviceNs}`);
        return;
      }
      this.c.device_time_resets++;
      this.o.onReject?.("device_time_resets", `device time stayed behind for ${this.badDeviceRun} frames: re-anchored at ${t}`);
      this.bodies.clear();
    }
    this.badDeviceRun = 0;
    this.prevDeviceNs = t;
    const m = axisMapping(frame.axes);
    this.processBodies(frame, m, t);
    this.processMarkers(frame, m);
    this.processSkeletons(frame, m);
    // A new object, not the old one rewritten: in-process senders may share one axes object between frames.
    frame.axes = { up_axis: REP103_AXES.up_axis, handedness: REP103_AXES.handedness, unit: REP103_AXES.unit };
    this.c.frames_released++;
    this.out.push({ frame, receiveNs: recv });
  }

  private processBodies(frame: MocapFrame, m: AxisMapping, t: bigint): void {
    const bodies = frame.rigid_bodies;
    const ids = this.idsThisFrame;
    const names = this.namesThisFrame;
    ids.clear();
    names.clear();
    const maxR = this.o.maxPositionM;
    let w = 0;
    for (let i = 0; i < bodies.length; i++) {
      const b = bodies[i];
      if (ids.has(b.id)) {
        this.reject("bodies_rejected_duplicate_id", `frame ${frame.frame_number}: a second rigid body with id ${b.id}`);
        continue;
      }
      ids.add(b.id);
      if (!usableName(b.name) || names.has(b.name)) {
        const was = b.name;
        b.name = `rigid_body_${b.id}`;
        this.reject("bodies_renamed", `frame ${frame.frame_number}: rigid body ${b.id} named ${JSON.stringify(was.slice(0, 64))} is published as ${b.name}`);
      }
      names.add(b.name);
      convertPosition(m, b.position);
      convertOrientation(m, b.orientation);
      b.mean_marker_error = convertLength(m, b.mean_marker_error);
      if (!b.tracked) {
        this.c.bodies_untracked++;
        bodies[w++] = b;
        continue;
      }
      const verdict = this.unitQuaternion(b.orientation);
      if (verdict === ZERO) {
        this.reject("bodies_rejected_zero_quaternion", `frame ${frame.frame_number}: tracked rigid body ${b.name} has orientation (0, 0, 0, 0)`);
        continue;
      }
      if (verdict === NOT_UNIT) {
        this.reject("bodies_rejected_quaternion", `frame ${frame.frame_number}: rigid body ${b.name}'s quaternion norm is off by more than ${this.o.quaternionTolerance}`);
        continue;
      }
      if (verdict === RENORMALISED) this.c.bodies_renormalised++;
      if (norm3(b.position) > maxR) {
        this.reject("bodies_rejected_out_of_range", `frame ${frame.frame_number}: rigid body ${b.name} is more than ${maxR} m from the origin`);
        continue;
      }
      if (!this.plausibleMove(b, t, frame.frame_number)) continue;
      bodies[w++] = b;
    }
    bodies.length = w;
  }

  /** Speed check against the body's last accepted sample; updates it when accepted. */
  private plausibleMove(b: RigidBody, t: bigint, frameNumber: bigint): boolean {
    const p = b.position;
    const s = this.bodies.get(b.id);
    if (s !== undefined) {
      const dt = Number(t - s.deviceNs) / 1e9;
      const dist = Math.hypot(p.x - s.x, p.y - s.y, p.z - s.z);
      if (dist > this.o.maxSpeedMps * dt) {
        this.reject("bodies_rejected_jump", `frame ${frameNumber}: rigid body ${b.name} moved ${dist.toFixed(3)} m in ${(dt * 1e3).toFixed(3)} ms`);
        return false;
      }
      s.x = p.x;
      s.y = p.y;
      s.z = p.z;
      s.deviceNs = t;
      return true;
    }
    if (this.bodies.size >= this.o.maxBodyStates) {
      // Cleared, not scanned for the stalest: a stream inventing ids cannot make each frame O(states).
      this.bodies.clear();
      this.c.body_state_resets++;
    }
    this.bodies.set(b.id, { x: p.x, y: p.y, z: p.z, deviceNs: t });
    return true;
  }

  private processMarkers(frame: MocapFrame, m: AxisMapping): void {
    const markers = frame.markers;
    const maxR = this.o.maxPositionM;
    let w = 0;
    for (let i = 0; i < markers.length; i++) {
      const mk = markers[i];
      convertPosition(m, mk.position);
      mk.residual = convertLength(m, mk.residual);
      if (norm3(mk.position) > maxR) {
        this.reject("markers_rejected_out_of_range", `frame ${frame.frame_number}: marker ${mk.id} is more than ${maxR} m from the origin`);
        continue;
      }
      markers[w++] = mk;
    }
    markers.length = w;
  }

  private processSkeletons(frame: MocapFrame, m: AxisMapping): void {
    const skeletons = frame.skeletons;
    const maxR = this.o.maxPositionM;
    let w = 0;
    for (let i = 0; i < skeletons.length; i++) {
      const sk = skeletons[i];
      const joints = sk.joints;
      let badParent = -1;
      for (let j = 0; j < joints.length; j++) {
        const p = joints[j].parent;
        if (!Number.isInteger(p) || p < -1 || p >= joints.length || p === j) {
          badParent = j;
          break;
        }
      }
      if (badParent >= 0) {
        this.reject("skeletons_rejected", `frame ${frame.frame_number}: skeleton ${sk.id} joint ${badParent} has parent ${joints[badParent].parent}, not -1 or another joint's index`);
        continue;
      }
      const cycle = this.parentCycle(joints);
      if (cycle >= 0) {
        // Whoever walks the parents of such a skeleton (forward kinematics, a TF tree) never reaches a root.
        this.reject("skeletons_rejected", `frame ${frame.frame_number}: skeleton ${sk.id} joint ${cycle} is its own ancestor (its parents form a cycle)`);
        continue;
      }
      for (let j = 0; j < joints.length; j++) {
        const jt = joints[j];
        convertPosition(m, jt.position);
        convertOrientation(m, jt.orientation);
        if (!jt.tracked) continue;
        const verdict = this.unitQuaternion(jt.orientation);
        if (verdict === ZERO || verdict === NOT_UNIT || norm3(jt.position) > maxR) {
          jt.tracked = false;
          this.reject("joints_rejected", `frame ${frame.frame_number}: skeleton ${sk.id} joint ${jt.name || j} has an unusable pose; marked untracked`);
        } else if (verdict === RENORMALISED) this.c.joints_renormalised++;
      }
      skeletons[w++] = sk;
    }
    skeletons.length = w;
  }

  /**
   * A joint on a cycle of parent links, or −1 when every chain of parents ends at a root. Parent
   * indices are in range (checked before). O(joints): each joint is walked over once.
   */
  private parentCycle(joints: readonly { parent: number }[]): number {
    const n = joints.length;
    if (this.walk.length < n) this.walk = new Uint8Array(Math.max(n, this.walk.length * 2));
    const state = this.walk;
    state.fill(0, 0, n);
    for (let j = 0; j < n; j++) {
      let k = j;
      // 0 unvisited, 1 on the chain being walked, 2 known to end at a root.
      while (k !== -1 && state[k] === 0) {
        state[k] = 1;
        k = joints[k].parent;
      }
      if (k !== -1 && state[k] === 1) return k;
      for (k = j; k !== -1 && state[k] === 1; k = joints[k].parent) state[k] = 2;
    }
    return -1;
  }

  /** Normalises q in place when its norm is within the tolerance of 1. */
  private unitQuaternion(q: Quaternion): number {
    const n = Math.hypot(q.x, q.y, q.z, q.w);
    if (n === 0) return ZERO;
    const off = Math.abs(n - 1);
    if (off > this.o.quaternionTolerance) return NOT_UNIT;
    if (n !== 1) {
      q.x /= n;
      q.y /= n;
      q.z /= n;
      q.w /= n;
    }
    return off > RENORM_COUNT_EPSILON ? RENORMALISED : UNIT;
  }
}

const UNIT = 0, RENORMALISED = 1, ZERO = 2, NOT_UNIT = 3;
const MALFORMED = 1, NON_FINITE = 2;

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === "object";
}

/** MALFORMED when v is not a {x, y, z[, w]} of numbers, NON_FINITE when one is NaN or infinite. */
function vectorState(v: unknown, withW: boolean): number {
  if (!isObject(v)) return MALFORMED;
  const { x, y, z } = v;
  const w = withW ? v.w : 0;
  if (typeof x !== "number" || typeof y !== "number" || typeof z !== "number" || typeof w !== "number") return MALFORMED;
  return Number.isFinite(x) && Number.isFinite(y) && Number.isFinite(z) && Number.isFinite(w) ? 0 : NON_FINITE;
}

function norm3(p: Vector3): number {
  return Math.sqrt(p.x * p.x + p.y * p.y + p.z * p.z);
}

/**
 * A name that can be a tf2 child frame id: non-empty, no whitespace or control characters, no
 * leading "/" (tf2 ids carry none), at most 128 characters.
 */
export function usableName(name: string): boolean {
  if (name.length === 0 || name.length > 128 || name.charCodeAt(0) === 0x2f) return false;
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c <= 0x20 || c === 0x7f || (c >= 0x80 && c <= 0x9f) || c === 0x2028 || c === 0x2029 || c === 0xfeff || c === 0x3000 || c === 0xa0) return false;
  }
  return true;
}
