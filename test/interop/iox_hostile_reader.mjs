// The node's side of test/interop/cyclone_shm_hostile: a DdsTransport (dist/) with Cyclone's
// shared memory on (CYCLONEDDS_URI), one node with a lent and an ordinary subscription to the
// Image topic (reliable keep-last 10: both have an iceoryx subscriber), fed by cyclone_peer
// iox-hostile. Each message that arrives is checked against the pattern the peer writes (data[i]
// = i * 7 + 3) and its lease released at once; every error the transport reports is kept.
// Prints "ready" once subscribed, then on SIGTERM (or after MAX_SECONDS) one JSON line:
// {received: [{sub, frame_id, width, dataLength, dataOk, lent}], errors: [message],
//  counters: {transport, node}, pool: poolStats()}.
// Usage: node iox_hostile_reader.mjs DIST_DIR MAX_SECONDS
import { join } from "node:path";
import { pathToFileURL } from "node:url";

const [dist, seconds] = process.argv.slice(2);
const { DdsTransport } = await import(pathToFileURL(join(dist, "src", "transport", "dds", "dds_transport.js")).href);
const transport = new DdsTransport({ rosout: false });
const errors = [];
transport.onError = (e, context) => errors.push(`${context}: ${e instanceof Error ? e.message : String(e)}`);
const node = transport.createNode("iox_hostile_reader");
const qos = { reliability: "reliable", durability: "volatile", history: "keep_last", depth: 10 };
const topic = "camera/color/image_raw";
const received = [];

function record(sub, msg, lease) {
  const data = msg.data;
  let dataOk = data.length === msg.width * msg.height;
  for (let i = 0; dataOk && i < data.length; i++) dataOk = data[i] === ((i * 7 + 3) & 255);
  received.push({
    sub, frame_id: msg.header.frame_id, sec: msg.header.stamp.sec, nanosec: msg.header.stamp.nanosec,
    width: msg.width, height: msg.height, encoding: msg.encoding, step: msg.step, dataLength: data.length, dataOk, lent: lease !== 0,
  });
  node.releaseSample(lease);
}

node.createLentSubscription("sensor_msgs/msg/Image", topic, qos, (msg, lease) => record("lent", msg, lease));
node.createSubscription("sensor_msgs/msg/Image", topic, qos, (msg) => record("plain", msg, 0));
process.stdout.write("ready\n");

let finished = false;
function finish() {
  if (finished) return;
  finished = true;
  clearTimeout(timer);
  const counters = { transport: transport.counters.snapshot(), node: node.counters().snapshot() };
  void transport.shutdown().then(() => {
    const pool = transport.binding.poolStats();
    process.stdout.write(`${JSON.stringify({ received, errors, counters, pool })}\n`);
  });
}
const timer = setTimeout(finish, Number(seconds) * 1000);
process.on("SIGTERM", finish);
