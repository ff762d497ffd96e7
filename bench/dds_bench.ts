import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { roudiAvailable, roudiPrelude } from "./iceoryx.js";
import { netnsAvailable, runInNetns } from "./netns.js";
import { jsWaitDuring, waitSummary, WaitAccumulator, type WaitSample } from "./sched_wait.js";
import { benchArgs, benchChoice, benchInt } from "./bench_args.js";
import { udpCountersOf, type UdpCounters } from "./udp_counters.js";

/**
 * `npm run bench:dds`: the node on the ROS 2 wire against a Cyclone DDS C peer, all inside a
 * private network namespace (loopback, multicast on), measured side by side in one run:
 *  - C-to-C image echo (cyclone_peer echo-source → echo-sink → back), 640x480 rgb8 @ 30 Hz;
 *  - the C floor: one camera into three cyclone_peer camera-sinks (take the camera's four topics
 *    with the node's QoS and nothing more: deserialised, --raw, --raw with glibc keeping freed
 *    memory): their CPU per frame, and the node's over each;
 *  - the same echo through the TypeScript dds backend (bench/dds_echo_node.ts): the ratio of
 *    the two round trips at p50 is the node's added transport cost;
 *  - the full graph (perception, spatial, reward on the dds backend; reliable keep-all camera
 *    writers and inputs): C peer
 *    publishes 640x480 RGB-D + masks at 30 Hz, receives Reward; latency p50/p99, lost frames;
 *  - n cameras at once (n peers; --layout processes: n node processes, one namespace each, as a
 *    launch file starts them; --layout process: one process serving n namespaces; both: each);
 *  - with --soak-minutes M: one camera for M minutes, the node's CPU and resident memory sampled;
 *  - --camera-fragments large|default: the camera peers send 62000-byte fragments in 64 KB
 *    loopback datagrams (default here, test/interop/cyclone_lo.xml) or Cyclone's own 1344-byte
 *    fragments, as a camera driver without that config does (see cameraConfig);
 *  - --transport shm: everything above over Cyclone's shared memory (iceoryx; RouDi started per
 *    part with test/interop/roudi.toml, test/interop/cyclone_shm.xml for every process) instead
 *    of loopback UDP. Shared memory takes keep-last endpoints only, so the camera writers, the
 *    node's camera inputs (launch/params/camera_graph_shm.yaml, depth 10) and the C sinks' readers
 *    are reliable keep-last 10 there; a frame overwritten before the node took it is counted
 *    (dropped.<topic>) and shows as a frame without reward. The task is the reward_spec
 *    parameter, not the latched topic (see camera_graph_shm.yaml).
 *
 * Latency is reported over the whole run from the first frame (`whole_run`: what a user sees,
 * start-up included; the node warms up before it subscribes) and once warm (`steady`: frames sent
 * 2 s or more after the first). CPU is the node processes' (all threads: JS, V8's GC and compiler
 * threads, Cyclone's receive threads) while the peers stream, per camera as a percentage of one
 * core and per frame in ms; `perception_ms_per_frame` is the JS thread's CPU inside
 * Perception.process (the node's cpu_ms.perception counter, thread clock), and
 * `outside_perception_ms_per_frame` the rest: DDS take, CDR decode, synchronisation, publishing
 * rewards, answers, detections and diagnostics; `threads_ms_per_frame` splits the same CPU by
 * thread (the JS thread, V8's compiler and GC helpers, Cyclone's receive and other threads).
 * `runqueue_wait_ms_per_s` is how long the node processes' threads waited for a CPU (Linux
 * schedstat run-queue delay, ms per second of wall time, mean and worst 100 ms interval over the
 * frames' span) and, for the slowest frame, how long the JS thread waited while it was in flight:
 * on a shared host a whole-run p99 far above the steady one is the scheduler when that wait is
 * most of the frame's latency (see bench/sched_wait.ts).
 * `udp` counts the window's datagrams in the namespace and those dropped for a full socket receive
 * buffer (a reliable stream then retransmits: receive CPU the node's code does not explain).
 * The host's load average is recorded beside the figures: on a loaded host latency mostly
 * measures the scheduler, CPU time much less so.
 */
const { values } = benchArgs("bench:dds", "npm run bench:dds -- [--seconds S] [--cameras N] [--layout processes|process|both] [--soak-minutes M] [--camera-fragments large|default] [--transport udp|shm] [--json]", {
  options: {
    seconds: { type: "string", default: "60" },
    cameras: { type: "string", default: "4" },
    layout: { type: "string", default: "processes" },
    "soak-minutes": { type: "string", default: "0" },
    "camera-fragments": { type: "string", default: "large" },
    transport: { type: "string", default: "udp" },
    json: { type: "boolean", default: false },
  },
});
const root = process.cwd();
const peer = join(root, "build", "peers", "cyclone_peer");
const shm = benchChoice("bench:dds", "transport", values.transport, ["udp", "shm"] as const) === "shm";
const cycloneConfig = join(root, "test", "interop", shm ? "cyclone_shm.xml" : "cyclone_lo.xml");
const cli = join(root, "dist", "nodes", "cli", "main.js");
const echoNode = join(root, "dist", "bench", "dds_echo_node.js");
const seconds = benchInt("bench:dds", "seconds", values.seconds, 1, 3600);
const cameras = benchInt("bench:dds", "cameras", values.cameras, 1, 16);
const soakMinutes = benchInt("bench:dds", "soak-minutes", values["soak-minutes"], 0, 1440);
const layout = benchChoice("bench:dds", "layout", values.layout, ["processes", "process", "both"] as const);
const cameraFragments = benchChoice("bench:dds", "camera-fragments", values["camera-fragments"], ["large", "default"] as const);

function fail(msg: string): never {
  console.error(`bench:dds: ${msg}`);
  process.exit(1);
}
if (!netnsAvailable()) fail("cannot create a network namespace (needs root and unshare)");
if (shm && !roudiAvailable()) fail("--transport shm needs iceoryx's RouDi (iox-roudi; Debian package iceoryx)");
// Build output goes to stderr: stdout carries only the JSON result.
if (spawnSync("bash", [join(root, "test", "interop", "build_peers.sh")], { stdio: ["ignore", 2, 2] }).status !== 0) fail("building the peers failed");
if (!existsSync(peer)) fail(`${peer} missing after build`);

const work = mkdtempSync(join(tmpdir(), "sr-dds-bench-"));
const dump = join(work, "dump");
if (spawnSync(process.execPath, [cli, "sim-dump", "--out", dump, "--frames", "90", "--noise", "realsense"], { stdio: "ignore" }).status !== 0) fail("sim-dump failed");
const spec = readFileSync(join(dump, "spec.txt"), "utf8").trim();
// Lossless capture (reliable keep-all inputs): "zero loss on reliable QoS" is measured. Over shared
// memory the inputs are keep-last (see the header) and the task a parameter.
const paramsFile = shm ? shmParams() : join(root, "launch", "params", "camera_graph_lossless.yaml");
const env = { CYCLONEDDS_URI: `file://${cycloneConfig}`, ROS_DOMAIN_ID: "0" };
/** Camera writers: keep-all, or keep-last 10 (the ROS 2 default) where shared memory needs it. */
const cameraHistory = shm ? "" : "--keep-all";
/** The latched spec from the camera peer (UDP), or none (shared memory: the params carry it). */
const specArgs = shm ? "" : `--spec "${spec}"`;
/** Starts RouDi for a namespace script over shared memory (one at a time on the host). */
const roudi = (part: string) => (shm ? roudiPrelude(join(root, "test", "interop", "roudi.toml"), join(work, `roudi_${part}.log`)) : "");

function shmParams(): string {
  const file = join(root, "launch", "params", "camera_graph_shm.yaml");
  const yaml = readFileSync(file, "utf8");
  if (!yaml.includes('reward_spec: ""')) fail(`${file}: expected reward_spec: "" to fill in`);
  const path = join(work, "camera_graph_shm.yaml");
  writeFileSync(path, yaml.replace('reward_spec: ""', `reward_spec: ${JSON.stringify(spec)}`));
  return path;
}
/**
 * The camera peers' Cyclone configuration. The sender picks the fragment size: with "large"
 * (the namespace config: 62000-byte fragments, one per 64 KB loopback datagram) a 640x480 RGB-D
 * + masks frame is ~35 datagrams; with "default" (Cyclone's 1344-byte fragments packed into
 * datagrams of at most 14720 bytes, as a camera driver run without a config sends) ~150
 * datagrams and ~1600 fragments, which the node's receive thread pays for. The node keeps the
 * namespace config either way.
 */
function cameraConfig(): string {
  if (cameraFragments === "large") return cycloneConfig;
  const xml = readFileSync(cycloneConfig, "utf8");
  const stripped = xml.replace(/<MaxMessageSize>[^<]*<\/MaxMessageSize>/, "").replace(/<FragmentSize>[^<]*<\/FragmentSize>/, "");
  if (stripped.length === xml.length || /MaxMessageSize>|FragmentSize>/.test(stripped)) fail(`${cycloneConfig}: expected one MaxMessageSize and one FragmentSize to leave out`);
  const path = join(work, "cyclone_camera_default_fragments.xml");
  writeFileSync(path, stripped);
  return path;
}
const cameraUri = `file://${cameraConfig()}`;

/** The last line starting with `tag ` as JSON. */
function tagged(stdout: string, tag: string): unknown {
  const line = stdout.split("\n").reverse().find((l) => l.startsWith(`${tag} `));
  if (!line) throw new Error(`no ${tag} line in:\n${stdout}`);
  return JSON.parse(line.slice(tag.length + 1));
}

interface Rtt { sent: number; received: number; lost: number; rtt_ms: { p50: number; p90: number; p99: number; max: number } }
interface CameraSummary {
  sent_frames: number;
  /** How long the peer waited for the node's subscriptions (start-up and warm-up); -1: never matched. */
  matched_wait_ms: number;
  received: Record<string, number>;
  reward_latency_ms: { p50: number; p90: number; p99: number; max: number };
  frames_without_reward: number;
}

async function echo(): Promise<{ c: Rtt; ts: Rtt }> {
  const source = `${peer} echo-source --width 640 --height 480 --rate 30 --seconds ${seconds} --wait-subscribers 10000`;
  const script = `
${roudi("echo")}
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

interface SinkSummary {
  raw: boolean;
  received: { rgb: number; depth: number; camera_info: number; instances: number };
  frames_timed: number;
  span_s: number;
  cpu_ms_per_frame: number | null;
  cpu_percent: number | null;
}

/** glibc kept from returning freed memory to the kernel (no fresh pages faulted in per sample). */
const WARM_MALLOC = "GLIBC_TUNABLES=glibc.malloc.mmap_threshold=33554432:glibc.malloc.trim_threshold=1073741824";

/**
 * The C floor: one camera peer streaming into three `cyclone_peer camera-sink`s at once, which take
 * the same four topics with the node's QoS (reliable, keep-all) and do nothing else: `typed`
 * deserialises every sample into the idlc types (what a C or C++ subscriber gets), `raw` takes them
 * serialised (dds_takecdr), and `raw_warm_malloc` does that with glibc told to keep freed memory
 * (Cyclone allocates each sample's buffer afresh; a ~1 MB buffer freed on its receive thread goes
 * back to the kernel and the next one faults its pages in again, which on this host costs more
 * than the copies). Their CPU per frame is what receiving the frames costs on this host, beside
 * which the node's is read.
 */
async function cSinks(runSeconds: number): Promise<Record<"typed" | "raw" | "raw_warm_malloc", SinkSummary>> {
  const depth = shm ? "--depth 10" : "";
  const script = `
${roudi("sinks")}
${peer} camera-sink ${depth} --seconds ${runSeconds + 120} > ${work}/sink.json & S=$!
${peer} camera-sink ${depth} --raw --seconds ${runSeconds + 120} > ${work}/sink_raw.json & R=$!
${WARM_MALLOC} ${peer} camera-sink ${depth} --raw --seconds ${runSeconds + 120} > ${work}/sink_warm.json & W=$!
sleep 1
CYCLONEDDS_URI=${cameraUri} ${peer} camera --dir ${dump} --rate 30 --seconds ${runSeconds} ${cameraHistory} --wait-subscribers 30000 > /dev/null
kill -TERM $S $R $W; wait $S $R $W
echo "@@SINK $(tail -n 1 ${work}/sink.json)"
echo "@@RAW $(tail -n 1 ${work}/sink_raw.json)"
echo "@@WARM $(tail -n 1 ${work}/sink_warm.json)"
`;
  const r = await runInNetns(script, (runSeconds + 180) * 1000, env);
  const sink = (tag: string) => tagged(r.stdout, tag) as SinkSummary;
  return { typed: sink("@@SINK"), raw: sink("@@RAW"), raw_warm_malloc: sink("@@WARM") };
}

/**
 * CPU seconds of a node process's threads by kind: the JS thread (its id is the process id), the
 * other threads Node names "node" (V8's compiler and GC helpers, libuv's pool), Cyclone's receive
 * threads (recv, recvUC, recvMC; over shared memory iceoryx's listener, sr-shm-recv) and its other threads (tev: heartbeats and acknowledgements; dq.*,
 * gc).
 */
interface ThreadCpu { js: number; v8Helpers: number; kernelsHelper: number; ddsReceive: number; ddsOther: number }
interface ProcSample { t: number; cpuS: number; rssMb: number; threads: ThreadCpu; udp?: UdpCounters }

const ticksOf = (stat: string) => {
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return Number(fields[11]) + Number(fields[12]);
};

function threadCpu(pid: number): ThreadCpu {
  const out: ThreadCpu = { js: 0, v8Helpers: 0, kernelsHelper: 0, ddsReceive: 0, ddsOther: 0 };
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    let stat: string;
    try {
      stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, "utf8");
    } catch {
      continue; // the thread ended meanwhile
    }
    const name = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
    const s = ticksOf(stat) / 100;
    if (Number(tid) === pid) out.js += s;
    // Over shared memory iceoryx's listener thread receives (raw_sertype.c names it).
    else if (name.startsWith("recv") || name === "sr-shm-recv") out.ddsReceive += s;
    else if (name === "node") out.v8Helpers += s;
    // The kernels addon's helper thread (native/src/kernels/helper_thread.cc names it).
    else if (name === "sr-kernels") out.kernelsHelper += s;
    else out.ddsOther += s;
  }
  return out;
}

function sampleProc(pid: number): ProcSample | undefined {
  try {
    const ticks = ticksOf(readFileSync(`/proc/${pid}/stat`, "utf8"));
    const rss = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return { t: Date.now() / 1000, cpuS: ticks / 100, rssMb: rss ? Number(rss[1]) / 1024 : NaN, threads: threadCpu(pid) };
  } catch {
    return undefined;
  }
}

/**
 * n cameras, one peer each, each into its own node process (one graph per namespace), as a
 * launch file would start them, or all into one process (`oneProcess`); samples every node
 * process. `n === 1` uses the root namespace.
 */
async function pipeline(n: number, runSeconds: number, sampleEveryS: number, oneProcess = false) {
  const namespaces = Array.from({ length: n }, (_, i) => (n === 1 ? "/" : `/cam${i}`));
  const launch = (nss: string, i: number) =>
    `node ${cli} launch ${paramsFile} --backend dds --namespaces ${nss} --duration 0 --json > ${work}/graph${i}.json 2> ${work}/graph${i}.err & G${i}=$!\necho "@@PID $G${i}"`;
  const processes = oneProcess ? [namespaces.join(",")] : namespaces;
  const graphs = processes.map((nss, i) => launch(nss, i));
  const peers = namespaces.map((ns, i) => {
    const prefix = ns === "/" ? "" : `--prefix ${ns}`;
    // Reliable and keep-all end to end (peer writers, node readers): slow moments delay, never drop.
    // The node subscribes once it has warmed up; on a loaded host that can take long, and a peer
    // that stopped waiting would send its first frames to no one.
    return `CYCLONEDDS_URI=${cameraUri} ${peer} camera --dir ${dump} --rate 30 --seconds ${runSeconds} ${cameraHistory} --wait-subscribers 180000 ${prefix} ${specArgs} --out ${work}/peer${i}.jsonl > ${work}/peer${i}.json & P${i}=$!`;
  });
  const script = `
${roudi(`pipeline${n}${oneProcess ? "_one_process" : ""}`)}
${graphs.join("\n")}
sleep 2
${peers.join("\n")}
${namespaces.map((_, i) => `wait $P${i}`).join("\n")}
${processes.map((_, i) => `kill -TERM $G${i}; wait $G${i}`).join("\n")}
${processes.map((_, i) => `echo "@@GRAPH${i} $(tail -n 1 ${work}/graph${i}.json)"`).join("\n")}
${namespaces.map((_, i) => `echo "@@PEER${i} $(tail -n 1 ${work}/peer${i}.json)"`).join("\n")}
`;
  const pids: number[] = [];
  const samples: ProcSample[] = [];
  const waits: WaitSample[] = [];
  let timer: ReturnType<typeof setInterval> | undefined;
  let waitTimer: ReturnType<typeof setInterval> | undefined;
  const r = await runInNetns(script, (runSeconds + 300) * 1000, env, (line) => {
    if (!line.startsWith("@@PID ")) return;
    pids.push(Number(line.slice(6)));
    if (timer) return;
    timer = setInterval(() => {
      // One sample summed over the node processes (CPU seconds and resident memory).
      const each = pids.map(sampleProc).filter((x): x is ProcSample => x !== undefined);
      if (each.length === pids.length) {
        const threads: ThreadCpu = { js: 0, v8Helpers: 0, kernelsHelper: 0, ddsReceive: 0, ddsOther: 0 };
        for (const x of each) for (const k of Object.keys(threads) as (keyof ThreadCpu)[]) threads[k] += x.threads[k];
        samples.push({ t: Date.now() / 1000, cpuS: each.reduce((a, x) => a + x.cpuS, 0), rssMb: each.reduce((a, x) => a + x.rssMb, 0), threads, udp: udpCountersOf(pids[0]) });
      }
    }, sampleEveryS * 1000);
    // Run-queue waits every 100 ms: finer than CPU, to tell which frames a wait delayed.
    const acc = new WaitAccumulator();
    waitTimer = setInterval(() => {
      const w = acc.sample(pids, () => Date.now() / 1000);
      if (w) waits.push(w);
    }, 100);
  });
  clearInterval(timer);
  clearInterval(waitTimer);
  const logs = namespaces.map((_, i) => peerLog(join(work, `peer${i}.jsonl`)));
  const steady = logs.map((l) => steadyState(l, 2));
  const graph = processes.map((_, i) => tagged(r.stdout, `@@GRAPH${i}`) as GraphSummary);
  const perCamera = namespaces.map((_, i) => tagged(r.stdout, `@@PEER${i}`) as CameraSummary);
  // CPU while streaming: from half a second after the first frame to the last one (the node
  // warms up and idles before the peers start, and idles again after).
  const firstSent = Math.min(...logs.map((l) => l.sent[0]?.stamp_ns ?? Infinity)) / 1e9;
  const lastSent = Math.max(...logs.map((l) => l.sent[l.sent.length - 1]?.stamp_ns ?? -Infinity)) / 1e9;
  const window = samples.filter((x) => x.t >= firstSent + 0.5 && x.t <= lastSent);
  const first = window[0];
  const last = window[window.length - 1];
  const seconds = first && last ? last.t - first.t : NaN;
  const cpuS = first && last ? last.cpuS - first.cpuS : NaN;
  const cpuPercent = seconds > 0 ? (100 * cpuS) / seconds : NaN;
  // Frames sent in the window, over every camera.
  const framesInWindow = logs.reduce((a, l) => a + l.sent.filter((x) => x.stamp_ns / 1e9 >= first?.t && x.stamp_ns / 1e9 <= last?.t).length, 0);
  // Perception's share: its JS-thread CPU per frame over the whole run (the counter is cumulative).
  const perceptionMs = graph.reduce((a, g) => a + Object.values(g.counters).reduce((b, c) => b + (c.perception["cpu_ms.perception"] ?? 0), 0), 0);
  const framesOut = graph.reduce((a, g) => a + Object.values(g.counters).reduce((b, c) => b + (c.perception.frames_out ?? 0), 0), 0);
  const cpuMsPerFrame = (1000 * cpuS) / framesInWindow;
  const perceptionMsPerFrame = perceptionMs / framesOut;
  const threadMs = (k: keyof ThreadCpu) => (first && last ? round((1000 * (last.threads[k] - first.threads[k])) / framesInWindow) : NaN);
  // The last part of the run apart (from 10 s after the first frame): V8 keeps optimising the
  // per-frame code for tens of seconds at 30 Hz, which the whole-run figure includes.
  const late = window.filter((x) => x.t >= firstSent + 10);
  const lateFrames = late.length >= 2 ? logs.reduce((a, l) => a + l.sent.filter((x) => x.stamp_ns / 1e9 >= late[0].t && x.stamp_ns / 1e9 <= late[late.length - 1].t).length, 0) : 0;
  const lateMs = (k: keyof ThreadCpu) => round((1000 * (late[late.length - 1].threads[k] - late[0].threads[k])) / lateFrames);
  const lateCpu = lateFrames > 0 && late[late.length - 1].t - late[0].t >= 5 ? {
    window_s: round(late[late.length - 1].t - late[0].t, 1),
    per_camera_cpu_percent: round((100 * (late[late.length - 1].cpuS - late[0].cpuS)) / (late[late.length - 1].t - late[0].t) / n, 1),
    cpu_ms_per_frame: round((1000 * (late[late.length - 1].cpuS - late[0].cpuS)) / lateFrames),
    threads_ms_per_frame: {
      js: lateMs("js"), v8_compiler_gc_and_libuv_helpers: lateMs("v8Helpers"), kernels_helper: lateMs("kernelsHelper"), dds_receive: lateMs("ddsReceive"), dds_other: lateMs("ddsOther"),
    },
  } : null;
  const all = logs.flatMap((l) => l.latencies);
  // The slowest frame, and how long the node's JS thread(s) waited for a CPU while it was in flight.
  let worst: { latency_ms: number; sent_s: number } | undefined;
  for (const l of logs) l.latencies.forEach((x, k) => {
    if (!Number.isNaN(x) && (!worst || x > worst.latency_ms)) worst = { latency_ms: x, sent_s: l.sent[k].stamp_ns / 1e9 };
  });
  const warm = logs.flatMap((l) => l.latencies.filter((_, k) => l.sent[k].stamp_ns - l.sent[0].stamp_ns >= 2e9));
  return {
    namespaces, processes: processes.length, perCamera, steady, graph, samples, cpuPercent, cpuPercentPerCamera: cpuPercent / n,
    cpu: {
      window_s: round(seconds, 1),
      node_cpu_percent: round(cpuPercent, 1),
      per_camera_cpu_percent: round(cpuPercent / n, 1),
      cpu_ms_per_frame: round(cpuMsPerFrame),
      perception_ms_per_frame: round(perceptionMsPerFrame),
      outside_perception_ms_per_frame: round(cpuMsPerFrame - perceptionMsPerFrame),
      // The same window's CPU by thread (ms per frame): what outside perception is made of.
      threads_ms_per_frame: {
        js: threadMs("js"),
        js_outside_perception: round(threadMs("js") - perceptionMsPerFrame),
        v8_compiler_gc_and_libuv_helpers: threadMs("v8Helpers"),
        kernels_helper: threadMs("kernelsHelper"),
        dds_receive: threadMs("ddsReceive"),
        dds_other: threadMs("ddsOther"),
      },
      // The same from 10 s after the first frame to the end (null for runs shorter than 15 s).
      after_10s: lateCpu,
    },
    // UDP datagrams in the window, and those the kernel dropped for a full socket receive buffer
    // (udp_counters.ts): a run whose receive CPU jumps with drops here was retransmitting.
    udp: first?.udp && last?.udp ? {
      in_datagrams: last.udp.inDatagrams - first.udp.inDatagrams,
      receive_buffer_drops: last.udp.rcvbufErrors - first.udp.rcvbufErrors,
      in_errors: last.udp.inErrors - first.udp.inErrors,
    } : null,
    latency_ms: { whole_run: summary(all), steady: summary(warm) },
    // Run-queue delay of the node processes (ms per s of wall time) from the first frame to the last:
    // what the host's other work took from the node, apart from what the node's own code costs.
    runqueue_wait: {
      ...waitSummary(waits, firstSent, lastSent + 1),
      worst_frame: worst && {
        latency_ms: round(worst.latency_ms),
        js_thread_wait_ms: jsWaitDuring(waits, worst.sent_s, worst.sent_s + worst.latency_ms / 1000),
      },
    },
    frames: { sent: logs.reduce((a, l) => a + l.sent.length, 0), without_reward: logs.reduce((a, l) => a + l.latencies.filter((x) => Number.isNaN(x)).length, 0) },
  };
}

interface GraphSummary {
  rewards: number;
  counters: Record<string, { perception: Record<string, number> } & Record<string, unknown>>;
}

function pct(sorted: number[], q: number): number {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((q / 100) * sorted.length) - 1))] : NaN;
}

interface PeerLine { topic: string; stamp_ns: number; recv_ns?: number; index?: number }

/** A peer's log: the frames it sent and each one's reward latency in ms (NaN: no reward). */
function peerLog(path: string): { sent: PeerLine[]; recv: Map<number, number>; latencies: number[] } {
  const lines = readFileSync(path, "utf8").split("\n").filter((l) => l.trim()).map((l) => JSON.parse(l) as PeerLine);
  const recv = new Map(lines.filter((l) => l.topic === "reward").map((l) => [l.stamp_ns, l.recv_ns ?? NaN]));
  const sent = lines.filter((l) => l.topic === "sent");
  return { sent, recv, latencies: sent.map((l) => (recv.has(l.stamp_ns) ? (recv.get(l.stamp_ns)! - l.stamp_ns) / 1e6 : NaN)) };
}

/** Percentiles of the latencies that exist (NaN ones are frames without reward, counted apart). */
function summary(latencies: number[]) {
  const lat = latencies.filter((x) => !Number.isNaN(x)).sort((a, b) => a - b);
  return { p50: round(pct(lat, 50)), p90: round(pct(lat, 90)), p99: round(pct(lat, 99)), max: round(pct(lat, 100)), n: lat.length };
}

/**
 * From a peer's log: which frame indices never got a reward, and the latency once the node is
 * warm (frames sent after the first `warmupS` seconds), so start-up and steady state are told apart.
 */
function steadyState(log: ReturnType<typeof peerLog>, warmupS: number) {
  const { sent, recv } = log;
  const t0 = sent.length ? sent[0].stamp_ns : 0;
  const warm = sent.filter((l) => l.stamp_ns - t0 >= warmupS * 1e9);
  const lat = warm.filter((l) => recv.has(l.stamp_ns)).map((l) => (recv.get(l.stamp_ns)! - l.stamp_ns) / 1e6).sort((a, b) => a - b);
  return {
    // The first 50 only: a stalled run would list thousands.
    missing: sent.filter((l) => !recv.has(l.stamp_ns)).length,
    missing_indices: sent.filter((l) => !recv.has(l.stamp_ns)).slice(0, 50).map((l) => l.index ?? -1),
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
const loadavg = () => readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).map(Number);
const loadBefore = loadavg();
const sinks = await cSinks(seconds);
const one = await pipeline(1, seconds, 1);
const many = layout === "process" ? undefined : await pipeline(cameras, Math.min(seconds, 30), 1);
const shared = layout === "processes" ? undefined : await pipeline(cameras, Math.min(seconds, 30), 1, true);
const loadAfter = loadavg();
const nCameras = (m: Awaited<ReturnType<typeof pipeline>>) => ({
  cameras,
  processes: m.processes,
  per_camera: m.perCamera.map((c, i) => ({
    namespace: m.namespaces[i], sent: c.sent_frames, rewards: c.received.reward, without_reward: c.frames_without_reward, matched_wait_ms: c.matched_wait_ms,
    latency_ms: c.reward_latency_ms, after_warmup: m.steady[i],
  })),
  latency_ms: m.latency_ms,
  runqueue_wait_ms_per_s: m.runqueue_wait,
  frames: m.frames,
  cpu: m.cpu,
  udp: m.udp,
  node_cpu_percent: round(m.cpuPercent, 1),
  node_cpu_percent_per_camera: round(m.cpuPercentPerCamera, 1),
});
const goalsOf = (m: Awaited<ReturnType<typeof pipeline>> | undefined) => m && {
  per_camera_cpu_percent_max: 5,
  per_camera_cpu_met: m.cpu.per_camera_cpu_percent <= 5,
  zero_loss: m.frames.without_reward === 0,
  whole_run_p99_ms_max: 30,
  whole_run_p99_met: m.latency_ms.whole_run.p99 <= 30,
};
const soak = soakMinutes > 0 ? await pipeline(1, soakMinutes * 60, 5) : undefined;
const out = {
  setup: {
    image: "640x480 rgb8 + 16UC1 depth + 16UC1 masks", rate_hz: 30, seconds, cameras, layout, dds: "Cyclone DDS 0.10.2, private netns, loopback multicast",
    camera_fragments: cameraFragments,
    transport: shm ? "Cyclone shared memory (iceoryx 2.0, RouDi), keep-last 10 camera writers and inputs" : "loopback UDP, keep-all camera writers and inputs",
    cores: availableParallelism(), load_average_before: loadBefore, load_average_after: loadAfter,
  },
  echo_c_to_c: e.c,
  echo_through_ts_node: e.ts,
  echo_ratio_p50: round(e.ts.rtt_ms.p50 / e.c.rtt_ms.p50),
  c_camera_sink: sinks,
  // The node's CPU per frame (one camera) over each C sink's: how far from merely receiving.
  node_vs_c_sink_cpu_per_frame: Object.fromEntries(
    Object.entries(sinks).map(([k, v]) => [k, v.cpu_ms_per_frame ? round(one.cpu.cpu_ms_per_frame / v.cpu_ms_per_frame) : null]),
  ),
  pipeline_1_camera: {
    sent_frames: one.perCamera[0].sent_frames,
    matched_wait_ms: one.perCamera[0].matched_wait_ms,
    rewards_received: one.perCamera[0].received.reward,
    frames_without_reward: one.perCamera[0].frames_without_reward,
    reward_latency_ms: one.perCamera[0].reward_latency_ms,
    after_warmup: one.steady[0],
    latency_ms: one.latency_ms,
    runqueue_wait_ms_per_s: one.runqueue_wait,
    cpu: one.cpu,
    udp: one.udp,
    node_cpu_percent: round(one.cpuPercent, 1),
    node_counters: one.graph[0].counters,
  },
  pipeline_n_cameras: many && nCameras(many),
  pipeline_n_cameras_one_process: shared && nCameras(shared),
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
    one_camera: goalsOf(one),
    n_cameras: goalsOf(many),
    n_cameras_one_process: goalsOf(shared),
  },
};
console.log(values.json ? JSON.stringify(out) : JSON.stringify(out, null, 2));
console.error(`bench:dds: work files in ${resolve(work)}`);
