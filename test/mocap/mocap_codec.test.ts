import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import protobuf from "protobufjs";
import descriptor from "protobufjs/ext/descriptor.js";
import { describe, expect, it } from "vitest";
import {
  decodeMocapFrame, decodeRecorderControl, DEFAULT_MOCAP_LIMITS, encodeMocapFrame, encodeRecorderControl, mocapFileDescriptorSet,
  MocapPayloadError, MOCAP_FRAME_TYPE, resolveMocapLimits, type MocapPayloadErrorCode,
} from "../../src/mocap/mocap_codec.js";
import { RecorderControl_Command, UpAxis } from "../../src/msgs/mocap_proto.js";
import { body, frame, lenField, nested, varint } from "./mocap_fixtures.js";

function codeOf(f: () => unknown): MocapPayloadErrorCode | "none" {
  try {
    f();
    return "none";
  } catch (e) {
    if (!(e instanceof MocapPayloadError)) throw e;
    return e.code;
  }
}

describe("mocap codec: round trips", () => {
  it("a full frame (bodies, markers, skeleton, float32 fields at float32 precision) comes back equal", () => {
    const f = frame(12345, { system_latency_ms: 3.25 });
    f.rigid_bodies[0].mean_marker_error = 0.5;
    f.markers[0].residual = 0.25;
    f.rigid_bodies.push(body(9, "lost", 0, 0, 0, { x: 0, y: 0, z: 0, w: 0 }, false));
    const back = decodeMocapFrame(encodeMocapFrame(f));
    expect(back).toEqual(f);
  });

  it("uint64 frame numbers and stamps are exact beyond 2^53: 2^63 + 1 and 2^64 − 1 round trip", () => {
    for (const v of [2n ** 63n + 1n, 2n ** 64n - 1n, 2n ** 53n + 1n, 1n, 0n]) {
      const f = frame(0, { frame_number: v, device_timestamp_ns: v });
      const back = decodeMocapFrame(encodeMocapFrame(f));
      expect(back.frame_number).toBe(v);
      expect(back.device_timestamp_ns).toBe(v);
    }
  });

  it("decodes 2^63 + 1 from bytes written without protobufjs (the reader, not only the writer, is exact)", () => {
    const v = 2n ** 63n + 1n;
    const bytes = new Uint8Array([...lenField(1, [0x61]), 0x10, ...varint(v), 0x18, ...varint(2n ** 64n - 1n)]);
    const f = decodeMocapFrame(bytes);
    expect(f.stream_id).toBe("a");
    expect(f.frame_number).toBe(v);
    expect(f.device_timestamp_ns).toBe(2n ** 64n - 1n);
  });

  it("writes the same uint64 bits stock protobufjs reads (its Long), so other decoders agree", () => {
    const root = protobuf.parse(`syntax = "proto3"; message F { string stream_id = 1; uint64 frame_number = 2; }`, { keepCase: true }).root;
    const m = root.lookupType("F").decode(encodeMocapFrame(frame(0, { frame_number: 2n ** 63n + 1n }))) as unknown as { frame_number: { toString(): string } };
    expect(BigInt(m.frame_number.toString())).toBe(2n ** 63n + 1n);
  });

  it("refuses to encode a uint64 outside [0, 2^64)", () => {
    expect(() => encodeMocapFrame(frame(0, { frame_number: 2n ** 64n }))).toThrow(/does not fit/);
    expect(() => encodeMocapFrame(frame(0, { frame_number: -1n }))).toThrow(/does not fit/);
  });

  it("fills proto3 defaults: an empty payload is an all-default frame, a missing orientation is (0, 0, 0, 0)", () => {
    const empty = decodeMocapFrame(new Uint8Array(0));
    expect(empty).toEqual({
      stream_id: "", frame_number: 0n, device_timestamp_ns: 0n, system_latency_ms: 0,
      axes: { up_axis: 0, handedness: 0, unit: 0 }, rigid_bodies: [], markers: [], skeletons: [],
    });
    const bytes = new Uint8Array([...lenField(6, [0x08, 0x05])]); // one rigid body with only id 5
    expect(decodeMocapFrame(bytes).rigid_bodies).toEqual([
      { id: 5, name: "", position: { x: 0, y: 0, z: 0 }, orientation: { x: 0, y: 0, z: 0, w: 0 }, mean_marker_error: 0, tracked: false },
    ]);
  });

  it("accepts a Buffer and a subarray view with an offset", () => {
    const bytes = encodeMocapFrame(frame(3));
    const padded = new Uint8Array(bytes.length + 10);
    padded.set(bytes, 7);
    expect(decodeMocapFrame(padded.subarray(7, 7 + bytes.length)).frame_number).toBe(3n);
    expect(decodeMocapFrame(Buffer.from(bytes)).frame_number).toBe(3n);
  });

  it("RecorderControl round-trips, seed, stamp and sequence exact to 2^64 − 1", () => {
    const c = {
      command: RecorderControl_Command.START, task: "put the mug left of the bowl", operator: "ana", seed: 2n ** 64n - 1n,
      issued_at_ns: 1_767_225_600_123_456_789n, sequence: 2n ** 64n - 1n, sender: "pedal-1",
    };
    expect(decodeRecorderControl(encodeRecorderControl(c))).toEqual(c);
  });

  it("a RecorderControl from an older sender (no stamp, sequence or sender) decodes with them 0 and empty", () => {
    const c = decodeRecorderControl(encodeRecorderControl({ command: RecorderControl_Command.STOP }));
    expect(c).toEqual({ command: RecorderControl_Command.STOP, task: "", operator: "", seed: 0n, issued_at_ns: 0n, sequence: 0n, sender: "" });
  });
});

describe("mocap codec: hostile payloads", () => {
  it("checks the size before parsing: garbage over the limit is payload_too_large, not bad_message", () => {
    const big = new Uint8Array(DEFAULT_MOCAP_LIMITS.maxPayloadBytes + 1).fill(0xff);
    expect(codeOf(() => decodeMocapFrame(big))).toBe("payload_too_large");
    const limits = resolveMocapLimits({ maxPayloadBytes: 64 });
    expect(codeOf(() => decodeMocapFrame(new Uint8Array(65), limits))).toBe("payload_too_large");
    expect(codeOf(() => decodeMocapFrame(encodeMocapFrame(frame(1)), limits))).toBe("payload_too_large");
    const e = (() => { try { decodeMocapFrame(big); } catch (x) { return x as MocapPayloadError; } })()!;
    expect(e.byteLength).toBe(big.length);
    expect(e.message).toMatch(/1048577 bytes is over the 1048576-byte limit/);
  });

  it("a 10 MB payload of garbage is payload_too_large (the size is all that is looked at)", () => {
    expect(codeOf(() => decodeMocapFrame(new Uint8Array(10 * 1024 * 1024).fill(0xff)))).toBe("payload_too_large");
  });

  it("100k rigid bodies are bounded: over the byte limit by default, over maxRigidBodies when bytes are allowed", () => {
    const bodies = Array.from({ length: 100_000 }, (_, i) => body(i, "b"));
    const bytes = encodeMocapFrame(frame(1, { rigid_bodies: bodies }));
    expect(codeOf(() => decodeMocapFrame(bytes))).toBe("payload_too_large");
    const limits = resolveMocapLimits({ maxPayloadBytes: 64 << 20 });
    expect(() => decodeMocapFrame(bytes, limits)).toThrow(/maxRigidBodies 1024/);
    // Minimal bodies (2 bytes each) are counted, not just measured.
    const tiny = new Uint8Array(Array.from({ length: 2000 }, () => [0x32, 0x00]).flat());
    expect(() => decodeMocapFrame(tiny)).toThrow(/maxRigidBodies/);
    expect(decodeMocapFrame(tiny.subarray(0, 2048)).rigid_bodies).toHaveLength(1024);
  });

  it("bounds joints over all skeletons and the length of every string", () => {
    const joint = { name: "j", parent: -1, position: { x: 0, y: 0, z: 0 }, orientation: { x: 0, y: 0, z: 0, w: 1 }, tracked: true };
    const skeletons = Array.from({ length: 3 }, (_, i) => ({ id: i, name: "s", joints: Array.from({ length: 3000 }, () => ({ ...joint })) }));
    expect(() => decodeMocapFrame(encodeMocapFrame(frame(1, { skeletons })))).toThrow(/maxJoints 8192/);
    expect(() => decodeMocapFrame(encodeMocapFrame(frame(1, { stream_id: "x".repeat(1025) })))).toThrow(/maxStringBytes/);
    expect(decodeMocapFrame(encodeMocapFrame(frame(1, { stream_id: "x".repeat(1024) }))).stream_id).toHaveLength(1024);
  });

  it("wrong schema: a RecorderControl as a frame, a frame as a RecorderControl, unknown enum values, only unknown fields, groups", () => {
    const control = encodeRecorderControl({ command: 1, task: "t", operator: "o", seed: 3n });
    expect(codeOf(() => decodeMocapFrame(control))).toBe("wrong_schema");
    expect(codeOf(() => decodeRecorderControl(encodeMocapFrame(frame(1))))).toBe("wrong_schema");
    const axes7 = new Uint8Array(lenField(5, [0x08, 0x07]));
    expect(() => decodeMocapFrame(axes7)).toThrow(/up_axis has value 7/);
    expect(codeOf(() => decodeMocapFrame(new Uint8Array([0xa0, 0x06, 0x01])))).toBe("wrong_schema"); // field 100 only
    expect(codeOf(() => decodeMocapFrame(new TextEncoder().encode('{"frame_number": 1}')))).toBe("wrong_schema");
    // A position (Vector3 of doubles) carrying a length-delimited x.
    expect(codeOf(() => decodeMocapFrame(new Uint8Array(lenField(6, lenField(3, lenField(1, [1, 2]))))))).toBe("wrong_schema");
  });

  it("unknown fields next to known ones are skipped (a newer sender), not rejected", () => {
    const bytes = encodeMocapFrame(frame(42));
    const withUnknown = new Uint8Array([...bytes, 0xa0, 0x06, 0x01, ...lenField(101, [1, 2, 3])]);
    expect(decodeMocapFrame(withUnknown)).toEqual(decodeMocapFrame(bytes));
  });

  it("undecodable: truncations, overlong varints, wire types 6/7, field 0, lengths past the end, invalid UTF-8", () => {
    const bytes = encodeMocapFrame(frame(77));
    // Every prefix decodes (cut between fields) or is a MocapPayloadError (codeOf rethrows anything else).
    let bad = 0;
    for (let cut = 1; cut < bytes.length; cut++) if (codeOf(() => decodeMocapFrame(bytes.subarray(0, cut))) === "bad_message") bad++;
    expect(bad).toBeGreaterThan(bytes.length * 0.8);
    expect(codeOf(() => decodeMocapFrame(new Uint8Array([0x10, ...Array(10).fill(0xff), 0x01])))).toBe("bad_message");
    expect(codeOf(() => decodeMocapFrame(new Uint8Array([0x0f, 0x00])))).toBe("bad_message");
    expect(codeOf(() => decodeMocapFrame(new Uint8Array([0x06, 0x00])))).toBe("bad_message");
    expect(codeOf(() => decodeMocapFrame(new Uint8Array([0x00, 0x00])))).toBe("bad_message");
    expect(codeOf(() => decodeMocapFrame(new Uint8Array([0x0a, 0x7f, 0x61])))).toBe("bad_message");
    expect(codeOf(() => decodeMocapFrame(new Uint8Array(lenField(1, [0xc3, 0x28]))))).toBe("bad_message");
    expect(codeOf(() => decodeMocapFrame("not bytes" as unknown as Uint8Array))).toBe("bad_message");
  });

  it("deep nesting cannot recurse: 100k nested groups and 10k nested messages in an unknown field", () => {
    const groups = new Uint8Array([...Array(100_000).fill(0x7b)]); // field 15, start group, again and again
    expect(codeOf(() => decodeMocapFrame(groups))).toBe("wrong_schema");
    const deep = nested(100, 10_000);
    const head = encodeMocapFrame(frame(5));
    const bytes = new Uint8Array(head.length + deep.length);
    bytes.set(head);
    bytes.set(deep, head.length);
    expect(decodeMocapFrame(bytes).frame_number).toBe(5n);
  });

  it("limits must be positive integers", () => {
    expect(() => resolveMocapLimits({ maxPayloadBytes: 0 })).toThrow(/positive integer/);
    expect(() => resolveMocapLimits({ maxMarkers: Number.NaN })).toThrow(/positive integer/);
    expect(resolveMocapLimits({ maxMarkers: 5 }).maxMarkers).toBe(5);
  });
});

describe("mocapFileDescriptorSet", () => {
  const bytes = mocapFileDescriptorSet();

  it("decodes as a google.protobuf.FileDescriptorSet holding spatial_reward.mocap.MocapFrame with its fields", () => {
    const set = descriptor.FileDescriptorSet.decode(bytes) as unknown as {
      file: { name: string; package: string; syntax: string; messageType: { name: string; field: { name: string; number: number; type: number | string; label: number | string; typeName?: string; options?: { packed?: boolean } | null }[] }[] }[];
    };
    const file = set.file.find((f) => f.package === "spatial_reward.mocap")!;
    expect(file.syntax).toBe("proto3");
    const mf = file.messageType.find((m) => m.name === "MocapFrame")!;
    expect(mf.field.map((f) => [f.name, f.number])).toEqual([
      ["stream_id", 1], ["frame_number", 2], ["device_timestamp_ns", 3], ["system_latency_ms", 4],
      ["axes", 5], ["rigid_bodies", 6], ["markers", 7], ["skeletons", 8],
    ]);
    const types = descriptor.FieldDescriptorProto.lookupEnum("Type").values;
    expect(mf.field[1].type).toBe(types.TYPE_UINT64);
    expect(mf.field[5].typeName).toBe(".spatial_reward.mocap.RigidBody");
    expect((mf.field as { jsonName?: string }[]).map((f) => f.jsonName)).toEqual([
      "streamId", "frameNumber", "deviceTimestampNs", "systemLatencyMs", "axes", "rigidBodies", "markers", "skeletons",
    ]);
    // protoc would not write a packed option on a singular field; strict descriptor builders reject it.
    for (const m of file.messageType) for (const f of m.field) expect(f.options?.packed).toBeUndefined();
    expect(`${file.package}.${mf.name}`).toBe(MOCAP_FRAME_TYPE);
  });

  it("is enough to decode recorded frames (what an MCAP reader does with the channel schema), with and without keepCase", () => {
    const f = frame(99, { frame_number: 2n ** 63n + 1n });
    const T = protobuf.Root.fromDescriptor(bytes).lookupType(MOCAP_FRAME_TYPE);
    const m = T.toObject(T.decode(encodeMocapFrame(f)), { longs: String, enums: String }) as Record<string, unknown>;
    expect(m.frameNumber).toBe(String(2n ** 63n + 1n));
    expect((m.axes as Record<string, unknown>).upAxis).toBe("Z_UP");
    const K = protobuf.Root.fromDescriptor(bytes, { keepCase: true }).lookupType(MOCAP_FRAME_TYPE);
    const k = K.toObject(K.decode(encodeMocapFrame(f)), { longs: String, enums: Number }) as Record<string, unknown>;
    expect(k.frame_number).toBe(String(2n ** 63n + 1n));
    expect((k.axes as Record<string, unknown>).up_axis).toBe(UpAxis.Z_UP);
  });

  it("returns a fresh copy each call: writing to one does not change the next", () => {
    const before = Array.from(mocapFileDescriptorSet());
    const a = mocapFileDescriptorSet();
    a.fill(0);
    expect(Array.from(mocapFileDescriptorSet())).toEqual(before);
    expect(before.some((b) => b !== 0)).toBe(true);
  });
});

const PROTO_DIR = join(dirname(fileURLToPath(import.meta.url)), "../../msgs/proto");
const PROTOC_MISSING = spawnSync("protoc", ["--version"]).status === 0 ? "" : "protoc not on PATH (Debian protobuf-compiler)";

describe.skipIf(PROTOC_MISSING !== "")(`mocapFileDescriptorSet vs protoc${PROTOC_MISSING ? ` (skipped: ${PROTOC_MISSING})` : ""}`, () => {
  it("is byte for byte what protoc -I msgs/proto --descriptor_set_out writes for mocap.proto", () => {
    const dir = mkdtempSync(join(tmpdir(), "mocap-fds-"));
    try {
      const out = join(dir, "mocap.fds");
      const r = spawnSync("protoc", [`-I${PROTO_DIR}`, `--descriptor_set_out=${out}`, "mocap.proto"], { encoding: "utf8" });
      expect(r.stderr).toBe("");
      expect(mocapFileDescriptorSet()).toEqual(new Uint8Array(readFileSync(out)));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
