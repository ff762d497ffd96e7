// Run by test/interop/cyclone_shm inside a network namespace with RouDi up and CYCLONEDDS_URI
// enabling shared memory: one process's writer and reader on a keep-last topic, so every sample
// goes through this project's sertype's serialize_into and from_iox_buffer. Prints one JSON line.
import { loadDdsBinding } from "../../dist/src/transport/dds/native_binding.js";

const b = loadDdsBinding();

/** A writer on `topic`, once its reader in this process has matched it (or after 5 s). */
async function matchedWriter(pp, topic, qos) {
  const writer = b.createWriter(pp, topic, qos);
  const deadline = Date.now() + 5000;
  while (b.publicationMatched(writer) < 1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  return writer;
}

/** `n` samples of `bytes` (a CDR header and zeros), 2 ms apart; the writes that went and the distinct errors of those that did not. */
async function writePaced(writer, n, bytes) {
  const sample = new Uint8Array(bytes);
  sample.set([0, 1, 0, 0]);
  const failures = new Set();
  let written = 0;
  for (let i = 0; i < n; i++) {
    try {
      b.write(writer, sample);
      written++;
    } catch (e) {
      failures.add(e.message);
    }
    await new Promise((r) => setTimeout(r, 2));
  }
  return { written, failures: [...failures] };
}

// `raw-reader N`: only a reader for N samples of cyclone_peer fixed-writer's fixed-size type, which
// shared memory carries raw (not CDR): each must arrive empty (malformed), none as bytes.
if (process.argv[2] === "raw-reader") {
  const want = Number(process.argv[3]);
  const pp = b.createParticipant(0);
  const topic = b.createTopic(pp, "rt/shm_fixed", "spatial_reward_test::msg::dds_::Fixed_");
  const lengths = [];
  const reader = b.createReader(pp, topic, { reliability: "reliable", durability: "volatile", history: "keep_last", depth: 10 }, (views) => {
    for (const v of views) lengths.push(v.length);
  });
  console.log("ready");
  const until = Date.now() + 15000;
  while (lengths.length < want && Date.now() < until) await new Promise((r) => setTimeout(r, 10));
  console.log(JSON.stringify({ lengths, stats: b.readerStats(reader) }));
  b.deleteEntity(pp);
  process.exit(0);
}
// `give-hold N BYTES`: this process's writer sends N samples of BYTES (copied out of their chunk
// on arrival, given to JS) to its own reader, which keeps every view: the chunks must not stay
// taken with them.
if (process.argv[2] === "give-hold") {
  const [n, bytes] = [Number(process.argv[3]), Number(process.argv[4])];
  const qos = { reliability: "reliable", durability: "volatile", history: "keep_last", depth: 10 };
  const pp = b.createParticipant(0);
  const topic = b.createTopic(pp, "rt/shm_give_hold", "std_msgs::msg::dds_::UInt8MultiArray_");
  const kept = [];
  b.createReader(pp, topic, qos, (views) => { for (const v of views) kept.push(v); });
  const writer = await matchedWriter(pp, topic, qos);
  const { written, failures } = await writePaced(writer, n, bytes);
  await new Promise((r) => setTimeout(r, 300));
  const pool = b.poolStats();
  console.log(JSON.stringify({ written, failures, received: kept.length, shmCopied: pool.shmCopied, shmChunksHeld: pool.shmChunksHeld, sharedMemory: b.sharedMemory?.(writer) }));
  b.deleteEntity(pp);
  process.exit(0);
}
// `burst N`: this process's writer sends bursts of N small samples back to back to its own
// keep-last 1 reader, whose iceoryx queue (capacity 1) then overflows whenever Cyclone's receive
// thread falls behind: the reader must count it (shmLost, within lost), as Cyclone does not.
// Up to 5 bursts, until one is counted.
if (process.argv[2] === "burst") {
  const n = Number(process.argv[3]);
  const qos = { reliability: "reliable", durability: "volatile", history: "keep_last", depth: 1 };
  const pp = b.createParticipant(0);
  const topic = b.createTopic(pp, "rt/shm_burst", "std_msgs::msg::dds_::UInt8MultiArray_");
  let received = 0;
  let lostSeen = 0;
  const reader = b.createReader(pp, topic, qos, (views, _dropped, lost) => {
    received += views.length;
    lostSeen = lost;
  });
  const writer = await matchedWriter(pp, topic, qos);
  const sample = new Uint8Array([0, 1, 0, 0, 4, 0, 0, 0, 1, 2, 3, 4]);
  let written = 0, bursts = 0;
  while (bursts < 5 && b.readerStats(reader).shmLost === 0) {
    bursts++;
    for (let i = 0; i < n; i++) {
      b.write(writer, sample);
      written++;
    }
    await new Promise((r) => setTimeout(r, 300));
  }
  const stats = b.readerStats(reader);
  console.log(JSON.stringify({ written, bursts, received, lostSeen, lost: stats.lost, shmLost: stats.shmLost, shmCopied: b.poolStats().shmCopied }));
  b.deleteEntity(pp);
  process.exit(0);
}
// `deep-hold DEPTH N BYTES`: this process's writer sends N samples of BYTES (large: lent in place)
// to its own lent keep-last DEPTH reader, whose consumer keeps every lease (a node holding frames
// while one topic stalls). iceoryx lets one subscriber hold a fixed number of chunks (256 in
// Debian's build): past that Cyclone takes nothing more from it and the rest would be lost
// unseen. Every sample must arrive (the reader copies once it would hold too many chunks).
// Prints what came, how, and whether creating the reader was refused.
if (process.argv[2] === "deep-hold") {
  const [depth, n, bytes] = [Number(process.argv[3]), Number(process.argv[4]), Number(process.argv[5])];
  const qos = { reliability: "reliable", durability: "volatile", history: "keep_last", depth };
  const pp = b.createParticipant(0);
  const topic = b.createTopic(pp, "rt/shm_deep_hold", "std_msgs::msg::dds_::UInt8MultiArray_");
  const leases = [];
  let received = 0, lost = 0, dropped = 0;
  let reader;
  try {
    reader = b.createReader(pp, topic, qos, (views, d, l, ls) => {
      received += views.length;
      lost = l;
      dropped = d;
      for (let i = 0; i < views.length; i++) if (ls[i] !== 0) leases.push(ls[i]);
    }, { lend: true });
  } catch (e) {
    console.log(JSON.stringify({ refused: e.message }));
    b.deleteEntity(pp);
    process.exit(0);
  }
  const writer = await matchedWriter(pp, topic, qos);
  const { written, failures } = await writePaced(writer, n, bytes);
  const until = Date.now() + 3000;
  while (received < written && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
  const pool = b.poolStats();
  const stats = b.readerStats(reader);
  console.log(JSON.stringify({
    written, failures, received, lost, dropped, lent: leases.length,
    shmInPlace: pool.shmInPlace, shmCopied: pool.shmCopied, shmChunksHeld: pool.shmChunksHeld, shmLost: stats.shmLost,
  }));
  for (const l of leases) b.releaseSample(l);
  b.deleteEntity(pp);
  process.exit(0);
}
// `too-large BYTES`: this process's writer sends 3 samples of BYTES, larger than RouDi's largest
// pool, then 20 small ones to its own reader. iceoryx's reaction to such a loan is abort() in
// Debian's build: each large write must fail with an error instead, and the small ones arrive.
if (process.argv[2] === "too-large") {
  const bytes = Number(process.argv[3]);
  const qos = { reliability: "reliable", durability: "volatile", history: "keep_last", depth: 30 };
  const pp = b.createParticipant(0);
  const topic = b.createTopic(pp, "rt/shm_too_large", "std_msgs::msg::dds_::UInt8MultiArray_");
  let received = 0;
  b.createReader(pp, topic, qos, (views) => { received += views.length; });
  const writer = await matchedWriter(pp, topic, qos);
  const large = new Uint8Array(bytes);
  large.set([0, 1, 0, 0]);
  const errors = [];
  const largeMs = [];
  for (let i = 0; i < 3; i++) {
    const t0 = performance.now();
    try {
      b.write(writer, large);
      errors.push(null);
    } catch (e) {
      errors.push(e.message);
    }
    largeMs.push(Math.round((performance.now() - t0) * 10) / 10);
  }
  const small = new Uint8Array(1000);
  small.set([0, 1, 0, 0]);
  let written = 0;
  for (let i = 0; i < 20; i++) {
    b.write(writer, small);
    written++;
    await new Promise((r) => setTimeout(r, 2));
  }
  const until = Date.now() + 3000;
  while (received < written && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
  console.log(JSON.stringify({ errors, largeMs, written, received, sharedMemory: b.sharedMemory?.(writer) }));
  b.deleteEntity(pp);
  process.exit(0);
}
const qos = { reliability: "reliable", durability: "volatile", history: "keep_last", depth: 10 };
const pp = b.createParticipant(0);
const topic = b.createTopic(pp, "rt/shm_probe", "std_msgs::msg::dds_::UInt8MultiArray_");
const got = [];
b.createReader(pp, topic, qos, (views) => { for (const v of views) got.push(Array.from(v)); });
const writer = await matchedWriter(pp, topic, qos);

const outcome = (f) => { try { f(); return "ok"; } catch (e) { return `refused: ${e.message}`; } };
// Little-endian XCDR1 (what the TypeScript writers produce): 12-byte body.
const le = Uint8Array.from([0, 1, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
// Big-endian: a chunk carries no header, so its body would be read in the wrong byte order.
const be = Uint8Array.from([0, 0, 0, 0, 1, 2, 3, 4]);
// XCDR2 little-endian (0x0007): another representation, same problem.
const xcdr2 = Uint8Array.from([0, 7, 0, 0, 1, 2, 3, 4]);
// Each refusal is repeated past iceoryx's 8 chunks a publisher may hold at once: a refused write
// must not keep the chunk it was given, or the writer could send nothing afterwards.
const refused = (bytes) => [...new Set(Array.from({ length: 10 }, () => outcome(() => b.write(writer, bytes))))].join(" | ");
const result = {
  be: refused(be),
  xcdr2: refused(xcdr2),
  short: refused(Uint8Array.from([0, 1, 0])),
  le: outcome(() => b.write(writer, le)),
};
const until = Date.now() + 3000;
while (got.length < 1 && Date.now() < until) await new Promise((r) => setTimeout(r, 10));
await new Promise((r) => setTimeout(r, 200));
console.log(JSON.stringify({ ...result, received: got }));
b.deleteEntity(pp);
