import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parseUdpCounters, udpCountersOf } from "../../bench/udp_counters.js";

const SNMP = `Ip: Forwarding DefaultTTL InReceives
Ip: 1 64 100
Udp: InDatagrams NoPorts InErrors OutDatagrams RcvbufErrors SndbufErrors InCsumErrors IgnoredMulti MemErrors
Udp: 88234 3 7 12000 5 0 0 11 0
UdpLite: InDatagrams NoPorts InErrors OutDatagrams RcvbufErrors SndbufErrors InCsumErrors IgnoredMulti MemErrors
UdpLite: 0 0 0 0 0 0 0 0 0
`;

describe("udp counters (bench:dds)", () => {
  it("reads the Udp line pair by column name, not UdpLite's", () => {
    expect(parseUdpCounters(SNMP)).toEqual({ inDatagrams: 88234, inErrors: 7, rcvbufErrors: 5 });
  });

  it("reads this process's namespace", () => {
    const c = udpCountersOf(process.pid);
    expect(c).toEqual(parseUdpCounters(readFileSync("/proc/self/net/snmp", "utf8")));
    expect(c!.inDatagrams).toBeGreaterThanOrEqual(0);
  });

  it("refuses malformed text instead of reporting made-up counts", () => {
    for (const bad of [
      "",
      "Udp: InDatagrams InErrors RcvbufErrors\n",
      "Udp: InDatagrams InErrors RcvbufErrors\nUdp: 1 2\n",
      "Udp: InDatagrams InErrors RcvbufErrors\nUdp: 1 x 3\n",
      "Udp: InDatagrams InErrors RcvbufErrors\nUdp: 1 -2 3\n",
      "Udp: InDatagrams InErrors RcvbufErrors\nUdp: 1 2 1e400\n",
      "Udp: InDatagrams NoPorts\nUdp: 1 2\n",
      "\u0000".repeat(10000),
    ]) expect(parseUdpCounters(bad)).toBeUndefined();
  });

  it("gives undefined for a process that does not exist", () => {
    expect(udpCountersOf(2 ** 30)).toBeUndefined();
  });
});
