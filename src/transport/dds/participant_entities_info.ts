import { parse } from "@foxglove/rosmsg";
import { MessageReader, MessageWriter } from "@foxglove/rosmsg2-serialization";
import { InvalidInputError } from "../../errors.js";
import type { QoS } from "../qos.js";
import { isHumbleOrOlder, type Environment } from "./discovery_config.js";

/**
 * rmw_dds_common/msg/ParticipantEntitiesInfo: what every ROS 2 DDS middleware publishes on
 * `ros_discovery_info` so that others know which node owns which reader and writer. Without it
 * `ros2 node list` shows nothing of this process, however many topics it has.
 *
 * A GID is the entity's 16-byte DDS GUID followed by zeros (rmw_cyclonedds: convert_guid_to_gid),
 * in a fixed array whose length changed: 24 bytes up to Humble, 16 from Iron on. Both sides
 * of a link must agree, or the reader cannot decode the sample.
 */
export type GidSize = 16 | 24;

export interface Gid {
  data: Uint8Array;
}

export interface NodeEntitiesInfo {
  node_namespace: string;
  node_name: string;
  reader_gid_seq: Gid[];
  writer_gid_seq: Gid[];
}

export interface ParticipantEntitiesInfo {
  gid: Gid;
  node_entities_info_seq: NodeEntitiesInfo[];
}

/** DDS topic name: rmw creates it with avoid_ros_namespace_conventions, so no "rt/" prefix. */
export const ROS_DISCOVERY_INFO_TOPIC = "ros_discovery_info";
export const PARTICIPANT_ENTITIES_INFO_TYPE = "rmw_dds_common::msg::dds_::ParticipantEntitiesInfo_";
/** rmw_cyclonedds's writer for it (rmw_node.cpp, rmw_context_impl_s::init). */
export const QOS_ROS_DISCOVERY_INFO: QoS = { reliability: "reliable", durability: "transient_local", history: "keep_last", depth: 1 };

/** The .msg texts, as in msgs/deps/rmw_dds_common (a test keeps them equal). */
export const RMW_DDS_COMMON_MSG = {
  Gid16: "char[16] data\n",
  Gid24: "char[24] data\n",
  NodeEntitiesInfo: "string<=256 node_namespace\nstring<=256 node_name\nGid[] reader_gid_seq\nGid[] writer_gid_seq\n",
  ParticipantEntitiesInfo: "Gid gid\nNodeEntitiesInfo[] node_entities_info_seq\n",
} as const;

const SEPARATOR = "================================================================================\n";

/** The full definition (with dependencies, as MCAP schemas and MSG_DEFINITIONS carry it) for one layout. */
export function participantEntitiesInfoDefinition(size: GidSize): string {
  return (
    RMW_DDS_COMMON_MSG.ParticipantEntitiesInfo.replace(/^Gid /m, "rmw_dds_common/Gid ").replace(/^NodeEntitiesInfo\[\]/m, "rmw_dds_common/NodeEntitiesInfo[]") +
    SEPARATOR +
    "MSG: rmw_dds_common/NodeEntitiesInfo\n" +
    RMW_DDS_COMMON_MSG.NodeEntitiesInfo.replace(/^Gid\[\]/gm, "rmw_dds_common/Gid[]") +
    SEPARATOR +
    "MSG: rmw_dds_common/Gid\n" +
    (size === 16 ? RMW_DDS_COMMON_MSG.Gid16 : RMW_DDS_COMMON_MSG.Gid24)
  );
}

/** Env override of the GID layout; wins over ROS_DISTRO. */
export const GID_SIZE_ENV = "SPATIAL_REWARD_DDS_GID_SIZE";

/**
 * The layout the ROS 2 peers expect: SPATIAL_REWARD_DDS_GID_SIZE (16 or 24) if set; else 24 for
 * ROS_DISTRO foxy/galactic/humble, 16 for every later distro and when ROS_DISTRO is unset (the
 * layout of every rmw since Iron).
 */
export function gidSizeFromEnv(env: Environment): GidSize {
  const explicit = (env[GID_SIZE_ENV] ?? "").trim();
  if (explicit !== "") {
    if (explicit === "16") return 16;
    if (explicit === "24") return 24;
    throw new InvalidInputError("bad_argument", `${GID_SIZE_ENV} must be 16 (Iron and later) or 24 (Humble), got ${explicit}`);
  }
  return isHumbleOrOlder(env) ? 24 : 16;
}

const GUID_HEX = /^[0-9a-f]{32}$/;

/** A GID from a 16-byte DDS GUID in hex (as the addon reports it): the GUID, then zeros. */
export function gidFromGuid(guidHex: string, size: GidSize): Gid {
  if (!GUID_HEX.test(guidHex)) throw new InvalidInputError("bad_argument", `expected a 16-byte GUID in lowercase hex, got "${guidHex}"`);
  const data = new Uint8Array(size);
  for (let i = 0; i < 16; i++) data[i] = parseInt(guidHex.slice(2 * i, 2 * i + 2), 16);
  return { data };
}

/** The GUID (hex) a GID carries: its first 16 bytes. */
export function guidOfGid(gid: Gid): string {
  return Buffer.from(gid.data.subarray(0, 16)).toString("hex");
}

/** CDR encoding of ParticipantEntitiesInfo in one GID layout. */
export class ParticipantEntitiesInfoCodec {
  private readonly writer: MessageWriter;
  private readonly reader: MessageReader<ParticipantEntitiesInfo>;

  constructor(readonly gidSize: GidSize) {
    const definitions = parse(participantEntitiesInfoDefinition(gidSize), { ros2: true });
    this.writer = new MessageWriter(definitions);
    this.reader = new MessageReader<ParticipantEntitiesInfo>(definitions);
  }

  encode(msg: ParticipantEntitiesInfo): Uint8Array {
    const gids = [msg.gid, ...msg.node_entities_info_seq.flatMap((n) => [...n.reader_gid_seq, ...n.writer_gid_seq])];
    // A fixed array of the wrong length would shift every following field.
    for (const g of gids) {
      if (g.data.length !== this.gidSize) throw new InvalidInputError("bad_message", `GID of ${g.data.length} bytes in a ${this.gidSize}-byte layout`);
    }
    return this.writer.writeMessage(msg);
  }

  decode(bytes: ArrayBufferView): ParticipantEntitiesInfo {
    return this.reader.readMessage(bytes);
  }
}
