import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";
import { roudiAvailable, roudiPrelude } from "../../bench/iceoryx.js";
import { netnsAvailable, runInNetns } from "../../bench/netns.js";
import { parseUdpCounters } from "../../bench/udp_counters.js";
import { DDS_AVAILABLE, DDS_REQUIRED } from "../dds/dds_env.js";
import { runChild } from "../run_child.js";

/**
 * The node and a Cyclone DDS C camera peer on one host with Cyclone's shared memory (iceoryx)
 * enabled (test/interop/cyclone_shm.xml, RouDi with test/interop/roudi.toml), in a private
 * network namespace: the keep-last endpoints exchange iceoryx chunks. The camera's frames, the
 * graph's own topics (scene, reward) and the replies to the peer all go through the node's
 * sertype's shared-memory operations (raw_sertype.c); before them a chunk made the node call a
 * NULL function and die at its first sample. The task is a parameter here, not the latched
 * reward/spec: Cyclone 0.10 over iceoryx may drop a transient-local sample written before the
 * reader's iceoryx subscription is connected (eclipse-cyclonedds/cyclonedds#1584); that is
 * Cyclone's, and README's shared-memory section says so.
 */
const root = fileURLToPath(new URL("../..", import.meta.url));
const cli = join(root, "dist", "nodes", "cli", "main.js");
const peer = join(root, "build", "peers", "cyclone_peer");
const paramsFile = join(root, "launch", "params", "camera_graph_shm.yaml");
const env = { CYCLONEDDS_URI: `file://${join(root, "test", "interop", "cyclone_shm.xml")}`, ROS_DOMAIN_ID: "0" };
const CAN_RUN = DDS_AVAILABLE && netnsAvailable() && existsSync(cli) && roudiAvailable();

describe.runIf(DDS_REQUIRED && !CAN_RUN)("shared-memory interop prerequisites", () => {
  it("are present (required here)", () => {
    expect({ addon: DDS_AVAILABLE, netns: netnsAvailable(), dist: existsSync(cli), roudi: roudiAvailable() }).toEqual({ addon: true, netns: true, dist: true, roudi: true });
  });
});

interface PeerSummary {
  sent_frames: number;
  received: { reward: number; answer: number; detections3d: number };
  frames_without_reward: number;
  write_timeouts: number;
}

describe.runIf(CAN_RUN)("interop over Cyclone's shared memory (iceoryx) with a C camera peer", () => {
  let work = "";

  beforeAll(async () => {
    const built = await runChild("bash", [join(root, "test", "interop", "build_peers.sh"), "cyclone"], { timeoutMs: 600_000 });
    if (built.code !== 0) throw new Error(`building the peers failed:\n${built.stderr}`);
    work = mkdtempSync(join(tmpdir(), "sr-shm-"));
    const dumped = await runChild(process.execPath, [cli, "sim-dump", "--out", join(work, "dump"), "--frames", "60", "--noise", "none", "--seed", "7"], { timeoutMs: 300_000 });
    if (dumped.code !== 0) throw new Error(`sim-dump failed:\n${dumped.stderr}`);
    const spec = readFileSync(join(work, "dump", "spec.txt"), "utf8").trim();
    const params = readFileSync(paramsFile, "utf8");
    if (!params.includes('reward_spec: ""')) throw new Error(`${paramsFile} has no reward_spec to fill`);
    writeFileSync(join(work, "graph.yaml"), params.replace('reward_spec: ""', `reward_spec: ${JSON.stringify(spec)}`));
  }, 600_000);

  it("every frame in as chunks, not datagrams; every reward and detection back", async () => {
    // The peer's camera writers are reliable keep-last 10 (the ROS 2 default): shared memory
    // takes keep-last endpoints only. UDP datagrams are counted over the peer's run.
    const script = `
${roudiPrelude(join(root, "test", "interop", "roudi.toml"), `${work}/roudi.log`)}
cd ${root}
node ${cli} launch ${work}/graph.yaml --backend dds --duration 0 --json > ${work}/graph.json 2> ${work}/graph.err & G=$!
sleep 1
cat /proc/self/net/snmp > ${work}/snmp_before
${peer} camera --dir ${work}/dump --rate 30 --seconds 4 --wait-subscribers 15000 --out ${work}/peer.jsonl > ${work}/peer_summary.json
cat /proc/self/net/snmp > ${work}/snmp_after
kill -TERM $G; wait $G
`;
    const r = await runInNetns(script, 120_000, env);
    expect(r.code, `${r.stderr}\n${readFileSync(join(work, "graph.err"), "utf8").slice(-2000)}`).toBe(0);
    const summary = JSON.parse(readFileSync(join(work, "peer_summary.json"), "utf8")) as PeerSummary;
    const graph = JSON.parse(readFileSync(join(work, "graph.json"), "utf8").trim().split("\n").pop()!) as {
      counters: Record<string, { perception: Record<string, number>; reward: Record<string, number>; transport: Record<string, Record<string, number>> }>;
    };
    expect(summary.sent_frames).toBeGreaterThanOrEqual(110);
    expect(summary.frames_without_reward).toBe(0);
    expect(summary.received.reward).toBe(summary.sent_frames);
    expect(summary.received.detections3d).toBe(summary.sent_frames);
    const counters = graph.counters["/"];
    expect(counters.perception.frames_in).toBe(summary.sent_frames);
    expect(counters.perception.frames_out).toBe(summary.sent_frames);
    expect(counters.reward.rewards_out).toBe(summary.sent_frames);
    expect(Object.keys(counters.perception).filter((k) => k.startsWith("errors."))).toEqual([]);
    // Nothing overflowed the keep-last inputs or went missing in the transport.
    expect(Object.keys(counters.transport.perception).filter((k) => /^(dropped|lost|errors)\./.test(k))).toEqual([]);
    expect(counters.transport.perception["received./camera/color/image_raw"]).toBe(summary.sent_frames);

    // Over UDP a 640x480 RGB-D + masks frame is ~37 datagrams of 62 KB (bench:dds); here only
    // discovery, heartbeats and acknowledgements remain.
    const before = parseUdpCounters(readFileSync(join(work, "snmp_before"), "utf8"))!;
    const after = parseUdpCounters(readFileSync(join(work, "snmp_after"), "utf8"))!;
    const datagrams = after.inDatagrams - before.inDatagrams;
    expect(datagrams / summary.sent_frames).toBeLessThan(5);
  }, 180_000);

  it("the simulator's camera node in another process writes its frames as chunks to the graph (the node's own writers on both ends)", async () => {
    // Best-effort keep-last camera QoS (as drivers publish), 32FC1 depth: 1.2 MB samples through
    // this sertype's serialize_into on the writing side and from_iox_buffer on the reading side.
    const script = `
${roudiPrelude(join(root, "test", "interop", "roudi.toml"), `${work}/roudi_sim.log`)}
cd ${root}
node ${cli} launch launch/params/camera_graph.yaml --backend dds --duration 0 --json > ${work}/sim_graph.json 2> ${work}/sim_graph.err & G=$!
sleep 2
cat /proc/self/net/snmp > ${work}/sim_snmp_before
node ${cli} sim --backend dds --rate 30 --noise none --frames 300 > /dev/null 2> ${work}/sim.err & S=$!
sleep 6
cat /proc/self/net/snmp > ${work}/sim_snmp_after
kill -TERM $S; wait $S
sleep 0.5
kill -TERM $G; wait $G
`;
    const r = await runInNetns(script, 120_000, env);
    expect(r.code, `${r.stderr}\n${readFileSync(join(work, "sim.err"), "utf8").slice(-2000)}`).toBe(0);
    const graph = JSON.parse(readFileSync(join(work, "sim_graph.json"), "utf8").trim().split("\n").pop()!) as {
      counters: Record<string, { perception: Record<string, number>; spatial: Record<string, number>; transport: Record<string, Record<string, number>> }>;
    };
    const c = graph.counters["/"];
    // ~6 s at 30 Hz; best effort, so a frame may go, but nearly all arrive and are processed.
    expect(c.perception.frames_out).toBeGreaterThan(120);
    expect(c.transport.perception["received./camera/aligned_depth_to_color/image_raw"]).toBeGreaterThan(120);
    expect(Object.keys(c.perception).filter((k) => k.startsWith("errors."))).toEqual([]);
    // The graph's own volatile topic (not the latched spec, see the file's header).
    expect(c.spatial.scenes_in).toBe(c.perception.frames_out);
    const before = parseUdpCounters(readFileSync(join(work, "sim_snmp_before"), "utf8"))!;
    const after = parseUdpCounters(readFileSync(join(work, "sim_snmp_after"), "utf8"))!;
    expect((after.inDatagrams - before.inDatagrams) / c.perception.frames_out).toBeLessThan(5);
  }, 180_000);

  it("a writer on shared memory sends the CDR body and the reader gets the sample back whole; another byte order or representation is refused, not sent", async () => {
    // Refusals happen only on the shared-memory path (serialize_into): over UDP the bytes go as given.
    const script = `
${roudiPrelude(join(root, "test", "interop", "roudi.toml"), `${work}/roudi_probe.log`)}
node ${join(root, "test", "interop", "shm_writer_probe.mjs")}
`;
    const r = await runInNetns(script, 60_000, env);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout.trim().split("\n").pop()!) as Record<string, unknown>;
    expect(out.le).toBe("ok");
    expect(out.be).toMatch(/^refused: dds_write/);
    expect(out.xcdr2).toMatch(/^refused: dds_write/);
    expect(out.short).toMatch(/^refused: .*4-byte encapsulation header/);
    // Exactly the little-endian sample, header put back: nothing of the refused ones arrived.
    expect(out.received).toEqual([[0, 1, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]]);
  }, 120_000);

  it("raw chunks from a fixed-size type under a type name of ours arrive as empty samples, never read as CDR", async () => {
    const script = `
${roudiPrelude(join(root, "test", "interop", "roudi.toml"), `${work}/roudi_raw.log`)}
node ${join(root, "test", "interop", "shm_writer_probe.mjs")} raw-reader 5 > ${work}/raw_reader.out & N=$!
sleep 1
${peer} fixed-writer --topic shm_fixed --count 5 --wait-subscribers 10000 > ${work}/fixed_writer.json
wait $N
`;
    const r = await runInNetns(script, 60_000, env);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(readFileSync(join(work, "fixed_writer.json"), "utf8"))).toEqual({ written: 5, shared_memory: true });
    const out = JSON.parse(readFileSync(join(work, "raw_reader.out"), "utf8").trim().split("\n").pop()!) as { lengths: number[] };
    expect(out.lengths).toEqual([0, 0, 0, 0, 0]);
  }, 120_000);
});
