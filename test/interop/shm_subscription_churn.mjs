// Run by test/interop/cyclone_shm inside a network namespace with RouDi up, shared memory enabled
// and the C camera peer streaming: a lent subscription to the color images (reliable keep-last
// 10, as the perception node's) is created and destroyed CYCLES times. Each one takes a few
// frames, all lent in place from their iceoryx chunks; the last three stay held (their leases
// kept) while the subscription, its reader and its iceoryx subscriber are deleted, and are
// released only after. Prints one JSON line: what came, what was released late, and the addon's
// poolStats() after the last release and after shutdown.
// Usage: node shm_subscription_churn.mjs DIST_DIR CYCLES
import { join } from "node:path";
import { pathToFileURL } from "node:url";

const [dist, cyclesArg] = process.argv.slice(2);
const { DdsTransport } = await import(pathToFileURL(join(dist, "src", "transport", "dds", "dds_transport.js")).href);
const transport = new DdsTransport({ rosout: false });
const node = transport.createNode("shm_subscription_churn");
const qos = { reliability: "reliable", durability: "volatile", history: "keep_last", depth: 10 };
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const cycles = Number(cyclesArg);
let received = 0;
let lent = 0;
let heldAtDestroy = 0;
let releasedLate = 0;
let cyclesWithFrames = 0;
for (let c = 0; c < cycles; c++) {
  const held = [];
  let n = 0;
  const sub = node.createLentSubscription("sensor_msgs/msg/Image", "camera/color/image_raw", qos, (msg, lease) => {
    n++;
    if (lease === 0) return;
    lent++;
    held.push({ msg, lease });
    if (held.length > 3) node.releaseSample(held.shift().lease);
  });
  const until = Date.now() + 5000;
  while (n < 4 && Date.now() < until) await sleep(5);
  if (n > 0) cyclesWithFrames++;
  received += n;
  heldAtDestroy += held.length;
  sub.destroy();
  // Long enough for RouDi to take the deleted subscriber's chunks back (its discovery loop).
  await sleep(150);
  for (const h of held) {
    // Still mapped, so still readable (not necessarily the same image: see sample_lending.ts).
    if (h.msg.data[h.msg.data.length - 1] === undefined) throw new Error("lent image unreadable");
    if (transport.binding.releaseSample(h.lease)) releasedLate++;
  }
}
const afterRelease = transport.binding.poolStats();
await transport.shutdown();
const afterShutdown = transport.binding.poolStats();
console.log(JSON.stringify({ cycles, cyclesWithFrames, received, lent, heldAtDestroy, releasedLate, afterRelease, afterShutdown, counters: node.counters().snapshot() }));
