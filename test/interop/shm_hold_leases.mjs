// Run by test/interop/cyclone_shm inside a network namespace with RouDi up, shared memory enabled
// and the C camera peer streaming: lent subscriptions to the camera's images (reliable keep-last
// 10, as the perception node's) whose consumer keeps the newest HOLD messages of each topic
// unreleased, as the perception node's synchroniser does while one topic stalls (sync_queue_size
// 60 with reliable inputs). Ends on SIGTERM or after SECONDS; prints one JSON line: the node's
// counters and the addon's poolStats() while the messages are still held.
// Usage: node shm_hold_leases.mjs DIST_DIR HOLD SECONDS
import { join } from "node:path";
import { pathToFileURL } from "node:url";

const [dist, holdArg, seconds] = process.argv.slice(2);
const hold = Number(holdArg);
const { DdsTransport } = await import(pathToFileURL(join(dist, "src", "transport", "dds", "dds_transport.js")).href);
const transport = new DdsTransport({ rosout: false });
const node = transport.createNode("shm_hold_leases");
const qos = { reliability: "reliable", durability: "volatile", history: "keep_last", depth: 10 };
const TOPICS = [
  ["sensor_msgs/msg/Image", "camera/color/image_raw"],
  ["sensor_msgs/msg/Image", "camera/aligned_depth_to_color/image_raw"],
  ["spatial_reward_msgs/msg/InstanceMasks", "camera/instances"],
];
const held = TOPICS.map(() => []);
TOPICS.forEach(([type, topic], i) => {
  node.createLentSubscription(type, topic, qos, (msg, lease) => {
    held[i].push({ msg, lease });
    if (held[i].length > hold) node.releaseSample(held[i].shift().lease);
  });
});
let finished = false;
function finish() {
  if (finished) return;
  finished = true;
  clearTimeout(timer);
  const pool = transport.binding.poolStats();
  const counters = node.counters().snapshot();
  const heldCount = held.reduce((n, h) => n + h.length, 0);
  void transport.shutdown().then(() => process.stdout.write(`${JSON.stringify({ pool, counters, held: heldCount })}\n`));
}
const timer = setTimeout(finish, Number(seconds) * 1000);
process.on("SIGTERM", finish);
