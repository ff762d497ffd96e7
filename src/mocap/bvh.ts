import { InvalidInputError } from "../errors.js";
import { Handedness, LengthUnit, UpAxis, type AxisConvention, type Joint, type MocapFrame, type Vector3 } from "../msgs/mocap_proto.js";

/**
 * Biovision Hierarchy (BVH) motion files: a pure parser, forward kinematics, conversion to
 * MocapFrame skeletons, and a writer.
 *
 * The format:
 *   HIERARCHY
 *   ROOT <name> { OFFSET x y z  CHANNELS n <names…>  (JOINT <name> { … })*  (End Site { OFFSET x y z })? }
 *   (more ROOTs)
 *   MOTION
 *   Frames: N
 *   Frame Time: T                (seconds per frame)
 *   N lines of one number per channel, in the order the channels were declared (depth first).
 *
 * Semantics, as three.js's BVHLoader and most tools read it: a joint's local transform is
 * Translate(OFFSET + position channels) · R, where R is the product of the rotation channels'
 * elementary rotations (degrees) in the order the CHANNELS line lists them, left to right —
 * "Zrotation Xrotation Yrotation" is R = Rz · Rx · Ry, i.e. intrinsic rotations about the
 * joint's successively rotated axes. The translation is in the parent's frame: world =
 * parent_world · local. (Blender's importer takes root position channels as absolute instead
 * of added to OFFSET; the two agree whenever the root OFFSET is zero, as it is in most files.)
 * An End Site is a joint without channels, kept as `<parent>_end`.
 *
 * Convention: BVH has no declared axes or unit; files are almost always y-up, right-handed,
 * in centimetres (some in metres, millimetres or inches). Frames from bvhFrame declare
 * `{Y_UP, RIGHT_HANDED, unit}` with the unit the caller gives (centimetres by default), and
 * carry positions in file units, so the ingest's axis conversion brings them to REP-103 metres.
 *
 * Hostile input: the parser is iterative (a 100k-level hierarchy is a depth error, not a stack
 * overflow), bounded by BvhLimits (input size, joints, depth, frames, motion values, line
 * length, magnitude of every number), and every failure is a BvhParseError naming the line.
 */

export const BVH_CHANNELS = ["Xposition", "Yposition", "Zposition", "Xrotation", "Yrotation", "Zrotation"] as const;
export type BvhChannel = (typeof BVH_CHANNELS)[number];

export type BvhErrorKind =
  /** No content at all. */
  | "empty"
  /** HIERARCHY, ROOT or MOTION (or Frames / Frame Time) missing. */
  | "missing_section"
  /** A line that does not fit the grammar where it stands. */
  | "syntax"
  /** CHANNELS with a count that does not match its names, an unknown or repeated channel. */
  | "bad_channels"
  /** A token that is not a decimal number where one is needed. */
  | "bad_number"
  /** NaN, Infinity or a number that overflows. */
  | "non_finite"
  /** A finite number beyond BvhLimits.maxAbsValue. */
  | "out_of_range"
  | "too_many_joints"
  | "too_deep"
  /** Input, frame count, motion values or a line over the limits. */
  | "too_large"
  /** End of file inside the hierarchy, or fewer frames or values than declared. */
  | "truncated"
  /** More values on a frame line, or lines after the declared frames. */
  | "extra_data";

/**
 * A BVH file that cannot be read: `kind` says why, `line` (1-based) where. Code
 * "input_too_long" for limits, "bad_message" for everything else.
 */
export class BvhParseError extends InvalidInputError {
  readonly kind: BvhErrorKind;
  readonly line: number;
  constructor(kind: BvhErrorKind, line: number, message: string) {
    super(kind === "too_large" || kind === "too_many_joints" || kind === "too_deep" ? "input_too_long" : "bad_message", `BVH line ${line}: ${message}`);
    this.kind = kind;
    this.line = line;
  }
}

export interface BvhLimits {
  /** Characters of input parsed at all. */
  maxInputChars: number;
  /** Joints, End Sites included. */
  maxJoints: number;
  /** Nesting depth of the hierarchy (a root is depth 1). */
  maxDepth: number;
  maxFrames: number;
  /** Frames × channels: the Float64Array the motion is stored in. */
  maxMotionValues: number;
  /** Largest |number| accepted anywhere (keeps every sum of offsets finite). */
  maxAbsValue: number;
  /** Longest hierarchy line (characters). */
  maxHierarchyLineChars: number;
}

export const DEFAULT_BVH_LIMITS: Readonly<BvhLimits> = Object.freeze({
  maxInputChars: 256 << 20,
  maxJoints: 10_000,
  maxDepth: 1000,
  maxFrames: 10_000_000,
  maxMotionValues: 1 << 25,
  maxAbsValue: 1e9,
  maxHierarchyLineChars: 4096,
});

/** Longest token on a motion line; a line longer than channels × this is refused before it is split. */
const MAX_NUMBER_CHARS = 64;

export interface BvhJoint {
  /** As written; End Sites are named `<parent>_end`. */
  name: string;
  /** Index of the parent in BvhDocument.joints; −1 for a root. Parents come before children. */
  parent: number;
  /** In file units, in the parent's frame. */
  offset: Vector3;
  /** Empty for an End Site. */
  channels: BvhChannel[];
  /** Index of this joint's first channel within a motion frame. */
  channelStart: number;
  endSite: boolean;
  /** Line of its ROOT / JOINT / End Site keyword. */
  line: number;
}

export interface BvhDocument {
  /** Depth-first, as declared. */
  joints: BvhJoint[];
  channelCount: number;
  frameCount: number;
  frameTimeS: number;
  /** frameCount × channelCount values, row-major, as written (file units, degrees). */
  motion: Float64Array;
}

const DECIMAL = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const NON_FINITE_WORDS = /^[+-]?(?:nan|inf|infinity|1\.#inf|1\.#ind|1\.#qnan)$/i;
const WHITESPACE = /\s+/;

function resolveLimits(partial: Partial<BvhLimits>): BvhLimits {
  const out: BvhLimits = { ...DEFAULT_BVH_LIMITS };
  for (const key of Object.keys(DEFAULT_BVH_LIMITS) as (keyof BvhLimits)[]) {
    const v = partial[key];
    if (v === undefined) continue;
    if (typeof v !== "number" || !(v > 0) || (key !== "maxAbsValue" && !Number.isSafeInteger(v)) || !Number.isFinite(v)) {
      throw new InvalidInputError("bad_argument", `BVH limit ${key} must be a positive ${key === "maxAbsValue" ? "number" : "integer"}, got ${String(v)}`);
    }
    out[key] = v;
  }
  return out;
}

function shown(text: string): string {
  return JSON.stringify(text.length > 40 ? `${text.slice(0, 39)}…` : text);
}

/** Line-at-a-time reading without splitting the whole input. */
class LineReader {
  private pos = 0;
  /** 1-based number of the line last returned. */
  line = 0;
  constructor(private readonly text: string) {}

  /** The next line (without its end-of-line), or null at the end. */
  next(): string | null {
    const t = this.text;
    if (this.pos > t.length || (this.pos === t.length && this.line > 0 && t.charCodeAt(t.length - 1) === 10)) return null;
    let end = t.indexOf("\n", this.pos);
    if (end < 0) end = t.length;
    let s = t.slice(this.pos, end);
    if (s.length > 0 && s.charCodeAt(s.length - 1) === 13) s = s.slice(0, -1);
    this.pos = end + 1;
    this.line++;
    return s;
  }

  /** The next line with content (trimmed), or null at the end. */
  nextContent(): string | null {
    for (;;) {
      const s = this.next();
      if (s === null) return null;
      const trimmed = s.trim();
      if (trimmed.length > 0) return trimmed;
    }
  }
}

function parseNumber(token: string, line: number, what: string, limits: BvhLimits): number {
  if (!DECIMAL.test(token)) {
    if (NON_FINITE_WORDS.test(token)) throw new BvhParseError("non_finite", line, `${what} is ${shown(token)}, not a finite number`);
    throw new BvhParseError("bad_number", line, `${what} is ${shown(token)}, not a decimal number`);
  }
  const v = Number(token);
  if (!Number.isFinite(v)) throw new BvhParseError("non_finite", line, `${what} ${shown(token)} overflows a double`);
  if (Math.abs(v) > limits.maxAbsValue) throw new BvhParseError("out_of_range", line, `${what} ${shown(token)} is beyond ±${limits.maxAbsValue}`);
  return v;
}

const CHANNEL_BY_NAME = new Map<string, BvhChannel>(BVH_CHANNELS.map((c) => [c.toLowerCase(), c]));

interface Open {
  joint: number;
  hasOffset: boolean;
  hasChannels: boolean;
}

/** Parses BVH text. Throws BvhParseError (and nothing else) for any text. */
export function parseBvh(text: string, limits: Partial<BvhLimits> = {}): BvhDocument {
  const lim = resolveLimits(limits);
  if (typeof text !== "string") throw new BvhParseError("empty", 0, `expected text, got ${typeof text}`);
  if (text.length > lim.maxInputChars) throw new BvhParseError("too_large", 0, `the input is ${text.length} characters, more than maxInputChars ${lim.maxInputChars}`);
  const src = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  const r = new LineReader(src);
  const first = r.nextContent();
  if (first === null) throw new BvhParseError("empty", Math.max(1, r.line), "the file is empty");
  if (first.split(WHITESPACE)[0].toUpperCase() !== "HIERARCHY") {
    throw new BvhParseError("missing_section", r.line, `expected HIERARCHY, found ${shown(first)}`);
  }
  if (first.toUpperCase() !== "HIERARCHY") throw new BvhParseError("syntax", r.line, `unexpected text after HIERARCHY: ${shown(first)}`);

  const joints: BvhJoint[] = [];
  const stack: Open[] = [];
  /** A ROOT / JOINT / End Site waiting for its "{". */
  let pending: BvhJoint | null = null;
  let channelCount = 0;
  const top = (): Open | undefined => stack[stack.length - 1];

  const openPending = (line: number): void => {
    if (pending === null) throw new BvhParseError("syntax", line, "\"{\" without a ROOT, JOINT or End Site before it");
    if (stack.length >= lim.maxDepth) throw new BvhParseError("too_deep", line, `the hierarchy nests deeper than maxDepth ${lim.maxDepth}`);
    if (joints.length >= lim.maxJoints) throw new BvhParseError("too_many_joints", line, `more than maxJoints ${lim.maxJoints} joints`);
    joints.push(pending);
    stack.push({ joint: joints.length - 1, hasOffset: false, hasChannels: false });
    pending = null;
  };

  for (;;) {
    const line = r.nextContent();
    const n = r.line;
    if (line === null) {
      if (pending !== null) throw new BvhParseError("truncated", n, `end of file after ${pending.endSite ? "End Site" : `JOINT ${shown(pending.name)}`} (line ${pending.line}), before its "{"`);
      const t = top();
      if (t !== undefined) throw new BvhParseError("truncated", n, `end of file inside ${describe(joints[t.joint])} (line ${joints[t.joint].line}): ${stack.length} "{" not closed`);
      if (joints.length === 0) throw new BvhParseError("missing_section", n, "no ROOT in the HIERARCHY");
      throw new BvhParseError("missing_section", n, "no MOTION section");
    }
    if (line.length > lim.maxHierarchyLineChars) throw new BvhParseError("too_large", n, `a hierarchy line of ${line.length} characters, more than ${lim.maxHierarchyLineChars}`);
    const tokens = line.split(WHITESPACE);
    const kw = tokens[0].toUpperCase();
    if (pending !== null && kw !== "{") {
      throw new BvhParseError("syntax", n, `expected "{" after ${pending.endSite ? "End Site" : shown(pending.name)} (line ${pending.line}), found ${shown(line)}`);
    }
    if (kw === "ROOT" || kw === "JOINT") {
      const t = top();
      if (kw === "ROOT" && t !== undefined) throw new BvhParseError("syntax", n, `ROOT inside ${describe(joints[t.joint])}`);
      if (kw === "JOINT" && t === undefined) throw new BvhParseError("syntax", n, "JOINT outside any ROOT");
      if (t !== undefined && joints[t.joint].endSite) throw new BvhParseError("syntax", n, "JOINT inside an End Site");
      if (t !== undefined && !t.hasOffset) throw new BvhParseError("syntax", n, `${describe(joints[t.joint])} has a child before its OFFSET`);
      let nameTokens = tokens.slice(1);
      const opens = nameTokens.length > 0 && nameTokens[nameTokens.length - 1] === "{";
      if (opens) nameTokens = nameTokens.slice(0, -1);
      const name = nameTokens.join(" ");
      if (name.length === 0) throw new BvhParseError("syntax", n, `${kw} without a name`);
      pending = { name, parent: t === undefined ? -1 : t.joint, offset: { x: 0, y: 0, z: 0 }, channels: [], channelStart: channelCount, endSite: false, line: n };
      if (opens) openPending(n);
    } else if (kw === "END") {
      const t = top();
      if (tokens.length < 2 || tokens[1].toUpperCase() !== "SITE" || tokens.length > 3 || (tokens.length === 3 && tokens[2] !== "{")) {
        throw new BvhParseError("syntax", n, `expected "End Site", found ${shown(line)}`);
      }
      if (t === undefined) throw new BvhParseError("syntax", n, "End Site outside any ROOT");
      const parent = joints[t.joint];
      if (parent.endSite) throw new BvhParseError("syntax", n, "End Site inside an End Site");
      if (!t.hasOffset) throw new BvhParseError("syntax", n, `${describe(parent)} has an End Site before its OFFSET`);
      pending = { name: `${parent.name}_end`, parent: t.joint, offset: { x: 0, y: 0, z: 0 }, channels: [], channelStart: channelCount, endSite: true, line: n };
      if (tokens.length === 3) openPending(n);
    } else if (kw === "{") {
      if (tokens.length > 1) throw new BvhParseError("syntax", n, `unexpected text after "{": ${shown(line)}`);
      openPending(n);
    } else if (kw === "}") {
      if (tokens.length > 1) throw new BvhParseError("syntax", n, `unexpected text after "}": ${shown(line)}`);
      const t = stack.pop();
      if (t === undefined) throw new BvhParseError("syntax", n, "\"}\" without a matching \"{\"");
      const j = joints[t.joint];
      if (!t.hasOffset) throw new BvhParseError("syntax", n, `${describe(j)} (line ${j.line}) has no OFFSET`);
      if (!j.endSite && !t.hasChannels) throw new BvhParseError("bad_channels", n, `${describe(j)} (line ${j.line}) has no CHANNELS`);
    } else if (kw === "OFFSET") {
      const t = top();
      if (t === undefined) throw new BvhParseError("syntax", n, "OFFSET outside any joint");
      if (t.hasOffset) throw new BvhParseError("syntax", n, `a second OFFSET in ${describe(joints[t.joint])}`);
      if (t.hasChannels) throw new BvhParseError("syntax", n, `OFFSET after CHANNELS in ${describe(joints[t.joint])}`);
      if (tokens.length !== 4) throw new BvhParseError("syntax", n, `OFFSET needs 3 numbers, found ${tokens.length - 1}`);
      joints[t.joint].offset = {
        x: parseNumber(tokens[1], n, "OFFSET x", lim), y: parseNumber(tokens[2], n, "OFFSET y", lim), z: parseNumber(tokens[3], n, "OFFSET z", lim),
      };
      t.hasOffset = true;
    } else if (kw === "CHANNELS") {
      const t = top();
      if (t === undefined) throw new BvhParseError("syntax", n, "CHANNELS outside any joint");
      const j = joints[t.joint];
      if (j.endSite) throw new BvhParseError("bad_channels", n, "CHANNELS in an End Site");
      if (t.hasChannels) throw new BvhParseError("bad_channels", n, `a second CHANNELS in ${describe(j)}`);
      if (!t.hasOffset) throw new BvhParseError("syntax", n, `CHANNELS before OFFSET in ${describe(j)}`);
      const count = tokens.length > 1 && /^\d{1,2}$/.test(tokens[1]) ? Number(tokens[1]) : NaN;
      if (!(count >= 0 && count <= 6)) throw new BvhParseError("bad_channels", n, `CHANNELS count must be 0 to 6, found ${shown(tokens[1] ?? "")}`);
      const names = tokens.slice(2);
      if (names.length !== count) throw new BvhParseError("bad_channels", n, `CHANNELS ${count} lists ${names.length} channel names`);
      for (const nm of names) {
        const c = CHANNEL_BY_NAME.get(nm.toLowerCase());
        if (c === undefined) throw new BvhParseError("bad_channels", n, `unknown channel ${shown(nm)} (expected ${BVH_CHANNELS.join(", ")})`);
        if (j.channels.includes(c)) throw new BvhParseError("bad_channels", n, `channel ${c} listed twice`);
        j.channels.push(c);
      }
      j.channelStart = channelCount;
      channelCount += count;
      t.hasChannels = true;
    } else if (kw === "MOTION") {
      if (tokens.length > 1) throw new BvhParseError("syntax", n, `unexpected text after MOTION: ${shown(line)}`);
      const t = top();
      if (t !== undefined) throw new BvhParseError("truncated", n, `MOTION inside ${describe(joints[t.joint])} (line ${joints[t.joint].line}): ${stack.length} "{" not closed`);
      if (joints.length === 0) throw new BvhParseError("missing_section", n, "MOTION before any ROOT");
      break;
    } else {
      throw new BvhParseError("syntax", n, `unexpected ${shown(line)} in the HIERARCHY`);
    }
  }

  // ---- MOTION ----
  const framesLine = r.nextContent();
  if (framesLine === null) throw new BvhParseError("missing_section", r.line, "MOTION without a \"Frames:\" line");
  const fm = /^frames:\s*(\S*)$/i.exec(framesLine);
  if (!fm) throw new BvhParseError("missing_section", r.line, `expected "Frames: N", found ${shown(framesLine)}`);
  if (!/^\d+$/.test(fm[1])) throw new BvhParseError("bad_number", r.line, `Frames must be a non-negative integer, found ${shown(fm[1])}`);
  const frameCount = Number(fm[1]);
  if (!Number.isSafeInteger(frameCount) || frameCount > lim.maxFrames) throw new BvhParseError("too_large", r.line, `Frames ${shown(fm[1])} is more than maxFrames ${lim.maxFrames}`);
  if (frameCount * channelCount > lim.maxMotionValues) {
    throw new BvhParseError("too_large", r.line, `${frameCount} frames × ${channelCount} channels is more than maxMotionValues ${lim.maxMotionValues}`);
  }
  const timeLine = r.nextContent();
  if (timeLine === null) throw new BvhParseError("missing_section", r.line, "no \"Frame Time:\" line");
  const tm = /^frame\s+time:\s*(\S*)$/i.exec(timeLine);
  if (!tm) throw new BvhParseError("missing_section", r.line, `expected "Frame Time: T", found ${shown(timeLine)}`);
  const frameTimeS = parseNumber(tm[1], r.line, "Frame Time", lim);
  if (!(frameTimeS > 0) || frameTimeS > 3600) throw new BvhParseError("out_of_range", r.line, `Frame Time must be in (0, 3600] seconds, found ${shown(tm[1])}`);

  const motion = new Float64Array(frameCount * channelCount);
  const maxLine = channelCount * (MAX_NUMBER_CHARS + 8) + 1024;
  for (let f = 0; f < frameCount; f++) {
    let line: string | null;
    do {
      line = r.next();
      if (line === null) throw new BvhParseError("truncated", r.line, `the file ends after ${f} of the ${frameCount} frames it declares`);
    } while (channelCount > 0 && line.trim().length === 0);
    const n = r.line;
    if (line.length > maxLine) throw new BvhParseError("too_large", n, `frame ${f} is a line of ${line.length} characters, more than ${maxLine} for ${channelCount} channels`);
    const trimmed = line.trim();
    const values = trimmed.length === 0 ? [] : trimmed.split(WHITESPACE);
    if (values.length < channelCount) throw new BvhParseError("truncated", n, `frame ${f} has ${values.length} values, the hierarchy has ${channelCount} channels`);
    if (values.length > channelCount) throw new BvhParseError("extra_data", n, `frame ${f} has ${values.length} values, the hierarchy has ${channelCount} channels`);
    const base = f * channelCount;
    for (let c = 0; c < channelCount; c++) motion[base + c] = parseNumber(values[c], n, `frame ${f} value ${c + 1}`, lim);
  }
  const rest = r.nextContent();
  if (rest !== null) throw new BvhParseError("extra_data", r.line, `data after the ${frameCount} frames the file declares: ${shown(rest)}`);
  return { joints, channelCount, frameCount, frameTimeS, motion };
}

function describe(j: BvhJoint): string {
  return j.endSite ? `the End Site of ${shown(j.name.slice(0, -4))}` : `${j.parent < 0 ? "ROOT" : "JOINT"} ${shown(j.name)}`;
}

// ---- forward kinematics -------------------------------------------------------------------

/** World poses of every joint in one frame, file units: positions [x, y, z] and orientations [x, y, z, w] per joint. */
export interface BvhPose {
  positions: Float64Array;
  orientations: Float64Array;
}

/** A pose buffer for `doc` (reuse it across frames: bvhForwardKinematics allocates nothing). */
export function bvhPoseBuffer(doc: BvhDocument): BvhPose {
  return { positions: new Float64Array(doc.joints.length * 3), orientations: new Float64Array(doc.joints.length * 4) };
}

const DEG = Math.PI / 180;

/**
 * Forward kinematics of frame `frame`: each joint's world position and orientation (the
 * rotation of its frame into the world), in file units and axes. Allocation-free with `out`.
 */
export function bvhForwardKinematics(doc: BvhDocument, frame: number, out: BvhPose = bvhPoseBuffer(doc)): BvhPose {
  if (!Number.isInteger(frame) || frame < 0 || frame >= doc.frameCount) {
    throw new InvalidInputError("bad_argument", `frame ${frame} is not one of the ${doc.frameCount} frames`);
  }
  const P = out.positions, Q = out.orientations;
  const base = frame * doc.channelCount;
  const m = doc.motion;
  for (let j = 0; j < doc.joints.length; j++) {
    const joint = doc.joints[j];
    let tx = joint.offset.x, ty = joint.offset.y, tz = joint.offset.z;
    let qx = 0, qy = 0, qz = 0, qw = 1;
    const ch = joint.channels;
    for (let c = 0; c < ch.length; c++) {
      const v = m[base + joint.channelStart + c];
      switch (ch[c]) {
        case "Xposition": tx += v; break;
        case "Yposition": ty += v; break;
        case "Zposition": tz += v; break;
        default: {
          // q ← q ⊗ (rotation of v degrees about the channel's axis): the next rotation is about the rotated axis.
          const h = (v * DEG) / 2;
          const s = Math.sin(h), w = Math.cos(h);
          const ax = ch[c] === "Xrotation" ? s : 0, ay = ch[c] === "Yrotation" ? s : 0, az = ch[c] === "Zrotation" ? s : 0;
          const nx = qw * ax + qx * w + qy * az - qz * ay;
          const ny = qw * ay - qx * az + qy * w + qz * ax;
          const nz = qw * az + qx * ay - qy * ax + qz * w;
          const nw = qw * w - qx * ax - qy * ay - qz * az;
          qx = nx; qy = ny; qz = nz; qw = nw;
        }
      }
    }
    const p = joint.parent;
    if (p < 0) {
      P[3 * j] = tx; P[3 * j + 1] = ty; P[3 * j + 2] = tz;
      Q[4 * j] = qx; Q[4 * j + 1] = qy; Q[4 * j + 2] = qz; Q[4 * j + 3] = qw;
      continue;
    }
    const px = Q[4 * p], py = Q[4 * p + 1], pz = Q[4 * p + 2], pw = Q[4 * p + 3];
    // Parent rotation applied to the local translation: t + 2w(u × t) + 2u × (u × t).
    const cx = 2 * (py * tz - pz * ty), cy = 2 * (pz * tx - px * tz), cz = 2 * (px * ty - py * tx);
    P[3 * j] = P[3 * p] + tx + pw * cx + (py * cz - pz * cy);
    P[3 * j + 1] = P[3 * p + 1] + ty + pw * cy + (pz * cx - px * cz);
    P[3 * j + 2] = P[3 * p + 2] + tz + pw * cz + (px * cy - py * cx);
    Q[4 * j] = pw * qx + px * qw + py * qz - pz * qy;
    Q[4 * j + 1] = pw * qy - px * qz + py * qw + pz * qx;
    Q[4 * j + 2] = pw * qz + px * qy - py * qx + pz * qw;
    Q[4 * j + 3] = pw * qw - px * qx - py * qy - pz * qz;
  }
  return out;
}

// ---- MocapFrame ---------------------------------------------------------------------------

export interface BvhFrameOptions {
  /** The file's length unit (BVH does not say; centimetres are usual). */
  unit: LengthUnit;
  upAxis: UpAxis;
  handedness: Handedness;
  streamId: string;
  skeletonId: number;
  skeletonName: string;
  /** frame_number of the first frame. */
  firstFrameNumber: bigint;
  /** device_timestamp_ns of the first frame; frame i is at + round(i × Frame Time). */
  startDeviceNs: bigint;
  /** Keep End Sites as joints (`<parent>_end`). */
  includeEndSites: boolean;
}

export const DEFAULT_BVH_FRAME_OPTIONS: Readonly<BvhFrameOptions> = Object.freeze({
  unit: LengthUnit.CENTIMETERS,
  upAxis: UpAxis.Y_UP,
  handedness: Handedness.RIGHT_HANDED,
  streamId: "bvh",
  skeletonId: 1,
  skeletonName: "bvh",
  firstFrameNumber: 0n,
  startDeviceNs: 0n,
  includeEndSites: true,
});

/**
 * Turns a parsed file into MocapFrames: one skeleton with the joints' world positions and
 * orientations (file units and axes, declared in `axes`), parents as indices, all tracked.
 * Reuses one FK buffer; each frame is built from fresh objects.
 */
export class BvhFrameBuilder {
  readonly options: Readonly<BvhFrameOptions>;
  readonly axes: Readonly<AxisConvention>;
  /** Joints kept, as indices into doc.joints. */
  private readonly kept: number[];
  /** Parent of each kept joint as an index into `kept`, −1 for roots. */
  private readonly parents: number[];
  private readonly pose: BvhPose;

  constructor(readonly doc: BvhDocument, options: Partial<BvhFrameOptions> = {}) {
    const o = { ...DEFAULT_BVH_FRAME_OPTIONS, ...options };
    if (![LengthUnit.METERS, LengthUnit.CENTIMETERS, LengthUnit.MILLIMETERS].includes(o.unit as 1 | 2 | 3)) throw new InvalidInputError("bad_argument", `unit must be METERS, CENTIMETERS or MILLIMETERS, got ${String(o.unit)}`);
    if (o.upAxis !== UpAxis.Y_UP && o.upAxis !== UpAxis.Z_UP) throw new InvalidInputError("bad_argument", `upAxis must be Y_UP or Z_UP, got ${String(o.upAxis)}`);
    if (o.handedness !== Handedness.RIGHT_HANDED && o.handedness !== Handedness.LEFT_HANDED) throw new InvalidInputError("bad_argument", `handedness must be RIGHT_HANDED or LEFT_HANDED, got ${String(o.handedness)}`);
    if (typeof o.firstFrameNumber !== "bigint" || o.firstFrameNumber < 0n) throw new InvalidInputError("bad_argument", "firstFrameNumber must be a bigint ≥ 0");
    if (typeof o.startDeviceNs !== "bigint" || o.startDeviceNs < 0n) throw new InvalidInputError("bad_argument", "startDeviceNs must be a bigint ≥ 0");
    if (!Number.isInteger(o.skeletonId) || o.skeletonId < 0 || o.skeletonId > 0xffffffff) throw new InvalidInputError("bad_argument", "skeletonId must be a uint32");
    this.options = Object.freeze(o);
    this.axes = Object.freeze({ up_axis: o.upAxis, handedness: o.handedness, unit: o.unit });
    const newIndex = new Int32Array(doc.joints.length).fill(-1);
    this.kept = [];
    this.parents = [];
    doc.joints.forEach((j, i) => {
      if (j.endSite && !o.includeEndSites) return;
      newIndex[i] = this.kept.length;
      this.kept.push(i);
      this.parents.push(j.parent < 0 ? -1 : newIndex[j.parent]);
    });
    this.pose = bvhPoseBuffer(doc);
  }

  /** Joints per frame. */
  get jointCount(): number {
    return this.kept.length;
  }

  /** Device time of frame i. */
  deviceTimeNs(i: number): bigint {
    return this.options.startDeviceNs + BigInt(Math.round(i * this.doc.frameTimeS * 1e9));
  }

  frame(i: number): MocapFrame {
    const p = bvhForwardKinematics(this.doc, i, this.pose);
    const P = p.positions, Q = p.orientations;
    const joints: Joint[] = this.kept.map((j, k) => ({
      name: this.doc.joints[j].name,
      parent: this.parents[k],
      position: { x: P[3 * j], y: P[3 * j + 1], z: P[3 * j + 2] },
      orientation: { x: Q[4 * j], y: Q[4 * j + 1], z: Q[4 * j + 2], w: Q[4 * j + 3] },
      tracked: true,
    }));
    const o = this.options;
    return {
      stream_id: o.streamId,
      frame_number: o.firstFrameNumber + BigInt(i),
      device_timestamp_ns: this.deviceTimeNs(i),
      system_latency_ms: 0,
      axes: { ...this.axes },
      rigid_bodies: [],
      markers: [],
      skeletons: [{ id: o.skeletonId, name: o.skeletonName, joints }],
    };
  }

  *frames(): Generator<MocapFrame> {
    for (let i = 0; i < this.doc.frameCount; i++) yield this.frame(i);
  }
}

// ---- writer -------------------------------------------------------------------------------

function num(v: number): string {
  // String() is the shortest text that reads back as the same double; −0 keeps its sign.
  return Object.is(v, -0) ? "-0" : String(v);
}

/**
 * BVH text for a document: parseBvh(formatBvh(doc)) gives the same joints, channels and
 * motion, value for value. End Sites are written as End Site blocks (their names are implied).
 * Iterative, like the parser. Throws InvalidInputError when `doc` is not a tree in
 * depth-first order or a joint's name or channels cannot be written.
 */
export function formatBvh(doc: BvhDocument): string {
  const out: string[] = ["HIERARCHY"];
  const open: number[] = [];
  const indent = () => "\t".repeat(open.length);
  let channels = 0;
  for (let j = 0; j < doc.joints.length; j++) {
    const joint = doc.joints[j];
    while (open.length > 0 && open[open.length - 1] !== joint.parent) {
      open.pop();
      out.push(`${indent()}}`);
    }
    if ((joint.parent < 0) !== (open.length === 0) || (joint.parent >= 0 && doc.joints[joint.parent].endSite)) {
      throw new InvalidInputError("bad_argument", `joint ${j} (${JSON.stringify(joint.name)}) is not in depth-first order under its parent ${joint.parent}`);
    }
    if (joint.endSite) {
      out.push(`${indent()}End Site`);
    } else {
      if (joint.name.trim() !== joint.name || joint.name.length === 0 || /[\r\n{}]/.test(joint.name)) {
        throw new InvalidInputError("bad_argument", `joint name ${JSON.stringify(joint.name)} cannot be written to BVH`);
      }
      out.push(`${indent()}${joint.parent < 0 ? "ROOT" : "JOINT"} ${joint.name}`);
    }
    out.push(`${indent()}{`);
    open.push(j);
    out.push(`${indent()}OFFSET ${num(joint.offset.x)} ${num(joint.offset.y)} ${num(joint.offset.z)}`);
    if (!joint.endSite) {
      if (joint.channelStart !== channels) throw new InvalidInputError("bad_argument", `joint ${j}'s channels start at ${joint.channelStart}, not ${channels}`);
      out.push(`${indent()}CHANNELS ${joint.channels.length}${joint.channels.map((c) => ` ${c}`).join("")}`);
      channels += joint.channels.length;
    }
  }
  while (open.length > 0) {
    open.pop();
    out.push(`${indent()}}`);
  }
  if (channels !== doc.channelCount) throw new InvalidInputError("bad_argument", `the joints declare ${channels} channels, the document ${doc.channelCount}`);
  out.push("MOTION", `Frames: ${doc.frameCount}`, `Frame Time: ${num(doc.frameTimeS)}`);
  for (let f = 0; f < doc.frameCount; f++) {
    const row: string[] = [];
    for (let c = 0; c < doc.channelCount; c++) row.push(num(doc.motion[f * doc.channelCount + c]));
    out.push(row.join(" "));
  }
  return `${out.join("\n")}\n`;
}
