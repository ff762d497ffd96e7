import type { TransportNode } from "../src/transport/port.js";
import { QOS_CLOCK } from "../src/transport/qos.js";
import { toNanoseconds } from "../src/time/ros_time.js";
import type * as M from "../src/msgs/generated.js";
import { T } from "./messages.js";

/** Where a node reads the time. */
export interface NodeClock {
  /** Nanoseconds since the epoch (system time) or since the simulation start (sim time). */
  now(): bigint;
}

export const WALL_CLOCK: NodeClock = { now: () => BigInt(Date.now()) * 1_000_000n };

/**
 * A node's ROS time, as rclcpp's node clock: the system clock, or with the `use_sim_time`
 * parameter the latest /clock message (zero until one arrives, as in ROS 2). Stamps the node
 * creates (diagnostics, latched specs) come from here; stamps of results are the camera
 * frame's. Timers keep running on the system clock.
 */
export class RosClock implements NodeClock {
  readonly useSimTime: boolean;
  private simNs = 0n;

  constructor(node: TransportNode, onBadClock: (e: unknown) => void) {
    const declared = node.getParameter("use_sim_time");
    this.useSimTime = Boolean(declared ?? node.declareParameter("use_sim_time", false));
    if (!this.useSimTime) return;
    node.createSubscription<M.rosgraph_msgs__msg__Clock>(T.Clock, "/clock", QOS_CLOCK, (m) => {
      try {
        const t = toNanoseconds(m.clock);
        // A clock going backwards is a simulator reset: follow it, as rclcpp's time source does.
        this.simNs = t;
      } catch (e) {
        onBadClock(e);
      }
    });
  }

  now(): bigint {
    return this.useSimTime ? this.simNs : BigInt(Date.now()) * 1_000_000n;
  }
}
