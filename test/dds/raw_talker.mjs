// A DDS participant in a process of its own, on the bare addon (no DdsTransport): publishes
// std_msgs/String samples on rt/<topic> every 50 ms for a while, then prints
// {"sent": n, "maxMatched": m} (m = most readers its writer was ever matched with).
// Usage: node raw_talker.mjs ADDON DOMAIN CONFIG TOPIC SECONDS
import { createRequire } from "node:module";
import { stringSample } from "./string_sample.mjs";

const [addon, domain, config, topic, seconds] = process.argv.slice(2);
const dds = createRequire(import.meta.url)(addon);
const participant = dds.createParticipant(Number(domain), config);
const t = dds.createTopic(participant, `rt/${topic}`, "std_msgs::msg::dds_::String_");
const writer = dds.createWriter(participant, t, { reliability: "reliable", durability: "volatile", history: "keep_last", depth: 10 });

let sent = 0;
let maxMatched = 0;
const timer = setInterval(() => {
  maxMatched = Math.max(maxMatched, dds.publicationMatched(writer));
  dds.write(writer, stringSample(`child ${sent}`));
  sent++;
}, 50);
setTimeout(() => {
  clearInterval(timer);
  dds.deleteEntity(participant);
  process.stdout.write(`${JSON.stringify({ sent, maxMatched })}\n`);
}, Number(seconds) * 1000);
