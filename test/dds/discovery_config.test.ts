import { describe, expect, it } from "vitest";
import { cycloneDomainConfig, discoveryFragment, discoverySettingsFromEnv } from "../../src/transport/dds/discovery_config.js";

// Expected fragments are rmw_cyclonedds_cpp/src/rmw_node.cpp (check_create_domain) spelled out:
// humble branch for ROS_LOCALHOST_ONLY, iron/jazzy/rolling (identical there) for the rest.
const HUMBLE_LOCALHOST = '<CycloneDDS><Domain><General><Interfaces><NetworkInterface address="127.0.0.1"/></Interfaces></General></Domain></CycloneDDS>';
const AUTO_INDEX = "<Discovery><ParticipantIndex>auto</ParticipantIndex><MaxAutoParticipantIndex>32</MaxAutoParticipantIndex>";
const NO_MULTICAST = "<General><AllowMulticast>false</AllowMulticast></General>";

describe("discovery settings from the environment, as rcl reads them", () => {
  it("Humble: only ROS_LOCALHOST_ONLY, and only exactly '1'", () => {
    expect(discoverySettingsFromEnv({ ROS_DISTRO: "humble", ROS_LOCALHOST_ONLY: "1" }).localhostOnly).toBe(true);
    expect(discoverySettingsFromEnv({ ROS_DISTRO: "humble", ROS_LOCALHOST_ONLY: "10" }).localhostOnly).toBe(false);
    expect(discoverySettingsFromEnv({ ROS_DISTRO: "humble", ROS_LOCALHOST_ONLY: "0" }).localhostOnly).toBe(false);
    // Humble's rcl has no ROS_AUTOMATIC_DISCOVERY_RANGE: ignored.
    const s = discoverySettingsFromEnv({ ROS_DISTRO: "humble", ROS_AUTOMATIC_DISCOVERY_RANGE: "OFF", ROS_STATIC_PEERS: "10.0.0.1" });
    expect(s).toMatchObject({ generation: "humble", localhostOnly: false, range: "subnet", staticPeers: [] });
  });

  it("Iron and later (and ROS_DISTRO unset): the range, SUBNET by default, static peers split on ';'", () => {
    for (const distro of [undefined, "iron", "jazzy", "kilted", "rolling"]) {
      expect(discoverySettingsFromEnv({ ROS_DISTRO: distro })).toMatchObject({ generation: "iron+", range: "subnet", staticPeers: [] });
    }
    expect(discoverySettingsFromEnv({ ROS_AUTOMATIC_DISCOVERY_RANGE: "LOCALHOST" }).range).toBe("localhost");
    expect(discoverySettingsFromEnv({ ROS_AUTOMATIC_DISCOVERY_RANGE: "OFF" }).range).toBe("off");
    expect(discoverySettingsFromEnv({ ROS_AUTOMATIC_DISCOVERY_RANGE: "SYSTEM_DEFAULT" }).range).toBe("system_default");
    expect(discoverySettingsFromEnv({ ROS_STATIC_PEERS: "192.168.0.7;robot.local;;" }).staticPeers).toEqual(["192.168.0.7", "robot.local"]);
  });

  it("an unknown range means LOCALHOST with a warning; case matters, as in rcl", () => {
    const s = discoverySettingsFromEnv({ ROS_AUTOMATIC_DISCOVERY_RANGE: "localhost" });
    expect(s.range).toBe("localhost");
    expect(s.warnings.join("\n")).toMatch(/invalid value 'localhost'/);
  });

  it("a deprecated ROS_LOCALHOST_ONLY=1 wins over the range and drops static peers", () => {
    const s = discoverySettingsFromEnv({ ROS_DISTRO: "jazzy", ROS_LOCALHOST_ONLY: "1", ROS_AUTOMATIC_DISCOVERY_RANGE: "SUBNET", ROS_STATIC_PEERS: "10.1.1.1" });
    expect(s).toMatchObject({ range: "localhost", staticPeers: [] });
    expect(s.warnings.join("\n")).toMatch(/deprecated/);
    expect(discoverySettingsFromEnv({ ROS_LOCALHOST_ONLY: "0", ROS_AUTOMATIC_DISCOVERY_RANGE: "OFF" }).range).toBe("off");
  });

  it("OFF and SYSTEM_DEFAULT ignore static peers, with a warning", () => {
    const off = discoverySettingsFromEnv({ ROS_AUTOMATIC_DISCOVERY_RANGE: "OFF", ROS_STATIC_PEERS: "10.1.1.1" });
    expect(off.staticPeers).toEqual([]);
    expect(off.warnings.join("\n")).toMatch(/ignored/);
    const sys = discoverySettingsFromEnv({ ROS_AUTOMATIC_DISCOVERY_RANGE: "SYSTEM_DEFAULT", ROS_STATIC_PEERS: "10.1.1.1" });
    expect(sys.staticPeers).toEqual([]);
    expect(sys.warnings.join("\n")).toMatch(/ignored/);
  });

  it("a static peer longer than rmw's 255 characters is skipped", () => {
    const long = "a".repeat(256);
    const s = discoverySettingsFromEnv({ ROS_STATIC_PEERS: `${long};ok.local` });
    expect(s.staticPeers).toEqual(["ok.local"]);
    expect(s.warnings.join("\n")).toMatch(/too long/);
  });
});

describe("the Cyclone configuration rmw_cyclonedds would create the domain with", () => {
  it("Humble localhost-only selects the interface at 127.0.0.1; otherwise nothing is added", () => {
    expect(discoveryFragment(discoverySettingsFromEnv({ ROS_DISTRO: "humble", ROS_LOCALHOST_ONLY: "1" }), 1)).toBe(HUMBLE_LOCALHOST);
    expect(discoveryFragment(discoverySettingsFromEnv({ ROS_DISTRO: "humble" }), 1)).toBe("");
  });

  it("SUBNET: participant index auto (max 32), peers from ROS_STATIC_PEERS, multicast left on", () => {
    expect(discoveryFragment(discoverySettingsFromEnv({}), 1)).toBe(`<CycloneDDS><Domain>${AUTO_INDEX}</Discovery></Domain></CycloneDDS>`);
    expect(discoveryFragment(discoverySettingsFromEnv({ ROS_STATIC_PEERS: "10.0.0.2;host-b" }), 1)).toBe(
      `<CycloneDDS><Domain>${AUTO_INDEX}<Peers><Peer address="10.0.0.2"/><Peer address="host-b"/></Peers></Discovery></Domain></CycloneDDS>`,
    );
  });

  it("LOCALHOST: no multicast, localhost as a peer before the static peers", () => {
    expect(discoveryFragment(discoverySettingsFromEnv({ ROS_AUTOMATIC_DISCOVERY_RANGE: "LOCALHOST", ROS_STATIC_PEERS: "10.0.0.2" }), 1)).toBe(
      `<CycloneDDS><Domain>${NO_MULTICAST}${AUTO_INDEX}<Peers><Peer address="localhost"/><Peer address="10.0.0.2"/></Peers></Discovery></Domain></CycloneDDS>`,
    );
  });

  it("OFF: no multicast, no participant index, a domain tag of this process id", () => {
    expect(discoveryFragment(discoverySettingsFromEnv({ ROS_AUTOMATIC_DISCOVERY_RANGE: "OFF" }), 4242)).toBe(
      `<CycloneDDS><Domain>${NO_MULTICAST}<Discovery><ParticipantIndex>none</ParticipantIndex><Tag>ros_discovery_off_4242</Tag></Discovery></Domain></CycloneDDS>`,
    );
    expect(() => discoveryFragment(discoverySettingsFromEnv({ ROS_AUTOMATIC_DISCOVERY_RANGE: "OFF" }), 0)).toThrow(/process id/);
  });

  it("SYSTEM_DEFAULT leaves Cyclone's defaults alone", () => {
    expect(discoveryFragment(discoverySettingsFromEnv({ ROS_AUTOMATIC_DISCOVERY_RANGE: "SYSTEM_DEFAULT" }), 1)).toBe("");
  });

  it("a peer address cannot inject XML", () => {
    const xml = discoveryFragment(discoverySettingsFromEnv({ ROS_STATIC_PEERS: 'a"/><Tracing' }), 1);
    expect(xml).toContain('<Peer address="a&quot;/&gt;&lt;Tracing"/>');
    expect(xml).not.toContain("<Tracing");
  });

  it("puts CYCLONEDDS_URI after the fragment, so the user's settings win", () => {
    const s = discoverySettingsFromEnv({ ROS_AUTOMATIC_DISCOVERY_RANGE: "LOCALHOST" });
    expect(cycloneDomainConfig(s, "file:///etc/cyclone.xml", 7)).toBe(`${discoveryFragment(s, 7)},file:///etc/cyclone.xml`);
    expect(cycloneDomainConfig(s, undefined, 7)).toBe(`${discoveryFragment(s, 7)},`);
    const none = discoverySettingsFromEnv({ ROS_DISTRO: "humble" });
    expect(cycloneDomainConfig(none, "file:///etc/cyclone.xml", 7)).toBe("file:///etc/cyclone.xml");
    expect(cycloneDomainConfig(none, undefined, 7)).toBe("");
  });
});
