import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";
import { roudiAvailable, roudiPrelude } from "../../bench/iceoryx.js";
import { netnsAvailable, runInNetns } from "../../bench/netns.js";
import { DDS_AVAILABLE, DDS_REQUIRED } from "../dds/dds_env.js";
import { runChild } from "../run_child.js";

/**
 * A hostile process on the host writes iceoryx chunks straight into the service the node's
 * Cyclone readers subscribe to (cyclone_peer iox-hostile, test/interop/cyclone_peer/
 * iox_hostile_mode.c, whose header says what Cyclone 0.10.2 checks): lying iceoryx_header_t
 * (data_size, shm_data_state), lying bodies, a user header too small, lying chunk headers. The
 * node (test/interop/iox_hostile_reader.mjs: a lent and an ordinary subscription to the Image
 * topic) must refuse each one with a counted decode error, deliver no message of theirs, not
 * crash, and still receive the good chunks sent after them, every lease returned.
 * Cyclone only hands a chunk to the sertype when its header's guid names a writer it knows
 * (shm_monitor.c receive_data_wakeup_handler), so the peer uses the guid of a real DDS writer of
 * its own. Chunks that crashed the reader's process inside Cyclone or iceoryx before any code of
 * ours ran (no user header, a cleared user-header id, a wild payload offset, another chunk-header
 * version: iox_hostile_mode.c crash_case) are sent by the tests after the first, a case each.
 */
const root = fileURLToPath(new URL("../..", import.meta.url));
const dist = join(root, "dist");
const peer = join(root, "build", "peers", "cyclone_peer");
const CAN_RUN = DDS_AVAILABLE && netnsAvailable() && existsSync(join(dist, "src", "transport", "dds", "dds_transport.js")) && roudiAvailable();

describe.runIf(DDS_REQUIRED && !CAN_RUN)("hostile shared-memory chunks: prerequisites", () => {
  it("are present (required here)", () => {
    expect({ addon: DDS_AVAILABLE, netns: netnsAvailable(), dist: existsSync(dist), roudi: roudiAvailable() }).toEqual({ addon: true, netns: true, dist: true, roudi: true });
  });
});

/** Refused by the sertype (chunk_body_size): an empty sample, "(0 bytes)" in the decode error. */
const REFUSED = [
  "data_size_over_payload", "data_size_over_payload_large", "data_size_max", "state_raw", "state_uninitialized", "state_bogus",
  "user_header_16_forged_image", "payload_over_chunk", "chunk_size_4g",
];
/** A header the sertype accepts over a body the CDR reader refuses: error with data_size + 4 bytes. */
const UNDECODABLE = ["data_size_0", "data_size_1", "data_size_2", "data_size_3", "garbage", "truncated", "truncated_large", "huge_data_length", "huge_data_length_large", "huge_string_length"];
/**
 * Never delivered by Cyclone: the guid it reads from the header names no writer it knows
 * (shm_monitor.c: "unknown source entity, ignore"). user_header_8: with 8 bytes of user header the
 * guid's entity id falls on iceoryx's back-offset. Cyclone 0.10.2 never releases such a chunk
 * (fixed in 0.10.5, 84b8713f5); the addon's take guard does (native/src/iox_take_guard.c), and a
 * test sends 300, more than the 256 that exhausted the subscriber.
 */
const IGNORED = ["user_header_8", "unknown_writer"];

interface Received { sub: string; frame_id: string; width: number; height: number; encoding: string; step: number; dataLength: number; dataOk: boolean; lent: boolean }

describe.runIf(CAN_RUN)("hostile iceoryx chunks on the node's shared-memory readers", () => {
  let work = "";
  beforeAll(async () => {
    const built = await runChild("bash", [join(root, "test", "interop", "build_peers.sh"), "cyclone"], { timeoutMs: 600_000 });
    if (built.code !== 0) throw new Error(`building the peers failed:\n${built.stderr}`);
    work = mkdtempSync(join(tmpdir(), "sr-shm-hostile-"));
  }, 600_000);

  /** The reader under the peer's cases (and `peerArgs`), files named with `tag`; the script's result and its diagnostics. */
  async function runHostile(tag: string, peerArgs: string) {
    const script = `
${roudiPrelude(join(root, "test", "interop", "roudi.toml"), `${work}/roudi${tag}.log`)}
cd ${root}
CYCLONEDDS_URI=file://${root}/test/interop/cyclone_shm.xml node test/interop/iox_hostile_reader.mjs ${dist} 60 > ${work}/reader${tag}.out 2> ${work}/reader${tag}.err & N=$!
for i in $(seq 100); do grep -q ready ${work}/reader${tag}.out && break; sleep 0.1; done
CYCLONEDDS_URI=file://${root}/test/interop/cyclone_lo.xml ${peer} iox-hostile --topic camera/color/image_raw ${peerArgs} > ${work}/peer${tag}.out 2> ${work}/peer${tag}.err || echo "peer failed: $?" >&2
sleep 0.5
kill -TERM $N; wait $N; echo "reader exit $?" >&2
`;
    const r = await runInNetns(script, 120_000, { ROS_DOMAIN_ID: "0" });
    const diag = `${r.stderr}\n${readFileSync(join(work, `peer${tag}.err`), "utf8").slice(-1500)}\n${readFileSync(join(work, `reader${tag}.err`), "utf8").slice(-2000)}`;
    return { r, diag };
  }

  it("refuses every lying chunk, counted, without a crash or a wrong message, and still takes the good ones", async () => {
    const { r, diag } = await runHostile("", "--unknown-count 3");
    expect(r.code, diag).toBe(0);
    // The node's process ended by itself on SIGTERM: no crash.
    expect(r.stderr, diag).toContain("reader exit 0");
    expect(r.stderr, diag).not.toContain("peer failed");
    const sent = readFileSync(join(work, "peer.out"), "utf8").trim().split("\n").map((l) => JSON.parse(l) as { case?: string; data_size?: number; frame_id?: string; published?: number });
    const cases = sent.filter((s) => s.case !== undefined);
    expect(sent.at(-1)?.published).toBe(cases.length);
    const known = new Set([...REFUSED, ...UNDECODABLE, ...IGNORED, "good"]);
    expect(cases.filter((c) => !known.has(c.case!)), "every case the peer sent has an expectation here").toEqual([]);

    const out = JSON.parse(readFileSync(join(work, "reader.out"), "utf8").trim().split("\n").pop()!) as {
      received: Received[]; errors: string[]; counters: { transport: Record<string, number>; node: Record<string, number> }; pool: { leases: number };
    };
    // Only the good images arrived, each once per subscription, byte for byte as written.
    const good = cases.filter((c) => c.case === "good").map((c) => c.frame_id!);
    expect(good).toEqual(["good:first", "good:small", "good:large"]);
    for (const sub of ["lent", "plain"]) {
      const got = out.received.filter((m) => m.sub === sub);
      expect(got.map((m) => m.frame_id), sub).toEqual(good);
      for (const m of got) {
        expect(m.dataOk, `${sub} ${m.frame_id}`).toBe(true);
        expect([m.height, m.encoding, m.step, m.dataLength]).toEqual([1, "mono8", m.width, m.width]);
      }
    }
    // The large good image was lent straight from its chunk to the lent subscription.
    expect(out.received.find((m) => m.sub === "lent" && m.frame_id === "good:large")?.lent).toBe(true);
    expect(out.counters.node["lent_in_place./camera/color/image_raw"]).toBe(1);

    // Each refused or undecodable chunk: one decode error per subscription, counted and reported
    // with the sample's size: 0 for a chunk the sertype refused (never read as CDR), data_size + 4
    // (the implied encapsulation header) for a body the CDR reader refused.
    const expected: number[] = [];
    for (const c of cases) {
      if (REFUSED.includes(c.case!)) expected.push(0, 0);
      else if (UNDECODABLE.includes(c.case!)) expected.push(c.data_size! + 4, c.data_size! + 4);
    }
    const sizes = out.errors.map((e) => {
      const m = /undecodable sensor_msgs\/msg\/Image sample \((\d+) bytes\)/.exec(e);
      expect(m, e).not.toBeNull();
      return Number(m![1]);
    });
    expect(sizes.sort((a, b) => a - b)).toEqual(expected.sort((a, b) => a - b));
    expect(out.counters.node["errors.decode"]).toBe(expected.length);
    expect(out.counters.transport["errors.decode"]).toBe(expected.length);
    expect(out.counters.node["received./camera/color/image_raw"]).toBe(2 * good.length);
    expect(Object.keys(out.counters.node).filter((k) => /^(dropped|lost)\./.test(k))).toEqual([]);
    // Every lease went back.
    expect(out.pool.leases).toBe(0);
    // The chunks Cyclone dropped for naming a writer it does not know, given back to iceoryx by the
    // addon (Cyclone 0.10.2 kept them) and counted: one per subscription.
    const ignored = cases.filter((c) => IGNORED.includes(c.case!)).length;
    expect(ignored).toBeGreaterThan(0);
    expect(out.counters.transport["errors.shm_chunk_refused"]).toBe(2 * ignored);
  }, 180_000);

  it("300 chunks from writers Cyclone does not know are given back, so the reader still takes the good ones after them", async () => {
    const { r, diag } = await runHostile("_unknown", "--unknown-count 300");
    expect(r.code, diag).toBe(0);
    expect(r.stderr, diag).toContain("reader exit 0");
    const sent = readFileSync(join(work, "peer_unknown.out"), "utf8").trim().split("\n").map((l) => JSON.parse(l) as { case?: string });
    const ignored = sent.filter((c) => IGNORED.includes(c.case ?? "")).length;
    expect(ignored).toBeGreaterThanOrEqual(300);
    const out = JSON.parse(readFileSync(join(work, "reader_unknown.out"), "utf8").trim().split("\n").pop()!) as {
      received: Received[]; counters: { transport: Record<string, number> }; pool: { leases: number; shmChunksHeld: number };
    };
    // Before, each stayed taken: past iceoryx's 256 per subscriber Cyclone took nothing more, and
    // the good images sent after them never came (only good:first, sent before them, did).
    for (const sub of ["lent", "plain"]) {
      expect(out.received.filter((m) => m.sub === sub).map((m) => m.frame_id), sub).toEqual(["good:first", "good:small", "good:large"]);
    }
    expect(out.counters.transport["errors.shm_chunk_refused"]).toBe(2 * ignored);
    expect(out.pool.leases).toBe(0);
  }, 180_000);

  // The chunks that crashed the reader's process before any code of ours ran (iox_hostile_mode.c
  // crash_case): 1-3 in Cyclone's shm_monitor (SIGSEGV), now kept from it by the addon's take
  // guard (native/src/iox_take_guard.c); 4 in iceoryx (abort on its assertion), now counted by
  // the addon's iceoryx error handler (native/src/iox_errors.h). 5 passes the guard's checks as a
  // chunk to give back, and iceoryx aborted when the guard gave it back (the back-offset it
  // releases by leads to no chunk the subscriber holds); now the error handler lets that release fail.
  it.each([
    [1, "no user header"],
    [2, "a cleared user-header id"],
    [3, "a payload offset 3 GB past the chunk"],
    [4, "a chunk header of another version"],
    [5, "a back-offset leading to a forged chunk header that agrees with it"],
  ])("crash case %i (%s): refused and counted, and the reader lives on", async (crashCase) => {
    const tag = `_crash${crashCase}`;
    const { r, diag } = await runHostile(tag, `--unknown-count 0 --crash-case ${crashCase}`);
    expect(r.code, diag).toBe(0);
    expect(r.stderr, diag).toContain("reader exit 0");
    expect(r.stderr, diag).not.toContain("peer failed");
    const out = JSON.parse(readFileSync(join(work, `reader${tag}.out`), "utf8").trim().split("\n").pop()!) as {
      received: Received[]; counters: { transport: Record<string, number>; node: Record<string, number> }; pool: { leases: number };
    };
    // One per iceoryx subscriber the chunk reached: the lent and the plain subscription's, beside
    // those of the run's unknown-writer chunks (given back, see the test before).
    // Before, the reader's process died (SIGSEGV in Cyclone for 1-3, SIGABRT in iceoryx for 4).
    const sent = readFileSync(join(work, `peer${tag}.out`), "utf8").trim().split("\n").map((l) => JSON.parse(l) as { case?: string });
    const ignored = sent.filter((c) => IGNORED.includes(c.case ?? "")).length;
    expect(out.counters.transport["errors.shm_chunk_refused"]).toBe(2 + 2 * ignored);
    // The good images sent after it still came, to both subscriptions, intact.
    for (const sub of ["lent", "plain"]) {
      const got = out.received.filter((m) => m.sub === sub);
      expect(got.map((m) => m.frame_id), sub).toEqual(["good:first", "good:small", "good:large"]);
      for (const m of got) expect(m.dataOk, `${sub} ${m.frame_id}`).toBe(true);
    }
    expect(out.received.some((m) => m.frame_id.startsWith("hostile:"))).toBe(false);
    expect(out.pool.leases).toBe(0);
  }, 180_000);
});
