// A node with lent subscriptions to the camera images (as the perception node has: DdsTransport
// from dist/, reliable keep-last 10), fed by the C camera peer. For each image it prints one line
// {"topic", "stamp_ns", "lent", "digest"}: digest is a SHA-256 of every decoded field but the
// stamps (typed arrays by their bytes, with their type), so the same frame decoded over shared
// memory and over UDP gives the same digest. The last image of each topic is held (its lease
// kept) until after the transport is shut down: its reader, and over shared memory its iceoryx
// subscriber, are gone when it is released and read. Then one line {"pool", "counters",
// "releasedAfterShutdown", "heldBytes"}: the addon's poolStats() and the node's counters.
// Usage: node lent_image_digest.mjs DIST_DIR MAX_SECONDS (ends sooner on SIGTERM)
import { createHash } from "node:crypto";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

const [dist, seconds] = process.argv.slice(2);
const { DdsTransport } = await import(pathToFileURL(join(dist, "src", "transport", "dds", "dds_transport.js")).href);
const transport = new DdsTransport({ rosout: false });
const node = transport.createNode("lent_image_digest");
const qos = { reliability: "reliable", durability: "volatile", history: "keep_last", depth: 10 };
const TOPICS = [
  ["sensor_msgs/msg/Image", "camera/color/image_raw"],
  ["sensor_msgs/msg/Image", "camera/aligned_depth_to_color/image_raw"],
  ["spatial_reward_msgs/msg/InstanceMasks", "camera/instances"],
];

function feed(h, key, v) {
  if (key === "stamp") return;
  if (ArrayBuffer.isView(v)) {
    h.update(`${key}:${v.constructor.name}[${v.byteLength}]=`);
    h.update(new Uint8Array(v.buffer, v.byteOffset, v.byteLength));
  } else if (Array.isArray(v)) {
    h.update(`${key}:[${v.length}]`);
    v.forEach((x, i) => feed(h, String(i), x));
  } else if (v !== null && typeof v === "object") {
    h.update(`${key}:{`);
    for (const k of Object.keys(v).sort()) feed(h, k, v[k]);
    h.update("}");
  } else {
    h.update(`${key}=${typeof v}:${String(v)};`);
  }
}

/** topic -> the last image and its lease, held. */
const held = new Map();
for (const [type, topic] of TOPICS) {
  node.createLentSubscription(type, topic, qos, (msg, lease) => {
    const h = createHash("sha256");
    feed(h, "", msg);
    const s = msg.header.stamp;
    const stamp = BigInt(s.sec) * 1_000_000_000n + BigInt(s.nanosec);
    process.stdout.write(`${JSON.stringify({ topic, stamp_ns: String(stamp), lent: lease !== 0, digest: h.digest("hex") })}\n`);
    const previous = held.get(topic);
    held.set(topic, { msg, lease });
    if (previous) node.releaseSample(previous.lease);
  });
}

// Ends on SIGTERM (once the peer is done), or after SECONDS.
let finished = false;
function finish() {
  if (finished) return;
  finished = true;
  clearTimeout(timer);
  const counters = { transport: transport.counters.snapshot(), node: node.counters().snapshot() };
  void transport.shutdown().then(() => {
    let heldBytes = 0;
    let releasedAfterShutdown = 0;
    for (const { msg, lease } of held.values()) {
      const data = msg.data ?? msg.mask.data;
      heldBytes += data[0] * 0 + data.length;
      if (transport.binding.releaseSample(lease)) releasedAfterShutdown++;
    }
    const pool = transport.binding.poolStats();
    process.stdout.write(`${JSON.stringify({ pool, counters, releasedAfterShutdown, heldBytes })}\n`);
  });
}
const timer = setTimeout(finish, Number(seconds) * 1000);
process.on("SIGTERM", finish);
