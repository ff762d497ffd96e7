import { InvalidInputError } from "../../errors.js";

/**
 * How far a ROS 2 process looks for peers, and the Cyclone DDS configuration that says so, as
 * rcl reads the environment and rmw_cyclonedds turns it into the configuration of
 * `dds_create_domain` (rmw_cyclonedds_cpp/src/rmw_node.cpp, check_create_domain).
 *
 * Two generations:
 * - Humble (and older): only ROS_LOCALHOST_ONLY; exactly "1" selects the interface at 127.0.0.1
 *   (rcl/src/rcl/localhost.c, humble).
 * - Iron and later: ROS_AUTOMATIC_DISCOVERY_RANGE (SUBNET default, LOCALHOST, OFF, SYSTEM_DEFAULT;
 *   anything else: LOCALHOST with a warning) and ROS_STATIC_PEERS (";"-separated); a deprecated
 *   ROS_LOCALHOST_ONLY starting with "1" still wins, as LOCALHOST without static peers
 *   (rcl/src/rcl/init.c, discovery_options.c). LOCALHOST disables multicast and adds "localhost"
 *   as a unicast peer; OFF disables multicast and tags the domain with the process id, so only
 *   participants of this process discover each other.
 *
 * The fragment goes first and CYCLONEDDS_URI after it: Cyclone reads comma-separated sources in
 * order, a later value of a single-valued setting replaces an earlier one and list settings
 * (peers, interfaces) accumulate (ddsi_config.c: do_update, 0.10.x).
 */
export type DiscoveryRange = "subnet" | "localhost" | "off" | "system_default";

export interface DiscoverySettings {
  /** Which rcl/rmw generation's rules apply, from ROS_DISTRO. */
  readonly generation: "humble" | "iron+";
  /** Humble only: ROS_LOCALHOST_ONLY=1. */
  readonly localhostOnly: boolean;
  /** Iron+ only (Humble has no such setting: always "subnet"). */
  readonly range: DiscoveryRange;
  readonly staticPeers: readonly string[];
  /** What rcl would warn about (ignored peers, unknown range). */
  readonly warnings: readonly string[];
}

export type Environment = Readonly<Record<string, string | undefined>>;

/** Distros whose rcl knows only ROS_LOCALHOST_ONLY (and whose rmw GID is 24 bytes). */
const HUMBLE_AND_OLDER = new Set(["foxy", "galactic", "humble"]);

/** rmw's RMW_DISCOVERY_OPTIONS_STATIC_PEERS_MAX_LENGTH is 256 with the terminating NUL. */
const STATIC_PEER_MAX_LENGTH = 255;

export function isHumbleOrOlder(env: Environment): boolean {
  return HUMBLE_AND_OLDER.has((env.ROS_DISTRO ?? "").trim().toLowerCase());
}

/** The discovery settings rcl would derive from this environment. */
export function discoverySettingsFromEnv(env: Environment): DiscoverySettings {
  const localhostRaw = env.ROS_LOCALHOST_ONLY ?? "";
  if (isHumbleOrOlder(env)) {
    return { generation: "humble", localhostOnly: localhostRaw === "1", range: "subnet", staticPeers: [], warnings: [] };
  }
  const warnings: string[] = [];
  if (localhostRaw.startsWith("1")) {
    warnings.push("ROS_LOCALHOST_ONLY is deprecated but still honored; ROS_AUTOMATIC_DISCOVERY_RANGE and ROS_STATIC_PEERS are ignored");
    return { generation: "iron+", localhostOnly: false, range: "localhost", staticPeers: [], warnings };
  }
  const rangeRaw = env.ROS_AUTOMATIC_DISCOVERY_RANGE ?? "";
  let range: DiscoveryRange;
  switch (rangeRaw) {
    case "":
    case "SUBNET":
      range = "subnet";
      break;
    case "LOCALHOST":
      range = "localhost";
      break;
    case "OFF":
      range = "off";
      break;
    case "SYSTEM_DEFAULT":
      range = "system_default";
      break;
    default:
      warnings.push(`invalid value '${rangeRaw}' specified for 'ROS_AUTOMATIC_DISCOVERY_RANGE', assuming localhost only`);
      range = "localhost";
  }
  let staticPeers: string[] = [];
  if (range !== "off") {
    for (const peer of (env.ROS_STATIC_PEERS ?? "").split(";")) {
      if (peer === "") continue;
      if (peer.length > STATIC_PEER_MAX_LENGTH) {
        warnings.push(`static peer ${peer} specified to 'ROS_STATIC_PEERS' is too long (maximum of ${STATIC_PEER_MAX_LENGTH}); skipping`);
        continue;
      }
      staticPeers.push(peer);
    }
  } else if ((env.ROS_STATIC_PEERS ?? "") !== "") {
    warnings.push("ROS_AUTOMATIC_DISCOVERY_RANGE is set to OFF, but found static peers in ROS_STATIC_PEERS; ROS_STATIC_PEERS will be ignored");
  }
  if (range === "system_default" && staticPeers.length > 0) {
    warnings.push(`${staticPeers.length} static peers were specified, but discovery is set to use the RMW implementation default, so these static peers will be ignored`);
    staticPeers = [];
  }
  return { generation: "iron+", localhostOnly: false, range, staticPeers, warnings };
}

function xmlAttribute(value: string): string {
  return value.replace(/&/g, "&amp;").replace(/"/g, "&quot;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

/**
 * The XML fragment rmw_cyclonedds puts before CYCLONEDDS_URI for these settings ("" when it
 * adds none). `pid` tags an OFF domain so that no other process can discover it.
 */
export function discoveryFragment(settings: DiscoverySettings, pid: number): string {
  if (settings.generation === "humble") {
    return settings.localhostOnly
      ? '<CycloneDDS><Domain><General><Interfaces><NetworkInterface address="127.0.0.1"/></Interfaces></General></Domain></CycloneDDS>'
      : "";
  }
  if (settings.range === "system_default") return "";
  const localhostPeer = settings.range === "localhost";
  const disableMulticast = settings.range === "localhost" || settings.range === "off";
  const peers = settings.range === "off" ? [] : settings.staticPeers;
  let xml = "<CycloneDDS><Domain>";
  if (disableMulticast) xml += "<General><AllowMulticast>false</AllowMulticast></General>";
  if (settings.range === "off") {
    if (!Number.isInteger(pid) || pid <= 0) throw new InvalidInputError("bad_argument", `process id must be a positive integer, got ${pid}`);
    // No ParticipantIndex limit: every participant of the process may exist, none is found from outside.
    xml += `<Discovery><ParticipantIndex>none</ParticipantIndex><Tag>ros_discovery_off_${pid}</Tag>`;
  } else {
    xml += "<Discovery><ParticipantIndex>auto</ParticipantIndex><MaxAutoParticipantIndex>32</MaxAutoParticipantIndex>";
  }
  if (localhostPeer || peers.length > 0) {
    xml += "<Peers>";
    if (localhostPeer) xml += '<Peer address="localhost"/>';
    for (const p of peers) xml += `<Peer address="${xmlAttribute(p)}"/>`;
    xml += "</Peers>";
  }
  return `${xml}</Discovery></Domain></CycloneDDS>`;
}

/**
 * The configuration string for `dds_create_domain`: the discovery fragment, then the user's
 * CYCLONEDDS_URI (which `dds_create_domain` does not read by itself), so the user's own
 * settings win where both set the same value.
 */
export function cycloneDomainConfig(settings: DiscoverySettings, cycloneddsUri: string | undefined, pid: number): string {
  const fragment = discoveryFragment(settings, pid);
  const uri = cycloneddsUri ?? "";
  // Cyclone skips empty sources, so a trailing comma is harmless (rmw_cyclonedds relies on it too).
  return fragment === "" ? uri : `${fragment},${uri}`;
}
