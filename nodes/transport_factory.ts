import { InvalidInputError } from "../src/errors.js";
import { InprocTransport } from "../src/transport/inproc_transport.js";
import type { Transport } from "../src/transport/port.js";

export const BACKENDS = ["inproc", "dds", "rclnodejs"] as const;
export type Backend = (typeof BACKENDS)[number];

export function isBackend(name: string): name is Backend {
  return (BACKENDS as readonly string[]).includes(name);
}

/** What the command line's ROS arguments say about the process's logging (rcl's global arguments). */
export interface TransportLogging {
  /** --disable-rosout-logs clears it: no /rosout publisher per node. */
  rosoutLogs: boolean;
  /** --log-config-file, handed to rcl on a ROS host. */
  logConfigFile?: string;
  /** --disable-external-lib-logs, handed to rcl on a ROS host. */
  externalLibLogs: boolean;
}

const DEFAULT_LOGGING: TransportLogging = { rosoutLogs: true, externalLibLogs: true };

/** rcl's own form of the logging arguments, for rcl.init on a ROS host. */
export function rclLoggingArgs(logging: TransportLogging): string[] {
  const args: string[] = [];
  if (!logging.rosoutLogs) args.push("--disable-rosout-logs");
  if (!logging.externalLibLogs) args.push("--disable-external-lib-logs");
  if (logging.logConfigFile !== undefined) args.push("--log-config-file", logging.logConfigFile);
  return args.length > 0 ? ["--ros-args", ...args] : [];
}

/**
 * The transport for a backend name. dds and rclnodejs load their native parts only when
 * chosen, so hosts without Cyclone DDS or ROS 2 run the others.
 */
export async function createTransport(backend: string, logging: TransportLogging = DEFAULT_LOGGING): Promise<Transport> {
  switch (backend) {
    case "inproc":
      return new InprocTransport();
    case "dds": {
      const { DdsTransport } = await import("../src/transport/dds/dds_transport.js");
      return new DdsTransport({ rosout: logging.rosoutLogs });
    }
    case "rclnodejs": {
      const { createRclnodejsTransport } = await import("../src/transport/rclnodejs/rclnodejs_transport.js");
      return createRclnodejsTransport({ argv: rclLoggingArgs(logging) });
    }
    default:
      throw new InvalidInputError("bad_argument", `unknown backend "${backend}" (one of ${BACKENDS.join(", ")})`);
  }
}
