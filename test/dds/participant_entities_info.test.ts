import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import {
  gidFromGuid, gidSizeFromEnv, guidOfGid, ParticipantEntitiesInfoCodec, RMW_DDS_COMMON_MSG, type ParticipantEntitiesInfo,
} from "../../src/transport/dds/participant_entities_info.js";

const msg = (path: string) => readFileSync(new URL(`../../msgs/deps/rmw_dds_common/${path}`, import.meta.url), "utf8");
const GUID_A = "0110feb7475188e72d2ece54000001c1";
const GUID_B = "0110feb7475188e72d2ece5400000504";

function sample(size: 16 | 24): ParticipantEntitiesInfo {
  return {
    gid: gidFromGuid(GUID_A, size),
    node_entities_info_seq: [
      { node_namespace: "/robot", node_name: "talker", reader_gid_seq: [gidFromGuid(GUID_B, size)], writer_gid_seq: [] },
      { node_namespace: "/", node_name: "n", reader_gid_seq: [], writer_gid_seq: [] },
    ],
  };
}

describe("rmw_dds_common ParticipantEntitiesInfo", () => {
  it("uses the vendored definitions (Iron+ in msg/, Humble's 24-byte Gid in humble/)", () => {
    expect(RMW_DDS_COMMON_MSG.Gid16).toBe(msg("msg/Gid.msg"));
    expect(RMW_DDS_COMMON_MSG.Gid24).toBe(msg("humble/msg/Gid.msg"));
    expect(RMW_DDS_COMMON_MSG.NodeEntitiesInfo).toBe(msg("msg/NodeEntitiesInfo.msg"));
    expect(RMW_DDS_COMMON_MSG.ParticipantEntitiesInfo).toBe(msg("msg/ParticipantEntitiesInfo.msg"));
  });

  it("a GID is the 16-byte GUID followed by zeros", () => {
    const g = gidFromGuid(GUID_A, 24);
    expect(g.data.length).toBe(24);
    expect(Buffer.from(g.data.subarray(16)).equals(Buffer.alloc(8))).toBe(true);
    expect(guidOfGid(g)).toBe(GUID_A);
    expect(gidFromGuid(GUID_A, 16).data.length).toBe(16);
    expect(() => gidFromGuid("xyz", 16)).toThrow(/GUID/);
    expect(() => gidFromGuid(GUID_A.toUpperCase(), 16)).toThrow(/GUID/);
  });

  it("encodes to the CDR rmw_dds_common's typesupport reads: fixed GID arrays, no length prefix", () => {
    for (const size of [16, 24] as const) {
      const bytes = new ParticipantEntitiesInfoCodec(size).encode(sample(size));
      // encapsulation (CDR_LE), then the participant GID's raw bytes.
      expect([...bytes.subarray(0, 4)]).toEqual([0, 1, 0, 0]);
      expect(Buffer.from(bytes.subarray(4, 4 + 16)).toString("hex")).toBe(GUID_A);
      // then the uint32 node count (aligned: 4 + size is a multiple of 4 in both layouts).
      expect(new DataView(bytes.buffer, bytes.byteOffset).getUint32(4 + size, true)).toBe(2);
      const back = new ParticipantEntitiesInfoCodec(size).decode(bytes);
      expect(guidOfGid(back.gid)).toBe(GUID_A);
      expect(back.node_entities_info_seq.map((n) => [n.node_namespace, n.node_name])).toEqual([["/robot", "talker"], ["/", "n"]]);
      expect(guidOfGid(back.node_entities_info_seq[0].reader_gid_seq[0])).toBe(GUID_B);
    }
    // The two layouts differ by 8 bytes per GID: 2 GIDs here (the participant and one reader).
    expect(new ParticipantEntitiesInfoCodec(24).encode(sample(24)).length - new ParticipantEntitiesInfoCodec(16).encode(sample(16)).length).toBe(16);
  });

  it("refuses a GID of the other layout (it would shift every later field)", () => {
    expect(() => new ParticipantEntitiesInfoCodec(16).encode(sample(24))).toThrow(/24 bytes in a 16-byte layout/);
  });

  it("a reader of the other layout does not get the same message back", () => {
    const bytes = new ParticipantEntitiesInfoCodec(24).encode(sample(24));
    let wrong: ParticipantEntitiesInfo | undefined;
    try {
      wrong = new ParticipantEntitiesInfoCodec(16).decode(bytes);
    } catch {
      wrong = undefined;
    }
    expect(wrong?.node_entities_info_seq.map((n) => n.node_name)).not.toEqual(["talker", "n"]);
  });

  it("chooses the layout from ROS_DISTRO, with an explicit override", () => {
    expect(gidSizeFromEnv({ ROS_DISTRO: "humble" })).toBe(24);
    expect(gidSizeFromEnv({ ROS_DISTRO: "galactic" })).toBe(24);
    for (const d of ["iron", "jazzy", "kilted", "rolling"]) expect(gidSizeFromEnv({ ROS_DISTRO: d })).toBe(16);
    expect(gidSizeFromEnv({})).toBe(16);
    expect(gidSizeFromEnv({ ROS_DISTRO: "jazzy", SPATIAL_REWARD_DDS_GID_SIZE: "24" })).toBe(24);
    expect(gidSizeFromEnv({ ROS_DISTRO: "humble", SPATIAL_REWARD_DDS_GID_SIZE: "16" })).toBe(16);
    expect(() => gidSizeFromEnv({ SPATIAL_REWARD_DDS_GID_SIZE: "20" })).toThrow(/16 .* or 24/);
  });
});
