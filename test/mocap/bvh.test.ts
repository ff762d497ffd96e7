import { describe, expect, it } from "vitest";
import {
  BvhFrameBuilder, BvhParseError, bvhForwardKinematics, formatBvh, parseBvh, type BvhDocument, type BvhErrorKind, type BvhLimits,
} from "../../src/mocap/bvh.js";
import { decodeMocapFrame, encodeMocapFrame } from "../../src/mocap/mocap_codec.js";
import { MocapValidator } from "../../src/mocap/mocap_validator.js";
import { InvalidInputError } from "../../src/errors.js";
import { Handedness, LengthUnit, UpAxis } from "../../src/msgs/mocap_proto.js";
import { generateBvh, referenceFk } from "./bvh_fixtures.js";

/**
 * BVH import: a hand-written file with known rotations gives known world positions; a
 * generated 25-joint file matches an independent FK (3×3 matrices) and round trips through
 * the writer; frames go through the codec and the validator into REP-103 metres; hostile
 * files give BvhParseError with the line, never a crash or a hang.
 */

const SMALL = `HIERARCHY
ROOT Hips
{
  OFFSET 0 0 0
  CHANNELS 6 Xposition Yposition Zposition Zrotation Xrotation Yrotation
  JOINT Chest
  {
    OFFSET 0 10 0
    CHANNELS 3 Zrotation Xrotation Yrotation
    End Site
    {
      OFFSET 0 5 0
    }
  }
}
MOTION
Frames: 4
Frame Time: 0.04
0 0 0 0 0 0 0 0 0
1 2 3 90 0 0 0 0 0
0 0 0 0 0 90 90 0 0
0 0 0 90 90 0 0 0 0
`;

function positions(doc: BvhDocument, frame: number): number[][] {
  const p = bvhForwardKinematics(doc, frame).positions;
  return doc.joints.map((_, j) => [p[3 * j], p[3 * j + 1], p[3 * j + 2]].map((v) => Math.round(v * 1e9) / 1e9 + 0));
}

describe("parseBvh: a small hand-written file", () => {
  const doc = parseBvh(SMALL);

  it("reads the hierarchy, channels and motion", () => {
    expect(doc.joints.map((j) => [j.name, j.parent, j.endSite, j.channels.length, j.channelStart, j.line])).toEqual([
      ["Hips", -1, false, 6, 0, 2],
      ["Chest", 0, false, 3, 6, 6],
      ["Chest_end", 1, true, 0, 9, 10],
    ]);
    expect(doc.joints[1].offset).toEqual({ x: 0, y: 10, z: 0 });
    expect([doc.channelCount, doc.frameCount, doc.frameTimeS]).toEqual([9, 4, 0.04]);
    expect(Array.from(doc.motion.subarray(9, 18))).toEqual([1, 2, 3, 90, 0, 0, 0, 0, 0]);
  });

  it("gives known world positions: rest, root translation + yaw about z, root y rotation with a child z rotation, and intrinsic order", () => {
    expect(positions(doc, 0)).toEqual([[0, 0, 0], [0, 10, 0], [0, 15, 0]]);
    // Rz(90°) turns +y into −x.
    expect(positions(doc, 1)).toEqual([[1, 2, 3], [-9, 2, 3], [-14, 2, 3]]);
    // Root Ry(90°) keeps the chest on +y; the chest's Rz(90°) turns its +y into −x, and Ry(90°) turns −x into +z.
    expect(positions(doc, 2)).toEqual([[0, 0, 0], [0, 10, 0], [0, 10, 5]]);
    // "Zrotation Xrotation Yrotation" with Z = X = 90°: R = Rz·Rx takes +y to +z (Rx first on the vector), not to −x (Rx·Rz).
    expect(positions(doc, 3)).toEqual([[0, 0, 0], [0, 0, 10], [0, 0, 15]]);
    const swapped = parseBvh(SMALL.replace("Zposition Zrotation Xrotation Yrotation", "Zposition Xrotation Zrotation Yrotation"));
    expect(positions(swapped, 3)).toEqual([[0, 0, 0], [-10, 0, 0], [-15, 0, 0]]);
  });

  it("gives each joint's world orientation (the End Site's is its parent's)", () => {
    const q = bvhForwardKinematics(doc, 2).orientations;
    const s = Math.SQRT1_2;
    // Ry(90°) ⊗ Rz(90°) = (½, ½, ½, ½) as (x, y, z, w).
    expect(Array.from(q.subarray(0, 4)).map((v) => v + 0)).toEqual([0, expect.closeTo(s, 15), 0, expect.closeTo(s, 15)]);
    for (const v of q.subarray(4, 8)) expect(v).toBeCloseTo(0.5, 15);
    expect(Array.from(q.subarray(8, 12))).toEqual(Array.from(q.subarray(4, 8)));
  });

  it("reads CRLF line ends, a byte-order mark, tabs, braces on the keyword line and lower-case channel names", () => {
    const variant = `\uFEFF${SMALL.replace("ROOT Hips\n{", "ROOT Hips {").replace(/Yrotation/g, "yrotation").replace(/ {2}/g, "\t").replace(/\n/g, "\r\n")}`;
    const d = parseBvh(variant);
    expect(d.joints.map((j) => j.name)).toEqual(["Hips", "Chest", "Chest_end"]);
    expect(d.joints[0].channels).toEqual(doc.joints[0].channels);
    expect(Array.from(d.motion)).toEqual(Array.from(doc.motion));
  });

  it("names joints by the rest of their line (names with spaces) and accepts several roots", () => {
    const d = parseBvh(`HIERARCHY\nROOT Left Hand\n{\nOFFSET 1 2 3\nCHANNELS 0\n}\nROOT Prop\n{\nOFFSET 0 0 0\nCHANNELS 3 Xposition Yposition Zposition\n}\nMOTION\nFrames: 1\nFrame Time: 1\n4 5 6\n`);
    expect(d.joints.map((j) => [j.name, j.parent])).toEqual([["Left Hand", -1], ["Prop", -1]]);
    expect(positions(d, 0)).toEqual([[1, 2, 3], [4, 5, 6]]);
  });
});

describe("BVH with 25 generated joints", () => {
  const gen = generateBvh(20240611, 25, 12);
  const doc = parseBvh(gen.text);

  it("parses what was written: names, parents, offsets, channels in file order, motion", () => {
    expect(doc.joints).toHaveLength(25);
    expect(doc.joints.filter((j) => j.endSite).length).toBeGreaterThan(0);
    expect(doc.joints.map((j) => ({ name: j.name, parent: j.parent, endSite: j.endSite, channels: j.channels, offset: [j.offset.x, j.offset.y, j.offset.z] }))).toEqual(
      gen.joints.map((j) => ({ name: j.name, parent: j.parent, endSite: j.endSite, channels: j.channels, offset: j.offset })),
    );
    expect(doc.channelCount).toBe(gen.channelCount);
    expect(doc.frameCount).toBe(12);
    expect(doc.frameTimeS).toBe(gen.frameTime);
    for (let f = 0; f < 12; f++) expect(Array.from(doc.motion.subarray(f * doc.channelCount, (f + 1) * doc.channelCount))).toEqual(gen.frames[f]);
  });

  it("matches an independent forward kinematics (3×3 matrices) for every joint and frame", () => {
    let position = 0, rotation = 0;
    for (let f = 0; f < 12; f++) {
      const ref = referenceFk(gen.joints, gen.frames[f]);
      const fk = bvhForwardKinematics(doc, f);
      for (let j = 0; j < 25; j++) {
        for (let a = 0; a < 3; a++) position = Math.max(position, Math.abs(fk.positions[3 * j + a] - ref.p[j][a]));
        // The quaternion's matrix against the reference matrix.
        const [x, y, z, w] = Array.from(fk.orientations.subarray(4 * j, 4 * j + 4));
        const m = [
          1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y),
          2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x),
          2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y),
        ];
        for (let k = 0; k < 9; k++) rotation = Math.max(rotation, Math.abs(m[k] - ref.r[j][k]));
      }
    }
    expect(position).toBeLessThan(1e-9);
    expect(rotation).toBeLessThan(1e-12);
  });

  it("round trips through formatBvh exactly", () => {
    const again = parseBvh(formatBvh(doc));
    expect(again.joints.map(({ line: _, ...j }) => j)).toEqual(doc.joints.map(({ line: _, ...j }) => j));
    expect(again.motion).toEqual(doc.motion);
    expect([again.frameCount, again.frameTimeS, again.channelCount]).toEqual([doc.frameCount, doc.frameTimeS, doc.channelCount]);
    expect(formatBvh(again)).toBe(formatBvh(doc));
  });

  it("becomes MocapFrames that the codec and the validator turn into REP-103 metres (y-up cm → x = −z, y = −x, z = y, × 0.01)", () => {
    const builder = new BvhFrameBuilder(doc, { streamId: "walk", firstFrameNumber: 100n, startDeviceNs: 7_000_000_000n });
    expect(builder.jointCount).toBe(25);
    const v = new MocapValidator({ streamId: "walk" });
    const released = [];
    for (let f = 0; f < doc.frameCount; f++) {
      const frame = builder.frame(f);
      expect(frame.axes).toEqual({ up_axis: UpAxis.Y_UP, handedness: Handedness.RIGHT_HANDED, unit: LengthUnit.CENTIMETERS });
      expect(frame.frame_number).toBe(100n + BigInt(f));
      expect(frame.device_timestamp_ns).toBe(7_000_000_000n + BigInt(Math.round(f * gen.frameTime * 1e9)));
      released.push(...v.push(decodeMocapFrame(encodeMocapFrame(frame)), BigInt(f) * 8_000_000n));
    }
    released.push(...v.flush());
    expect(released).toHaveLength(12);
    expect(v.counters().joints_rejected + v.counters().skeletons_rejected).toBe(0);
    let position = 0, rotation = 0;
    released.forEach(({ frame }, f) => {
      const ref = referenceFk(gen.joints, gen.frames[f]);
      const joints = frame.skeletons[0].joints;
      joints.forEach((j, k) => {
        expect(j.parent).toBe(gen.joints[k].parent);
        const p = ref.p[k];
        position = Math.max(position, Math.hypot(j.position.x - -p[2] * 0.01, j.position.y - -p[0] * 0.01, j.position.z - p[1] * 0.01));
        const q = bvhForwardKinematics(doc, f).orientations;
        const want = { x: -q[4 * k + 2], y: -q[4 * k], z: q[4 * k + 1], w: q[4 * k + 3] };
        rotation = Math.max(rotation, 1 - Math.abs(want.x * j.orientation.x + want.y * j.orientation.y + want.z * j.orientation.z + want.w * j.orientation.w));
      });
    });
    expect(position).toBeLessThan(1e-9);
    expect(rotation).toBeLessThan(1e-12);
  });

  it("declares the unit and up axis it is given, and can leave End Sites out (parents re-indexed)", () => {
    const m = new BvhFrameBuilder(doc, { unit: LengthUnit.METERS, upAxis: UpAxis.Z_UP, includeEndSites: false });
    const frame = m.frame(3);
    expect(frame.axes).toEqual({ up_axis: UpAxis.Z_UP, handedness: Handedness.RIGHT_HANDED, unit: LengthUnit.METERS });
    const kept = doc.joints.filter((j) => !j.endSite);
    const joints = frame.skeletons[0].joints;
    expect(joints.map((j) => j.name)).toEqual(kept.map((j) => j.name));
    joints.forEach((j, k) => expect(j.parent < 0 ? null : joints[j.parent].name).toBe(kept[k].parent < 0 ? null : doc.joints[kept[k].parent].name));
    // Positions carried in file units, converted only by the declared mapping.
    const full = new BvhFrameBuilder(doc).frame(3).skeletons[0].joints.filter((j) => !j.name.endsWith("_end"));
    joints.forEach((j, k) => {
      expect(j.position).toEqual(full[k].position);
      expect(j.orientation).toEqual(full[k].orientation);
    });
    expect(() => new BvhFrameBuilder(doc, { unit: LengthUnit.LENGTH_UNIT_UNSPECIFIED })).toThrow(InvalidInputError);
    expect(() => new BvhFrameBuilder(doc, { upAxis: UpAxis.UP_AXIS_UNSPECIFIED })).toThrow(InvalidInputError);
    expect(() => bvhForwardKinematics(doc, 12)).toThrow(InvalidInputError);
  });
});

/** Expects parseBvh(text) to throw a BvhParseError of `kind` at `line`. */
function expectBvhError(text: string, kind: BvhErrorKind, line?: number, limits: Partial<BvhLimits> = {}): BvhParseError {
  let caught: unknown;
  try {
    parseBvh(text, limits);
  } catch (e) {
    caught = e;
  }
  expect(caught, `no error for ${JSON.stringify(text.slice(0, 80))}`).toBeInstanceOf(BvhParseError);
  const e = caught as BvhParseError;
  expect(e).toBeInstanceOf(InvalidInputError);
  expect(e.kind, e.message).toBe(kind);
  if (line !== undefined) expect(e.line, e.message).toBe(line);
  expect(e.message).toMatch(/^BVH line \d+: /);
  expect(e.code).toBe(["too_large", "too_many_joints", "too_deep"].includes(kind) ? "input_too_long" : "bad_message");
  return e;
}

const HEAD = "HIERARCHY\nROOT Hips\n{\nOFFSET 0 0 0\nCHANNELS 3 Xrotation Yrotation Zrotation\n}\nMOTION\nFrames: 2\nFrame Time: 0.01\n";

describe("parseBvh: hostile files", () => {
  it("empty, missing sections, wrong order", () => {
    expectBvhError("", "empty", 1);
    expectBvhError(" \n\t\n\r\n", "empty");
    expectBvhError("MOTION\nFrames: 0\nFrame Time: 1\n", "missing_section", 1);
    expectBvhError("\n\nHIERARCHY x\n", "syntax", 3);
    expectBvhError("HIERARCHY\n", "missing_section", 1);
    expectBvhError("HIERARCHY\nMOTION\nFrames: 0\nFrame Time: 1\n", "missing_section", 2);
    expectBvhError("HIERARCHY\nROOT a\n{\nOFFSET 0 0 0\nCHANNELS 0\n}\n", "missing_section");
    expectBvhError(HEAD.replace("Frames: 2\n", ""), "missing_section", 8);
    // At the end of the file the error names the last line.
    expectBvhError(HEAD.replace("Frame Time: 0.01\n", ""), "missing_section", 8);
    expectBvhError("HIERARCHY\nROOT a\n{\nOFFSET 0 0 0\nCHANNELS 0\n}\nMOTION\n", "missing_section");
  });

  it("structure: braces, keywords out of place, missing OFFSET or CHANNELS", () => {
    expectBvhError("HIERARCHY\nJOINT a\n{\n", "syntax", 2);
    expectBvhError("HIERARCHY\nROOT a\nOFFSET 0 0 0\n", "syntax", 3);
    expectBvhError("HIERARCHY\n{\n", "syntax", 2);
    expectBvhError("HIERARCHY\n}\n", "syntax", 2);
    expectBvhError("HIERARCHY\nROOT a\n{\nOFFSET 0 0 0\nCHANNELS 0\n}\n}\nMOTION\n", "syntax", 7);
    expectBvhError("HIERARCHY\nROOT a\n{\nOFFSET 0 0 0\nCHANNELS 0\nROOT b\n", "syntax", 6);
    expectBvhError("HIERARCHY\nROOT a\n{\nCHANNELS 0\n}\n", "syntax", 4);
    expectBvhError("HIERARCHY\nROOT a\n{\nOFFSET 0 0 0\n}\n", "bad_channels", 5);
    expectBvhError("HIERARCHY\nROOT a\n{\n}\n", "syntax", 4);
    expectBvhError("HIERARCHY\nROOT a\n{\nOFFSET 0 0 0\nOFFSET 0 0 0\n", "syntax", 5);
    expectBvhError("HIERARCHY\nROOT a\n{\nOFFSET 0 0 0\nCHANNELS 0\nEnd Site\n{\nOFFSET 0 0 0\nCHANNELS 0\n", "bad_channels", 9);
    expectBvhError("HIERARCHY\nROOT a\n{\nOFFSET 0 0 0\nCHANNELS 0\nEnd Site\n{\nOFFSET 0 0 0\nJOINT b\n", "syntax", 9);
    expectBvhError("HIERARCHY\nROOT\n", "syntax", 2);
    expectBvhError("HIERARCHY\nROOT a\n{\nOFFSET 0 0 0\nCHANNELS 0\nEnd\n", "syntax", 6);
    expectBvhError("HIERARCHY\nROOT a\n{\nOFFSET 0 0 0\nCHANNELS 0\nBANANA 1\n", "syntax", 6);
    expectBvhError("HIERARCHY\nROOT a\n{\nOFFSET 0 0 0\nCHANNELS 0\nJOINT b\n{\nOFFSET 0 0 0\nCHANNELS 0\n}\nMOTION\n", "truncated", 11);
    expectBvhError("HIERARCHY\nROOT a\n{\nOFFSET 0 0 0\nCHANNELS 0\nJOINT b\n", "truncated");
    expectBvhError("HIERARCHY\nROOT a\n{\nOFFSET 0 0 0\n", "truncated");
  });

  it("channels: wrong counts, unknown or repeated names", () => {
    const ch = (line: string) => `HIERARCHY\nROOT a\n{\nOFFSET 0 0 0\n${line}\n}\nMOTION\nFrames: 0\nFrame Time: 1\n`;
    expectBvhError(ch("CHANNELS 3 Xrotation Yrotation"), "bad_channels", 5);
    expectBvhError(ch("CHANNELS 2 Xrotation Yrotation Zrotation"), "bad_channels", 5);
    expectBvhError(ch("CHANNELS 7 Xrotation Yrotation Zrotation Xposition Yposition Zposition Xrotation"), "bad_channels", 5);
    expectBvhError(ch("CHANNELS -1"), "bad_channels", 5);
    expectBvhError(ch("CHANNELS three"), "bad_channels", 5);
    expectBvhError(ch("CHANNELS"), "bad_channels", 5);
    expectBvhError(ch("CHANNELS 1 Wrotation"), "bad_channels", 5);
    expectBvhError(ch("CHANNELS 2 Xrotation Xrotation"), "bad_channels", 5);
    expectBvhError(ch("CHANNELS 1 Xrotation\nCHANNELS 1 Yrotation"), "bad_channels", 6);
  });

  it("numbers: non-decimal, NaN, infinities, overflow, out of range", () => {
    const off = (v: string) => `HIERARCHY\nROOT a\n{\nOFFSET 0 ${v} 0\nCHANNELS 0\n}\nMOTION\nFrames: 0\nFrame Time: 1\n`;
    for (const v of ["nan", "NaN", "inf", "-Infinity", "1.#INF"]) expectBvhError(off(v), "non_finite", 4);
    expectBvhError(off("1e999"), "non_finite", 4);
    for (const v of ["abc", "0x10", "1.2.3", "--1", "1e", ".", "+", "1,5"]) expectBvhError(off(v), "bad_number", 4);
    expectBvhError(off("1e10"), "out_of_range", 4);
    expectBvhError("HIERARCHY\nROOT a\n{\nOFFSET 0 0\n", "syntax", 4);
    expectBvhError("HIERARCHY\nROOT a\n{\nOFFSET 0 0 0 0\n", "syntax", 4);
    expectBvhError(`${HEAD}1 2 3\n4 nan 6\n`, "non_finite", 11);
    expectBvhError(`${HEAD}1 2 3\n4 1e400 6\n`, "non_finite", 11);
    expectBvhError(`${HEAD}1 2 x\n4 5 6\n`, "bad_number", 10);
    expectBvhError(HEAD.replace("Frame Time: 0.01", "Frame Time: 0"), "out_of_range", 9);
    expectBvhError(HEAD.replace("Frame Time: 0.01", "Frame Time: -1"), "out_of_range", 9);
    expectBvhError(HEAD.replace("Frame Time: 0.01", "Frame Time: nan"), "non_finite", 9);
    expectBvhError(HEAD.replace("Frames: 2", "Frames: -1"), "bad_number", 8);
    expectBvhError(HEAD.replace("Frames: 2", "Frames: 2.5"), "bad_number", 8);
    expectBvhError(HEAD.replace("Frames: 2", "Frames: 99999999999999999999"), "too_large", 8);
  });

  it("motion: truncated lines and files, extra values and lines", () => {
    expectBvhError(`${HEAD}1 2 3\n`, "truncated");
    expectBvhError(`${HEAD}1 2 3`, "truncated");
    expectBvhError(`${HEAD}1 2 3\n4 5\n`, "truncated", 11);
    expectBvhError(`${HEAD}1 2 3\n4 5 6 7\n`, "extra_data", 11);
    expectBvhError(`${HEAD}1 2 3\n4 5 6\n7 8 9\n`, "extra_data", 12);
    expectBvhError(`${HEAD}1 2 3\n4 5 6\nMOTION\n`, "extra_data", 12);
    // Blank lines between frames and at the end are not data.
    expect(parseBvh(`${HEAD}1 2 3\n\n4 5 6\n\n\n`).frameCount).toBe(2);
    expect(parseBvh(`${HEAD}1 2 3\n4 5 6`).frameCount).toBe(2);
  });

  it("sizes: more than 10k joints, 100k levels deep (no stack overflow), huge lines and inputs", () => {
    const many = ["HIERARCHY", "ROOT r", "{", "OFFSET 0 0 0", "CHANNELS 0"];
    for (let i = 0; i < 10_001; i++) many.push(`JOINT j${i}`, "{", "OFFSET 0 1 0", "CHANNELS 0", "}");
    many.push("}", "MOTION", "Frames: 0", "Frame Time: 1");
    expectBvhError(many.join("\n"), "too_many_joints", 5 + 9999 * 5 + 2);
    const deep: string[] = ["HIERARCHY"];
    for (let i = 0; i < 100_000; i++) deep.push(i === 0 ? "ROOT r" : `JOINT j${i}`, "{", "OFFSET 0 1 0", "CHANNELS 1 Xrotation");
    const e = expectBvhError(deep.join("\n"), "too_deep", 1 + 1000 * 4 + 2);
    expect(e.message).toContain("maxDepth 1000");
    // Deep but within a raised limit: parsed iteratively.
    const d = parseBvh(`${deep.slice(0, 1 + 5000 * 4).join("\n")}\n${"}\n".repeat(5000)}MOTION\nFrames: 1\nFrame Time: 1\n${"1 ".repeat(5000)}\n`, { maxDepth: 10_000 });
    expect(d.joints).toHaveLength(5000);
    expect(bvhForwardKinematics(d, 0).positions.every(Number.isFinite)).toBe(true);
    expectBvhError(`HIERARCHY\nROOT ${"a".repeat(5000)}\n`, "too_large", 2);
    expectBvhError(`${HEAD}${"1 ".repeat(1_000_000)}\n`, "too_large", 10);
    expectBvhError(SMALL, "too_large", 0, { maxInputChars: 100 });
    expectBvhError(HEAD, "too_large", 8, { maxMotionValues: 5 });
    expectBvhError(HEAD, "too_large", 8, { maxFrames: 1 });
  });

  it("refuses bad limits and non-text input with typed errors", () => {
    expect(() => parseBvh(SMALL, { maxJoints: 0 })).toThrow(InvalidInputError);
    expect(() => parseBvh(SMALL, { maxDepth: 1.5 })).toThrow(InvalidInputError);
    expect(() => parseBvh(SMALL, { maxAbsValue: Infinity })).toThrow(InvalidInputError);
    expect(() => parseBvh(42 as unknown as string)).toThrow(BvhParseError);
  });
});
