import { readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { generateProtoTypes, parseProto, protoDeclarations, protoFieldType, tsName } from "../../msgs/codegen/generate_proto_types.js";
import { Handedness, LengthUnit, MOCAP_PROTO_TEXT, RecorderControl_Command, UpAxis } from "../../src/msgs/mocap_proto.js";

const root = join(dirname(fileURLToPath(import.meta.url)), "../..");
const protoPath = join(root, "msgs/proto/mocap.proto");
const generatedPath = join(root, "src/msgs/mocap_proto.ts");
const OPTIONS = { source: "msgs/proto/mocap.proto", textConstant: "MOCAP_PROTO_TEXT" };

describe("mocap proto types", () => {
  it("src/msgs/mocap_proto.ts is exactly what msgs/proto/mocap.proto generates (UPDATE_MSGS=1 rewrites it)", () => {
    const text = generateProtoTypes(readFileSync(protoPath, "utf8"), OPTIONS);
    if (process.env.UPDATE_MSGS === "1") writeFileSync(generatedPath, text);
    expect(readFileSync(generatedPath, "utf8")).toBe(text);
  });

  it("embeds the proto text verbatim", () => {
    expect(MOCAP_PROTO_TEXT).toBe(readFileSync(protoPath, "utf8"));
  });

  it("enum objects carry the values of the .proto", () => {
    const r = parseProto(MOCAP_PROTO_TEXT);
    expect(UpAxis).toEqual({ ...r.lookupEnum("spatial_reward.mocap.UpAxis").values });
    expect(Handedness).toEqual({ ...r.lookupEnum("spatial_reward.mocap.Handedness").values });
    expect(LengthUnit).toEqual({ ...r.lookupEnum("spatial_reward.mocap.LengthUnit").values });
    expect(RecorderControl_Command).toEqual({ ...r.lookupEnum("spatial_reward.mocap.RecorderControl.Command").values });
  });
});

describe("proto type generator", () => {
  const sample = [
    'syntax = "proto3";',
    "package demo.pkg;",
    "// A thing. */ not the end of the doc",
    "message Thing {",
    "  enum Kind { KIND_UNSPECIFIED = 0; BIG = 1; }",
    "  message Part { sint64 s = 1; }",
    "  // exact beyond 2^53",
    "  uint64 big_count = 1;",
    "  int64 signed_count = 2;",
    "  fixed64 f64 = 3;",
    "  float ratio = 4;",
    "  bytes blob = 5;",
    "  repeated string names = 6;",
    "  Kind kind = 7;",
    "  repeated Part parts = 8;",
    "  bool ok = 9;",
    "}",
  ].join("\n");

  it("maps proto types to TS: 64-bit → bigint, bytes → Uint8Array, enums and nested types as Outer_Inner", () => {
    const r = parseProto(sample);
    r.resolveAll();
    const t = r.lookupType("demo.pkg.Thing");
    expect(Object.fromEntries(t.fieldsArray.map((f) => [f.name, protoFieldType(f)]))).toEqual({
      big_count: "bigint",
      signed_count: "bigint",
      f64: "bigint",
      ratio: "number",
      blob: "Uint8Array",
      names: "string[]",
      kind: "Thing_Kind",
      parts: "Thing_Part[]",
      ok: "boolean",
    });
    expect(protoDeclarations(r).map(tsName)).toEqual(["Thing", "Thing_Kind", "Thing_Part"]);
  });

  it("keeps snake_case names and comments, and cannot be closed early by */ in a comment", () => {
    const src = generateProtoTypes(sample, { source: "demo.proto", textConstant: "DEMO" });
    expect(src).toContain("  big_count: bigint;");
    expect(src).toContain("/** exact beyond 2^53 */");
    expect(src).toContain("/** demo.pkg.Thing: A thing. *\\/ not the end of the doc */");
    expect(src).toContain("export const Thing_Kind = {\n  KIND_UNSPECIFIED: 0,\n  BIG: 1,\n} as const;");
    expect(src).toContain(`export const DEMO = ${JSON.stringify(sample)};`);
  });

  it("refuses what the codec cannot represent (maps, oneofs, services) rather than typing it wrongly", () => {
    expect(() => generateProtoTypes('syntax = "proto3"; message M { map<string, int32> m = 1; }', OPTIONS)).toThrow(/map fields/);
    expect(() => generateProtoTypes('syntax = "proto3"; message M { oneof o { int32 a = 1; string b = 2; } }', OPTIONS)).toThrow(/oneofs/);
    expect(() => generateProtoTypes('syntax = "proto3"; message M {} service S { rpc F (M) returns (M); }', OPTIONS)).toThrow(/services/);
  });
});
