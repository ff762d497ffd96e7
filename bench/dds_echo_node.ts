import { DdsTransport } from "../src/transport/dds/dds_transport.js";
import type * as M from "../src/msgs/generated.js";
import { QOS_DEFAULT } from "../src/transport/qos.js";
import { sampleLending } from "../src/transport/dds/sample_lending.js";
import { benchArgs } from "./bench_args.js";

/**
 * The TypeScript side of the echo benchmark: receives sensor_msgs/Image on --in and publishes
 * it back on --out through the dds backend (CDR decode + encode, as every node pays), the same
 * role `cyclone_peer echo-sink` plays in C. Images are received lent, as the perception node
 * receives them (decoded in place in reused memory, returned once echoed). Runs until
 * SIGTERM/SIGINT or --seconds.
 */
const { values } = benchArgs("dds_echo_node", "node dist/bench/dds_echo_node.js [--in TOPIC] [--out TOPIC] [--seconds S]", {
  options: {
    in: { type: "string", default: "echo/in" },
    out: { type: "string", default: "echo/out" },
    seconds: { type: "string", default: "0" },
  },
});
const transport = new DdsTransport();
const node = transport.createNode("echo");
const pub = node.createPublisher<M.sensor_msgs__msg__Image>("sensor_msgs/msg/Image", values.out, QOS_DEFAULT);
const lending = sampleLending(node)!;
lending.createLentSubscription<M.sensor_msgs__msg__Image>("sensor_msgs/msg/Image", values.in, QOS_DEFAULT, (m, lease) => {
  try {
    pub.publish(m);
  } finally {
    lending.releaseSample(lease);
  }
});
const keepAlive = setInterval(() => {}, 1 << 30);
const stop = async () => {
  clearInterval(keepAlive);
  console.error(JSON.stringify({ echo: node.counters().snapshot(), transport: transport.counters.snapshot() }));
  await transport.shutdown();
};
process.once("SIGTERM", () => void stop());
process.once("SIGINT", () => void stop());
const seconds = Number(values.seconds);
if (seconds > 0) setTimeout(() => void stop(), seconds * 1000);
