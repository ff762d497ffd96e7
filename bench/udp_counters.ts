import { readFileSync } from "node:fs";

/**
 * A network namespace's UDP counters (/proc/PID/net/snmp: every socket in the namespace). A
 * datagram the kernel dropped because a socket's receive buffer was full (RcvbufErrors) costs a
 * reliable DDS stream a NACK and a retransmission: receive CPU and latency that the node's own
 * code does not explain.
 */
export interface UdpCounters {
  inDatagrams: number;
  inErrors: number;
  rcvbufErrors: number;
}

/** The Udp counters of /proc/net/snmp text, or undefined when it has no well-formed Udp pair. */
export function parseUdpCounters(snmp: string): UdpCounters | undefined {
  const lines = snmp.split("\n").filter((l) => l.startsWith("Udp:"));
  if (lines.length < 2) return undefined;
  const names = lines[0].trim().split(/\s+/), values = lines[1].trim().split(/\s+/);
  if (names.length !== values.length) return undefined;
  const at = (k: string): number => {
    const i = names.indexOf(k);
    return i < 0 ? NaN : Number(values[i]);
  };
  const out = { inDatagrams: at("InDatagrams"), inErrors: at("InErrors"), rcvbufErrors: at("RcvbufErrors") };
  return Object.values(out).every((x) => Number.isSafeInteger(x) && x >= 0) ? out : undefined;
}

/** The UDP counters of the namespace process `pid` is in; undefined once it has exited. */
export function udpCountersOf(pid: number): UdpCounters | undefined {
  try {
    return parseUdpCounters(readFileSync(`/proc/${pid}/net/snmp`, "utf8"));
  } catch {
    return undefined;
  }
}
