import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { netnsAvailable, runInNetns } from "./netns.js";

/**
 * `npm run bench:dds`: the node on the ROS 2 wire against a Cyclone DDS C peer, all inside a
 * private network namespace (loopback, multicast on), measured side by side in one run:
 *  - C-to-C image echo (cyclone_peer echo-source → echo-sink → back), 640x480 rgb8 @ 30 Hz;
 *  - the same echo through the TypeScript dds backend (bench/dds_echo_node.ts): the ratio of
 *    the two round trips at p50 is the node's added transport cost;
 *  - the full graph (perception, spatial, reward on the dds backend; reliable keep-all camera
 *    writers and inputs): C peer
 *    publishes 640x480 RGB-D + masks at 30 Hz, receives Reward; latency p50/p99, lost frames;
 *  - 4 cameras at once (4 peers, 4 node processes, one namespace each, as a launch file starts them);
 *  - with --soak-minutes M: one camera for M minutes, the node's CPU and resident memory sampled.
 */
const { values } = parseArgs({
  options: {
    seconds: { type: "string", default: "60" },
    cameras: { type: "string", default: "4" },
    "soak-minutes": { type: "string", default: "0" },
    json: { type: "boolean", default: false },
  },
});
const root = process.cwd();
const peer = join(root, "build", "peers", "cyclone_peer");
const cycloneConfig = join(root, "test", "interop", "cyclone_lo.xml");
const cli = join(root, "dist", "nodes", "cli", "main.js");
const echoNode = join(root, "dist", "bench", "dds_echo_node.js");
const seconds = Number(values.seconds);
const cameras = Number(values.cameras);
const soakMinutes = Number(values["soak-minutes"]);

function fail(msg: string): never {
  console.error(`bench:dds: ${msg}`);
  process.exit(1);
}
if (!netnsAvailable()) fail("cannot create a network namespace (needs root and unshare)");
// Build output goes to stderr: stdout carries only the JSON result.
if (spawnSync("bash", [join(root, "test", "interop", "build_peers.sh")], { stdio: ["ignore", 2, 2] }).status !== 0) fail("building the peers failed");
if (!existsSync(peer)) fail(`${peer} missing after build`);

const work = mkdtempSync(join(tmpdir(), "sr-dds-bench-"));
const dump = join(work, "dump");
if (spawnSync(process.execPath, [cli, "sim-dump", "--out", dump, "--frames", "90", "--noise", "realsense"], { stdio: "ignore" }).status !== 0) fail("sim-dump failed");
const spec = readFileSync(join(dump, "spec.txt"), "utf8").trim();
// Lossless capture (reliable keep-all inputs): "zero loss on reliable QoS" is measured.
const paramsFile = join(root, "launch", "params", "camera_graph_lossless.yaml");
const env = { CYCLONEDDS_URI: `file://${cycloneConfig}`, ROS_DOMAIN_ID: "0" };

/** The last line starting with `tag ` as JSON. */
function tagged(stdout: string, tag: string): unknown {
  const line = stdout.split("\n").reverse().find((l) => l.startsWith(`${tag} `));
  if (!line) throw new Error(`no ${tag} line in:\n${stdout}`);
  return JSON.parse(line.slice(tag.length + 1));
}

interface Rtt { sent: number; received: number; lost: number; rtt_ms: { p50: number; p90: number; p99: number; max: number } }
interface CameraSummary {
  sent_frames: number;
  received: Record<string, number>;
  reward_latency_ms: { p50: number; p90: number; p99: number; max: number };
  frames_without_reward: number;
}

async function echo(): Promise<{ c: Rtt; ts: Rtt }> {
  const source = `${peer} echo-source --width 640 --height 480 --rate 30 --seconds ${seconds} --wait-subscribers 10000`;
  const script = `
${peer} echo-sink --seconds ${seconds + 15} & S=$!
sleep 1
echo "@@C $(${source})"
kill $S; wait $S 2>/dev/null
node ${echoNode} & E=$!
sleep 1.5
echo "@@TS $(${source})"
kill -TERM $E; wait $E 2>/dev/null
`;
  const r = await runInNetns(script, (2 * seconds + 60) * 1000, env);
  return { c: tagged(r.stdout, "@@C") as Rtt, ts: tagged(r.stdout, "@@TS") as Rtt };
}

interface ProcSample { t: number; cpuS: number; rssMb: number }

function sampleProc(pid: number): ProcSample | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const ticks = Number(fields[11]) + Number(fields[12]);
    const rss = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return { t: Date.now() / 1000, cpuS: ticks / 100, rssMb: rss ? Number(rss[1]) / 1024 : NaN };
  } catch {
    return undefined;
  }
}

/**
 * n cameras, one peer each, each into its own node process (one graph per namespace), as a
 * launch file would start them; samples every node process. `n === 1` uses the root namespace.
 */
async function pipeline(n: number, runSeconds: number, sampleEveryS: number) {
  const namespaces = Array.from({ length: n }, (_, i) => (n === 1 ? "/" : `/cam${i}`));
  const graphs = namespaces.map((ns, i) => `node ${cli} launch ${paramsFile} --backend dds --namespaces ${ns} --duration 0 --json > ${work}/graph${i}.json 2> ${work}/graph${i}.err & G${i}=$!\necho "@@PID $G${i}"`);
  const peers = namespaces.map((ns, i) => {
    const prefix = ns === "/" ? "" : `--prefix ${ns}`;
    // Reliable and keep-all end to end (peer writers, node readers): slow moments delay, never drop.
    return `${peer} camera --dir ${dump} --rate 30 --seconds ${runSeconds} --keep-all --wait-subscribers 20000 ${prefix} --spec "${spec}" --out ${work}/peer${i}.jsonl > ${work}/peer${i}.json & P${i}=$!`;
  });
  const script = `
${graphs.join("\n")}
sleep 2
${peers.join("\n")}
${namespaces.map((_, i) => `wait $P${i}`).join("\n")}
${namespaces.map((_, i) => `kill -TERM $G${i}; wait $G${i}`).join("\n")}
${namespaces.map((_, i) => `echo "@@GRAPH${i} $(tail -n 1 ${work}/graph${i}.json)"`).join("\n")}
${namespaces.map((_, i) => `echo "@@PEER${i} $(tail -n 1 ${work}/peer${i}.json)"`).join("\n")}
`;
  const pids: number[] = [];
  const samples: ProcSample[] = [];
  let timer: ReturnType<typeof setInterval> | undefined;
  const r = await runInNetns(script, (runSeconds + 120) * 1000, env, (line) => {
    if (!line.startsWith("@@PID ")) return;
    pids.push(Number(line.slice(6)));
    if (timer) return;
    timer = setInterval(() => {
      // One sample summed over the node processes (CPU seconds and resident memory).
      const each = pids.map(sampleProc).filter((x): x is ProcSample => x !== undefined);
      if (each.length === pids.length) samples.push({ t: Date.now() / 1000, cpuS: each.reduce((a, x) => a + x.cpuS, 0), rssMb: each.reduce((a, x) => a + x.rssMb, 0) });
    }, sampleEveryS * 1000);
  });
  clearInterval(timer);
  const steady = namespaces.map((_, i) => steadyState(join(work, `peer${i}.jsonl`), 2));
  const graph = namespaces.map((_, i) => tagged(r.stdout, `@@GRAPH${i}`) as { rewards: number; counters: Record<string, unknown> });
  const perCamera = namespaces.map((_, i) => tagged(r.stdout, `@@PEER${i}`) as CameraSummary);
  // CPU while streaming: between the third and last sample (the node idles before the peers start).
  const first = samples[Math.min(2, samples.length - 1)];
  const last = samples[samples.length - 1];
  const cpuPercent = first && last && last.t > first.t ? (100 * (last.cpuS - first.cpuS)) / (last.t - first.t) : NaN;
  return { namespaces, perCamera, steady, graph, samples, cpuPercent, cpuPercentPerCamera: cpuPercent / n };
}

function pct(sorted: number[], q: number): number {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((q / 100) * sorted.length) - 1))] : NaN;
}

/**
 * From a peer's log: which frame indices never got a reward, and the latency once the node is
 * warm (frames sent after the first `warmupS` seconds), so start-up and steady state are told apart.
 */
function steadyState(path: string, warmupS: number) {
  const lines = readFileSync(path, "utf8").split("\n").filter((l) => l.trim()).map((l) => JSON.parse(l) as { topic: string; stamp_ns: number; recv_ns?: number; index?: number });
  const recv = new Map(lines.filter((l) => l.topic === "reward").map((l) => [l.stamp_ns, l.recv_ns ?? NaN]));
  const sent = lines.filter((l) => l.topic === "sent");
  const t0 = sent.length ? sent[0].stamp_ns : 0;
  const warm = sent.filter((l) => l.stamp_ns - t0 >= warmupS * 1e9);
  const lat = warm.filter((l) => recv.has(l.stamp_ns)).map((l) => (recv.get(l.stamp_ns)! - l.stamp_ns) / 1e6).sort((a, b) => a - b);
  return {
    missing_indices: sent.filter((l) => !recv.has(l.stamp_ns)).map((l) => l.index ?? -1),
    missing_after_warmup: warm.filter((l) => !recv.has(l.stamp_ns)).length,
    latency_after_warmup_ms: { p50: round(pct(lat, 50)), p90: round(pct(lat, 90)), p99: round(pct(lat, 99)), max: round(pct(lat, 100)), n: lat.length },
  };
}

/** Median resident memory per minute of the run: growth shows as a rising series. */
function rssPerMinute(samples: ProcSample[]): number[] {
  if (samples.length === 0) return [];
  const t0 = samples[0].t;
  const buckets: number[][] = [];
  for (const s of samples) (buckets[Math.floor((s.t - t0) / 60)] ??= []).push(s.rssMb);
  return buckets.map((b) => round([...b].sort((x, y) => x - y)[Math.floor(b.length / 2)], 1));
}

/** Least-squares slope of RSS (MB per minute) after the first fifth of the run (warm-up). */
function rssSlopeMbPerMin(samples: ProcSample[]): number {
  const s = samples.slice(Math.floor(samples.length / 5));
  if (s.length < 3) return NaN;
  const mt = s.reduce((a, x) => a + x.t, 0) / s.length;
  const mr = s.reduce((a, x) => a + x.rssMb, 0) / s.length;
  const num = s.reduce((a, x) => a + (x.t - mt) * (x.rssMb - mr), 0);
  const den = s.reduce((a, x) => a + (x.t - mt) ** 2, 0);
  return (num / den) * 60;
}

const round = (x: number, k = 3) => Math.round(x * 10 ** k) / 10 ** k;
const e = await echo();
const one = await pipeline(1, seconds, 1);
const many = await pipeline(cameras, Math.min(seconds, 30), 1);
const soak = soakMinutes > 0 ? await pipeline(1, soakMinutes * 60, 5) : undefined;
const out = {
  setup: { image: "640x480 rgb8 + 16UC1 depth + 16UC1 masks", rate_hz: 30, seconds, cameras, dds: "Cyclone DDS 0.10.2, private netns, loopback multicast" },
  echo_c_to_c: e.c,
  echo_through_ts_node: e.ts,
  echo_ratio_p50: round(e.ts.rtt_ms.p50 / e.c.rtt_ms.p50),
  pipeline_1_camera: {
    sent_frames: one.perCamera[0].sent_frames,
    rewards_received: one.perCamera[0].received.reward,
    frames_without_reward: one.perCamera[0].frames_without_reward,
    reward_latency_ms: one.perCamera[0].reward_latency_ms,
    after_warmup: one.steady[0],
    node_cpu_percent: round(one.cpuPercent, 1),
    node_counters: one.graph[0].counters,
  },
  pipeline_n_cameras: {
    cameras,
    per_camera: many.perCamera.map((c, i) => ({
      namespace: many.namespaces[i], sent: c.sent_frames, rewards: c.received.reward, without_reward: c.frames_without_reward,
      latency_ms: c.reward_latency_ms, after_warmup: many.steady[i],
    })),
    node_cpu_percent: round(many.cpuPercent, 1),
    node_cpu_percent_per_camera: round(many.cpuPercentPerCamera, 1),
  },
  soak: soak && {
    minutes: soakMinutes,
    sent: soak.perCamera[0].sent_frames,
    without_reward: soak.perCamera[0].frames_without_reward,
    latency_ms: soak.perCamera[0].reward_latency_ms,
    after_warmup: soak.steady[0],
    node_cpu_percent: round(soak.cpuPercent, 1),
    rss_mb_first: round(soak.samples[Math.floor(soak.samples.length / 5)]?.rssMb ?? NaN, 1),
    rss_mb_last: round(soak.samples[soak.samples.length - 1]?.rssMb ?? NaN, 1),
    rss_slope_mb_per_min: round(rssSlopeMbPerMin(soak.samples), 3),
    rss_mb_per_minute: rssPerMinute(soak.samples),
  },
  goals: {
    echo_ratio_p50_max: 1.5,
    echo_ratio_met: e.ts.rtt_ms.p50 / e.c.rtt_ms.p50 <= 1.5,
    zero_loss_reliable: one.perCamera[0].frames_without_reward === 0,
  },
};
console.log(values.json ? JSON.stringify(out) : JSON.stringify(out, null, 2));
console.error(`bench:dds: work files in ${resolve(work)}`);
