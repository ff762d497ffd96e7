import { InvalidInputError } from "../src/errors.js";
import { InprocTransport } from "../src/transport/inproc_transport.js";
import type { Transport } from "../src/transport/port.js";

export const BACKENDS = ["inproc", "dds", "rclnodejs"] as const;
export type Backend = (typeof BACKENDS)[number];

export function isBackend(name: string): name is Backend {
  return (BACKENDS as readonly string[]).includes(name);
}

/**
 * The transport for a backend name. dds and rclnodejs load their native parts only when
 * chosen, so hosts without Cyclone DDS or ROS 2 run the others.
 */
export async function createTransport(backend: string): Promise<Transport> {
  switch (backend) {
    case "inproc":
      return new InprocTransport();
    case "dds": {
      const { DdsTransport } = await import("../src/transport/dds/dds_transport.js");
      return new DdsTransport();
    }
    case "rclnodejs": {
      const { createRclnodejsTransport } = await import("../src/transport/rclnodejs/rclnodejs_transport.js");
      return createRclnodejsTransport();
    }
    default:
      throw new InvalidInputError("bad_argument", `unknown backend "${backend}" (one of ${BACKENDS.join(", ")})`);
  }
}
