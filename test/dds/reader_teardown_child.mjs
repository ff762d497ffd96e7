// A process on the bare addon whose reader gets samples it never deletes: it writes 5
// std_msgs/String samples to its own reader, then (mode "end") lets its script end, so the event
// loop ends with a delivery queued (a reader does not keep the loop alive) and the delivery comes
// at environment teardown; or (mode "throw") the reader's callback throws, with a timer keeping
// the process alive for 1 s. Prints what it saw. Usage: node reader_teardown_child.mjs ADDON DOMAIN CONFIG MODE
import { createRequire } from "node:module";
import { stringSample } from "./string_sample.mjs";

const [addon, domain, config, mode] = process.argv.slice(2);
const dds = createRequire(import.meta.url)(addon);
const qos = { reliability: "reliable", durability: "volatile", history: "keep_all", depth: 1 };
const participant = dds.createParticipant(Number(domain), config);
const topic = dds.createTopic(participant, "rt/reader_teardown", "std_msgs::msg::dds_::String_");
const writer = dds.createWriter(participant, topic, qos);
let calls = 0;
dds.createReader(participant, topic, qos, () => {
  calls++;
  if (mode === "throw") throw new Error("reader callback failed on purpose");
});

for (let i = 0; i < 5; i++) dds.write(writer, stringSample(`sample ${i}`));
if (mode === "throw") setTimeout(() => console.log(`alive after ${calls} calls`), 1000);
else console.log(`script ended after ${calls} calls`);
