import { mulberry32 } from "../../src/random/mulberry32.js";
import type { BvhChannel } from "../../src/mocap/bvh.js";

/** A BVH skeleton and motion generated from a seed, with its own writer and an independent FK (3×3 matrices). */
export interface GeneratedJoint {
  name: string;
  parent: number;
  offset: [number, number, number];
  channels: BvhChannel[];
  endSite: boolean;
}

export interface GeneratedBvh {
  joints: GeneratedJoint[];
  channelCount: number;
  frames: number[][];
  frameTime: number;
  text: string;
}

/** 3×3 row-major matrix helpers, written from the definitions (not shared with the parser). */
type M3 = number[];
const I3: M3 = [1, 0, 0, 0, 1, 0, 0, 0, 1];
function mul(a: M3, b: M3): M3 {
  const o = new Array<number>(9).fill(0);
  for (let r = 0; r < 3; r++) for (let c = 0; c < 3; c++) for (let k = 0; k < 3; k++) o[3 * r + c] += a[3 * r + k] * b[3 * k + c];
  return o;
}
function apply(a: M3, v: number[]): number[] {
  return [0, 1, 2].map((r) => a[3 * r] * v[0] + a[3 * r + 1] * v[1] + a[3 * r + 2] * v[2]);
}
export function rotation(axis: "X" | "Y" | "Z", degrees: number): M3 {
  const t = (degrees * Math.PI) / 180, c = Math.cos(t), s = Math.sin(t);
  if (axis === "X") return [1, 0, 0, 0, c, -s, 0, s, c];
  if (axis === "Y") return [c, 0, s, 0, 1, 0, -s, 0, c];
  return [c, -s, 0, s, c, 0, 0, 0, 1];
}

/** World positions and rotation matrices of every joint for one frame: local = T(offset + position channels) · R₁R₂R₃ in channel order. */
export function referenceFk(joints: readonly GeneratedJoint[], values: readonly number[]): { p: number[][]; r: M3[] } {
  const p: number[][] = [], r: M3[] = [];
  let k = 0;
  for (const j of joints) {
    const t = [...j.offset];
    let local = I3;
    for (const c of j.channels) {
      const v = values[k++];
      if (c.endsWith("position")) t["XYZ".indexOf(c[0])] += v;
      else local = mul(local, rotation(c[0] as "X" | "Y" | "Z", v));
    }
    if (j.parent < 0) {
      p.push(t);
      r.push(local);
    } else {
      const tp = apply(r[j.parent], t);
      p.push([p[j.parent][0] + tp[0], p[j.parent][1] + tp[1], p[j.parent][2] + tp[2]]);
      r.push(mul(r[j.parent], local));
    }
  }
  return { p, r };
}

/**
 * `count` joints (End Sites included) in depth-first order: each joint's parent is on the path
 * from the root to the previous joint; a leaf joint gets an End Site when there is room. Every
 * joint has its 3 rotations in a random order; the root and some joints also have positions,
 * in random places among them. Text written with mixed indentation and line ends.
 */
export function generateBvh(seed: number, count: number, frames: number): GeneratedBvh {
  const rnd = mulberry32(seed);
  const uniform = (a: number, b: number) => a + (b - a) * rnd();
  const joints: GeneratedJoint[] = [];
  // + 0: Math.round gives −0 for small negatives, which would read back as +0.
  const round = (v: number) => Math.round(v * 1e4) / 1e4 + 0;
  const shuffle = <T>(xs: T[]) => {
    for (let i = xs.length - 1; i > 0; i--) {
      const j = Math.floor(rnd() * (i + 1));
      [xs[i], xs[j]] = [xs[j], xs[i]];
    }
    return xs;
  };
  const channelsFor = (positions: boolean): BvhChannel[] => {
    const rot = shuffle(["Xrotation", "Yrotation", "Zrotation"] as BvhChannel[]);
    if (!positions) return rot;
    const all = [...rot];
    for (const c of ["Xposition", "Yposition", "Zposition"] as BvhChannel[]) all.splice(Math.floor(rnd() * (all.length + 1)), 0, c);
    return all;
  };
  joints.push({ name: "Hips", parent: -1, offset: [0, round(uniform(80, 100)), 0], channels: channelsFor(true), endSite: false });
  while (joints.length < count) {
    // The path from the root to the last joint: the candidates for the next joint's parent.
    const path: number[] = [];
    for (let j = joints.length - 1; j >= 0; j = joints[j].parent) path.push(j);
    const open = path.filter((j) => !joints[j].endSite);
    const parent = open[Math.floor(rnd() * Math.min(open.length, 3))];
    const endSite = joints.length < count && rnd() < 0.2 && !joints.some((x) => x.parent === parent);
    const offset: [number, number, number] = [round(uniform(-20, 20)), round(uniform(-20, 20)), round(uniform(-20, 20))];
    if (endSite) joints.push({ name: `${joints[parent].name}_end`, parent, offset, channels: [], endSite: true });
    else joints.push({ name: `Joint${joints.length} ${rnd() < 0.2 ? "Left" : "Seg"}`.replace(" ", "_"), parent, offset, channels: channelsFor(rnd() < 0.15), endSite: false });
  }
  const channelCount = joints.reduce((s, j) => s + j.channels.length, 0);
  const values: number[][] = [];
  for (let f = 0; f < frames; f++) {
    const row: number[] = [];
    for (const j of joints) for (const c of j.channels) row.push(round(c.endsWith("position") ? uniform(-50, 50) : uniform(-180, 180)));
    values.push(row);
  }
  const frameTime = 1 / 120;
  // The writer: independent of formatBvh.
  const lines: string[] = ["HIERARCHY"];
  const stack: number[] = [];
  const pad = () => (rnd() < 0.5 ? "\t" : "  ").repeat(stack.length);
  joints.forEach((j, i) => {
    while (stack.length > 0 && stack[stack.length - 1] !== j.parent) {
      stack.pop();
      lines.push(`${pad()}}`);
    }
    lines.push(`${pad()}${j.endSite ? "End Site" : `${j.parent < 0 ? "ROOT" : "JOINT"} ${j.name}`}`);
    lines.push(`${pad()}{`);
    stack.push(i);
    lines.push(`${pad()}OFFSET ${j.offset.map((v) => v.toFixed(4)).join(rnd() < 0.5 ? " " : "\t")}`);
    if (!j.endSite) lines.push(`${pad()}CHANNELS ${j.channels.length} ${j.channels.join(" ")}`);
  });
  while (stack.length > 0) {
    stack.pop();
    lines.push(`${pad()}}`);
  }
  lines.push("MOTION", `Frames: ${frames}`, `Frame Time: ${frameTime.toFixed(7)}`);
  for (const row of values) lines.push(row.map((v) => v.toFixed(4)).join(" "));
  const text = lines.map((l) => (rnd() < 0.1 ? `${l}\r\n` : `${l}\n`)).join("");
  return { joints, channelCount, frames: values, frameTime: Number(frameTime.toFixed(7)), text };
}

